// What the agent reports about its guest: health (from /proc) and the SSH
// host keys (from /etc/ssh). `root` prefixes every path so tests can point
// it at a directory laid out like a guest.
#pragma once

#include <string>
#include <vector>

#include "guest/agent/protocol/messages.h"
#include "reconciler/base/error.h"

namespace banger::agent {

// boot_id, uptime and load averages; fails when /proc cannot be read.
Result<HealthReply> ReadHealth(const std::string& root = "");

// "type base64" for each <root>/etc/ssh/ssh_host_*_key.pub, sorted by file
// name; none yet (sshd's keys are made at boot) is an empty list.
Result<std::vector<std::string>> ReadHostKeys(const std::string& root = "");

}  // namespace banger::agent

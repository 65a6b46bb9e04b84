// Runs one guest tool to completion (ip, ssh-keygen) for requests the agent
// carries out itself, as opposed to the host's exec channels.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "reconciler/base/error.h"

namespace banger::agent {

// Runs argv (argv[0] looked up on the agent's PATH, then banger's own
// /usr/lib/banger/bin applets) with stdin from /dev/null and default signal
// handling; kills it after `timeout`. Fails naming the command with its
// exit status and the tail of its stderr. Blocks the caller.
Status RunGuestCommand(const std::vector<std::string>& argv, std::chrono::seconds timeout);

}  // namespace banger::agent

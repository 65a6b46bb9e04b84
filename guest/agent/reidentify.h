// Re-identifying a guest that was just restored from a snapshot: its memory
// and disks are its source VM's, so its hostname, NIC address, MAC, SSH
// host keys, machine id and RNG state are too until this runs.
#pragma once

#include <string>
#include <vector>

#include "guest/agent/protocol/messages.h"
#include "reconciler/base/error.h"

namespace banger::agent {

// In this order: mixes the host's seed into the kernel RNG, credited, and
// has the kernel reseed its generator from it at once (RNDADDENTROPY,
// RNDRESEEDCRNG), gives /etc/machine-id and systemd's random seed file new
// random contents where the image has them, sets the hostname
// (sethostname, /etc/hostname, the 127.0.1.1 line of /etc/hosts), gives
// the NIC the new MAC and address (ip link/addr/route) and writes
// /etc/resolv.conf, removes the SSH host keys, writes the pairs the host
// made (or makes new ones with ssh-keygen -A when none are given) and sends
// SIGHUP to the running sshd so it serves them. Returns the new host keys
// as ReadHostKeys does. `root` prefixes the files it reads and writes
// (tests); devices, the network and sethostname are the real ones. Stops at
// the first failure, naming the part that failed.
Result<std::vector<std::string>> ReidentifyGuest(const Reidentify& request,
                                                 const std::string& root = "");

}  // namespace banger::agent

// Observed state: the store's durable records plus what the OS says now.
//
// Produced by reconciler/observe (which does the I/O) and consumed by the
// pure planner. Anything that could not be read is recorded as such, so the
// planner can refuse to plan deletions from a partial picture.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "reconciler/model/handles.h"
#include "reconciler/model/records.h"

namespace banger::plan {

// A host socket bound on a port some declared VM publishes: a TCP listener
// or a UDP socket. banger's own published ports bind nothing (they are DNAT
// rules), so every such socket belongs to another process.
struct BoundSocket {
  std::string proto;    // "tcp" or "udp"
  std::string address;  // IPv4; "0.0.0.0" for a wildcard (also IPv6 "::")
  uint32_t port = 0;
  int pid = 0;          // 0: not found (another user's process)
  std::string command;  // the process's comm, when pid is known
};

// A snapshot in the snapshot store, as the planner needs to see it.
struct ObservedSnapshot {
  std::string source_vm;
  bool declared = false;  // taken by apply for a [[snapshot]] (else by `vm snapshot`)
  bool present = true;    // its files are whole
  // What the source VM ran when the snapshot was taken.
  std::string image, kernel;
  std::string image_digest, kernel_digest;
  uint64_t memory = 0;
  int vcpus = 0;
};

struct Observed {
  model::StoreSnapshot store;
  bool store_ok = true;
  std::string store_error;

  // Per VM record: handles and their liveness.
  std::map<std::string, model::VmLiveness> vms;
  // Handles files that exist but could not be read ("vm 'web': ...").
  std::vector<std::string> handle_errors;

  // Per kernel/image record: are its files where the record says?
  std::map<std::string, bool> kernel_present;
  std::map<std::string, bool> image_present;
  // Every snapshot in the snapshot store, by name, and which VMs run on
  // disks restored from one (VM -> snapshot).
  std::map<std::string, ObservedSnapshot> snapshots;
  std::map<std::string, std::string> restored_from;

  // Per declared file_sync entry: digest of the host content now; "" when
  // the host path does not exist.
  std::map<std::string, std::string> file_sync_digests;

  // Per built OCI image declared by tag: the digest the registry reports
  // for the tag now, or why it could not be asked.
  std::map<std::string, std::string> image_remote_digests;
  std::map<std::string, std::string> image_remote_errors;

  // Sockets bound on host ports the declared VMs publish.
  std::vector<BoundSocket> bound_sockets;

  // The host's physical memory in bytes; 0 when unknown.
  uint64_t host_memory_bytes = 0;

  bool complete() const { return store_ok && handle_errors.empty(); }
};

struct PlanOptions {
  // Rebuild OCI images whose tag now points at another digest.
  bool refresh_images = false;
};

}  // namespace banger::plan

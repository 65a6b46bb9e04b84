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

  // Per declared file_sync entry: digest of the host content now; "" when
  // the host path does not exist.
  std::map<std::string, std::string> file_sync_digests;

  // Per built OCI image declared by tag: the digest the registry reports
  // for the tag now, or why it could not be asked.
  std::map<std::string, std::string> image_remote_digests;
  std::map<std::string, std::string> image_remote_errors;

  // The host's physical memory in bytes; 0 when unknown.
  uint64_t host_memory_bytes = 0;

  bool complete() const { return store_ok && handle_errors.empty(); }
};

struct PlanOptions {
  // Rebuild OCI images whose tag now points at another digest.
  bool refresh_images = false;
};

}  // namespace banger::plan

// The key lists of every table of the format. Decoders reject anything else,
// and a unit test holds schemas/banger.schema.json to the same lists.
#include "specs/loader.h"

namespace banger::specs {

const std::map<std::string, std::vector<std::string>>& KnownKeys() {
  static const auto* keys = new std::map<std::string, std::vector<std::string>>{
      {"", {"settings", "kernel", "image", "file_sync", "vm"}},
      {"settings", {"bridge", "subnet", "vmm", "state_dir", "kernel_catalog"}},
      {"kernel", {"name", "deb", "path", "url", "sha256", "catalog"}},
      {"kernel.path", {"kernel", "initrd", "modules"}},
      {"image", {"name", "oci", "platform", "insecure", "dir", "tar", "debootstrap", "size"}},
      {"image.debootstrap", {"suite", "mirror", "include"}},
      {"file_sync", {"name", "host", "guest", "mode"}},
      {"vm",
       {"name", "image", "kernel", "vcpus", "memory", "disk", "nat", "keep_work_disk",
        "file_sync", "labels"}},
  };
  return *keys;
}

}  // namespace banger::specs

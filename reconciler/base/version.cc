#include "reconciler/base/version.h"

#include "build_info.inc"

namespace banger {

const BuildInfo& ThisBuild() {
  static const BuildInfo info{BANGER_VERSION, BANGER_COMMIT, BANGER_BUILD_DATE};
  return info;
}

std::string BuildString() {
  const BuildInfo& b = ThisBuild();
  return b.version + " (commit " + b.commit + ", built " + b.date + ")";
}

}  // namespace banger

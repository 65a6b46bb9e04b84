#include "reconciler/model/records.h"

namespace banger::model {

std::string_view OriginName(Origin o) {
  return o == Origin::kSpec ? "spec" : "cli";
}

std::string_view PowerIntentName(PowerIntent p) {
  return p == PowerIntent::kRunning ? "running" : "stopped";
}

}  // namespace banger::model

// Random requests for the hostile-peer test: well-formed requests of every
// operation with fields drawn from pools of valid, foreign and malformed
// values, the same with fields dropped, added or retyped, byte-level
// mutations and truncations of them, and arbitrary JSON and bytes. All of
// it from one seeded generator, so a failing run can be replayed.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace banger::testing {

// The bridges the test creates before the run, and their subnets; most
// well-formed requests name them.
const std::vector<std::string>& HostileOwnBridges();
const std::vector<std::string>& HostileBridgeAddresses();
// A bridge with banger's prefix that the helper did not create (the test
// makes it before the run): the helper must refuse to touch it.
inline constexpr const char* kForeignBridge = "bg-foreign";
inline constexpr const char* kForeignTap = "ftap0";

class HostileRequests {
 public:
  explicit HostileRequests(uint64_t seed) : rng_(seed) {}

  // One request frame; may be empty, not JSON, or up to kMaxFrameSize bytes.
  std::string Next();

  // Uniform in [0, n).
  size_t Below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }

 private:
  std::string WellFormed();   // a request of a random operation
  std::string Malformed();    // WellFormed() with a field dropped, added or retyped
  std::string Mutated();      // bytes flipped, inserted, deleted or cut off
  std::string RandomJson(int depth);
  std::string RandomBytes(size_t max);
  const std::string& Pick(const std::vector<std::string>& pool) { return pool[Below(pool.size())]; }

  std::mt19937_64 rng_;
};

}  // namespace banger::testing

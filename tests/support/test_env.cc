#include "tests/support/test_env.h"

#include <cstdlib>
#include <stdexcept>

namespace banger::testing {

std::string SourceDir() { return BANGER_SOURCE_DIR; }
std::string BinaryDir() { return BANGER_BINARY_DIR; }

std::string BangerBin() {
  if (const char* b = getenv("BANGER_BIN"); b && *b) return b;
  return JoinPath(BinaryDir(), "reconciler/banger");
}

TempDir ScratchDir(const std::string& prefix) {
  const char* tmp = getenv("TMPDIR");
  auto dir = TempDir::Create(tmp && *tmp ? tmp : "/tmp", prefix);
  if (!dir.ok()) throw std::runtime_error(dir.error().message());
  return std::move(dir).value();
}

std::string WriteFile(const std::string& dir, const std::string& name,
                      const std::string& content) {
  std::string path = JoinPath(dir, name);
  auto st = MakeDirs(Dirname(path));
  if (!st.ok()) throw std::runtime_error(st.error().message());
  st = AtomicWriteFile(path, content, 0644);
  if (!st.ok()) throw std::runtime_error(st.error().message());
  return path;
}

}  // namespace banger::testing

#include "tests/fuzz/fuzz_support.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "reconciler/os/fs.h"
#include "reconciler/os/unique_fd.h"

namespace banger::fuzz {

namespace {

const char* TempParent() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp && *tmp ? tmp : "/tmp";
}

}  // namespace

const std::string& Scratch() {
  // Static: one directory serves every input of the run and is removed by
  // TempDir's destructor when the process exits normally.
  static TempDir dir = [] {
    Result<TempDir> made = TempDir::Create(TempParent(), "banger-fuzz-");
    if (!made.ok()) Fail("create scratch dir: " + made.error().message());
    return std::move(made).value();
  }();
  return dir.path();
}

std::string WriteInput(const std::string& name, std::string_view data) {
  // A plain write, not AtomicWriteFile: an fsync per input would make the
  // disk, not the parser, the bottleneck of the run.
  std::string path = JoinPath(Scratch(), name);
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) Fail("open " + path + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) Fail("write " + path + ": " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return path;
}

void Fail(std::string_view what) {
  std::fprintf(stderr, "fuzz property broken: %.*s\n", static_cast<int>(what.size()),
               what.data());
  std::abort();
}

void ExpectCorruptionNaming(const Error& error, const std::string& path) {
  if (error.code() != Code::kCorruption)
    Fail("refused with a code other than corruption: " + error.message());
  if (error.message().find(path) == std::string::npos)
    Fail("refusal does not name the file: " + error.message());
}

std::vector<std::string> Children(const std::string& dir) {
  Result<std::vector<std::string>> names = ListDir(dir);
  if (!names.ok()) Fail("list " + dir + ": " + names.error().message());
  return std::move(names).value();
}

std::vector<std::string_view> SplitOn(std::string_view data, std::string_view separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t at = data.find(separator, start);
    if (at == std::string_view::npos) break;
    parts.push_back(data.substr(start, at - start));
    start = at + separator.size();
  }
  parts.push_back(data.substr(start));
  return parts;
}

}  // namespace banger::fuzz

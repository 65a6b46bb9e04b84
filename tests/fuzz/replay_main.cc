// Replays seed corpora through a fuzz target without libFuzzer: every
// regular file named on the command line, or found directly inside a named
// directory, is fed once to LLVMFuzzerTestOneInput. A finding aborts (as
// under libFuzzer); otherwise the exit status is 0 and the count of inputs
// is printed, so an empty corpus is noticed.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

// Directory entries in name order, so a run is reproducible.
bool ListFiles(const std::string& dir, std::vector<std::string>* out) {
  DIR* d = opendir(dir.c_str());
  if (!d) return false;
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(dir + "/" + n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  for (auto& n : names) {
    struct stat st;
    if (stat(n.c_str(), &st) == 0 && S_ISREG(st.st_mode)) out->push_back(std::move(n));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      std::fprintf(stderr, "replay: cannot stat %s\n", argv[i]);
      return 2;
    }
    if (S_ISDIR(st.st_mode)) {
      if (!ListFiles(argv[i], &files)) {
        std::fprintf(stderr, "replay: cannot list %s\n", argv[i]);
        return 2;
      }
    } else {
      files.push_back(argv[i]);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "replay: no inputs (usage: %s CORPUS_DIR_OR_FILE...)\n", argv[0]);
    return 2;
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "replay: cannot read %s\n", f.c_str());
      return 2;
    }
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", f.c_str(), data.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  }
  std::printf("replayed %zu inputs\n", files.size());
  return 0;
}

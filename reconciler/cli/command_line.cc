#include "reconciler/cli/command_line.h"

#include <cstring>

namespace banger::cli {

SplitCommandLine SplitAtDoubleDash(int argc, const char* const* argv) {
  SplitCommandLine line;
  int i = 0;
  for (; i < argc; ++i) {
    if (i > 0 && std::strcmp(argv[i], "--") == 0) break;
    line.head.emplace_back(argv[i]);
  }
  if (i < argc) line.trailing.emplace(argv + i + 1, argv + argc);
  return line;
}

Status ParseCommandLine(CLI::App& app, Command& command, const SplitCommandLine& line) {
  std::vector<const char*> head;
  for (const std::string& word : line.head) head.push_back(word.c_str());
  app.parse(static_cast<int>(head.size()), head.data());
  if (!line.trailing) return OkStatus();
  if (!command.take_trailing)
    return InvalidArgument("`--` starts a command, and this verb runs none (words after it: " +
                           std::to_string(line.trailing->size()) + ")");
  command.take_trailing(*line.trailing);
  return OkStatus();
}

}  // namespace banger::cli

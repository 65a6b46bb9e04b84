// The terminal progress block: what each line says for known and unknown
// sizes, the rate and the ETA; and that without a terminal only notes
// are printed.
#include <sstream>

#include <catch2/catch.hpp>

#include "reconciler/cli/transfer_view.h"

using namespace banger::cli;
using std::chrono::milliseconds;

TEST_CASE("HumanBytes picks a binary unit") {
  CHECK(HumanBytes(0) == "0 B");
  CHECK(HumanBytes(1023) == "1023 B");
  CHECK(HumanBytes(1536) == "1.5 KiB");
  CHECK(HumanBytes(10ull << 20) == "10.0 MiB");
  CHECK(HumanBytes(3ull << 30) == "3.0 GiB");
}

TEST_CASE("RenderTransfers: per-item lines and a total with rate and ETA") {
  std::vector<TransferState> items = {{"layer sha256:aaaa", 1 << 20, 4 << 20},
                                      {"layer sha256:bbbb", 2 << 20, 2 << 20}};
  auto lines = RenderTransfers(items, milliseconds(1000));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "  layer sha256:aaaa  1.0 MiB / 4.0 MiB   25%");
  CHECK(lines[1] == "  layer sha256:bbbb  2.0 MiB / 2.0 MiB  100%  done");
  // 3 MiB in 1 s; 3 MiB left at 3 MiB/s.
  CHECK(lines[2] == "  total 3.0 MiB / 6.0 MiB  3.0 MiB/s  ETA 1s");
}

TEST_CASE("RenderTransfers: an unknown size has no percent and no ETA") {
  std::vector<TransferState> items = {{"kernel.deb", 90 << 20, 0}};
  auto lines = RenderTransfers(items, milliseconds(30000));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "  kernel.deb  90.0 MiB");
  CHECK(lines[1] == "  total 90.0 MiB  3.0 MiB/s");
}

TEST_CASE("RenderTransfers: long ETAs read as minutes") {
  std::vector<TransferState> items = {{"big", 1 << 20, 200ull << 20}};
  auto lines = RenderTransfers(items, milliseconds(1000));
  CHECK(lines.back() == "  total 1.0 MiB / 200.0 MiB  1.0 MiB/s  ETA 3m19s");
}

TEST_CASE("TransferView without a terminal prints notes only") {
  std::ostringstream out, err;
  Console console{out, err};
  {
    TransferView view(console, "image.x: ");
    view.Note("pulling r");
    view.Bytes("layer a", 10, 100);
    view.Bytes("layer a", 100, 100);
    view.Note("layer a done");
  }
  CHECK(out.str() == "image.x: pulling r\nimage.x: layer a done\n");
}

TEST_CASE("TransferView on a terminal redraws its block in place") {
  std::ostringstream out, err;
  Console console{out, err};
  console.out_tty = true;
  TransferView view(console, "p: ");
  view.Bytes("layer a", 100, 100);  // complete: drawn at once
  std::string drawn = out.str();
  CHECK(drawn.find("  layer a  100 B / 100 B  100%  done\n") != std::string::npos);
  view.Note("note");
  // The two block lines are erased before the note, then redrawn.
  std::string after = out.str().substr(drawn.size());
  CHECK(after.rfind("\x1b[1A\x1b[2K\x1b[1A\x1b[2Kp: note\n", 0) == 0);
  view.Finish();
  CHECK(out.str().size() > after.size());
}

#include <catch2/catch.hpp>

#include "specs/loader.h"

using namespace banger;
using namespace banger::specs;

TEST_CASE("ParseSize accepts whole numbers with binary units") {
  struct Case {
    const char* text;
    uint64_t bytes;
  };
  const Case cases[] = {
      {"0", 0},
      {"4096", 4096},
      {"10k", 10 * kKiB},
      {"10K", 10 * kKiB},
      {"512MiB", 512 * kMiB},
      {"512mib", 512 * kMiB},
      {"1024M", 1024 * kMiB},
      {"2G", 2 * kGiB},
      {"2GiB", 2 * kGiB},
      {"1T", 1024 * kGiB},
      {"1TiB", 1024 * kGiB},
      {"007M", 7 * kMiB},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    Result<uint64_t> r = ParseSize(c.text);
    REQUIRE(r.ok());
    CHECK(*r == c.bytes);
  }
}

TEST_CASE("ParseSize rejects what it cannot size exactly, saying why") {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"", "invalid size '': empty; use a whole number of bytes with an optional unit K, "
           "M, G, T (or KiB, MiB, GiB, TiB), e.g. '512M' or '2G'"},
      {"-1", "invalid size '-1': sizes cannot be negative"},
      {"1.5G", "invalid size '1.5G': fractions are not allowed; use a smaller unit, e.g. "
               "'1536M' for 1.5G"},
      {"2 gigs", "invalid size '2 gigs': unknown unit 'gigs'; use a whole number of bytes "
                 "with an optional unit K, M, G, T (or KiB, MiB, GiB, TiB), e.g. '512M' or "
                 "'2G'"},
      {"2 G", "invalid size '2 G': no space is allowed before the unit; write '2G'"},
      {"2GB", "invalid size '2GB': unknown unit 'GB'; use a whole number of bytes with an "
              "optional unit K, M, G, T (or KiB, MiB, GiB, TiB), e.g. '512M' or '2G'"},
      {"G", "invalid size 'G': expected a number; use a whole number of bytes with an "
            "optional unit K, M, G, T (or KiB, MiB, GiB, TiB), e.g. '512M' or '2G'"},
      {"99999999999999999999", "invalid size '99999999999999999999': too large"},
      {"20000000T", "invalid size '20000000T': too large"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    Result<uint64_t> r = ParseSize(c.text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code() == Code::kInvalidArgument);
    CHECK(r.error().message() == c.message);
  }
}

TEST_CASE("FormatSize uses the largest exact unit") {
  CHECK(FormatSize(0) == "0");
  CHECK(FormatSize(1000) == "1000");
  CHECK(FormatSize(1024) == "1K");
  CHECK(FormatSize(1536) == "1536");
  CHECK(FormatSize(512 * kMiB) == "512M");
  CHECK(FormatSize(1536 * kMiB) == "1536M");
  CHECK(FormatSize(2 * kGiB) == "2G");
  CHECK(FormatSize(3 * 1024 * kGiB) == "3T");
}

TEST_CASE("FormatSize output parses back to the same size") {
  for (uint64_t bytes : {uint64_t{0}, uint64_t{1}, uint64_t{1023}, kKiB, 3 * kMiB + kKiB,
                         kGiB, 5 * 1024 * kGiB, uint64_t{123456789}}) {
    Result<uint64_t> back = ParseSize(FormatSize(bytes));
    REQUIRE(back.ok());
    CHECK(*back == bytes);
  }
}

#include <catch2/catch.hpp>

#include "reconciler/base/error.h"

using namespace banger;

namespace {
Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd number " + std::to_string(x));
  return x / 2;
}
Result<int> Quarter(int x) {
  BANGER_ASSIGN_OR_RETURN(int h, Half(x));
  BANGER_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}
Status Check(int x) {
  BANGER_RETURN_IF_ERROR(Half(x));
  return OkStatus();
}
}  // namespace

TEST_CASE("Result carries a value or an error") {
  REQUIRE(Quarter(8).ok());
  CHECK(*Quarter(8) == 2);
  auto r = Quarter(6);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code() == Code::kInvalidArgument);
  CHECK(r.error().message() == "odd number 3");
  CHECK(Check(4).ok());
  CHECK_FALSE(Check(5).ok());
}

TEST_CASE("context is prepended and errno mapped") {
  Error e = Error::FromErrno("open " + Quote("/x"), ENOENT);
  CHECK(e.code() == Code::kNotFound);
  CHECK(e.sys_errno() == ENOENT);
  CHECK(e.message() == "open '/x': No such file or directory");
  CHECK(e.WithContext("load spec").message() ==
        "load spec: open '/x': No such file or directory");
}

#include "core/clock.h"

#include <doctest/doctest.h>

#include <cstdlib>

using namespace relais::core;

TEST_CASE("times format as ISO 8601 UTC and HTTP dates") {
  CHECK(FormatTime(0) == "1970-01-01T00:00:00Z");
  CHECK(FormatTime(1795000000) == "2026-11-18T11:06:40Z");
  CHECK(FormatHttpDate(1795000000) == "Wed, 18 Nov 2026 11:06:40 GMT");
  CHECK(ParseHttpDate("Wed, 18 Nov 2026 11:06:40 GMT") == 1795000000);
  CHECK_FALSE(ParseHttpDate("yesterday").has_value());
}

TEST_CASE("due dates parse with a zone, an offset, or as a bare date") {
  CHECK(ParseTime("2026-11-18T11:06:40Z") == 1795000000);
  CHECK(ParseTime("2026-11-18T12:06:40+01:00") == 1795000000);
  CHECK(ParseTime("2026-11-18T14:06:40.123+03:00") == 1795000000);
  CHECK(ParseTime("2026-11-18T11:06Z") == 1795000000 - 40);
  setenv("TZ", "UTC", 1);
  tzset();
  CHECK(ParseTime("2026-11-18") == 1794960000);
  CHECK(ParseTime("2026-11-18", /*end_of_day=*/true) == 1794960000 + 86399);
}

TEST_CASE("impossible or malformed dates are refused") {
  for (const char* bad :
       {"", "2026", "2026-13-01", "2026-02-30T00:00Z", "2026-02-31", "2026-04-31T10:00", "2026-11-18T25:00Z",
        "2026-11-18T10:00+1", "18/11/2026", "2026-11-18T10:00:00Zjunk", "２０２６-11-18"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseTime(bad).has_value());
  }
}

TEST_CASE("a fake clock moves only when told") {
  FakeClock clock(1000);
  CHECK(clock.Now() == 1000);
  clock.Advance(-3 * 86400);  // a clock that jumps back three days
  CHECK(clock.Now() == 1000 - 3 * 86400);
  CHECK(clock.MonotonicMs() == 0);
  clock.Advance(2);
  CHECK(clock.MonotonicMs() == 2000);
}

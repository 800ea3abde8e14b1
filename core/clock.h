// core/clock.h — time as a seam.
//
// Code that needs "now" takes a Clock&, so tests can use FakeClock. Times are
// Unix seconds (UTC). Text times are ISO 8601 in UTC, "2026-11-22T19:30:00Z",
// so that their lexical order is their time order (SQLite compares them as text).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace relais::core {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t Now() const = 0;          // wall clock, Unix seconds
  virtual int64_t MonotonicMs() const = 0;  // never goes back; for durations
  // Wall clock in Unix milliseconds (may jump back like Now()); for the
  // hybrid logical clock of the change journal.
  virtual int64_t NowMs() const { return Now() * 1000; }
};

// The machine's clocks. The wall clock may be shifted by a fixed offset
// (box::Config::test_clock_offset_s, test-only): a process then lives as if its
// clock were that wrong, e.g. a box whose clock jumped back three days.
// Set the offset before other threads use the clock.
class SystemClock final : public Clock {
 public:
  int64_t Now() const override;
  int64_t MonotonicMs() const override;
  int64_t NowMs() const override;
  void set_offset_s(int64_t offset_s) { offset_s_ = offset_s; }

 private:
  int64_t offset_s_ = 0;
};

// Sets the machine's wall clock (CLOCK_REALTIME) to `unix_seconds`. The box has
// no battery-backed clock and often no network, so an admin sets it by hand.
// PermissionDenied without CAP_SYS_TIME.
[[nodiscard]] Status SetSystemClock(int64_t unix_seconds);

// A clock tests move by hand. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now = 1790000000) : now_(now) {}
  int64_t Now() const override { return now_.load(); }
  int64_t MonotonicMs() const override { return mono_.load(); }
  void Advance(int64_t seconds) {
    now_ += seconds;
    if (seconds > 0) mono_ += seconds * 1000;
  }
  void Set(int64_t now) { now_ = now; }

 private:
  std::atomic<int64_t> now_;
  std::atomic<int64_t> mono_{0};
};

// "2026-11-22T19:30:00Z"
std::string FormatTime(int64_t unix_seconds);
// HTTP-date, "Sun, 22 Nov 2026 19:30:00 GMT"
std::string FormatHttpDate(int64_t unix_seconds);
std::optional<int64_t> ParseHttpDate(std::string_view text);
// Accepts "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]" followed by "Z", "±HH:MM" or
// nothing; without a zone the time is local to the box (the TZ environment or
// /etc/localtime). A bare date means 23:59:59 that day when `end_of_day`, else
// 00:00:00. Returns nullopt for anything else.
std::optional<int64_t> ParseTime(std::string_view text, bool end_of_day = false);

}  // namespace relais::core

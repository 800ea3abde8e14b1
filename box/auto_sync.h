// box/auto_sync.h — `relais serve`'s automatic sync with the gateway.
//
// Once the box is enrolled (`relais sync enrol`), a background thread runs one
// sync round (box/gateway_client.h, RunSyncRound) every `sync_interval_s`,
// sooner when local changes wait (seen cheaply through the database's write
// generation), and at once when an admin asks (POST /api/v1/admin/sync).
// A failed round is retried after `sync_retry_min_s`, doubling up to
// `sync_retry_max_s`, plus up to 20 % random jitter (so boxes cut off by the
// same outage do not all come back at the same second); a success resets it.
// The error is recorded for GET /api/v1/health (BoxSync::RecordFailure).
//
// Rounds never overlap: each takes BoxSync::LockRound, which a `relais sync`
// run on the same data folder takes too. Request handling never waits for a
// round: the handlers only read the state below. docs/sync.md, "Automatic
// sync".
//
// The schedule, as a state machine:
//
//   idle ──(due: interval, local change, sync now)──▶ running
//   running ──ok──▶ idle (next: interval; failures = 0)
//   running ──error──▶ idle (next: backoff(failures++))
//   running ──not enrolled──▶ idle (next: interval; nothing recorded)
//   any ──Stop()──▶ stopped (a round in flight is cut and joined)
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "box/config.h"
#include "box/gateway_client.h"
#include "content/school.h"
#include "core/clock.h"

namespace relais::box {

class AutoSync {
 public:
  // What GET /api/v1/health shows besides the stored status.
  struct State {
    bool enabled = false;      // sync_interval_s > 0
    bool running = false;      // a round is in flight
    int64_t next_attempt = 0;  // Unix seconds (the box's clock); 0: none planned
    int failures = 0;          // failed rounds in a row
  };

  // `school`, `config` and `clock` must outlive the AutoSync.
  AutoSync(content::School& school, const Config& config, const core::Clock& clock);
  ~AutoSync();  // Stop()
  AutoSync(const AutoSync&) = delete;
  AutoSync& operator=(const AutoSync&) = delete;

  // Starts the thread; the first round is due at once.
  void Start();
  // Cancels a round in flight, stops and joins the thread. Idempotent.
  void Stop();
  // Runs a round as soon as possible, even while backing off.
  void SyncNow();
  State state() const;

  // The delay before the next try after `failures` (>= 1) failed rounds:
  // min_s · 2^(failures-1), capped at max_s, times 1 + jitter (jitter in
  // [0, 0.2]).
  static int64_t RetryDelayMs(int failures, int64_t min_s, int64_t max_s, double jitter);

 private:
  void Loop();
  // One round: NotFound if the box is not enrolled, Conflict if another
  // round holds the lock, the round's error otherwise.
  Status RunRound();

  content::School& school_;
  const Config& config_;
  const core::Clock& clock_;
  RoundCanceller cancel_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool now_requested_ = false;
  bool running_ = false;
  int failures_ = 0;
  int64_t due_ms_ = 0;  // monotonic; INT64_MAX: only on request
  std::thread thread_;
};

}  // namespace relais::box

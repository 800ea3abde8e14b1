// box/auto_sync.cc — see auto_sync.h.
#include "box/auto_sync.h"

#include <algorithm>
#include <limits>
#include <random>

#include "box/box_sync.h"
#include "core/log.h"

namespace relais::box {

namespace {

constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
// How often the thread looks at the write generation for local changes.
constexpr int64_t kWatchMs = 2000;
// A local change is sent this long after it is seen (a teacher publishing a
// homework often edits it again at once), and never sooner than kMinGapMs
// after the previous round.
constexpr int64_t kAfterChangeMs = 5000;
constexpr int64_t kMinGapMs = 10000;

double Jitter() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 0.2)(rng);
}

}  // namespace

AutoSync::AutoSync(content::School& school, const Config& config, const core::Clock& clock)
    : school_(school), config_(config), clock_(clock) {}

AutoSync::~AutoSync() { Stop(); }

int64_t AutoSync::RetryDelayMs(int failures, int64_t min_s, int64_t max_s, double jitter) {
  int64_t delay_s = min_s;
  for (int i = 1; i < failures && delay_s < max_s; ++i) delay_s *= 2;
  delay_s = std::min(delay_s, max_s);
  return static_cast<int64_t>(static_cast<double>(delay_s) * 1000.0 * (1.0 + jitter));
}

void AutoSync::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stop_) return;
  due_ms_ = config_.sync_interval_s > 0 ? clock_.MonotonicMs() : kNever;
  thread_ = std::thread([this] { Loop(); });
}

void AutoSync::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  cancel_.Cancel();
  if (thread_.joinable()) thread_.join();
}

void AutoSync::SyncNow() {
  {
    std::lock_guard lock(mu_);
    now_requested_ = true;
  }
  cv_.notify_all();
}

AutoSync::State AutoSync::state() const {
  std::lock_guard lock(mu_);
  State s;
  s.enabled = config_.sync_interval_s > 0;
  s.running = running_;
  s.failures = failures_;
  if (now_requested_) {
    s.next_attempt = clock_.Now();
  } else if (due_ms_ != kNever && !running_) {
    s.next_attempt = clock_.Now() + std::max<int64_t>(0, due_ms_ - clock_.MonotonicMs() + 999) / 1000;
  }
  return s;
}

Status AutoSync::RunRound() {
  const auto& data_dir = config_.data_dir;
  RELAIS_ASSIGN_OR_RETURN(auto box, box::BoxSync::Load(school_, data_dir));
  RELAIS_ASSIGN_OR_RETURN(auto round, box::BoxSync::LockRound(data_dir));
  auto url = school_.accounts().GetSetting("sync_hub_url");
  if (!url.ok() || url->empty()) return Status::InvalidArgument("no gateway URL: enrol the box again");
  auto report = RunSyncRound(*box, *url, clock_, nullptr, &cancel_);
  if (!report.ok()) {
    if (cancel_.cancelled()) return report.status();  // shutting down: not the gateway's fault
    (void)box->RecordFailure(report.status().message());
    core::LogEvent("sync.failed", {{"gateway", *url}, {"reason", report.status().message()}});
    return report.status();
  }
  // The answer changed accounts and lists wholesale: sessions are checked again.
  if (report->new_ops > 0) school_.db().NoteOutsideWrite();
  core::LogEvent("sync.done", {{"gateway", *url},
                               {"sent", std::to_string(report->sent)},
                               {"received", std::to_string(report->received)},
                               {"new", std::to_string(report->new_ops)}});
  return Status::Ok();
}

void AutoSync::Loop() {
  const int64_t interval_ms = config_.sync_interval_s > 0 ? config_.sync_interval_s * 1000 : kNever;
  auto after = [](int64_t now, int64_t delay) { return delay == kNever ? kNever : now + delay; };
  std::unique_lock lock(mu_);
  uint64_t seen_generation = school_.db().write_generation();
  int64_t last_round_ms = 0;
  while (!stop_) {
    int64_t now = clock_.MonotonicMs();
    if (!now_requested_ && now < due_ms_) {
      cv_.wait_for(lock, std::chrono::milliseconds(std::min(due_ms_ - now, kWatchMs)));
      if (stop_ || now_requested_ || failures_ > 0 || interval_ms == kNever) continue;
      // Local changes: the generation moves with every write (logins too), so
      // ask the journal whether operations wait for the gateway.
      uint64_t generation = school_.db().write_generation();
      if (generation == seen_generation) continue;
      seen_generation = generation;
      lock.unlock();
      auto status = box::ReadBoxSyncStatus(school_, config_.data_dir);
      lock.lock();
      if (status.ok() && status->enrolled && status->pending > 0)
        due_ms_ = std::min(due_ms_, std::max(clock_.MonotonicMs() + kAfterChangeMs, last_round_ms + kMinGapMs));
      continue;
    }
    now_requested_ = false;
    running_ = true;
    seen_generation = school_.db().write_generation();  // the round's own writes are not local changes
    lock.unlock();
    Status st = RunRound();
    lock.lock();
    running_ = false;
    now = clock_.MonotonicMs();
    last_round_ms = now;
    if (st.ok() || st.code() == StatusCode::kNotFound) {
      failures_ = 0;
      due_ms_ = after(now, interval_ms);
    } else if (st.code() == StatusCode::kConflict) {
      due_ms_ = now + config_.sync_retry_min_s * 1000;  // a `relais sync` run holds the lock
    } else {
      ++failures_;
      due_ms_ = now + RetryDelayMs(failures_, config_.sync_retry_min_s, config_.sync_retry_max_s, Jitter());
    }
  }
}

}  // namespace relais::box

// http/metrics.h — counters for GET /metrics (Prometheus text format 0.0.4).
// Lock-free on the request path: fixed arrays of atomics indexed by route.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace relais::http {

class Metrics {
 public:
  static constexpr size_t kMaxRoutes = 64;
  static constexpr std::array<double, 10> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0};
  // Declares the routes' names (their patterns) once, before serving.
  void SetRouteNames(std::vector<std::string> names) { names_ = std::move(names); }
  void Observe(size_t route, int status, double seconds);
  void LoginResult(bool ok) { (ok ? logins_ok_ : logins_failed_).fetch_add(1, std::memory_order_relaxed); }
  void UploadBytes(uint64_t n) { upload_bytes_.fetch_add(n, std::memory_order_relaxed); }
  // Renders all series; the gauges are passed in by the caller.
  std::string Render(double uptime_s, uint64_t disk_free, uint64_t sessions) const;

 private:
  struct RouteStats {
    std::array<std::atomic<uint64_t>, 5> by_class{};  // 1xx..5xx
    std::array<std::atomic<uint64_t>, kBuckets.size() + 1> buckets{};
    std::atomic<uint64_t> micros_sum{0};
  };
  std::vector<std::string> names_;
  std::array<RouteStats, kMaxRoutes> routes_;
  std::atomic<uint64_t> logins_ok_{0}, logins_failed_{0}, upload_bytes_{0};
};

}  // namespace relais::http

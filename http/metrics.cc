#include "http/metrics.h"

#include <cstdio>

namespace relais::http {

void Metrics::Observe(size_t route, int status, double seconds) {
  if (route >= kMaxRoutes) return;
  RouteStats& r = routes_[route];
  int cls = status / 100 - 1;
  if (cls >= 0 && cls < 5) r.by_class[static_cast<size_t>(cls)].fetch_add(1, std::memory_order_relaxed);
  size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  r.buckets[b].fetch_add(1, std::memory_order_relaxed);
  r.micros_sum.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

std::string Metrics::Render(double uptime_s, uint64_t disk_free, uint64_t sessions) const {
  std::string out;
  char line[512];
  auto add = [&](const char* fmt, auto... args) {
    std::snprintf(line, sizeof line, fmt, args...);
    out += line;
  };
  out += "# HELP relais_uptime_seconds Seconds since the server started.\n# TYPE relais_uptime_seconds gauge\n";
  add("relais_uptime_seconds %.0f\n", uptime_s);
  out += "# HELP relais_disk_free_bytes Free bytes on the data partition.\n# TYPE relais_disk_free_bytes gauge\n";
  add("relais_disk_free_bytes %llu\n", static_cast<unsigned long long>(disk_free));
  out += "# HELP relais_sessions_cached Sessions held in memory.\n# TYPE relais_sessions_cached gauge\n";
  add("relais_sessions_cached %llu\n", static_cast<unsigned long long>(sessions));
  out += "# HELP relais_logins_total Login attempts by result.\n# TYPE relais_logins_total counter\n";
  add("relais_logins_total{result=\"ok\"} %llu\n", static_cast<unsigned long long>(logins_ok_.load()));
  add("relais_logins_total{result=\"failed\"} %llu\n", static_cast<unsigned long long>(logins_failed_.load()));
  out += "# HELP relais_upload_bytes_total Bytes of files uploaded.\n# TYPE relais_upload_bytes_total counter\n";
  add("relais_upload_bytes_total %llu\n", static_cast<unsigned long long>(upload_bytes_.load()));
  out +=
      "# HELP relais_http_requests_total HTTP requests by route and status class.\n"
      "# TYPE relais_http_requests_total counter\n";
  static const char* kClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  for (size_t i = 0; i < names_.size() && i < kMaxRoutes; ++i)
    for (size_t c = 0; c < 5; ++c) {
      uint64_t n = routes_[i].by_class[c].load(std::memory_order_relaxed);
      if (n)
        add("relais_http_requests_total{route=\"%s\",code=\"%s\"} %llu\n", names_[i].c_str(), kClasses[c],
            static_cast<unsigned long long>(n));
    }
  out +=
      "# HELP relais_http_request_duration_seconds Time to handle a request (to the first byte).\n"
      "# TYPE relais_http_request_duration_seconds histogram\n";
  for (size_t i = 0; i < names_.size() && i < kMaxRoutes; ++i) {
    const RouteStats& r = routes_[i];
    uint64_t total = 0;
    for (const auto& b : r.buckets) total += b.load(std::memory_order_relaxed);
    if (!total) continue;
    uint64_t cumulative = 0;
    for (size_t b = 0; b < kBuckets.size(); ++b) {
      cumulative += r.buckets[b].load(std::memory_order_relaxed);
      add("relais_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n", names_[i].c_str(), kBuckets[b],
          static_cast<unsigned long long>(cumulative));
    }
    add("relais_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", names_[i].c_str(),
        static_cast<unsigned long long>(total));
    add("relais_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", names_[i].c_str(),
        static_cast<double>(r.micros_sum.load()) / 1e6);
    add("relais_http_request_duration_seconds_count{route=\"%s\"} %llu\n", names_[i].c_str(),
        static_cast<unsigned long long>(total));
  }
  return out;
}

}  // namespace relais::http

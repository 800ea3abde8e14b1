#include "server/hub_api.h"

#include <chrono>
#include <exception>

#include "core/log.h"

namespace relais::server {

const std::vector<HubApi::Route>& HubApi::Routes() {
  static const std::vector<Route> kRoutes = {
      {"GET", "/hub/v1/health", Access::kPublic, &HubApi::Health},
  };
  return kRoutes;
}

void HubApi::Dispatch(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) {
  auto start = std::chrono::steady_clock::now();
  std::vector<std::string_view> path = PathSegments(req.path);
  const auto& routes = Routes();
  static const std::vector<std::vector<std::string_view>> kPatterns = [&] {
    std::vector<std::vector<std::string_view>> out;
    for (const Route& r : routes) out.push_back(PathSegments(r.pattern));
    return out;
  }();
  Call call{req, res, reader, {}};
  const Route* route = nullptr;
  bool path_known = false;
  // HEAD is answered by a HEAD route if there is one (an upload's offset),
  // else by the GET route (the transport drops the body).
  for (const std::string& method : {req.method, std::string(req.method == "HEAD" ? "GET" : "")}) {
    for (size_t i = 0; i < routes.size() && !route; ++i) {
      if (!MatchPath(kPatterns[i], path, &call.params)) continue;
      path_known = true;
      if (method == routes[i].method) route = &routes[i];
    }
    if (route) break;
  }
  try {
    if (route) {
      (this->*route->handler)(call);
    } else if (path_known) {
      WriteError(res, 405, "method_not_allowed", "this method is not allowed here");
    } else {
      WriteError(res, 404, "not_found", "no such endpoint: " + req.path);
    }
  } catch (const std::exception& e) {
    core::LogEvent("hub.exception", {{"path", req.path}, {"what", e.what()}});
    WriteError(res, 500, "internal", "internal error; the details are in the gateway's log");
  }
  if (!res.has_header("Cache-Control")) res.set_header("Cache-Control", "no-store");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  core::LogEventBuffered("hub.request", {{"method", req.method},
                                         {"path", req.path},
                                         {"status", std::to_string(res.status)},
                                         {"us", std::to_string(static_cast<int64_t>(seconds * 1e6))},
                                         {"addr", req.remote_addr}});
}

void HubApi::Health(Call& c) {
  WriteJson(c.res, {{"status", "ok"},
                    {"version", RELAIS_VERSION},
                    {"store", hub_.store().engine()},
                    {"time", core::FormatTime(clock_.Now())},
                    {"time_ms", clock_.Now() * 1000}});
}

}  // namespace relais::server

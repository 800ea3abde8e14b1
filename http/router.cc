#include "http/router.h"

#include <algorithm>
#include <exception>

#include "core/log.h"
#include "http/http_util.h"

namespace relais::http {

std::vector<std::string_view> PathSegments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  return out;
}

bool MatchPath(const std::vector<std::string_view>& pattern, const std::vector<std::string_view>& path,
               std::vector<std::string>* params) {
  params->clear();
  bool rest = !pattern.empty() && pattern.back() == "*";
  if (rest ? path.size() < pattern.size() : pattern.size() != path.size()) return false;
  if (rest) {
    for (size_t i = 0; i + 1 < pattern.size(); ++i)
      if (pattern[i] != path[i]) return false;
    return true;
  }
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (!pattern[i].empty() && pattern[i].front() == ':') {
      params->emplace_back(path[i]);
    } else if (pattern[i] != path[i]) {
      params->clear();
      return false;
    }
  }
  return true;
}

RouteMatcher::RouteMatcher(const std::vector<std::pair<std::string, std::string>>& routes) {
  for (const auto& [method, pattern] : routes) {
    methods_.push_back(method);
    patterns_.push_back(pattern);
  }
  // After the last push_back: the views point into patterns_' final strings.
  for (const std::string& p : patterns_) segments_.push_back(PathSegments(p));
}

RouteMatcher::Match RouteMatcher::Find(std::string_view method, std::string_view path) const {
  Match m;
  std::vector<std::string_view> segments = PathSegments(path);
  std::vector<std::string> params;
  std::vector<std::string> methods;  // of the path, in table order
  size_t get_route = kNone;
  std::vector<std::string> get_params;
  for (size_t i = 0; i < segments_.size(); ++i) {
    if (!MatchPath(segments_[i], segments, &params)) continue;
    m.path_known = true;
    if (std::find(methods.begin(), methods.end(), methods_[i]) == methods.end()) methods.push_back(methods_[i]);
    if (m.route == kNone && methods_[i] == method) {
      m.route = i;
      m.params = params;
    }
    if (get_route == kNone && method == "HEAD" && methods_[i] == "GET") {
      get_route = i;
      get_params = params;
    }
  }
  if (m.route == kNone && get_route != kNone) {
    m.route = get_route;
    m.params = std::move(get_params);
  }
  if (m.route == kNone && m.path_known) {
    if (std::find(methods.begin(), methods.end(), "GET") != methods.end() &&
        std::find(methods.begin(), methods.end(), "HEAD") == methods.end())
      methods.push_back("HEAD");
    std::sort(methods.begin(), methods.end());
    for (const std::string& name : methods) m.allow += (m.allow.empty() ? "" : ", ") + name;
  }
  return m;
}

namespace router_internal {

void AnswerUnmatched(const httplib::Request& req, httplib::Response& res, const RouteMatcher::Match& m) {
  if (!m.path_known) return WriteError(res, 404, "not_found", "no such endpoint: " + req.path);
  res.set_header("Allow", m.allow);
  WriteError(res, 405, "method_not_allowed", "this method is not allowed here");
}

void Guarded(const RouterOptions& options, const httplib::Request& req, httplib::Response& res,
             const std::function<void()>& serve) {
  try {
    serve();
  } catch (const std::exception& e) {
    core::LogEvent(options.exception_event, {{"path", req.path}, {"what", e.what()}});
    WriteError(res, 500, "internal", options.internal_message);
  }
}

void LogAccess(const RouterOptions& options, const httplib::Request& req, const httplib::Response& res,
               std::string_view caller, double seconds) {
  std::string path = req.path;
  for (const std::string& prefix : options.redacted_prefixes)
    if (path.rfind(prefix, 0) == 0) path = prefix + "…";
  core::LogEventBuffered(options.access_event, {{"method", req.method},
                                                {"path", path},
                                                {"status", std::to_string(res.status)},
                                                {"us", std::to_string(static_cast<int64_t>(seconds * 1e6))},
                                                {options.caller_field, std::string(caller)},
                                                {"addr", req.remote_addr}});
}

}  // namespace router_internal
}  // namespace relais::http

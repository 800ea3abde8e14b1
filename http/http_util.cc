#include "http/http_util.h"

#include "core/clock.h"
#include "core/log.h"

namespace relais::http {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kConflict:
      return 409;
    case StatusCode::kTooLarge:
      return 413;
    case StatusCode::kUnsupportedType:
      return 415;
    case StatusCode::kRateLimited:
      return 429;
    case StatusCode::kIOError:
      return 507;
    case StatusCode::kCorruption:
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

void WriteError(httplib::Response& res, int http_status, std::string_view code, std::string_view message) {
  json body = {{"error", {{"code", code}, {"message", message}}}};
  res.status = http_status;
  res.set_content(body.dump(), "application/json; charset=utf-8");
}

void WriteError(httplib::Response& res, const Status& status) {
  int http = HttpStatusFor(status.code());
  if (http >= 500) {
    core::LogEvent("http.error", {{"code", StatusCodeName(status.code())}, {"message", status.message()}});
    std::string_view msg = status.code() == StatusCode::kIOError
                               ? "the box could not write to its storage (is the disk full?)"
                               : "internal error; the details are in the box's log";
    WriteError(res, http, StatusCodeName(status.code()), msg);
    return;
  }
  WriteError(res, http, StatusCodeName(status.code()), status.message());
}

void WriteJson(httplib::Response& res, const json& body, int http_status) {
  res.status = http_status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json; charset=utf-8");
}

Result<std::string> ReadBody(const httplib::Request& req, const httplib::ContentReader& reader, uint64_t limit) {
  if (req.has_header("Content-Length")) {
    uint64_t declared = std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10);
    if (declared > limit) return Status::TooLarge("the request body is over " + std::to_string(limit) + " bytes");
  }
  std::string body;
  bool too_large = false;
  reader([&](const char* data, size_t n) {
    if (body.size() + n > limit) {
      too_large = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (too_large) return Status::TooLarge("the request body is over " + std::to_string(limit) + " bytes");
  return body;
}

Result<json> ReadJsonBody(const httplib::Request& req, const httplib::ContentReader& reader, uint64_t limit) {
  RELAIS_ASSIGN_OR_RETURN(std::string body, ReadBody(req, reader, limit));
  if (body.empty()) return Status::InvalidArgument("the request needs a JSON body");
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Status::InvalidArgument("the body is not valid JSON");
  if (!parsed.is_object()) return Status::InvalidArgument("the body must be a JSON object");
  return parsed;
}

Result<std::optional<std::string>> OptionalString(const json& body, const char* field, size_t max_bytes) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return Status::InvalidArgument(std::string("'") + field + "' must be a string");
  const std::string& s = it->get_ref<const std::string&>();
  if (s.size() > max_bytes)
    return Status::InvalidArgument(std::string("'") + field + "' is longer than " + std::to_string(max_bytes) +
                                   " bytes");
  return std::optional<std::string>(s);
}

Result<std::string> RequiredString(const json& body, const char* field, size_t max_bytes) {
  RELAIS_ASSIGN_OR_RETURN(auto s, OptionalString(body, field, max_bytes));
  if (!s) return Status::InvalidArgument(std::string("'") + field + "' is required");
  return *s;
}

Result<std::optional<bool>> OptionalBool(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean()) return Status::InvalidArgument(std::string("'") + field + "' must be true or false");
  return std::optional<bool>(it->get<bool>());
}

Result<std::optional<double>> OptionalNumber(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::optional<double>();
  if (!it->is_number()) return Status::InvalidArgument(std::string("'") + field + "' must be a number");
  return std::optional<double>(it->get<double>());
}

Result<std::optional<std::vector<std::string>>> OptionalStringList(const json& body, const char* field,
                                                                   size_t max_items) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::optional<std::vector<std::string>>();
  if (!it->is_array()) return Status::InvalidArgument(std::string("'") + field + "' must be a list of ids");
  if (it->size() > max_items)
    return Status::InvalidArgument(std::string("'") + field + "' has more than " + std::to_string(max_items) +
                                   " items");
  std::vector<std::string> out;
  for (const json& v : *it) {
    if (!v.is_string() || v.get_ref<const std::string&>().size() > 64)
      return Status::InvalidArgument(std::string("'") + field + "' must be a list of ids");
    out.push_back(v.get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<std::optional<int64_t>> OptionalTime(const json& body, const char* field, bool end_of_day) {
  RELAIS_ASSIGN_OR_RETURN(auto s, OptionalString(body, field, 64));
  if (!s) return std::optional<int64_t>();
  auto t = core::ParseTime(*s, end_of_day);
  if (!t)
    return Status::InvalidArgument(std::string("'") + field +
                                   "' must be a date and time like 2026-11-30T18:00:00+01:00 or 2026-11-30");
  return std::optional<int64_t>(*t);
}

std::string GetCookie(const httplib::Request& req, std::string_view name) {
  auto range = req.headers.equal_range("Cookie");
  for (auto it = range.first; it != range.second; ++it) {
    std::string_view all = it->second;
    while (!all.empty()) {
      size_t semi = all.find(';');
      std::string_view pair = all.substr(0, semi);
      all = semi == std::string_view::npos ? std::string_view() : all.substr(semi + 1);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      size_t eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) return std::string(pair.substr(eq + 1));
    }
  }
  return "";
}

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(plus_is_space && s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

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
  bool rest = !pattern.empty() && pattern.back() == "*";
  if (rest ? path.size() < pattern.size() : pattern.size() != path.size()) return false;
  params->clear();
  if (rest) {
    for (size_t i = 0; i + 1 < pattern.size(); ++i)
      if (pattern[i] != path[i]) return false;
    return true;
  }
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (!pattern[i].empty() && pattern[i].front() == ':') {
      params->emplace_back(path[i]);
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  return true;
}

std::string BaseContentType(std::string_view v) {
  size_t semi = v.find(';');
  std::string_view t = v.substr(0, semi);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  std::string out(t);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

}  // namespace relais::http

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

std::string BaseContentType(std::string_view v) {
  size_t semi = v.find(';');
  std::string_view t = v.substr(0, semi);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  std::string out(t);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

}  // namespace relais::http

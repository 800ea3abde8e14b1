// http/http_util.h — the one mapping from Status to HTTP, JSON bodies in
// and out (typed field access: http/json_fields.h).
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "http/json_fields.h"  // the typed field readers, for the handlers

namespace relais::http {

using nlohmann::json;

// NotFound→404, InvalidArgument→400, Unauthenticated→401, PermissionDenied→403,
// Conflict→409, TooLarge→413, UnsupportedType→415, RateLimited→429, others→500.
int HttpStatusFor(StatusCode code);

// Writes {"error":{"code","message"}} with the status's HTTP code. Internal
// errors are logged and answered with a generic message.
void WriteError(httplib::Response& res, const Status& status);
void WriteError(httplib::Response& res, int http_status, std::string_view code, std::string_view message);
void WriteJson(httplib::Response& res, const json& body, int http_status = 200);

// Reads the whole request body (at most `limit` bytes) through the content
// reader and parses it as a JSON object. TooLarge over the limit,
// InvalidArgument for bad JSON or a non-object.
// Reads the whole request body, at most `limit` bytes (TooLarge beyond).
Result<std::string> ReadBody(const httplib::Request& req, const httplib::ContentReader& reader, uint64_t limit);
Result<json> ReadJsonBody(const httplib::Request& req, const httplib::ContentReader& reader, uint64_t limit);

// The value of a cookie, or "".
std::string GetCookie(const httplib::Request& req, std::string_view name);
// Percent-decodes a header value such as X-Filename, a path or (with
// `plus_is_space`) a query-string component.
std::string PercentDecode(std::string_view s, bool plus_is_space = false);

// A Content-Type header's media type, lower case, without its parameters
// ("Text/Plain; charset=utf-8" → "text/plain").
std::string BaseContentType(std::string_view v);

}  // namespace relais::http

// http/json_fields.h — strict typed reading of the fields of a JSON object
// (a request body, or an object inside one), for both programs' APIs.
//
// Every error is InvalidArgument naming the field. At the top level of a
// request body (`path` empty) the name is quoted: "'title' must be a string".
// Inside a document (`path` like "homework[0]") it is path-qualified:
// "homework[0].title: must be a string", so an ENT developer finds the item.
// An absent field and a null one are the same: nullopt.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace relais::http {

using nlohmann::json;

// InvalidArgument "'name' what" (empty `path`), "path.name: what", or
// "path: what" (empty `name`).
Status FieldError(std::string_view path, std::string_view name, std::string_view what);

// A string of at most `max_bytes` bytes.
Result<std::optional<std::string>> OptionalString(const json& o, const char* field, size_t max_bytes,
                                                  std::string_view path = {});
// Like OptionalString; absent or null is "is required".
Result<std::string> RequiredString(const json& o, const char* field, size_t max_bytes, std::string_view path = {});
Result<std::optional<bool>> OptionalBool(const json& o, const char* field, std::string_view path = {});
// Any JSON number.
Result<std::optional<double>> OptionalNumber(const json& o, const char* field, std::string_view path = {});
// A list of at most `max_items` ids (strings of at most 64 bytes).
Result<std::optional<std::vector<std::string>>> OptionalStringList(const json& o, const char* field, size_t max_items,
                                                                   std::string_view path = {});
// A time in ISO 8601 (see core::ParseTime; a bare date is its start, or its
// end with `end_of_day`), as Unix seconds.
Result<std::optional<int64_t>> OptionalTime(const json& o, const char* field, bool end_of_day,
                                            std::string_view path = {});
// An array; an empty one when absent (null is refused).
Result<json> OptionalArray(const json& o, const char* field, std::string_view path = {});
// `o` is an object holding no field outside `allowed` ("path: must be an
// object", "path.name: unknown field").
Status OnlyFields(const json& o, std::string_view path, std::initializer_list<const char*> allowed);

}  // namespace relais::http

#include "http/json_fields.h"

#include <algorithm>

#include "core/clock.h"

namespace relais::http {

Status FieldError(std::string_view path, std::string_view name, std::string_view what) {
  std::string message;
  if (path.empty())
    message.append("'").append(name).append("' ");
  else if (name.empty())
    message.append(path).append(": ");
  else
    message.append(path).append(".").append(name).append(": ");
  return Status::InvalidArgument(message.append(what));
}

Result<std::optional<std::string>> OptionalString(const json& o, const char* field, size_t max_bytes,
                                                  std::string_view path) {
  auto it = o.find(field);
  if (it == o.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return FieldError(path, field, "must be a string");
  const std::string& s = it->get_ref<const std::string&>();
  if (s.size() > max_bytes) return FieldError(path, field, "is longer than " + std::to_string(max_bytes) + " bytes");
  return std::optional<std::string>(s);
}

Result<std::string> RequiredString(const json& o, const char* field, size_t max_bytes, std::string_view path) {
  RELAIS_ASSIGN_OR_RETURN(auto s, OptionalString(o, field, max_bytes, path));
  if (!s) return FieldError(path, field, "is required");
  return *s;
}

Result<std::optional<bool>> OptionalBool(const json& o, const char* field, std::string_view path) {
  auto it = o.find(field);
  if (it == o.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean()) return FieldError(path, field, "must be true or false");
  return std::optional<bool>(it->get<bool>());
}

Result<std::optional<double>> OptionalNumber(const json& o, const char* field, std::string_view path) {
  auto it = o.find(field);
  if (it == o.end() || it->is_null()) return std::optional<double>();
  if (!it->is_number()) return FieldError(path, field, "must be a number");
  return std::optional<double>(it->get<double>());
}

Result<std::optional<std::vector<std::string>>> OptionalStringList(const json& o, const char* field, size_t max_items,
                                                                   std::string_view path) {
  auto it = o.find(field);
  if (it == o.end() || it->is_null()) return std::optional<std::vector<std::string>>();
  if (!it->is_array()) return FieldError(path, field, "must be a list of ids");
  if (it->size() > max_items) return FieldError(path, field, "has more than " + std::to_string(max_items) + " items");
  std::vector<std::string> out;
  for (const json& v : *it) {
    if (!v.is_string() || v.get_ref<const std::string&>().size() > 64)
      return FieldError(path, field, "must be a list of ids");
    out.push_back(v.get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<std::optional<int64_t>> OptionalTime(const json& o, const char* field, bool end_of_day, std::string_view path) {
  RELAIS_ASSIGN_OR_RETURN(auto s, OptionalString(o, field, 64, path));
  if (!s) return std::optional<int64_t>();
  auto t = core::ParseTime(*s, end_of_day);
  if (!t) return FieldError(path, field, "must be a date and time like 2026-11-30T18:00:00+01:00 or 2026-11-30");
  return std::optional<int64_t>(*t);
}

Result<json> OptionalArray(const json& o, const char* field, std::string_view path) {
  auto it = o.find(field);
  if (it == o.end()) return json::array();
  if (!it->is_array()) return FieldError(path, field, "must be an array");
  return *it;
}

Status OnlyFields(const json& o, std::string_view path, std::initializer_list<const char*> allowed) {
  if (!o.is_object()) return FieldError(path, "", "must be an object");
  for (const auto& item : o.items()) {
    const std::string& name = item.key();
    bool known = std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return name == a; });
    if (!known) return FieldError(std::string(path) + "." + name, "", "unknown field");
  }
  return Status::Ok();
}

}  // namespace relais::http

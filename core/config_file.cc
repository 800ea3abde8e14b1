#include "core/config_file.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>

extern char** environ;

namespace relais::core {
std::string_view TrimSetting(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

Status LoadSettingsFile(const std::filesystem::path& path, const SettingSetter& set) {
  std::ifstream in(path);
  if (!in) return Status::Ok();
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string_view l = TrimSetting(line);
    if (l.empty() || l.front() == '#') continue;
    size_t eq = l.find('=');
    if (eq == std::string_view::npos)
      return Status::InvalidArgument(path.string() + ":" + std::to_string(number) + ": expected key = value");
    Status st = set(TrimSetting(l.substr(0, eq)), TrimSetting(l.substr(eq + 1)));
    if (!st.ok()) return Status::InvalidArgument(path.string() + ":" + std::to_string(number) + ": " + st.message());
  }
  return Status::Ok();
}

Status LoadSettingsEnvironment(const std::function<bool(std::string_view key)>& is_key, const SettingSetter& set) {
  for (char** e = environ; *e; ++e) {
    std::string_view kv(*e);
    if (kv.substr(0, 7) != "RELAIS_") continue;
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key(kv.substr(7, eq - 7));
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (key == "data" || !is_key(key)) continue;
    Status st = set(key, TrimSetting(kv.substr(eq + 1)));
    if (!st.ok())
      return Status::InvalidArgument("environment RELAIS_" + std::string(kv.substr(7, eq - 7)) + ": " + st.message());
  }
  return Status::Ok();
}

Status UnknownSetting(std::string_view key) {
  return Status::InvalidArgument("unknown setting '" + std::string(key) + "'");
}

Status ParseSettingInteger(std::string_view key, std::string_view value, long long* out, long long min, long long max) {
  std::string v(value);
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || n < min || n > max)
    return Status::InvalidArgument(std::string(key) + " must be a whole number from " + std::to_string(min) + " to " +
                                   std::to_string(max) + ", not '" + v + "'");
  *out = n;
  return Status::Ok();
}

Status ParseSettingBool(std::string_view key, std::string_view value, bool* out) {
  if (value == "true" || value == "yes" || value == "on" || value == "1") {
    *out = true;
  } else if (value == "false" || value == "no" || value == "off" || value == "0") {
    *out = false;
  } else {
    return Status::InvalidArgument(std::string(key) + " must be true or false, not '" + std::string(value) + "'");
  }
  return Status::Ok();
}

Status ParseSettingAddress(std::string_view key, std::string_view value, std::string* host, int* port) {
  size_t colon = value.rfind(':');
  if (colon == std::string_view::npos) return Status::InvalidArgument(std::string(key) + " must be ADDR:PORT");
  std::string h(value.substr(0, colon));
  if (h.size() > 2 && h.front() == '[') h = h.substr(1, h.size() - 2);
  RELAIS_RETURN_IF_ERROR(ParseSettingNumber(key, value.substr(colon + 1), port, 0, 65535));
  *host = std::move(h);
  return Status::Ok();
}

}  // namespace relais::core

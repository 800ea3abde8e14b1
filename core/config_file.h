// core/config_file.h — how a program's settings are read, not which settings
// there are: each program (box/config.h, hub/config.h) owns its settings and
// passes its Set() to these readers.
//
// Sources, later ones winning: built-in defaults, a "key = value" file ('#'
// comments; an unknown key is an error), environment variables RELAIS_<KEY>
// (upper case; the gateway's keys begin with hub_, so they read RELAIS_HUB_<KEY>),
// then command-line flags, which the caller applies with the program's Set().
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace relais::core {

// Sets one setting from its text; InvalidArgument for an unknown key or a bad value.
using SettingSetter = std::function<Status(std::string_view key, std::string_view value)>;

// Calls `set` for each "key = value" line of `path` (blank lines and '#' comments
// skipped; key and value trimmed). A missing file is fine. The first error stops
// the reading and comes back as "PATH:LINE: message".
[[nodiscard]] Status LoadSettingsFile(const std::filesystem::path& path, const SettingSetter& set);

// Calls `set` for each environment variable RELAIS_<KEY> whose lower-cased KEY
// `is_key` accepts; other RELAIS_* variables belong to other tools (tests,
// scripts, the other program) and are ignored, and so is RELAIS_DATA (the data
// folder comes from --data). An error reads "environment RELAIS_<KEY>: message".
[[nodiscard]] Status LoadSettingsEnvironment(const std::function<bool(std::string_view key)>& is_key,
                                             const SettingSetter& set);

// `s` without leading blanks and trailing blanks or '\r'.
std::string_view TrimSetting(std::string_view s);

// The error for a key no program knows: "unknown setting 'KEY'".
[[nodiscard]] Status UnknownSetting(std::string_view key);

// Parses a whole number from min to max into *out; otherwise InvalidArgument
// "KEY must be a whole number from MIN to MAX, not 'VALUE'" and *out unchanged.
[[nodiscard]] Status ParseSettingInteger(std::string_view key, std::string_view value, long long* out, long long min,
                                         long long max);
template <typename T>
[[nodiscard]] Status ParseSettingNumber(std::string_view key, std::string_view value, T* out, T min, T max) {
  long long n = 0;
  RELAIS_RETURN_IF_ERROR(ParseSettingInteger(key, value, &n, static_cast<long long>(min), static_cast<long long>(max)));
  *out = static_cast<T>(n);
  return Status::Ok();
}
// true/yes/on/1 or false/no/off/0; otherwise "KEY must be true or false, not 'VALUE'".
[[nodiscard]] Status ParseSettingBool(std::string_view key, std::string_view value, bool* out);
// "ADDR:PORT" or "[v6]:PORT" (port 0 to 65535); otherwise "KEY must be ADDR:PORT".
[[nodiscard]] Status ParseSettingAddress(std::string_view key, std::string_view value, std::string* host, int* port);

}  // namespace relais::core

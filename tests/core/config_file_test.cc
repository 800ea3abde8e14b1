#include "core/config_file.h"

#include <doctest/doctest.h>

#include <map>
#include <string>

#include "tests/support/temp_dir.h"

using namespace relais::core;
using relais::Status;
using relais::StatusCode;
using relais::testing::TempDir;

namespace {
// A program with two settings, "colour" and "size" (a number from 1 to 10).
struct Settings {
  std::map<std::string, std::string> values;
  Status Set(std::string_view key, std::string_view value) {
    if (key == "size") {
      int n = 0;
      RELAIS_RETURN_IF_ERROR(ParseSettingNumber(key, value, &n, 1, 10));
    } else if (key != "colour") {
      return UnknownSetting(key);
    }
    values[std::string(key)] = std::string(value);
    return Status::Ok();
  }
  SettingSetter setter() {
    return [this](std::string_view k, std::string_view v) { return Set(k, v); };
  }
};
}  // namespace

TEST_CASE("a settings file gives each key its trimmed value, skips comments, and a missing file is fine") {
  TempDir dir;
  Settings s;
  REQUIRE(LoadSettingsFile(dir.Write("a.conf", "# comment\n\n  colour =  blue \r\nsize=3\n"), s.setter()).ok());
  CHECK(s.values["colour"] == "blue");
  CHECK(s.values["size"] == "3");
  CHECK(LoadSettingsFile(dir.path / "missing.conf", s.setter()).ok());
}

TEST_CASE("a settings file's error names the file, the line and the key") {
  TempDir dir;
  Settings s;
  Status st = LoadSettingsFile(dir.Write("a.conf", "colour = red\nshape = round\n"), s.setter());
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.message().find("a.conf:2: unknown setting 'shape'") != std::string::npos);
  st = LoadSettingsFile(dir.Write("b.conf", "size 8080\n"), s.setter());
  CHECK(st.message().find("b.conf:1: expected key = value") != std::string::npos);
  st = LoadSettingsFile(dir.Write("c.conf", "size = 11\n"), s.setter());
  CHECK(st.message().find("size must be a whole number from 1 to 10, not '11'") != std::string::npos);
}

TEST_CASE("the environment sets only the keys the program knows, and names the variable of a bad value") {
  Settings s;
  setenv("RELAIS_COLOUR", "green", 1);
  setenv("RELAIS_SHAPE", "round", 1);  // another tool's: ignored
  auto is_key = [](std::string_view k) { return k == "colour" || k == "size"; };
  REQUIRE(LoadSettingsEnvironment(is_key, s.setter()).ok());
  CHECK(s.values["colour"] == "green");
  CHECK(s.values.count("shape") == 0);
  setenv("RELAIS_SIZE", "big", 1);
  Status st = LoadSettingsEnvironment(is_key, s.setter());
  unsetenv("RELAIS_COLOUR");
  unsetenv("RELAIS_SHAPE");
  unsetenv("RELAIS_SIZE");
  CHECK(st.message().find("environment RELAIS_SIZE: size must be") != std::string::npos);
}

TEST_CASE("addresses and booleans are parsed, and a bad one leaves the setting as it was") {
  std::string host = "127.0.0.1";
  int port = 80;
  CHECK(ParseSettingAddress("listen", "[::1]:9000", &host, &port).ok());
  CHECK(host == "::1");
  CHECK(port == 9000);
  CHECK(ParseSettingAddress("listen", "nowhere", &host, &port).message() == "listen must be ADDR:PORT");
  CHECK_FALSE(ParseSettingAddress("listen", "10.0.0.1:99999", &host, &port).ok());
  CHECK(host == "::1");
  bool on = false;
  CHECK(ParseSettingBool("redirect", "yes", &on).ok());
  CHECK(on);
  CHECK(ParseSettingBool("redirect", "maybe", &on).message() == "redirect must be true or false, not 'maybe'");
}

#include "hub/config.h"

#include <algorithm>

#include "core/config_file.h"

namespace relais::hub {
namespace {

// The box's own keys (box::Config::OwnKeys(); the hub cannot include box/), so
// that a box setting in a gateway's file is named for what it is.
// tests/system/config_keys_test.cc keeps the two lists in step.
constexpr std::string_view kBoxKeys[] = {"db_readers",       "session_hours",        "password_ops",
                                         "password_mem_kib", "password_concurrency", "https_listen",
                                         "https_redirect",   "sync_interval_s",      "sync_retry_min_s",
                                         "sync_retry_max_s", "installation_address", "test_clock_offset_s"};

}  // namespace

const std::vector<std::string_view>& Config::OwnKeys() {
  static const std::vector<std::string_view> kKeys = {"hub_postgres", "hub_key_file", "hub_ent_key_file",
                                                      "hub_connections", "hub_enrol_code_days"};
  return kKeys;
}

Status Config::Set(std::string_view key, std::string_view value) {
  value = core::TrimSetting(value);
  if (http::ServerSettings::IsKey(key)) return http::ServerSettings::Set(key, value);
  if (key == "data") {
    data_dir = std::string(value);
  } else if (key == "hub_postgres") {
    hub_postgres = std::string(value);
  } else if (key == "hub_key_file") {
    hub_key_file = std::string(value);
  } else if (key == "hub_ent_key_file") {
    hub_ent_key_file = std::string(value);
  } else if (key == "hub_connections") {
    return core::ParseSettingNumber(key, value, &hub_connections, 1, 256);
  } else if (key == "hub_enrol_code_days") {
    int64_t days = 0;
    RELAIS_RETURN_IF_ERROR(core::ParseSettingNumber<int64_t>(key, value, &days, 1, 365));
    hub_enrol_code_ttl_s = days * 86400;
  } else if (std::find(std::begin(kBoxKeys), std::end(kBoxKeys), key) != std::end(kBoxKeys)) {
    return Status::InvalidArgument(std::string(key) +
                                   " is a setting of the box (relais), not of the gateway (relais-hub)");
  } else {
    return core::UnknownSetting(key);
  }
  return Status::Ok();
}

Status Config::LoadFile(const std::filesystem::path& path) {
  return core::LoadSettingsFile(path, [this](std::string_view k, std::string_view v) { return Set(k, v); });
}

Status Config::LoadEnvironment() {
  return http::LoadServerEnvironment(OwnKeys(), [this](std::string_view k, std::string_view v) { return Set(k, v); });
}

Status Config::Validate() const {
  if (data_dir.empty() && hub_postgres.empty()) return Status::InvalidArgument("--data DIR is required");
  return http::ServerSettings::Validate();
}

}  // namespace relais::hub

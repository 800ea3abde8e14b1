#include "box/config.h"

#include "core/config_file.h"

namespace relais::box {

using core::ParseSettingNumber;

const std::vector<std::string_view>& Config::OwnKeys() {
  static const std::vector<std::string_view> kKeys = {
      "db_readers",           "session_hours",    "password_ops",         "password_mem_kib",
      "password_concurrency", "https_listen",     "https_redirect",       "sync_interval_s",
      "sync_retry_min_s",     "sync_retry_max_s", "installation_address", "test_clock_offset_s"};
  return kKeys;
}

Status Config::Set(std::string_view key, std::string_view value) {
  value = core::TrimSetting(value);
  if (http::ServerSettings::IsKey(key)) return http::ServerSettings::Set(key, value);
  if (key == "data") {
    data_dir = std::string(value);
  } else if (key == "https_listen") {
    return core::ParseSettingAddress(key, value, &https_host, &https_port);
  } else if (key == "https_redirect") {
    return core::ParseSettingBool(key, value, &https_redirect);
  } else if (key == "installation_address") {
    installation_address = std::string(value);
  } else if (key == "db_readers") {
    return ParseSettingNumber(key, value, &db_readers, 1, 64);
  } else if (key == "session_hours") {
    int64_t h = 0;
    RELAIS_RETURN_IF_ERROR(ParseSettingNumber<int64_t>(key, value, &h, 1, 24 * 365));
    session_ttl_s = h * 3600;
  } else if (key == "password_ops") {
    return ParseSettingNumber<uint64_t>(key, value, &password_ops, 1, 10);
  } else if (key == "password_mem_kib") {
    return ParseSettingNumber<uint64_t>(key, value, &password_mem_kib, 8, 1 << 20);
  } else if (key == "password_concurrency") {
    return ParseSettingNumber(key, value, &password_concurrency, 0, 64);
  } else if (key == "sync_interval_s") {
    return ParseSettingNumber<int64_t>(key, value, &sync_interval_s, 0, 7 * 86400);
  } else if (key == "sync_retry_min_s") {
    return ParseSettingNumber<int64_t>(key, value, &sync_retry_min_s, 1, 86400);
  } else if (key == "sync_retry_max_s") {
    return ParseSettingNumber<int64_t>(key, value, &sync_retry_max_s, 1, 7 * 86400);
  } else if (key == "test_clock_offset_s") {
    return ParseSettingNumber<int64_t>(key, value, &test_clock_offset_s, -3650LL * 86400, 3650LL * 86400);
  } else if (key.substr(0, 4) == "hub_") {
    // The gateway's keys all begin with hub_ (hub/config.h).
    return Status::InvalidArgument(std::string(key) +
                                   " is a setting of the gateway (relais-hub), not of the box (relais)");
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
  if (data_dir.empty()) return Status::InvalidArgument("--data DIR is required");
  RELAIS_RETURN_IF_ERROR(http::ServerSettings::Validate());
  if (https_host.empty()) return Status::InvalidArgument("https_listen address is empty");
  if (!tls_cert.empty() && https_port != 0 && https_port == listen_port && https_host == listen_host)
    return Status::InvalidArgument("https_listen and listen are the same address");
  if (password_ops < 2 || password_mem_kib < 19 * 1024)
    return Status::InvalidArgument("Argon2id must be at least 19 MiB and 2 passes");
  if (sync_retry_max_s < sync_retry_min_s)
    return Status::InvalidArgument("sync_retry_max_s must be at least sync_retry_min_s");
  return Status::Ok();
}

}  // namespace relais::box

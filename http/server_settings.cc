#include "http/server_settings.h"

#include <algorithm>

namespace relais::http {

bool ServerSettings::IsKey(std::string_view key) {
  return key == "listen" || key == "tls_cert" || key == "tls_key" || key == "max_upload_mb" || key == "http_threads";
}

Status ServerSettings::Set(std::string_view key, std::string_view value) {
  value = core::TrimSetting(value);
  if (key == "listen") return core::ParseSettingAddress(key, value, &listen_host, &listen_port);
  if (key == "tls_cert") {
    tls_cert = std::string(value);
  } else if (key == "tls_key") {
    tls_key = std::string(value);
  } else if (key == "max_upload_mb") {
    uint64_t mb = 0;
    RELAIS_RETURN_IF_ERROR(core::ParseSettingNumber<uint64_t>(key, value, &mb, 1, 1u << 20));
    max_upload_bytes = mb << 20;
  } else if (key == "http_threads") {
    return core::ParseSettingNumber(key, value, &http_threads, 4, 4096);
  } else {
    return core::UnknownSetting(key);
  }
  return Status::Ok();
}

Status ServerSettings::Validate() const {
  if (listen_host.empty()) return Status::InvalidArgument("listen address is empty");
  if (tls_cert.empty() != tls_key.empty())
    return Status::InvalidArgument("tls_cert and tls_key go together: set both or neither");
  return Status::Ok();
}

Status LoadServerEnvironment(const std::vector<std::string_view>& own_keys, const core::SettingSetter& set) {
  return core::LoadSettingsEnvironment(
      [&own_keys](std::string_view key) {
        return ServerSettings::IsKey(key) || std::find(own_keys.begin(), own_keys.end(), key) != own_keys.end();
      },
      set);
}

}  // namespace relais::http

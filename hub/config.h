// hub/config.h — the gateway's settings (`relais-hub`), loaded once per command.
//
// Sources, later ones winning: the defaults below, the file named by --config
// (else DATA/relais.conf with --data), environment variables RELAIS_<KEY>
// (RELAIS_HUB_POSTGRES, RELAIS_LISTEN, …), then command-line flags (applied by
// the caller with Set()); core/config_file.h reads them. An unknown key is an
// error, and so is a box's key, named as such. docs/configuration.md lists every
// key. Validate() must pass before the Config is used; it is then passed by const&.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "http/server_settings.h"

namespace relais::hub {

// The transport's settings (listen, TLS, limits) are the base, as in box::Config.
struct Config : http::ServerSettings {
  std::filesystem::path data_dir = "./data";  // the SQLite store and default key file, without hub_postgres
  std::string hub_postgres;                   // libpq URL; put the password in ~/.pgpass, not here
  std::filesystem::path hub_key_file;         // the gateway's secret keys; DATA/hub-identity.key when empty
  std::filesystem::path hub_ent_key_file;     // the ENT's bearer API key (first line); no ENT API when empty
  int hub_connections = 8;                    // PostgreSQL connections per hub process
  int64_t hub_enrol_code_ttl_s = 7 * 86400;   // how long a one-time enrolment code stays valid (hub_enrol_code_days)

  // The gateway's own keys, beside the transport's (http::ServerSettings::IsKey).
  static const std::vector<std::string_view>& OwnKeys();
  // Sets `key` from text; InvalidArgument for an unknown key, a box's key
  // ("… is a setting of the box (relais), not of the gateway") or a bad value.
  [[nodiscard]] Status Set(std::string_view key, std::string_view value);
  [[nodiscard]] Status LoadFile(const std::filesystem::path& path);  // a missing file is fine
  [[nodiscard]] Status LoadEnvironment();                            // RELAIS_<KEY> for the keys above
  [[nodiscard]] Status Validate() const;
};

}  // namespace relais::hub

// box/config.h — the box's settings (`relais`), loaded once at start-up.
//
// Sources, later ones winning: the defaults below, the file DATA/relais.conf,
// environment variables RELAIS_<KEY>, then command-line flags (applied by the
// caller with Set()); core/config_file.h reads them. An unknown key is an error,
// and so is a gateway's key (hub_*), named as such. docs/configuration.md lists
// every key. Validate() must pass before the Config is used; it is then passed
// by const&.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "http/server_settings.h"

namespace relais::box {

// The transport's settings (listen, TLS, limits) are the base, as in hub::Config.
struct Config : http::ServerSettings {
  std::filesystem::path data_dir = "./data";
  int db_readers = 4;
  int64_t session_ttl_s = 12 * 3600;
  uint64_t password_ops = 2;
  uint64_t password_mem_kib = 19 * 1024;
  int password_concurrency = 0;         // 0: the number of cores
  int login_failures_per_account = 5;   // then a growing lock-out
  int login_failures_per_address = 30;  // per 15 minutes
  // HTTPS: tls_cert and tls_key (or DATA/tls/server.crt and server.key when
  // `relais tls init` made them) serve here; plain HTTP stays on `listen`.
  std::string https_host = "127.0.0.1";
  int https_port = 8443;
  bool https_redirect = false;  // send plain-HTTP app requests to HTTPS (probes and /ca.crt stay)
  // The SD image's installation page (GET /installation: Wi-Fi passphrase, setup code) answers only to
  // connections made to this local address, which the box's firewall opens to its Ethernet port alone.
  // Empty: no installation page.
  std::string installation_address;
  // The automatic sync from `relais serve` (box/auto_sync.h), once enrolled.
  int64_t sync_interval_s = 300;    // a round this often; 0: no automatic sync
  int64_t sync_retry_min_s = 30;    // after a failed round, wait this long, doubling…
  int64_t sync_retry_max_s = 3600;  // …up to this
  // Test-only: the box's commands run as if the wall clock were this many
  // seconds off (negative: behind), to test a Pi without a real-time clock.
  int64_t test_clock_offset_s = 0;

  // The box's own keys, beside the transport's (http::ServerSettings::IsKey).
  static const std::vector<std::string_view>& OwnKeys();
  // Sets `key` from text; InvalidArgument for an unknown key, a gateway's key
  // ("… is a setting of the gateway (relais-hub), not of the box") or a bad value.
  [[nodiscard]] Status Set(std::string_view key, std::string_view value);
  [[nodiscard]] Status LoadFile(const std::filesystem::path& path);  // a missing file is fine
  [[nodiscard]] Status LoadEnvironment();                            // RELAIS_<KEY> for the keys above
  [[nodiscard]] Status Validate() const;
};

}  // namespace relais::box

// core/config.h — the one configuration struct, loaded once at start-up.
//
// Sources, later ones winning: built-in defaults, the file DATA/relais.conf
// ("key = value" lines, '#' comments; an unknown key is an error),
// environment variables RELAIS_<KEY> (upper case; other RELAIS_* variables
// are ignored), then command-line flags (applied by the caller with Set()).
// Validate() must pass before the Config is used; it is then passed by const&.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace relais::core {

struct Config {
  std::filesystem::path data_dir = "./data";
  std::string listen_host = "127.0.0.1";
  int listen_port = 8080;
  uint64_t max_upload_bytes = 200ull << 20;  // per file
  uint64_t max_json_bytes = 1ull << 20;      // per JSON request body
  int http_threads = 256;                    // the most worker threads (slow transfers each hold one)
  int keep_alive_timeout_s = 30;
  int db_readers = 4;
  int64_t session_ttl_s = 12 * 3600;
  uint64_t password_ops = 2;
  uint64_t password_mem_kib = 19 * 1024;
  int password_concurrency = 0;         // 0: the number of cores
  int login_failures_per_account = 5;   // then a growing lock-out
  int login_failures_per_address = 30;  // per 15 minutes
  // HTTPS: both paths or neither (then DATA/tls/server.crt and server.key
  // when `relais tls init` made them). Plain HTTP stays on `listen`.
  std::filesystem::path tls_cert, tls_key;  // PEM files
  std::string https_host = "127.0.0.1";
  int https_port = 8443;
  bool https_redirect = false;  // send plain-HTTP app requests to HTTPS (probes and /ca.crt stay)
  // The SD image's installation page (GET /installation: Wi-Fi passphrase, setup code) answers only to
  // connections made to this local address, which the box's firewall opens to its Ethernet port alone.
  // Empty: no installation page.
  std::string installation_address;
  // The gateway (`relais-hub`). Without hub_postgres it stores in data_dir.
  std::string hub_postgres;                  // libpq URL; put the password in ~/.pgpass, not here
  std::filesystem::path hub_key_file;        // the gateway's secret keys; DATA/hub-identity.key when empty
  std::filesystem::path hub_ent_key_file;    // the ENT's bearer API key (first line); no ENT API when empty
  int hub_connections = 8;                   // PostgreSQL connections per hub process
  int64_t hub_enrol_code_ttl_s = 7 * 86400;  // how long a one-time enrolment code stays valid
  // The box's automatic sync from `relais serve` (box/auto_sync.h), once enrolled.
  int64_t sync_interval_s = 300;    // a round this often; 0: no automatic sync
  int64_t sync_retry_min_s = 30;    // after a failed round, wait this long, doubling…
  int64_t sync_retry_max_s = 3600;  // …up to this
  // Test-only: the box's commands run as if the wall clock were this many
  // seconds off (negative: behind), to test a Pi without a real-time clock.
  int64_t test_clock_offset_s = 0;

  // Sets `key` from text; InvalidArgument for an unknown key or a bad value.
  Status Set(std::string_view key, std::string_view value);
  Status LoadFile(const std::filesystem::path& path);  // a missing file is fine
  Status LoadEnvironment();
  Status Validate() const;
};

}  // namespace relais::core

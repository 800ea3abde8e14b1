// http/server_settings.h — the transport settings both servers have (`relais
// serve`, `relais-hub serve`): where to listen, TLS, the worker pool and the
// request size limits. box::Config and hub::Config are built on it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/config_file.h"
#include "core/status.h"

namespace relais::http {

struct ServerSettings {
  std::string listen_host = "127.0.0.1";  // key listen = ADDR:PORT
  int listen_port = 8080;
  // HTTPS with these PEM files: both or neither (keys tls_cert, tls_key).
  std::filesystem::path tls_cert, tls_key;
  uint64_t max_upload_bytes = 200ull << 20;  // per file (key max_upload_mb)
  uint64_t max_json_bytes = 1ull << 20;      // per JSON request body
  int http_threads = 256;                    // the most worker threads (slow transfers each hold one)
  int keep_alive_timeout_s = 30;

  // Whether `key` is one of these settings: listen, tls_cert, tls_key, max_upload_mb, http_threads.
  static bool IsKey(std::string_view key);
  // Sets `key` from text; InvalidArgument for a key IsKey refuses or a bad value.
  [[nodiscard]] Status Set(std::string_view key, std::string_view value);
  // A listen address, and tls_cert and tls_key together.
  [[nodiscard]] Status Validate() const;
};

// A program's environment: calls `set` for RELAIS_<KEY> of the transport's keys
// (ServerSettings::IsKey) and of `own_keys` (core::LoadSettingsEnvironment).
[[nodiscard]] Status LoadServerEnvironment(const std::vector<std::string_view>& own_keys,
                                           const core::SettingSetter& set);

}  // namespace relais::http

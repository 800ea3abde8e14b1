#include "core/config.h"

#include <cstdlib>
#include <fstream>
#include <thread>

extern char** environ;

namespace relais::core {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

template <typename T>
Status ParseNumber(std::string_view key, std::string_view value, T* out, T min, T max) {
  std::string v(value);
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || n < static_cast<long long>(min) || n > static_cast<long long>(max))
    return Status::InvalidArgument(std::string(key) + " must be a whole number from " + std::to_string(min) + " to " +
                                   std::to_string(max) + ", not '" + v + "'");
  *out = static_cast<T>(n);
  return Status::Ok();
}

// "ADDR:PORT", "[v6]:PORT".
Status ParseListen(std::string_view key, std::string_view value, std::string* host, int* port) {
  size_t colon = value.rfind(':');
  if (colon == std::string_view::npos) return Status::InvalidArgument(std::string(key) + " must be ADDR:PORT");
  *host = std::string(value.substr(0, colon));
  if (host->size() > 2 && host->front() == '[') *host = host->substr(1, host->size() - 2);
  return ParseNumber(key, value.substr(colon + 1), port, 0, 65535);
}

bool IsKnownKey(std::string_view key) {
  for (const char* k : {"listen",
                        "max_upload_mb",
                        "http_threads",
                        "db_readers",
                        "session_hours",
                        "password_ops",
                        "password_mem_kib",
                        "password_concurrency",
                        "tls_cert",
                        "tls_key",
                        "https_listen",
                        "https_redirect",
                        "hub_postgres",
                        "hub_key_file",
                        "hub_ent_key_file",
                        "hub_connections",
                        "hub_enrol_code_days",
                        "sync_interval_s",
                        "sync_retry_min_s",
                        "sync_retry_max_s",
                        "test_clock_offset_s",
                        "installation_address"})
    if (key == k) return true;
  return false;
}

}  // namespace

Status Config::Set(std::string_view key, std::string_view value) {
  value = Trim(value);
  if (key == "data") {
    data_dir = std::string(value);
  } else if (key == "listen") {
    return ParseListen(key, value, &listen_host, &listen_port);
  } else if (key == "https_listen") {
    return ParseListen(key, value, &https_host, &https_port);
  } else if (key == "tls_cert") {
    tls_cert = std::string(value);
  } else if (key == "tls_key") {
    tls_key = std::string(value);
  } else if (key == "https_redirect") {
    if (value == "true" || value == "yes" || value == "on" || value == "1") {
      https_redirect = true;
    } else if (value == "false" || value == "no" || value == "off" || value == "0") {
      https_redirect = false;
    } else {
      return Status::InvalidArgument("https_redirect must be true or false, not '" + std::string(value) + "'");
    }
  } else if (key == "installation_address") {
    installation_address = std::string(value);
  } else if (key == "max_upload_mb") {
    uint64_t mb = 0;
    RELAIS_RETURN_IF_ERROR(ParseNumber<uint64_t>(key, value, &mb, 1, 1u << 20));
    max_upload_bytes = mb << 20;
  } else if (key == "http_threads") {
    return ParseNumber(key, value, &http_threads, 4, 4096);
  } else if (key == "db_readers") {
    return ParseNumber(key, value, &db_readers, 1, 64);
  } else if (key == "session_hours") {
    int64_t h = 0;
    RELAIS_RETURN_IF_ERROR(ParseNumber<int64_t>(key, value, &h, 1, 24 * 365));
    session_ttl_s = h * 3600;
  } else if (key == "password_ops") {
    return ParseNumber<uint64_t>(key, value, &password_ops, 1, 10);
  } else if (key == "password_mem_kib") {
    return ParseNumber<uint64_t>(key, value, &password_mem_kib, 8, 1 << 20);
  } else if (key == "password_concurrency") {
    return ParseNumber(key, value, &password_concurrency, 0, 64);
  } else if (key == "hub_postgres") {
    hub_postgres = std::string(value);
  } else if (key == "hub_key_file") {
    hub_key_file = std::string(value);
  } else if (key == "hub_ent_key_file") {
    hub_ent_key_file = std::string(value);
  } else if (key == "hub_connections") {
    return ParseNumber(key, value, &hub_connections, 1, 256);
  } else if (key == "hub_enrol_code_days") {
    int64_t days = 0;
    RELAIS_RETURN_IF_ERROR(ParseNumber<int64_t>(key, value, &days, 1, 365));
    hub_enrol_code_ttl_s = days * 86400;
  } else if (key == "sync_interval_s") {
    return ParseNumber<int64_t>(key, value, &sync_interval_s, 0, 7 * 86400);
  } else if (key == "sync_retry_min_s") {
    return ParseNumber<int64_t>(key, value, &sync_retry_min_s, 1, 86400);
  } else if (key == "sync_retry_max_s") {
    return ParseNumber<int64_t>(key, value, &sync_retry_max_s, 1, 7 * 86400);
  } else if (key == "test_clock_offset_s") {
    return ParseNumber<int64_t>(key, value, &test_clock_offset_s, -3650LL * 86400, 3650LL * 86400);
  } else {
    return Status::InvalidArgument("unknown setting '" + std::string(key) + "'");
  }
  return Status::Ok();
}

Status Config::LoadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Status::Ok();
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string_view l = Trim(line);
    if (l.empty() || l.front() == '#') continue;
    size_t eq = l.find('=');
    if (eq == std::string_view::npos)
      return Status::InvalidArgument(path.string() + ":" + std::to_string(number) + ": expected key = value");
    Status st = Set(Trim(l.substr(0, eq)), l.substr(eq + 1));
    if (!st.ok()) return Status::InvalidArgument(path.string() + ":" + std::to_string(number) + ": " + st.message());
  }
  return Status::Ok();
}

Status Config::LoadEnvironment() {
  for (char** e = environ; *e; ++e) {
    std::string_view kv(*e);
    if (kv.substr(0, 7) != "RELAIS_") continue;
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key(kv.substr(7, eq - 7));
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (key == "data") continue;     // the data folder comes from --data
    if (!IsKnownKey(key)) continue;  // RELAIS_* may belong to other tools (tests, scripts)
    Status st = Set(key, kv.substr(eq + 1));
    if (!st.ok())
      return Status::InvalidArgument("environment RELAIS_" + std::string(kv.substr(7, eq - 7)) + ": " + st.message());
  }
  return Status::Ok();
}

Status Config::Validate() const {
  if (data_dir.empty()) return Status::InvalidArgument("--data DIR is required");
  if (listen_host.empty()) return Status::InvalidArgument("listen address is empty");
  if (tls_cert.empty() != tls_key.empty())
    return Status::InvalidArgument("tls_cert and tls_key go together: set both or neither");
  if (https_host.empty()) return Status::InvalidArgument("https_listen address is empty");
  if (!tls_cert.empty() && https_port != 0 && https_port == listen_port && https_host == listen_host)
    return Status::InvalidArgument("https_listen and listen are the same address");
  if (password_ops < 2 || password_mem_kib < 19 * 1024)
    return Status::InvalidArgument("Argon2id must be at least 19 MiB and 2 passes");
  if (sync_retry_max_s < sync_retry_min_s)
    return Status::InvalidArgument("sync_retry_max_s must be at least sync_retry_min_s");
  return Status::Ok();
}

}  // namespace relais::core

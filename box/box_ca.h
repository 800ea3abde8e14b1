// box/box_ca.h — the box's own certificate authority, so tablets can
// trust the box's HTTPS without the internet (`relais tls init`).
//
// Files, in DATA/tls/ (see docs/storage.md):
//   ca.key      the CA's private key (ECDSA P-256, PEM, mode 0600)
//   ca.crt      the CA certificate (PEM): what tablets install, served at /ca.crt
//   server.key  the server's private key (ECDSA P-256, PEM, mode 0600)
//   server.crt  the server certificate signed by the CA (PEM)
//
// The CA is name-constrained (RFC 5280 nameConstraints, critical) to the
// names and addresses it was made for: if the box is stolen and its CA key
// read, the key cannot forge certificates for other sites, in browsers that
// enforce the constraints. The CA lasts 10 years; server certificates 825
// days (the most iOS and macOS accept). Re-running keeps the CA (tablets keep
// trusting it) and issues a new server certificate, unless the new names
// fall outside the CA's constraints or a new CA is asked for.
//
// Thread-safety: none needed; called from the command line only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"

namespace relais::box {

struct BoxCertificateRequest {
  std::vector<std::string> dns_names;  // "ecole.lan", "ecole.local"; at least one
  std::vector<std::string> ips;        // "10.42.0.1"
  int64_t now = 0;                     // Unix seconds (the box's clock)
  bool new_ca = false;                 // replace an existing CA
};

struct BoxCertificates {
  std::filesystem::path ca_cert, ca_key, server_cert, server_key;
  bool ca_created = false;  // false when an existing CA signed the new server certificate
  std::string ca_sha256;    // fingerprint of the CA certificate, "AB:CD:…"
  int64_t server_not_after = 0;
};

// The folder the files live in: data_dir / "tls".
std::filesystem::path BoxTlsDir(const std::filesystem::path& data_dir);

// Creates (or renews) the box's CA and server certificate in
// BoxTlsDir(data_dir). InvalidArgument for a malformed name or address, no
// DNS name, a clock that is obviously wrong (before 2024), or names outside
// an existing CA's constraints (the message says to pass new_ca). Files are
// replaced atomically; keys are written 0600.
Result<BoxCertificates> InitBoxCertificates(const std::filesystem::path& data_dir,
                                            const BoxCertificateRequest& request);

}  // namespace relais::box

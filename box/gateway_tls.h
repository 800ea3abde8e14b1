// box/gateway_tls.h — how a box trusts the gateway's HTTPS.
//
// At enrolment over https:// the box pins the gateway's TLS key: the SHA-256
// of the SubjectPublicKeyInfo of the certificate the gateway presented (the
// key, not the certificate, so a renewed certificate with the same key still
// passes). With `--ca FILE` it trusts that CA instead (the file is copied to
// DATA/sync/gateway-ca.pem) and the usual chain and name checks apply. Later
// rounds refuse a gateway presenting another key. Plain http:// is allowed to
// a loopback host only (tests, a gateway on the same machine), unless the box
// enrolled with `--allow-http`.
//
// DATA/sync/gateway-tls holds the choice, one "key value" line each:
//   pin-sha256 <64 hex>     or     ca gateway-ca.pem
//   allow-http 1            (optional)
// docs/sync.md, "The gateway's HTTPS".
#pragma once

#include <httplib.h>
#include <openssl/x509.h>

#include <filesystem>
#include <memory>
#include <string>

#include "core/status.h"

namespace relais::box {

struct GatewayTrust {
  std::string pin_sha256;         // hex SPKI hash; empty: none
  std::filesystem::path ca_file;  // absolute; empty: none
  bool allow_plain_http = false;  // http:// to a host that is not loopback
};

// A missing file gives an empty GatewayTrust (a box enrolled before pinning
// existed: https is then refused until it enrols again). Corruption for a
// malformed file.
Result<GatewayTrust> LoadGatewayTrust(const std::filesystem::path& sync_dir);
// Writes DATA/sync/gateway-tls (atomically); copies `trust.ca_file` next to it.
Status SaveGatewayTrust(const std::filesystem::path& sync_dir, const GatewayTrust& trust);

// InvalidArgument unless `url` is https://, or http:// to 127.0.0.0/8, ::1 or
// localhost, or http:// with `allow_plain_http`.
Status CheckGatewayUrl(const std::string& url, bool allow_plain_http);

// Checks the certificate an https client is shown, per connection. Must
// outlive the client it is installed on. Not thread-safe (one client).
class TlsPinCheck {
 public:
  // `trust` as loaded; `first_use`: no pin and no CA yet (enrolment): any key
  // is accepted and remembered (seen()).
  TlsPinCheck(GatewayTrust trust, bool first_use) : trust_(std::move(trust)), first_use_(first_use) {}
  // Sets up `client` (made for an https:// URL); a no-op for http://.
  // InvalidArgument when https has neither pin nor CA
  // and this is not the first use.
  Status Install(httplib::Client& client);
  // The SPKI SHA-256 (hex) of the last certificate shown; "" if none.
  const std::string& seen() const { return seen_; }
  // True if a certificate was refused because its key is not the pinned one.
  bool mismatch() const { return mismatch_; }
  const GatewayTrust& trust() const { return trust_; }

 private:
  static int Verify(X509_STORE_CTX* ctx, void* self);
  GatewayTrust trust_;
  bool first_use_;
  std::string seen_;
  bool mismatch_ = false;
};

}  // namespace relais::box

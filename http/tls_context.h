// http/tls_context.h — the server side of HTTPS: one certificate and its
// key, checked at start-up, and the OpenSSL settings every connection uses.
//
// Settings: TLS 1.2 and 1.3 only; ECDHE key exchange with AES-GCM or
// ChaCha20-Poly1305 (ChaCha20 first where the CPU has no AES instructions,
// as on a Raspberry Pi 4); ALPN "http/1.1"; no renegotiation, no
// compression. The transport (EventServer) drives the connections in
// non-blocking mode.
//
// Thread-safety: a loaded TlsContext is immutable and may be shared by any
// number of threads; SSL objects made from it keep it alive (OpenSSL counts
// references), so a reload can replace it while old connections finish.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace relais::http {

// What a certificate says, as far as the box cares.
struct CertificateInfo {
  std::string subject;                 // "CN=ecole.lan"
  std::vector<std::string> dns_names;  // subjectAltName DNS entries, as written
  std::vector<std::string> ips;        // subjectAltName IP entries, in text form
  int64_t not_before = 0;              // Unix seconds
  int64_t not_after = 0;
  std::string sha256;  // fingerprint of the DER form, "AB:CD:…"

  // True when `host` (a DNS name or an IP address, without port) is one of
  // the names above; DNS comparison ignores case, "*.x" covers one label.
  bool Covers(std::string_view host) const;
};

// Reads the first certificate of a PEM file. InvalidArgument when the file
// is missing or holds no certificate.
Result<CertificateInfo> ReadCertificateInfo(const std::filesystem::path& pem);

class TlsContext {
 public:
  // Loads `cert` (PEM: the server certificate, then any intermediates) and
  // `key` (PEM private key). InvalidArgument, with a message naming the file
  // and what is wrong, when a file is missing or unreadable, is not PEM, the
  // key does not match the certificate, or the certificate has expired at
  // `now` (Unix seconds). A certificate not yet valid at `now` is accepted:
  // the box's clock may be behind after a power cut.
  static Result<std::shared_ptr<const TlsContext>> Load(const std::filesystem::path& cert,
                                                        const std::filesystem::path& key, int64_t now);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A new server-side connection object; the caller owns it (SSL_free).
  SSL* NewConnection() const;
  const CertificateInfo& certificate() const { return info_; }

 private:
  TlsContext() = default;
  SSL_CTX* ctx_ = nullptr;
  CertificateInfo info_;
};

// The last OpenSSL error of this thread as text ("" when none), and clears
// the queue.
std::string TakeOpenSslError();

}  // namespace relais::http

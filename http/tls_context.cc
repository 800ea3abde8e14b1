#include "http/tls_context.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#if defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "core/clock.h"

namespace relais::http {
namespace fs = std::filesystem;
namespace {

// TLS 1.2 suites (Mozilla "intermediate"); TLS 1.3 has its own list.
constexpr const char* kCiphersAesFirst =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kCiphersChachaFirst =
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";
constexpr const char* kSuitesAesFirst = "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384";
constexpr const char* kSuitesChachaFirst = "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384";

// A Raspberry Pi 4 (Cortex-A72 in the BCM2711) has no AES instructions:
// AES-GCM in software costs it several times ChaCha20-Poly1305.
bool CpuHasAes() {
#if defined(__aarch64__)
  return (getauxval(AT_HWCAP) & HWCAP_AES) != 0;
#else
  return true;  // x86-64 machines of the last decade have AES-NI
#endif
}

int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
               void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, kHttp11, sizeof kHttp11, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;  // the client offered no http/1.1: carry on without ALPN
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

int64_t ToUnix(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

std::string Fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) != 1) return "";
  std::string out;
  char hex[4];
  for (unsigned int i = 0; i < n; ++i) {
    std::snprintf(hex, sizeof hex, i + 1 < n ? "%02X:" : "%02X", md[i]);
    out += hex;
  }
  return out;
}

CertificateInfo Describe(X509* cert) {
  CertificateInfo info;
  char subject[512] = "";
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
  info.subject = subject;
  info.not_before = ToUnix(X509_get0_notBefore(cert));
  info.not_after = ToUnix(X509_get0_notAfter(cert));
  info.sha256 = Fingerprint(cert);
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)), ASN1_STRING_length(dns));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = "";
      int len = ASN1_STRING_length(ip);
      if (len == 4 || len == 16) inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(ip), text, sizeof text);
      if (text[0]) info.ips.emplace_back(text);
    }
  }
  GENERAL_NAMES_free(names);
  return info;
}

Status CheckReadable(const fs::path& path, const char* setting) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f)
    return Status::InvalidArgument(std::string(setting) + ": cannot read " + path.string() + ": " +
                                   std::strerror(errno));
  std::fclose(f);
  return Status::Ok();
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::string TakeOpenSslError() {
  unsigned long e = ERR_peek_last_error();
  std::string out;
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    const char* reason = ERR_reason_error_string(e);
    out = reason ? reason : buf;
  }
  ERR_clear_error();
  return out;
}

bool CertificateInfo::Covers(std::string_view host) const {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  for (const std::string& ip : ips)
    if (ip == host) return true;
  for (const std::string& dns : dns_names) {
    if (EqualsNoCase(dns, host)) return true;
    if (dns.size() > 2 && dns.compare(0, 2, "*.") == 0) {
      size_t dot = host.find('.');
      if (dot != std::string_view::npos && dot > 0 && EqualsNoCase(dns.substr(1), host.substr(dot))) return true;
    }
  }
  return false;
}

Result<CertificateInfo> ReadCertificateInfo(const fs::path& pem) {
  RELAIS_RETURN_IF_ERROR(CheckReadable(pem, "certificate"));
  BIO* bio = BIO_new_file(pem.c_str(), "r");
  X509* cert = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (!cert) {
    TakeOpenSslError();
    return Status::InvalidArgument(pem.string() + " holds no PEM certificate");
  }
  CertificateInfo info = Describe(cert);
  X509_free(cert);
  return info;
}

Result<std::shared_ptr<const TlsContext>> TlsContext::Load(const fs::path& cert, const fs::path& key, int64_t now) {
  RELAIS_RETURN_IF_ERROR(CheckReadable(cert, "tls_cert"));
  RELAIS_RETURN_IF_ERROR(CheckReadable(key, "tls_key"));
  ERR_clear_error();
  std::shared_ptr<TlsContext> out(new TlsContext());
  out->ctx_ = SSL_CTX_new(TLS_server_method());
  SSL_CTX* ctx = out->ctx_;
  if (!ctx) return Status::Internal("OpenSSL: " + TakeOpenSslError());
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1)
    return Status::InvalidArgument("tls_cert: " + cert.string() + " is not a PEM certificate (" + TakeOpenSslError() +
                                   ")");
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    std::string why = TakeOpenSslError();
    if (why.find("values mismatch") != std::string::npos || why.find("mismatch") != std::string::npos)
      return Status::InvalidArgument("tls_key: " + key.string() + " does not match the certificate " + cert.string());
    return Status::InvalidArgument("tls_key: " + key.string() + " is not a PEM private key (" + why + ")");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    TakeOpenSslError();
    return Status::InvalidArgument("tls_key: " + key.string() + " does not match the certificate " + cert.string());
  }
  X509* leaf = SSL_CTX_get0_certificate(ctx);
  out->info_ = Describe(leaf);
  if (out->info_.not_after != 0 && out->info_.not_after < now)
    return Status::InvalidArgument("tls_cert: " + cert.string() + " expired on " +
                                   core::FormatTime(out->info_.not_after) + " (the box's clock says " +
                                   core::FormatTime(now) + "); make a new one with `relais tls init`");

  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  bool aes = CpuHasAes();
  SSL_CTX_set_cipher_list(ctx, aes ? kCiphersAesFirst : kCiphersChachaFirst);
  SSL_CTX_set_ciphersuites(ctx, aes ? kSuitesAesFirst : kSuitesChachaFirst);
  // Our order wins, except that a client which puts ChaCha20 first (it has
  // no AES instructions either) gets ChaCha20.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA);
  // Non-blocking writes resume with what is left; idle keep-alive
  // connections give their buffers back.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, nullptr);
  static const unsigned char kSessionContext[] = "relais";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  return std::shared_ptr<const TlsContext>(std::move(out));
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

SSL* TlsContext::NewConnection() const { return SSL_new(ctx_); }

}  // namespace relais::http

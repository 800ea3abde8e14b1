#include "box/box_ca.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>

#include "core/clock.h"
#include "core/files.h"
#include "http/tls_context.h"

namespace relais::box {
namespace fs = std::filesystem;
namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kCaDays = 3650;
constexpr int64_t kServerDays = 825;           // iOS 13+ and macOS 10.15+ refuse longer
constexpr int64_t kEarliestSane = 1704067200;  // 2024-01-01: a clock before this is not set

struct Free {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

Status OpenSslFailure(const std::string& what) { return Status::Internal(what + ": " + http::TakeOpenSslError()); }

bool ValidDnsName(const std::string& name) {
  if (name.empty() || name.size() > 253 || name.front() == '.' || name.back() == '.' || name.front() == '-')
    return false;
  size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    if (++label > 63) return false;
  }
  return true;
}

bool IsIpv4(const std::string& ip) {
  unsigned char buf[16];
  return inet_pton(AF_INET, ip.c_str(), buf) == 1;
}
bool IsIpv6(const std::string& ip) {
  unsigned char buf[16];
  return inet_pton(AF_INET6, ip.c_str(), buf) == 1;
}

Result<Owned<EVP_PKEY>> NewKey() {
  Owned<EVP_PKEY> key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslFailure("cannot make a key");
  return key;
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Owned<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    return OpenSslFailure(std::string("cannot add ") + OBJ_nid2sn(nid) + " " + value);
  return Status::Ok();
}

// A certificate with a random serial, `subject_cn`, valid from a day
// before `now` (tablets' clocks drift) for `days`.
Result<Owned<X509>> NewCertificate(const std::string& subject_cn, int64_t now, int64_t days) {
  Owned<X509> cert(X509_new());
  unsigned char serial[16];
  if (!cert || RAND_bytes(serial, sizeof serial) != 1) return OpenSslFailure("cannot make a certificate");
  serial[0] &= 0x7F;  // a positive INTEGER
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr;
  BN_free(bn);
  time_t from = static_cast<time_t>(now);
  ok = ok && X509_set_version(cert.get(), 2) == 1 &&
       X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, -kDay, &from) != nullptr &&
       X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(days), 0, &from) != nullptr;
  X509_NAME* name = X509_get_subject_name(cert.get());
  ok = ok &&
       X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("Relais"), -1, -1,
                                  0) == 1 &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(subject_cn.c_str()),
                                  -1, -1, 0) == 1;
  if (!ok) return OpenSslFailure("cannot make a certificate");
  return cert;
}

Result<std::string> PemOf(X509* cert) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return OpenSslFailure("cannot write a certificate");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<std::string> PemOf(EVP_PKEY* key) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return OpenSslFailure("cannot write a key");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<Owned<X509>> ReadCert(const fs::path& path) {
  Owned<BIO> bio(BIO_new_file(path.c_str(), "r"));
  Owned<X509> cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) {
    http::TakeOpenSslError();
    return Status::InvalidArgument(path.string() + " holds no PEM certificate");
  }
  return cert;
}

Result<Owned<EVP_PKEY>> ReadKey(const fs::path& path) {
  Owned<BIO> bio(BIO_new_file(path.c_str(), "r"));
  Owned<EVP_PKEY> key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    http::TakeOpenSslError();
    return Status::InvalidArgument(path.string() + " holds no PEM private key");
  }
  return key;
}

// Checks `leaf` the way a tablet will: signed by `ca`, within its name
// constraints, valid at `now`. Returns the verifier's complaint.
Status Verify(X509* ca, X509* leaf, int64_t now) {
  Owned<X509_STORE> store(X509_STORE_new());
  Owned<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), leaf, nullptr) != 1)
    return OpenSslFailure("cannot check the certificate");
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(now));
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  if (X509_verify_cert(ctx.get()) == 1) return Status::Ok();
  int err = X509_STORE_CTX_get_error(ctx.get());
  http::TakeOpenSslError();
  if (err == X509_V_ERR_PERMITTED_VIOLATION || err == X509_V_ERR_EXCLUDED_VIOLATION)
    return Status::InvalidArgument(
        "these names are outside what the box's existing CA may certify; add --new-ca to make a new CA "
        "(every tablet must then install the new ca.crt)");
  return Status::InvalidArgument(std::string("the new certificate does not verify: ") +
                                 X509_verify_cert_error_string(err));
}

}  // namespace

fs::path BoxTlsDir(const fs::path& data_dir) { return data_dir / "tls"; }

Result<BoxCertificates> InitBoxCertificates(const fs::path& data_dir, const BoxCertificateRequest& request) {
  if (request.dns_names.empty())
    return Status::InvalidArgument("give at least one name for the box with --name (e.g. ecole.lan)");
  for (const std::string& name : request.dns_names)
    if (!ValidDnsName(name))
      return Status::InvalidArgument("'" + name + "' is not a host name (lower-case letters, digits, '-' and '.')");
  for (const std::string& ip : request.ips)
    if (!IsIpv4(ip) && !IsIpv6(ip)) return Status::InvalidArgument("'" + ip + "' is not an IP address");
  if (request.now < kEarliestSane)
    return Status::InvalidArgument(
        "the box's clock is not set (it says " + core::FormatTime(request.now) +
        "): certificates made now would look expired or not yet valid to tablets; set the time first");

  BoxCertificates out;
  fs::path dir = BoxTlsDir(data_dir);
  out.ca_cert = dir / "ca.crt";
  out.ca_key = dir / "ca.key";
  out.server_cert = dir / "server.crt";
  out.server_key = dir / "server.key";
  RELAIS_RETURN_IF_ERROR(core::MakeDirs(dir));

  // 1. The CA: the existing one, or a new one constrained to these names.
  Owned<X509> ca;
  Owned<EVP_PKEY> ca_key;
  std::error_code ec;
  bool have_ca = fs::exists(out.ca_cert, ec) && fs::exists(out.ca_key, ec);
  if (have_ca && !request.new_ca) {
    RELAIS_ASSIGN_OR_RETURN(ca, ReadCert(out.ca_cert));
    RELAIS_ASSIGN_OR_RETURN(ca_key, ReadKey(out.ca_key));
    if (X509_check_private_key(ca.get(), ca_key.get()) != 1) {
      http::TakeOpenSslError();
      return Status::InvalidArgument(out.ca_key.string() + " does not match " + out.ca_cert.string() +
                                     "; add --new-ca to start again");
    }
  } else {
    out.ca_created = true;
    RELAIS_ASSIGN_OR_RETURN(ca_key, NewKey());
    RELAIS_ASSIGN_OR_RETURN(ca, NewCertificate("Relais " + request.dns_names.front() + " CA", request.now, kCaDays));
    X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get()));
    X509_set_pubkey(ca.get(), ca_key.get());
    std::string constraints;
    for (const std::string& name : request.dns_names) constraints += ",permitted;DNS:" + name;
    for (const std::string& ip : request.ips)
      constraints += IsIpv4(ip) ? ",permitted;IP:" + ip + "/255.255.255.255"
                                : ",permitted;IP:" + ip + "/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    // No IP of the given family: none at all may be certified.
    if (std::none_of(request.ips.begin(), request.ips.end(), IsIpv4)) constraints += ",excluded;IP:0.0.0.0/0.0.0.0";
    if (std::none_of(request.ips.begin(), request.ips.end(), IsIpv6)) constraints += ",excluded;IP:::/::";
    RELAIS_RETURN_IF_ERROR(AddExtension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
    RELAIS_RETURN_IF_ERROR(AddExtension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
    RELAIS_RETURN_IF_ERROR(AddExtension(ca.get(), ca.get(), NID_subject_key_identifier, "hash"));
    RELAIS_RETURN_IF_ERROR(AddExtension(ca.get(), ca.get(), NID_name_constraints, "critical" + constraints));
    if (X509_sign(ca.get(), ca_key.get(), EVP_sha256()) == 0) return OpenSslFailure("cannot sign the CA");
  }

  // 2. The server certificate.
  RELAIS_ASSIGN_OR_RETURN(Owned<EVP_PKEY> key, NewKey());
  RELAIS_ASSIGN_OR_RETURN(Owned<X509> cert, NewCertificate(request.dns_names.front(), request.now, kServerDays));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get()));
  X509_set_pubkey(cert.get(), key.get());
  std::string san;
  for (const std::string& name : request.dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + name;
  for (const std::string& ip : request.ips) san += ",IP:" + ip;
  RELAIS_RETURN_IF_ERROR(AddExtension(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE"));
  RELAIS_RETURN_IF_ERROR(AddExtension(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature"));
  RELAIS_RETURN_IF_ERROR(AddExtension(cert.get(), ca.get(), NID_ext_key_usage, "serverAuth"));
  RELAIS_RETURN_IF_ERROR(AddExtension(cert.get(), ca.get(), NID_subject_alt_name, san));
  RELAIS_RETURN_IF_ERROR(AddExtension(cert.get(), ca.get(), NID_subject_key_identifier, "hash"));
  RELAIS_RETURN_IF_ERROR(AddExtension(cert.get(), ca.get(), NID_authority_key_identifier, "keyid:always"));
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) == 0) return OpenSslFailure("cannot sign the certificate");
  RELAIS_RETURN_IF_ERROR(Verify(ca.get(), cert.get(), request.now));

  // 3. The files: keys first, so a certificate never points at a missing key.
  if (out.ca_created) {
    RELAIS_ASSIGN_OR_RETURN(std::string ca_key_pem, PemOf(ca_key.get()));
    RELAIS_RETURN_IF_ERROR(core::WriteFileAtomic(out.ca_key, ca_key_pem, 0600));
    RELAIS_ASSIGN_OR_RETURN(std::string ca_pem, PemOf(ca.get()));
    RELAIS_RETURN_IF_ERROR(core::WriteFileAtomic(out.ca_cert, ca_pem, 0644));
  }
  RELAIS_ASSIGN_OR_RETURN(std::string key_pem, PemOf(key.get()));
  RELAIS_RETURN_IF_ERROR(core::WriteFileAtomic(out.server_key, key_pem, 0600));
  RELAIS_ASSIGN_OR_RETURN(std::string cert_pem, PemOf(cert.get()));
  RELAIS_RETURN_IF_ERROR(core::WriteFileAtomic(out.server_cert, cert_pem, 0644));

  RELAIS_ASSIGN_OR_RETURN(http::CertificateInfo ca_info, http::ReadCertificateInfo(out.ca_cert));
  out.ca_sha256 = ca_info.sha256;
  RELAIS_ASSIGN_OR_RETURN(http::CertificateInfo server_info, http::ReadCertificateInfo(out.server_cert));
  out.server_not_after = server_info.not_after;
  return out;
}

}  // namespace relais::box

// box/gateway_tls.cc — see gateway_tls.h.
#include "box/gateway_tls.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <sstream>

#include "core/crypto.h"
#include "core/files.h"

namespace relais::box {

namespace fs = std::filesystem;

namespace {

constexpr const char* kTrustFile = "gateway-tls";
constexpr const char* kCaFile = "gateway-ca.pem";

// "scheme://host[:port]/…" → scheme and host (without brackets or port).
bool SplitUrl(const std::string& url, std::string* scheme, std::string* host) {
  size_t colon = url.find("://");
  if (colon == std::string::npos) return false;
  *scheme = url.substr(0, colon);
  std::string rest = url.substr(colon + 3);
  rest = rest.substr(0, rest.find('/'));
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos) return false;
    *host = rest.substr(1, close - 1);
  } else {
    *host = rest.substr(0, rest.find(':'));
  }
  return !host->empty();
}

bool IsLoopback(const std::string& host) { return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0; }

}  // namespace

Result<GatewayTrust> LoadGatewayTrust(const fs::path& sync_dir) {
  GatewayTrust trust;
  std::error_code ec;
  if (!fs::exists(sync_dir / kTrustFile, ec)) return trust;
  RELAIS_ASSIGN_OR_RETURN(std::string text, core::ReadFile(sync_dir / kTrustFile));
  std::istringstream in(text);
  std::string key, value;
  while (in >> key >> value) {
    if (key == "pin-sha256" && value.size() == 64) {
      trust.pin_sha256 = value;
    } else if (key == "ca") {
      trust.ca_file = sync_dir / value;
    } else if (key == "allow-http") {
      trust.allow_plain_http = value == "1";
    } else {
      return Status::Corruption((sync_dir / kTrustFile).string() + " is malformed near '" + key + "'");
    }
  }
  return trust;
}

Status SaveGatewayTrust(const fs::path& sync_dir, const GatewayTrust& trust) {
  std::string text;
  if (!trust.pin_sha256.empty()) text += "pin-sha256 " + trust.pin_sha256 + "\n";
  if (!trust.ca_file.empty()) {
    if (trust.ca_file != sync_dir / kCaFile) {
      RELAIS_ASSIGN_OR_RETURN(std::string pem, core::ReadFile(trust.ca_file));
      RELAIS_RETURN_IF_ERROR(core::WriteFileAtomic(sync_dir / kCaFile, pem));
    }
    text += std::string("ca ") + kCaFile + "\n";
  }
  if (trust.allow_plain_http) text += "allow-http 1\n";
  return core::WriteFileAtomic(sync_dir / kTrustFile, text);
}

Status CheckGatewayUrl(const std::string& url, bool allow_plain_http) {
  std::string scheme, host;
  if (!SplitUrl(url, &scheme, &host) || (scheme != "http" && scheme != "https"))
    return Status::InvalidArgument("the gateway's address must be https://HOST[:PORT], not '" + url + "'");
  if (scheme == "http" && !IsLoopback(host) && !allow_plain_http)
    return Status::InvalidArgument("refusing plain http:// to " + host +
                                   ": the gateway must be reached over https:// (plain http only on this machine, "
                                   "or enrol with --allow-http on a network you trust)");
  return Status::Ok();
}

Status TlsPinCheck::Install(httplib::Client& client) {
  SSL_CTX* ctx = client.ssl_context();
  if (!ctx) return Status::Ok();  // http://
  if (!trust_.ca_file.empty()) {
    client.set_ca_cert_path(trust_.ca_file.string());
    client.enable_server_certificate_verification(true);
    return Status::Ok();
  }
  if (trust_.pin_sha256.empty() && !first_use_)
    return Status::InvalidArgument(
        "this box has pinned no certificate for the gateway's https: enrol it again over https (relais sync enrol)");
  client.enable_server_certificate_verification(true);  // the name check; the key check is Verify
  SSL_CTX_set_cert_verify_callback(ctx, &TlsPinCheck::Verify, this);
  return Status::Ok();
}

int TlsPinCheck::Verify(X509_STORE_CTX* ctx, void* arg) {
  auto* self = static_cast<TlsPinCheck*>(arg);
  X509* cert = X509_STORE_CTX_get0_cert(ctx);
  X509_PUBKEY* key = cert ? X509_get_X509_PUBKEY(cert) : nullptr;
  int len = key ? i2d_X509_PUBKEY(key, nullptr) : -1;
  if (len <= 0) {
    X509_STORE_CTX_set_error(ctx, X509_V_ERR_UNSPECIFIED);
    return 0;
  }
  std::string der(static_cast<size_t>(len), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509_PUBKEY(key, &out);
  self->seen_ = core::ToHex(core::Sha256(der));
  if (self->first_use_ && self->trust_.pin_sha256.empty()) return 1;
  if (!core::ConstantTimeEqual(self->seen_, self->trust_.pin_sha256)) {
    self->mismatch_ = true;
    X509_STORE_CTX_set_error(ctx, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  return 1;
}

}  // namespace relais::box

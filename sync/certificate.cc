#include "sync/certificate.h"

#include <algorithm>

#include "core/files.h"
#include "sync/byte_io.h"

namespace relais::sync {
namespace {

// Everything but the signature.
std::string CertificateBody(const Certificate& c) {
  std::string out;
  ByteWriter w(&out);
  w.Bytes(kCertificateMagic);
  w.U16(kCertificateVersion);
  w.U8(static_cast<uint8_t>(c.role));
  w.U8(static_cast<uint8_t>(c.scope.size()));
  w.Bytes(c.scope);
  w.U64(c.serial);
  w.Bytes(c.sign_key);
  w.Bytes(c.box_key);
  w.U32(c.box_epoch);
  w.I64(c.issued_at);
  w.I64(c.expires_at);
  w.Bytes(c.issuer);
  return out;
}

std::string RevocationBody(const RevocationList& l) {
  std::string out;
  ByteWriter w(&out);
  w.Bytes(kRevocationMagic);
  w.U16(kRevocationVersion);
  w.Bytes(l.issuer);
  w.U64(l.version);
  w.I64(l.issued_at);
  w.U32(static_cast<uint32_t>(l.entries.size()));
  for (const Revocation& r : l.entries) {
    w.Bytes(r.key_id);
    w.I64(r.revoked_at);
  }
  return out;
}

}  // namespace

SubjectKeys PublicKeysOf(const Identity& identity) {
  return SubjectKeys{identity.sign_public_key(), identity.current_box_key().keys.public_key,
                     identity.current_box_key().epoch};
}

Result<Certificate> IssueCertificate(const Identity& issuer, Role role, std::string scope, uint64_t serial,
                                     const SubjectKeys& subject, int64_t issued_at, int64_t expires_at) {
  Certificate c;
  c.role = role;
  c.scope = std::move(scope);
  c.serial = serial;
  c.sign_key = subject.sign_key;
  c.box_key = subject.box_key;
  c.box_epoch = subject.box_epoch;
  c.issued_at = issued_at;
  c.expires_at = expires_at;
  RELAIS_RETURN_IF_ERROR(SignCertificate(issuer, &c));
  return c;
}

Result<Certificate> MakeGatewayCertificate(const Identity& gateway, std::string name, uint64_t serial, int64_t now,
                                           int64_t expires_at) {
  return IssueCertificate(gateway, Role::kGateway, std::move(name), serial, PublicKeysOf(gateway), now, expires_at);
}

Status SignCertificate(const Identity& issuer, Certificate* cert) {
  if (cert->scope.empty() || cert->scope.size() > kMaxScopeBytes)
    return Status::InvalidArgument("a certificate's scope must be 1 to 64 bytes");
  cert->issuer = issuer.sign_key_id();
  cert->signature = issuer.Sign(CertificateBody(*cert));
  return Status::Ok();
}

std::string EncodeCertificate(const Certificate& cert) {
  std::string out = CertificateBody(cert);
  out.append(core::AsView(cert.signature));
  return out;
}

Result<Certificate> DecodeCertificate(std::string_view bytes) {
  ByteReader r(bytes);
  if (r.Bytes(kCertificateMagic.size()) != kCertificateMagic) return Status::Corruption("not a Relais certificate");
  uint16_t version = r.U16();
  if (!r.ok()) return Status::Corruption("certificate truncated");
  if (version != kCertificateVersion)
    return Status::InvalidArgument("certificate version " + std::to_string(version) + " is not supported");
  Certificate c;
  uint8_t role = r.U8();
  if (role != static_cast<uint8_t>(Role::kBox) && role != static_cast<uint8_t>(Role::kGateway))
    return Status::Corruption("certificate has an unknown role");
  c.role = static_cast<Role>(role);
  uint8_t scope_len = r.U8();
  if (scope_len == 0 || scope_len > kMaxScopeBytes) return Status::Corruption("certificate scope length");
  c.scope = std::string(r.Bytes(scope_len));
  c.serial = r.U64();
  c.sign_key = r.Array<core::kSignPublicKeyBytes>();
  c.box_key = r.Array<core::kBoxPublicKeyBytes>();
  c.box_epoch = r.U32();
  c.issued_at = r.I64();
  c.expires_at = r.I64();
  c.issuer = r.Array<kKeyIdBytes>();
  c.signature = r.Array<core::kSignatureBytes>();
  if (!r.done()) return Status::Corruption("certificate has the wrong length");
  return c;
}

bool RevocationList::Contains(const KeyId& key_id) const {
  return std::any_of(entries.begin(), entries.end(), [&](const Revocation& r) { return r.key_id == key_id; });
}

void SignRevocationList(const Identity& issuer, RevocationList* list) {
  list->issuer = issuer.sign_key_id();
  list->signature = issuer.Sign(RevocationBody(*list));
}

std::string EncodeRevocationList(const RevocationList& list) {
  std::string out = RevocationBody(list);
  out.append(core::AsView(list.signature));
  return out;
}

Result<RevocationList> DecodeRevocationList(std::string_view bytes) {
  ByteReader r(bytes);
  if (r.Bytes(kRevocationMagic.size()) != kRevocationMagic) return Status::Corruption("not a Relais revocation list");
  uint16_t version = r.U16();
  if (!r.ok()) return Status::Corruption("revocation list truncated");
  if (version != kRevocationVersion)
    return Status::InvalidArgument("revocation list version " + std::to_string(version) + " is not supported");
  RevocationList l;
  l.issuer = r.Array<kKeyIdBytes>();
  l.version = r.U64();
  l.issued_at = r.I64();
  uint32_t count = r.U32();
  if (!r.ok() || count > kMaxRevocations || r.remaining() < uint64_t{count} * (kKeyIdBytes + 8))
    return Status::Corruption("revocation list truncated");
  l.entries.resize(count);
  for (Revocation& e : l.entries) {
    e.key_id = r.Array<kKeyIdBytes>();
    e.revoked_at = r.I64();
  }
  l.signature = r.Array<core::kSignatureBytes>();
  if (!r.done()) return Status::Corruption("revocation list has the wrong length");
  return l;
}

void TrustStore::Pin(const core::SignPublicKey& gateway_key) {
  if (!FindPinned(KeyIdOf(gateway_key))) pinned_.push_back(gateway_key);
}

const core::SignPublicKey* TrustStore::FindPinned(const KeyId& id) const {
  for (const auto& k : pinned_)
    if (KeyIdOf(k) == id) return &k;
  return nullptr;
}

Result<bool> TrustStore::UpdateRevocations(const RevocationList& list) {
  const core::SignPublicKey* issuer = FindPinned(list.issuer);
  if (!issuer || !core::VerifySignature(*issuer, RevocationBody(list), list.signature))
    return Status::PermissionDenied("revocation list not signed by a pinned gateway key");
  if (revocations_ && list.version <= revocations_->version) return false;
  revocations_ = list;
  return true;
}

Result<bool> TrustStore::AdoptGatewayCertificate(const Certificate& cert) {
  const core::SignPublicKey* issuer = FindPinned(cert.issuer);
  if (cert.role != Role::kGateway || !issuer || cert.sign_key_id() != cert.issuer ||
      !core::VerifySignature(*issuer, CertificateBody(cert), cert.signature))
    return Status::PermissionDenied("not a pinned gateway's own certificate");
  if (gateway_cert_ && gateway_cert_->issuer == cert.issuer && cert.box_epoch <= gateway_cert_->box_epoch) return false;
  gateway_cert_ = cert;
  return true;
}

bool TrustStore::IsRevoked(const KeyId& sign_key_id) const {
  return revocations_ && revocations_->Contains(sign_key_id);
}

Status TrustStore::CheckCertificate(const Certificate& cert, std::string_view scope, int64_t now) const {
  const core::SignPublicKey* issuer = FindPinned(cert.issuer);
  if (!issuer) return Status::PermissionDenied("certificate issued by an unknown gateway key");
  if (!core::VerifySignature(*issuer, CertificateBody(cert), cert.signature))
    return Status::PermissionDenied("certificate signature does not verify");
  if (cert.scope != scope) return Status::PermissionDenied("certificate is for another school");
  if (cert.expires_at <= now) return Status::PermissionDenied("certificate expired");
  if (IsRevoked(cert.sign_key_id())) return Status::PermissionDenied("signing key revoked");
  return Status::Ok();
}

// File: magic "RLS-TRST", version u16, count u16, count × Ed25519 public key,
// gateway certificate length u16 (0 if none), the certificate,
// revocation list length u32 (0 if none), the list, SHA-256 of all before.
Status TrustStore::Save(const std::filesystem::path& file) const {
  std::string data;
  ByteWriter w(&data);
  w.Bytes(kTrustMagic);
  w.U16(kTrustVersion);
  w.U16(static_cast<uint16_t>(pinned_.size()));
  for (const auto& k : pinned_) w.Bytes(k);
  std::string cert = gateway_cert_ ? EncodeCertificate(*gateway_cert_) : std::string();
  w.U16(static_cast<uint16_t>(cert.size()));
  w.Bytes(cert);
  std::string rev = revocations_ ? EncodeRevocationList(*revocations_) : std::string();
  w.U32(static_cast<uint32_t>(rev.size()));
  w.Bytes(rev);
  w.Bytes(core::Sha256(data));
  return core::WriteFileAtomic(file, data, 0644);
}

Result<TrustStore> TrustStore::Load(const std::filesystem::path& file) {
  RELAIS_ASSIGN_OR_RETURN(std::string data, core::ReadFile(file));
  const std::string bad = "trust file " + file.string() + " is damaged";
  if (data.size() < core::kSha256Bytes) return Status::Corruption(bad);
  std::string_view body(data.data(), data.size() - core::kSha256Bytes);
  if (core::Sha256(body) != std::string_view(data).substr(body.size())) return Status::Corruption(bad);
  ByteReader r(body);
  if (r.Bytes(kTrustMagic.size()) != kTrustMagic || r.U16() != kTrustVersion) return Status::Corruption(bad);
  TrustStore t;
  uint16_t count = r.U16();
  for (uint16_t i = 0; i < count && r.ok(); ++i) t.pinned_.push_back(r.Array<core::kSignPublicKeyBytes>());
  uint16_t cert_len = r.U16();
  std::string_view cert = r.Bytes(cert_len);
  uint32_t rev_len = r.U32();
  std::string_view rev = r.Bytes(rev_len);
  if (!r.done()) return Status::Corruption(bad);
  if (cert_len > 0) {
    RELAIS_ASSIGN_OR_RETURN(Certificate c, DecodeCertificate(cert));
    t.gateway_cert_ = std::move(c);
  }
  if (rev_len > 0) {
    RELAIS_ASSIGN_OR_RETURN(RevocationList list, DecodeRevocationList(rev));
    t.revocations_ = std::move(list);
  }
  return t;
}

}  // namespace relais::sync

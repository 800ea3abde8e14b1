// sync/certificate.h — who may sign bundles for which school.
//
// A certificate is the gateway's signed statement "this box's signing key and
// encryption key (epoch N) belong to school S, from T1 until T2" with a serial
// number. A revocation list is the gateway's signed, versioned list of
// revoked signing keys; a newer version replaces an older one, never the
// reverse. A TrustStore holds what a party trusts: the gateway keys it pinned
// at enrolment, and the newest revocation list it has seen.
// Layouts: docs/sync-format.md. Constants: sync/format.h.
// TrustStore is not thread-safe; guard it if shared.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/crypto.h"
#include "core/status.h"
#include "sync/format.h"
#include "sync/identity.h"

namespace relais::sync {

struct Certificate {
  Role role = Role::kBox;
  std::string scope;  // the school, 1..kMaxScopeBytes bytes
  uint64_t serial = 0;
  core::SignPublicKey sign_key{};
  core::BoxPublicKey box_key{};
  uint32_t box_epoch = 0;
  int64_t issued_at = 0;
  int64_t expires_at = 0;
  KeyId issuer{};  // key id of the gateway's signing key
  core::Signature signature{};

  KeyId sign_key_id() const { return KeyIdOf(sign_key); }
  KeyId box_key_id() const { return KeyIdOf(box_key); }
};

// The public keys a certificate binds.
struct SubjectKeys {
  core::SignPublicKey sign_key{};
  core::BoxPublicKey box_key{};
  uint32_t box_epoch = 0;
};
// An identity's signing key and current encryption key.
SubjectKeys PublicKeysOf(const Identity& identity);

// A certificate signed by `issuer` binding `subject` to `scope` from
// `issued_at` until `expires_at`. InvalidArgument on a bad scope.
Result<Certificate> IssueCertificate(const Identity& issuer, Role role, std::string scope, uint64_t serial,
                                     const SubjectKeys& subject, int64_t issued_at, int64_t expires_at);

// The gateway's certificate of itself (role kGateway, issuer = subject): how
// boxes learn the gateway's current encryption key, signed by the key they pinned.
Result<Certificate> MakeGatewayCertificate(const Identity& gateway, std::string name, uint64_t serial, int64_t now,
                                           int64_t expires_at);

// Fills in cert.issuer and cert.signature with `issuer`'s key.
// InvalidArgument if the scope is empty or too long.
Status SignCertificate(const Identity& issuer, Certificate* cert);
std::string EncodeCertificate(const Certificate& cert);
// Corruption on anything malformed; InvalidArgument on an unknown version.
// Does not check the signature (TrustStore::CheckCertificate does).
Result<Certificate> DecodeCertificate(std::string_view bytes);

struct Revocation {
  KeyId key_id{};  // a revoked signing key
  int64_t revoked_at = 0;
};

struct RevocationList {
  KeyId issuer{};
  uint64_t version = 0;  // strictly increasing per issuer
  int64_t issued_at = 0;
  std::vector<Revocation> entries;
  core::Signature signature{};

  bool Contains(const KeyId& key_id) const;
};

void SignRevocationList(const Identity& issuer, RevocationList* list);
std::string EncodeRevocationList(const RevocationList& list);
Result<RevocationList> DecodeRevocationList(std::string_view bytes);

class TrustStore {
 public:
  // Trusts `gateway_key` as an issuer of certificates and revocation lists,
  // and as a direct signer of bundles for every school.
  void Pin(const core::SignPublicKey& gateway_key);
  // The pinned key with this id, or nullptr.
  const core::SignPublicKey* FindPinned(const KeyId& id) const;

  // Adopts `list` if a pinned key signed it and it is newer than the current
  // one. Returns true when adopted, false when it was not newer (harmless: a
  // late USB stick). PermissionDenied if no pinned key signed it.
  Result<bool> UpdateRevocations(const RevocationList& list);
  bool IsRevoked(const KeyId& sign_key_id) const;
  uint64_t revocation_version() const { return revocations_ ? revocations_->version : 0; }
  const std::optional<RevocationList>& revocations() const { return revocations_; }

  // OK when `cert` was signed by a pinned key, covers `scope`, has not expired
  // at `now`, and its signing key is not revoked. PermissionDenied otherwise,
  // naming the reason. (No not-before check: a box's clock may run days late.)
  Status CheckCertificate(const Certificate& cert, std::string_view scope, int64_t now) const;

  // Adopts a gateway's certificate of itself (MakeGatewayCertificate) if it
  // is signed by the pinned key it names and announces a newer encryption key
  // epoch than the one held: the key boxes seal their bundles to. Returns
  // true when adopted. PermissionDenied if not a pinned gateway's own certificate.
  Result<bool> AdoptGatewayCertificate(const Certificate& cert);
  // The newest adopted gateway certificate, or nullptr.
  const Certificate* gateway_certificate() const { return gateway_cert_ ? &*gateway_cert_ : nullptr; }

  // Durable copy (pinned keys, gateway certificate, revocation list), written atomically.
  Status Save(const std::filesystem::path& file) const;
  static Result<TrustStore> Load(const std::filesystem::path& file);

 private:
  std::vector<core::SignPublicKey> pinned_;
  std::optional<RevocationList> revocations_;
  std::optional<Certificate> gateway_cert_;
};

}  // namespace relais::sync

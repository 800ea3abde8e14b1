// sync/identity.h — a party's own keys: a box or a gateway.
//
// An identity is one Ed25519 signing key (who we are; never rotates) and one
// or more X25519 encryption keys, one per key epoch: the newest encrypts
// nothing (others encrypt to us) but is the one we advertise; older ones are
// kept so that bundles sealed to them while in transit still open after a
// rotation. Keys are generated on the device and stored only in the
// identity file (mode 0600, written atomically); they never leave it.
// Not thread-safe: one owner mutates it (rotation), readers copy what they need.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "core/crypto.h"
#include "core/status.h"
#include "sync/format.h"

namespace relais::sync {

// The id of a signing or an encryption public key (both are 32 bytes).
KeyId KeyIdOf(const std::array<uint8_t, 32>& public_key);
std::string KeyIdHex(const KeyId& id);

struct BoxKey {
  uint32_t epoch = 0;
  KeyId id{};
  core::BoxKeyPair keys;
};

// The gateway's journal origin, derived from its signing key: every party
// computes the same one from the key it pinned.
std::string GatewayOrigin(const core::SignPublicKey& gateway_key);

class Identity {
 public:
  // A fresh identity with box key epoch 1, not yet saved.
  static std::unique_ptr<Identity> Generate();
  // Reads an identity file. NotFound if it does not exist; Corruption if it
  // is damaged; PermissionDenied if others than the owner can read it.
  static Result<std::unique_ptr<Identity>> Load(const std::filesystem::path& file);
  // Loads `file`, or generates an identity and saves it there if the file does not exist.
  static Result<std::unique_ptr<Identity>> LoadOrCreate(const std::filesystem::path& file);
  // Atomically writes the identity to `file` with mode 0600.
  Status Save(const std::filesystem::path& file) const;

  const core::SignPublicKey& sign_public_key() const { return sign_.public_key; }
  const KeyId& sign_key_id() const { return sign_id_; }
  core::Signature Sign(std::string_view message) const { return core::Sign(sign_.secret_key, message); }

  // The newest encryption key; what a certificate advertises.
  const BoxKey& current_box_key() const { return box_keys_.back(); }
  // The encryption key with this id, or nullptr.
  const BoxKey* FindBoxKey(const KeyId& id) const;
  // Adds a new encryption key with the next epoch and returns it. The old keys
  // stay (up to kMaxBoxKeys, oldest dropped first). Save() afterwards.
  const BoxKey& RotateBoxKey();
  // Forgets encryption keys older than `epoch` (bundles sealed to them no
  // longer open). The current key is always kept.
  void ForgetBoxKeysBefore(uint32_t epoch);
  size_t box_key_count() const { return box_keys_.size(); }
  // Every encryption key held, oldest first.
  const std::vector<BoxKey>& box_keys() const { return box_keys_; }

 private:
  Identity() = default;
  core::SignKeyPair sign_;
  KeyId sign_id_{};
  std::vector<BoxKey> box_keys_;  // ascending epoch, never empty
};

}  // namespace relais::sync

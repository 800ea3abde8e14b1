#include "sync/identity.h"

#include <sys/stat.h>

#include <cerrno>

#include "core/files.h"
#include "sync/byte_io.h"

namespace relais::sync {
namespace {

BoxKey MakeBoxKey(uint32_t epoch, core::BoxKeyPair keys) {
  BoxKey k;
  k.epoch = epoch;
  k.id = KeyIdOf(keys.public_key);
  k.keys = std::move(keys);
  return k;
}

}  // namespace

KeyId KeyIdOf(const std::array<uint8_t, 32>& public_key) {
  std::string h = core::Sha256(core::AsView(public_key));
  KeyId id;
  for (size_t i = 0; i < kKeyIdBytes; ++i) id[i] = static_cast<uint8_t>(h[i]);
  return id;
}
std::string KeyIdHex(const KeyId& id) { return core::ToHex(core::AsView(id)); }

std::unique_ptr<Identity> Identity::Generate() {
  std::unique_ptr<Identity> id(new Identity);
  id->sign_ = core::NewSignKeyPair();
  id->sign_id_ = KeyIdOf(id->sign_.public_key);
  id->box_keys_.push_back(MakeBoxKey(1, core::NewBoxKeyPair()));
  return id;
}

// File layout (docs/sync-format.md, "Identity file"):
//   magic, version u16, Ed25519 secret key (64), count u16,
//   count × (epoch u32, X25519 public key, X25519 secret key), SHA-256 of all before.
Status Identity::Save(const std::filesystem::path& file) const {
  std::string data;
  ByteWriter w(&data);
  w.Bytes(kIdentityMagic);
  w.U16(kIdentityVersion);
  w.Bytes(sign_.secret_key.view());
  w.U16(static_cast<uint16_t>(box_keys_.size()));
  for (const BoxKey& k : box_keys_) {
    w.U32(k.epoch);
    w.Bytes(k.keys.public_key);
    w.Bytes(k.keys.secret_key.view());
  }
  w.Bytes(core::Sha256(data));
  Status st = core::WriteFileAtomic(file, data, 0600);
  core::SecureWipe(data);
  return st;
}

Result<std::unique_ptr<Identity>> Identity::Load(const std::filesystem::path& file) {
  struct stat sb;
  if (::stat(file.c_str(), &sb) != 0) {
    if (errno == ENOENT) return Status::NotFound("no identity file at " + file.string());
    return Status::IOError("stat " + file.string());
  }
  if ((sb.st_mode & 077) != 0)
    return Status::PermissionDenied("identity file " + file.string() + " is readable by others (chmod 600 it)");
  RELAIS_ASSIGN_OR_RETURN(std::string data, core::ReadFile(file));
  struct Wipe {
    std::string& s;
    ~Wipe() { core::SecureWipe(s); }
  } wipe{data};

  const std::string bad = "identity file " + file.string() + " is damaged";
  if (data.size() < core::kSha256Bytes) return Status::Corruption(bad);
  std::string_view body(data.data(), data.size() - core::kSha256Bytes);
  if (!core::ConstantTimeEqual(core::Sha256(body), std::string_view(data).substr(body.size())))
    return Status::Corruption(bad + " (checksum)");
  ByteReader r(body);
  if (r.Bytes(kIdentityMagic.size()) != kIdentityMagic) return Status::Corruption(bad + " (not an identity file)");
  uint16_t version = r.U16();
  if (version != kIdentityVersion)
    return Status::InvalidArgument("identity file version " + std::to_string(version) + " is not supported");
  std::unique_ptr<Identity> id(new Identity);
  if (!core::CopyTo(r.Bytes(core::kSignSecretKeyBytes), &id->sign_.secret_key)) return Status::Corruption(bad);
  // The Ed25519 secret key is seed ‖ public key.
  core::CopyTo(id->sign_.secret_key.view().substr(32), &id->sign_.public_key);
  id->sign_id_ = KeyIdOf(id->sign_.public_key);
  uint16_t count = r.U16();
  if (count == 0 || count > kMaxBoxKeys) return Status::Corruption(bad + " (key count)");
  for (uint16_t i = 0; i < count && r.ok(); ++i) {
    core::BoxKeyPair kp;
    uint32_t epoch = r.U32();
    core::CopyTo(r.Bytes(core::kBoxPublicKeyBytes), &kp.public_key);
    core::CopyTo(r.Bytes(core::kBoxSecretKeyBytes), &kp.secret_key);
    if (!id->box_keys_.empty() && epoch <= id->box_keys_.back().epoch) return Status::Corruption(bad + " (epochs)");
    id->box_keys_.push_back(MakeBoxKey(epoch, std::move(kp)));
  }
  if (!r.done()) return Status::Corruption(bad + " (length)");
  // A signature round trip proves the secret key matches its public half.
  if (!core::VerifySignature(id->sign_.public_key, "check", id->Sign("check")))
    return Status::Corruption(bad + " (keys do not match)");
  return id;
}

Result<std::unique_ptr<Identity>> Identity::LoadOrCreate(const std::filesystem::path& file) {
  auto loaded = Load(file);
  if (loaded.ok() || loaded.status().code() != StatusCode::kNotFound) return loaded;
  auto id = Generate();
  RELAIS_RETURN_IF_ERROR(id->Save(file));
  return id;
}

const BoxKey* Identity::FindBoxKey(const KeyId& id) const {
  for (const BoxKey& k : box_keys_)
    if (k.id == id) return &k;
  return nullptr;
}

const BoxKey& Identity::RotateBoxKey() {
  uint32_t next = box_keys_.back().epoch + 1;
  box_keys_.push_back(MakeBoxKey(next, core::NewBoxKeyPair()));
  if (box_keys_.size() > kMaxBoxKeys) box_keys_.erase(box_keys_.begin());
  return box_keys_.back();
}

void Identity::ForgetBoxKeysBefore(uint32_t epoch) {
  uint32_t newest = box_keys_.back().epoch;
  std::erase_if(box_keys_, [&](const BoxKey& k) { return k.epoch < epoch && k.epoch != newest; });
}

std::string GatewayOrigin(const core::SignPublicKey& gateway_key) {
  return core::DerivedUuid("gateway-origin", {KeyIdHex(KeyIdOf(gateway_key))});
}

}  // namespace relais::sync

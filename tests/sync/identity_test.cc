#include "sync/identity.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>

#include "core/files.h"
#include "sync/certificate.h"
#include "tests/support/parties.h"
#include "tests/support/temp_dir.h"

using namespace relais;
using namespace relais::sync;
namespace fs = std::filesystem;

using relais::testing::TempDir;

TEST_CASE("an identity is created once, kept in a file only its owner can read, and loads back the same") {
  TempDir dir;
  fs::path file = dir.path / "identity.key";
  auto created = Identity::LoadOrCreate(file);
  REQUIRE(created.ok());
  struct stat sb;
  REQUIRE(::stat(file.c_str(), &sb) == 0);
  CHECK((sb.st_mode & 0777) == 0600);

  core::BoxPublicKey old_box_key = (*created)->current_box_key().keys.public_key;
  (*created)->RotateBoxKey();
  REQUIRE((*created)->Save(file).ok());
  auto loaded = Identity::LoadOrCreate(file);
  REQUIRE(loaded.ok());
  CHECK((*loaded)->sign_key_id() == (*created)->sign_key_id());
  CHECK((*loaded)->box_key_count() == 2);
  CHECK((*loaded)->current_box_key().epoch == 2);
  CHECK((*loaded)->current_box_key().keys.public_key == (*created)->current_box_key().keys.public_key);
  core::Signature sig = (*loaded)->Sign("hello");
  CHECK(core::VerifySignature((*created)->sign_public_key(), "hello", sig));
  // Sealed to the epoch-1 key, opened by the reloaded identity.
  std::string sealed = core::SealTo(old_box_key, "k");
  const BoxKey* old = (*loaded)->FindBoxKey(KeyIdOf(old_box_key));
  REQUIRE(old != nullptr);
  CHECK(old->epoch == 1);
  CHECK(core::OpenSealed(old->keys, sealed).ok());
}

TEST_CASE("an identity file readable by others, damaged or missing is refused") {
  TempDir dir;
  fs::path file = dir.path / "identity.key";
  CHECK(Identity::Load(file).status().code() == StatusCode::kNotFound);
  REQUIRE(Identity::Generate()->Save(file).ok());
  REQUIRE(Identity::Load(file).ok());

  fs::permissions(file, fs::perms::group_read, fs::perm_options::add);
  CHECK(Identity::Load(file).status().code() == StatusCode::kPermissionDenied);
  fs::permissions(file, fs::perms::group_read, fs::perm_options::remove);

  auto data = core::ReadFile(file);
  REQUIRE(data.ok());
  for (size_t i = 0; i < data->size(); i += 7) {
    std::string bad = *data;
    bad[i] ^= 0x10;
    REQUIRE(core::WriteFileAtomic(file, bad, 0600).ok());
    INFO("byte " << i);
    CHECK(Identity::Load(file).status().code() == StatusCode::kCorruption);
  }
  REQUIRE(core::WriteFileAtomic(file, data->substr(0, data->size() - 1), 0600).ok());
  CHECK(Identity::Load(file).status().code() == StatusCode::kCorruption);
}

TEST_CASE("rotation keeps old encryption keys up to a bound and forgetting keeps the newest") {
  auto id = Identity::Generate();
  KeyId first = id->current_box_key().id;
  for (int i = 0; i < 10; ++i) id->RotateBoxKey();
  CHECK(id->current_box_key().epoch == 11);
  CHECK(id->FindBoxKey(first) != nullptr);
  id->ForgetBoxKeysBefore(100);
  CHECK(id->box_key_count() == 1);
  CHECK(id->current_box_key().epoch == 11);
  CHECK(id->FindBoxKey(first) == nullptr);
}

TEST_CASE("a trust store keeps its pinned gateway keys and revocation list across a restart") {
  TempDir dir;
  testing::Parties p;
  RevocationList list;
  list.version = 5;
  list.entries.push_back(Revocation{p.box_b->sign_key_id(), p.clock.Now()});
  SignRevocationList(*p.gateway, &list);
  REQUIRE(p.box_trust.UpdateRevocations(list).ok());
  auto gateway_cert = MakeGatewayCertificate(*p.gateway, "ent", 1, p.clock.Now(), p.clock.Now() + 86400);
  REQUIRE(gateway_cert.ok());
  REQUIRE(p.box_trust.AdoptGatewayCertificate(*gateway_cert).ok());
  REQUIRE(p.box_trust.Save(dir.path / "trust").ok());
  auto loaded = TrustStore::Load(dir.path / "trust");
  REQUIRE(loaded.ok());
  CHECK(loaded->FindPinned(p.gateway->sign_key_id()) != nullptr);
  CHECK(loaded->IsRevoked(p.box_b->sign_key_id()));
  CHECK(loaded->revocation_version() == 5);
  REQUIRE(loaded->gateway_certificate() != nullptr);
  CHECK(loaded->gateway_certificate()->box_key == p.gateway->current_box_key().keys.public_key);
  CHECK(loaded->CheckCertificate(p.cert_a, testing::kSchoolA, p.clock.Now()).ok());
  CHECK(loaded->CheckCertificate(p.cert_b, testing::kSchoolB, p.clock.Now()).code() == StatusCode::kPermissionDenied);
}

TEST_CASE("a certificate survives encoding, and any changed byte voids it") {
  testing::Parties p;
  std::string bytes = EncodeCertificate(p.cert_a);
  auto back = DecodeCertificate(bytes);
  REQUIRE(back.ok());
  CHECK(EncodeCertificate(*back) == bytes);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x01;
    auto c = DecodeCertificate(bad);
    INFO("byte " << i);
    CHECK((!c.ok() || !p.gateway_trust.CheckCertificate(*c, testing::kSchoolA, p.clock.Now()).ok()));
  }
  for (size_t len = 0; len < bytes.size(); ++len) CHECK_FALSE(DecodeCertificate(bytes.substr(0, len)).ok());
}

#include "core/crypto.h"

#include <doctest/doctest.h>

#include <atomic>
#include <new>
#include <set>
#include <thread>
#include <vector>

using namespace relais::core;

TEST_CASE("uuids are random version-4 ids") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewUuid();
    CHECK(IsUuid(id));
    CHECK(id[14] == '4');
    CHECK(seen.insert(id).second);
  }
  CHECK_FALSE(IsUuid("not-a-uuid"));
  CHECK_FALSE(IsUuid("ABCDEF00-0000-4000-8000-000000000000"));  // upper case is not canonical
  CHECK_FALSE(IsUuid("../../../../etc/passwd-aaaaaaaaaaaaaaaaa"));
}

TEST_CASE("sha-256 matches the published test vector, in one go and streamed") {
  CHECK(ToHex(Sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256Stream s;
  s.Update("a");
  s.Update("bc");
  CHECK(s.FinishHex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("tokens are url-safe and different each time") {
  std::string a = RandomToken(32), b = RandomToken(32);
  CHECK(a != b);
  CHECK(a.size() == 43);
  CHECK(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos);
}

TEST_CASE("a password verifies against its own hash only") {
  auto hash = HashPassword("correct horse");
  REQUIRE(hash.ok());
  CHECK(hash->rfind("$argon2id$", 0) == 0);
  CHECK(VerifyPassword(*hash, "correct horse"));
  CHECK_FALSE(VerifyPassword(*hash, "correct horsf"));
  CHECK_FALSE(VerifyPassword("garbage", "correct horse"));
  CHECK_FALSE(VerifyPassword("", ""));
}

TEST_CASE("hashes made with weaker parameters than the current ones need a rehash") {
  PasswordParams saved = GetPasswordParams();
  auto weak = HashPassword("pw");
  REQUIRE(weak.ok());
  SetPasswordParams({2, 19u << 20, 2});
  CHECK(PasswordNeedsRehash(*weak));
  SetPasswordParams(saved);
  CHECK_FALSE(PasswordNeedsRehash(*weak));
}

TEST_CASE("no more hashes run at once than the configured bound") {
  PasswordParams saved = GetPasswordParams();
  SetPasswordParams({1, 1u << 20, 2});
  auto hash = HashPassword("pw");
  REQUIRE(hash.ok());
  // The bound is observed indirectly: 8 threads verifying must all succeed
  // (none fails for lack of memory or a deadlock).
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      if (VerifyPassword(*hash, "pw")) ++ok;
    });
  for (auto& t : threads) t.join();
  CHECK(ok == 8);
  SetPasswordParams(saved);
}

TEST_CASE("an ed25519 signature verifies for its message and key only") {
  SignKeyPair a = NewSignKeyPair(), b = NewSignKeyPair();
  Signature sig = Sign(a.secret_key, "devoir de maths");
  CHECK(VerifySignature(a.public_key, "devoir de maths", sig));
  CHECK_FALSE(VerifySignature(a.public_key, "devoir de math", sig));
  CHECK_FALSE(VerifySignature(b.public_key, "devoir de maths", sig));
  sig[10] ^= 1;
  CHECK_FALSE(VerifySignature(a.public_key, "devoir de maths", sig));
}

TEST_CASE("a sealed box opens only with the recipient's key and detects any flipped byte") {
  BoxKeyPair me = NewBoxKeyPair(), other = NewBoxKeyPair();
  std::string sealed = SealTo(me.public_key, "bundle key");
  CHECK(sealed.size() == 10 + kSealOverheadBytes);
  auto opened = OpenSealed(me, sealed);
  REQUIRE(opened.ok());
  CHECK(*opened == "bundle key");
  CHECK(OpenSealed(other, sealed).status().code() == relais::StatusCode::kCorruption);
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] ^= 0x40;
    CHECK_FALSE(OpenSealed(me, bad).ok());
  }
  CHECK_FALSE(OpenSealed(me, sealed.substr(0, 20)).ok());
}

TEST_CASE("aead decryption fails when the additional data or the ciphertext changes") {
  SymmetricKey key = NewSymmetricKey();
  std::string nonce = RandomBytes(kAeadNonceBytes);
  std::string ct = AeadEncrypt(key, nonce, "chunk 0", "blob|0");
  CHECK(ct.size() == 7 + kAeadOverheadBytes);
  auto pt = AeadDecrypt(key, nonce, ct, "blob|0");
  REQUIRE(pt.ok());
  CHECK(*pt == "chunk 0");
  CHECK_FALSE(AeadDecrypt(key, nonce, ct, "blob|1").ok());
  ct[0] ^= 1;
  CHECK_FALSE(AeadDecrypt(key, nonce, ct, "blob|0").ok());
  CHECK_FALSE(AeadDecrypt(NewSymmetricKey(), nonce, ct, "blob|0").ok());
}

TEST_CASE("a secret stream detects reordered, dropped and altered messages") {
  SymmetricKey key = NewSymmetricKey();
  SecretStreamPush push(key);
  std::string m0, m1, m2;
  push.Push("one", "ad", false, &m0);
  push.Push("two", "ad", false, &m1);
  push.Push("three", "ad", true, &m2);

  auto in_order = [&](std::vector<std::string> msgs, std::string ad) -> bool {
    auto pull = SecretStreamPull::Create(key, push.header());
    REQUIRE(pull.ok());
    bool final = false;
    std::string out;
    for (const auto& m : msgs)
      if (!(*pull)->Pull(m, ad, &out, &final).ok()) return false;
    return final;
  };
  CHECK(in_order({m0, m1, m2}, "ad"));
  CHECK_FALSE(in_order({m1, m0, m2}, "ad"));
  CHECK_FALSE(in_order({m0, m2}, "ad"));
  CHECK_FALSE(in_order({m0, m1}, "ad"));  // cut before the final message
  CHECK_FALSE(in_order({m0, m1, m2}, "other ad"));
  std::string bad = m1;
  bad.back() ^= 1;
  CHECK_FALSE(in_order({m0, bad, m2}, "ad"));
}

TEST_CASE("secret keys are wiped when destroyed") {
  alignas(SymmetricKey) unsigned char storage[sizeof(SymmetricKey)];
  auto* key = new (storage) SymmetricKey(NewSymmetricKey());
  key->~SymmetricKey();
  bool all_zero = true;
  for (unsigned char c : storage) all_zero = all_zero && c == 0;
  CHECK(all_zero);
}

TEST_CASE("hmac-sha-256 matches RFC 4231 test case 2") {
  CHECK(ToHex(HmacSha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

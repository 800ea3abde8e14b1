#include "core/crypto.h"

#include <doctest/doctest.h>

#include <atomic>
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

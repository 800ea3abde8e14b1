// The derived ids (content/ids.h) are pinned: every box and gateway already
// holds rows keyed by them, so a change of derivation would split a user or a
// class in two on the next sync. If one of these checks fails, the change is
// the bug.
#include "content/ids.h"

#include <doctest/doctest.h>

#include "core/crypto.h"

namespace relais::content {

TEST_CASE("a user's id is pinned to its login") {
  REQUIRE(core::InitCrypto().ok());
  CHECK(UserId("lea.martin") == "183de321-49c7-81d1-8030-b41c58fc04ee");
  CHECK(UserId("lea.martin") == core::DerivedUuid("user", {"lea.martin"}));
  CHECK(UserId("prof.durand") != UserId("lea.martin"));
}

TEST_CASE("a class's id is pinned to its name, whatever its ASCII case") {
  REQUIRE(core::InitCrypto().ok());
  CHECK(ClassId("5e B") == "88549a3a-e5b4-85e7-870f-2bc24bd2f5e4");
  CHECK(ClassId("5E b") == ClassId("5e b"));
  CHECK(ClassId("5e A") != ClassId("5e B"));
}

TEST_CASE("a membership's id is pinned to its class and user") {
  REQUIRE(core::InitCrypto().ok());
  CHECK(MemberId(ClassId("5e b"), UserId("lea.martin")) == "3818681a-d65f-861b-a6d1-ba9aa14b2844");
  CHECK(MemberId(UserId("lea.martin"), ClassId("5e b")) != MemberId(ClassId("5e b"), UserId("lea.martin")));
}

TEST_CASE("derived ids are canonical UUIDs") {
  REQUIRE(core::InitCrypto().ok());
  for (const std::string& id : {UserId("x"), ClassId("x"), MemberId("a", "b")}) CHECK(core::IsUuid(id));
}

}  // namespace relais::content

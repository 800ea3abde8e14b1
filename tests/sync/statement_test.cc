#include "sync/statement.h"

#include <doctest/doctest.h>

#include "core/crypto.h"

using namespace relais;
using namespace relais::sync;

namespace {

// `text` signed by `box` as a statement, the way SignStatement signs.
std::string SignText(const Identity& box, const std::string& text) {
  core::Signature sig = box.Sign("relais-box-statement-v1\n" + text);
  return core::ToHex(std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
}

std::string KeyOf(const Identity& box) {
  return std::string(reinterpret_cast<const char*>(box.sign_public_key().data()), box.sign_public_key().size());
}

}  // namespace

TEST_CASE("a statement verifies with its box's key, and not once a byte of it is changed") {
  auto box = Identity::Generate();
  FileNews news;
  news.want.push_back(std::string(64, 'b'));
  Statement s = SignStatement(*box, "box", "0330001A", 1764000000, {{"origin", 42}}, news);
  FileNews files;
  auto vector = VerifyStatement(s.json, s.signature_hex, KeyOf(*box), "0330001A", &files);
  REQUIRE(vector.ok());
  CHECK(vector->at("origin") == 42);
  CHECK(files.want == news.want);
  CHECK(VerifyStatement(s.json, s.signature_hex, KeyOf(*box), "0330002B").status().code() ==
        StatusCode::kPermissionDenied);
  std::string changed = s.json;
  changed[changed.find("42")] = '9';
  CHECK(VerifyStatement(changed, s.signature_hex, KeyOf(*box), "0330001A").status().code() ==
        StatusCode::kPermissionDenied);
}

// Regression (found writing tests/fuzz/signed_request_fuzz.cc): a signed statement whose
// "school" was a number made VerifyStatement throw nlohmann's type_error,
// which took `relais-hub import` down instead of refusing the stick.
TEST_CASE("a signed statement whose school is not a string is refused, not thrown") {
  auto box = Identity::Generate();
  for (std::string text : {R"({"school":5,"vector":{}})", R"({"school":null,"vector":{}})",
                           R"({"school":["0330001A"],"vector":{}})", R"({"vector":{}})"}) {
    auto verified = VerifyStatement(text, SignText(*box, text), KeyOf(*box), "0330001A");
    CHECK(verified.status().code() == StatusCode::kPermissionDenied);
  }
}

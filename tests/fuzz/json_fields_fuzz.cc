// tests/fuzz/json_fields_fuzz.cc — a request body through http/http_util.h:
// ReadJsonBody, then the typed field readers (RequiredString, OptionalString,
// OptionalStringList, OptionalBool, OptionalNumber, OptionalTime).
//
// Oracles: a body over the limit is TooLarge; an accepted body is a JSON
// object; an accepted string is at most its max_bytes and valid UTF-8
// (content::IsValidUtf8: no overlong forms, surrogates or code points past
// U+10FFFF); a list has at most max_items ids of at most 64 bytes each, each
// valid UTF-8; a reader never accepts a field of another type.
#include <httplib.h>

#include <cstdint>
#include <string>

#include "content/text.h"
#include "fuzz_support.h"
#include "http/http_util.h"

using namespace relais;
using relais::fuzzing::Check;

namespace {

constexpr uint64_t kLimit = 4096;

void CheckString(const Result<std::optional<std::string>>& s, size_t max_bytes) {
  if (!s.ok() || !*s) return;
  Check((*s)->size() <= max_bytes, "an accepted string respects its max length");
  Check(content::IsValidUtf8(**s), "an accepted string is valid UTF-8");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzzing::WriteSeedsIfAsked({
      // Bodies the web app and the ENT send (docs/api.md, docs/hub-api.md).
      R"({"title":"Lire le chapitre 3","text":"R\u00e9sum\u00e9 pour lundi \ud83d\udcda","class_ids":["cm2-a","cm2-b"],)"
      R"("due":"2026-11-30T18:00:00+01:00","done":false,"score":12.5})",
      R"({"login":"alice.martin","password":"abcd-efgh-jk23","remember":true})",
      R"({"title":null,"text":"","class_ids":[],"due":"2026-11-30","score":null})",
      "{\"title\":\"\xC3\xA9t\xC3\xA9\",\"text\":\"\\u0000\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
      R"({"title":1,"text":["x"],"class_ids":"cm2-a","done":"yes","score":"1","due":"tomorrow"})",
      R"([1,2,3])",
      R"({"title":"x","title":"y"})",
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  httplib::Request req;
  httplib::ContentReader reader(
      [&](httplib::ContentReceiver receive) {
        // In pieces of up to 100 bytes, as a socket would give them.
        for (size_t at = 0; at < body.size(); at += 100)
          if (!receive(body.data() + at, std::min<size_t>(100, body.size() - at))) return false;
        return true;
      },
      [](httplib::MultipartContentHeader, httplib::ContentReceiver) { return false; });
  auto parsed = http::ReadJsonBody(req, reader, kLimit);
  if (size > kLimit) Check(parsed.status().code() == StatusCode::kTooLarge, "a body over the limit is TooLarge");
  if (!parsed.ok()) return 0;
  const http::json& j = *parsed;
  Check(j.is_object(), "an accepted body is a JSON object");

  for (const char* field : {"title", "text", "login", "password", "due"}) {
    for (size_t max : {size_t{0}, size_t{8}, size_t{120}, size_t{kLimit}}) {
      CheckString(http::OptionalString(j, field, max), max);
      auto required = http::RequiredString(j, field, max);
      if (required.ok()) CheckString(std::optional<std::string>(*required), max);
      if (required.ok() || http::OptionalString(j, field, max).ok())
        Check(!j.contains(field) || j[field].is_null() || j[field].is_string(), "a string reader takes only strings");
    }
  }
  for (size_t max_items : {size_t{0}, size_t{2}, size_t{100}}) {
    auto list = http::OptionalStringList(j, "class_ids", max_items);
    if (!list.ok() || !*list) continue;
    Check((*list)->size() <= max_items, "a list respects its max items");
    for (const std::string& id : **list)
      Check(id.size() <= 64 && content::IsValidUtf8(id), "a list item is at most 64 bytes of UTF-8");
  }
  if (auto b = http::OptionalBool(j, "done"); b.ok() && *b) Check(j["done"].is_boolean(), "a bool is a bool");
  if (auto n = http::OptionalNumber(j, "score"); n.ok() && *n) Check(j["score"].is_number(), "a number is a number");
  (void)http::OptionalTime(j, "due", false);
  (void)http::OptionalTime(j, "due", true);
  return 0;
}

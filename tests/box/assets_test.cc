// The web app's files as the box serves them (box/assets.h): the shell at
// "/" and the app's routes, content-hashed assets cached for a year, ETags,
// compression chosen from Accept-Encoding, the CSP, and the budget.
#include "box/assets.h"

#include <doctest/doctest.h>

#include <regex>
#include <set>

#include "core/crypto.h"
#include "tests/box/test_server.h"

namespace relais::testing {

using namespace relais::box;
using namespace relais::http;
namespace {

std::string Hex(std::string_view raw) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) out += std::string{kDigits[c >> 4], kDigits[c & 15]};
  return out;
}

const EmbeddedAsset& AssetFromSource(std::string_view source) {
  for (const EmbeddedAsset& a : EmbeddedAssets())
    if (a.source == source) return a;
  FAIL("no asset built from web/" << source);
  static EmbeddedAsset none{};
  return none;
}

// Every "/assets/…" URL in `text`.
std::set<std::string> AssetUrlsIn(const std::string& text) {
  static const std::regex kUrl(R"re(/assets/[A-Za-z0-9_./-]+)re");
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kUrl); it != std::sregex_iterator(); ++it)
    out.insert(it->str());
  return out;
}

}  // namespace

TEST_CASE("the shell answers / and every app route, revalidated on each load, under a strict CSP") {
  TestServer box;
  for (const char* path : {"/", "/app/login", "/app/homework/93b952a7-d2d9-47ec-92e0-3da87e1f7ab7"}) {
    INFO(path);
    Reply r = box.Get(path, "", {{"Accept-Encoding", "identity"}});
    CHECK(r.status == 200);
    CHECK(r.Header("Content-Type") == "text/html; charset=utf-8");
    CHECK(r.Header("Cache-Control") == "no-cache");
    CHECK(r.Header("X-Content-Type-Options") == "nosniff");
    std::string csp = r.Header("Content-Security-Policy");
    CHECK(csp.find("script-src 'self'") != std::string::npos);
    CHECK(csp.find("unsafe-inline") == std::string::npos);
    CHECK(csp.find("unsafe-eval") == std::string::npos);
    CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
    CHECK(r.raw.find("<html lang=\"fr\">") != std::string::npos);
    // No inline script: every <script> has a src.
    CHECK(
        std::regex_search(r.raw, std::regex(R"(<script type="module" src="/assets/app\.[0-9a-f]{10}\.js"></script>)")));
    CHECK_FALSE(std::regex_search(r.raw, std::regex(R"(<script(?![^>]*\bsrc=)[^>]*>)")));
  }
}

TEST_CASE("every asset the shell references is served with its type and cached for a year") {
  TestServer box;
  Reply shell = box.Get("/", "", {{"Accept-Encoding", "identity"}});
  std::set<std::string> urls = AssetUrlsIn(shell.raw);
  CHECK(urls.size() >= 3);  // the stylesheet, the script, the icon, the manifest
  for (const std::string& url : urls) {
    INFO(url);
    Reply r = box.Get(url, "", {{"Accept-Encoding", "identity"}});
    CHECK(r.status == 200);
    CHECK(r.Header("Cache-Control") == "public, max-age=31536000, immutable");
    CHECK(r.Header("Vary") == "Accept-Encoding");
    std::string type = r.Header("Content-Type");
    if (url.ends_with(".css")) CHECK(type == "text/css; charset=utf-8");
    if (url.ends_with(".js")) CHECK(type == "text/javascript; charset=utf-8");
    if (url.ends_with(".svg")) CHECK(type == "image/svg+xml");
    if (url.ends_with(".webmanifest")) CHECK(type == "application/manifest+json");
  }
}

TEST_CASE("a hashed URL carries the hash of exactly the bytes served, references included") {
  TestServer box;
  for (const EmbeddedAsset& a : EmbeddedAssets()) {
    INFO(a.url);
    CHECK(Hex(core::Sha256(a.identity)) == a.sha256);
    if (a.immutable) CHECK(a.url.find("." + std::string(a.sha256.substr(0, 10)) + ".") != std::string_view::npos);
    Reply r = box.Get(std::string(a.url), "", {{"Accept-Encoding", "identity"}});
    CHECK(r.status == 200);
    CHECK(r.raw == a.identity);
    // Whatever it references exists, so one changed file changes the URLs of all that lead to it.
    for (const std::string& ref : AssetUrlsIn(r.raw)) {
      if (ref == "/assets/") continue;
      CHECK_MESSAGE(FindAsset(ref) != nullptr, a.source << " references " << ref);
    }
  }
}

TEST_CASE("the encoding follows Accept-Encoding and every variant decodes to the same bytes") {
  TestServer box;
  const EmbeddedAsset& js = AssetFromSource("app.js");
  REQUIRE_FALSE(js.gzip.empty());
  REQUIRE_FALSE(js.brotli.empty());
  struct Case {
    const char* accept;
    const char* encoding;  // expected Content-Encoding, "" for none
  };
  const Case kCases[] = {
      {"gzip, deflate, br", "br"},
      {"gzip, deflate", "gzip"},
      {"br;q=0, gzip", "gzip"},
      {"gzip;q=0.5, br;q=0.4", "gzip"},
      {"identity", ""},
      {"gzip;q=0, br;q=0", ""},
      {"*", "br"},
      {"BR", "br"},
      {"x-gzip", "gzip"},
  };
  for (const Case& c : kCases) {
    INFO(c.accept);
    Reply r = box.Get(std::string(js.url), "", {{"Accept-Encoding", c.accept}});
    CHECK(r.status == 200);
    CHECK(r.Header("Content-Encoding") == c.encoding);
    CHECK(r.raw == js.identity);  // the client decoded it
  }
  CHECK(ChooseEncoding("", true, true) == Encoding::kIdentity);
  CHECK(ChooseEncoding("br", true, false) == Encoding::kIdentity);
  CHECK(ChooseEncoding("gzip;q=0.9, br", false, true) == Encoding::kBrotli);
}

TEST_CASE("a cached asset is revalidated with its ETag: 304 with no body, per encoding") {
  TestServer box;
  for (const char* accept : {"identity", "gzip", "br"}) {
    INFO(accept);
    Reply first = box.Get("/", "", {{"Accept-Encoding", accept}});
    std::string etag = first.Header("ETag");
    REQUIRE(etag.size() > 2);
    Reply again = box.Get("/", "", {{"Accept-Encoding", accept}, {"If-None-Match", etag}});
    CHECK(again.status == 304);
    CHECK(again.raw.empty());
    CHECK(again.Header("ETag") == etag);
    Reply stale = box.Get("/", "", {{"Accept-Encoding", accept}, {"If-None-Match", "\"0123456789\""}});
    CHECK(stale.status == 200);
  }
  // Each representation has its own tag.
  CHECK(box.Get("/", "", {{"Accept-Encoding", "gzip"}}).Header("ETag") !=
        box.Get("/", "", {{"Accept-Encoding", "identity"}}).Header("ETag"));
}

TEST_CASE("the service worker keeps its URL, is revalidated, and precaches the current build") {
  TestServer box;
  Reply sw = box.Get("/sw.js", "", {{"Accept-Encoding", "identity"}});
  CHECK(sw.status == 200);
  CHECK(sw.Header("Content-Type") == "text/javascript; charset=utf-8");
  CHECK(sw.Header("Cache-Control") == "no-cache");
  CHECK(sw.raw.find("__PRECACHE__") == std::string::npos);
  CHECK(sw.raw.find(std::string(AssetFromSource("app.js").url)) != std::string::npos);
  CHECK(sw.raw.find(std::string(AssetFromSource("i18n/fr.js").url)) != std::string::npos);
}

TEST_CASE("an unknown asset is a JSON 404 and the API and probes still answer") {
  TestServer box;
  Reply r = box.Get("/assets/app.0000000000.js");
  CHECK(r.status == 404);
  CHECK(IsJsonError(r));
  CHECK(box.Get("/api/v1/health").status == 200);
  CHECK(box.Get("/generate_204").status == 204);
  CHECK(box.Get("/api/v1/nothing").status == 404);
  CHECK(box.Send("POST", "/", "").status == 405);
}

TEST_CASE("the app shell's JavaScript and CSS stay within 100 KB compressed") {
  MESSAGE("app shell JS+CSS: " << ShellGzipBytes() << " bytes gzip, budget " << ShellBudgetBytes());
  CHECK(ShellBudgetBytes() <= 100 * 1024);
  CHECK(ShellGzipBytes() <= ShellBudgetBytes());
}

// Chrome 80 (cheap Android tablets) and Safari 13 (iPads) are the oldest
// browsers the app supports; these would be syntax errors or missing functions there.
TEST_CASE("the app's JavaScript avoids what Chrome 80 and Safari 13 lack") {
  const char* kTooNew[] = {"?.",
                           "??",
                           "||=",
                           "&&=",
                           ".replaceAll(",
                           ".at(",
                           "structuredClone",
                           "Object.hasOwn",
                           "Promise.any",
                           "AggregateError",
                           "WeakRef",
                           "static {",
                           "findLast"};
  for (const EmbeddedAsset& a : EmbeddedAssets()) {
    if (!a.content_type.starts_with("text/javascript") || a.source.starts_with("lazy/")) continue;
    for (const char* token : kTooNew)
      CHECK_MESSAGE(a.identity.find(token) == std::string_view::npos, a.source << " uses " << token);
    // Private class fields and top-level await.
    std::string text(a.identity);
    CHECK_MESSAGE(!std::regex_search(text, std::regex(R"(\bthis\.#|^\s*#[a-zA-Z_]+\s*[=;])")), a.source);
    CHECK_MESSAGE(!std::regex_search(text, std::regex(R"(^await\b)", std::regex::multiline)), a.source);
  }
}

}  // namespace relais::testing

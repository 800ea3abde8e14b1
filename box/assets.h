// box/assets.h — the web app's files, compiled into the binary and served
// from memory.
//
// At build time server/embed/embed_assets turns every file of web/ into an
// EmbeddedAsset (see CMakeLists.txt): the shell (web/index.html) answers "/"
// and every route of the app under /app/; the service worker answers /sw.js;
// everything else is at /assets/<path>.<hash>.<ext> with the hash of its
// content in the URL, so it can be cached for a year ("immutable") and a new
// build changes the URL. Each asset carries precompressed gzip and brotli
// variants, chosen from the request's Accept-Encoding.
//
// Headers: hashed assets get "Cache-Control: public, max-age=31536000,
// immutable"; the shell and the service worker "no-cache" (revalidated with
// their ETag on every load, so an update of the box reaches tablets at once).
// Every answer has a strong ETag (per encoding), Vary: Accept-Encoding and
// nosniff; HTML answers carry the app's Content-Security-Policy, which allows
// no inline script or style.
//
// Thread-safety: the table is immutable after the first call; Serve may run
// on any number of threads.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <string_view>
#include <vector>

namespace relais::box {

struct EmbeddedAsset {
  std::string_view url;           // "/", "/sw.js" or "/assets/app.0123456789.js"
  std::string_view source;        // the path in web/: "app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view sha256;        // hex, of `identity`
  std::string_view identity;      // the bytes as served without compression
  std::string_view gzip;          // empty when compression did not help
  std::string_view brotli;        // empty when compression did not help
  bool immutable;                 // true for hashed URLs
};

// Generated from web/ at build time.
const std::vector<EmbeddedAsset>& EmbeddedAssets();
// The gzip size of the shell's JavaScript and CSS (web/ outside lazy/), and
// the budget the build checked it against.
uint64_t ShellGzipBytes();
uint64_t ShellBudgetBytes();

// The Content-Security-Policy of the app's pages.
extern const char* const kAppContentSecurityPolicy;

enum class Encoding { kIdentity, kGzip, kBrotli };

// The best encoding among those offered in an Accept-Encoding value
// ("gzip, deflate, br", with q-values; q=0 refuses). Brotli before gzip.
Encoding ChooseEncoding(std::string_view accept_encoding, bool have_gzip, bool have_brotli);

// The asset at `url`, or null. The shell is found at "/".
const EmbeddedAsset* FindAsset(std::string_view url);

// Answers GET/HEAD of `asset` (200 or 304). The body is not copied.
void ServeAsset(const httplib::Request& req, httplib::Response& res, const EmbeddedAsset& asset);

}  // namespace relais::box

#include "box/assets.h"

#include <string>
#include <unordered_map>

#include "http/file_response.h"

namespace relais::box {

const char* const kAppContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "media-src 'self' blob:; object-src 'self'; frame-src 'self' blob:; connect-src 'self'; "
    "worker-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsLower(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// The q-value of one Accept-Encoding element's parameters ("q=0.5"); 1 when absent.
double QValue(std::string_view params) {
  while (!params.empty()) {
    size_t semi = params.find(';');
    std::string_view p = Trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      std::string value(Trim(p.substr(2)));
      char* end = nullptr;
      double q = std::strtod(value.c_str(), &end);
      if (end == value.c_str()) return 0;
      return q;
    }
  }
  return 1;
}

}  // namespace

Encoding ChooseEncoding(std::string_view accept_encoding, bool have_gzip, bool have_brotli) {
  double gzip_q = 0, brotli_q = 0, star_q = -1;
  bool gzip_named = false, brotli_named = false;
  while (!accept_encoding.empty()) {
    size_t comma = accept_encoding.find(',');
    std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding = comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    size_t semi = item.find(';');
    std::string_view name = Trim(item.substr(0, semi));
    double q = semi == std::string_view::npos ? 1 : QValue(item.substr(semi + 1));
    if (EqualsLower(name, "gzip") || EqualsLower(name, "x-gzip")) {
      gzip_q = q, gzip_named = true;
    } else if (EqualsLower(name, "br")) {
      brotli_q = q, brotli_named = true;
    } else if (name == "*") {
      star_q = q;
    }
  }
  if (!gzip_named && star_q >= 0) gzip_q = star_q;
  if (!brotli_named && star_q >= 0) brotli_q = star_q;
  if (have_brotli && brotli_q > 0 && brotli_q >= gzip_q) return Encoding::kBrotli;
  if (have_gzip && gzip_q > 0) return Encoding::kGzip;
  if (have_brotli && brotli_q > 0) return Encoding::kBrotli;
  return Encoding::kIdentity;
}

const EmbeddedAsset* FindAsset(std::string_view url) {
  static const auto* kByUrl = [] {
    auto* map = new std::unordered_map<std::string_view, const EmbeddedAsset*>();
    for (const EmbeddedAsset& a : EmbeddedAssets()) (*map)[a.url] = &a;
    return map;
  }();
  auto it = kByUrl->find(url);
  return it == kByUrl->end() ? nullptr : it->second;
}

void ServeAsset(const httplib::Request& req, httplib::Response& res, const EmbeddedAsset& asset) {
  Encoding encoding =
      ChooseEncoding(req.get_header_value("Accept-Encoding"), !asset.gzip.empty(), !asset.brotli.empty());
  std::string_view body = asset.identity;
  // One entity tag per representation: the content's hash, marked with the encoding.
  std::string etag(asset.sha256.substr(0, 32));
  if (encoding == Encoding::kGzip) {
    body = asset.gzip;
    etag += "-gz";
    res.set_header("Content-Encoding", "gzip");
  } else if (encoding == Encoding::kBrotli) {
    body = asset.brotli;
    etag += "-br";
    res.set_header("Content-Encoding", "br");
  }
  res.set_header("ETag", "\"" + etag + "\"");
  res.set_header("Vary", "Accept-Encoding");
  res.set_header("Cache-Control", asset.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  if (asset.content_type.rfind("text/html", 0) == 0) {
    res.set_header("Content-Security-Policy", kAppContentSecurityPolicy);
    res.set_header("Referrer-Policy", "no-referrer");
  }
  if (req.has_header("If-None-Match") && http::IfNoneMatchMatches(req.get_header_value("If-None-Match"), etag)) {
    res.status = 304;
    res.headers.erase("Content-Encoding");
    return;
  }
  res.status = 200;
  // Small bodies are copied, so headers and body leave in one write; large
  // ones (a lazily loaded library) stream from the binary's memory.
  if (body.size() <= 64 * 1024) {
    res.set_content(body.data(), body.size(), std::string(asset.content_type));
    return;
  }
  res.set_content_provider(body.size(), std::string(asset.content_type),
                           [body](size_t offset, size_t length, httplib::DataSink& sink) {
                             return sink.write(body.data() + offset, length);
                           });
}

}  // namespace relais::box

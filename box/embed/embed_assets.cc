// box/embed/embed_assets.cc — the build-time tool that turns web/ into C++.
//
//   embed_assets OUT.cc WEB_DIR BUDGET_BYTES FILE...
//
// FILE are paths relative to WEB_DIR. Each becomes one entry of
// relais::box::EmbeddedAssets() (box/assets.h):
//   - index.html is the app shell, served at "/" (and the app's routes);
//   - sw.js is the service worker, served at "/sw.js" (its URL must not change);
//   - every other file is served at /assets/<dir>/<name>.<hash>.<ext>, where
//     <hash> is the first 10 hex digits of the SHA-256 of its final bytes.
// In text files (HTML, JS, CSS, JSON, SVG, manifest) every reference
// "/assets/<relative path>" to another file of the list is rewritten to that
// file's hashed URL, so a file's hash covers what it references; a cycle of
// references is an error. Each file gets precompressed gzip and brotli
// variants, kept only when smaller than the file.
//
// sw.js must contain the placeholder "__PRECACHE__" (with its quotes): it is
// replaced by the list of the URLs of every file outside lazy/.
//
// The shell budget: the gzip sizes of every .js and .css outside lazy/ are
// summed and printed; over BUDGET_BYTES the tool fails, and so does the build.
//
// A host tool: it runs on the build machine (links zlib, brotli, relais_core).
#include <brotli/encode.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/crypto.h"

namespace {

struct Entry {
  std::string rel;   // "i18n/fr.js"
  std::string url;   // "/assets/i18n/fr.0123456789.js"
  std::string type;  // MIME type
  std::string bytes, gzip, brotli;
  std::string etag;  // hex SHA-256 of `bytes`
  bool hashed = false;
  int state = 0;  // 0 not done, 1 in progress, 2 done
};

std::string Extension(const std::string& rel) {
  size_t dot = rel.rfind('.');
  size_t slash = rel.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  return rel.substr(dot + 1);
}

const char* TypeFor(const std::string& ext) {
  static const std::map<std::string, const char*> kTypes = {
      {"html", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"webmanifest", "application/manifest+json"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"ico", "image/x-icon"},
      {"woff2", "font/woff2"},
      {"txt", "text/plain; charset=utf-8"},
  };
  auto it = kTypes.find(ext);
  return it == kTypes.end() ? nullptr : it->second;
}

bool IsText(const std::string& ext) {
  return ext == "html" || ext == "js" || ext == "mjs" || ext == "css" || ext == "json" || ext == "webmanifest" ||
         ext == "svg" || ext == "txt";
}

std::string Hex(std::string_view raw) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string Gzip(const std::string& in) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK) return "";
  std::string out(deflateBound(&z, in.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END ? out : "";
}

std::string Brotli(const std::string& in) {
  size_t size = BrotliEncoderMaxCompressedSize(in.size());
  if (size == 0) size = in.size() + 1024;
  std::string out(size, '\0');
  if (!BrotliEncoderCompress(BROTLI_MAX_QUALITY, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, in.size(),
                             reinterpret_cast<const uint8_t*>(in.data()), &size,
                             reinterpret_cast<uint8_t*>(out.data())))
    return "";
  out.resize(size);
  return out;
}

bool IsPathChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-' || c == '/';
}

class Embedder {
 public:
  explicit Embedder(std::map<std::string, Entry> entries) : entries_(std::move(entries)) {}

  bool Finish(Entry& e) {
    if (e.state == 2) return true;
    if (e.state == 1) {
      std::cerr << "embed_assets: a cycle of references goes through " << e.rel << "\n";
      return false;
    }
    e.state = 1;
    std::string ext = Extension(e.rel);
    if (IsText(ext)) {
      std::string out;
      const std::string& in = e.bytes;
      size_t i = 0;
      while (i < in.size()) {
        size_t at = in.find("/assets/", i);
        if (at == std::string::npos) {
          out.append(in, i, std::string::npos);
          break;
        }
        out.append(in, i, at - i);
        size_t end = at + 8;
        while (end < in.size() && IsPathChar(in[end])) ++end;
        std::string rel = in.substr(at + 8, end - at - 8);
        if (rel.empty() || rel.back() == '/') {  // a prefix ("/assets/"), not a reference
          out.append(in, at, end - at);
          i = end;
          continue;
        }
        auto it = entries_.find(rel);
        if (it == entries_.end() || !it->second.hashed) {
          std::cerr << "embed_assets: " << e.rel << " references /assets/" << rel << ", which is not in web/\n";
          return false;
        }
        if (!Finish(it->second)) return false;
        out += it->second.url;
        i = end;
      }
      e.bytes = std::move(out);
    }
    e.etag = Hex(relais::core::Sha256(e.bytes));
    if (e.hashed) {
      std::string stem = e.rel.substr(0, e.rel.size() - ext.size() - 1);
      e.url = "/assets/" + stem + "." + e.etag.substr(0, 10) + "." + ext;
    }
    e.gzip = Gzip(e.bytes);
    if (e.gzip.size() >= e.bytes.size()) e.gzip.clear();
    e.brotli = Brotli(e.bytes);
    if (e.brotli.size() >= e.bytes.size()) e.brotli.clear();
    e.state = 2;
    return true;
  }

  std::map<std::string, Entry>& entries() { return entries_; }

 private:
  std::map<std::string, Entry> entries_;
};

void WriteArray(std::ostream& out, const std::string& name, const std::string& bytes) {
  out << "const unsigned char " << name << "[] = {";
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i % 24 == 0) out << "\n";
    out << static_cast<int>(static_cast<unsigned char>(bytes[i])) << ",";
  }
  if (bytes.empty()) out << "0";
  out << "};\n";
}

std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: embed_assets OUT.cc WEB_DIR BUDGET_BYTES FILE...\n";
    return 2;
  }
  std::string out_path = argv[1], web_dir = argv[2];
  uint64_t budget = std::stoull(argv[3]);
  std::map<std::string, Entry> entries;
  for (int i = 4; i < argc; ++i) {
    Entry e;
    e.rel = argv[i];
    std::string ext = Extension(e.rel);
    const char* type = TypeFor(ext);
    if (!type) {
      std::cerr << "embed_assets: no MIME type for web/" << e.rel << " (add it to TypeFor)\n";
      return 1;
    }
    e.type = type;
    std::ifstream in(web_dir + "/" + e.rel, std::ios::binary);
    if (!in) {
      std::cerr << "embed_assets: cannot read " << web_dir << "/" << e.rel << "\n";
      return 1;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    e.bytes = ss.str();
    if (e.rel == "index.html") {
      e.url = "/";
    } else if (e.rel == "sw.js") {
      e.url = "/sw.js";
    } else {
      e.hashed = true;
    }
    entries.emplace(e.rel, std::move(e));
  }
  Embedder embedder(std::move(entries));
  uint64_t shell_gzip = 0;
  // The service worker's precache list is every file outside lazy/.
  if (auto sw = embedder.entries().find("sw.js"); sw != embedder.entries().end()) {
    std::string list;
    for (auto& [rel, e] : embedder.entries()) {
      if (rel == "sw.js" || rel.rfind("lazy/", 0) == 0) continue;
      // Unhashed here; Finish rewrites them like any other reference.
      list += (list.empty() ? "" : ", ") + Quoted(e.hashed ? "/assets/" + rel : e.url);
    }
    size_t at = sw->second.bytes.find("\"__PRECACHE__\"");
    if (at == std::string::npos) {
      std::cerr << "embed_assets: sw.js has no \"__PRECACHE__\" placeholder\n";
      return 1;
    }
    sw->second.bytes.replace(at, 14, list);
  }
  for (auto& [rel, e] : embedder.entries()) {
    if (!embedder.Finish(e)) return 1;
    std::string ext = Extension(rel);
    if ((ext == "js" || ext == "css") && rel.rfind("lazy/", 0) != 0)
      shell_gzip += e.gzip.empty() ? e.bytes.size() : e.gzip.size();
  }
  std::ostringstream out;
  out << "// Generated by server/embed/embed_assets from web/. Do not edit.\n"
      << "#include \"box/assets.h\"\n\nnamespace relais::box {\nnamespace {\n";
  int n = 0;
  for (auto& [rel, e] : embedder.entries()) {
    WriteArray(out, "kRaw" + std::to_string(n), e.bytes);
    WriteArray(out, "kGzip" + std::to_string(n), e.gzip);
    WriteArray(out, "kBrotli" + std::to_string(n), e.brotli);
    ++n;
  }
  out << "std::string_view View(const unsigned char* p, size_t n) { return {reinterpret_cast<const char*>(p), n}; "
         "}\n}  // namespace\n\n"
      << "const std::vector<EmbeddedAsset>& EmbeddedAssets() {\n  static const std::vector<EmbeddedAsset> kAssets = "
         "{\n";
  n = 0;
  for (auto& [rel, e] : embedder.entries()) {
    std::string i = std::to_string(n++);
    out << "      {" << Quoted(e.url) << ", " << Quoted(rel) << ", " << Quoted(e.type) << ", " << Quoted(e.etag)
        << ", View(kRaw" << i << ", " << e.bytes.size() << "), View(kGzip" << i << ", " << e.gzip.size()
        << "), View(kBrotli" << i << ", " << e.brotli.size() << "), " << (e.hashed ? "true" : "false") << "},\n";
  }
  out << "  };\n  return kAssets;\n}\n\nuint64_t ShellGzipBytes() { return " << shell_gzip << "; }\n"
      << "uint64_t ShellBudgetBytes() { return " << budget << "; }\n\n}  // namespace relais::box\n";
  std::printf("web: app shell JS+CSS = %.1f KB gzip (budget %.1f KB)\n", shell_gzip / 1024.0, budget / 1024.0);
  if (shell_gzip > budget) {
    std::fprintf(stderr, "embed_assets: the app shell is over its budget by %llu bytes\n",
                 static_cast<unsigned long long>(shell_gzip - budget));
    return 1;
  }
  std::ofstream file(out_path, std::ios::binary | std::ios::trunc);
  file << out.str();
  return file ? 0 : 1;
}

// http/file_response.cc — GET/HEAD of one stored file, per RFC 9110.
//
// Order of evaluation (RFC 9110 §13.2.2):
//   1. If-None-Match (or, only when it is absent, If-Modified-Since) -> 304
//   2. Range, GET only, and only when If-Range (if any) matches     -> 206/416
//   3. otherwise the whole file                                      -> 200
// cpp-httplib 0.11 parses Range into req.ranges and would apply it again to
// a response with a content provider; ServeFile clears req.ranges so the
// library passes our provider offsets relative to what we announced.
//
// Note: cpp-httplib 0.11.4 answers 416 by itself, before routing, when the
// Range header does not match its own grammar ("items=0-1", "bytes=5-2"),
// so those requests never reach ServeFile; ParseRange still treats them as
// "whole file" for callers that use it directly.

#include "http/file_response.h"

#include <algorithm>
#include <atomic>
#include <memory>

#include "core/clock.h"
#include "core/files.h"

namespace relais::http {
namespace {

// Streaming maps the file one window at a time. Big windows are fast (fewer
// system calls per megabyte) but each mapped byte is resident while it is
// sent, so all responses together share a budget: within it a window is
// 1 MiB, beyond it 64 KiB. Resident memory for file bodies stays under about
// budget + 64 KiB per connection, whatever the files' sizes.
constexpr size_t kChunkBytes = 1024 * 1024;
constexpr size_t kMinChunkBytes = 64 * 1024;
constexpr int64_t kMappedBudget = 32 << 20;
std::atomic<int64_t> g_mapped_bytes{0};
// And the largest answer sent from one buffer:
constexpr size_t kSmallBytes = 64 * 1024;

bool IsOws(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

// Parses a non-empty run of digits, saturating at UINT64_MAX.
bool ParseDigits(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    unsigned d = static_cast<unsigned>(c - '0');
    v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
  }
  *out = v;
  return true;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

bool IfNoneMatchMatches(std::string_view header, std::string_view etag) {
  header = TrimOws(header);
  if (header == "*") return true;
  if (etag.empty()) return false;
  size_t i = 0;
  while (i < header.size()) {
    while (i < header.size() && (IsOws(header[i]) || header[i] == ',')) ++i;
    if (i >= header.size()) break;
    if (header.compare(i, 2, "W/") == 0) i += 2;
    if (i >= header.size() || header[i] != '"') return false;
    size_t close = header.find('"', i + 1);
    if (close == std::string_view::npos) return false;
    if (header.substr(i + 1, close - i - 1) == etag) return true;
    i = close + 1;
  }
  return false;
}

namespace {

// If-Range holds a strong entity tag or an HTTP-date; a weak tag never matches.
bool IfRangeMatches(std::string_view header, const StoredFile& file) {
  header = TrimOws(header);
  if (!header.empty() && header.front() == '"') {
    return !file.etag.empty() && header.size() == file.etag.size() + 2 && header.back() == '"' &&
           header.substr(1, file.etag.size()) == file.etag;
  }
  if (header.size() >= 2 && header.compare(0, 2, "W/") == 0) return false;
  auto date = core::ParseHttpDate(header);
  return date.has_value() && file.last_modified > 0 && *date == file.last_modified;
}

void WriteJsonError(httplib::Response& res, int status, std::string_view code, std::string_view message) {
  res.status = status;
  // Codes and messages here are fixed ASCII without quotes or backslashes.
  res.set_content("{\"error\":{\"code\":\"" + std::string(code) + "\",\"message\":\"" + std::string(message) + "\"}}",
                  "application/json");
}

bool IsAttrChar(unsigned char c) {
  // RFC 8187 attr-char.
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '&':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

}  // namespace

RangeOutcome ParseRange(std::string_view header, uint64_t size, ByteRange* out) {
  std::string_view s = TrimOws(header);
  if (s.size() < 5 || !EqualsNoCase(s.substr(0, 5), "bytes")) return RangeOutcome::kWhole;
  s = TrimOws(s.substr(5));
  if (s.empty() || s.front() != '=') return RangeOutcome::kWhole;
  s = TrimOws(s.substr(1));
  if (s.find(',') != std::string_view::npos) return RangeOutcome::kWhole;  // several ranges
  size_t dash = s.find('-');
  if (dash == std::string_view::npos) return RangeOutcome::kWhole;
  std::string_view first_text = TrimOws(s.substr(0, dash));
  std::string_view last_text = TrimOws(s.substr(dash + 1));

  uint64_t first = 0, last = 0;
  if (first_text.empty()) {
    // Suffix range: the last N bytes.
    uint64_t suffix = 0;
    if (!ParseDigits(last_text, &suffix)) return RangeOutcome::kWhole;
    if (suffix == 0 || size == 0) return RangeOutcome::kUnsatisfiable;
    out->first = size - std::min(suffix, size);
    out->last = size - 1;
    return RangeOutcome::kPartial;
  }
  if (!ParseDigits(first_text, &first)) return RangeOutcome::kWhole;
  if (last_text.empty()) {
    last = UINT64_MAX;
  } else if (!ParseDigits(last_text, &last) || last < first) {
    return RangeOutcome::kWhole;
  }
  if (first >= size) return RangeOutcome::kUnsatisfiable;
  out->first = first;
  out->last = std::min(last, size - 1);
  return RangeOutcome::kPartial;
}

std::string ContentDisposition(std::string_view filename, bool as_attachment) {
  std::string out = as_attachment ? "attachment" : "inline";
  // Control characters never belong in a file name; drop them from both forms.
  std::string clean;
  for (char c : filename) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7F) clean.push_back(c);
  }
  if (clean.empty()) return out;

  std::string fallback;
  for (size_t i = 0; i < clean.size(); ++i) {
    unsigned char u = static_cast<unsigned char>(clean[i]);
    if (u >= 0x80) {
      // One '_' per non-ASCII character: skip its continuation bytes.
      fallback.push_back('_');
      while (i + 1 < clean.size() && (static_cast<unsigned char>(clean[i + 1]) & 0xC0) == 0x80) ++i;
    } else if (u == '"' || u == '\\') {
      continue;
    } else if (u == '%') {
      fallback.push_back('_');  // some agents percent-decode the plain form
    } else {
      fallback.push_back(clean[i]);
    }
  }
  if (fallback.empty()) fallback = "file";

  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (char c : clean) {
    unsigned char u = static_cast<unsigned char>(c);
    if (IsAttrChar(u)) {
      encoded.push_back(c);
    } else {
      encoded.push_back('%');
      encoded.push_back(kHex[u >> 4]);
      encoded.push_back(kHex[u & 0x0F]);
    }
  }
  out += "; filename=\"" + fallback + "\"; filename*=UTF-8''" + encoded;
  return out;
}

void ServeFile(const httplib::Request& req, httplib::Response& res, const StoredFile& file) {
  // The Request is a non-const object inside cpp-httplib; we apply ranges
  // ourselves, so the library must not apply them again.
  const_cast<httplib::Request&>(req).ranges.clear();

  const bool active = file.active_content;
  const std::string content_type =
      (active || file.content_type.empty()) ? "application/octet-stream" : file.content_type;
  const std::string quoted_etag = file.etag.empty() ? "" : "\"" + file.etag + "\"";

  res.set_header("Accept-Ranges", "bytes");
  if (!quoted_etag.empty()) res.set_header("ETag", quoted_etag);
  if (file.last_modified > 0) res.set_header("Last-Modified", core::FormatHttpDate(file.last_modified));
  res.set_header("Cache-Control", "private, no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");

  // 1. Conditional GET.
  bool not_modified = false;
  if (req.has_header("If-None-Match")) {
    not_modified = IfNoneMatchMatches(req.get_header_value("If-None-Match"), file.etag);
  } else if (req.has_header("If-Modified-Since") && file.last_modified > 0) {
    auto since = core::ParseHttpDate(req.get_header_value("If-Modified-Since"));
    not_modified = since.has_value() && file.last_modified <= *since;
  }
  if (not_modified) {
    res.status = 304;
    return;
  }

  res.set_header("Content-Disposition", ContentDisposition(file.filename, active || !file.inline_disposition));
  if (active) res.set_header("Content-Security-Policy", "default-src 'none'; sandbox");

  // 2. Range (GET only: RFC 9110 defines range handling for no other method).
  ByteRange range{0, file.size == 0 ? 0 : file.size - 1};
  RangeOutcome outcome = RangeOutcome::kWhole;
  if (req.method == "GET" && req.has_header("Range")) {
    if (!req.has_header("If-Range") || IfRangeMatches(req.get_header_value("If-Range"), file)) {
      outcome = ParseRange(req.get_header_value("Range"), file.size, &range);
    }
  }
  if (outcome == RangeOutcome::kUnsatisfiable) {
    res.set_header("Content-Range", "bytes */" + std::to_string(file.size));
    WriteJsonError(res, 416, "range_not_satisfiable", "the requested range is outside the file");
    return;
  }

  // 3. The bytes.
  if (file.size == 0) {
    res.status = 200;
    res.set_content("", content_type);
    return;
  }
  auto opened = core::FileReader::Open(file.path);
  if (!opened.ok()) {
    bool missing = opened.status().code() == StatusCode::kNotFound;
    res.headers.erase("Content-Disposition");
    res.headers.erase("ETag");
    res.headers.erase("Last-Modified");
    // A file recorded but absent is one whose bytes another box or the ENT
    // made and sync has not brought yet (docs/sync.md, "Files").
    if (missing) res.set_header("Retry-After", "600");
    WriteJsonError(res, missing ? 503 : 500, missing ? "not_synced_yet" : "internal",
                   missing ? "this file's bytes have not arrived on this box yet; they come with the next sync"
                           : "the file cannot be read");
    return;
  }
  std::shared_ptr<core::FileReader> reader(std::move(opened).value());
  if (reader->size() < range.last + 1) {
    // The store promised more bytes than the disk holds: do not announce a
    // length we cannot send.
    res.headers.erase("Content-Disposition");
    WriteJsonError(res, 500, "internal", "the stored file is shorter than recorded");
    return;
  }

  if (outcome == RangeOutcome::kPartial) {
    res.status = 206;
    res.set_header("Content-Range", "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
                                        std::to_string(file.size));
  } else {
    res.status = 200;
  }
  const uint64_t base = range.first;
  const uint64_t length = range.last - range.first + 1;
  if (length <= kSmallBytes) {
    // Small answers go out from one buffer: fewer system calls.
    std::string body(static_cast<size_t>(length), '\0');
    size_t done = 0;
    while (done < body.size()) {
      auto got = reader->ReadAt(base + done, body.data() + done, body.size() - done);
      if (!got.ok() || *got == 0) {
        res.headers.erase("Content-Disposition");
        WriteJsonError(res, 500, "internal", "the file cannot be read");
        return;
      }
      done += *got;
    }
    res.set_content(std::move(body), content_type);
    return;
  }
  // Larger ones stream from memory-mapped windows of the file, one window at
  // a time, so resident memory stays small whatever the file size.
  res.set_content_provider(
      static_cast<size_t>(length), content_type,
      [reader, base, length](size_t offset, size_t want, httplib::DataSink& sink) {
        if (offset >= length) return false;
        size_t n = std::min<uint64_t>({static_cast<uint64_t>(want), kChunkBytes, length - offset});
        if (g_mapped_bytes.load(std::memory_order_relaxed) + static_cast<int64_t>(n) > kMappedBudget)
          n = std::min(n, kMinChunkBytes);
        g_mapped_bytes.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
        bool ok = false;
        {
          auto window = reader->Map(base + offset, n);
          // An I/O error or a file that shrank aborts the response.
          ok = window.ok() && sink.write((*window)->data(), (*window)->size());
        }
        g_mapped_bytes.fetch_sub(static_cast<int64_t>(n), std::memory_order_relaxed);
        return ok;
      });
}

}  // namespace relais::http

// tests/fuzz/range_header_fuzz.cc — Range, If-Range and If-None-Match
// (http/file_response.h), directly and through ServeFile on a real file.
//
// Input: lines "size \n Range \n If-Range \n If-None-Match \n method" (a
// missing line: no header). Oracles:
//  - ParseRange: a partial range lies within the file (first <= last < size);
//    "bytes=first-last" parses back to the same range; a suffix or open range
//    never reaches past the end.
//  - IfNoneMatchMatches: a match is "*" or names the entity tag in quotes.
//  - ServeFile (a 1000-byte file): 304 only when If-None-Match matched; 206
//    only for GET with a satisfiable range and a matching (or absent)
//    If-Range, with a Content-Range agreeing with ParseRange and exactly those
//    bytes as the body; 416 with "bytes */1000"; 200 with the whole file.
#include <httplib.h>

#include <cstdint>
#include <string>

#include "core/clock.h"
#include "fuzz_support.h"
#include "http/file_response.h"

using namespace relais;
using relais::fuzzing::Check;

namespace {

constexpr uint64_t kFileSize = 1000;
constexpr int64_t kModified = 1764000000;
const std::string kEtag = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

struct World {
  std::string dir;
  std::string content;
  http::StoredFile file;
  World() {
    char tmpl[] = "/tmp/relais-range-fuzz-XXXXXX";
    dir = mkdtemp(tmpl);
    for (uint64_t i = 0; i < kFileSize; ++i) content.push_back(static_cast<char>(i % 251));
    file.path = dir + "/file";
    FILE* f = std::fopen(file.path.c_str(), "wb");
    std::fwrite(content.data(), 1, content.size(), f);
    std::fclose(f);
    file.size = kFileSize;
    file.etag = kEtag;
    file.last_modified = kModified;
    file.content_type = "application/pdf";
    file.filename = "cours.pdf";
  }
};

bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

void CheckParseRange(std::string_view header, uint64_t size) {
  http::ByteRange r{7, 7};
  http::RangeOutcome o = http::ParseRange(header, size, &r);
  if (o != http::RangeOutcome::kPartial) return;
  Check(r.first <= r.last && r.last < size, "a partial range lies within the file");
  std::string again = "bytes=" + std::to_string(r.first) + "-" + std::to_string(r.last);
  http::ByteRange r2{};
  Check(http::ParseRange(again, size, &r2) == http::RangeOutcome::kPartial && r2.first == r.first && r2.last == r.last,
        "a range re-serialised parses back to itself");
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::string date = core::FormatHttpDate(kModified);
  fuzzing::WriteSeedsIfAsked({
      // Real requests: Chromium's media element, curl -r, a resumed wget, Firefox's PDF viewer.
      "1000\nbytes=0-\n\n\nGET",
      "1000\nbytes=0-99\n\n\nGET",
      "1000\nbytes=-500\n\n\nGET",
      "1000\nbytes=900-\n\"" + kEtag + "\"\n\nGET",
      "1000\nbytes=100-199\n" + date + "\n\nGET",
      "1000\nbytes=0-0,-1\n\n\nGET",
      "1000\nbytes=1000-\n\n\nGET",
      "1000\n\n\n\"" + kEtag + "\"\nGET",
      "1000\n\n\nW/\"" + kEtag + "\", \"other\"\nGET",
      "1000\n\n\n*\nHEAD",
      "1000\nBytes = 10 - 20\n\n\nGET",
      "0\nbytes=0-\n\n\nGET",
      "18446744073709551615\nbytes=-18446744073709551615\n\n\nGET",
      "1000\nbytes=5-4\nW/\"" + kEtag + "\"\n\nHEAD",
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World world;
  auto f = fuzzing::Fields(std::string_view(reinterpret_cast<const char*>(data), size), 5);
  const std::string &range = f[1], &if_range = f[2], &if_none_match = f[3];

  uint64_t file_size = kFileSize;
  if (!ParseU64(f[0], &file_size)) file_size = kFileSize;
  CheckParseRange(range, file_size);
  CheckParseRange(range, kFileSize);

  if (http::IfNoneMatchMatches(if_none_match, kEtag))
    Check(Trim(if_none_match) == "*" || if_none_match.find("\"" + kEtag + "\"") != std::string::npos,
          "If-None-Match matches only '*' or the quoted entity tag");

  httplib::Request req;
  req.method = f[4] == "HEAD" ? "HEAD" : "GET";
  if (!range.empty()) req.set_header("Range", range);
  if (!if_range.empty()) req.set_header("If-Range", if_range);
  if (!if_none_match.empty()) req.set_header("If-None-Match", if_none_match);
  // What ServeFile sees: cpp-httplib refuses some values and hands back C strings.
  const std::string sent_range = req.get_header_value("Range"), sent_if_range = req.get_header_value("If-Range"),
                    sent_inm = req.get_header_value("If-None-Match");
  httplib::Response res;
  http::ServeFile(req, res, world.file);

  bool inm = req.has_header("If-None-Match") && http::IfNoneMatchMatches(sent_inm, kEtag);
  Check((res.status == 304) == inm, "304 exactly when If-None-Match matches");
  if (res.status == 304) return 0;

  http::ByteRange expected{0, kFileSize - 1};
  http::RangeOutcome outcome = http::RangeOutcome::kWhole;
  bool if_range_ok = !req.has_header("If-Range") || Trim(sent_if_range) == "\"" + kEtag + "\"" ||
                     core::ParseHttpDate(Trim(sent_if_range)) == std::optional<int64_t>(kModified);
  if (req.method == "GET" && req.has_header("Range") && if_range_ok)
    outcome = http::ParseRange(sent_range, kFileSize, &expected);

  switch (res.status) {
    case 206: {
      Check(outcome == http::RangeOutcome::kPartial, "206 only for a satisfiable range");
      std::string want = "bytes " + std::to_string(expected.first) + "-" + std::to_string(expected.last) + "/" +
                         std::to_string(kFileSize);
      Check(res.get_header_value("Content-Range") == want, "Content-Range states the range parsed");
      Check(res.body == world.content.substr(expected.first, expected.last - expected.first + 1),
            "a 206 body is exactly the range's bytes");
      break;
    }
    case 416:
      Check(outcome == http::RangeOutcome::kUnsatisfiable, "416 only for an unsatisfiable range");
      Check(res.get_header_value("Content-Range") == "bytes */1000", "416 says the size");
      break;
    case 200:
      Check(outcome == http::RangeOutcome::kWhole, "200 only when the range is ignored");
      Check(res.body == world.content, "a 200 body is the whole file");
      break;
    default:
      Check(false, "ServeFile answers 200, 206, 304 or 416 for a readable file");
  }
  return 0;
}

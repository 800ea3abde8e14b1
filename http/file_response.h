// http/file_response.h — serving stored files over HTTP without loading them.
//
// Implements, for one file: single byte ranges (206, "bytes=a-b", open-ended
// "bytes=a-", suffix "bytes=-n"), 416 with "Content-Range: bytes */size" when
// unsatisfiable, If-Range, ETag / If-None-Match (304), Last-Modified /
// If-Modified-Since (304), Content-Disposition, and inert serving of active
// types (attachment + "Content-Security-Policy: sandbox" + nosniff). The body
// streams from disk in 64 KiB reads through a content provider, so memory
// stays flat whatever the file size. A Range with several ranges is answered
// with the whole file (200), which RFC 9110 allows.
#pragma once

#include <httplib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace relais::http {

struct ByteRange {
  uint64_t first = 0;  // inclusive
  uint64_t last = 0;   // inclusive
};

enum class RangeOutcome { kWhole, kPartial, kUnsatisfiable };

// Interprets a Range header value against a file of `size` bytes.
// kWhole for no header, a malformed header, a non-bytes unit or several ranges.
RangeOutcome ParseRange(std::string_view header, uint64_t size, ByteRange* out);

struct StoredFile {
  std::string path;  // where the bytes are on disk
  uint64_t size = 0;
  std::string etag;           // strong validator, without quotes (the SHA-256)
  int64_t last_modified = 0;  // Unix seconds
  std::string content_type;
  std::string filename;            // for Content-Disposition (UTF-8; RFC 6266/5987 encoded)
  bool inline_disposition = true;  // false forces "attachment"
  // Content a browser would run scripts in (content::IsActiveContent): served
  // as application/octet-stream, as a download, in a sandbox. The caller,
  // which knows what the school stores, decides.
  bool active_content = false;
};

// Writes the response for GET (or HEAD) of `file`, honouring the request's
// conditional and range headers. Clears cpp-httplib's own range handling for
// this request so ranges are applied exactly once.
void ServeFile(const httplib::Request& req, httplib::Response& res, const StoredFile& file);

// True when an If-None-Match value ("*" or a list of entity tags) matches
// `etag` (without quotes) under weak comparison. A malformed list matches
// nothing from the point where it stops making sense.
bool IfNoneMatchMatches(std::string_view header, std::string_view etag);

// "inline; filename=\"report.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
std::string ContentDisposition(std::string_view filename, bool as_attachment);

}  // namespace relais::http

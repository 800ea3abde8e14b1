// http/request_parser.h — the HTTP/1.1 request parser: the header block
// and the chunked body, from bytes, with no sockets and no threads.
//
// This is the code most exposed to hostile input, so it lives on its own,
// is tested on its own (tests/http/request_parser_test.cc) and fuzzed
// (tests/fuzz/http_request_fuzz.cc). EventServer (http/event_server.cc)
// feeds it the bytes it reads and answers with what it says.
//
// A request on the wire:
//
//   request-line CRLF *( header-line CRLF ) CRLF [ body ]
//
// 1. FindHeadEnd finds the blank line that ends the header block (or says
//    more bytes are needed, or that the block is over Limits::max_header_bytes).
// 2. ParseRequestHead parses the block (the bytes before "\r\n\r\n") into a
//    ParsedHead, or returns the RequestError the server answers with.
// 3. The body is ParsedHead::content_length bytes, or chunked (ChunkedDecoder),
//    or none.
//
// What is accepted (and refused) is what EventServer accepted before this
// unit existed, answer for answer, except that no result depends any more
// on where the socket's reads cut the input; see docs/http.md.
//
// Thread-safety: functions are pure; a ChunkedDecoder is used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace relais::http {

struct Limits {
  // The header block, request line included and the final "\r\n\r\n" not:
  // more is a 431.
  size_t max_header_bytes = 16 * 1024;
  // A chunk-size line (size, extensions and CR, not the LF): more is an error.
  size_t max_chunk_line_bytes = 1024;
  // Each trailer line (CR included, not the LF): more is an error. The
  // number of trailer lines is not limited (they are read and dropped).
  size_t max_trailer_line_bytes = 8192;
};

// A request the server refuses before any handler sees it: the answer's
// HTTP status, and the code and message of its JSON body
// {"error":{"code":…,"message":…}}. The strings are static.
struct RequestError {
  int status = 0;
  const char* code = "";
  const char* message = "";
  bool operator==(const RequestError& o) const;
};

inline constexpr RequestError kHeadTooLarge{431, "header_too_large", "the request headers are too large"};
inline constexpr RequestError kBadRequestLine{400, "bad_request", "malformed request line"};
inline constexpr RequestError kBadVersion{505, "http_version_not_supported",
                                          "only HTTP/1.0 and HTTP/1.1 are spoken here"};
inline constexpr RequestError kBadTarget{400, "bad_request", "the request target must be a path"};
inline constexpr RequestError kBadHeaderLine{400, "bad_request", "malformed header line"};
inline constexpr RequestError kBadCoding{501, "not_implemented", "only the chunked transfer coding is supported"};
inline constexpr RequestError kBadContentLength{400, "bad_request", "invalid Content-Length"};

// ASCII case-insensitive equality, as HTTP compares header names and tokens.
bool EqualsNoCase(std::string_view a, std::string_view b);
// `s` without leading and trailing spaces and tabs (HTTP's optional whitespace).
std::string_view TrimOws(std::string_view s);

// A query string's key=value pairs in order, percent-decoded with '+' as
// space; empty pairs are skipped, a key without '=' has the value "".
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

enum class BodyFraming { kNone, kLength, kChunked };

struct ParsedHead {
  std::string method;   // as sent (not checked against a list)
  std::string target;   // as sent: starts with '/'
  std::string version;  // "HTTP/1.1" or "HTTP/1.0"
  std::string path;     // the target before '?', percent-decoded
  // The query's pairs (ParseQuery).
  std::vector<std::pair<std::string, std::string>> params;
  // In order; names as sent, values without surrounding spaces and tabs.
  std::vector<std::pair<std::string, std::string>> headers;

  BodyFraming framing = BodyFraming::kNone;
  uint64_t content_length = 0;  // for kLength; always > 0 then
  // The client sent "Expect: 100-continue" and there is a body.
  bool expect_continue = false;
  // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive".
  bool keep_alive = false;

  // The value of the first header named `name` (ASCII case-insensitive), or null.
  const std::string* FindHeader(std::string_view name) const;
  size_t CountHeader(std::string_view name) const;
  bool operator==(const ParsedHead& o) const = default;
};

// Either a ParsedHead or the RequestError to answer with.
class [[nodiscard]] HeadResult {
 public:
  HeadResult(ParsedHead head) : v_(std::move(head)) {}  // NOLINT: implicit by design
  HeadResult(RequestError error) : v_(error) {}         // NOLINT
  bool ok() const { return std::holds_alternative<ParsedHead>(v_); }
  ParsedHead& value() { return std::get<ParsedHead>(v_); }
  const ParsedHead& value() const { return std::get<ParsedHead>(v_); }
  const RequestError& error() const { return std::get<RequestError>(v_); }

 private:
  std::variant<ParsedHead, RequestError> v_;
};

enum class HeadEnd { kNeedMore, kComplete, kTooLarge };

// Looks for the end of the header block at the front of `buffer` (the
// first "\r\n\r\n"). kComplete sets *head_bytes to the block's length
// before it (the block takes *head_bytes + 4 bytes). kTooLarge when the
// block is, or will be, over limits.max_header_bytes, whatever bytes come
// next: answer kHeadTooLarge. kNeedMore otherwise.
HeadEnd FindHeadEnd(std::string_view buffer, const Limits& limits, size_t* head_bytes);

// Parses a header block: `head` is the bytes before "\r\n\r\n". Returns
// the request's head, or the error to answer with (the connection is then
// closed). Checks, in this order: size (431), request line (400), version
// (505), target (400), header lines (400: no colon, empty name, space
// before the colon, obs-fold), Transfer-Encoding other than chunked (501),
// Content-Length (400: with chunked, twice, not 1 to 18 digits).
HeadResult ParseRequestHead(std::string_view head, const Limits& limits);

// The head as a client would send it, without the final "\r\n\r\n":
// ParseRequestHead of it gives back `head`.
std::string SerializeHead(const ParsedHead& head);

// An incremental decoder for a chunked body, fed the bytes that follow the
// header block in pieces of any size:
//
//   kSizeLine --size>0--> kData --size bytes--> kDataCr -> kDataLf -> kSizeLine
//   kSizeLine --size=0--> kTrailer --empty line--> kDone
//   any malformed byte, or a line over its limit --> kError
//
// The size line is hex digits with optional spaces or tabs around them,
// then optional ";extensions" (ignored); trailer lines are not parsed.
// Lines end with CRLF. The result does not depend on how the input is cut.
class ChunkedDecoder {
 public:
  enum class State { kNeedMore, kData, kDone, kError };
  struct Step {
    State state = State::kNeedMore;
    size_t consumed = 0;    // bytes of the input used by this step
    std::string_view data;  // for kData: body bytes, a view into the input
  };

  explicit ChunkedDecoder(const Limits& limits) : limits_(limits) {}

  // Decodes from the front of `input` until a piece of body is available
  // (kData: `data` is the last `data.size()` bytes of the consumed ones;
  // call again with the rest), all input is used (kNeedMore), the body has
  // ended (kDone: the bytes after `consumed` belong to the next request),
  // or the body is malformed (kError). After kDone or kError, returns the
  // same state and consumes nothing.
  Step Decode(std::string_view input);

  bool done() const { return phase_ == Phase::kDone; }
  bool failed() const { return phase_ == Phase::kError; }

 private:
  enum class Phase { kSizeLine, kData, kDataCr, kDataLf, kTrailer, kDone, kError };
  // Takes bytes of the current line from `in`; true when its CRLF is taken.
  bool TakeLine(std::string_view& in, size_t* consumed, size_t max, bool keep);
  bool EndSizeLine();

  Limits limits_;
  Phase phase_ = Phase::kSizeLine;
  uint64_t remaining_ = 0;  // of the current chunk's data
  std::string line_;        // the size line so far
  size_t line_bytes_ = 0;   // of the current line, before its LF
  bool last_cr_ = false;    // the line's last byte was CR
};

// A whole request found in a buffer, body included: for tests, the fuzz
// target and the benchmark (EventServer streams bodies to the handler).
struct BufferedRequest {
  enum class State { kNeedMore, kComplete, kBadHead, kBadBody };
  State state = State::kNeedMore;
  ParsedHead head;      // kComplete, and kBadBody
  std::string body;     // kComplete: the decoded body
  size_t consumed = 0;  // kComplete: the request's bytes; the rest is the next request
  RequestError error;   // kBadHead
};

// Parses the request at the front of `buffer`.
BufferedRequest ParseBufferedRequest(std::string_view buffer, const Limits& limits);

}  // namespace relais::http

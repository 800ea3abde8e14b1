// tests/fuzz/http_request_fuzz.cc — a libFuzzer target for the HTTP request
// parser (http/request_parser.h).
//
//   CC=clang CXX=clang++ cmake -S . -B build-fuzz -DRELAIS_FUZZ=ON
//   cmake --build build-fuzz --target relais_http_fuzz
//   build-fuzz/relais_http_fuzz -max_total_time=60 tests/fuzz/corpus/http
//
// (libFuzzer adds what it finds to the first corpus folder: give it a copy
// to keep the committed seeds as they are.)
//
// The input is bytes as a client would send them on one connection. Each
// run parses it twice, with the server's limits and with tiny ones (so the
// limit paths are reached with short inputs), and checks more than "no crash":
//   - pipelined requests are taken one after the other; each accepted one
//     used at least one byte and no more than it was given;
//   - an accepted head, serialised again and parsed, gives the same head;
//   - an accepted request minus its last byte needs more bytes (never an
//     error, never a different request);
//   - a Content-Length body is exactly that long, and a decoded chunked body
//     is never longer than the bytes it came from;
//   - the chunked decoder gives the same state, body and length whether the
//     bytes come in one piece, one byte at a time, or cut at a point the
//     input chooses;
//   - a refused head is refused with one of the known errors.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "http/request_parser.h"

using namespace relais::http;

namespace {

void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "http_request_fuzz: %s\n", what);
    std::abort();
  }
}

bool KnownError(const RequestError& e) {
  for (const RequestError& k :
       {kHeadTooLarge, kBadRequestLine, kBadVersion, kBadTarget, kBadHeaderLine, kBadCoding, kBadContentLength}) {
    if (e == k) return true;
  }
  return false;
}

struct Decoded {
  ChunkedDecoder::State state = ChunkedDecoder::State::kNeedMore;
  std::string body;
  size_t consumed = 0;
  bool operator==(const Decoded&) const = default;
};

// Decodes `input` cut into pieces of `step` bytes, the first one `first`
// bytes long (step 0: the rest in one piece).
Decoded Decode(std::string_view input, const Limits& limits, size_t first, size_t step) {
  ChunkedDecoder decoder(limits);
  Decoded out;
  size_t at = 0;
  size_t piece_end = std::min(first, input.size());
  while (true) {
    std::string_view piece = input.substr(at, piece_end - at);
    ChunkedDecoder::Step s = decoder.Decode(piece);
    Require(s.consumed <= piece.size(), "the decoder used more bytes than it was given");
    at += s.consumed;
    out.consumed += s.consumed;
    if (s.state == ChunkedDecoder::State::kData) {
      Require(!s.data.empty() && s.data.size() <= s.consumed, "a data step without data");
      Require(s.data.data() + s.data.size() == piece.data() + s.consumed, "data is not the end of the used bytes");
      out.body.append(s.data);
      continue;
    }
    out.state = s.state;
    if (s.state != ChunkedDecoder::State::kNeedMore) return out;
    Require(at == piece_end, "needs more but left bytes unused");
    if (at == input.size()) return out;
    piece_end = step == 0 ? input.size() : std::min(input.size(), at + step);
  }
}

void CheckChunked(std::string_view input, const Limits& limits, size_t cut) {
  Decoded whole = Decode(input, limits, input.size(), 0);
  Require(whole.body.size() <= whole.consumed, "a decoded body longer than its bytes");
  Require(whole.consumed <= input.size(), "consumed more than the input");
  Decoded bytewise = Decode(input, limits, 1, 1);
  Require(bytewise == whole, "byte-at-a-time decoding differs from one piece");
  Decoded split = Decode(input, limits, cut % (input.size() + 1), 0);
  Require(split == whole, "decoding cut in two differs from one piece");
}

void CheckRequests(std::string_view input, const Limits& limits) {
  std::string_view rest = input;
  for (int n = 0; n < 64 && !rest.empty(); ++n) {
    BufferedRequest r = ParseBufferedRequest(rest, limits);
    if (r.state == BufferedRequest::State::kBadHead) {
      Require(KnownError(r.error), "an unknown error");
      return;
    }
    if (r.state != BufferedRequest::State::kComplete) return;
    Require(r.consumed > 0 && r.consumed <= rest.size(), "a request of impossible length");
    Require(r.body.size() < r.consumed, "a body longer than the request");
    if (r.head.framing == BodyFraming::kLength) Require(r.body.size() == r.head.content_length, "wrong body length");
    if (r.head.framing == BodyFraming::kNone) Require(r.body.empty(), "a body without framing");
    Require(r.head.target.size() > 0 && r.head.target[0] == '/', "a target that is not a path");
    Require(r.head.version == "HTTP/1.1" || r.head.version == "HTTP/1.0", "a version not spoken");

    HeadResult again = ParseRequestHead(SerializeHead(r.head), limits);
    // The serialised head can be longer than the original (": " after
    // each name): it may be over a tiny limit.
    if (!again.ok()) {
      Require(again.error() == kHeadTooLarge, "a serialised head is refused");
    } else {
      Require(again.value() == r.head, "a serialised head parses differently");
    }

    BufferedRequest short_one = ParseBufferedRequest(rest.substr(0, r.consumed - 1), limits);
    Require(short_one.state == BufferedRequest::State::kNeedMore, "a truncated request does not need more bytes");
    rest.remove_prefix(r.consumed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Limits server;
  Limits tiny;
  tiny.max_header_bytes = 64;
  tiny.max_chunk_line_bytes = 8;
  tiny.max_trailer_line_bytes = 16;
  size_t cut = size > 0 ? data[0] * 7 + size / 2 : 0;
  for (const Limits& limits : {server, tiny}) {
    CheckRequests(input, limits);
    // The input as a chunked body on its own, and what follows its first
    // blank line as one (the body of a request with a head in front).
    CheckChunked(input, limits, cut);
    size_t blank = input.find("\r\n\r\n");
    if (blank != std::string_view::npos) CheckChunked(input.substr(blank + 4), limits, cut);
    HeadResult head = ParseRequestHead(input, limits);
    if (head.ok()) {
      HeadResult again = ParseRequestHead(SerializeHead(head.value()), limits);
      Require(again.ok() ? again.value() == head.value() : again.error() == kHeadTooLarge,
              "a serialised head parses differently");
    } else {
      Require(KnownError(head.error()), "an unknown error");
    }
  }
  return 0;
}

// The request parser on its own: header blocks and chunked bodies from
// bytes, no sockets (http/request_parser.h).
#include "http/request_parser.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace relais::http {
namespace {

const Limits kLimits;

HeadResult Parse(std::string_view head) { return ParseRequestHead(head, kLimits); }

// Decodes `input` fed in pieces of `step` bytes (0: all at once).
struct Decoded {
  ChunkedDecoder::State state;
  std::string body;
  size_t consumed = 0;
};
Decoded DecodeChunked(std::string_view input, size_t step = 0, const Limits& limits = kLimits) {
  ChunkedDecoder decoder(limits);
  Decoded out{ChunkedDecoder::State::kNeedMore, "", 0};
  size_t at = 0;
  while (true) {
    size_t n = step == 0 ? input.size() - at : std::min(step, input.size() - at);
    std::string_view piece = input.substr(at, n);
    ChunkedDecoder::Step s = decoder.Decode(piece);
    if (s.state == ChunkedDecoder::State::kData) {
      out.body.append(s.data);
      at += s.consumed;
      out.consumed += s.consumed;
      continue;
    }
    out.state = s.state;
    if (s.state != ChunkedDecoder::State::kNeedMore) {
      out.consumed += s.consumed;
      return out;
    }
    at += s.consumed;
    out.consumed += s.consumed;
    if (at == input.size()) return out;
  }
}

const std::string kChunked =
    "POST /api/v1/files HTTP/1.1\r\nHost: box\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5\r\nhello\r\n7;name=value;x\r\n, world\r\n0;last\r\nX-Checksum: abc\r\nX-Other: d\r\n\r\n";

}  // namespace

TEST_CASE("a GET with a query is parsed into method, target, decoded path and parameters") {
  HeadResult r = Parse("GET /api/v1/caf%C3%A9?q=a+b&x=%2F&&flag HTTP/1.1\r\nHost: box\r\nAccept:  */*  ");
  REQUIRE(r.ok());
  const ParsedHead& h = r.value();
  CHECK(h.method == "GET");
  CHECK(h.target == "/api/v1/caf%C3%A9?q=a+b&x=%2F&&flag");
  CHECK(h.path == "/api/v1/café");
  CHECK(h.version == "HTTP/1.1");
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  CHECK(h.params == Pairs{{"q", "a b"}, {"x", "/"}, {"flag", ""}});
  CHECK(h.headers == Pairs{{"Host", "box"}, {"Accept", "*/*"}});
  CHECK(h.framing == BodyFraming::kNone);
  CHECK(h.keep_alive);
  CHECK_FALSE(h.expect_continue);
}

TEST_CASE("every refused head gets the status, code and message the server sends") {
  struct Case {
    const char* name;
    std::string head;
    RequestError error;
  };
  const Case cases[] = {
      {"empty head", "", kBadRequestLine},
      {"no space", "GET", kBadRequestLine},
      {"no version", "GET /", kBadRequestLine},
      {"a blank line before the request", "\r\nGET / HTTP/1.1", kBadRequestLine},
      {"unknown version", "GET / HTTP/2.0", kBadVersion},
      {"lower-case version", "GET / http/1.1", kBadVersion},
      {"a space after the version", "GET / HTTP/1.1 ", kBadVersion},
      {"version HTTP/0.9", "GET / HTTP/0.9", kBadVersion},
      {"absolute target", "GET http://x/ HTTP/1.1", kBadTarget},
      {"asterisk target", "OPTIONS * HTTP/1.1", kBadTarget},
      {"two spaces after the method", "GET  / HTTP/1.1", kBadTarget},
      {"empty target", "GET  HTTP/1.1", kBadTarget},
      {"header without colon", "GET / HTTP/1.1\r\nHost x", kBadHeaderLine},
      {"header with empty name", "GET / HTTP/1.1\r\n: x", kBadHeaderLine},
      {"space before the colon", "GET / HTTP/1.1\r\nHost : x", kBadHeaderLine},
      {"tab before the colon", "GET / HTTP/1.1\r\nHost\t: x", kBadHeaderLine},
      {"obs-fold with a space", "GET / HTTP/1.1\r\nA: b\r\n c", kBadHeaderLine},
      {"obs-fold with a tab", "GET / HTTP/1.1\r\nA: b\r\n\tc", kBadHeaderLine},
      {"a blank header line", "GET / HTTP/1.1\r\nA: b\r\n\r\nC: d", kBadHeaderLine},
      {"unknown coding", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip", kBadCoding},
      {"chunked then gzip in one header", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip", kBadCoding},
      {"both lengths", "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked", kBadContentLength},
      {"two lengths", "POST / HTTP/1.1\r\nContent-Length: 3\r\ncontent-length: 3", kBadContentLength},
      {"negative length", "POST / HTTP/1.1\r\nContent-Length: -3", kBadContentLength},
      {"empty length", "POST / HTTP/1.1\r\nContent-Length:", kBadContentLength},
      {"hex length", "POST / HTTP/1.1\r\nContent-Length: 0x10", kBadContentLength},
      {"length with a sign", "POST / HTTP/1.1\r\nContent-Length: +3", kBadContentLength},
      {"19-digit length", "POST / HTTP/1.1\r\nContent-Length: 1000000000000000000", kBadContentLength},
      {"list of lengths", "POST / HTTP/1.1\r\nContent-Length: 3, 3", kBadContentLength},
      {"huge headers", "GET / HTTP/1.1\r\nX: " + std::string(20000, 'a'), kHeadTooLarge},
  };
  for (const Case& k : cases) {
    CAPTURE(k.name);
    HeadResult r = Parse(k.head);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == k.error);
  }
  CHECK(kHeadTooLarge.status == 431);
  CHECK(std::string(kHeadTooLarge.code) == "header_too_large");
  CHECK(kBadVersion.status == 505);
  CHECK(kBadCoding.status == 501);
  CHECK(kBadContentLength.status == 400);
}

TEST_CASE("an error in the request line is reported before one in the headers or the framing") {
  CHECK(Parse("GET / HTTP/2\r\nbad header\r\nTransfer-Encoding: gzip").error() == kBadVersion);
  CHECK(Parse("GET / HTTP/1.1\r\nbad header\r\nTransfer-Encoding: gzip").error() == kBadHeaderLine);
  CHECK(Parse("POST / HTTP/1.1\r\nContent-Length: x\r\nTransfer-Encoding: gzip").error() == kBadCoding);
}

TEST_CASE("request-line oddities that were accepted before stay accepted") {
  // The method ends at the first space and the version starts after the last.
  HeadResult spaces = Parse("GET /a b HTTP/1.1");
  REQUIRE(spaces.ok());
  CHECK(spaces.value().target == "/a b");
  HeadResult no_method = Parse(" / HTTP/1.1");
  REQUIRE(no_method.ok());
  CHECK(no_method.value().method.empty());
  HeadResult odd_method = Parse("BREW /pot HTTP/1.0");
  REQUIRE(odd_method.ok());
  CHECK(odd_method.value().method == "BREW");
  HeadResult bad_escape = Parse("GET /%zz%4 HTTP/1.1");
  REQUIRE(bad_escape.ok());
  CHECK(bad_escape.value().path == "/%zz%4");
}

TEST_CASE("Content-Length decides the body; zero means no body") {
  HeadResult r = Parse("POST / HTTP/1.1\r\ncontent-length: 000123");
  REQUIRE(r.ok());
  CHECK(r.value().framing == BodyFraming::kLength);
  CHECK(r.value().content_length == 123);
  HeadResult zero = Parse("POST / HTTP/1.1\r\nContent-Length: 0");
  REQUIRE(zero.ok());
  CHECK(zero.value().framing == BodyFraming::kNone);
  HeadResult big = Parse("POST / HTTP/1.1\r\nContent-Length: 999999999999999999");
  REQUIRE(big.ok());
  CHECK(big.value().content_length == 999999999999999999ull);
}

TEST_CASE("chunked framing is case-insensitive, and an empty Transfer-Encoding is ignored") {
  HeadResult r = Parse("POST / HTTP/1.1\r\nTRANSFER-ENCODING:  Chunked ");
  REQUIRE(r.ok());
  CHECK(r.value().framing == BodyFraming::kChunked);
  HeadResult empty = Parse("POST / HTTP/1.1\r\nTransfer-Encoding:\r\nContent-Length: 2");
  REQUIRE(empty.ok());
  CHECK(empty.value().framing == BodyFraming::kLength);
}

TEST_CASE("100-continue is expected only when a body follows") {
  CHECK(Parse("POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3").value().expect_continue);
  CHECK(Parse("POST / HTTP/1.1\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked").value().expect_continue);
  CHECK_FALSE(Parse("POST / HTTP/1.1\r\nExpect: 100-continue").value().expect_continue);
  CHECK_FALSE(Parse("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 0").value().expect_continue);
}

TEST_CASE("keep-alive: HTTP/1.1 unless Connection: close, HTTP/1.0 only with Connection: keep-alive") {
  CHECK(Parse("GET / HTTP/1.1").value().keep_alive);
  CHECK_FALSE(Parse("GET / HTTP/1.1\r\nConnection: Close").value().keep_alive);
  CHECK_FALSE(Parse("GET / HTTP/1.0").value().keep_alive);
  CHECK(Parse("GET / HTTP/1.0\r\nConnection: Keep-Alive").value().keep_alive);
  CHECK_FALSE(Parse("GET / HTTP/1.0\r\nConnection: keep-alive, upgrade").value().keep_alive);
}

TEST_CASE("the header block is limited in size, and so in the number of headers") {
  Limits limits;
  limits.max_header_bytes = 100;
  std::string head = "GET / HTTP/1.1\r\nX: " + std::string(100 - 19, 'a');
  REQUIRE(head.size() == 100);
  CHECK(ParseRequestHead(head, limits).ok());
  CHECK(ParseRequestHead(head + "a", limits).error() == kHeadTooLarge);

  size_t head_bytes = 0;
  CHECK(FindHeadEnd(head + "\r\n\r\n", limits, &head_bytes) == HeadEnd::kComplete);
  CHECK(head_bytes == 100);
  CHECK(FindHeadEnd(head + "a\r\n\r\n", limits, &head_bytes) == HeadEnd::kTooLarge);
  // Without its blank line yet: too large only once more than the limit is buffered.
  CHECK(FindHeadEnd(head, limits, &head_bytes) == HeadEnd::kNeedMore);
  CHECK(FindHeadEnd(head + "a", limits, &head_bytes) == HeadEnd::kTooLarge);
  // A complete head followed by a large body is fine.
  CHECK(FindHeadEnd(head + "\r\n\r\n" + std::string(1000, 'b'), limits, &head_bytes) == HeadEnd::kComplete);

  // The smallest header line ("a:" and CRLF) is 4 bytes: 16 KiB holds ~4,000 of them.
  std::string many = "GET / HTTP/1.1";
  while (many.size() + 4 <= kLimits.max_header_bytes) many += "\r\na:";
  HeadResult r = Parse(many);
  REQUIRE(r.ok());
  CHECK(r.value().headers.size() == (kLimits.max_header_bytes - 14) / 4);
  CHECK(Parse(many + "\r\na:").error() == kHeadTooLarge);
}

TEST_CASE("a header block of exactly the limit is accepted even when its blank line arrives in pieces") {
  // Found by tests/fuzz/http_request_fuzz.cc: the server answered 431 when a
  // read ended inside the final "\r\n\r\n" of a block 1 to 3 bytes under or
  // at the limit (it refused any buffer over the limit without the blank
  // line), and accepted the same block read in one piece.
  Limits limits;
  limits.max_header_bytes = 100;
  std::string head = "GET / HTTP/1.1\r\nX: " + std::string(100 - 19, 'a');
  size_t head_bytes = 0;
  for (std::string_view partial : {"", "\r", "\r\n", "\r\n\r"}) {
    CAPTURE(partial);
    CHECK(FindHeadEnd(head + std::string(partial), limits, &head_bytes) == HeadEnd::kNeedMore);
  }
  CHECK(FindHeadEnd(head + "\r\n\r\n", limits, &head_bytes) == HeadEnd::kComplete);
  // One byte more can never fit, whatever follows.
  CHECK(FindHeadEnd(head + "a\r\n\r", limits, &head_bytes) == HeadEnd::kTooLarge);
  CHECK(FindHeadEnd(head + "\r\r", limits, &head_bytes) == HeadEnd::kTooLarge);
  // The whole request, truncated anywhere, needs more bytes.
  std::string request = head + "\r\n\r\n";
  for (size_t n = 0; n < request.size(); ++n) {
    CAPTURE(n);
    CHECK(ParseBufferedRequest(std::string_view(request).substr(0, n), limits).state ==
          BufferedRequest::State::kNeedMore);
  }
}

TEST_CASE("headers keep their order; lookups are case-insensitive and take the first") {
  HeadResult r = Parse("GET / HTTP/1.1\r\nX-A: 1\r\nx-a: 2\r\nConnection: close\r\nconnection: keep-alive");
  REQUIRE(r.ok());
  REQUIRE(r.value().FindHeader("X-a") != nullptr);
  CHECK(*r.value().FindHeader("X-a") == "1");
  CHECK(r.value().CountHeader("x-A") == 2);
  CHECK(r.value().FindHeader("Missing") == nullptr);
  CHECK_FALSE(r.value().keep_alive);
}

TEST_CASE("a serialised head parses back to the same head") {
  for (std::string head : {std::string("GET /a%20b?x=1&y HTTP/1.1\r\nHost: box\r\nX:  spaced  \r\nEmpty:"),
                           std::string("POST /up HTTP/1.0\r\nContent-Length: 5\r\nConnection: keep-alive")}) {
    HeadResult first = Parse(head);
    REQUIRE(first.ok());
    HeadResult second = Parse(SerializeHead(first.value()));
    REQUIRE(second.ok());
    CHECK(second.value() == first.value());
  }
}

TEST_CASE("pipelined requests are found one after the other") {
  std::string wire =
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" +
      kChunked + "GET /c HTTP/1.1\r\n\r\n";
  std::vector<std::string> seen;
  std::string_view rest(wire);
  while (!rest.empty()) {
    BufferedRequest r = ParseBufferedRequest(rest, kLimits);
    REQUIRE(r.state == BufferedRequest::State::kComplete);
    seen.push_back(r.head.method + " " + r.head.path + " " + r.body);
    rest.remove_prefix(r.consumed);
  }
  CHECK(seen == std::vector<std::string>{"GET /a ", "POST /b hello", "POST /api/v1/files hello, world", "GET /c "});
}

TEST_CASE("a chunked body with extensions and trailers is decoded, and trailers are dropped") {
  BufferedRequest r = ParseBufferedRequest(kChunked + "NEXT", kLimits);
  REQUIRE(r.state == BufferedRequest::State::kComplete);
  CHECK(r.body == "hello, world");
  CHECK(r.consumed == kChunked.size());
  // Spaces or tabs around the size, upper-case hex digits, and an empty body.
  CHECK(DecodeChunked(" A \t;x\r\n0123456789\r\n0\r\n\r\n").body == "0123456789");
  Decoded empty = DecodeChunked("0\r\n\r\n");
  CHECK(empty.state == ChunkedDecoder::State::kDone);
  CHECK(empty.body.empty());
  CHECK(empty.consumed == 5);
}

TEST_CASE("malformed chunked bodies are errors") {
  const char* cases[] = {
      "\r\n",                   // no size
      ";ext\r\n",               // no size before the extension
      "g\r\n",                  // not hex
      "-1\r\n",                 // not hex
      "5\r\nhelloXY",           // no CRLF after the data
      "5\r\nhello\rX",          // CR without LF
      "5\r\nhello\n\r",         // LF before CR
      "1 1\r\n",                // a space inside the size
      "10000000000000000\r\n",  // 17 hex digits: over 64 bits
      "fffffffffffffffff\r\n",  // the same, all ones
  };
  for (const char* c : cases) {
    CAPTURE(c);
    CHECK(DecodeChunked(c).state == ChunkedDecoder::State::kError);
    CHECK(DecodeChunked(c, 1).state == ChunkedDecoder::State::kError);
  }
}

TEST_CASE("a chunk size of 64 bits is accepted and its data awaited, with leading zeros too") {
  Decoded d = DecodeChunked("ffffffffffffffff\r\nabc");
  CHECK(d.state == ChunkedDecoder::State::kNeedMore);
  CHECK(d.body == "abc");
  CHECK(DecodeChunked("00000000000000000000000000000001\r\nx\r\n0\r\n\r\n").body == "x");
}

TEST_CASE("chunk-size lines and trailer lines are limited, CR included") {
  Limits limits;
  std::string ext(limits.max_chunk_line_bytes - 3, 'e');  // "1;" + ext + CR = the limit
  CHECK(DecodeChunked("1;" + ext + "\r\nx\r\n0\r\n\r\n", 0, limits).state == ChunkedDecoder::State::kDone);
  CHECK(DecodeChunked("1;" + ext + "e\r\nx\r\n0\r\n\r\n", 0, limits).state == ChunkedDecoder::State::kError);
  // Without a line end, the error comes as soon as the line is over the limit.
  CHECK(DecodeChunked("1;" + ext + "ee", 1, limits).state == ChunkedDecoder::State::kError);
  std::string trailer = "X: " + std::string(limits.max_trailer_line_bytes - 4, 't');  // + CR = the limit
  CHECK(DecodeChunked("0\r\n" + trailer + "\r\n\r\n", 0, limits).state == ChunkedDecoder::State::kDone);
  CHECK(DecodeChunked("0\r\n" + trailer + "t\r\n\r\n", 0, limits).state == ChunkedDecoder::State::kError);
  // Many trailer lines are fine: each is limited, not their number.
  std::string many = "0\r\n";
  for (int i = 0; i < 1000; ++i) many += "X: y\r\n";
  CHECK(DecodeChunked(many + "\r\n").state == ChunkedDecoder::State::kDone);
}

TEST_CASE("a chunked body split at every byte boundary decodes to the same body") {
  std::string body_bytes = kChunked.substr(kChunked.find("\r\n\r\n") + 4);
  Decoded whole = DecodeChunked(body_bytes);
  REQUIRE(whole.state == ChunkedDecoder::State::kDone);
  REQUIRE(whole.body == "hello, world");
  for (size_t cut = 0; cut <= body_bytes.size(); ++cut) {
    CAPTURE(cut);
    ChunkedDecoder decoder(kLimits);
    std::string body;
    ChunkedDecoder::State last = ChunkedDecoder::State::kNeedMore;
    for (std::string_view part :
         {std::string_view(body_bytes).substr(0, cut), std::string_view(body_bytes).substr(cut)}) {
      while (true) {
        ChunkedDecoder::Step s = decoder.Decode(part);
        part.remove_prefix(s.consumed);
        if (s.state == ChunkedDecoder::State::kData) {
          body.append(s.data);
          continue;
        }
        last = s.state;
        break;
      }
    }
    CHECK(last == ChunkedDecoder::State::kDone);
    CHECK(body == whole.body);
  }
  Decoded bytewise = DecodeChunked(body_bytes, 1);
  CHECK(bytewise.state == ChunkedDecoder::State::kDone);
  CHECK(bytewise.body == whole.body);
  CHECK(bytewise.consumed == whole.consumed);
}

TEST_CASE("the decoder stops at the end of the body and leaves the next request's bytes") {
  Decoded d = DecodeChunked("3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  CHECK(d.state == ChunkedDecoder::State::kDone);
  CHECK(d.consumed == 13);
  ChunkedDecoder done(kLimits);
  REQUIRE(done.Decode("0\r\n\r\n").state == ChunkedDecoder::State::kDone);
  ChunkedDecoder::Step again = done.Decode("more");
  CHECK(again.state == ChunkedDecoder::State::kDone);
  CHECK(again.consumed == 0);
}

TEST_CASE("every truncation of a valid request needs more bytes, never an error") {
  const std::string requests[] = {
      "GET /api/v1/homework?due=2024-06-01 HTTP/1.1\r\nHost: box\r\nCookie: s=abc\r\n\r\n",
      "POST /api/v1/session HTTP/1.1\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n{\"a\":\"bcd\"}",
      "GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      kChunked,
  };
  for (const std::string& request : requests) {
    BufferedRequest whole = ParseBufferedRequest(request, kLimits);
    REQUIRE(whole.state == BufferedRequest::State::kComplete);
    CHECK(whole.consumed == request.size());
    for (size_t n = 0; n < request.size(); ++n) {
      CAPTURE(request.substr(0, n));
      BufferedRequest r = ParseBufferedRequest(std::string_view(request).substr(0, n), kLimits);
      CHECK(r.state == BufferedRequest::State::kNeedMore);
    }
  }
}

}  // namespace relais::http

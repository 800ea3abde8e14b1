// bench/http_parser.cc — our request parser (http/request_parser.h) against
// Boost.Beast's http::request_parser (header-only, libboost-dev), on the same
// captured requests, in nanoseconds per request. See docs/http.md.
//
//   cmake --build build --target relais_bench_http_parser
//   taskset -c 0 build/relais_bench_http_parser [iterations]
//
// Requests: the homework list as a tablet's browser asks for it (cookie,
// accept, user-agent, client hints: 621 bytes), the same as wrk sends it in
// bench/homework_list.py (Authorization: Bearer, 122 bytes), and a chunked
// upload (a 4 KiB body in 1 KiB chunks, extensions and a trailer).
//
// Two figures for each parser: the parse alone, and the parse plus what
// EventServer::Serve does next, building the handler's httplib::Request
// (with Beast: copying its fields, percent-decoding the path and query).
// Bodies are copied into a std::string by both. Best of 5 rounds.
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "http/event_server.h"
#include "http/http_util.h"
#include "http/request_parser.h"

namespace http = boost::beast::http;
using namespace relais::http;

namespace {

const std::string kToken = "k3Qz9X2mWb7vYtR4pLs8NcHe1JdFaGuV5oZiB6xTqwE";

std::string TabletHomework() {
  return "GET /api/v1/homework HTTP/1.1\r\n"
         "Host: relais.local\r\n"
         "Connection: keep-alive\r\n"
         "sec-ch-ua: \"Not_A Brand\";v=\"8\", \"Chromium\";v=\"120\", \"Google Chrome\";v=\"120\"\r\n"
         "Accept: application/json\r\n"
         "sec-ch-ua-mobile: ?1\r\n"
         "User-Agent: Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/120.0.6099.230 Safari/537.36\r\n"
         "sec-ch-ua-platform: \"Android\"\r\n"
         "Sec-Fetch-Site: same-origin\r\n"
         "Sec-Fetch-Mode: cors\r\n"
         "Sec-Fetch-Dest: empty\r\n"
         "Referer: http://relais.local/\r\n"
         "Accept-Encoding: gzip, deflate\r\n"
         "Accept-Language: fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7\r\n"
         "Cookie: relais_session=" +
         kToken + "\r\n\r\n";
}

std::string WrkHomework() {
  return "GET /api/v1/homework HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAuthorization: Bearer " + kToken + "\r\n\r\n";
}

std::string ChunkedUpload() {
  std::string out =
      "POST /api/v1/files HTTP/1.1\r\nHost: relais.local\r\nContent-Type: application/pdf\r\n"
      "X-Filename: devoir%20maths.pdf\r\nCookie: relais_session=" +
      kToken + "\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) out += "400;part=" + std::to_string(i) + "\r\n" + std::string(1024, 'a' + i) + "\r\n";
  return out + "0\r\nX-Checksum: sha256=ab12\r\n\r\n";
}

struct Parsed {
  std::string method, target, body;
  size_t headers = 0;
  bool operator==(const Parsed&) const = default;
};

// Ours: the head, then the body (Content-Length or chunked).
Parsed Ours(const std::string& wire, bool build_request) {
  static const Limits limits;
  BufferedRequest r = ParseBufferedRequest(wire, limits);
  if (r.state != BufferedRequest::State::kComplete) std::abort();
  Parsed out;
  out.body = std::move(r.body);
  if (build_request) {
    httplib::Request req = MakeRequest(std::move(r.head));
    out.method = req.method;
    out.target = req.target;
    out.headers = req.headers.size();
  } else {
    out.method = r.head.method;
    out.target = r.head.target;
    out.headers = r.head.headers.size();
  }
  return out;
}

// Beast: request_parser with a buffer_body (the body handed over in
// windows, as our handlers read it), then the same copies.
Parsed Beast(const std::string& wire, bool build_request) {
  http::request_parser<http::buffer_body> p;
  p.header_limit(16 * 1024);
  p.body_limit(boost::none);
  p.eager(true);
  boost::beast::error_code ec;
  std::string_view rest(wire);
  size_t n = p.put(boost::asio::const_buffer(rest.data(), rest.size()), ec);
  if (ec && ec != http::error::need_buffer) std::abort();
  rest.remove_prefix(n);
  Parsed out;
  char window[65536];
  while (!p.is_done()) {
    p.get().body().data = window;
    p.get().body().size = sizeof window;
    ec = {};
    n = p.put(boost::asio::const_buffer(rest.data(), rest.size()), ec);
    if (ec && ec != http::error::need_buffer) std::abort();
    rest.remove_prefix(n);
    out.body.append(window, sizeof window - p.get().body().size);
  }
  const auto& msg = p.get();
  if (build_request) {
    httplib::Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.version = msg.version() == 11 ? "HTTP/1.1" : "HTTP/1.0";
    std::string_view target(req.target);
    size_t q = target.find('?');
    req.path = PercentDecode(target.substr(0, q), false);
    if (q != std::string_view::npos) {
      for (auto& [k, v] : ParseQuery(target.substr(q + 1))) req.params.emplace(std::move(k), std::move(v));
    }
    for (const auto& field : msg) req.headers.emplace(std::string(field.name_string()), std::string(field.value()));
    out.method = req.method;
    out.target = req.target;
    out.headers = req.headers.size();
  } else {
    out.method = std::string(msg.method_string());
    out.target = std::string(msg.target());
    out.headers = static_cast<size_t>(std::distance(msg.begin(), msg.end()));
  }
  return out;
}

template <typename F>
double NsPerRequest(int iterations, F&& f) {
  double best = 1e300;
  for (int round = 0; round < 5; ++round) {
    size_t sink = 0;
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) sink += f().body.size() + 1;
    auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    if (sink == 0) std::abort();
    best = std::min(best, ns / iterations);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = argc > 1 ? std::atoi(argv[1]) : 200000;
  struct Case {
    const char* name;
    std::string wire;
    size_t trailers;
  };
  const Case cases[] = {
      {"homework_list_tablet", TabletHomework(), 0},
      {"homework_list_wrk", WrkHomework(), 0},
      {"chunked_upload_4k", ChunkedUpload(), 1},
  };
  for (const Case& c : cases) {
    // Both parsers must read the same request before their speed means anything.
    for (bool build : {false, true}) {
      Parsed a = Ours(c.wire, build);
      Parsed b = Beast(c.wire, build);
      // Beast adds trailer fields to the header fields; ours drops them.
      b.headers -= c.trailers;
      if (!(a == b)) {
        std::fprintf(stderr, "http_parser: the parsers disagree on %s\n", c.name);
        return 1;
      }
    }
    int n = c.wire.size() > 2000 ? iterations / 4 : iterations;
    for (bool build : {false, true}) {
      double ours = NsPerRequest(n, [&] { return Ours(c.wire, build); });
      double beast = NsPerRequest(n, [&] { return Beast(c.wire, build); });
      std::printf("%-22s %4zu bytes %-22s relais %7.0f ns/request, beast %7.0f ns/request, beast/relais %.2fx\n",
                  c.name, c.wire.size(), build ? "parse+httplib::Request" : "parse", ours, beast, beast / ours);
    }
  }
  return 0;
}

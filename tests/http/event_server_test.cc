// The HTTP/1.1 transport on its own, with a small echo handler, over raw sockets.
#include "http/event_server.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "tests/support/wait.h"

namespace relais::http {
namespace {

// Answers "METHOD PATH q=<param q> body=<the body>"; /refuse answers 401
// without reading the body; /slow sleeps 300 ms.
class EchoServer {
 public:
  EchoServer() {
    EventServer::Options options;
    options.min_workers = 2;
    options.keep_alive_timeout_s = 2;
    server_ = std::make_unique<EventServer>(
        [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) {
          ++requests;
          if (req.path == "/refuse") {
            res.status = 401;
            res.set_content("{}", "application/json");
            return;
          }
          if (req.path == "/slow") {
            ++slow_started;
            std::this_thread::sleep_for(std::chrono::milliseconds(300));  // slow on purpose: the stimulus
          }
          std::string body;
          if (reader)
            (*reader)([&](const char* d, size_t n) {
              body.append(d, n);
              return true;
            });
          if (req.path == "/stream") {
            res.set_content_provider(10, "text/plain", [](size_t offset, size_t, httplib::DataSink& sink) {
              return sink.write("0123456789" + offset, 10 - offset >= 4 ? 4 : 10 - offset);
            });
            return;
          }
          res.set_content(req.method + " " + req.path + " q=" + req.get_param_value("q") + " body=" + body,
                          "text/plain");
        },
        options);
    port = server_->Bind("127.0.0.1", 0).value();
    thread_ = std::thread([this] { server_->Run(); });
  }
  ~EchoServer() {
    server_->Stop();
    thread_.join();
  }
  int port = 0;
  std::atomic<int> requests{0};
  std::atomic<int> slow_started{0};  // /slow requests whose handler has begun

 private:
  std::unique_ptr<EventServer> server_;
  std::thread thread_;
};

// A client socket that sends raw bytes and reads until `until` appears the
// given number of times, the peer closes, or 3 s pass.
class Raw {
 public:
  explicit Raw(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{3, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Raw() { ::close(fd_); }
  void Send(const std::string& s) { REQUIRE(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == (ssize_t)s.size()); }
  // Reads until `needle` has been seen `count` times; returns everything read.
  std::string ReadUntil(const std::string& needle, int count = 1) {
    while (Count(needle) < count) {
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed = true;
        break;
      }
      got_.append(buf, static_cast<size_t>(n));
    }
    return got_;
  }
  bool closed = false;

 private:
  int Count(const std::string& needle) const {
    int n = 0;
    for (size_t p = got_.find(needle); p != std::string::npos; p = got_.find(needle, p + 1)) ++n;
    return n;
  }
  int fd_;
  std::string got_;
};

}  // namespace

TEST_CASE("a keep-alive connection serves several requests, pipelined ones in order") {
  EchoServer s;
  Raw c(s.port);
  c.Send("GET /a?q=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /b?q=%C3%A9+x HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string out = c.ReadUntil("HTTP/1.1 200 OK", 2);
  c.ReadUntil("body=", 2);
  out = c.ReadUntil("GET /b q=é x body=");
  CHECK(out.find("GET /a q=1 body=") < out.find("GET /b q=é x body="));
  c.Send("POST /c HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
  CHECK(c.ReadUntil("body=hello").find("POST /c q= body=hello") != std::string::npos);
  CHECK_FALSE(c.closed);
}

TEST_CASE("a chunked request body is decoded") {
  EchoServer s;
  Raw c(s.port);
  c.Send(
      "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: "
      "y\r\n\r\n");
  CHECK(c.ReadUntil("world").find("body=hello, world") != std::string::npos);
}

TEST_CASE("a chunked request body sent a byte at a time is decoded, and the next request follows") {
  EchoServer s;
  Raw c(s.port);
  std::string wire =
      "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-T: "
      "y\r\n\r\nGET /next HTTP/1.1\r\n\r\n";
  for (char ch : wire) c.Send(std::string(1, ch));
  std::string out = c.ReadUntil("GET /next q= body=");
  CHECK(out.find("body=hello, world") != std::string::npos);
  CHECK_FALSE(c.closed);
}

TEST_CASE("a client that expects 100 Continue gets it once the handler reads the body") {
  EchoServer s;
  Raw c(s.port);
  c.Send("POST /up HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  CHECK(c.ReadUntil("\r\n\r\n").rfind("HTTP/1.1 100 Continue", 0) == 0);
  c.Send("abc");
  CHECK(c.ReadUntil("body=abc").find("200 OK") != std::string::npos);
}

TEST_CASE("a refused body is never read and the connection closes after the answer") {
  EchoServer s;
  Raw c(s.port);
  // The client announces a large body and waits for 100 Continue: it must get the 401 at once.
  auto start = std::chrono::steady_clock::now();
  c.Send("POST /refuse HTTP/1.1\r\nContent-Length: 100000000\r\nExpect: 100-continue\r\n\r\n");
  std::string out = c.ReadUntil("{}");
  CHECK(out.rfind("HTTP/1.1 401", 0) == 0);
  CHECK(out.find("Connection: close") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  c.ReadUntil("never");
  CHECK(c.closed);
}

TEST_CASE("malformed requests get 4xx and a closed connection, and never reach the handler") {
  EchoServer s;
  struct Case {
    const char* name;
    std::string bytes;
    const char* status;
  };
  Case cases[] = {
      {"no version", "GET /\r\n\r\n", "400"},
      {"unknown version", "GET / HTTP/2.0\r\n\r\n", "505"},
      {"absolute target", "GET http://x/ HTTP/1.1\r\n\r\n", "400"},
      {"header without colon", "GET / HTTP/1.1\r\nHost x\r\n\r\n", "400"},
      {"folded header", "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", "400"},
      {"both lengths", "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "400"},
      {"two lengths", "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "400"},
      {"negative length", "POST / HTTP/1.1\r\nContent-Length: -3\r\n\r\n", "400"},
      {"unknown coding", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "501"},
      {"huge headers", "GET / HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n", "431"},
  };
  for (const Case& k : cases) {
    CAPTURE(k.name);
    Raw c(s.port);
    c.Send(k.bytes);
    std::string out = c.ReadUntil("\"}}");
    CHECK(out.rfind(std::string("HTTP/1.1 ") + k.status, 0) == 0);
    c.ReadUntil("never");
    CHECK(c.closed);
  }
  CHECK(s.requests == 0);
}

TEST_CASE("HEAD answers the length without a body, and streamed bodies arrive whole") {
  EchoServer s;
  Raw c(s.port);
  c.Send("HEAD /x HTTP/1.1\r\n\r\nGET /stream HTTP/1.1\r\n\r\n");
  std::string out = c.ReadUntil("0123456789");
  CHECK(out.find("Content-Length: 16") != std::string::npos);  // the length of "HEAD /x q= body="…
  CHECK(out.find("HEAD /x") == std::string::npos);             // …but not the body itself
  CHECK(out.find("Content-Length: 10") != std::string::npos);
}

TEST_CASE("HTTP/1.0 closes after one answer unless asked to keep the connection") {
  EchoServer s;
  Raw c(s.port);
  c.Send("GET /old HTTP/1.0\r\n\r\n");
  std::string out = c.ReadUntil("never");
  CHECK(out.rfind("HTTP/1.0 200 OK", 0) == 0);
  CHECK(c.closed);
}

TEST_CASE("slow requests do not hold up the others: the pool grows") {
  EchoServer s;  // 2 workers to start with
  std::vector<std::thread> slow;
  for (int i = 0; i < 6; ++i)
    slow.emplace_back([&] {
      Raw c(s.port);
      c.Send("GET /slow HTTP/1.1\r\n\r\n");
      c.ReadUntil("body=");
    });
  // The fast request goes in once the slow ones hold the two first workers.
  REQUIRE_MESSAGE(testing::WaitUntil([&] { return s.slow_started >= 2; }), "the slow requests never started");
  auto start = std::chrono::steady_clock::now();
  Raw fast(s.port);
  fast.Send("GET /fast HTTP/1.1\r\n\r\n");
  CHECK(fast.ReadUntil("body=").find("200 OK") != std::string::npos);
  for (auto& t : slow) t.join();
  // Without growth the fast request would wait for three rounds of slow ones (900 ms).
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(700));
}

TEST_CASE("idle keep-alive connections are closed after the timeout") {
  EchoServer s;  // 2 s keep-alive
  Raw c(s.port);
  c.Send("GET /a HTTP/1.1\r\n\r\n");
  c.ReadUntil("body=");
  auto start = std::chrono::steady_clock::now();
  c.ReadUntil("never");
  CHECK(c.closed);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(2900));
}

}  // namespace relais::http

// HTTPS in the transport: a real Relais box on 127.0.0.1 with the certificate
// `relais tls init` makes, driven by cpp-httplib's SSL client and by a raw
// OpenSSL client for what a library would not send.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "box/box_ca.h"
#include "core/crypto.h"
#include "core/files.h"
#include "tests/box/test_server.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

namespace relais::testing {

using namespace relais::box;
using namespace relais::http;
namespace {

using Clock = std::chrono::steady_clock;

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// True when the server closes `fd` (EOF or reset) within `limit`; reads and
// drops whatever comes before (an alert, say).
bool ClosedWithin(int fd, std::chrono::milliseconds limit) {
  char buf[512];
  return testing::WaitUntil(
      [&] {
        ssize_t n;
        while ((n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
        }
        return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
      },
      limit, std::chrono::milliseconds(20));
}

// A TLS client over a raw socket, verifying the box's certificate for
// "localhost" against its CA.
class TlsRaw {
 public:
  TlsRaw(const TestServer& box, int max_version = 0, const std::string& alpn = "")
      : TlsRaw(box.data_dir(), box.https_port(), max_version, alpn) {}
  TlsRaw(const fs::path& data_dir, int port, int max_version = 0, const std::string& alpn = "") {
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    REQUIRE(SSL_CTX_load_verify_locations(ctx_, (BoxTlsDir(data_dir) / "ca.crt").c_str(), nullptr) == 1);
    if (max_version) SSL_CTX_set_max_proto_version(ctx_, max_version);
    fd_ = Connect(port);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, "localhost");
    SSL_set1_host(ssl_, "localhost");
    if (!alpn.empty()) {
      std::string wire;
      for (size_t at = 0; at < alpn.size();) {
        size_t comma = alpn.find(',', at);
        std::string p = alpn.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        wire += static_cast<char>(p.size()) + p;
        at = comma == std::string::npos ? alpn.size() : comma + 1;
      }
      SSL_set_alpn_protos(ssl_, reinterpret_cast<const unsigned char*>(wire.data()),
                          static_cast<unsigned>(wire.size()));
    }
    connected = SSL_connect(ssl_) == 1;
    ERR_clear_error();
  }
  ~TlsRaw() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    ::close(fd_);
  }
  void Send(const std::string& s) { REQUIRE(SSL_write(ssl_, s.data(), static_cast<int>(s.size())) == (int)s.size()); }
  // Reads until `needle` has been seen `count` times or the server closes.
  std::string ReadUntil(const std::string& needle, int count = 1) {
    while (Count(needle) < count) {
      char buf[16384];
      int n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) {
        closed = true;
        clean_close = SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN;
        ERR_clear_error();
        break;
      }
      got_.append(buf, static_cast<size_t>(n));
    }
    return got_;
  }
  std::string Alpn() const {
    const unsigned char* p = nullptr;
    unsigned n = 0;
    SSL_get0_alpn_selected(ssl_, &p, &n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  // True when the server showed the certificate in `pem`.
  bool ShowedCertificate(const fs::path& pem) const {
    X509* peer = SSL_get1_peer_certificate(ssl_);
    BIO* bio = BIO_new_file(pem.c_str(), "r");
    X509* file = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
    bool same = peer && file && X509_cmp(peer, file) == 0;
    X509_free(peer);
    X509_free(file);
    BIO_free(bio);
    return same;
  }
  bool connected = false;
  bool closed = false;
  bool clean_close = false;  // the server sent close_notify

 private:
  int Count(const std::string& needle) const {
    int n = 0;
    for (size_t p = got_.find(needle); p != std::string::npos; p = got_.find(needle, p + 1)) ++n;
    return n;
  }
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  std::string got_;
};

// A PDF of `size` bytes whose content differs at every offset.
std::string BigPdf(size_t size) {
  std::string out = "%PDF-1.4\n";
  uint32_t x = 12345;
  while (out.size() + 7 < size) {
    x = x * 1103515245u + 12345u;
    out.push_back(static_cast<char>(x >> 24));
  }
  return out + "\n%%EOF\n";
}

}  // namespace

TEST_CASE("over HTTPS a student logs in and reads JSON; the certificate verifies against the box's CA only") {
  TestServer box(UseBoxCertificate);
  Cast cast = SeedTwoClasses(box);
  REQUIRE(box.https_port() != 0);
  box.set_https(true);
  std::string token = box.Login("student.a");
  REQUIRE_FALSE(token.empty());
  Reply me = box.Get("/api/v1/me", token);
  CHECK(me.status == 200);
  CHECK(me.body["user"]["login"] == "student.a");
  // A client that trusts only the usual public CAs refuses the box.
  httplib::SSLClient stranger("localhost", box.https_port());
  stranger.enable_server_certificate_verification(true);
  stranger.set_connection_timeout(5, 0);
  CHECK_FALSE(stranger.Get("/api/v1/health"));
}

TEST_CASE("a large file streams whole and in byte ranges over HTTPS") {
  TestServer box(UseBoxCertificate);
  Cast cast = SeedTwoClasses(box);
  box.set_https(true);
  std::string teacher = box.Login("teacher.a");
  std::string pdf = BigPdf(3 * 1024 * 1024 + 17);
  Reply up = box.Upload(teacher, pdf, "application/pdf", "cours.pdf");
  REQUIRE_MESSAGE(up.status == 201, Describe(up));
  std::string path = "/api/v1/files/" + up.body["id"].get<std::string>();
  Reply whole = box.Get(path, teacher);
  CHECK(whole.status == 200);
  CHECK(whole.raw.size() == pdf.size());
  CHECK(whole.raw == pdf);
  Reply middle = box.Get(path, teacher, {{"Range", "bytes=1000000-2499999"}});
  CHECK(middle.status == 206);
  CHECK(middle.raw == pdf.substr(1000000, 1500000));
  Reply tail = box.Get(path, teacher, {{"Range", "bytes=-70000"}});
  CHECK(tail.status == 206);
  CHECK(tail.raw == pdf.substr(pdf.size() - 70000));
}

TEST_CASE("keep-alive and pipelined requests over TLS are answered in order on one connection") {
  TestServer box(UseBoxCertificate);
  TlsRaw c(box);
  REQUIRE(c.connected);
  c.Send(
      "GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n"
      "GET /generate_204 HTTP/1.1\r\nHost: localhost\r\n\r\n"
      "GET /api/v1/nothing-here HTTP/1.1\r\nHost: localhost\r\n\r\n");
  std::string out = c.ReadUntil("no such endpoint");
  size_t ok = out.find("HTTP/1.1 200 OK");
  size_t no_content = out.find("HTTP/1.1 204 No Content");
  size_t not_found = out.find("HTTP/1.1 404 Not Found");
  CHECK(ok < no_content);
  CHECK(no_content < not_found);
  CHECK(not_found != std::string::npos);
  // The same connection serves a later request, then ends with close_notify
  // when asked to close.
  c.Send("GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  c.ReadUntil("HTTP/1.1 200 OK", 2);
  CHECK_FALSE(c.closed);
  c.ReadUntil("never");
  CHECK(c.closed);
  CHECK(c.clean_close);
}

TEST_CASE("TLS 1.1 is refused and ALPN settles on http/1.1") {
  TestServer box(UseBoxCertificate);
  TlsRaw old(box, TLS1_1_VERSION);
  CHECK_FALSE(old.connected);
  TlsRaw modern(box, 0, "h2,http/1.1");
  REQUIRE(modern.connected);
  CHECK(modern.Alpn() == "http/1.1");
}

TEST_CASE("clients stalled in the handshake hold no worker and are dropped after the handshake timeout") {
  TestServer box(UseBoxCertificate, [](EventServer::Options& o) {
    o.min_workers = 2;
    o.max_workers = 2;  // the pool cannot grow: a held worker would show
    o.handshake_timeout_s = 1;
  });
  std::vector<int> stalled;
  static const char kHelloStart[] = "\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03";
  for (int i = 0; i < 12; ++i) {
    int fd = Connect(box.https_port());
    if (i % 2) ::send(fd, kHelloStart, sizeof kHelloStart - 1, MSG_NOSIGNAL);  // half a ClientHello
    stalled.push_back(fd);
  }
  // The server has taken every stalled client in before the request that must not wait behind them.
  REQUIRE_MESSAGE(testing::WaitUntil([&] { return box.connections() >= stalled.size(); }),
                  "the server took " << box.connections() << " of the " << stalled.size() << " stalled clients");
  box.set_https(true);
  auto start = Clock::now();
  Reply health = box.Get("/api/v1/health");
  CHECK(health.status == 200);
  CHECK(Clock::now() - start < std::chrono::milliseconds(900));
  for (int fd : stalled) {
    CHECK(ClosedWithin(fd, std::chrono::milliseconds(3000)));
    ::close(fd);
  }
  CHECK(Clock::now() - start >= std::chrono::milliseconds(800));
}

TEST_CASE("garbage instead of a ClientHello closes the connection and the server goes on") {
  TestServer box(UseBoxCertificate);
  // A handshake record of 256 bytes that holds no handshake message.
  std::string record_garbage = std::string("\x16\x03\x01\x01\x00", 5) + std::string(300, '\x7f');
  std::string binary_garbage("\x00\x01\x02\x03\xff\xfe\x10\x20", 8);
  for (const std::string& garbage : {record_garbage, binary_garbage}) {
    int fd = Connect(box.https_port());
    ::send(fd, garbage.data(), garbage.size(), MSG_NOSIGNAL);
    CHECK(ClosedWithin(fd, std::chrono::milliseconds(2000)));
    ::close(fd);
  }
  box.set_https(true);
  CHECK(box.Get("/api/v1/health").status == 200);
}

TEST_CASE("a plain-HTTP request sent to the HTTPS port is redirected to https on the same host and port") {
  TestServer box(UseBoxCertificate);
  std::string port = std::to_string(box.https_port());
  std::string out =
      RawExchange(box.https_port(), "GET /api/v1/health?x=1 HTTP/1.1\r\nHost: localhost:" + port + "\r\n\r\n");
  CHECK(out.rfind("HTTP/1.1 301 ", 0) == 0);
  CHECK(out.find("\r\nLocation: https://localhost:" + port + "/api/v1/health?x=1\r\n") != std::string::npos);
  std::string no_host = RawExchange(box.https_port(), "GET / HTTP/1.0\r\n\r\n");
  CHECK(no_host.rfind("HTTP/1.1 400 ", 0) == 0);
  CHECK(no_host.find("https_required") != std::string::npos);
}

TEST_CASE("the plain listener keeps answering probes and serves the box's CA at /ca.crt") {
  TestServer box(UseBoxCertificate);
  CHECK(box.Get("/generate_204").status == 204);
  Reply ca = box.Get("/ca.crt");
  CHECK(ca.status == 200);
  CHECK(ca.Header("Content-Type") == "application/x-x509-ca-cert");
  CHECK(ca.raw == core::ReadFile(BoxTlsDir(box.data_dir()) / "ca.crt").value());
  CHECK(ca.raw.rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
  // A box without its own CA says so.
  TestServer plain;
  Reply none = plain.Get("/ca.crt");
  CHECK(none.status == 404);
  CHECK(IsJsonError(none));
}

TEST_CASE("SIGHUP makes a running server show a renewed certificate to new connections") {
  fs::path dir = fs::temp_directory_path() / ("relais-tls-reload-" + core::RandomToken(8));
  BoxCertificateRequest request{{"localhost"}, {"127.0.0.1"}, core::SystemClock().Now(), false};
  REQUIRE(InitBoxCertificates(dir, request).ok());
  int port = 0;
  {  // a free port for HTTPS (the child prints only its plain one)
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    ::close(fd);
  }
  ServerProcess::Options options;
  options.data_dir = dir;
  options.extra_args = {"--https-listen", "127.0.0.1:" + std::to_string(port)};
  auto child = ServerProcess::Start(options);
  REQUIRE_MESSAGE(child.ok(), child.status().ToString());
  fs::path cert = BoxTlsDir(dir) / "server.crt";
  std::string before = core::ReadFile(cert).value();
  TlsRaw old_connection(dir, port);
  REQUIRE(old_connection.connected);
  CHECK(old_connection.ShowedCertificate(cert));
  REQUIRE(InitBoxCertificates(dir, request).ok());  // renewed: same CA, new certificate
  REQUIRE(core::ReadFile(cert).value() != before);
  ::kill((*child)->pid(), SIGHUP);
  bool renewed = testing::WaitUntil(
      [&] {
        TlsRaw fresh(dir, port);
        return fresh.connected && fresh.ShowedCertificate(cert);
      },
      std::chrono::seconds(5), std::chrono::milliseconds(50));
  CHECK_MESSAGE(renewed, "new connections never showed the renewed certificate after SIGHUP");
  // The connection made before the reload still works.
  old_connection.Send("GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n");
  CHECK(old_connection.ReadUntil("\"status\":\"ok\"").find("200 OK") != std::string::npos);
  CHECK((*child)->Stop().ok());
  fs::remove_all(dir);
}

}  // namespace relais::testing

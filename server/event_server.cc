#include "server/event_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/log.h"
#include "server/http_util.h"

namespace relais::server {
namespace {

constexpr uint64_t kListenerId = 0;
constexpr uint64_t kStopId = 1;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const char* Reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    case 507:
      return "Insufficient Storage";
    default:
      return "Unknown";
  }
}

bool SendAll(int fd, const char* data, size_t n, int flags = 0) {
  while (n > 0) {
    ssize_t w = ::send(fd, data, n, flags | MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool WritevAll(int fd, std::string_view a, std::string_view b) {
  while (!a.empty() || !b.empty()) {
    iovec iov[2] = {{const_cast<char*>(a.data()), a.size()}, {const_cast<char*>(b.data()), b.size()}};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    ssize_t w = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    size_t done = static_cast<size_t>(w);
    size_t from_a = std::min(done, a.size());
    a.remove_prefix(from_a);
    b.remove_prefix(std::min(done - from_a, b.size()));
  }
  return true;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string AddressOf(const sockaddr_storage& sa, int* port) {
  char host[INET6_ADDRSTRLEN] = "";
  if (sa.ss_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(&sa);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    *port = ntohs(in->sin_port);
  } else if (sa.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(&sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    *port = ntohs(in6->sin6_port);
  }
  return host;
}

}  // namespace

struct EventServer::Conn {
  uint64_t id = 0;
  int fd = -1;
  std::string in;  // bytes received and not yet consumed
  std::string remote_addr, local_addr;
  int remote_port = 0, local_port = 0;
  int64_t last_active_ms = 0;
  bool busy = false;
};

EventServer::EventServer(Handler handler, Options options) : handler_(std::move(handler)), options_(options) {}

EventServer::~EventServer() {
  Stop();
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  for (auto& [id, c] : conns_) ::close(c->fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

Result<int> EventServer::Bind(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  if (::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res) != 0 || !res)
    return Status::InvalidArgument("cannot resolve listen address " + host);
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  bool ok = fd >= 0 && ::bind(fd, res->ai_addr, res->ai_addrlen) == 0 && ::listen(fd, 1024) == 0;
  ::freeaddrinfo(res);
  if (!ok) {
    std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return Status::IOError("cannot listen on " + host + ":" + service + ": " + why);
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  int bound_port = 0;
  AddressOf(bound, &bound_port);
  listen_fd_ = fd;
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLEXCLUSIVE;
  ev.data.u64 = kListenerId;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  ev.events = EPOLLIN;  // level-triggered: every worker sees it
  ev.data.u64 = kStopId;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, stop_fd_, &ev);
  return bound_port;
}

bool EventServer::Run() {
  if (listen_fd_ < 0) return false;
  last_idle_ms_ = NowMs();
  SpawnWorkers(options_.min_workers);
  Monitor();  // until Stop()
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
  return true;
}

void EventServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (stop_fd_ >= 0) {
    uint64_t one = 1;
    ssize_t ignored = ::write(stop_fd_, &one, sizeof one);
    (void)ignored;
  }
  // Wake workers blocked on slow clients.
  std::lock_guard lock(mu_);
  for (auto& [id, c] : conns_) ::shutdown(c->fd, SHUT_RDWR);
}

size_t EventServer::connections() const {
  std::lock_guard lock(mu_);
  return conns_.size();
}

void EventServer::SpawnWorkers(int n) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < n && worker_count_ < options_.max_workers; ++i) {
    ++worker_count_;
    ++idle_workers_;
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

void EventServer::Monitor() {
  while (!stopping_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int64_t now = NowMs();
    // Every worker busy for a while (slow transfers hold theirs): add some.
    if (idle_workers_ == 0 && now - last_idle_ms_ > 100) SpawnWorkers(8);
    // Close keep-alive connections idle for too long.
    std::vector<uint64_t> idle;
    {
      std::lock_guard lock(mu_);
      for (auto& [id, c] : conns_)
        if (!c->busy && now - c->last_active_ms > options_.keep_alive_timeout_s * 1000LL) idle.push_back(id);
    }
    for (uint64_t id : idle) Close(id);
  }
}

void EventServer::WorkerLoop() {
  while (!stopping_) {
    epoll_event ev{};
    int n = ::epoll_wait(epoll_fd_, &ev, 1, 1000);
    if (n <= 0) {
      // Workers added for a burst of slow transfers leave once it is over.
      if (NowMs() - last_idle_ms_ > 30000 && worker_count_ > options_.min_workers) break;
      continue;
    }
    if (ev.data.u64 == kStopId) break;
    if (ev.data.u64 == kListenerId) {
      AcceptAll();
      continue;
    }
    Conn* c = Claim(ev.data.u64);
    if (!c) continue;
    --idle_workers_;
    bool keep = !(ev.events & (EPOLLHUP | EPOLLERR)) && Serve(*c);
    ++idle_workers_;
    last_idle_ms_ = NowMs();
    if (keep && !stopping_) {
      Release(c);
    } else {
      Close(c->id);
    }
  }
  --worker_count_;
  --idle_workers_;
}

void EventServer::AcceptAll() {
  while (true) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN: nothing more to accept
    {
      std::lock_guard lock(mu_);
      if (conns_.size() >= options_.max_connections) {
        ::close(fd);
        continue;
      }
    }
    int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    timeval tv{options_.io_timeout_s, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    auto c = std::make_unique<Conn>();
    c->id = next_id_++;
    c->fd = fd;
    c->remote_addr = AddressOf(peer, &c->remote_port);
    sockaddr_storage local{};
    len = sizeof local;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
    c->local_addr = AddressOf(local, &c->local_port);
    c->last_active_ms = NowMs();
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLONESHOT | EPOLLRDHUP;
    ev.data.u64 = c->id;
    std::lock_guard lock(mu_);
    uint64_t id = c->id;
    conns_.emplace(id, std::move(c));
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
}

EventServer::Conn* EventServer::Claim(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = conns_.find(id);
  if (it == conns_.end() || it->second->busy) return nullptr;
  it->second->busy = true;
  return it->second.get();
}

void EventServer::Release(Conn* c) {
  std::lock_guard lock(mu_);
  c->busy = false;
  c->last_active_ms = NowMs();
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLONESHOT | EPOLLRDHUP;
  ev.data.u64 = c->id;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &ev);
}

void EventServer::Close(uint64_t id) {
  std::unique_ptr<Conn> c;
  {
    std::lock_guard lock(mu_);
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    c = std::move(it->second);
    conns_.erase(it);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->fd, nullptr);
  }
  ::close(c->fd);
}

namespace {

// The body of one request, read on demand by the handler.
class BodyReader {
 public:
  enum class Kind { kNone, kLength, kChunked };
  BodyReader(int fd, std::string& in, Kind kind, uint64_t length, bool expect_continue)
      : fd_(fd), in_(in), kind_(kind), remaining_(length), expect_continue_(expect_continue) {
    if (kind_ == Kind::kNone || (kind_ == Kind::kLength && length == 0)) done_ = true;
  }
  bool done() const { return done_; }
  bool failed() const { return failed_; }
  bool waiting_for_continue() const { return expect_continue_; }

  // Delivers the body to `receiver` in pieces; false if the body is
  // malformed, the client went away, or the receiver said stop.
  bool Read(const httplib::ContentReceiver& receiver) {
    if (done_) return true;
    if (expect_continue_) {
      expect_continue_ = false;
      static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      if (!SendAll(fd_, kContinue, sizeof kContinue - 1)) return Fail();
    }
    if (kind_ == Kind::kLength) {
      while (remaining_ > 0) {
        if (in_.empty() && !Fill()) return Fail();
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in_.size()));
        std::string piece = in_.substr(0, n);
        in_.erase(0, n);
        remaining_ -= n;
        if (!receiver(piece.data(), piece.size())) {
          stopped_ = true;
          return false;
        }
      }
      done_ = true;
      return true;
    }
    // Chunked: size line, data, CRLF … then a 0 chunk and trailers.
    while (true) {
      size_t eol;
      while ((eol = in_.find("\r\n")) == std::string::npos) {
        if (in_.size() > 1024 || !Fill()) return Fail();
      }
      std::string_view line(in_.data(), eol);
      line = line.substr(0, line.find(';'));
      uint64_t size = 0;
      if (Trim(line).empty()) return Fail();
      for (char ch : Trim(line)) {
        int h = Hex(ch);
        if (h < 0 || size > (UINT64_MAX >> 4)) return Fail();
        size = size * 16 + static_cast<uint64_t>(h);
      }
      in_.erase(0, eol + 2);
      if (size == 0) {  // trailers until an empty line
        while (true) {
          while ((eol = in_.find("\r\n")) == std::string::npos) {
            if (in_.size() > 8192 || !Fill()) return Fail();
          }
          bool empty = eol == 0;
          in_.erase(0, eol + 2);
          if (empty) break;
        }
        done_ = true;
        return true;
      }
      while (size > 0) {
        if (in_.empty() && !Fill()) return Fail();
        size_t n = static_cast<size_t>(std::min<uint64_t>(size, in_.size()));
        std::string piece = in_.substr(0, n);
        in_.erase(0, n);
        size -= n;
        if (!receiver(piece.data(), piece.size())) {
          stopped_ = true;
          return false;
        }
      }
      while (in_.size() < 2) {
        if (!Fill()) return Fail();
      }
      if (in_.compare(0, 2, "\r\n") != 0) return Fail();
      in_.erase(0, 2);
    }
  }

  // Discards the rest of the body if it has already arrived; true if the
  // body is now fully consumed. Never waits: a client may be waiting for
  // 100 Continue, or sending megabytes the handler refused.
  bool DiscardBuffered() {
    if (done_) return true;
    if (failed_ || stopped_ || expect_continue_ || kind_ != Kind::kLength || remaining_ > in_.size()) return false;
    in_.erase(0, static_cast<size_t>(remaining_));
    remaining_ = 0;
    done_ = true;
    return true;
  }

 private:
  bool Fill() {
    char buf[65536];
    while (true) {
      ssize_t r = ::recv(fd_, buf, sizeof buf, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      in_.append(buf, static_cast<size_t>(r));
      return true;
    }
  }
  bool Fail() {
    failed_ = true;
    return false;
  }
  int fd_;
  std::string& in_;
  Kind kind_;
  uint64_t remaining_;
  bool expect_continue_;
  bool done_ = false;
  bool failed_ = false;
  bool stopped_ = false;
};

void ParseQuery(std::string_view query, httplib::Params* params) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key = PercentDecode(pair.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1), true);
    params->emplace(std::move(key), std::move(value));
  }
}

// Writes a minimal error answer for requests that never reach the handler.
void SendError(int fd, int status, const char* code, const char* message) {
  std::string body = std::string("{\"error\":{\"code\":\"") + code + "\",\"message\":\"" + message + "\"}}";
  std::string head =
      "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) +
      "\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n";
  WritevAll(fd, head, body);
}

}  // namespace

bool EventServer::Serve(Conn& c) {
  bool first = true;
  char buf[65536];
  while (!stopping_) {
    // 1. A complete header block.
    size_t end;
    while ((end = c.in.find("\r\n\r\n")) == std::string::npos) {
      if (c.in.size() > options_.max_header_bytes) {
        SendError(c.fd, 431, "header_too_large", "the request headers are too large");
        return false;
      }
      // Between requests, go back to epoll rather than wait here.
      if (!first && c.in.empty()) return true;
      ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      c.in.append(buf, static_cast<size_t>(r));
    }
    first = false;
    if (end > options_.max_header_bytes) {
      SendError(c.fd, 431, "header_too_large", "the request headers are too large");
      return false;
    }
    std::string head = c.in.substr(0, end);
    c.in.erase(0, end + 4);

    // 2. Request line and headers.
    httplib::Request req;
    size_t line_end = head.find("\r\n");
    std::string_view request_line(head.data(), line_end == std::string::npos ? head.size() : line_end);
    size_t sp1 = request_line.find(' ');
    size_t sp2 = request_line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1) {
      SendError(c.fd, 400, "bad_request", "malformed request line");
      return false;
    }
    req.method = std::string(request_line.substr(0, sp1));
    req.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
    req.version = std::string(request_line.substr(sp2 + 1));
    if (req.version != "HTTP/1.1" && req.version != "HTTP/1.0") {
      SendError(c.fd, 505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are spoken here");
      return false;
    }
    if (req.target.empty() || req.target.front() != '/') {
      SendError(c.fd, 400, "bad_request", "the request target must be a path");
      return false;
    }
    size_t q = req.target.find('?');
    req.path = PercentDecode(std::string_view(req.target).substr(0, q), false);
    if (q != std::string::npos) ParseQuery(std::string_view(req.target).substr(q + 1), &req.params);
    std::string_view rest =
        line_end == std::string::npos ? std::string_view() : std::string_view(head).substr(line_end + 2);
    while (!rest.empty()) {
      size_t eol = rest.find("\r\n");
      std::string_view line = rest.substr(0, eol);
      rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 2);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0 || line.front() == ' ' || line.front() == '\t' ||
          Trim(line.substr(0, colon)).size() != colon) {
        SendError(c.fd, 400, "bad_request", "malformed header line");
        return false;
      }
      req.headers.emplace(std::string(line.substr(0, colon)), std::string(Trim(line.substr(colon + 1))));
    }
    req.remote_addr = c.remote_addr;
    req.remote_port = c.remote_port;
    req.local_addr = c.local_addr;
    req.local_port = c.local_port;

    // 3. Framing of the body.
    std::string te = req.get_header_value("Transfer-Encoding");
    bool chunked = !te.empty();
    if (chunked && !EqualsNoCase(Trim(te), "chunked")) {
      SendError(c.fd, 501, "not_implemented", "only the chunked transfer coding is supported");
      return false;
    }
    uint64_t length = 0;
    if (req.has_header("Content-Length")) {
      std::string cl = req.get_header_value("Content-Length");
      if (chunked || req.get_header_value_count("Content-Length") > 1 || cl.empty() ||
          cl.find_first_not_of("0123456789") != std::string::npos || cl.size() > 18) {
        SendError(c.fd, 400, "bad_request", "invalid Content-Length");
        return false;
      }
      length = std::stoull(cl);
    }
    bool expect = EqualsNoCase(req.get_header_value("Expect"), "100-continue");
    BodyReader body(
        c.fd, c.in,
        chunked ? BodyReader::Kind::kChunked : (length > 0 ? BodyReader::Kind::kLength : BodyReader::Kind::kNone),
        length, expect && (chunked || length > 0));
    std::string connection = req.get_header_value("Connection");
    bool keep_alive =
        req.version == "HTTP/1.1" ? !EqualsNoCase(connection, "close") : EqualsNoCase(connection, "keep-alive");

    // 4. The handler.
    httplib::Response res;
    res.version = req.version;
    bool is_get = req.method == "GET" || req.method == "HEAD";
    httplib::ContentReader reader([&](httplib::ContentReceiver receiver) { return body.Read(receiver); },
                                  [](httplib::MultipartContentHeader, httplib::ContentReceiver) { return false; });
    try {
      handler_(req, res, is_get ? nullptr : &reader);
    } catch (const std::exception& e) {
      core::LogEvent("http.exception", {{"path", req.path}, {"what", e.what()}});
      res = httplib::Response();
      res.status = 500;
      res.set_content(R"({"error":{"code":"internal","message":"internal error"}})", "application/json");
    }
    if (res.status == -1) res.status = 200;
    // An unread body must not be taken for the next request: close instead.
    if (!body.DiscardBuffered()) keep_alive = false;
    if (EqualsNoCase(res.get_header_value("Connection"), "close")) keep_alive = false;

    // 5. The answer: headers and body in one write when the body is in memory.
    bool has_body = res.status >= 200 && res.status != 204 && res.status != 304;
    uint64_t body_length = res.content_provider_ ? res.content_length_ : res.body.size();
    std::string out;
    out.reserve(256 + res.headers.size() * 48);
    out += req.version == "HTTP/1.0" ? "HTTP/1.0 " : "HTTP/1.1 ";
    out += std::to_string(res.status);
    out += ' ';
    out += Reason(res.status);
    out += "\r\n";
    for (const auto& [name, value] : res.headers) {
      if (EqualsNoCase(name, "Content-Length") || EqualsNoCase(name, "Connection")) continue;
      out += name;
      out += ": ";
      out += value;
      out += "\r\n";
    }
    if (has_body) {
      out += "Content-Length: ";
      out += std::to_string(body_length);
      out += "\r\n";
    }
    out += keep_alive ? (req.version == "HTTP/1.0" ? "Connection: keep-alive\r\n" : "") : "Connection: close\r\n";
    out += "\r\n";
    bool send_body = has_body && req.method != "HEAD" && body_length > 0;
    if (!send_body || !res.content_provider_) {
      if (!WritevAll(c.fd, out, send_body ? std::string_view(res.body) : std::string_view())) return false;
    } else {
      if (!SendAll(c.fd, out.data(), out.size(), MSG_MORE)) return false;
      uint64_t sent = 0;
      bool write_ok = true;
      httplib::DataSink sink;
      sink.write = [&](const char* d, size_t n) {
        if (!write_ok || !SendAll(c.fd, d, n)) return write_ok = false;
        sent += n;
        return true;
      };
      sink.is_writable = [&] { return write_ok; };
      sink.done = [] {};
      while (sent < body_length) {
        uint64_t before = sent;
        bool more = res.content_provider_(static_cast<size_t>(sent), static_cast<size_t>(body_length - sent), sink);
        if (!more || !write_ok || sent == before) return false;  // the provider failed: the length is a lie now
      }
      res.content_provider_success_ = true;
    }
    if (!keep_alive) return false;
  }
  return false;
}

}  // namespace relais::server

#include "http/event_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>

#include "core/log.h"
#include "http/http_util.h"
#include "http/request_parser.h"

namespace relais::http {
namespace {

// epoll ids: the stop event, then the listeners, then connections.
constexpr uint64_t kStopId = 0;
constexpr uint64_t kFirstListenerId = 1;
// The largest TLS record's payload: what one SSL_write turns into one record.
constexpr size_t kTlsRecordBytes = 16384;

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
    case 301:
      return "Moved Permanently";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 308:
      return "Permanent Redirect";
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

enum class Io { kDone, kWantRead, kWantWrite, kClosed };

// One connection's bytes: a non-blocking socket, through TLS when `ssl` is
// set. Recv and Send never wait; Fill and Write* wait in poll(2) up to
// timeout_ms for each step (used only while a request is in progress).
class Stream {
 public:
  Stream(int fd, SSL* ssl, int timeout_ms) : fd_(fd), ssl_(ssl), timeout_ms_(timeout_ms) {}
  ~Stream() {
    if (ssl_) {
      // close_notify, once, without waiting for the peer's; never after a
      // fatal error (OpenSSL forbids it).
      if (!broken_ && SSL_is_init_finished(ssl_)) {
        ERR_clear_error();
        SSL_shutdown(ssl_);
      }
      ERR_clear_error();
      SSL_free(ssl_);
    }
    if (fd_ >= 0) ::close(fd_);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  int fd() const { return fd_; }
  SSL* ssl() const { return ssl_; }
  // Decrypted bytes that OpenSSL holds and epoll cannot see.
  bool Buffered() const { return ssl_ && SSL_has_pending(ssl_); }

  Io Recv(char* buf, size_t cap, size_t* got) {
    if (!ssl_) {
      while (true) {
        ssize_t r = ::recv(fd_, buf, cap, 0);
        if (r > 0) return *got = static_cast<size_t>(r), Io::kDone;
        if (r == 0) return Io::kClosed;
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? Io::kWantRead : Io::kClosed;
      }
    }
    ERR_clear_error();
    int r = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(cap, INT_MAX)));
    if (r > 0) return *got = static_cast<size_t>(r), Io::kDone;
    return TlsOutcome(r);
  }

  Io Send(const char* data, size_t n, size_t* put, bool more = false) {
    if (!ssl_) {
      while (true) {
        ssize_t w = ::send(fd_, data, n, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
        if (w >= 0) return *put = static_cast<size_t>(w), Io::kDone;
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? Io::kWantWrite : Io::kClosed;
      }
    }
    ERR_clear_error();
    int w = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(n, INT_MAX)));
    if (w > 0) return *put = static_cast<size_t>(w), Io::kDone;
    return TlsOutcome(w);
  }

  // One step of the server side of the TLS handshake. On kClosed, `why`
  // says what went wrong.
  Io Handshake(std::string* why) {
    ERR_clear_error();
    int r = SSL_accept(ssl_);
    if (r == 1) return Io::kDone;
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ) return Io::kWantRead;
    if (e == SSL_ERROR_WANT_WRITE) return Io::kWantWrite;
    broken_ = true;
    *why = TakeOpenSslError();
    if (why->empty()) *why = e == SSL_ERROR_SYSCALL ? "connection closed" : "handshake failed";
    return Io::kClosed;
  }

  // Waits until the socket is ready for `want`; false on timeout.
  bool Wait(Io want) {
    pollfd p{fd_, static_cast<short>(want == Io::kWantWrite ? POLLOUT : POLLIN), 0};
    while (true) {
      int r = ::poll(&p, 1, timeout_ms_);
      if (r < 0 && errno == EINTR) continue;
      return r > 0 && !(p.revents & POLLNVAL);
    }
  }

  // Appends at least one byte to `in`; false when the peer closed, failed
  // or stayed silent too long.
  bool Fill(std::string& in) {
    char buf[65536];
    while (true) {
      size_t got = 0;
      Io io = Recv(buf, sizeof buf, &got);
      if (io == Io::kDone) return in.append(buf, got), true;
      if (io == Io::kClosed || !Wait(io)) return false;
    }
  }

  bool WriteAll(std::string_view data, bool more = false) {
    while (!data.empty()) {
      size_t put = 0;
      Io io = Send(data.data(), data.size(), &put, more);
      if (io == Io::kDone) {
        data.remove_prefix(put);
      } else if (io == Io::kClosed || !Wait(io)) {
        return false;
      }
    }
    return true;
  }

  // Writes `a` then `b`: one sendmsg for plain sockets; over TLS, `a` and
  // the start of `b` share one record.
  bool Writev(std::string_view a, std::string_view b) {
    if (ssl_) {
      if (a.size() >= kTlsRecordBytes || a.empty()) return WriteAll(a) && WriteAll(b);
      size_t take = std::min(b.size(), kTlsRecordBytes - a.size());
      thread_local std::string record;
      record.assign(a);
      record.append(b.substr(0, take));
      return WriteAll(record) && WriteAll(b.substr(take));
    }
    while (!a.empty() || !b.empty()) {
      iovec iov[2] = {{const_cast<char*>(a.data()), a.size()}, {const_cast<char*>(b.data()), b.size()}};
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = 2;
      ssize_t w = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && Wait(Io::kWantWrite)) continue;
        return false;
      }
      size_t done = static_cast<size_t>(w);
      size_t from_a = std::min(done, a.size());
      a.remove_prefix(from_a);
      b.remove_prefix(std::min(done - from_a, b.size()));
    }
    return true;
  }

 private:
  Io TlsOutcome(int r) {
    switch (SSL_get_error(ssl_, r)) {
      case SSL_ERROR_WANT_READ:
        return Io::kWantRead;
      case SSL_ERROR_WANT_WRITE:
        return Io::kWantWrite;
      case SSL_ERROR_ZERO_RETURN:  // the peer's close_notify
        return Io::kClosed;
      default:
        broken_ = true;
        ERR_clear_error();
        return Io::kClosed;
    }
  }

  int fd_;
  SSL* ssl_;
  int timeout_ms_;
  bool broken_ = false;
};

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
  Conn(int fd, SSL* ssl, int timeout_ms) : stream(fd, ssl, timeout_ms), fd(fd) {}
  uint64_t id = 0;
  Stream stream;   // owns the socket and the TLS state
  const int fd;    // stream's socket, for epoll
  std::string in;  // bytes received and not yet consumed
  std::string remote_addr, local_addr;
  int remote_port = 0, local_port = 0;
  int64_t accepted_ms = 0;
  int64_t last_active_ms = 0;
  int64_t request_started_ms = 0;  // when part of a header block arrived; 0 when none is pending
  bool tls_ready = false;          // handshake done (or plain HTTP)
  bool sniffed = false;            // the first byte on a TLS port was looked at
  bool want_write = false;         // re-arm for EPOLLOUT rather than EPOLLIN
  bool busy = false;
};

EventServer::EventServer(Handler handler, Options options) : handler_(std::move(handler)), options_(options) {
  // OpenSSL's socket BIO writes with write(2), not send(MSG_NOSIGNAL): a TLS
  // alert or record sent to a client that has gone away would raise SIGPIPE
  // and kill the whole process (a tablet closing its lid mid-handshake). The
  // server ignores it, process-wide, and sees EPIPE instead.
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { ::signal(SIGPIPE, SIG_IGN); });
}

EventServer::~EventServer() {
  Stop();
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  conns_.clear();
  for (const Listener& l : listeners_) ::close(l.fd);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

Result<int> EventServer::Bind(const std::string& host, int port, std::shared_ptr<const TlsContext> tls) {
  if (listeners_.size() >= kMaxListeners) return Status::InvalidArgument("too many listeners");
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
  if (epoll_fd_ < 0) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;  // level-triggered: every worker sees it
    ev.data.u64 = kStopId;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, stop_fd_, &ev);
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLEXCLUSIVE;
  ev.data.u64 = kFirstListenerId + listeners_.size();
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  listeners_.push_back(Listener{fd, std::move(tls)});
  return bound_port;
}

void EventServer::ReplaceTls(std::shared_ptr<const TlsContext> tls) {
  std::lock_guard lock(mu_);
  for (Listener& l : listeners_)
    if (l.tls) l.tls = tls;
}

bool EventServer::Run() {
  if (listeners_.empty()) return false;
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
  // Wake workers waiting on slow clients.
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
  const int64_t keep_alive_ms = options_.keep_alive_timeout_s * 1000LL;
  const int64_t handshake_ms = options_.handshake_timeout_s * 1000LL;
  const int64_t header_ms = options_.io_timeout_s * 1000LL;
  while (!stopping_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int64_t now = NowMs();
    // Every worker busy for a while (slow transfers hold theirs): add some.
    if (idle_workers_ == 0 && now - last_idle_ms_ > 100) SpawnWorkers(8);
    // Close idle keep-alive connections, stalled handshakes and header
    // blocks that take too long. Checked and removed under the lock, so a
    // worker never holds a closed connection.
    std::vector<std::unique_ptr<Conn>> expired;
    {
      std::lock_guard lock(mu_);
      for (auto it = conns_.begin(); it != conns_.end();) {
        const Conn& c = *it->second;
        bool expire = !c.busy &&
                      (now - c.last_active_ms > keep_alive_ms || (!c.tls_ready && now - c.accepted_ms > handshake_ms) ||
                       (c.request_started_ms != 0 && now - c.request_started_ms > header_ms));
        if (!expire) {
          ++it;
          continue;
        }
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
        if (!c.tls_ready) core::LogEvent("tls.handshake_timeout", {{"remote", c.remote_addr}});
        expired.push_back(std::move(it->second));
        it = conns_.erase(it);
      }
    }
    expired.clear();  // close_notify and close, outside the lock
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
    if (ev.data.u64 < kFirstListenerId + kMaxListeners) {
      AcceptAll(ev.data.u64 - kFirstListenerId);
      continue;
    }
    Conn* c = Claim(ev.data.u64);
    if (!c) continue;
    --idle_workers_;
    bool keep = !(ev.events & (EPOLLHUP | EPOLLERR)) && (c->tls_ready || Handshake(*c)) && (!c->tls_ready || Serve(*c));
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

void EventServer::AcceptAll(size_t listener) {
  std::shared_ptr<const TlsContext> tls;
  {
    std::lock_guard lock(mu_);
    tls = listeners_[listener].tls;
  }
  while (true) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = ::accept4(listeners_[listener].fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
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
    SSL* ssl = nullptr;
    if (tls) {
      ssl = tls->NewConnection();
      if (!ssl || SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        ::close(fd);
        continue;
      }
      SSL_set_accept_state(ssl);
    }
    auto c = std::make_unique<Conn>(fd, ssl, options_.io_timeout_s * 1000);
    c->id = next_id_++;
    c->tls_ready = ssl == nullptr;
    c->remote_addr = AddressOf(peer, &c->remote_port);
    sockaddr_storage local{};
    len = sizeof local;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
    c->local_addr = AddressOf(local, &c->local_port);
    c->accepted_ms = c->last_active_ms = NowMs();
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
  ev.events = (c->want_write ? EPOLLOUT : EPOLLIN) | EPOLLONESHOT | EPOLLRDHUP;
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
}

namespace {

// The body of one request, read on demand by the handler: Content-Length
// bytes, or a chunked body decoded by ChunkedDecoder, from the connection's
// buffer `in` and then the socket.
class BodyReader {
 public:
  BodyReader(Stream& stream, std::string& in, const ParsedHead& head, const Limits& limits)
      : stream_(stream),
        in_(in),
        framing_(head.framing),
        remaining_(head.content_length),
        expect_continue_(head.expect_continue),
        chunked_(limits) {
    if (framing_ == BodyFraming::kNone) done_ = true;
  }

  // Delivers the body to `receiver` in pieces; false if the body is
  // malformed, the client went away, or the receiver said stop.
  bool Read(const httplib::ContentReceiver& receiver) {
    if (done_) return true;
    if (expect_continue_) {
      expect_continue_ = false;
      static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      if (!stream_.WriteAll(std::string_view(kContinue, sizeof kContinue - 1))) return Fail();
    }
    while (true) {
      if (in_.empty() && !Fill()) return Fail();
      std::string_view piece;
      size_t consumed = 0;
      if (framing_ == BodyFraming::kLength) {
        consumed = static_cast<size_t>(std::min<uint64_t>(remaining_, in_.size()));
        piece = std::string_view(in_).substr(0, consumed);
        remaining_ -= consumed;
        done_ = remaining_ == 0;
      } else {
        ChunkedDecoder::Step step = chunked_.Decode(in_);
        if (step.state == ChunkedDecoder::State::kError) return Fail();
        consumed = step.consumed;
        piece = step.data;
        done_ = step.state == ChunkedDecoder::State::kDone;
      }
      // The piece is a view into in_: hand it over before erasing.
      bool more = piece.empty() || receiver(piece.data(), piece.size());
      in_.erase(0, consumed);
      if (!more) {
        stopped_ = true;
        return false;
      }
      if (done_) return true;
    }
  }

  // Discards the rest of the body if it has already arrived; true if the
  // body is now fully consumed. Never waits: a client may be waiting for
  // 100 Continue, or sending megabytes the handler refused.
  bool DiscardBuffered() {
    if (done_) return true;
    if (failed_ || stopped_ || expect_continue_ || framing_ != BodyFraming::kLength || remaining_ > in_.size()) {
      return false;
    }
    in_.erase(0, static_cast<size_t>(remaining_));
    remaining_ = 0;
    done_ = true;
    return true;
  }

 private:
  bool Fill() { return stream_.Fill(in_); }
  bool Fail() {
    failed_ = true;
    return false;
  }
  Stream& stream_;
  std::string& in_;
  BodyFraming framing_;
  uint64_t remaining_;  // of a Content-Length body
  bool expect_continue_;
  ChunkedDecoder chunked_;
  bool done_ = false;
  bool failed_ = false;
  bool stopped_ = false;
};

// Writes a minimal error answer for requests that never reach the handler.
void SendError(Stream& stream, const RequestError& error) {
  std::string body = std::string("{\"error\":{\"code\":\"") + error.code + "\",\"message\":\"" + error.message + "\"}}";
  std::string head =
      "HTTP/1.1 " + std::to_string(error.status) + " " + Reason(error.status) +
      "\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n";
  stream.Writev(head, body);
}

// A plain-HTTP request sent to a TLS port (someone typed http://box:443/):
// a redirect to the same host and port over https, or a 400 when the
// request names no host. Reads and writes the socket directly, past TLS.
void AnswerPlainOnTlsPort(int fd) {
  // At most 2 s in all: a worker waits here, and a trickle must not hold it.
  const int64_t deadline = NowMs() + 2000;
  std::string head;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 8192) {
    ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r > 0) {
      head.append(buf, static_cast<size_t>(r));
      continue;
    }
    if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
    int64_t left = deadline - NowMs();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || (errno != EINTR && ::poll(&p, 1, static_cast<int>(left)) <= 0)) break;
  }
  std::string_view h(head);
  size_t sp1 = h.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : h.find(' ', sp1 + 1);
  std::string target = sp2 == std::string_view::npos ? "" : std::string(h.substr(sp1 + 1, sp2 - sp1 - 1));
  std::string host;
  for (size_t at = h.find("\r\n"); at != std::string_view::npos; at = h.find("\r\n", at + 2)) {
    std::string_view line = h.substr(at + 2, h.find("\r\n", at + 2) - at - 2);
    if (line.size() > 5 && EqualsNoCase(line.substr(0, 5), "host:")) host = std::string(TrimOws(line.substr(5)));
  }
  std::string out;
  if (host.empty() || host.find_first_of(" /\\\"<>@") != std::string::npos || target.empty() || target.front() != '/' ||
      target.find_first_of("\r\n ") != std::string::npos) {
    std::string body =
        R"({"error":{"code":"https_required","message":"this port speaks HTTPS: use an https:// address"}})";
    out = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: " +
          std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  } else {
    std::string location = "https://" + host + target;
    std::string body = "This port speaks HTTPS: " + location + "\n";
    out = "HTTP/1.1 301 Moved Permanently\r\nLocation: " + location +
          "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\nConnection: close\r\n\r\n" + body;
  }
  std::string_view rest(out);
  while (!rest.empty()) {
    ssize_t w = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (w > 0) {
      rest.remove_prefix(static_cast<size_t>(w));
      continue;
    }
    pollfd p{fd, POLLOUT, 0};
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && ::poll(&p, 1, 2000) > 0) continue;
    break;
  }
  ::shutdown(fd, SHUT_WR);
}

}  // namespace

bool EventServer::Handshake(Conn& c) {
  if (!c.sniffed) {
    // A TLS connection starts with a handshake record (0x16); a letter is
    // a plain-HTTP request on the wrong port.
    unsigned char first = 0;
    ssize_t r = ::recv(c.fd, &first, 1, MSG_PEEK);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return false;
    if (r < 0) return true;  // nothing yet: back to epoll
    c.sniffed = true;
    if (first >= 'A' && first <= 'Z') {
      AnswerPlainOnTlsPort(c.fd);
      return false;
    }
    if (first != 0x16) {  // neither: do not wait for the rest of a "record"
      core::LogEvent("tls.handshake_failed", {{"remote", c.remote_addr}, {"reason", "not a TLS handshake"}});
      return false;
    }
  }
  std::string why;
  Io io = c.stream.Handshake(&why);
  if (io == Io::kClosed) {
    core::LogEvent("tls.handshake_failed", {{"remote", c.remote_addr}, {"reason", why}});
    return false;
  }
  c.want_write = io == Io::kWantWrite;
  c.tls_ready = io == Io::kDone;
  // Done: a TLS 1.3 client sends its request right behind its Finished, so
  // try to serve at once (Serve returns to epoll if nothing is there).
  return true;
}

EventServer::HeadWait EventServer::ReadHead(Conn& c, bool first, const Limits& limits, size_t* head_bytes) {
  char buf[65536];
  while (true) {
    switch (FindHeadEnd(c.in, limits, head_bytes)) {
      case HeadEnd::kComplete:
        c.request_started_ms = 0;
        c.want_write = false;
        return HeadWait::kReady;
      case HeadEnd::kTooLarge:
        SendError(c.stream, kHeadTooLarge);
        return HeadWait::kClose;
      case HeadEnd::kNeedMore:
        break;
    }
    // Between requests, go back to epoll rather than try a read that
    // would find nothing (but OpenSSL may hold decrypted bytes).
    if (!first && c.in.empty() && !c.stream.Buffered()) return HeadWait::kEpoll;
    size_t got = 0;
    Io io = c.stream.Recv(buf, sizeof buf, &got);
    if (io == Io::kDone) {
      c.in.append(buf, got);
      continue;
    }
    if (io == Io::kClosed) return HeadWait::kClose;
    // The rest has not arrived: wait in epoll, not here. The monitor
    // closes the connection if the header block takes too long.
    if (!c.in.empty() && c.request_started_ms == 0) c.request_started_ms = NowMs();
    c.want_write = io == Io::kWantWrite;
    return HeadWait::kEpoll;
  }
}

httplib::Request MakeRequest(ParsedHead&& head) {
  httplib::Request req;
  req.method = std::move(head.method);
  req.target = std::move(head.target);
  req.version = std::move(head.version);
  req.path = std::move(head.path);
  for (auto& [key, value] : head.params) req.params.emplace(std::move(key), std::move(value));
  for (auto& [name, value] : head.headers) req.headers.emplace(std::move(name), std::move(value));
  return req;
}

namespace {

// cpp-httplib 0.11.4 keeps a streamed body (Response::set_content_provider)
// in members it calls private and offers no accessor for: this is the one
// place that reads them.
struct ProvidedBody {
  explicit ProvidedBody(httplib::Response& res) : res_(res) {}
  bool streamed() const { return static_cast<bool>(res_.content_provider_); }
  uint64_t length() const { return streamed() ? res_.content_length_ : res_.body.size(); }
  bool Provide(uint64_t offset, uint64_t length, httplib::DataSink& sink) const {
    return res_.content_provider_(static_cast<size_t>(offset), static_cast<size_t>(length), sink);
  }
  // Tells the provider's releaser that the whole body went out.
  void MarkSent() { res_.content_provider_success_ = true; }

 private:
  httplib::Response& res_;
};

// Writes the answer to `req`: headers and body in one write when the body
// is in memory, the head with the first window of a streamed body
// otherwise. False if the connection failed or a provider failed midway.
bool WriteAnswer(Stream& stream, const httplib::Request& req, httplib::Response& res, bool keep_alive) {
  ProvidedBody provided(res);
  bool has_body = res.status >= 200 && res.status != 204 && res.status != 304;
  uint64_t body_length = provided.length();
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
  if (!send_body || !provided.streamed()) {
    return stream.Writev(out, send_body ? std::string_view(res.body) : std::string_view());
  }
  uint64_t sent = 0;
  bool write_ok = true;
  httplib::DataSink sink;
  sink.write = [&](const char* d, size_t n) {
    if (!write_ok) return false;
    write_ok = sent == 0 ? stream.Writev(out, std::string_view(d, n)) : stream.WriteAll(std::string_view(d, n));
    if (write_ok) sent += n;
    return write_ok;
  };
  sink.is_writable = [&] { return write_ok; };
  sink.done = [] {};
  while (sent < body_length) {
    uint64_t before = sent;
    bool more = provided.Provide(sent, body_length - sent, sink);
    if (!more || !write_ok || sent == before) return false;  // the provider failed: the length is a lie now
  }
  provided.MarkSent();
  return true;
}

}  // namespace

httplib::Response EventServer::RunHandler(const httplib::Request& req, const httplib::ContentReader* reader) {
  httplib::Response res;
  res.version = req.version;
  try {
    handler_(req, res, reader);
  } catch (const std::exception& e) {
    core::LogEvent("http.exception", {{"path", req.path}, {"what", e.what()}});
    res = httplib::Response();
    res.status = 500;
    res.set_content(R"({"error":{"code":"internal","message":"internal error"}})", "application/json");
  }
  if (res.status == -1) res.status = 200;
  return res;
}

bool EventServer::Serve(Conn& c) {
  Limits limits;
  limits.max_header_bytes = options_.max_header_bytes;
  for (bool first = true; !stopping_; first = false) {
    size_t head_bytes = 0;
    HeadWait wait = ReadHead(c, first, limits, &head_bytes);
    if (wait != HeadWait::kReady) return wait == HeadWait::kEpoll;
    HeadResult parsed = ParseRequestHead(std::string_view(c.in).substr(0, head_bytes), limits);
    c.in.erase(0, head_bytes + 4);
    if (!parsed.ok()) {
      SendError(c.stream, parsed.error());
      return false;
    }
    BodyReader body(c.stream, c.in, parsed.value(), limits);
    bool keep_alive = parsed.value().keep_alive;
    httplib::Request req = MakeRequest(std::move(parsed.value()));
    req.ssl = c.stream.ssl();  // non-null over HTTPS
    req.remote_addr = c.remote_addr;
    req.remote_port = c.remote_port;
    req.local_addr = c.local_addr;
    req.local_port = c.local_port;
    httplib::ContentReader reader([&](httplib::ContentReceiver receiver) { return body.Read(receiver); },
                                  [](httplib::MultipartContentHeader, httplib::ContentReceiver) { return false; });
    bool is_get = req.method == "GET" || req.method == "HEAD";
    httplib::Response res = RunHandler(req, is_get ? nullptr : &reader);
    // An unread body must not be taken for the next request: close instead.
    if (!body.DiscardBuffered()) keep_alive = false;
    if (EqualsNoCase(res.get_header_value("Connection"), "close")) keep_alive = false;
    if (!WriteAnswer(c.stream, req, res, keep_alive) || !keep_alive) return false;
  }
  return false;
}

}  // namespace relais::http

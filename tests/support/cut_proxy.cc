// tests/support/cut_proxy.cc — the cutting TCP proxy (see cut_proxy.h).
//
// A connection's life, on its own thread:
//
//   accepted --connect 127.0.0.1:target--> forwarding --EOF one way--> half-closed --EOF the other--> closed
//      forwarding / half-closed --armed cut reached--> cut (RST or FIN on both sockets) --> closed
//      any state --proxy destroyed--> closed
//
// Sockets are blocking; each thread polls its two sockets with a short
// timeout so that the destructor's stop flag is seen within 100 ms.

#include "tests/support/cut_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace relais::testing {
namespace {

Status Errno(const std::string& what) { return Status::Internal(what + ": " + std::strerror(errno)); }

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Ends a connection's socket: a reset (the peer sees ECONNRESET) or a close.
void EndSocket(int fd, CutProxy::CutKind kind) {
  if (kind == CutProxy::CutKind::kReset) {
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  } else {
    ::shutdown(fd, SHUT_RDWR);
  }
  ::close(fd);
}

}  // namespace

Result<std::unique_ptr<CutProxy>> CutProxy::Start(int target_port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr = Loopback(0);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
    Status st = Errno("bind 127.0.0.1:0");
    ::close(fd);
    return st;
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::unique_ptr<CutProxy> proxy(new CutProxy(fd, ntohs(addr.sin_port), target_port));
  proxy->acceptor_ = std::thread([p = proxy.get()] { p->AcceptLoop(); });
  return proxy;
}

CutProxy::~CutProxy() {
  stopping_ = true;
  acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (std::thread& t : workers) t.join();
}

void CutProxy::CutAfter(uint64_t bytes, Direction direction, CutKind kind) {
  std::lock_guard lock(mu_);
  armed_ = true;
  cut_left_ = bytes;
  cut_direction_ = direction;
  cut_kind_ = kind;
}

void CutProxy::NoCut() {
  std::lock_guard lock(mu_);
  armed_ = false;
}

bool CutProxy::armed() const {
  std::lock_guard lock(mu_);
  return armed_;
}

size_t CutProxy::Allow(Direction direction, size_t n, bool* cut, CutKind* kind) {
  std::lock_guard lock(mu_);
  *cut = false;
  if (!armed_ || direction != cut_direction_) return n;
  if (cut_left_ > n) {
    cut_left_ -= n;
    return n;
  }
  size_t allowed = static_cast<size_t>(cut_left_);
  armed_ = false;
  *cut = true;
  *kind = cut_kind_;
  return allowed;
}

void CutProxy::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    ++connections_;
    std::lock_guard lock(mu_);
    workers_.emplace_back([this, client] { Serve(client); });
  }
}

void CutProxy::Serve(int client) {
  int target = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = Loopback(target_port_);
  if (target < 0 || ::connect(target, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (target >= 0) ::close(target);
    EndSocket(client, CutKind::kReset);
    return;
  }
  // [0]: client → target, [1]: target → client.
  const int from[2] = {client, target};
  const int to[2] = {target, client};
  const Direction dirs[2] = {Direction::kToTarget, Direction::kToClient};
  std::atomic<uint64_t>* counters[2] = {&to_target_, &to_client_};
  bool open[2] = {true, true};
  char buf[64 * 1024];
  while (!stopping_ && (open[0] || open[1])) {
    pollfd fds[2] = {{client, static_cast<short>(open[0] ? POLLIN : 0), 0},
                     {target, static_cast<short>(open[1] ? POLLIN : 0), 0}};
    if (::poll(fds, 2, 100) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (!open[i] || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::recv(from[i], buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {  // end of this direction: pass the half-close on
        open[i] = false;
        ::shutdown(to[i], SHUT_WR);
        if (n < 0) open[0] = open[1] = false;
        continue;
      }
      bool cut = false;
      CutKind kind = CutKind::kReset;
      size_t allowed = Allow(dirs[i], static_cast<size_t>(n), &cut, &kind);
      if (allowed > 0 && WriteAll(to[i], buf, allowed)) {
        *counters[i] += allowed;
      } else if (allowed > 0) {
        open[0] = open[1] = false;
      }
      if (cut) {
        ++cuts_;
        EndSocket(client, kind);
        EndSocket(target, kind);
        return;
      }
      if (allowed < static_cast<size_t>(n)) open[0] = open[1] = false;
    }
  }
  ::close(client);
  ::close(target);
}

}  // namespace relais::testing

// tests/support/cut_proxy.h — a TCP proxy on 127.0.0.1 that cuts connections
// on purpose, for sync tests: the network of a school is a 4G dongle that
// drops in the middle of a transfer.
//
// The proxy listens on 127.0.0.1 port 0 and forwards every connection to a
// target on 127.0.0.1. A cut is armed with CutAfter(): once `bytes` more bytes
// have been forwarded in the chosen direction (counted across connections from
// the moment it is armed), the proxy forwards exactly up to that byte, then
// ends both sides of that connection — with a reset (RST, SO_LINGER 0) or a
// plain close (FIN) — and disarms: one cut per CutAfter(), so a client that
// resumes gets through. Counters say how many bytes went each way in total,
// which is what "bytes resent after a cut" is measured with.
//
// Thread-safe: one thread accepts, one thread serves each connection; every
// method may be called from any thread. The destructor ends every connection
// and joins the threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace relais::testing {

class CutProxy {
 public:
  enum class Direction { kToTarget, kToClient };
  enum class CutKind { kReset, kClose };

  // Listens on 127.0.0.1:0 and forwards to 127.0.0.1:`target_port`.
  static Result<std::unique_ptr<CutProxy>> Start(int target_port);
  ~CutProxy();
  CutProxy(const CutProxy&) = delete;
  CutProxy& operator=(const CutProxy&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Arms one cut after `bytes` more bytes in `direction` (0: at the next byte).
  // Replaces a cut armed before and not yet made.
  void CutAfter(uint64_t bytes, Direction direction, CutKind kind);
  // Disarms the armed cut, if any.
  void NoCut();
  // True while a cut is armed and not yet made.
  bool armed() const;

  uint64_t bytes_to_target() const { return to_target_.load(); }
  uint64_t bytes_to_client() const { return to_client_.load(); }
  int cuts_made() const { return cuts_.load(); }
  int connections() const { return connections_.load(); }

 private:
  CutProxy(int listen_fd, int port, int target_port) : listen_fd_(listen_fd), port_(port), target_port_(target_port) {}
  void AcceptLoop();
  void Serve(int client_fd);
  // How many of `n` bytes in `direction` may pass before the armed cut;
  // sets *cut when the cut falls within them (and disarms it).
  size_t Allow(Direction direction, size_t n, bool* cut, CutKind* kind);

  int listen_fd_;
  int port_;
  int target_port_;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;

  mutable std::mutex mu_;
  bool armed_ = false;
  Direction cut_direction_ = Direction::kToTarget;
  CutKind cut_kind_ = CutKind::kReset;
  uint64_t cut_left_ = 0;
  std::vector<std::thread> workers_;

  std::atomic<uint64_t> to_target_{0};
  std::atomic<uint64_t> to_client_{0};
  std::atomic<int> cuts_{0};
  std::atomic<int> connections_{0};
};

}  // namespace relais::testing

// http/event_server.h — the HTTP/1.1 transport: epoll and a small pool of
// worker threads, instead of cpp-httplib's thread per connection.
//
// Why: with a thread per connection, 200 keep-alive tablets mean 200 threads
// on a core, a poll(2) before every read and write, and headers and body in
// two writes; at 200 connections most of the core went to the kernel and the
// slowest requests waited hundreds of milliseconds. Here idle connections cost
// no thread: workers wait together on one epoll set (each connection armed
// EPOLLONESHOT, so exactly one worker serves it at a time), read a request,
// call the handler, write headers and body with one writev, and go back to
// epoll. The pool grows when every worker has been busy for a while (a slow
// upload or download holds its worker) and shrinks when idle.
//
// Requests and responses are cpp-httplib's types, so handlers (Api::Dispatch)
// are the same whichever transport runs them. Supported: keep-alive and
// pipelining, Content-Length and chunked request bodies, Expect:
// 100-continue, HEAD, streamed responses (Response content providers).
// Heads and chunked bodies are parsed by http/request_parser.h (no
// sockets, fuzzed); see docs/http.md.
// When a handler leaves a body unread (it refused the request), the
// connection is closed after the answer, so the body is never parsed as a
// request and a client waiting for 100 Continue is not left hanging.
//
// HTTPS: a listener bound with a TlsContext speaks TLS. Sockets are
// non-blocking. The handshake, and the wait for a request's headers, happen
// in the epoll set (a worker tries, and on SSL_ERROR_WANT_READ/WRITE or
// EAGAIN re-arms the connection for EPOLLIN or EPOLLOUT and moves on), so a
// client that stalls there holds no thread; the monitor closes it when its
// deadline passes (handshake_timeout_s for the whole handshake, io_timeout_s
// for a whole header block: a slowloris trickling bytes gains nothing).
// Once a request is complete, its worker reads the body and writes the
// answer, waiting in poll(2) with io_timeout_s when the socket is not ready;
// file bodies go through SSL_write in the provider's mapped windows (the
// head and the first bytes in one record), so memory stays flat. A
// plain-HTTP request sent to a TLS port gets a redirect to https:// on the
// same host and port. Connections end with a TLS close_notify unless a
// fatal TLS error happened.
//
// Connection state (per connection; the monitor acts only on idle ones):
//
//   accepted --TLS--> handshaking --done--> waiting for headers
//   accepted --plain----------------------> waiting for headers
//   waiting for headers --complete--> in request (worker held) --answered--+
//        ^                                                                 |
//        +-------------------------- keep-alive ---------------------------+
//
// Thread-safety: Bind (any number of listeners), then Run on one thread;
// Stop and ReplaceTls from any thread.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "http/request_parser.h"
#include "http/tls_context.h"

namespace relais::http {

// The handler's request made from a parsed head (moved from); the
// connection's addresses are left for the caller to fill.
httplib::Request MakeRequest(ParsedHead&& head);

class EventServer {
 public:
  // `reader` is null for GET and HEAD.
  using Handler =
      std::function<void(const httplib::Request&, httplib::Response&, const httplib::ContentReader* reader)>;
  struct Options {
    int min_workers = 8;
    int max_workers = 512;
    int keep_alive_timeout_s = 30;
    int io_timeout_s = 30;         // a stalled read or write of a request in progress, or a header block
    int handshake_timeout_s = 10;  // the whole TLS handshake
    size_t max_header_bytes = 16 * 1024;
    size_t max_connections = 4096;
  };

  EventServer(Handler handler, Options options);
  ~EventServer();
  EventServer(const EventServer&) = delete;
  EventServer& operator=(const EventServer&) = delete;

  // Listens on host:port (0 picks a free port) and returns the port; with
  // `tls`, connections there speak HTTPS. Up to kMaxListeners listeners.
  Result<int> Bind(const std::string& host, int port, std::shared_ptr<const TlsContext> tls = nullptr);
  // New connections on the TLS listeners use `tls` (a renewed certificate);
  // established ones keep the context they started with.
  void ReplaceTls(std::shared_ptr<const TlsContext> tls);
  // Serves until Stop(). Returns false if Bind was not called.
  bool Run();
  void Stop();
  size_t connections() const;

 private:
  static constexpr size_t kMaxListeners = 8;
  struct Conn;
  struct Listener {
    int fd = -1;
    std::shared_ptr<const TlsContext> tls;  // null for plain HTTP; guarded by mu_
  };
  void WorkerLoop();
  void Monitor();
  void AcceptAll(size_t listener);
  // Advances the TLS handshake; false to close the connection.
  bool Handshake(Conn& c);
  // Serves the requests available on `c`; true to keep the connection.
  bool Serve(Conn& c);
  enum class HeadWait { kReady, kEpoll, kClose };
  // Reads until a whole header block is at the front of c.in (kReady, its
  // length before "\r\n\r\n" in *head_bytes). kEpoll: nothing more to read
  // now, wait in epoll; kClose: the peer left, or the block is too large
  // (answered 431).
  HeadWait ReadHead(Conn& c, bool first, const Limits& limits, size_t* head_bytes);
  // Runs the handler; an exception becomes a 500.
  httplib::Response RunHandler(const httplib::Request& req, const httplib::ContentReader* reader);
  Conn* Claim(uint64_t id);
  void Release(Conn* c);
  void Close(uint64_t id);
  void SpawnWorkers(int n);

  Handler handler_;
  Options options_;
  std::vector<Listener> listeners_;
  int epoll_fd_ = -1;
  int stop_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> next_id_{1 + kMaxListeners};
  mutable std::mutex mu_;  // guards conns_, workers_ and the listeners' tls
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::vector<std::thread> workers_;
  std::atomic<int> worker_count_{0};
  std::atomic<int> idle_workers_{0};
  std::atomic<int64_t> last_idle_ms_{0};
};

}  // namespace relais::http

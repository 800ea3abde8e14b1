// server/event_server.h — the HTTP/1.1 transport: epoll and a small pool of
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
// When a handler leaves a body unread (it refused the request), the
// connection is closed after the answer, so the body is never parsed as a
// request and a client waiting for 100 Continue is not left hanging.
//
// Thread-safety: Bind, then Run on one thread; Stop from any thread.
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

namespace relais::server {

class EventServer {
 public:
  // `reader` is null for GET and HEAD.
  using Handler =
      std::function<void(const httplib::Request&, httplib::Response&, const httplib::ContentReader* reader)>;
  struct Options {
    int min_workers = 8;
    int max_workers = 512;
    int keep_alive_timeout_s = 30;
    int io_timeout_s = 30;  // a stalled read or write of a request in progress
    size_t max_header_bytes = 16 * 1024;
    size_t max_connections = 4096;
  };

  EventServer(Handler handler, Options options);
  ~EventServer();
  EventServer(const EventServer&) = delete;
  EventServer& operator=(const EventServer&) = delete;

  // Listens on host:port (0 picks a free port) and returns the port.
  Result<int> Bind(const std::string& host, int port);
  // Serves until Stop(). Returns false if Bind was not called.
  bool Run();
  void Stop();
  size_t connections() const;

 private:
  struct Conn;
  void WorkerLoop();
  void Monitor();
  void AcceptAll();
  // Serves the requests available on `c`; true to keep the connection.
  bool Serve(Conn& c);
  Conn* Claim(uint64_t id);
  void Release(Conn* c);
  void Close(uint64_t id);
  void SpawnWorkers(int n);

  Handler handler_;
  Options options_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int stop_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> next_id_{2};
  mutable std::mutex mu_;  // guards conns_ and workers_
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::vector<std::thread> workers_;
  std::atomic<int> worker_count_{0};
  std::atomic<int> idle_workers_{0};
  std::atomic<int64_t> last_idle_ms_{0};
};

}  // namespace relais::server

#include "server/http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <atomic>

namespace relais::server {
namespace {
constexpr int kBacklog = 1024;
thread_local int t_last_socket = -1;
}  // namespace

void Tune(httplib::Server& server, const core::Config& config) {
  int threads = config.http_threads;
  server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(static_cast<size_t>(config.keep_alive_max));
  server.set_keep_alive_timeout(config.keep_alive_timeout_s);
  server.set_read_timeout(30, 0);
  server.set_write_timeout(30, 0);
  // Uploads are streamed and limited by the API itself; this is the outer bound.
  server.set_payload_max_length(config.max_upload_bytes + (1u << 20));
  server.set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    t_last_socket = sock;  // the listening socket, when called from Bind()
  });
}

Result<int> Bind(httplib::Server& server, const std::string& host, int port) {
  t_last_socket = -1;
  int bound = port;
  if (port == 0) {
    bound = server.bind_to_any_port(host);
    if (bound <= 0) return Status::IOError("cannot bind " + host + " to a free port");
  } else if (!server.bind_to_port(host, port)) {
    return Status::IOError("cannot listen on " + host + ":" + std::to_string(port) +
                           " (in use, or a privileged port?)");
  }
  // Deepen the backlog: listen(2) on a listening socket updates it.
  if (t_last_socket >= 0) ::listen(t_last_socket, kBacklog);
  return bound;
}

}  // namespace relais::server

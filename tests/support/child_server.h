// tests/support/child_server.h — `relais serve` in a child process, for tests
// that need a server they can kill -9 and start again on the same data folder.
//
// Unlike an in-process server, a child process really dies: its threads stop
// between two instructions, its open files are closed by the kernel, and what
// survives is exactly what reached the file system. The fixture starts the
// built binary (RELAIS_BINARY) on 127.0.0.1 port 0, reads the port from the
// "Listening on http://HOST:PORT" line on its standard output, and waits until
// GET /api/v1/health answers.
//
// Not thread-safe: one thread starts, kills and stops a ChildServer. Clients
// made by NewClient() may be used from any thread while it runs.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace relais::testing {

class ChildServer {
 public:
  struct Options {
    std::filesystem::path binary;    // the relais executable; RELAIS_BINARY when empty
    std::filesystem::path data_dir;  // --data
    // The child's standard error (its structured log) is appended here;
    // /dev/null when empty.
    std::filesystem::path log_file;
    std::vector<std::string> extra_args;  // after `serve --data DIR --listen 127.0.0.1:0`
    // Another command instead of `serve --data DIR --listen 127.0.0.1:0 EXTRA`
    // (e.g. `hub serve --postgres URL --listen 127.0.0.1:0`): the arguments
    // after the binary. It must print the same "Listening on" line.
    std::vector<std::string> command;
    std::string health_path = "/api/v1/health";  // answers 200 once the server is up
    int start_timeout_ms = 15000;
  };

  // Starts `relais serve` (or `command`) and returns once health_path answers 200.
  // The child gets the test's environment minus every RELAIS_* variable (the
  // server refuses unknown RELAIS_ settings, and a test must not depend on the
  // caller's), standard input from /dev/null, and no other inherited files.
  // Returns Internal, with the end of the log, if the child exits or does not
  // answer in time (the child is then killed and reaped).
  static Result<std::unique_ptr<ChildServer>> Start(const Options& options);

  // Kills the child with SIGKILL if it still runs, and reaps it.
  ~ChildServer();
  ChildServer(const ChildServer&) = delete;
  ChildServer& operator=(const ChildServer&) = delete;

  // Sends SIGKILL and reaps the child. Returns Internal if the child had
  // already exited on its own (a crash, or a clean exit nobody asked for),
  // describing how. Calling it again after success returns OK.
  Status Kill();
  // Sends SIGTERM and waits up to `timeout_ms` for the child to exit with
  // code 0; kills it and returns Internal otherwise.
  Status Stop(int timeout_ms = 10000);

  // True until Kill() or Stop() reaped the child.
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  const std::string& host() const { return host_; }
  // A client for this server: 2 s to connect, 30 s to read or write.
  std::unique_ptr<httplib::Client> NewClient() const;
  // The last `max_bytes` of the log file ("" without one), for failure messages.
  std::string LogTail(size_t max_bytes = 4000) const;

 private:
  ChildServer(pid_t pid, std::filesystem::path log_file) : pid_(pid), log_file_(std::move(log_file)) {}
  // Reaps the child if it has exited; true when it has (and sets *how).
  bool ReapIfExited(std::string* how);

  pid_t pid_;
  int port_ = 0;
  std::string host_ = "127.0.0.1";
  std::filesystem::path log_file_;
};

// "exited with code 3", "killed by signal 11 (Segmentation fault)".
std::string DescribeWaitStatus(int status);

}  // namespace relais::testing

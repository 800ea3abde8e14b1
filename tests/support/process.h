// tests/support/process.h — the two programs under test (`relais`, the box,
// and `relais-hub`, the gateway) run as child processes: the one way every
// test and bench starts them.
//
// A Process is one command of one program. Every child gets:
//   - the test's environment minus every RELAIS_* variable (the programs
//     refuse unknown RELAIS_ settings, and a test must not depend on its
//     caller's), plus Options::env;
//   - standard input from /dev/null;
//   - standard output and standard error in files (temporary ones, removed
//     with the Process, unless the caller names them), so what a child
//     printed is still there for a failure message after it died;
//   - no other inherited file descriptor.
// Between fork() and execve() the child calls only async-signal-safe
// functions: the test process may have other threads.
//
// A ServerProcess is a Process that serves: it prints "Listening on URL" on its
// standard output, then answers a health path.
//
// Not thread-safe: one thread drives a Process or a ServerProcess. Clients made by
// ServerProcess::NewClient() may be used from any thread while it runs.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace relais::testing {

// Which program a command runs.
enum class Program {
  kBox,  // `relais` (RELAIS_BINARY)
  kHub,  // `relais-hub` (RELAIS_HUB_BINARY)
};

// The built executable of `program` ("" when the build did not define it).
std::string ProgramPath(Program program);

// How a command ended.
struct CommandResult {
  int exit_code = -1;   // -1 when it did not exit by itself (killed by a signal, or never started)
  int signal = 0;       // the signal that ended it, 0 if it exited
  bool killed = false;  // we killed it (Wait's timeout)
  std::string out;      // standard output
  std::string err;      // standard error (or why it could not be started)
  std::string All() const { return out + err; }
};

class Process {
 public:
  struct Options {
    std::filesystem::path binary;  // instead of the program's executable when not empty
    // Where standard output / standard error go (appended to when named);
    // temporary files, removed with the Process, when empty.
    std::filesystem::path stdout_file;
    std::filesystem::path stderr_file;
    std::vector<std::string> env;  // more KEY=VALUE entries for the child
  };

  // Starts `program args…`. Internal if it cannot be started.
  static Result<std::unique_ptr<Process>> Start(Program program, const std::vector<std::string>& args,
                                                const Options& options);
  static Result<std::unique_ptr<Process>> Start(Program program, const std::vector<std::string>& args) {
    return Start(program, args, Options{});
  }

  // Kills the child with SIGKILL if it still runs, reaps it, removes its temporary files.
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // True until the child has been reaped (by Poll, Wait, Kill or Stop).
  bool running() const { return pid_ > 0; }
  // "relais-hub serve" — the program and the first argument, for messages.
  const std::string& name() const { return name_; }

  // How the child ended, if it has (it is then reaped); nullopt while it runs.
  std::optional<CommandResult> Poll();
  // Waits up to `timeout_ms` for the child to end on its own; SIGKILL after
  // that (killed = true). Returns how it ended and what it printed; an
  // empty result with exit_code -1 if it was already reaped.
  CommandResult Wait(int timeout_ms);
  // Sends SIGKILL and reaps the child. Returns Internal if the child had
  // already exited on its own (a crash, or a clean exit nobody asked for),
  // describing how. OK if it was already reaped by Kill or Stop.
  Status Kill();
  // Sends SIGTERM and waits up to `timeout_ms` for the child to exit with
  // code 0; kills it and returns Internal otherwise.
  Status Stop(int timeout_ms = 10000);

  // Standard output / error so far.
  std::string Stdout() const;
  std::string Stderr() const;
  // The last `max_bytes` of standard error (the programs' log), for failure messages.
  std::string LogTail(size_t max_bytes = 4000) const;

 private:
  Process() = default;
  // Reaps the child if it has exited; true when it has (and sets *status).
  bool Reaped(int* status);
  CommandResult Finish(int status, bool killed);

  pid_t pid_ = -1;
  std::string name_;
  std::filesystem::path out_, err_;
  bool remove_out_ = false, remove_err_ = false;
};

// Runs `program args…` to its end (SIGKILL after `timeout_ms`).
CommandResult Run(Program program, const std::vector<std::string>& args, int timeout_ms = 120000);

// Runs `program args…` to its end and returns its standard output; Internal,
// with its standard error, unless it exits with code 0.
Result<std::string> RunOk(Program program, const std::vector<std::string>& args, int timeout_ms = 120000);

// A program serving HTTP: started, its URL read from the "Listening on URL"
// line of its standard output, and (for http:// URLs) answering health_path.
class ServerProcess {
 public:
  struct Options {
    Program program = Program::kBox;
    // The arguments after the binary. Empty: `serve --data DATA_DIR
    // --listen 127.0.0.1:0 EXTRA_ARGS…` (the box, or the gateway with kHub).
    std::vector<std::string> command;
    std::filesystem::path data_dir;       // --data, when `command` is empty
    std::vector<std::string> extra_args;  // after the default command
    std::filesystem::path binary;         // instead of the program's executable
    // The child's standard error (its structured log) is appended here; a
    // temporary file when empty. LogTail() reads it either way.
    std::filesystem::path log_file;
    std::vector<std::string> env;  // more KEY=VALUE entries for the child
    // Answers 200 once the server is up; not asked when empty or when the
    // server listens on https://. The gateway's is /hub/v1/health.
    std::string health_path = "/api/v1/health";
    int start_timeout_ms = 15000;
  };

  // Starts the server and returns once it listens (and answers health_path).
  // Returns Internal, with what it printed, if the child exits or does not
  // get there in time (the child is then killed and reaped).
  static Result<std::unique_ptr<ServerProcess>> Start(const Options& options);

  // Kills the child with SIGKILL if it still runs, and reaps it.
  ~ServerProcess() = default;

  // SIGKILL / SIGTERM, as Process::Kill and Process::Stop.
  Status Kill() { return process_->Kill(); }
  Status Stop(int timeout_ms = 10000) { return process_->Stop(timeout_ms); }

  bool running() const { return process_->running(); }
  pid_t pid() const { return process_->pid(); }
  const std::string& url() const { return url_; }  // "http://127.0.0.1:PORT"
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  // A client for this server: 2 s to connect, 30 s to read or write.
  std::unique_ptr<httplib::Client> NewClient() const;
  // The end of the server's log, for failure messages.
  std::string LogTail(size_t max_bytes = 4000) const { return process_->LogTail(max_bytes); }
  Process& process() { return *process_; }

 private:
  explicit ServerProcess(std::unique_ptr<Process> process) : process_(std::move(process)) {}
  std::unique_ptr<Process> process_;
  std::string url_;
  std::string host_ = "127.0.0.1";
  int port_ = 0;
};

// "exited with code 3", "was killed by signal 11 (Segmentation fault)".
std::string DescribeWaitStatus(int status);

}  // namespace relais::testing

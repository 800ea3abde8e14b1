// tests/system/sync_harness.h — the real `relais` binary driven as separate
// processes, for sync tests and benches: a gateway (`relais-hub serve`),
// one-shot commands (`relais sync …`) that may be killed at any moment, and
// a box's data read back once its processes are gone.
//
// Processes are started with posix_spawn (safe in a test process that has
// other threads), standard input from /dev/null, standard output and error
// to files in a scratch directory, and the test's environment.
// Not thread-safe: one thread drives a process.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace relais::testing {

// How a command ended.
struct CommandResult {
  int exit_code = -1;   // -1 when killed by a signal
  int signal = 0;       // the signal that ended it, 0 if it exited
  bool killed = false;  // we killed it (KillAfter, a timeout)
  std::string out;      // standard output
  std::string err;      // standard error
  std::string All() const { return out + err; }
};

// A `relais …` child process.
class RelaisProcess {
 public:
  // Starts `RELAIS_BINARY args…` (or `binary` when not empty); its output
  // goes to files under `scratch` (which must exist).
  static Result<std::unique_ptr<RelaisProcess>> Spawn(const std::vector<std::string>& args,
                                                      const std::filesystem::path& scratch,
                                                      const std::filesystem::path& binary = {});
  // Kills the child with SIGKILL if it still runs, reaps it, removes its output files.
  ~RelaisProcess();
  RelaisProcess(const RelaisProcess&) = delete;
  RelaisProcess& operator=(const RelaisProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Waits up to `timeout_ms` for the child to end on its own; SIGKILL after
  // that (killed = true). Returns how it ended and what it printed.
  CommandResult Wait(int timeout_ms);
  // How the child ended, if it has (it is then reaped); nullopt while it runs.
  std::optional<CommandResult> Poll();
  // Lets the child run `delay_ms`, then SIGKILL if it still runs.
  CommandResult KillAfter(int delay_ms);
  // Standard output so far.
  std::string OutputSoFar() const;

 private:
  RelaisProcess(pid_t pid, std::filesystem::path out, std::filesystem::path err)
      : pid_(pid), out_(std::move(out)), err_(std::move(err)) {}
  CommandResult Finish(int status, bool killed);
  pid_t pid_;
  std::filesystem::path out_, err_;
};

// Runs `relais args…` to its end (killed after `timeout_ms`).
CommandResult RunRelais(const std::vector<std::string>& args, const std::filesystem::path& scratch,
                        int timeout_ms = 120000);

// `relais-hub serve --data DIR --listen 127.0.0.1:0`, stopped with SIGTERM
// when destroyed.
class HubServer {
 public:
  static Result<std::unique_ptr<HubServer>> Start(const std::filesystem::path& data_dir,
                                                  const std::filesystem::path& scratch);
  ~HubServer();
  const std::string& url() const { return url_; }
  int port() const { return port_; }

 private:
  explicit HubServer(std::unique_ptr<RelaisProcess> process) : process_(std::move(process)) {}
  std::unique_ptr<RelaisProcess> process_;
  std::string url_;
  int port_ = 0;
};

// A fresh directory under the system's temporary directory, removed with
// everything in it when destroyed.
struct ScratchDir {
  std::filesystem::path path;
  explicit ScratchDir(const std::string& prefix);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
};

// Every synced row of the box in DATA (sync::DumpSyncedTables): boxes that
// converged have equal dumps. Opens the school in this process.
Result<std::string> DumpBox(const std::filesystem::path& data_dir);

// The first line of `text`, without its newline.
std::string FirstLine(const std::string& text);

}  // namespace relais::testing

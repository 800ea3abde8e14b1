// server/cli.h — the `relais` command line: subcommands and their flags.
#pragma once

#include <signal.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "content/school.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/files.h"
#include "core/status.h"
#include "server/event_server.h"

namespace relais::server {

// Parsed "--name value" / "--flag" arguments plus positional ones.
class Args {
 public:
  // `flags` lists the flags that take no value ("--demo"). Unknown flags are
  // an error so a typo never passes silently.
  static Result<Args> Parse(const std::vector<std::string>& argv, const std::vector<std::string>& with_value,
                            const std::vector<std::string>& flags);
  // The last value given for `name`.
  std::optional<std::string> Get(const std::string& name) const;
  // Every value given for `name` ("--name a --name b"), in order.
  std::vector<std::string> GetAll(const std::string& name) const;
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::multimap<std::string, std::string> all_;
  std::vector<std::string> positional_;
};

// Runs `relais <argv...>` and returns the process exit code.
int RunCli(const std::vector<std::string>& argv);
// Runs `relais hub <argv...>` (server/hub_cli.cc).
int RunHubCli(const std::vector<std::string>& argv);
// Runs `relais sync <argv...>` (server/sync_cli.cc).
int RunSyncCli(const std::vector<std::string>& argv);

// A box command's settings and open school.
struct Setup {
  core::Config config;
  core::SystemClock clock;
  std::unique_ptr<core::FileLock> server_lock;  // held by `serve` only
  std::unique_ptr<content::School> school;
};
// Loads the configuration for --data DIR, applies the flags, and opens the
// school. `serving`: take the data folder's lock (one server per folder) and
// clear what a crashed server left behind.
Status OpenSchool(const Args& args, Setup* setup, bool serving = false);

// Shared by the commands: prints "relais: message" and returns the exit code
// (2 for a usage error, 1 otherwise).
int Fail(const Status& st);
bool WantsHelp(const std::vector<std::string>& argv);
// Blocks SIGINT and SIGTERM in the calling thread (call before starting any
// thread) and returns them, for StopOnSignal.
sigset_t BlockStopSignals();
// Starts a thread that waits for one of `signals`, logs it, calls `on_stop`
// and stops `http`.
void StopOnSignal(EventServer& http, sigset_t signals, std::function<void()> on_stop = {});
// The transport's worker pool and timeouts from the settings.
EventServer::Options TransportOptions(const core::Config& config);

}  // namespace relais::server

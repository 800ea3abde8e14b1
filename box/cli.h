// box/cli.h — the `relais` command line: subcommands and their flags.
#pragma once

#include <signal.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "box/config.h"
#include "content/school.h"
#include "core/cli_args.h"
#include "core/clock.h"
#include "core/files.h"
#include "core/status.h"
#include "http/event_server.h"
#include "http/serve_signals.h"

namespace relais::box {

using core::Args;
using core::WantsHelp;

// Runs `relais <argv...>` and returns the process exit code.
int RunCli(const std::vector<std::string>& argv);
// Runs `relais sync <argv...>` (box/sync_cli.cc).
int RunSyncCli(const std::vector<std::string>& argv);

// A box command's settings and open school.
struct Setup {
  Config config;
  core::SystemClock clock;
  std::unique_ptr<core::FileLock> server_lock;  // held by `serve` only
  std::unique_ptr<content::School> school;
};
// Loads the configuration for --data DIR, applies the flags, and opens the
// school. `serving`: take the data folder's lock (one server per folder) and
// clear what a crashed server left behind.
Status OpenSchool(const Args& args, Setup* setup, bool serving = false);

// Prints "relais: message" and returns the exit code (2 for a usage error, 1 otherwise).
inline int Fail(const Status& st) { return core::Fail(st, "relais"); }

}  // namespace relais::box

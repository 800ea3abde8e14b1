// hub/cli.h — the `relais-hub` command line (hub/cli.cc).
#pragma once

#include <string>
#include <vector>

namespace relais::hub {

// Runs `relais-hub <argv...>` and returns the process exit code.
int RunCli(const std::vector<std::string>& argv);

}  // namespace relais::hub

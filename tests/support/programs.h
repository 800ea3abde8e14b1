// tests/support/programs.h — the two programs under test and how a test
// names a command of each.
//
// A test writes a command as its arguments: {"serve", "--data", DIR} runs the
// box (`relais`, RELAIS_BINARY), {"hub", "serve", …} the gateway
// (`relais-hub serve …`, RELAIS_HUB_BINARY). CommandLine() turns that into
// the argv to execute, the binary first.
#pragma once

#include <string>
#include <vector>

#ifndef RELAIS_BINARY
#define RELAIS_BINARY ""
#endif
#ifndef RELAIS_HUB_BINARY
#define RELAIS_HUB_BINARY ""
#endif

namespace relais::testing {

inline std::string RelaisBinary() { return RELAIS_BINARY; }
inline std::string HubBinary() { return RELAIS_HUB_BINARY; }

// {binary, args…}: the gateway's binary when args[0] is "hub" (then dropped),
// the box's otherwise; `binary` instead of the box's when not empty.
inline std::vector<std::string> CommandLine(const std::vector<std::string>& args, const std::string& binary = {}) {
  if (!args.empty() && args[0] == "hub") {
    std::vector<std::string> argv = {HubBinary()};
    argv.insert(argv.end(), args.begin() + 1, args.end());
    return argv;
  }
  std::vector<std::string> argv = {binary.empty() ? RelaisBinary() : binary};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace relais::testing

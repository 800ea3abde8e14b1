// relais-hub — the gateway the schools' boxes sync with. See docs/hub-api.md
// and `relais-hub --help`.
#include <string>
#include <vector>

#include "hub/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return relais::hub::RunCli(args);
}

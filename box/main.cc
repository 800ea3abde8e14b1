// relais — the offline school box. See README.md and `relais --help`.
#include <string>
#include <vector>

#include "box/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return relais::box::RunCli(args);
}

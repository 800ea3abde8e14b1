// tests/support/wait.cc — see wait.h.
#include "tests/support/wait.h"

#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace relais::testing {

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout,
               std::chrono::microseconds interval) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(interval);  // the poll interval: the one sleep that waits
  }
}

int OpenServerConnections(int port) {
  // Lines: "sl local_address rem_address st …", addresses as HEXIP:HEXPORT.
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // the header
  int open = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    size_t colon = local.find(':');
    if (colon == std::string::npos) continue;
    if (std::stoi(local.substr(colon + 1), nullptr, 16) != port) continue;
    // 01 ESTABLISHED, 03 SYN_RECV, 08 CLOSE_WAIT: the server still holds it.
    if (state == "01" || state == "03" || state == "08") ++open;
  }
  return open;
}

}  // namespace relais::testing

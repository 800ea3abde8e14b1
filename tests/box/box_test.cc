// What the SD image's box needs from the server: systemd's readiness and
// watchdog protocol, an admin setting the clock, the school named from the
// command line (the first-boot script uses it).
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/crypto.h"
#include "core/systemd_notify.h"
#include "tests/box/test_server.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

namespace relais::testing {

using namespace relais::box;
using namespace relais::http;
namespace {

namespace fs = std::filesystem;

// A datagram socket standing in for systemd's notification socket.
struct FakeSystemd {
  fs::path path = fs::temp_directory_path() / ("relais-notify-" + core::RandomToken(6));
  int fd = -1;
  FakeSystemd() {
    fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~FakeSystemd() {
    ::close(fd);
    fs::remove(path);
  }
  // The next message, or "" after 10 s of silence.
  std::string Receive() {
    char buf[512];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }
};

TEST_CASE("a notification reaches the socket systemd names, and no socket means no error") {
  FakeSystemd systemd;
  REQUIRE(core::SdNotify(systemd.path.string(), "READY=1").ok());
  CHECK(systemd.Receive() == "READY=1");
  CHECK(core::SdNotify("", "READY=1").ok());
  CHECK_FALSE(core::SdNotify("relative/path", "READY=1").ok());
  CHECK_FALSE(core::SdNotify((fs::temp_directory_path() / "relais-no-such-socket").string(), "READY=1").ok());
}

TEST_CASE("the watchdog interval is read only when it is meant for this process") {
  CHECK(core::WatchdogInterval("30000000", nullptr, 42) == std::chrono::seconds(30));
  CHECK(core::WatchdogInterval("30000000", "42", 42) == std::chrono::seconds(30));
  CHECK_FALSE(core::WatchdogInterval("30000000", "43", 42));
  CHECK_FALSE(core::WatchdogInterval(nullptr, nullptr, 42));
  CHECK_FALSE(core::WatchdogInterval("0", nullptr, 42));
  CHECK_FALSE(core::WatchdogInterval("30s", nullptr, 42));
}

TEST_CASE("relais serve tells systemd it is ready, feeds the watchdog while it answers, and says it stops") {
  FakeSystemd systemd;
  fs::path data = fs::temp_directory_path() / ("relais-box-" + core::RandomToken(8));
  ::setenv("NOTIFY_SOCKET", systemd.path.c_str(), 1);
  ::setenv("WATCHDOG_USEC", "600000", 1);  // a ping every 200 ms
  ServerProcess::Options options;
  options.data_dir = data;
  auto child = ServerProcess::Start(options);
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  REQUIRE_MESSAGE(child.ok(), child.status().message());
  std::string first = systemd.Receive();
  CHECK(first.rfind("READY=1\nSTATUS=http://127.0.0.1:", 0) == 0);
  std::multiset<std::string> seen;
  for (int i = 0; i < 3; ++i) seen.insert(systemd.Receive());
  CHECK(seen.count("WATCHDOG=1") == 3);
  // A stopped (not dead) server stops answering its own health check: no more pings.
  ::kill((*child)->pid(), SIGSTOP);
  // Once the kernel shows it stopped, every ping it sent is already queued
  // (a datagram on a local socket is queued by send() itself): drain them.
  auto stopped = [pid = (*child)->pid()] {
    std::string stat;  // "PID (COMM) STATE …"; /proc files report size 0, so read them as streams
    std::getline(std::ifstream("/proc/" + std::to_string(pid) + "/stat"), stat);
    size_t paren = stat.rfind(')');
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'T';
  };
  REQUIRE_MESSAGE(testing::WaitUntil(stopped), "relais serve did not stop on SIGSTOP");
  while (::recv(systemd.fd, nullptr, 0, MSG_DONTWAIT | MSG_TRUNC) >= 0) {  // drain what was sent before the stop
  }
  timeval tv{1, 0};
  ::setsockopt(systemd.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  CHECK(systemd.Receive() == "");
  ::kill((*child)->pid(), SIGCONT);
  tv = {10, 0};
  ::setsockopt(systemd.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  CHECK(systemd.Receive() == "WATCHDOG=1");
  REQUIRE((*child)->Stop().ok());
  bool stopping = false;
  for (std::string m = systemd.Receive(); !m.empty(); m = systemd.Receive()) {
    if (m == "STOPPING=1") stopping = true;
    if (stopping) break;
  }
  CHECK(stopping);
  fs::remove_all(data);
}

TEST_CASE("an admin sets the box's clock; a malformed or absurd time is refused and changes nothing") {
  TestServer box;
  box.AddUser("admin", content::Role::kAdmin);
  std::string admin = box.Login("admin");
  // An hour ahead: the box's clock was late (sessions survive a small correction).
  std::string later = core::FormatTime(box.clock().Now() + 3600);
  Reply set = box.Post("/api/v1/admin/time", {{"time", later}}, admin);
  REQUIRE_MESSAGE(set.status == 200, Describe(set));
  CHECK(set.body["time"] == later);
  CHECK(box.Get("/api/v1/health").body["time"] == later);
  for (const char* bad : {"hier", "1999-01-01T00:00:00Z", "2200-01-01T00:00:00Z", ""}) {
    CAPTURE(bad);
    CHECK(box.Post("/api/v1/admin/time", {{"time", bad}}, admin).status == 400);
  }
  CHECK(box.Post("/api/v1/admin/time", {{"when", later}}, admin).status == 400);
  CHECK(box.Get("/api/v1/health").body["time"] == later);
  // Only an admin.
  box.AddUser("prof", content::Role::kTeacher);
  CHECK(box.Post("/api/v1/admin/time", {{"time", later}}, box.Login("prof")).status == 403);
}

}  // namespace
}  // namespace relais::testing

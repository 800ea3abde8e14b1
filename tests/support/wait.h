// tests/support/wait.h — waiting on a condition instead of sleeping.
//
// A test that waits for something (a file to appear, a server to close a
// connection, a gateway to store N bytes) polls that condition with a short
// interval up to a deadline, then fails saying what did not happen:
//
//   REQUIRE_MESSAGE(WaitUntil([&] { return fs::exists(f); }), "the file never appeared");
//
// This is the one place in the tests that sleeps to wait; a sleep elsewhere
// is a stimulus (a client trickling bytes on purpose) and says so.
#pragma once

#include <chrono>
#include <functional>

namespace relais::testing {

// Polls `done` every `interval` until it returns true (true) or `timeout`
// has passed (false). `done` is called at least once, and once more at the
// deadline.
bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(10),
               std::chrono::microseconds interval = std::chrono::milliseconds(5));

// The number of TCP connections on 127.0.0.1 whose local port is `port` and
// that the local side has not yet closed (ESTABLISHED, CLOSE_WAIT, SYN_RECV),
// read from /proc/net/tcp. After a client dies, this reaches 0 once the
// server (this process or another) has finished with its connections.
int OpenServerConnections(int port);

}  // namespace relais::testing

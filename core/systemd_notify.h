// core/systemd_notify.h — tells systemd that `relais serve` is ready, stopping
// and alive, for a unit with Type=notify and WatchdogSec= (see image/).
//
// The protocol of sd_notify(3) without linking libsystemd: one datagram of
// "KEY=value" lines sent to the AF_UNIX socket systemd names in $NOTIFY_SOCKET
// (a path, or "@name" for an abstract socket). The caller reads the
// environment at start-up and passes the values in; with no socket named,
// nothing is sent. Thread-safe: every call uses its own socket.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace relais::core {

// Sends `state` (e.g. "READY=1", "WATCHDOG=1", "STOPPING=1") to `socket_path`.
// An empty path is not an error: the process is not run by systemd.
// Returns IOError if the socket cannot be reached.
[[nodiscard]] Status SdNotify(const std::string& socket_path, std::string_view state);

// How often systemd expects "WATCHDOG=1", from the values of $WATCHDOG_USEC
// and $WATCHDOG_PID (either may be null). nullopt when the watchdog is off, the
// value is malformed, or it is meant for another process than `self`.
std::optional<std::chrono::microseconds> WatchdogInterval(const char* usec, const char* pid, pid_t self);

}  // namespace relais::core

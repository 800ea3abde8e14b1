#include "core/systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

namespace relais::core {

Status SdNotify(const std::string& socket_path, std::string_view state) {
  if (socket_path.empty()) return Status::Ok();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path || (socket_path[0] != '/' && socket_path[0] != '@'))
    return Status::InvalidArgument("NOTIFY_SOCKET is not a socket path: " + socket_path);
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path.size());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError(std::string("socket: ") + std::strerror(errno));
  ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
  int err = errno;
  ::close(fd);
  if (sent != static_cast<ssize_t>(state.size()))
    return Status::IOError("cannot notify systemd at " + socket_path + ": " + std::strerror(err));
  return Status::Ok();
}

std::optional<std::chrono::microseconds> WatchdogInterval(const char* usec, const char* pid, pid_t self) {
  auto parse = [](const char* text, long long* out) {
    if (!text || !*text) return false;
    const char* end = text + std::strlen(text);
    auto [p, ec] = std::from_chars(text, end, *out);
    return ec == std::errc() && p == end && *out > 0;
  };
  long long interval = 0, target = 0;
  if (!parse(usec, &interval)) return std::nullopt;
  if (pid && *pid && (!parse(pid, &target) || target != self)) return std::nullopt;
  return std::chrono::microseconds(interval);
}

}  // namespace relais::core

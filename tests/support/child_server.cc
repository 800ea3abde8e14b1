// tests/support/child_server.cc — `relais serve` in a child process.
//
// Child states, as seen from the test:
//
//   Start --fork/exec--> starting --"Listening on …" + health 200--> running
//      starting --exit / timeout--> reaped (Start returns Internal)
//      running --Kill()--> reaped (SIGKILL)      running --Stop()--> reaped (SIGTERM)
//      running --exits by itself--> found by the next Kill()/Stop() and reported
//
// Between fork() and exec() the child calls only async-signal-safe functions
// (dup2, close_range, execve, _exit): the test process may have other threads.

#include "tests/support/child_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include "tests/support/programs.h"

extern char** environ;

namespace relais::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

#ifndef RELAIS_BINARY
#define RELAIS_BINARY ""
#endif

constexpr std::string_view kListeningPrefix = "Listening on http://";

int64_t MsLeft(Clock::time_point deadline) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
}

// Closes a file descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

Status Errno(const std::string& what) { return Status::Internal(what + ": " + std::strerror(errno)); }

// Reads the child's standard output until the "Listening on" line; returns
// the port, 0 on end of file, or -1 on timeout.
int ReadPort(int fd, Clock::time_point deadline, std::string* seen) {
  std::string buf;
  while (true) {
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      *seen += line + "\n";
      size_t at = line.find(kListeningPrefix);
      if (at == std::string::npos) continue;
      size_t colon = line.rfind(':');
      int port = std::atoi(line.c_str() + colon + 1);
      if (port > 0) return port;
    }
    int64_t left = MsLeft(deadline);
    if (left <= 0) return -1;
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return -1;
    char chunk[4096];
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    buf.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    return "was killed by signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  }
  return "changed state " + std::to_string(status);
}

Result<std::unique_ptr<ChildServer>> ChildServer::Start(const Options& options) {
  std::vector<std::string> args = testing::CommandLine(options.command, options.binary.string());
  if (args[0].empty()) return Status::InvalidArgument("no relais binary: RELAIS_BINARY is not defined");
  if (options.command.empty()) {
    args.insert(args.end(), {"serve", "--data", options.data_dir.string(), "--listen", "127.0.0.1:0"});
    args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  }
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "RELAIS_", 7) != 0) env.emplace_back(*e);
  }
  // Everything the child needs is built before fork().
  std::vector<char*> argv, envp;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return Errno("pipe2");
  Fd out_read(out[0]), out_write(out[1]);
  Fd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null_in.get() < 0) return Errno("open /dev/null");
  Fd log(options.log_file.empty() ? ::open("/dev/null", O_WRONLY | O_CLOEXEC)
                                  : ::open(options.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (log.get() < 0) return Errno("open " + options.log_file.string());

  pid_t pid = ::fork();
  if (pid < 0) return Errno("fork");
  if (pid == 0) {
    // The child: only async-signal-safe calls from here to execve.
    if (::dup2(null_in.get(), 0) < 0 || ::dup2(out_write.get(), 1) < 0 || ::dup2(log.get(), 2) < 0) ::_exit(126);
    ::syscall(SYS_close_range, 3u, ~0u, 0u);  // best effort: the others are O_CLOEXEC anyway
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  std::unique_ptr<ChildServer> child(new ChildServer(pid, options.log_file));
  out_write.Reset();
  null_in.Reset();
  log.Reset();

  auto deadline = Clock::now() + std::chrono::milliseconds(options.start_timeout_ms);
  std::string seen;
  int port = ReadPort(out_read.get(), deadline, &seen);
  out_read.Reset();  // the server prints nothing after start-up (and ignores SIGPIPE)
  if (port <= 0) {
    std::string how;
    if (!child->ReapIfExited(&how)) {
      (void)child->Kill();
      how = "printed no \"Listening on\" line within " + std::to_string(options.start_timeout_ms) + " ms";
    }
    return Status::Internal("relais serve " + how + "; stdout:\n" + seen + "log:\n" + child->LogTail());
  }
  child->port_ = port;

  auto client = child->NewClient();
  client->set_connection_timeout(0, 200000);
  client->set_read_timeout(2, 0);
  while (true) {
    auto res = client->Get(options.health_path);
    if (res && res->status == 200) return child;
    std::string how;
    if (child->ReapIfExited(&how))
      return Status::Internal("relais serve " + how + " before answering " + options.health_path + "; log:\n" +
                              child->LogTail());
    if (MsLeft(deadline) <= 0) {
      (void)child->Kill();
      return Status::Internal("relais serve did not answer " + options.health_path + " within " +
                              std::to_string(options.start_timeout_ms) + " ms; log:\n" + child->LogTail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

ChildServer::~ChildServer() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

bool ChildServer::ReapIfExited(std::string* how) {
  if (pid_ <= 0) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  *how = r < 0 ? std::string("could not be waited for: ") + std::strerror(errno) : DescribeWaitStatus(status);
  pid_ = 0;
  return true;
}

Status ChildServer::Kill() {
  if (pid_ <= 0) return Status::Ok();
  std::string how;
  if (ReapIfExited(&how)) return Status::Internal("relais serve had already " + how + "; log:\n" + LogTail());
  if (::kill(pid_, SIGKILL) != 0) return Errno("kill");
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  pid_ = 0;
  if (r < 0) return Errno("waitpid");
  // It may have exited by itself between the check and the signal.
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
    return Status::Internal("relais serve " + DescribeWaitStatus(status) + " before SIGKILL; log:\n" + LogTail());
  return Status::Ok();
}

Status ChildServer::Stop(int timeout_ms) {
  if (pid_ <= 0) return Status::Ok();
  std::string how;
  if (ReapIfExited(&how)) return Status::Internal("relais serve had already " + how + "; log:\n" + LogTail());
  if (::kill(pid_, SIGTERM) != 0) return Errno("kill");
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (MsLeft(deadline) > 0) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Errno("waitpid");
    if (r > 0) {
      pid_ = 0;
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
      return Status::Internal("relais serve " + DescribeWaitStatus(status) + " after SIGTERM; log:\n" + LogTail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  (void)Kill();
  return Status::Internal("relais serve did not stop within " + std::to_string(timeout_ms) + " ms of SIGTERM");
}

std::unique_ptr<httplib::Client> ChildServer::NewClient() const {
  auto client = std::make_unique<httplib::Client>(host_, port_);
  client->set_connection_timeout(2, 0);
  client->set_read_timeout(30, 0);
  client->set_write_timeout(30, 0);
  return client;
}

std::string ChildServer::LogTail(size_t max_bytes) const {
  if (log_file_.empty()) return "";
  std::ifstream in(log_file_, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  auto size = static_cast<size_t>(in.tellg());
  size_t from = size > max_bytes ? size - max_bytes : 0;
  in.seekg(static_cast<std::streamoff>(from));
  std::string out(size - from, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

}  // namespace relais::testing

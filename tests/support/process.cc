// tests/support/process.cc — the programs under test as child processes.
//
// A child's states, as seen from the test:
//
//   Start --fork/execve--> running --exits by itself--> found by Poll/Wait/Kill/Stop, reaped
//      running --Kill()--> reaped (SIGKILL)      running --Stop()--> reaped (SIGTERM, then SIGKILL)
//      running --Wait(timeout) expires--> reaped (SIGKILL, killed = true)
//
// A ServerProcess adds, before Start returns:
//   starting --"Listening on URL" + health 200--> running
//   starting --exit / timeout--> reaped (Start returns Internal)

#include "tests/support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>

#include "core/crypto.h"
#include "core/files.h"
#include "tests/support/wait.h"

extern char** environ;

#ifndef RELAIS_BINARY
#define RELAIS_BINARY ""
#endif
#ifndef RELAIS_HUB_BINARY
#define RELAIS_HUB_BINARY ""
#endif

namespace relais::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kListening = "Listening on ";

// Closes a file descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Status Errno(const std::string& what) { return Status::Internal(what + ": " + std::strerror(errno)); }

std::string ReadOrEmpty(const fs::path& path) {
  auto text = core::ReadFile(path);
  return text.ok() ? *text : "";
}

std::string Tail(const fs::path& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  auto size = static_cast<size_t>(in.tellg());
  size_t from = size > max_bytes ? size - max_bytes : 0;
  in.seekg(static_cast<std::streamoff>(from));
  std::string out(size - from, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

pid_t WaitPid(pid_t pid, int* status, int flags) {
  pid_t r;
  do {
    r = ::waitpid(pid, status, flags);
  } while (r < 0 && errno == EINTR);
  return r;
}

}  // namespace

std::string ProgramPath(Program program) { return program == Program::kHub ? RELAIS_HUB_BINARY : RELAIS_BINARY; }

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    return "was killed by signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  }
  return "changed state " + std::to_string(status);
}

Result<std::unique_ptr<Process>> Process::Start(Program program, const std::vector<std::string>& args,
                                                const Options& options) {
  std::string binary = options.binary.empty() ? ProgramPath(program) : options.binary.string();
  if (binary.empty())
    return Status::InvalidArgument(program == Program::kHub ? "no relais-hub binary: RELAIS_HUB_BINARY is not defined"
                                                            : "no relais binary: RELAIS_BINARY is not defined");
  std::unique_ptr<Process> p(new Process());
  p->name_ = fs::path(binary).filename().string() + (args.empty() ? "" : " " + args[0]);
  std::string tag = core::RandomToken(8);
  p->remove_out_ = options.stdout_file.empty();
  p->remove_err_ = options.stderr_file.empty();
  p->out_ = p->remove_out_ ? fs::temp_directory_path() / ("relais-proc-" + tag + ".out") : options.stdout_file;
  p->err_ = p->remove_err_ ? fs::temp_directory_path() / ("relais-proc-" + tag + ".err") : options.stderr_file;

  // Everything the child needs is built before fork().
  std::vector<std::string> argv_s = {binary};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "RELAIS_", 7) != 0) env_s.emplace_back(*e);
  }
  env_s.insert(env_s.end(), options.env.begin(), options.env.end());
  std::vector<char*> argv, envp;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  const int kOut = O_WRONLY | O_CREAT | O_CLOEXEC;
  Fd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null_in.get() < 0) return Errno("open /dev/null");
  Fd out(::open(p->out_.c_str(), kOut | (p->remove_out_ ? O_TRUNC : O_APPEND), 0600));
  if (out.get() < 0) return Errno("open " + p->out_.string());
  Fd err(::open(p->err_.c_str(), kOut | (p->remove_err_ ? O_TRUNC : O_APPEND), 0600));
  if (err.get() < 0) return Errno("open " + p->err_.string());

  pid_t pid = ::fork();
  if (pid < 0) return Errno("fork");
  if (pid == 0) {
    // The child: only async-signal-safe calls from here to execve.
    if (::dup2(null_in.get(), 0) < 0 || ::dup2(out.get(), 1) < 0 || ::dup2(err.get(), 2) < 0) ::_exit(126);
    ::syscall(SYS_close_range, 3u, ~0u, 0u);  // best effort: the test's own are O_CLOEXEC anyway
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  p->pid_ = pid;
  return p;
}

Process::~Process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    WaitPid(pid_, &status, 0);
  }
  std::error_code ec;
  if (remove_out_) fs::remove(out_, ec);
  if (remove_err_) fs::remove(err_, ec);
}

bool Process::Reaped(int* status) {
  if (pid_ <= 0) return false;
  pid_t r = WaitPid(pid_, status, WNOHANG);
  if (r == 0) return false;
  if (r < 0) *status = -1;
  pid_ = -1;
  return true;
}

CommandResult Process::Finish(int status, bool killed) {
  pid_ = -1;
  CommandResult r;
  r.killed = killed;
  if (status >= 0 && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (status >= 0 && WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = Stdout();
  r.err = Stderr();
  return r;
}

std::optional<CommandResult> Process::Poll() {
  int status = 0;
  if (Reaped(&status)) return Finish(status, false);
  return std::nullopt;
}

CommandResult Process::Wait(int timeout_ms) {
  if (pid_ <= 0) return CommandResult{};
  int status = 0;
  // Polls (and does not block in waitpid) so that the deadline holds.
  if (WaitUntil([&] { return Reaped(&status); }, milliseconds(timeout_ms), milliseconds(1)))
    return Finish(status, false);
  ::kill(pid_, SIGKILL);
  WaitPid(pid_, &status, 0);
  return Finish(status, true);
}

Status Process::Kill() {
  if (pid_ <= 0) return Status::Ok();
  int status = 0;
  if (Reaped(&status))
    return Status::Internal(name_ + " had already " + DescribeWaitStatus(status) + "; log:\n" + LogTail());
  if (::kill(pid_, SIGKILL) != 0) return Errno("kill");
  pid_t r = WaitPid(pid_, &status, 0);
  pid_ = -1;
  if (r < 0) return Errno("waitpid");
  // It may have exited by itself between the check and the signal.
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
    return Status::Internal(name_ + " " + DescribeWaitStatus(status) + " before SIGKILL; log:\n" + LogTail());
  return Status::Ok();
}

Status Process::Stop(int timeout_ms) {
  if (pid_ <= 0) return Status::Ok();
  int status = 0;
  if (Reaped(&status))
    return Status::Internal(name_ + " had already " + DescribeWaitStatus(status) + "; log:\n" + LogTail());
  if (::kill(pid_, SIGTERM) != 0) return Errno("kill");
  if (!WaitUntil([&] { return Reaped(&status); }, milliseconds(timeout_ms), milliseconds(2))) {
    (void)Kill();
    return Status::Internal(name_ + " did not stop within " + std::to_string(timeout_ms) + " ms of SIGTERM; log:\n" +
                            LogTail());
  }
  if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  return Status::Internal(name_ + " " + DescribeWaitStatus(status) + " after SIGTERM; log:\n" + LogTail());
}

std::string Process::Stdout() const { return ReadOrEmpty(out_); }
std::string Process::Stderr() const { return ReadOrEmpty(err_); }
std::string Process::LogTail(size_t max_bytes) const { return Tail(err_, max_bytes); }

CommandResult Run(Program program, const std::vector<std::string>& args, int timeout_ms) {
  auto process = Process::Start(program, args);
  if (!process.ok()) {
    CommandResult r;
    r.err = process.status().ToString();
    return r;
  }
  return (*process)->Wait(timeout_ms);
}

Result<std::string> RunOk(Program program, const std::vector<std::string>& args, int timeout_ms) {
  CommandResult r = Run(program, args, timeout_ms);
  if (r.exit_code != 0)
    return Status::Internal(
        ProgramPath(program) + " " + (args.empty() ? std::string() : args[0]) + " failed (" +
        (r.killed ? "killed after " + std::to_string(timeout_ms) + " ms" : "exit " + std::to_string(r.exit_code)) +
        "): " + r.err);
  return r.out;
}

Result<std::unique_ptr<ServerProcess>> ServerProcess::Start(const Options& options) {
  std::vector<std::string> args = options.command;
  if (args.empty()) {
    args = {"serve", "--data", options.data_dir.string(), "--listen", "127.0.0.1:0"};
    args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  }
  Process::Options po;
  po.binary = options.binary;
  po.stderr_file = options.log_file;
  po.env = options.env;
  RELAIS_ASSIGN_OR_RETURN(auto process, Process::Start(options.program, args, po));
  std::unique_ptr<ServerProcess> server(new ServerProcess(std::move(process)));
  Process& p = *server->process_;
  const milliseconds timeout(options.start_timeout_ms);
  auto deadline = Clock::now() + timeout;

  // The "Listening on URL" line, once the child has printed it whole.
  std::string out;
  std::optional<CommandResult> ended;
  bool exited = false;
  bool listening = WaitUntil(
      [&] {
        out = p.Stdout();
        size_t at = out.find(kListening);
        if (at != std::string::npos && out.find('\n', at) != std::string::npos) return true;
        return exited = (ended = p.Poll()).has_value();
      },
      timeout, milliseconds(2));
  if (!listening || exited) {
    std::string how =
        exited ? "exited (code " + std::to_string(ended->exit_code) + ", signal " + std::to_string(ended->signal) + ")"
               : "printed no \"Listening on\" line within " + std::to_string(timeout.count()) + " ms";
    std::string log = p.LogTail();
    (void)p.Kill();
    return Status::Internal(p.name() + " " + how + "; stdout:\n" + out + "log:\n" + log);
  }
  size_t at = out.find(kListening) + kListening.size();
  server->url_ = out.substr(at, out.find_first_of("\r\n", at) - at);
  size_t colon = server->url_.rfind(':');
  server->port_ = colon == std::string::npos ? 0 : std::atoi(server->url_.c_str() + colon + 1);
  if (server->port_ <= 0) return Status::Internal(p.name() + " printed a URL without a port: " + server->url_);
  if (options.health_path.empty() || server->url_.rfind("http://", 0) != 0) return server;

  auto client = server->NewClient();
  client->set_connection_timeout(0, 200000);
  client->set_read_timeout(2, 0);
  bool healthy = WaitUntil(
      [&] {
        auto res = client->Get(options.health_path);
        if (res && res->status == 200) return true;
        return exited = (ended = p.Poll()).has_value();
      },
      std::chrono::duration_cast<milliseconds>(std::max(deadline - Clock::now(), Clock::duration::zero())),
      milliseconds(5));
  if (healthy && !exited) return server;
  std::string log = p.LogTail();
  (void)p.Kill();
  return Status::Internal(p.name() + (exited ? " exited before answering " : " did not answer ") + options.health_path +
                          " within " + std::to_string(timeout.count()) + " ms; log:\n" + log);
}

std::unique_ptr<httplib::Client> ServerProcess::NewClient() const {
  auto client = std::make_unique<httplib::Client>(host_, port_);
  client->set_connection_timeout(2, 0);
  client->set_read_timeout(30, 0);
  client->set_write_timeout(30, 0);
  return client;
}

}  // namespace relais::testing

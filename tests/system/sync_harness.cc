// tests/system/sync_harness.cc — relais processes for sync tests (see sync_harness.h).

#include "tests/system/sync_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "content/school.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/files.h"
#include "sync/replica.h"
#include "tests/support/programs.h"

extern char** environ;

namespace relais::testing {
namespace {

namespace fs = std::filesystem;

#ifndef RELAIS_BINARY
#define RELAIS_BINARY ""
#endif

std::string ReadOrEmpty(const fs::path& path) {
  auto text = core::ReadFile(path);
  return text.ok() ? *text : "";
}

}  // namespace

Result<std::unique_ptr<RelaisProcess>> RelaisProcess::Spawn(const std::vector<std::string>& args,
                                                            const fs::path& scratch, const fs::path& binary) {
  std::vector<std::string> command = testing::CommandLine(args, binary.string());
  std::string tag = core::RandomToken(6);
  fs::path out = scratch / ("proc-" + tag + ".out");
  fs::path err = scratch / ("proc-" + tag + ".err");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> argv;
  for (std::string& a : command) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, command[0].c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Status::Internal("cannot start " + command[0] + ": " + std::strerror(rc));
  return std::unique_ptr<RelaisProcess>(new RelaisProcess(pid, out, err));
}

RelaisProcess::~RelaisProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  std::error_code ec;
  fs::remove(out_, ec);
  fs::remove(err_, ec);
}

CommandResult RelaisProcess::Finish(int status, bool killed) {
  pid_ = -1;
  CommandResult r;
  r.killed = killed;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = ReadOrEmpty(out_);
  r.err = ReadOrEmpty(err_);
  return r;
}

std::optional<CommandResult> RelaisProcess::Poll() {
  int status = 0;
  if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) return Finish(status, false);
  return std::nullopt;
}

CommandResult RelaisProcess::Wait(int timeout_ms) {
  if (pid_ <= 0) return CommandResult{};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) return Finish(status, false);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  return Finish(status, true);
}

CommandResult RelaisProcess::KillAfter(int delay_ms) { return Wait(delay_ms); }

std::string RelaisProcess::OutputSoFar() const { return ReadOrEmpty(out_); }

CommandResult RunRelais(const std::vector<std::string>& args, const fs::path& scratch, int timeout_ms) {
  auto process = RelaisProcess::Spawn(args, scratch);
  if (!process.ok()) {
    CommandResult r;
    r.err = process.status().ToString();
    return r;
  }
  return (*process)->Wait(timeout_ms);
}

Result<std::unique_ptr<HubServer>> HubServer::Start(const fs::path& data_dir, const fs::path& scratch) {
  RELAIS_ASSIGN_OR_RETURN(
      auto process,
      RelaisProcess::Spawn({"hub", "serve", "--data", data_dir.string(), "--listen", "127.0.0.1:0"}, scratch));
  std::unique_ptr<HubServer> hub(new HubServer(std::move(process)));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string out = hub->process_->OutputSoFar();
    size_t at = out.find("Listening on ");
    size_t end = at == std::string::npos ? at : out.find('\n', at);
    if (end != std::string::npos) {
      hub->url_ = out.substr(at + 13, end - at - 13);
      hub->port_ = std::atoi(hub->url_.c_str() + hub->url_.rfind(':') + 1);
      return hub;
    }
    if (auto ended = hub->process_->Poll()) return Status::Internal("the hub did not start: " + ended->All());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CommandResult r = hub->process_->Wait(0);
  return Status::Internal("the hub did not start: " + r.All());
}

HubServer::~HubServer() {
  ::kill(process_->pid(), SIGTERM);
  process_->Wait(10000);
}

ScratchDir::ScratchDir(const std::string& prefix)
    : path(fs::temp_directory_path() / (prefix + "-" + core::RandomToken(8))) {
  fs::create_directories(path);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path, ec);
}

Result<std::string> DumpBox(const fs::path& data_dir) {
  core::SystemClock clock;
  RELAIS_ASSIGN_OR_RETURN(auto school, content::School::Open(data_dir, clock));
  auto db = school->db().Reader();
  return sync::DumpSyncedTables(*db);
}

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace relais::testing

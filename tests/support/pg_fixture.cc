#include "tests/support/pg_fixture.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "core/crypto.h"
#include "core/files.h"

namespace relais::testing {
namespace fs = std::filesystem;

namespace {

// Runs `argv` (as the postgres user when we are root), appending its output
// to `log`. Returns its exit status as a Status.
Status Run(std::vector<std::string> argv, const fs::path& log) {
  if (geteuid() == 0) argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
  pid_t pid = fork();
  if (pid < 0) return Status::Internal("fork failed");
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int null = open("/dev/null", O_RDONLY);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    if (null >= 0) dup2(null, 0);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::Ok();
  std::string tail;
  if (auto text = core::ReadFile(log); text.ok())
    tail = text->size() > 2000 ? text->substr(text->size() - 2000) : *text;
  return Status::Internal(argv[geteuid() == 0 ? 4 : 0] + " failed (status " + std::to_string(status) + "):\n" + tail);
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

}  // namespace

Result<std::unique_ptr<PgServer>> PgServer::Start(bool durable) {
  RELAIS_RETURN_IF_ERROR(core::InitCrypto());
  std::unique_ptr<PgServer> s(new PgServer());
  const char* bin = std::getenv("RELAIS_PG_BIN");
  s->bin_ = bin && *bin ? fs::path(bin) : fs::path("/usr/lib/postgresql/15/bin");
  if (!fs::exists(s->bin_ / "initdb") || !fs::exists(s->bin_ / "pg_ctl"))
    return Status::Internal("PostgreSQL server binaries not found in " + s->bin_.string() +
                            ": install Debian's postgresql package (scripts/install-deps.sh pg)");
  s->dir_ = fs::temp_directory_path() / ("relais-pg-" + core::RandomToken(8));
  RELAIS_RETURN_IF_ERROR(core::MakeDirs(s->dir_));
  fs::permissions(s->dir_, fs::perms::owner_all);
  if (geteuid() == 0) {
    passwd* pw = getpwnam("postgres");
    if (!pw) return Status::Internal("running as root but there is no postgres user");
    if (chown(s->dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) return Status::Internal("cannot chown the test directory");
  }
  // Our own logs are written by this process; the server writes its own.
  fs::path log = s->dir_ / "initdb.log";
  RELAIS_RETURN_IF_ERROR(Run({(s->bin_ / "initdb").string(), "-D", (s->dir_ / "data").string(), "-U", "postgres",
                              "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"},
                             log));
  for (int attempt = 0; attempt < 3; ++attempt) {
    s->port_ = FreePort();
    std::string options = "-k " + s->dir_.string() + " -p " + std::to_string(s->port_) +
                          " -c listen_addresses=127.0.0.1 -c max_connections=200";
    if (!durable) options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
    Status st = Run({(s->bin_ / "pg_ctl").string(), "start", "-w", "-t", "30", "-D", (s->dir_ / "data").string(), "-l",
                     (s->dir_ / "postgres.log").string(), "-o", options},
                    s->dir_ / "pg_ctl.log");
    if (st.ok()) {
      s->running_ = true;
      return s;
    }
    if (attempt == 2) return st;
  }
  return Status::Internal("unreachable");
}

Result<std::string> PgServer::NewDatabase() {
  std::string name;
  {
    std::lock_guard lock(mu_);
    name = "relais" + std::to_string(++next_db_);
  }
  RELAIS_RETURN_IF_ERROR(
      Run({(bin_ / "createdb").string(), "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "postgres", name},
          dir_ / "createdb.log"));
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

Status PgServer::Stop() {
  Status st;
  if (running_) {
    st = Run({(bin_ / "pg_ctl").string(), "stop", "-m", "immediate", "-w", "-D", (dir_ / "data").string()},
             dir_ / "pg_ctl.log");
    running_ = false;
  }
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
  dir_.clear();
  return st;
}

PgServer::~PgServer() { (void)Stop(); }

Result<PgServer*> PgServer::Shared() {
  static Result<std::unique_ptr<PgServer>> shared = Start();
  if (!shared.ok()) return shared.status();
  return shared->get();
}

}  // namespace relais::testing

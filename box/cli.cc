#include "box/cli.h"

#include <signal.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "box/api.h"
#include "box/auto_sync.h"
#include "box/box_ca.h"
#include "box/config.h"
#include "content/demo.h"
#include "content/school.h"
#include "core/crypto.h"
#include "core/files.h"
#include "core/log.h"
#include "core/systemd_notify.h"
#include "http/event_server.h"
#include "http/https_redirect.h"
#include "http/tls_context.h"

namespace relais::box {

namespace fs = std::filesystem;

namespace {

constexpr const char* kUsage = R"(relais — the offline school box (version )" RELAIS_VERSION R"()

Usage: relais <command> [options]      (relais <command> --help for details)

Commands:
  serve          serve the school over HTTP
  user add       create an account
  user passwd    set an account's password
  user list      list the accounts
  class add      create a class
  roster import  import students and teachers from a CSV file
  school name    set the school's name
  sync           sync with the gateway: enrol, a network round, USB export/import
  tls init       make the box's own certificate authority and HTTPS certificate
)";

constexpr const char* kServeHelp = R"(Usage: relais serve --data DIR [--listen ADDR:PORT] [--https-listen ADDR:PORT]
                    [--tls-cert FILE --tls-key FILE] [--demo] [--max-upload-mb N]

Serves the school stored in DIR (created if needed) over HTTP, and over HTTPS
too when it has a certificate (--tls-cert/--tls-key, or the ones
`relais tls init` put in DIR/tls/). A SIGHUP reloads the certificate.
  --data DIR                the data folder (database, files, relais.conf)
  --listen ADDR:PORT        where to listen (default 127.0.0.1:8080; port 0 picks a free one)
  --https-listen ADDR:PORT  where to listen for HTTPS (default 127.0.0.1:8443)
  --tls-cert FILE           the server certificate (PEM), with --tls-key FILE its key
  --demo                    seed a demo school once (accounts are printed)
  --max-upload-mb N         largest file accepted (default 200)
Settings may also come from DIR/relais.conf ("key = value") and RELAIS_<KEY> variables.
)";

constexpr const char* kTlsInitHelp =
    R"(Usage: relais tls init --data DIR --name HOST [--name HOST …] [--ip ADDR …] [--new-ca]

Makes the box's own certificate authority (once) and an HTTPS certificate for
the names and addresses given, signed by it, in DIR/tls/. `relais serve` then
serves HTTPS with it; tablets trust it once they install the CA from
http://HOST/ca.crt (see README, "HTTPS and offline tablets"). Run it again to
renew the certificate or add a name: the CA stays, so tablets keep trusting
the box. --new-ca replaces the CA (every tablet must install the new one).
  --name HOST   a name tablets use for the box (e.g. ecole.lan); the first is the main one
  --ip ADDR     an address tablets use for the box (e.g. 10.42.0.1)
)";

constexpr const char* kUserAddHelp = R"(Usage: relais user add --data DIR --login L --role student|teacher|admin
                       [--class NAME] [--display-name N] (--password P | --password-stdin)

Creates an account. With --class, the user joins that class (which must exist).
--password-stdin reads the password from the first line of standard input.
)";
constexpr const char* kUserPasswdHelp =
    R"(Usage: relais user passwd --data DIR --login L (--password P | --password-stdin)

Sets an account's password and ends its open sessions.
)";
constexpr const char* kUserListHelp = R"(Usage: relais user list --data DIR

Lists the accounts: login, role, display name.
)";
constexpr const char* kClassAddHelp = R"(Usage: relais class add --data DIR --name NAME

Creates a class.
)";
constexpr const char* kSchoolNameHelp = R"(Usage: relais school name --data DIR --name NAME

Sets the school's name, shown in the app (the first-run setup sets it too).
)";
constexpr const char* kRosterHelp = R"(Usage: relais roster import --data DIR FILE.csv

Imports a roster: one line per student or teacher,
  login, display name, role, class
separated by commas or semicolons, with an optional header line. Classes are
created as needed. Re-importing is harmless. If any line is wrong, the errors
are listed with their line numbers and nothing is imported. New accounts get
a generated password, printed once.
)";

}  // namespace

Status OpenSchool(const Args& args, Setup* setup, bool serving) {
  auto data = args.Get("data");
  if (!data || data->empty()) return Status::InvalidArgument("--data DIR is required");
  Config& config = setup->config;
  config.data_dir = *data;
  RELAIS_RETURN_IF_ERROR(config.LoadFile(config.data_dir / "relais.conf"));
  RELAIS_RETURN_IF_ERROR(config.LoadEnvironment());
  if (auto listen = args.Get("listen")) RELAIS_RETURN_IF_ERROR(config.Set("listen", *listen));
  if (auto mb = args.Get("max-upload-mb")) RELAIS_RETURN_IF_ERROR(config.Set("max_upload_mb", *mb));
  if (auto https = args.Get("https-listen")) RELAIS_RETURN_IF_ERROR(config.Set("https_listen", *https));
  if (auto cert = args.Get("tls-cert")) RELAIS_RETURN_IF_ERROR(config.Set("tls_cert", *cert));
  if (auto key = args.Get("tls-key")) RELAIS_RETURN_IF_ERROR(config.Set("tls_key", *key));
  // No certificate configured: the one `relais tls init` made, if any.
  fs::path made = BoxTlsDir(config.data_dir);
  std::error_code ec;
  if (config.tls_cert.empty() && config.tls_key.empty() && fs::exists(made / "server.crt", ec) &&
      fs::exists(made / "server.key", ec)) {
    config.tls_cert = made / "server.crt";
    config.tls_key = made / "server.key";
  }
  RELAIS_RETURN_IF_ERROR(config.Validate());
  setup->clock.set_offset_s(config.test_clock_offset_s);
  RELAIS_RETURN_IF_ERROR(core::InitCrypto());
  core::PasswordParams params;
  params.ops = config.password_ops;
  params.mem_bytes = static_cast<size_t>(config.password_mem_kib) << 10;
  params.max_concurrent = config.password_concurrency > 0
                              ? config.password_concurrency
                              : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  core::SetPasswordParams(params);
  content::School::Options options;
  options.db_readers = config.db_readers;
  if (serving) {
    RELAIS_RETURN_IF_ERROR(core::MakeDirs(config.data_dir));
    auto lock = core::FileLock::Acquire(config.data_dir / "relais.lock");
    if (!lock.ok() && lock.status().code() == StatusCode::kConflict)
      return Status::Conflict("another relais serve is already using " + config.data_dir.string());
    if (!lock.ok()) return lock.status();
    setup->server_lock = std::move(lock).value();
    options.clear_partial_uploads = true;
  }
  RELAIS_ASSIGN_OR_RETURN(setup->school, content::School::Open(config.data_dir, setup->clock, options));
  return Status::Ok();
}

namespace {

Result<std::string> PasswordFrom(const Args& args) {
  if (auto p = args.Get("password")) return *p;
  if (args.Has("password-stdin")) {
    std::string line;
    if (!std::getline(std::cin, line)) return Status::InvalidArgument("no password on standard input");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  return Status::InvalidArgument("give the password with --password P or --password-stdin");
}

int Serve(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) return std::fputs(kServeHelp, stdout), 0;
  auto args = Args::Parse(argv, {"data", "listen", "max-upload-mb", "https-listen", "tls-cert", "tls-key"}, {"demo"});
  if (!args.ok()) return Fail(args.status());
  // Block the stop signals before any thread starts; one thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Setup setup;
  if (Status st = OpenSchool(*args, &setup, /*serving=*/true); !st.ok()) return Fail(st);
  content::School& school = *setup.school;
  if (Status st = school.PurgeOldAudit(); !st.ok()) return Fail(st);
  if (args->Has("demo")) {
    auto seeded = content::SeedDemo(school);
    if (!seeded.ok()) return Fail(seeded.status());
  }
  // First run: no administrator yet. The code goes to the console and to a
  // file only root (or the service's user) can read.
  auto setup_code = school.accounts().PrepareSetup();
  if (!setup_code.ok()) return Fail(setup_code.status());
  fs::path code_file = setup.config.data_dir / "setup-code.txt";
  if (*setup_code) {
    if (Status st = core::WriteFileAtomic(code_file, **setup_code + "\n", 0600); !st.ok()) return Fail(st);
  } else {
    std::error_code ec;
    fs::remove(code_file, ec);
  }

  // HTTPS: the certificate is checked before anything listens.
  const Config& config = setup.config;
  std::shared_ptr<const http::TlsContext> tls;
  if (!config.tls_cert.empty()) {
    auto loaded = http::TlsContext::Load(config.tls_cert, config.tls_key, setup.clock.Now());
    if (!loaded.ok()) return Fail(loaded.status());
    tls = *loaded;
  } else if (config.https_redirect) {
    return Fail(
        Status::InvalidArgument("https_redirect needs a certificate: set tls_cert and tls_key, or run "
                                "`relais tls init`"));
  }
  std::mutex tls_mu;  // guards `tls` after start (SIGHUP replaces it)
  int https_port = 0;

  Api api(school, config, setup.clock);
  api.set_time_setter(core::SetSystemClock);
  AutoSync auto_sync(school, config, setup.clock);  // rounds with the gateway once enrolled
  api.set_auto_sync(&auto_sync);
  http::EventServer http(
      [&](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) {
        if (config.https_redirect && !req.ssl && !Api::StaysOnPlainHttp(req.path)) {
          std::shared_ptr<const http::TlsContext> current;
          {
            std::lock_guard lock(tls_mu);
            current = tls;
          }
          return http::WriteHttpsRedirect(req, res, current->certificate(), https_port);
        }
        api.Dispatch(req, res, reader);
      },
      http::TransportOptions(config));
  auto port = http.Bind(config.listen_host, config.listen_port);
  if (!port.ok()) return Fail(port.status());
  if (tls) {
    auto bound = http.Bind(config.https_host, config.https_port, tls);
    if (!bound.ok()) return Fail(bound.status());
    https_port = *bound;
  }

  std::string host = config.listen_host;
  if (host == "0.0.0.0" || host == "::") host = "127.0.0.1";
  std::string url = "http://" + host + ":" + std::to_string(*port);
  std::printf("Relais %s — %s\n", RELAIS_VERSION, config.data_dir.c_str());
  std::printf("Listening on %s\n", url.c_str());
  if (tls) {
    const http::CertificateInfo& cert = tls->certificate();
    std::string name = !cert.dns_names.empty() ? cert.dns_names.front() : !cert.ips.empty() ? cert.ips.front() : host;
    std::printf("HTTPS on %s:%d for %s (certificate valid until %s)\n", config.https_host.c_str(), https_port,
                name.c_str(), core::FormatTime(cert.not_after).c_str());
    if (cert.not_after - setup.clock.Now() < 30 * 86400)
      std::printf("Warning: the certificate expires within 30 days; renew it with `relais tls init`\n");
    core::LogEvent(
        "tls.certificate",
        {{"subject", cert.subject}, {"not_after", core::FormatTime(cert.not_after)}, {"sha256", cert.sha256}});
  }
  if (args->Has("demo")) {
    std::printf("\nÉcole de démonstration / demo school — comptes / accounts (login / password):\n");
    for (const auto& a : content::DemoAccounts())
      std::printf("  %-16s %-12s %s\n", a.login.c_str(), a.password.c_str(), a.description.c_str());
    std::printf("\nAPI: %s/api/v1/health — see docs/api.md\n", url.c_str());
  }
  if (*setup_code)
    std::printf(
        "\nPremière installation / first run: open %s/ and enter the setup code %s\n"
        "(also in %s)\n",
        url.c_str(), setup_code->value().c_str(), code_file.c_str());
  std::fflush(stdout);
  core::LogEvent("server.start", {{"url", url}, {"version", RELAIS_VERSION}});
  // Under systemd (Type=notify): ready now that the port is bound.
  const char* notify_env = std::getenv("NOTIFY_SOCKET");
  const std::string notify_socket = notify_env ? notify_env : "";
  if (Status st = core::SdNotify(notify_socket, "READY=1\nSTATUS=" + url); !st.ok())
    core::LogEvent("server.notify_failed", {{"error", st.message()}});
  auto watchdog_interval =
      core::WatchdogInterval(std::getenv("WATCHDOG_USEC"), std::getenv("WATCHDOG_PID"), ::getpid());

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  std::thread signals([&] {
    int sig = 0;
    // SIGHUP: reload the certificate (renewed by `relais tls init`); a bad
    // one is logged and the current one kept.
    while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP) {
      if (!tls) continue;
      auto reloaded = http::TlsContext::Load(config.tls_cert, config.tls_key, setup.clock.Now());
      if (!reloaded.ok()) {
        core::LogEvent("tls.reload_failed", {{"error", reloaded.status().message()}});
        continue;
      }
      {
        std::lock_guard lock(tls_mu);
        tls = *reloaded;
      }
      http.ReplaceTls(*reloaded);
      core::LogEvent("tls.reloaded", {{"not_after", core::FormatTime((*reloaded)->certificate().not_after)},
                                      {"sha256", (*reloaded)->certificate().sha256}});
    }
    core::LogEvent("server.stop", {{"signal", std::to_string(sig)}});
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    cv.notify_all();
    http.Stop();
  });
  signals.detach();
  // Daily housekeeping: the audit log keeps 12 months.
  std::thread housekeeping([&] {
    std::unique_lock lock(mu);
    while (!cv.wait_for(lock, std::chrono::hours(24), [&] { return stopping; })) {
      lock.unlock();
      (void)school.PurgeOldAudit();
      lock.lock();
    }
  });
  // The watchdog is fed only while the server answers its own health check
  // through the network stack: a wedged server gets restarted by systemd.
  std::thread watchdog([&] {
    if (!watchdog_interval) return;
    httplib::Client self(host, *port);
    self.set_connection_timeout(std::chrono::seconds(2));
    self.set_read_timeout(std::chrono::seconds(5));
    std::unique_lock lock(mu);
    while (!cv.wait_for(lock, *watchdog_interval / 3, [&] { return stopping; })) {
      lock.unlock();
      auto reply = self.Get("/api/v1/health");
      if (reply && reply->status == 200) {
        (void)core::SdNotify(notify_socket, "WATCHDOG=1");
      } else {
        core::LogEvent("server.watchdog_missed", {{"status", reply ? std::to_string(reply->status) : "no answer"}});
      }
      lock.lock();
    }
  });
  auto_sync.Start();
  bool ok = http.Run();
  (void)core::SdNotify(notify_socket, "STOPPING=1");
  auto_sync.Stop();  // cuts a round in flight; the next start resumes it
  core::FlushLog();
  {
    std::lock_guard lock(mu);
    stopping = true;
  }
  cv.notify_all();
  housekeeping.join();
  watchdog.join();
  return ok ? 0 : 1;
}

int UserAdd(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) return std::fputs(kUserAddHelp, stdout), 0;
  auto args = Args::Parse(argv, {"data", "login", "role", "class", "display-name", "password"}, {"password-stdin"});
  if (!args.ok()) return Fail(args.status());
  auto login = args->Get("login");
  auto role_name = args->Get("role");
  if (!login || !role_name) return Fail(Status::InvalidArgument("--login and --role are required"));
  auto role = content::ParseRole(*role_name);
  if (!role) return Fail(Status::InvalidArgument("--role must be student, teacher or admin"));
  auto password = PasswordFrom(*args);
  if (!password.ok()) return Fail(password.status());
  Setup setup;
  if (Status st = OpenSchool(*args, &setup); !st.ok()) return Fail(st);
  content::NewUser nu{*login, args->Get("display-name").value_or(""), *role, *password, args->Get("class")};
  auto user = setup.school->accounts().CreateUser(nullptr, nu);
  if (!user.ok()) return Fail(user.status());
  std::printf("created %s %s (%s)\n", content::RoleName(user->role), user->login.c_str(), user->display_name.c_str());
  return 0;
}

int UserPasswd(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) return std::fputs(kUserPasswdHelp, stdout), 0;
  auto args = Args::Parse(argv, {"data", "login", "password"}, {"password-stdin"});
  if (!args.ok()) return Fail(args.status());
  auto login = args->Get("login");
  if (!login) return Fail(Status::InvalidArgument("--login is required"));
  auto password = PasswordFrom(*args);
  if (!password.ok()) return Fail(password.status());
  Setup setup;
  if (Status st = OpenSchool(*args, &setup); !st.ok()) return Fail(st);
  if (Status st = setup.school->accounts().SetPassword(nullptr, *login, *password); !st.ok()) return Fail(st);
  std::printf("password changed for %s\n", login->c_str());
  return 0;
}

int UserList(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) return std::fputs(kUserListHelp, stdout), 0;
  auto args = Args::Parse(argv, {"data"}, {});
  if (!args.ok()) return Fail(args.status());
  Setup setup;
  if (Status st = OpenSchool(*args, &setup); !st.ok()) return Fail(st);
  auto users = setup.school->accounts().ListUsers();
  if (!users.ok()) return Fail(users.status());
  for (const auto& u : *users)
    std::printf("%-24s %-8s %s%s\n", u.login.c_str(), content::RoleName(u.role), u.display_name.c_str(),
                u.disabled ? " (disabled)" : "");
  return 0;
}

int ClassAdd(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) return std::fputs(kClassAddHelp, stdout), 0;
  auto args = Args::Parse(argv, {"data", "name"}, {});
  if (!args.ok()) return Fail(args.status());
  auto name = args->Get("name");
  if (!name) return Fail(Status::InvalidArgument("--name is required"));
  Setup setup;
  if (Status st = OpenSchool(*args, &setup); !st.ok()) return Fail(st);
  auto c = setup.school->accounts().CreateClass(nullptr, *name);
  if (!c.ok()) return Fail(c.status());
  std::printf("created class %s\n", c->name.c_str());
  return 0;
}

int SchoolName(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) return std::fputs(kSchoolNameHelp, stdout), 0;
  auto args = Args::Parse(argv, {"data", "name"}, {});
  if (!args.ok()) return Fail(args.status());
  auto name = args->Get("name");
  if (!name || name->empty() || name->size() > 1000)
    return Fail(Status::InvalidArgument("--name is required (at most 1000 bytes)"));
  Setup setup;
  if (Status st = OpenSchool(*args, &setup); !st.ok()) return Fail(st);
  if (Status st = setup.school->accounts().SetSetting("school_name", *name); !st.ok()) return Fail(st);
  std::printf("school name set to %s\n", name->c_str());
  return 0;
}

int RosterImport(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) return std::fputs(kRosterHelp, stdout), 0;
  auto args = Args::Parse(argv, {"data"}, {});
  if (!args.ok()) return Fail(args.status());
  if (args->positional().size() != 1) return Fail(Status::InvalidArgument("give one CSV file to import"));
  auto csv = core::ReadFile(args->positional()[0]);
  if (!csv.ok()) return Fail(csv.status());
  Setup setup;
  if (Status st = OpenSchool(*args, &setup); !st.ok()) return Fail(st);
  auto report = setup.school->accounts().ImportRoster(nullptr, *csv);
  if (!report.ok()) return Fail(report.status());
  if (!report->errors.empty()) {
    for (const auto& e : report->errors)
      std::fprintf(stderr, "%s:%d: %s\n", args->positional()[0].c_str(), e.line, e.message.c_str());
    std::fprintf(stderr, "relais: nothing imported (%zu error%s)\n", report->errors.size(),
                 report->errors.size() > 1 ? "s" : "");
    return 1;
  }
  std::printf("%d created, %d updated, %d unchanged, %d classes created\n", report->created, report->updated,
              report->unchanged, report->classes_created);
  if (!report->new_passwords.empty()) {
    std::printf("\nPasswords of the new accounts (shown once; give each to its owner):\n");
    for (const auto& [login, password] : report->new_passwords)
      std::printf("  %-24s %s\n", login.c_str(), password.c_str());
  }
  return 0;
}

int TlsInit(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) return std::fputs(kTlsInitHelp, stdout), 0;
  auto args = Args::Parse(argv, {"data", "name", "ip"}, {"new-ca"});
  if (!args.ok()) return Fail(args.status());
  auto data = args->Get("data");
  if (!data || data->empty()) return Fail(Status::InvalidArgument("--data DIR is required"));
  core::SystemClock clock;
  BoxCertificateRequest request{args->GetAll("name"), args->GetAll("ip"), clock.Now(), args->Has("new-ca")};
  auto made = InitBoxCertificates(*data, request);
  if (!made.ok()) return Fail(made.status());
  std::printf("%s %s\n", made->ca_created ? "created the box's CA" : "kept the box's CA", made->ca_cert.c_str());
  std::printf("  SHA-256 fingerprint %s\n", made->ca_sha256.c_str());
  std::printf("created the HTTPS certificate %s (key %s), valid until %s, for:\n", made->server_cert.c_str(),
              made->server_key.c_str(), core::FormatTime(made->server_not_after).c_str());
  for (const auto& name : request.dns_names) std::printf("  %s\n", name.c_str());
  for (const auto& ip : request.ips) std::printf("  %s\n", ip.c_str());
  std::printf(
      "\nNext: restart `relais serve` (or send it SIGHUP); on each tablet, open http://%s/ca.crt and install it\n"
      "(README, \"HTTPS and offline tablets\").%s\n",
      request.dns_names.front().c_str(),
      made->ca_created ? " Keep ca.key secret: whoever holds it can impersonate the box to the tablets." : "");
  return 0;
}

}  // namespace

int RunCli(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h" || argv[0] == "help") {
    std::fputs(kUsage, argv.empty() ? stderr : stdout);
    return argv.empty() ? 2 : 0;
  }
  if (argv[0] == "--version") return std::printf("relais %s\n", RELAIS_VERSION), 0;
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  std::string sub = rest.empty() ? "" : rest[0];
  std::vector<std::string> rest2 = rest.empty() ? rest : std::vector<std::string>(rest.begin() + 1, rest.end());
  if (argv[0] == "serve") return Serve(rest);
  if (argv[0] == "hub") {
    std::fputs("relais: the gateway is its own program now: run `relais-hub` (relais-hub --help)\n", stderr);
    return 2;
  }
  if (argv[0] == "sync") return RunSyncCli(rest);
  if (argv[0] == "user" && sub == "add") return UserAdd(rest2);
  if (argv[0] == "user" && sub == "passwd") return UserPasswd(rest2);
  if (argv[0] == "user" && sub == "list") return UserList(rest2);
  if (argv[0] == "class" && sub == "add") return ClassAdd(rest2);
  if (argv[0] == "roster" && sub == "import") return RosterImport(rest2);
  if (argv[0] == "school" && sub == "name") return SchoolName(rest2);
  if (argv[0] == "tls" && sub == "init") return TlsInit(rest2);
  if ((argv[0] == "user" || argv[0] == "class" || argv[0] == "roster" || argv[0] == "tls" || argv[0] == "school") &&
      (sub.empty() || sub == "--help")) {
    std::fputs(kUsage, stdout);
    return sub.empty() ? 2 : 0;
  }
  std::fprintf(stderr, "relais: unknown command '%s'\n\n%s", argv[0].c_str(), kUsage);
  return 2;
}

}  // namespace relais::box

// The `relais` command line, run as a child process.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "box/box_ca.h"
#include "core/crypto.h"
#include "core/files.h"
#include "http/tls_context.h"
#include "tests/support/process.h"

namespace fs = std::filesystem;
using namespace relais;

namespace {

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

// Runs `relais ARGS` through the shell with `input` on standard input.
CliResult Relais(const std::string& args, const std::string& input = "") {
  fs::path in = fs::temp_directory_path() / ("relais-cli-in-" + relais::core::RandomToken(6));
  std::ofstream(in) << input;
  std::string cmd = std::string(RELAIS_BINARY) + " " + args + " < " + in.string() + " 2>&1";
  CliResult r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  fs::remove(in);
  return r;
}

struct TempData {
  fs::path dir = fs::temp_directory_path() / ("relais-cli-" + relais::core::RandomToken(8));
  ~TempData() { fs::remove_all(dir); }
  std::string arg() const { return "--data " + dir.string(); }
  fs::path Write(const std::string& name, const std::string& text) const {
    fs::create_directories(dir.parent_path());
    fs::path p = dir.parent_path() / (dir.filename().string() + "-" + name);
    std::ofstream(p) << text;
    return p;
  }
};

}  // namespace

TEST_CASE("every subcommand answers --help and exits 0") {
  for (const char* sub :
       {"serve", "user add", "user passwd", "user list", "class add", "roster import", "tls init", "school name"}) {
    CAPTURE(sub);
    auto r = Relais(std::string(sub) + " --help");
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Usage: relais") != std::string::npos);
  }
  CHECK(Relais("--help").exit_code == 0);
  auto unknown = Relais("frobnicate");
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.out.find("unknown command") != std::string::npos);
}

TEST_CASE("a class and a user made on the command line are listed, with the password read from stdin") {
  TempData d;
  REQUIRE(Relais("class add " + d.arg() + " --name '6e A'").exit_code == 0);
  auto add = Relais("user add " + d.arg() +
                        " --login Lea.Dubois --role student --class '6e A' --display-name 'Léa "
                        "Dubois' --password-stdin",
                    "secret-pw\n");
  CHECK(add.exit_code == 0);
  auto list = Relais("user list " + d.arg());
  CHECK(list.exit_code == 0);
  CHECK(list.out.find("lea.dubois") != std::string::npos);
  CHECK(list.out.find("Léa Dubois") != std::string::npos);
  auto dup = Relais("user add " + d.arg() + " --login lea.dubois --role student --password other-pw");
  CHECK(dup.exit_code != 0);
  CHECK(dup.out.find("already taken") != std::string::npos);
  CHECK(Relais("user passwd " + d.arg() + " --login lea.dubois --password-stdin", "new-secret\n").exit_code == 0);
  auto bad_role = Relais("user add " + d.arg() + " --login x --role pirate --password 123456");
  CHECK(bad_role.exit_code == 2);
  auto short_pw = Relais("user add " + d.arg() + " --login y --role student --password abc");
  CHECK(short_pw.exit_code != 0);
  CHECK(short_pw.out.find("at least 6") != std::string::npos);
  auto typo = Relais("user list " + d.arg() + " --verbose");
  CHECK(typo.exit_code == 2);
  CHECK(typo.out.find("unknown option --verbose") != std::string::npos);
}

TEST_CASE("a roster with a bad line reports its line number and imports nothing; a good one imports once") {
  TempData d;
  fs::path bad = d.Write("bad.csv",
                         "login;display name;role;class\n"
                         "lea.dubois;Léa Dubois;student;6e A\n"
                         "noah petit;Noah Petit;student;6e A\n"
                         "m.martin;Mme Martin;principal;6e A\n");
  auto r = Relais("roster import " + d.arg() + " " + bad.string());
  CHECK(r.exit_code == 1);
  CHECK(r.out.find(":3:") != std::string::npos);
  CHECK(r.out.find(":4:") != std::string::npos);
  CHECK(r.out.find("nothing imported") != std::string::npos);
  CHECK(Relais("user list " + d.arg()).out.find("lea.dubois") == std::string::npos);

  fs::path good = d.Write("good.csv",
                          "lea.dubois,Léa Dubois,student,6e A\n"
                          "\"m.martin\",\"Martin, Claire\",teacher,6e A\n");
  auto first = Relais("roster import " + d.arg() + " " + good.string());
  CHECK(first.exit_code == 0);
  CHECK(first.out.find("2 created") != std::string::npos);
  CHECK(first.out.find("lea.dubois") != std::string::npos);  // its generated password is shown once
  auto again = Relais("roster import " + d.arg() + " " + good.string());
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("0 created, 0 updated, 2 unchanged") != std::string::npos);
  CHECK(Relais("roster import " + d.arg() + " /nonexistent.csv").exit_code != 0);
}

TEST_CASE("a second server on the same data folder is refused") {
  TempData d;
  REQUIRE(Relais("class add " + d.arg() + " --name x").exit_code == 0);
  // Hold the data folder's lock as a running server does (the same flock(2) lock, taken here).
  auto held = core::FileLock::Acquire(d.dir / "relais.lock");
  REQUIRE(held.ok());
  testing::CommandResult r =
      testing::Run(testing::Program::kBox, {"serve", "--data", d.dir.string(), "--listen", "127.0.0.1:0"}, 10000);
  std::string out = r.All();
  CHECK(out.find("another relais serve is already using") != std::string::npos);
  CHECK(r.exit_code == 1);
}

TEST_CASE("a first start without an administrator prints a setup code and keeps it in a private file") {
  // Runs `relais serve` until it answers its health check, stops it, and returns what it printed.
  auto serve_briefly = [](const TempData& d, const std::string& flag) {
    testing::ServerProcess::Options options;
    options.data_dir = d.dir;
    if (!flag.empty()) options.extra_args = {flag};
    auto server = testing::ServerProcess::Start(options);
    REQUIRE_MESSAGE(server.ok(), server.status().ToString());
    CHECK((*server)->Stop().ok());
    return (*server)->process().Stdout() + (*server)->process().Stderr();
  };
  TempData d;
  std::string out = serve_briefly(d, "");
  CHECK(out.find("setup code") != std::string::npos);
  fs::path file = d.dir / "setup-code.txt";
  REQUIRE(fs::exists(file));
  CHECK((fs::status(file).permissions() & fs::perms::others_read) == fs::perms::none);
  std::string code;
  std::ifstream(file) >> code;
  CHECK(code.size() == 14);
  CHECK(out.find(code) != std::string::npos);
  // With an administrator (the demo school has one) there is no code.
  TempData demo;
  std::string out2 = serve_briefly(demo, "--demo");
  CHECK(out2.find("setup code") == std::string::npos);
  CHECK_FALSE(fs::exists(demo.dir / "setup-code.txt"));
}

// --- HTTPS -------------------------------------------------------------------

namespace {

// Runs `relais serve` with `flags` (split at spaces) until it exits, which it
// must do by itself within 10 s (it is killed then, and exit_code is -1);
// returns its exit code and output.
CliResult ServeUntilExit(const TempData& d, const std::string& flags) {
  std::vector<std::string> args = {"serve", "--data", d.dir.string(), "--listen", "127.0.0.1:0"};
  for (size_t at = 0; at < flags.size();) {
    size_t space = flags.find(' ', at);
    if (space == std::string::npos) space = flags.size();
    if (space > at) args.push_back(flags.substr(at, space - at));
    at = space + 1;
  }
  testing::CommandResult run = testing::Run(testing::Program::kBox, args, 10000);
  return CliResult{run.exit_code, run.All()};
}

std::string CaFingerprint(const TempData& d) {
  return relais::http::ReadCertificateInfo(d.dir / "tls" / "ca.crt").value().sha256;
}

}  // namespace

TEST_CASE("tls init makes a name-constrained CA and a certificate it signed for the names given, keys private") {
  TempData d;
  auto r = Relais("tls init " + d.arg() + " --name ecole.lan --name ecole.local --ip 10.42.0.1");
  REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  fs::path tls = d.dir / "tls";
  for (const char* key : {"ca.key", "server.key"}) {
    CAPTURE(key);
    auto perms = fs::status(tls / key).permissions();
    CHECK((perms & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
  }
  auto server = relais::http::ReadCertificateInfo(tls / "server.crt");
  REQUIRE(server.ok());
  CHECK(server->dns_names == std::vector<std::string>{"ecole.lan", "ecole.local"});
  CHECK(server->ips == std::vector<std::string>{"10.42.0.1"});
  CHECK(server->not_after - server->not_before <= 826LL * 86400);  // what iOS accepts
  CHECK(r.out.find(CaFingerprint(d)) != std::string::npos);
  // openssl(1) agrees: the CA signed it, for a TLS server, and the names are within its constraints.
  std::string verify = "openssl verify -purpose sslserver -CAfile " + (tls / "ca.crt").string() + " " +
                       (tls / "server.crt").string() + " 2>&1";
  FILE* p = popen(verify.c_str(), "r");
  REQUIRE(p != nullptr);
  char line[512] = "";
  CHECK(fgets(line, sizeof line, p) != nullptr);
  CHECK(pclose(p) == 0);
  CHECK(std::string(line).find(": OK") != std::string::npos);
  // The CA may not certify another name.
  std::string ca_text;
  p = popen(("openssl x509 -noout -text -in " + (tls / "ca.crt").string()).c_str(), "r");
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) ca_text.append(buf.data(), n);
  pclose(p);
  CHECK(ca_text.find("Name Constraints: critical") != std::string::npos);
  CHECK(ca_text.find("DNS:ecole.lan") != std::string::npos);
  CHECK(ca_text.find("CA:TRUE, pathlen:0") != std::string::npos);
}

TEST_CASE("tls init again keeps the CA, refuses names outside it without --new-ca, and rejects bad names") {
  TempData d;
  REQUIRE(Relais("tls init " + d.arg() + " --name ecole.lan").exit_code == 0);
  std::string first = CaFingerprint(d);
  auto renew = Relais("tls init " + d.arg() + " --name ecole.lan");
  CHECK(renew.exit_code == 0);
  CHECK(renew.out.find("kept the box's CA") != std::string::npos);
  CHECK(CaFingerprint(d) == first);
  auto outside = Relais("tls init " + d.arg() + " --name mairie.lan");
  CHECK(outside.exit_code == 2);
  CHECK(outside.out.find("--new-ca") != std::string::npos);
  CHECK(relais::http::ReadCertificateInfo(d.dir / "tls" / "server.crt").value().dns_names.front() == "ecole.lan");
  auto fresh = Relais("tls init " + d.arg() + " --name mairie.lan --new-ca");
  CHECK(fresh.exit_code == 0);
  CHECK(CaFingerprint(d) != first);
  for (const char* bad : {"--name 'Ecole Lan'", "--name ecole.lan --ip 10.0.0.300", "--ip 10.0.0.1"}) {
    CAPTURE(bad);
    auto r = Relais("tls init " + d.arg() + " " + bad);
    CHECK(r.exit_code == 2);
    CHECK(r.out.find("relais: ") != std::string::npos);
  }
}

TEST_CASE("serve refuses a missing, mismatched or expired certificate with a message and a non-zero exit") {
  TempData a, b, old;
  REQUIRE(Relais("tls init " + a.arg() + " --name a.lan").exit_code == 0);
  REQUIRE(Relais("tls init " + b.arg() + " --name b.lan").exit_code == 0);
  // Made on 2024-01-02, so valid until April 2026 (825 days).
  relais::box::BoxCertificateRequest then{{"old.lan"}, {}, 1704153600, false};
  REQUIRE(relais::box::InitBoxCertificates(old.dir, then).ok());
  struct Case {
    std::string flags, message;
  };
  fs::path a_tls = a.dir / "tls", b_tls = b.dir / "tls", old_tls = old.dir / "tls";
  for (const Case& c : {
           Case{"--tls-cert " + (a_tls / "missing.crt").string() + " --tls-key " + (a_tls / "server.key").string(),
                "cannot read"},
           Case{"--tls-cert " + (a_tls / "server.crt").string() + " --tls-key " + (b_tls / "server.key").string(),
                "does not match"},
           Case{"--tls-cert " + (a_tls / "server.key").string() + " --tls-key " + (a_tls / "server.key").string(),
                "not a PEM certificate"},
           Case{"--tls-cert " + (old_tls / "server.crt").string() + " --tls-key " + (old_tls / "server.key").string(),
                "expired on 2026-04"},
           Case{"--tls-cert " + (a_tls / "server.crt").string(), "tls_cert and tls_key go together"},
       }) {
    CAPTURE(c.flags);
    TempData d;
    auto r = ServeUntilExit(d, c.flags);
    CHECK(r.exit_code == 2);
    CHECK_MESSAGE(r.out.find(c.message) != std::string::npos, r.out);
  }
}

TEST_CASE("with https_redirect, plain-HTTP app requests go to https on a name the certificate covers") {
  TempData d;
  REQUIRE(Relais("tls init " + d.arg() + " --name localhost --name ecole.lan --ip 127.0.0.1").exit_code == 0);
  std::ofstream(d.dir / "relais.conf") << "https_listen = 127.0.0.1:0\nhttps_redirect = true\n";
  relais::testing::ServerProcess::Options options;
  options.data_dir = d.dir;
  auto child = relais::testing::ServerProcess::Start(options);
  REQUIRE_MESSAGE(child.ok(), child.status().ToString());
  auto http = (*child)->NewClient();
  // Probes and the CA stay on plain HTTP.
  CHECK(http->Get("/generate_204")->status == 204);
  CHECK(http->Get("/hotspot-detect.html")->status == 200);
  CHECK(http->Get("/ca.crt")->status == 200);
  CHECK(http->Get("/api/v1/health")->status == 200);
  // The app moves to HTTPS, on the name typed when the certificate covers it…
  auto moved = http->Get("/api/v1/homework?x=1", {{"Host", "ecole.lan"}});
  REQUIRE(moved);
  CHECK(moved->status == 301);
  std::string location = moved->get_header_value("Location");
  CHECK(location.rfind("https://ecole.lan:", 0) == 0);
  CHECK(location.size() > 5);
  CHECK(location.substr(location.size() - 20) == "/api/v1/homework?x=1");
  // …else on the certificate's first name.
  auto other = http->Get("/", {{"Host", "10.0.0.7"}});
  REQUIRE(other);
  CHECK(other->get_header_value("Location").rfind("https://localhost:", 0) == 0);
  // And there, HTTPS answers with the certificate tablets trust.
  std::string https_port = location.substr(18, location.find('/', 18) - 18);
  httplib::Client tls("https://localhost:" + https_port);
  tls.set_ca_cert_path((d.dir / "tls" / "ca.crt").string());
  tls.enable_server_certificate_verification(true);
  auto health = tls.Get("/api/v1/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK((*child)->Stop().ok());
}

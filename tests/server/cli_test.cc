// The `relais` command line, run as a child process.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/crypto.h"

namespace fs = std::filesystem;

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
       {"serve", "user add", "user passwd", "user list", "class add", "roster import", "school name"}) {
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
  // Hold the data folder's lock as a running server does (flock(1) takes the same kind of lock).
  std::string cmd = "flock -n " + (d.dir / "relais.lock").string() + " sleep 3 & sleep 0.5; " + RELAIS_BINARY +
                    " serve " + d.arg() + " --listen 127.0.0.1:0 2>&1; echo exit=$?; kill %1 2>/dev/null; wait";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  pclose(p);
  CHECK(out.find("another relais serve is already using") != std::string::npos);
  CHECK(out.find("exit=1") != std::string::npos);
}

TEST_CASE("a first start without an administrator prints a setup code and keeps it in a private file") {
  // Runs `relais serve` for a second and returns what it printed.
  auto serve_briefly = [](const TempData& d, const std::string& flags) {
    std::string cmd = std::string(RELAIS_BINARY) + " serve " + d.arg() + " " + flags +
                      " --listen 127.0.0.1:0 </dev/null 2>&1 & pid=$!; sleep 1; kill $pid; wait $pid";
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    pclose(p);
    return out;
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

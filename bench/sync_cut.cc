// bench/sync_cut — bytes resent after a cut: a box's first sync of a large
// batch of changes, through the cutting proxy (tests/support/cut_proxy.h),
// uncut and then cut once at 25 %, 50 % and 75 % of the upload (a reset, as a
// 4G link that drops), and once with `relais sync` killed (SIGKILL) at 50 %
// and run again. Prints, for each, the bytes that went to the gateway and the
// ratio to the uncut transfer.
//
//   build/relais_bench_sync_cut [homework=3000] [instructions bytes=2000]
//
// Uses the real binaries: `relais-hub serve` (a fresh gateway for each run,
// so that each run sends everything), `relais sync` on a copy of one box
// made once with the library. Everything listens on 127.0.0.1.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <thread>

#include "content/school.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "tests/support/cut_proxy.h"
#include "tests/system/sync_harness.h"

namespace {

using namespace relais;
using namespace relais::testing;
namespace fs = std::filesystem;

void Die(const std::string& what) {
  std::fprintf(stderr, "sync_cut: %s\n", what.c_str());
  std::exit(1);
}

CommandResult Must(Program program, const std::vector<std::string>& args) {
  CommandResult r = Run(program, args, 600000);
  if (r.exit_code != 0) Die(args[0] + " " + args[1] + ": " + r.All());
  return r;
}

// A box holding `count` homework entries of `size` bytes of instructions each
// (words drawn at random: text that compresses about as well as real text).
void MakeBox(const fs::path& dir, int count, int size) {
  core::SystemClock clock;
  auto school = content::School::Open(dir, clock);
  if (!school.ok()) Die(school.status().ToString());
  auto klass = (*school)->accounts().CreateClass(nullptr, "6e A");
  if (!klass.ok()) Die(klass.status().ToString());
  content::NewUser nu;
  nu.login = "prof";
  nu.role = content::Role::kTeacher;
  nu.password = "correct-horse-42";
  nu.class_name = "6e A";
  auto teacher = (*school)->accounts().CreateUser(nullptr, nu);
  if (!teacher.ok()) Die(teacher.status().ToString());
  content::Viewer who{teacher->id, teacher->login, teacher->role, "bench"};
  const char* words[] = {"exercice", "page",  "démontrer", "rédiger", "fraction", "lire",   "chapitre", "carte",
                         "résumé",   "leçon", "problème",  "calcul",  "texte",    "phrase", "schéma",   "question"};
  std::mt19937 rng(42);
  for (int i = 0; i < count; ++i) {
    content::HomeworkInput in;
    in.class_id = klass->id;
    in.subject = "Mathématiques";
    in.title = "Devoir " + std::to_string(i);
    while (static_cast<int>(in.instructions.size()) < size)
      in.instructions += std::string(words[rng() % 16]) + " " + std::to_string(rng() % 1000) + " ";
    in.due_at = clock.Now() + 86400;
    in.published = true;
    auto h = (*school)->homework().Create(who, in);
    if (!h.ok()) Die(h.status().ToString());
  }
}

struct Outcome {
  uint64_t up = 0;    // bytes to the gateway
  uint64_t down = 0;  // bytes to the box
  int runs = 0;       // `relais sync` processes it took
};

enum class Cut { kNone, kReset, kKill };

// One first sync of a copy of `box` with a fresh gateway; cut (or killed)
// once when `at` bytes have gone up, then run again until it succeeds.
Outcome SyncOnce(const fs::path& box, const fs::path& scratch, Cut cut, uint64_t at) {
  fs::path dir = scratch / ("run-" + core::RandomToken(6));
  fs::path hub_dir = dir / "hub";
  fs::path data = dir / "box";
  fs::create_directories(hub_dir);
  fs::copy(box, data, fs::copy_options::recursive);
  ServerProcess::Options hub_options;
  hub_options.program = Program::kHub;
  hub_options.data_dir = hub_dir;
  hub_options.health_path = "/hub/v1/health";
  auto hub = ServerProcess::Start(hub_options);
  if (!hub.ok()) Die(hub.status().ToString());
  std::string school = FirstLine(Must(Program::kHub, {"school", "add", "--data", hub_dir.string(), "École"}).out);
  std::string code = FirstLine(Must(Program::kHub, {"enrol-code", "--data", hub_dir.string(), "--school", school}).out);
  Must(Program::kBox, {"sync", "enrol", "--data", data.string(), "--hub", (*hub)->url(), "--code", code});
  auto proxy = CutProxy::Start((*hub)->port());
  if (!proxy.ok()) Die(proxy.status().ToString());
  if (cut == Cut::kReset) (*proxy)->CutAfter(at, CutProxy::Direction::kToTarget, CutProxy::CutKind::kReset);
  Outcome o;
  std::vector<std::string> args = {"sync", "--data", data.string(), "--hub", (*proxy)->url()};
  if (cut == Cut::kKill) {
    auto p = Process::Start(Program::kBox, args);
    if (!p.ok()) Die(p.status().ToString());
    while ((*proxy)->bytes_to_target() < at && !(*p)->Poll())
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    (*p)->Wait(0);
    ++o.runs;
  }
  while (true) {
    ++o.runs;
    CommandResult r = Run(Program::kBox, args, 600000);
    if (r.exit_code == 0 && r.out.find("Sync done") != std::string::npos) break;
    if (o.runs > 10) Die("sync did not succeed: " + r.All());
  }
  o.up = (*proxy)->bytes_to_target();
  o.down = (*proxy)->bytes_to_client();
  std::error_code ec;
  fs::remove_all(dir, ec);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  int count = argc > 1 ? std::atoi(argv[1]) : 3000;
  int size = argc > 2 ? std::atoi(argv[2]) : 2000;
  if (!core::InitCrypto().ok()) Die("no crypto");
  core::SetLogQuiet(true);
  ScratchDir scratch("relais-bench-sync-cut");
  fs::path box = scratch.path / "box";
  auto t0 = std::chrono::steady_clock::now();
  MakeBox(box, count, size);
  std::printf("box: %d homework entries of %d bytes made in %.1f s\n", count, size,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  Outcome base = SyncOnce(box, scratch.path, Cut::kNone, 0);
  std::printf("%-28s %12s %8s %12s %5s\n", "run", "bytes up", "ratio", "resent", "runs");
  std::printf("%-28s %12llu %8.3f %12s %5d\n", "uncut", static_cast<unsigned long long>(base.up), 1.0, "-", base.runs);
  struct Case {
    const char* name;
    Cut cut;
    double at;
  };
  for (Case c : {Case{"reset at 25 %", Cut::kReset, 0.25}, Case{"reset at 50 %", Cut::kReset, 0.50},
                 Case{"reset at 75 %", Cut::kReset, 0.75}, Case{"sync killed at 50 %", Cut::kKill, 0.50}}) {
    Outcome o = SyncOnce(box, scratch.path, c.cut, static_cast<uint64_t>(c.at * static_cast<double>(base.up)));
    std::printf("%-28s %12llu %8.3f %12lld %5d\n", c.name, static_cast<unsigned long long>(o.up),
                static_cast<double>(o.up) / static_cast<double>(base.up),
                static_cast<long long>(o.up) - static_cast<long long>(base.up), o.runs);
  }
  return 0;
}

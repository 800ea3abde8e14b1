// bench/sync_capture — what capturing changes for sync costs on the homework
// write path: the same teacher's writes (create a homework, then edit it)
// timed on a school without capture and on one with it, alternately, best of
// three; then how fast the captured operations encode as records.
//
//   build/relais_bench_sync_capture [writes=1000] [dir=$TMPDIR]
//
// Each write is its own transaction, fsynced like in production
// (synchronous=FULL), so the figures depend on the disk of `dir`.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "content/school.h"
#include "core/crypto.h"
#include "core/log.h"
#include "sync/op_codec.h"
#include "sync/replica.h"

namespace {

using namespace relais;
namespace fs = std::filesystem;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

void Die(const Status& st) {
  std::fprintf(stderr, "sync_capture: %s\n", st.ToString().c_str());
  std::exit(1);
}

// CPU seconds of this process (user + system): steadier than wall time on a
// shared machine.
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Run {
  double seconds = 0;
  double cpu_seconds = 0;
  int64_t ops = 0;
  std::vector<content::Op> captured;
};

Run WriteHomework(const fs::path& base, bool capture, int writes) {
  fs::path dir = base / ("relais-bench-capture-" + core::RandomToken(6));
  core::FakeClock clock;
  content::School::Options options;
  options.capture_changes = capture;
  auto school = content::School::Open(dir, clock, options);
  if (!school.ok()) Die(school.status());
  auto klass = (*school)->accounts().CreateClass(nullptr, "6e A");
  if (!klass.ok()) Die(klass.status());
  content::NewUser nu;
  nu.login = "prof";
  nu.role = content::Role::kTeacher;
  nu.password = "correct-horse-42";
  nu.class_name = "6e A";
  auto teacher = (*school)->accounts().CreateUser(nullptr, nu);
  if (!teacher.ok()) Die(teacher.status());
  content::Viewer who{teacher->id, teacher->login, teacher->role, "bench"};
  Run run;
  auto start = std::chrono::steady_clock::now();
  double cpu_start = CpuSeconds();
  for (int i = 0; i < writes / 2; ++i) {
    content::HomeworkInput in;
    in.class_id = klass->id;
    in.subject = "Mathématiques";
    in.title = "Exercices " + std::to_string(i);
    in.instructions = "Faire les exercices 3 à 7 page 42, et rédiger proprement la démonstration.";
    in.due_at = clock.Now() + 86400;
    in.published = true;
    auto h = (*school)->homework().Create(who, in);
    if (!h.ok()) Die(h.status());
    content::HomeworkPatch patch;
    patch.title = "Exercices " + std::to_string(i) + " (corrigé)";
    auto u = (*school)->homework().Update(who, h->id, patch);
    if (!u.ok()) Die(u.status());
  }
  run.seconds = Seconds(start);
  run.cpu_seconds = CpuSeconds() - cpu_start;
  if (capture) {
    sync::Replica replica(**school);
    auto ops = replica.OpsSince({}, 1u << 30);
    if (!ops.ok()) Die(ops.status());
    run.captured = std::move(*ops);
    run.ops = static_cast<int64_t>(run.captured.size());
  }
  school->reset();
  fs::remove_all(dir);
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  if (!core::InitCrypto().ok()) return 1;
  core::SetLogQuiet(true);
  core::SetPasswordParams({1, 8u << 10, 2});
  int writes = argc > 1 ? std::atoi(argv[1]) : 1000;
  fs::path base = argc > 2 ? fs::path(argv[2]) : fs::temp_directory_path();
  if (writes < 2) writes = 2;
  double best_without = 1e300, best_with = 1e300, cpu_without = 1e300, cpu_with = 1e300;
  Run with;
  for (int round = 0; round < 3; ++round) {
    Run without = WriteHomework(base, false, writes);
    best_without = std::min(best_without, without.seconds);
    cpu_without = std::min(cpu_without, without.cpu_seconds);
    Run r = WriteHomework(base, true, writes);
    cpu_with = std::min(cpu_with, r.cpu_seconds);
    if (r.seconds < best_with) with = std::move(r), best_with = with.seconds;
  }
  int64_t ops = with.ops;
  auto start = std::chrono::steady_clock::now();
  size_t bytes = 0;
  for (int round = 0; round < 20; ++round)
    for (const content::Op& op : with.captured) bytes += sync::EncodeOp(op).size();
  double encode_seconds = Seconds(start);
  std::printf("homework writes (create + edit, fsynced), %d each way, best of 3, in %s\n", writes, base.c_str());
  std::printf("  without capture: %8.0f writes/s, %6.0f us CPU per write\n", writes / best_without,
              1e6 * cpu_without / writes);
  std::printf("  with capture:    %8.0f writes/s, %6.0f us CPU per write (%+.0f us, %+.1f%% wall time)\n",
              writes / best_with, 1e6 * cpu_with / writes, 1e6 * (cpu_with - cpu_without) / writes,
              100.0 * (best_with - best_without) / best_without);
  std::printf("  changes captured: %8.0f operations/s (%lld operations, incl. the class and teacher)\n",
              static_cast<double>(ops) / best_with, static_cast<long long>(ops));
  std::printf("  records encoded: %9.0f operations/s, %.0f bytes per record on average\n",
              20.0 * static_cast<double>(ops) / encode_seconds,
              static_cast<double>(bytes) / (20.0 * static_cast<double>(ops)));
  return 0;
}

// bench/hub_ingest.cc — how many operations per second the gateway's store
// ingests: SQLite, PostgreSQL with one hub process, PostgreSQL with two hub
// processes on one database. Prints one line per figure.
//
//   build/relais_hub_ingest_bench [--boxes N] [--ops-per-box N] [--batch N] [--threads N]
//
// Each simulated box sends its operations (seq 1..N, ~300-byte records) in
// batches of --batch, and every batch is sent twice (a retried upload), so
// half the operations are duplicates the store must recognise. Threads take
// boxes in turn. Both engines commit durably: SQLite with synchronous=FULL,
// PostgreSQL with fsync and synchronous_commit on (a PostgreSQL started by the
// benchmark on loopback, as the tests do). The time includes making the
// random records (a few ms) and, with two processes, their start and
// connection. At the end every school's feed is checked: 1..N without gaps,
// each operation once.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/crypto.h"
#include "core/log.h"
#include "hub/store.h"
#include "tests/support/pg_fixture.h"

using namespace relais;
using namespace relais::sync;
namespace fs = std::filesystem;

namespace {

struct Params {
  int boxes = 40;
  int ops_per_box = 2000;
  int batch = 200;
  int threads = 4;
  int schools = 4;
};

std::vector<HubOp> BoxOps(int box, int ops) {
  std::string origin = "box-" + std::to_string(box);
  std::vector<HubOp> out;
  out.reserve(static_cast<size_t>(ops));
  for (int s = 1; s <= ops; ++s) out.push_back({origin, s, 1790000000000LL * 65536 + s, core::RandomBytes(300), 0});
  return out;
}

// Ingests the boxes b with b % stride == first, each batch twice. Returns
// false on any error (printed).
bool IngestBoxes(HubStore& store, const std::vector<std::string>& schools, const Params& p, int first, int stride,
                 std::atomic<int64_t>* inserted) {
  std::atomic<bool> ok{true};
  std::vector<std::thread> threads;
  for (int t = 0; t < p.threads; ++t) {
    threads.emplace_back([&, t] {
      for (int box = first + t * stride; box < p.boxes; box += stride * p.threads) {
        std::vector<HubOp> ops = BoxOps(box, p.ops_per_box);
        const std::string& school = schools[static_cast<size_t>(box) % schools.size()];
        for (size_t i = 0; i < ops.size(); i += static_cast<size_t>(p.batch)) {
          std::vector<HubOp> batch(ops.begin() + static_cast<long>(i),
                                   ops.begin() + static_cast<long>(std::min(ops.size(), i + p.batch)));
          for (int copy = 0; copy < 2; ++copy) {
            auto r = store.IngestOps(school, batch);
            if (!r.ok()) {
              std::fprintf(stderr, "ingest failed: %s\n", r.status().ToString().c_str());
              ok = false;
              return;
            }
            *inserted += r->inserted;
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return ok;
}

bool CheckFeeds(HubStore& store, const std::vector<std::string>& schools, int64_t expected_total) {
  int64_t total = 0;
  for (const std::string& school : schools) {
    int64_t cursor = 0;
    while (true) {
      auto page = store.OpsAfterFeed(school, cursor, 5000);
      if (!page.ok() || page->empty()) break;
      for (const HubOp& op : *page) {
        if (op.feed != cursor + 1) {
          std::fprintf(stderr, "gap in the feed after %lld\n", static_cast<long long>(cursor));
          return false;
        }
        cursor = op.feed;
      }
    }
    total += cursor;
  }
  if (total != expected_total) {
    std::fprintf(stderr, "feeds hold %lld operations, expected %lld\n", static_cast<long long>(total),
                 static_cast<long long>(expected_total));
    return false;
  }
  return true;
}

std::vector<std::string> MakeSchools(HubStore& store, int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back(store.AddSchool("school " + std::to_string(i), 1)->id);
  return ids;
}

void Report(const char* name, int64_t ops, double seconds, const Params& p) {
  std::printf("%-34s %9.0f ops/s stored   (%lld new + %lld duplicates in %.2f s; batches of %d, %d threads)\n", name,
              static_cast<double>(ops) / seconds, static_cast<long long>(ops), static_cast<long long>(ops), seconds,
              p.batch, p.threads);
  std::fflush(stdout);
}

double Now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

}  // namespace

int main(int argc, char** argv) {
  Params p;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (k == "--boxes")
      p.boxes = v;
    else if (k == "--ops-per-box")
      p.ops_per_box = v;
    else if (k == "--batch")
      p.batch = v;
    else if (k == "--threads")
      p.threads = v;
    else
      return std::fprintf(stderr, "unknown option %s\n", k.c_str()), 2;
  }
  if (!core::InitCrypto().ok()) return 1;
  core::SetLogQuiet(true);
  const int64_t total = static_cast<int64_t>(p.boxes) * p.ops_per_box;
  std::printf("hub ingest: %d boxes x %d operations, each batch sent twice\n", p.boxes, p.ops_per_box);

  {  // SQLite
    fs::path dir = fs::temp_directory_path() / ("relais-hub-bench-" + core::RandomToken(6));
    auto store = OpenSqliteHubStore(dir);
    if (!store.ok()) return std::fprintf(stderr, "%s\n", store.status().ToString().c_str()), 1;
    auto schools = MakeSchools(**store, p.schools);
    std::atomic<int64_t> inserted{0};
    double start = Now();
    if (!IngestBoxes(**store, schools, p, 0, 1, &inserted)) return 1;
    double seconds = Now() - start;
    if (inserted != total || !CheckFeeds(**store, schools, total)) return 1;
    Report("sqlite, 1 hub process", total, seconds, p);
    store->reset();
    fs::remove_all(dir);
  }

  auto server = testing::PgServer::Start(/*durable=*/true);
  if (!server.ok()) return std::fprintf(stderr, "%s\n", server.status().ToString().c_str()), 1;

  {  // PostgreSQL, one process
    auto url = (*server)->NewDatabase();
    auto store = OpenPostgresHubStore(*url, p.threads);
    if (!store.ok()) return std::fprintf(stderr, "%s\n", store.status().ToString().c_str()), 1;
    auto schools = MakeSchools(**store, p.schools);
    std::atomic<int64_t> inserted{0};
    double start = Now();
    if (!IngestBoxes(**store, schools, p, 0, 1, &inserted)) return 1;
    double seconds = Now() - start;
    if (inserted != total || !CheckFeeds(**store, schools, total)) return 1;
    Report("postgresql, 1 hub process", total, seconds, p);
  }

  {  // PostgreSQL, two processes on one database
    auto url = (*server)->NewDatabase();
    std::vector<std::string> schools;
    {
      auto store = OpenPostgresHubStore(*url, 1);
      if (!store.ok()) return 1;
      schools = MakeSchools(**store, p.schools);
    }
    int ready[2];
    if (pipe(ready) != 0) return 1;
    double start = Now();
    std::vector<pid_t> children;
    for (int hub = 0; hub < 2; ++hub) {
      pid_t pid = fork();
      if (pid == 0) {
        auto store = OpenPostgresHubStore(*url, p.threads);
        if (!store.ok()) _exit(1);
        std::atomic<int64_t> inserted{0};
        bool ok = IngestBoxes(**store, schools, p, hub, 2, &inserted);
        _exit(ok ? 0 : 1);
      }
      children.push_back(pid);
    }
    bool ok = true;
    for (pid_t pid : children) {
      int status = 0;
      waitpid(pid, &status, 0);
      ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    double seconds = Now() - start;
    auto store = OpenPostgresHubStore(*url, 1);
    if (!ok || !store.ok() || !CheckFeeds(**store, schools, total)) return 1;
    Report("postgresql, 2 hub processes", total, seconds, p);
  }
  return 0;
}

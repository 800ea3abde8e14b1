// bench/hub_http.cc — the gateway's ingest rate over HTTP, with the real
// binary: bundles and operations stored per second by `relais-hub serve` on
// SQLite (one process), on PostgreSQL with one process, and with two
// processes on one database, boxes spread over them in turn.
//
//   build/relais_bench_hub_http [--boxes N] [--ops-per-box N] [--concurrency N] [--schools N] [--connections N]
//   BENCH_KEEP=1 build/relais_bench_hub_http …   # keep the folders (the gateways' request logs)
//
// Each configuration is set up as an operator would (`relais-hub keygen`,
// `school add`, `enrol-code --count`), the simulated boxes of
// tests/system/hub_fleet.h enrol (not timed), then every box uploads one
// bundle of its operations at once, `--concurrency` in flight (timed: POST
// /hub/v1/uploads, one PATCH, the gateway verifying and storing the bundle,
// and a hello reading the school's vector back). Afterwards every school's
// ENT feed is checked: 1..N, each operation once. Both engines commit
// durably (SQLite synchronous=FULL; PostgreSQL fsync and synchronous_commit
// on, a server started on loopback as the tests do). Everything — client,
// gateways, PostgreSQL — shares this machine's cores: the figures are for
// comparing the three set-ups, not a capacity plan.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/crypto.h"
#include "core/files.h"
#include "tests/support/pg_fixture.h"
#include "tests/support/process.h"
#include "tests/system/hub_fleet.h"

using namespace relais;
using relais::testing::HubFleet;
using relais::testing::Program;
using relais::testing::RunOk;
namespace fs = std::filesystem;

namespace {

struct Params {
  int boxes = 300;
  int ops_per_box = 200;
  int concurrency = 32;
  int schools = 4;
  int connections = 8;  // hub_connections: PostgreSQL connections per gateway process (its default)
};

struct Figure {
  double bundles_per_s = 0;
  double ops_per_s = 0;
};

double Seconds() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// One configuration: `store` names the store's flags, `processes` gateways serve it.
Result<Figure> Measure(const char* name, const Params& p, const fs::path& dir, const std::vector<std::string>& store,
                       int processes) {
  const std::string ent_key = "ent-" + core::RandomToken(16);
  RELAIS_RETURN_IF_ERROR(core::WriteFileAtomic(dir / "ent.key", ent_key + "\n"));
  RELAIS_RETURN_IF_ERROR(
      core::WriteFileAtomic(dir / "bench.conf", "hub_ent_key_file = " + (dir / "ent.key").string() +
                                                    "\nhub_connections = " + std::to_string(p.connections) + "\n"));
  std::vector<std::string> names;
  for (int s = 0; s < p.schools; ++s) names.push_back("school " + std::to_string(s));
  RELAIS_ASSIGN_OR_RETURN(auto codes, testing::AddSchoolsAndCodes(store, names, p.boxes));

  RELAIS_ASSIGN_OR_RETURN(auto hubs, testing::StartHubs(store, dir / "bench.conf", dir, processes));
  HubFleet::Options options;
  for (const auto& hub : hubs) options.ports.push_back(hub->port());
  options.ops_per_box = p.ops_per_box;
  options.concurrency = p.concurrency;
  options.vary_uploads = false;
  options.ent_key = ent_key;
  HubFleet fleet(options, codes);
  RELAIS_RETURN_IF_ERROR(fleet.Enrol());
  double start = Seconds();
  RELAIS_RETURN_IF_ERROR(fleet.Upload());
  double seconds = Seconds() - start;
  RELAIS_RETURN_IF_ERROR(fleet.CheckEntFeeds());
  const HubFleet::Stats& stats = fleet.stats();
  if (stats.server_errors > 0 || stats.transport_errors > 0 || stats.inserted != fleet.total_ops())
    return Status::Internal("errors during the run: " + std::to_string(stats.server_errors) + " 5xx, " +
                            std::to_string(stats.transport_errors) + " unanswered");
  for (auto& hub : hubs) RELAIS_RETURN_IF_ERROR(hub->Stop());
  Figure f{static_cast<double>(p.boxes) / seconds, static_cast<double>(fleet.total_ops()) / seconds};
  std::string share;
  for (int64_t n : stats.requests) share += (share.empty() ? "" : "/") + std::to_string(n);
  std::printf("%-30s %8.1f bundles/s  %9.0f ops/s   (%d bundles of %d operations in %.2f s; requests per process %s)\n",
              name, f.bundles_per_s, f.ops_per_s, p.boxes, p.ops_per_box, seconds, share.c_str());
  std::fflush(stdout);
  return f;
}

int Usage() {
  std::fprintf(
      stderr,
      "usage: relais_bench_hub_http [--boxes N] [--ops-per-box N] [--concurrency N] [--schools N] [--connections N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Params p;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) return Usage();
    std::string k = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (v < 1) return Usage();
    if (k == "--boxes")
      p.boxes = v;
    else if (k == "--ops-per-box")
      p.ops_per_box = v;
    else if (k == "--concurrency")
      p.concurrency = v;
    else if (k == "--schools")
      p.schools = v;
    else if (k == "--connections")
      p.connections = v;
    else
      return Usage();
  }
  if (!core::InitCrypto().ok()) return 1;
  std::printf(
      "hub ingest over HTTP: %d boxes x %d operations, %d in flight, %d schools, %d PostgreSQL connections a process\n",
      p.boxes, p.ops_per_box, p.concurrency, p.schools, p.connections);
  fs::path root = fs::temp_directory_path() / ("relais-hub-http-bench-" + core::RandomToken(6));
  auto fail = [&](const Status& st) {
    std::fprintf(stderr, "relais_bench_hub_http: %s\n", st.ToString().c_str());
    fs::remove_all(root);
    return 1;
  };
  fs::create_directories(root / "sqlite");
  auto sqlite = Measure("sqlite, 1 hub process", p, root / "sqlite", {"--data", (root / "sqlite").string()}, 1);
  if (!sqlite.ok()) return fail(sqlite.status());

  auto server = testing::PgServer::Start(/*durable=*/true);
  if (!server.ok()) return fail(server.status());
  std::vector<Figure> pg;
  for (int processes : {1, 2}) {
    auto url = (*server)->NewDatabase();
    if (!url.ok()) return fail(url.status());
    fs::path dir = root / ("pg" + std::to_string(processes));
    fs::create_directories(dir);
    std::string key_file = (dir / "hub-identity.key").string();
    if (auto made = RunOk(Program::kHub, {"keygen", "--key-file", key_file}); !made.ok()) return fail(made.status());
    std::string name = "postgresql, " + std::to_string(processes) + " hub process" + (processes > 1 ? "es" : "");
    auto f = Measure(name.c_str(), p, dir, {"--postgres", *url, "--key-file", key_file}, processes);
    if (!f.ok()) return fail(f.status());
    pg.push_back(*f);
  }
  std::printf("ratio postgresql 1 process / sqlite:        %.2fx\n", pg[0].ops_per_s / sqlite->ops_per_s);
  std::printf("ratio postgresql 2 processes / 1 process:   %.2fx\n", pg[1].ops_per_s / pg[0].ops_per_s);
  if (std::getenv("BENCH_KEEP"))
    std::printf("kept %s (the gateways' logs: */hub-N.log)\n", root.c_str());
  else
    fs::remove_all(root);
  return 0;
}

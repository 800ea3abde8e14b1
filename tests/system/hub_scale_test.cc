// The gateway at scale, with the real binary: two `relais-hub serve`
// processes over one PostgreSQL database (a real server on loopback), set up
// with `relais-hub keygen`, `school add` and `enrol-code --count`, and a
// thousand simulated boxes (tests/system/hub_fleet.h) enrolling, uploading
// and asking their answers at once through both processes in turn.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>

#include "core/crypto.h"
#include "core/files.h"
#include "tests/support/pg_fixture.h"
#include "tests/support/process.h"
#include "tests/system/hub_fleet.h"

namespace fs = std::filesystem;
using namespace relais;
using namespace relais::testing;
using relais::testing::HubFleet;
using relais::testing::Program;
using relais::testing::RunOk;

namespace {

struct ScaleDir {
  fs::path path = fs::temp_directory_path() / ("relais-hubscale-" + core::RandomToken(8));
  ScaleDir() { fs::create_directories(path); }
  ~ScaleDir() { fs::remove_all(path); }
};

std::string Describe(const HubFleet::Stats& s) {
  std::string out = "requests per gateway:";
  for (int64_t n : s.requests) out += " " + std::to_string(n);
  out += "; 5xx " + std::to_string(s.server_errors) + ", unanswered " + std::to_string(s.transport_errors);
  for (const std::string& sample : s.samples) out += "\n  " + sample;
  return out;
}

}  // namespace

TEST_CASE("a thousand boxes sync at once through two gateway processes sharing one PostgreSQL database") {
  constexpr int kBoxes = 1000;
  constexpr int kOpsPerBox = 3;
  const std::vector<std::string> kSchools = {"Collège Jean Moulin", "Lycée Victor Hugo", "École du Port"};
  REQUIRE(core::InitCrypto().ok());
  auto pg = testing::PgServer::Shared();
  REQUIRE_MESSAGE(pg.ok(), pg.status().ToString());
  auto url = (*pg)->NewDatabase();
  REQUIRE(url.ok());
  ScaleDir dir;

  // Set up as an operator would: one key file for every process, the ENT's key in a settings file.
  const std::string key_file = (dir.path / "hub-identity.key").string();
  const std::string ent_key = "ent-" + core::RandomToken(16);
  REQUIRE(core::WriteFileAtomic(dir.path / "ent.key", ent_key + "\n").ok());
  REQUIRE(core::WriteFileAtomic(dir.path / "hub.conf",
                                "hub_ent_key_file = " + (dir.path / "ent.key").string() + "\nhub_connections = 8\n")
              .ok());
  auto keygen = RunOk(Program::kHub, {"keygen", "--key-file", key_file});
  REQUIRE_MESSAGE(keygen.ok(), keygen.status().ToString());
  const std::vector<std::string> store = {"--postgres", *url, "--key-file", key_file};
  auto fleet_codes = testing::AddSchoolsAndCodes(store, kSchools, kBoxes);
  REQUIRE_MESSAGE(fleet_codes.ok(), fleet_codes.status().ToString());

  auto hubs = testing::StartHubs(store, dir.path / "hub.conf", dir.path, 2);
  REQUIRE_MESSAGE(hubs.ok(), hubs.status().ToString());

  HubFleet::Options options;
  options.ports = {(*hubs)[0]->port(), (*hubs)[1]->port()};
  options.ops_per_box = kOpsPerBox;
  options.concurrency = 48;
  options.ent_key = ent_key;
  HubFleet fleet(options, *fleet_codes);

  auto seconds_since = [](std::chrono::steady_clock::time_point t) {
    return std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count()).substr(0, 5);
  };
  auto t = std::chrono::steady_clock::now();
  std::string timings;
  Status enrolled = fleet.Enrol();
  timings += "enrol " + seconds_since(t) + " s";
  t = std::chrono::steady_clock::now();
  REQUIRE_MESSAGE(enrolled.ok(), (enrolled.ToString() + "\n" + Describe(fleet.stats())));
  Status uploaded = fleet.Upload();
  REQUIRE_MESSAGE(uploaded.ok(), (uploaded.ToString() + "\n" + Describe(fleet.stats())));
  timings += ", upload " + seconds_since(t) + " s";
  t = std::chrono::steady_clock::now();
  Status answered = fleet.Answer();
  REQUIRE_MESSAGE(answered.ok(), (answered.ToString() + "\n" + Describe(fleet.stats())));
  timings += ", answer " + seconds_since(t) + " s";
  t = std::chrono::steady_clock::now();
  Status feeds = fleet.CheckEntFeeds();
  REQUIRE_MESSAGE(feeds.ok(), (feeds.ToString() + "\n" + Describe(fleet.stats())));

  timings += ", ENT feeds " + seconds_since(t) + " s";
  MESSAGE(timings);
  const HubFleet::Stats& stats = fleet.stats();
  INFO(Describe(stats));
  CHECK(stats.server_errors == 0);
  CHECK(stats.transport_errors == 0);
  CHECK(stats.inserted == kBoxes * kOpsPerBox);
  // Boxes i % 8 == 3 and 5 sent their bundle twice.
  CHECK(stats.duplicates == (kBoxes / 8 * 2) * kOpsPerBox);
  CHECK(stats.resumed_mid_way > 0);
  REQUIRE(stats.requests.size() == 2);
  CHECK(stats.requests[0] > kBoxes);  // each gateway served a real share
  CHECK(stats.requests[1] > kBoxes);
  for (auto& hub : *hubs) {
    Status stopped = hub->Stop();
    CHECK_MESSAGE(stopped.ok(), stopped.ToString());
    CHECK(hub->LogTail(1 << 20).find("hub.exception") == std::string::npos);
  }
}

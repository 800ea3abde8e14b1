// tests/system/hub_fleet.h — many simulated boxes syncing with real
// `relais-hub serve` processes over HTTP, for the scale test and the HTTP
// ingest benchmark.
//
// A simulated box is what a real box sends, without a school database: its
// own keys (sync::Identity), an enrolment with a one-time code over
// POST /hub/v1/enrol, signed requests (sync::SignRequest), and one bundle of
// journal operation records (sync/op_codec.h) under its own origin, signed by
// the box and sealed to the key GET /hub/v1/gateway announces. Requests go to
// the gateways in turn, one request each (round robin, as a load balancer
// would), from `concurrency` threads: a blocking cpp-httplib client per
// gateway per thread with keep-alive, like one box's sync client; an event
// loop would only add code, and the gateways, not the client, are measured.
//
// Phases run one after the other, each over every box; a phase returns
// Internal naming the first failures (a box's step that got another answer
// than the protocol says) but runs every box regardless.
//
// Not thread-safe: one thread calls the phases.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "sync/certificate.h"
#include "sync/identity.h"
#include "tests/support/process.h"

namespace relais::testing {

// Adds one school per name with `relais-hub school add`, then issues one-time
// codes with `relais-hub enrol-code --count`: box i joins school i % names,
// as HubFleet takes its codes. `store` is the store's flags (--data DIR, or
// --postgres URL --key-file FILE).
Result<std::vector<std::pair<std::string, std::string>>> AddSchoolsAndCodes(const std::vector<std::string>& store,
                                                                            const std::vector<std::string>& names,
                                                                            int boxes);

// Starts `count` processes of `relais-hub serve STORE --config CONFIG
// --listen 127.0.0.1:0`, each logging to LOG_DIR/hub-N.log, once each
// answers GET /hub/v1/health.
Result<std::vector<std::unique_ptr<ServerProcess>>> StartHubs(const std::vector<std::string>& store,
                                                              const std::filesystem::path& config,
                                                              const std::filesystem::path& log_dir, int count);

class HubFleet {
 public:
  struct Options {
    std::vector<int> ports;    // gateways on 127.0.0.1, used in turn
    int ops_per_box = 3;       // operations in each box's bundle, seq 1..n
    int body_bytes = 64;       // random bytes (sent as hex) in each operation's column
    int concurrency = 48;      // boxes in flight at once
    bool vary_uploads = true;  // some uploads cut and resumed elsewhere, some sent twice (below)
    std::string ent_key;       // the ENT's API key, for CheckEntFeeds
  };
  // One box per code: {school id, one-time code for that school}.
  HubFleet(Options options, std::vector<std::pair<std::string, std::string>> codes);
  ~HubFleet();

  // Every box makes its keys, enrols (POST /hub/v1/enrol) and checks the
  // answer with its code, fetches the gateway's certificate (GET
  // /hub/v1/gateway: the key it seals to) and says hello, expecting its
  // origin unknown to the gateway.
  Status Enrol();

  // Every box writes its bundle and uploads it (POST /hub/v1/uploads, then
  // PATCH), expecting every operation stored once. With vary_uploads, for
  // box i: i % 8 == 1 cuts the PATCH half-way on one gateway, asks HEAD on
  // the other and sends the rest there; i % 8 == 3 sends the bundle twice at
  // once, through both gateways; i % 8 == 5 sends it again afterwards. Then
  // a hello must show the box's whole origin held.
  Status Upload();

  // Every box asks POST /hub/v1/answer with a vector holding its own
  // operations and all, part or none of each other box's, opens
  // the answer with its own key and the gateway it pinned, and checks that it
  // holds exactly, once each and byte for byte, the operations of the other
  // boxes of its school the vector did not cover.
  Status Answer();

  // For each school: the ENT's change feed (GET /hub/v1/ent/schools/<id>/changes,
  // pages of 1000) has cursors 1..N without a gap and every operation of the
  // school's boxes exactly once, with its column intact; /ent/schools says N.
  Status CheckEntFeeds();

  struct Stats {
    std::vector<int64_t> requests;     // answered, per gateway
    int64_t server_errors = 0;         // answers with a 5xx status
    int64_t transport_errors = 0;      // no answer (other than the cuts made on purpose)
    int64_t bundles = 0;               // uploads that completed
    int64_t inserted = 0;              // operations the gateways said were new
    int64_t duplicates = 0;            // operations the gateways said they already held
    int64_t resumed_mid_way = 0;       // cut uploads resumed from an offset above 0
    int64_t answer_ops = 0;            // operations received in answers
    std::vector<std::string> samples;  // the first 5xx or failure messages
  };
  const Stats& stats() const { return stats_; }
  int64_t total_ops() const;

 private:
  struct Box;
  class Worker;
  // Runs `step` for every box from `concurrency` threads; Internal naming
  // the first failures.
  Status ForEachBox(const char* phase, Status (Worker::*step)(Box&));
  void Note(const std::string& failure);

  Options options_;
  std::vector<std::unique_ptr<Box>> boxes_;
  std::map<std::string, std::vector<Box*>> schools_;
  std::atomic<uint64_t> next_gateway_{0};
  std::mutex mu_;  // guards stats_
  Stats stats_;
};

}  // namespace relais::testing

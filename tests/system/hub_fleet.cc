// tests/system/hub_fleet.cc — simulated boxes against `relais-hub serve`.
//
// One box's life, as the phases drive it:
//
//   Enrol:  keys → POST enrol (code) → GET gateway → POST hello → bundle written
//   Upload: POST uploads → PATCH … (cut → HEAD elsewhere → PATCH rest; or twice) → POST hello
//   Answer: POST answer (vector) → open, verify, compare with the fleet's own records
#include "tests/system/hub_fleet.h"

#include <httplib.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "box/box_sync.h"
#include "core/crypto.h"
#include "core/files.h"
#include "hub/auth.h"
#include "sync/byte_io.h"
#include "sync/enrolment.h"
#include "sync/envelope.h"
#include "sync/op_codec.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

namespace relais::testing {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kOctets = "application/octet-stream";
constexpr const char* kUploadBytes = "application/offset+octet-stream";
constexpr int kPatchAttempts = 10;  // a resumed PATCH may race the cut one's last piece: 409, ask again
constexpr size_t kMaxSamples = 8;

}  // namespace

namespace {

std::vector<std::string> NonEmptyLines(const std::string& text) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    if (end > at) out.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> AddSchoolsAndCodes(const std::vector<std::string>& store,
                                                                            const std::vector<std::string>& names,
                                                                            int boxes) {
  auto with_store = [&](std::vector<std::string> args) {
    args.insert(args.end(), store.begin(), store.end());
    return args;
  };
  const int n = static_cast<int>(names.size());
  std::vector<std::string> ids;
  std::vector<std::vector<std::string>> codes;
  for (int s = 0; s < n; ++s) {
    RELAIS_ASSIGN_OR_RETURN(std::string added, RunOk(Program::kHub, with_store({"school", "add", names[s]})));
    std::vector<std::string> lines = NonEmptyLines(added);
    if (lines.size() != 1) return Status::Internal("school add printed: " + added);
    ids.push_back(lines[0]);
    int count = boxes / n + (s < boxes % n ? 1 : 0);
    if (count == 0) {
      codes.emplace_back();
      continue;
    }
    RELAIS_ASSIGN_OR_RETURN(
        std::string issued,
        RunOk(Program::kHub, with_store({"enrol-code", "--school", ids.back(), "--count", std::to_string(count)})));
    codes.push_back(NonEmptyLines(issued));
    if (codes.back().size() != static_cast<size_t>(count))
      return Status::Internal("enrol-code --count " + std::to_string(count) + " printed " +
                              std::to_string(codes.back().size()) + " lines");
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < boxes; ++i) out.emplace_back(ids[i % n], codes[i % n][i / n]);
  return out;
}

Result<std::vector<std::unique_ptr<ServerProcess>>> StartHubs(const std::vector<std::string>& store,
                                                              const fs::path& config, const fs::path& log_dir,
                                                              int count) {
  std::vector<std::unique_ptr<ServerProcess>> hubs;
  for (int h = 0; h < count; ++h) {
    ServerProcess::Options options;
    options.program = Program::kHub;
    options.command = {"serve"};
    options.command.insert(options.command.end(), store.begin(), store.end());
    options.command.insert(options.command.end(), {"--config", config.string(), "--listen", "127.0.0.1:0"});
    options.health_path = "/hub/v1/health";
    options.log_file = log_dir / ("hub-" + std::to_string(h) + ".log");
    RELAIS_ASSIGN_OR_RETURN(auto hub, ServerProcess::Start(options));
    hubs.push_back(std::move(hub));
  }
  return hubs;
}

struct HubFleet::Box {
  size_t index = 0;
  std::string school;
  std::string code;
  std::unique_ptr<sync::Identity> identity;
  std::string origin;  // its journal's origin
  sync::Enrolment enrolment;
  sync::Certificate gateway;         // from GET /hub/v1/gateway: the key bundles are sealed to
  std::vector<std::string> records;  // the operation records, seq 1..n
  std::vector<std::string> bodies;   // each operation's column, as the ENT should read it
  std::string bundle;                // the records, signed and sealed
  std::string id() const { return sync::KeyIdHex(identity->sign_key_id()); }
};

// One thread's clients: one per gateway, kept alive between requests.
class HubFleet::Worker {
 public:
  explicit Worker(HubFleet& fleet) : fleet_(fleet) {
    for (int port : fleet.options_.ports) clients_.push_back(NewClient(port));
  }

  Status Enrol(Box& box);
  Status Upload(Box& box);
  Status Answer(Box& box);
  Status CheckFeed(const std::string& school, const std::vector<Box*>& boxes);

 private:
  static std::unique_ptr<httplib::Client> NewClient(int port) {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
    c->set_keep_alive(true);
    c->set_connection_timeout(10, 0);
    c->set_read_timeout(120, 0);  // a loaded CI machine: slow is fine, wrong is not
    c->set_write_timeout(120, 0);
    return c;
  }
  size_t Next() { return fleet_.next_gateway_++ % clients_.size(); }
  size_t Other(size_t gw) const { return (gw + 1) % clients_.size(); }

  // Counts an answer from gateway `gw` (or its absence: Internal).
  Status Count(size_t gw, const httplib::Result& res, const std::string& what);
  // Sends through gateway `gw` and returns the answer if its status is `want`.
  Result<httplib::Response> Expect(size_t gw, int want, const std::string& what,
                                   const std::function<httplib::Result(httplib::Client&)>& call);
  // The current offset of an upload, asked of gateway `gw`.
  Result<int64_t> Offset(Box& box, size_t gw, const std::string& target);
  // Uploads the box's bundle once: created on `first`; cut half-way there
  // and finished through `resume` if `cut`. Returns the verdict's JSON.
  Result<json> SendBundle(Box& box, size_t first, bool cut, size_t resume);

  HubFleet& fleet_;
  std::vector<std::unique_ptr<httplib::Client>> clients_;
};

namespace {

httplib::Headers Signed(const sync::Identity& box, const std::string& method, const std::string& target,
                        const std::string& offset = "") {
  httplib::Headers h;
  for (const auto& [k, v] : sync::SignRequest(box, method, target, std::time(nullptr), offset)) h.emplace(k, v);
  if (!offset.empty()) h.emplace("Upload-Offset", offset);
  return h;
}

Status Wrong(const std::string& what) { return Status::Internal(what); }

}  // namespace

Status HubFleet::Worker::Count(size_t gw, const httplib::Result& res, const std::string& what) {
  std::lock_guard lock(fleet_.mu_);
  if (!res) {
    ++fleet_.stats_.transport_errors;
    return Wrong(what + " via gateway " + std::to_string(gw) + ": no answer (" + httplib::to_string(res.error()) + ")");
  }
  ++fleet_.stats_.requests[gw];
  if (res->status >= 500) {
    ++fleet_.stats_.server_errors;
    if (fleet_.stats_.samples.size() < kMaxSamples)
      fleet_.stats_.samples.push_back(what + ": HTTP " + std::to_string(res->status) + " " + res->body);
  }
  return Status::Ok();
}

Result<httplib::Response> HubFleet::Worker::Expect(size_t gw, int want, const std::string& what,
                                                   const std::function<httplib::Result(httplib::Client&)>& call) {
  httplib::Result res = call(*clients_[gw]);
  RELAIS_RETURN_IF_ERROR(Count(gw, res, what));
  if (res->status != want)
    return Wrong(what + " via gateway " + std::to_string(gw) + ": HTTP " + std::to_string(res->status) + " " +
                 res->body.substr(0, 300));
  return *res;
}

Status HubFleet::Worker::Enrol(Box& box) {
  box.identity = sync::Identity::Generate();
  box.origin = core::NewUuid();
  int64_t now = std::time(nullptr);
  RELAIS_ASSIGN_OR_RETURN(std::string request, sync::MakeEnrolmentRequest(*box.identity, box.code, now));
  RELAIS_ASSIGN_OR_RETURN(auto enrolled, Expect(Next(), 200, "enrol", [&](httplib::Client& c) {
                            return c.Post("/hub/v1/enrol", request, kOctets);
                          }));
  RELAIS_ASSIGN_OR_RETURN(box.enrolment, sync::AcceptEnrolment(*box.identity, box.code, enrolled.body));
  if (box.enrolment.certificate.scope != box.school) return Wrong("enrolled into another school");

  RELAIS_ASSIGN_OR_RETURN(auto cert_bytes, Expect(Next(), 200, "gateway certificate",
                                                  [&](httplib::Client& c) { return c.Get("/hub/v1/gateway"); }));
  RELAIS_ASSIGN_OR_RETURN(box.gateway, sync::DecodeCertificate(cert_bytes.body));
  sync::TrustStore trust;
  trust.Pin(box.enrolment.gateway_certificate.sign_key);
  RELAIS_RETURN_IF_ERROR(trust.AdoptGatewayCertificate(box.gateway).status());  // signed by the pinned gateway

  RELAIS_ASSIGN_OR_RETURN(auto hello, Expect(Next(), 200, "hello", [&](httplib::Client& c) {
                            return c.Post("/hub/v1/hello", Signed(*box.identity, "POST", "/hub/v1/hello"),
                                          R"({"vector":{}})", "application/json");
                          }));
  json said = json::parse(hello.body, nullptr, false);
  if (!said.is_object() || said.value("box", "") != box.id() || said.value("school", "") != box.school ||
      !said["vector"].is_object() || said["vector"].contains(box.origin))
    return Wrong("unexpected hello: " + hello.body);

  // The box's operations: hand-ins, each under its own row.
  const int n = fleet_.options_.ops_per_box;
  uint64_t hlc = static_cast<uint64_t>(now) * 1000 << 16;
  for (int seq = 1; seq <= n; ++seq) {
    content::Op op;
    op.origin = box.origin;
    op.seq = seq;
    op.hlc = hlc + static_cast<uint64_t>(seq);
    op.table = "submissions";
    op.kind = content::Op::Kind::kInsert;
    op.key = {core::SqlValue(core::NewUuid())};
    box.bodies.push_back(core::ToHex(core::RandomBytes(static_cast<size_t>(fleet_.options_.body_bytes))));
    op.columns = {{"body", core::SqlValue(box.bodies.back())}};
    box.records.push_back(sync::EncodeOp(op));
  }
  sync::StringSink sink;
  sync::BundleOptions bundle;
  bundle.scope = box.school;
  bundle.created_hlc = hlc + static_cast<uint64_t>(n);
  bundle.created_at = now;
  bundle.expires_at = now + 30 * 86400;
  bundle.sender_certificate = sync::EncodeCertificate(box.enrolment.certificate);
  RELAIS_ASSIGN_OR_RETURN(
      auto writer, sync::BundleWriter::Create(
                       *box.identity, sync::Recipient{box.gateway.box_key, box.gateway.box_epoch}, bundle, &sink));
  for (const std::string& record : box.records) RELAIS_RETURN_IF_ERROR(writer->Add(box::kRecordOp, record));
  RELAIS_RETURN_IF_ERROR(writer->Finish().status());
  box.bundle = std::move(sink.data());
  return Status::Ok();
}

Result<int64_t> HubFleet::Worker::Offset(Box& box, size_t gw, const std::string& target) {
  RELAIS_ASSIGN_OR_RETURN(auto head, Expect(gw, 200, "HEAD upload", [&](httplib::Client& c) {
                            return c.Head(target, Signed(*box.identity, "HEAD", target));
                          }));
  std::string text = head.get_header_value("Upload-Offset");
  char* end = nullptr;
  long long offset = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') return Wrong("HEAD without an Upload-Offset");
  return static_cast<int64_t>(offset);
}

Result<json> HubFleet::Worker::SendBundle(Box& box, size_t first, bool cut, size_t resume) {
  const std::string& bytes = box.bundle;
  json announce = {{"length", bytes.size()}, {"kind", "bundle"}};
  RELAIS_ASSIGN_OR_RETURN(auto created, Expect(first, 201, "create upload", [&](httplib::Client& c) {
                            return c.Post("/hub/v1/uploads", Signed(*box.identity, "POST", "/hub/v1/uploads"),
                                          announce.dump(), "application/json");
                          }));
  json made = json::parse(created.body, nullptr, false);
  if (!made.is_object() || !made["id"].is_string()) return Wrong("create upload: " + created.body);
  const std::string target = "/hub/v1/uploads/" + made["id"].get<std::string>();

  size_t gw = first;
  int64_t offset = 0;
  if (cut) {
    // The link drops half-way: the client sends half the announced body and
    // closes its connection (its own, so the kept-alive ones stay up).
    const size_t half = bytes.size() / 2;
    auto link = NewClient(fleet_.options_.ports[first]);
    auto res = link->Patch(
        target, Signed(*box.identity, "PATCH", target, "0"), bytes.size(),
        [&](size_t at, size_t, httplib::DataSink& sink) {
          if (at >= half) return false;
          return sink.write(bytes.data() + at, half - at);
        },
        kUploadBytes);
    link.reset();
    if (res) return Wrong("a PATCH cut half-way got an answer: HTTP " + std::to_string(res->status));
    // Resume on the other gateway. The first may still be storing what
    // arrived: wait (up to 2 s) until the other sees some of it. The
    // protocol does not need it (a stale offset gets 409 and the box asks
    // again); resumed_mid_way counts the times it was seen.
    gw = resume;
    Status asked = Status::Ok();
    WaitUntil(
        [&] {
          auto at = Offset(box, gw, target);
          if (!at.ok()) asked = at.status();
          if (at.ok()) offset = *at;
          return !at.ok() || offset > 0;
        },
        std::chrono::seconds(2), std::chrono::milliseconds(20));
    RELAIS_RETURN_IF_ERROR(asked);
    if (offset > 0) {
      std::lock_guard lock(fleet_.mu_);
      ++fleet_.stats_.resumed_mid_way;
    }
  }
  for (int attempt = 0; attempt < kPatchAttempts; ++attempt) {
    if (attempt > 0) {
      RELAIS_ASSIGN_OR_RETURN(offset, Offset(box, gw, target));
    }
    if (offset < 0 || offset >= static_cast<int64_t>(bytes.size()))
      return Wrong("HEAD says offset " + std::to_string(offset) + " of " + std::to_string(bytes.size()));
    httplib::Result res = clients_[gw]->Patch(target, Signed(*box.identity, "PATCH", target, std::to_string(offset)),
                                              std::string_view(bytes).substr(static_cast<size_t>(offset)).data(),
                                              bytes.size() - static_cast<size_t>(offset), kUploadBytes);
    RELAIS_RETURN_IF_ERROR(Count(gw, res, "PATCH"));
    if (res->status == 409) continue;  // another piece got there first: ask where it stands
    if (res->status != 200) return Wrong("PATCH: HTTP " + std::to_string(res->status) + " " + res->body);
    json verdict = json::parse(res->body, nullptr, false);
    if (!verdict.is_object() || verdict.value("complete", false) != true)
      return Wrong("PATCH did not complete: " + res->body);
    if (verdict.value("records", -1) != static_cast<int>(box.records.size()))
      return Wrong("the gateway read another number of records: " + res->body);
    std::lock_guard lock(fleet_.mu_);
    ++fleet_.stats_.bundles;
    fleet_.stats_.inserted += verdict.value("inserted", 0);
    fleet_.stats_.duplicates += verdict.value("duplicates", 0);
    return verdict;
  }
  return Wrong("PATCH still refused after " + std::to_string(kPatchAttempts) + " attempts");
}

Status HubFleet::Worker::Upload(Box& box) {
  const int n = static_cast<int>(box.records.size());
  const size_t variant = fleet_.options_.vary_uploads && clients_.size() > 1 ? box.index % 8 : 0;
  size_t first = Next();
  int inserted = 0, duplicates = 0, expected_duplicates = 0;
  auto add = [&](const json& verdict) {
    inserted += verdict.value("inserted", 0);
    duplicates += verdict.value("duplicates", 0);
  };
  if (variant == 1) {  // cut half-way, resumed through the other gateway
    RELAIS_ASSIGN_OR_RETURN(json verdict, SendBundle(box, first, /*cut=*/true, Other(first)));
    add(verdict);
  } else if (variant == 3) {  // the same bundle twice at once, one upload through each gateway
    Result<json> twin = Status::Internal("not run");
    std::thread other([&] {
      Worker second(fleet_);
      twin = second.SendBundle(box, Other(first), false, 0);
    });
    Result<json> mine = SendBundle(box, first, false, 0);
    other.join();
    RELAIS_RETURN_IF_ERROR(mine.status());
    RELAIS_RETURN_IF_ERROR(twin.status());
    add(*mine);
    add(*twin);
    expected_duplicates = n;
  } else {
    RELAIS_ASSIGN_OR_RETURN(json verdict, SendBundle(box, first, false, 0));
    add(verdict);
    if (variant == 5) {  // a retry of a round whose answer was lost
      RELAIS_ASSIGN_OR_RETURN(json again, SendBundle(box, Next(), false, 0));
      if (again.value("inserted", -1) != 0) return Wrong("a bundle sent again stored operations: " + again.dump());
      add(again);
      expected_duplicates = n;
    }
  }
  if (inserted != n || duplicates != expected_duplicates)
    return Wrong("stored " + std::to_string(inserted) + " new and " + std::to_string(duplicates) +
                 " duplicates; expected " + std::to_string(n) + " and " + std::to_string(expected_duplicates));

  RELAIS_ASSIGN_OR_RETURN(auto hello, Expect(Next(), 200, "hello after upload", [&](httplib::Client& c) {
                            return c.Post("/hub/v1/hello", Signed(*box.identity, "POST", "/hub/v1/hello"),
                                          json{{"vector", {{box.origin, n}}}}.dump(), "application/json");
                          }));
  json said = json::parse(hello.body, nullptr, false);
  if (!said.is_object() || !said["vector"].is_object() || said["vector"].value(box.origin, int64_t{-1}) != n)
    return Wrong("hello after upload does not hold the box's " + std::to_string(n) + " operations: " + hello.body);
  return Status::Ok();
}

Status HubFleet::Worker::Answer(Box& box) {
  const int64_t n = static_cast<int64_t>(box.records.size());
  // What the box holds (as after an earlier round): its own operations; of
  // the other boxes of its school, a third's all, a third's a prefix, and
  // nothing of the last third's.
  json vector = {{box.origin, n}};
  std::map<std::string, int64_t> have;
  for (const Box* other : fleet_.schools_.at(box.school)) {
    size_t third = (other->index + box.index) % 3;
    if (other == &box || third == 0) continue;
    have[other->origin] = third == 1
                              ? static_cast<int64_t>(other->records.size())
                              : static_cast<int64_t>((box.index + 2 * other->index) % (other->records.size() + 1));
    vector[other->origin] = have[other->origin];
  }
  std::map<std::string, const Box*> lacked;  // origin → box whose operations above have[origin] are due
  int64_t due = 0;
  for (const Box* other : fleet_.schools_.at(box.school)) {
    if (other == &box) continue;
    lacked[other->origin] = other;
    due += static_cast<int64_t>(other->records.size()) - (have.count(other->origin) ? have[other->origin] : 0);
  }
  RELAIS_ASSIGN_OR_RETURN(auto answer, Expect(Next(), 200, "answer", [&](httplib::Client& c) {
                            return c.Post("/hub/v1/answer", Signed(*box.identity, "POST", "/hub/v1/answer"),
                                          json{{"vector", vector}}.dump(), "application/json");
                          }));
  sync::TrustStore trust;
  trust.Pin(box.enrolment.gateway_certificate.sign_key);
  sync::StringSource source(answer.body);
  RELAIS_ASSIGN_OR_RETURN(auto reader,
                          sync::BundleReader::Open(source, *box.identity, trust, box.school, std::time(nullptr)));
  if (reader->header().sender_key_id != box.enrolment.gateway_certificate.sign_key_id())
    return Wrong("the answer is not signed by the gateway the box pinned");
  std::set<std::pair<std::string, int64_t>> seen;
  sync::Record record;
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool more, reader->Next(&record));
    if (!more) break;
    if (record.kind != box::kRecordOp) continue;  // the revocation list, the gateway's certificate
    RELAIS_ASSIGN_OR_RETURN(content::Op op, sync::DecodeOp(record.bytes));
    auto owner = lacked.find(op.origin);
    if (owner == lacked.end()) return Wrong("the answer holds an operation of origin " + op.origin + " not due");
    int64_t held = have.count(op.origin) ? have[op.origin] : 0;
    if (op.seq <= held || op.seq > static_cast<int64_t>(owner->second->records.size()))
      return Wrong("the answer holds " + op.origin + " #" + std::to_string(op.seq) + ", which the box held");
    if (!seen.emplace(op.origin, op.seq).second) return Wrong("the answer holds an operation twice");
    if (record.bytes != owner->second->records[static_cast<size_t>(op.seq - 1)])
      return Wrong("an operation came back altered");
  }
  if (static_cast<int64_t>(seen.size()) != due)
    return Wrong("the answer holds " + std::to_string(seen.size()) + " operations, " + std::to_string(due) + " due");
  if (answer.get_header_value("Relais-Operations") != std::to_string(due))
    return Wrong("Relais-Operations says " + answer.get_header_value("Relais-Operations"));
  std::lock_guard lock(fleet_.mu_);
  fleet_.stats_.answer_ops += due;
  return Status::Ok();
}

Status HubFleet::Worker::CheckFeed(const std::string& school, const std::vector<Box*>& boxes) {
  httplib::Headers bearer = {{"Authorization", "Bearer " + fleet_.options_.ent_key}};
  std::map<std::string, const Box*> by_origin;
  int64_t expected = 0;
  for (const Box* box : boxes) {
    by_origin[box->origin] = box;
    expected += static_cast<int64_t>(box->records.size());
  }
  std::set<std::pair<std::string, int64_t>> seen;
  int64_t cursor = 0;
  for (bool more = true; more;) {
    std::string path = "/hub/v1/ent/schools/" + school + "/changes?after=" + std::to_string(cursor) + "&limit=1000";
    RELAIS_ASSIGN_OR_RETURN(
        auto page, Expect(Next(), 200, "ENT changes", [&](httplib::Client& c) { return c.Get(path, bearer); }));
    json body = json::parse(page.body, nullptr, false);
    if (!body.is_object() || !body["changes"].is_array()) return Wrong("ENT changes: " + page.body.substr(0, 300));
    for (const json& change : body["changes"]) {
      int64_t at = change.value("cursor", int64_t{-1});
      if (at != cursor + 1)
        return Wrong("the ENT feed goes from " + std::to_string(cursor) + " to " + std::to_string(at));
      cursor = at;
      std::string origin = change.value("origin", "");
      int64_t seq = change.value("seq", int64_t{0});
      auto box = by_origin.find(origin);
      if (box == by_origin.end() || seq < 1 || seq > static_cast<int64_t>(box->second->records.size()))
        return Wrong("the ENT feed holds an operation no box of the school made: " + change.dump());
      if (!seen.emplace(origin, seq).second) return Wrong("the ENT feed holds an operation twice: " + change.dump());
      if (change.value("columns", json::object()).value("body", "") !=
          box->second->bodies[static_cast<size_t>(seq - 1)])
        return Wrong("the ENT reads another value than the box sent: " + change.dump());
    }
    more = body.value("more", false);
    if (body.value("next", int64_t{-1}) != cursor) return Wrong("ENT next is not the last cursor");
  }
  if (cursor != expected)
    return Wrong("the ENT feed of " + school + " ends at " + std::to_string(cursor) + ", expected " +
                 std::to_string(expected));
  RELAIS_ASSIGN_OR_RETURN(auto schools, Expect(Next(), 200, "ENT schools", [&](httplib::Client& c) {
                            return c.Get("/hub/v1/ent/schools", bearer);
                          }));
  json list = json::parse(schools.body, nullptr, false);
  for (const json& s : list.value("schools", json::array()))
    if (s.value("id", "") == school && s.value("cursor", int64_t{-1}) != expected)
      return Wrong("/ent/schools gives " + school + " the cursor " + s.value("cursor", json()).dump());
  return Status::Ok();
}

HubFleet::HubFleet(Options options, std::vector<std::pair<std::string, std::string>> codes)
    : options_(std::move(options)) {
  stats_.requests.assign(options_.ports.size(), 0);
  for (auto& [school, code] : codes) {
    auto box = std::make_unique<Box>();
    box->index = boxes_.size();
    box->school = school;
    box->code = code;
    schools_[school].push_back(box.get());
    boxes_.push_back(std::move(box));
  }
}

HubFleet::~HubFleet() = default;

int64_t HubFleet::total_ops() const {
  int64_t total = 0;
  for (const auto& box : boxes_) total += static_cast<int64_t>(box->records.size());
  return total;
}

void HubFleet::Note(const std::string& failure) {
  std::lock_guard lock(mu_);
  if (stats_.samples.size() < kMaxSamples) stats_.samples.push_back(failure);
}

Status HubFleet::ForEachBox(const char* phase, Status (Worker::*step)(Box&)) {
  std::atomic<size_t> next{0};
  std::atomic<int> failures{0};
  std::string first;
  std::mutex first_mu;
  std::vector<std::thread> threads;
  size_t n = std::min(boxes_.size(), static_cast<size_t>(std::max(1, options_.concurrency)));
  for (size_t t = 0; t < n; ++t) {
    threads.emplace_back([&] {
      Worker worker(*this);
      for (size_t i; (i = next++) < boxes_.size();) {
        Status st = (worker.*step)(*boxes_[i]);
        if (st.ok()) continue;
        ++failures;
        std::string what = std::string(phase) + ": box " + std::to_string(i) + ": " + st.message();
        Note(what);
        std::lock_guard lock(first_mu);
        if (first.empty()) first = what;
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failures > 0)
    return Status::Internal(std::to_string(failures.load()) + " of " + std::to_string(boxes_.size()) +
                            " boxes failed; the first: " + first);
  return Status::Ok();
}

Status HubFleet::Enrol() { return ForEachBox("enrol", &Worker::Enrol); }
Status HubFleet::Upload() { return ForEachBox("upload", &Worker::Upload); }
Status HubFleet::Answer() { return ForEachBox("answer", &Worker::Answer); }

Status HubFleet::CheckEntFeeds() {
  Worker worker(*this);
  for (const auto& [school, boxes] : schools_) RELAIS_RETURN_IF_ERROR(worker.CheckFeed(school, boxes));
  return Status::Ok();
}

}  // namespace relais::testing

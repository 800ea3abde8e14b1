// server/sync_cli.cc — `relais sync`: the box's side of sync with the gateway,
// over its HTTP API (docs/hub-api.md) or a USB stick. docs/sync.md, "Running sync".
#include <httplib.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/crypto.h"
#include "core/files.h"
#include "core/log.h"
#include "server/cli.h"
#include "sync/box_sync.h"
#include "sync/hub_auth.h"

namespace relais::server {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr size_t kOpsPerBundle = 5000;
constexpr size_t kPatchBytes = 1 << 20;
constexpr int kResumeAttempts = 5;

constexpr const char* kSyncHelp = R"(Usage: relais sync --data DIR [--hub URL]
       relais sync enrol --data DIR --hub URL --code CODE
       relais sync export --data DIR --to STICK
       relais sync import --data DIR --from STICK

sync           one round with the gateway (`relais hub serve`): sends the
               changes it lacks, fetches and applies the ones this box lacks.
               --hub defaults to the URL given at enrolment.
enrol          joins the gateway's school with a one-time code from
               `relais hub enrol-code`; the box's keys are made here and never
               leave it.
export         writes the changes for the gateway and a signed statement of
               what the box holds to STICK/relais/<box id>/ (then, on a
               connected PC: relais hub import STICK).
import         applies the gateway's answer from the stick. Running any of
               these twice is harmless.
)";

// A gateway client: signed requests, the gateway's clock, clear errors.
class Gateway {
 public:
  // `clock` must outlive the Gateway.
  Gateway(const std::string& url, const sync::Identity* box, const core::Clock& clock)
      : url_(url), client_(url), box_(box), clock_(clock) {
    client_.set_connection_timeout(10, 0);
    client_.set_read_timeout(120, 0);
    client_.set_write_timeout(120, 0);
  }

  // Learns the gateway's clock (a Pi has no real-time clock).
  Status Connect() {
    int64_t local_now = clock_.Now();
    RELAIS_ASSIGN_OR_RETURN(json health, JsonOf(client_.Get("/hub/v1/health"), "GET /hub/v1/health"));
    if (!health.contains("time_s") || !health["time_s"].is_number_integer())
      return Status::Corruption(url_ + " does not look like a relais gateway");
    offset_ = health["time_s"].get<int64_t>() - local_now;
    return Status::Ok();
  }
  // The offset was learned against clock_: read the same clock (std::time
  // would disagree with a test's shifted clock, or after a time setting).
  int64_t GatewayTime() const { return clock_.Now() + offset_; }

  httplib::Headers Signed(const std::string& method, const std::string& target, const std::string& offset = "") {
    httplib::Headers h;
    for (const auto& [k, v] : sync::SignRequest(*box_, method, target, GatewayTime(), offset)) h.emplace(k, v);
    if (!offset.empty()) h.emplace("Upload-Offset", offset);
    return h;
  }

  // Checks an answer: an error naming the gateway's reason unless 2xx.
  Status Check(const httplib::Result& res, const std::string& what) {
    if (!res)
      return Status::Unauthenticated("cannot reach the gateway at " + url_ + " (" + what +
                                     "): " + httplib::to_string(res.error()) + " error");
    if (res->status >= 200 && res->status < 300) return Status::Ok();
    std::string message = res->body.substr(0, 300);
    json body = json::parse(res->body, nullptr, false);
    if (body.is_object() && body.contains("error") && body["error"].is_object())
      message = body["error"].value("message", message);
    std::string text = "the gateway refused " + what + " (HTTP " + std::to_string(res->status) + "): " + message;
    if (res->status == 403) return Status::PermissionDenied(text);
    if (res->status == 401) return Status::Unauthenticated(text);
    return Status::InvalidArgument(text);
  }
  Result<json> JsonOf(const httplib::Result& res, const std::string& what) {
    RELAIS_RETURN_IF_ERROR(Check(res, what));
    json body = json::parse(res->body, nullptr, false);
    if (body.is_discarded()) return Status::Corruption("the gateway's answer to " + what + " is not JSON");
    return body;
  }

  httplib::Client& client() { return client_; }

 private:
  std::string url_;
  httplib::Client client_;
  const sync::Identity* box_;
  const core::Clock& clock_;
  int64_t offset_ = 0;
};

json VectorJson(const content::VersionVector& v) {
  json out = json::object();
  for (const auto& [origin, seq] : v) out[origin] = seq;
  return out;
}

constexpr const char* kVerdictLost = "the upload ended but its verdict was lost";

// Uploads a bundle resumably: on a cut, asks the gateway where it stands and
// sends the rest. Returns the gateway's verdict; NotFound(kVerdictLost) when
// the upload is gone after a cut (the gateway took the last byte, and may or
// may not have ingested the bundle).
Result<json> Upload(Gateway& gw, const std::string& bundle) {
  RELAIS_ASSIGN_OR_RETURN(json created,
                          gw.JsonOf(gw.client().Post("/hub/v1/uploads", gw.Signed("POST", "/hub/v1/uploads"),
                                                     json{{"length", bundle.size()}}.dump(), "application/json"),
                                    "the upload"));
  std::string target = "/hub/v1/uploads/" + created.value("id", std::string());
  size_t offset = 0;
  int failures = 0;
  while (true) {
    size_t n = std::min(kPatchBytes, bundle.size() - offset);
    std::string at = std::to_string(offset);
    auto res = gw.client().Patch(target, gw.Signed("PATCH", target, at), bundle.data() + offset, n,
                                 "application/octet-stream");
    if (res && res->status == 200) {
      json verdict = json::parse(res->body, nullptr, false);
      if (verdict.is_discarded()) return Status::Corruption("the gateway's verdict is not JSON");
      return verdict;
    }
    if (res && res->status == 204) {
      offset += n;
      std::printf("  sent %zu / %zu bytes\n", offset, bundle.size());
      continue;
    }
    // A cut or a stale offset: ask where the upload stands, and resume.
    if (res && res->status != 409 && res->status < 500) {
      Status st = gw.Check(res, "the bundle");
      return st.ok() ? Status::Internal("unexpected answer " + std::to_string(res->status) + " to an upload") : st;
    }
    if (++failures > kResumeAttempts) return gw.Check(res, "the bundle");
    auto head = gw.client().Head(target, gw.Signed("HEAD", target));
    // Gone: the cut fell after the last byte reached the gateway, which then
    // gave its verdict and deleted the upload. The caller asks hello what it holds.
    if (head && head->status == 404) return Status::NotFound(kVerdictLost);
    RELAIS_RETURN_IF_ERROR(gw.Check(head, "the upload's offset"));
    std::string stored = head->get_header_value("Upload-Offset");
    offset = std::strtoull(stored.c_str(), nullptr, 10);
    std::printf("  resuming at byte %zu\n", offset);
  }
}

std::string HubUrl(const Args& args, content::School& school) {
  if (auto hub = args.Get("hub")) return *hub;
  auto stored = school.accounts().GetSetting("sync_hub_url");
  return stored.ok() ? *stored : "";
}

Status SyncRound(const Args& args, Setup& setup, sync::BoxSync& box) {
  std::string url = HubUrl(args, *setup.school);
  if (url.empty()) return Status::InvalidArgument("no gateway: give --hub URL");
  Gateway gw(url, &box.identity(), setup.clock);
  RELAIS_RETURN_IF_ERROR(gw.Connect());
  RELAIS_ASSIGN_OR_RETURN(content::VersionVector held, box.replica().Held());
  // What the gateway holds for the school.
  auto hello = [&]() -> Result<content::VersionVector> {
    RELAIS_ASSIGN_OR_RETURN(json answer,
                            gw.JsonOf(gw.client().Post("/hub/v1/hello", gw.Signed("POST", "/hub/v1/hello"),
                                                       json{{"vector", VectorJson(held)}}.dump(), "application/json"),
                                      "hello"));
    content::VersionVector vector;
    if (answer.contains("vector") && answer["vector"].is_object())
      for (const auto& [origin, seq] : answer["vector"].items())
        if (seq.is_number_integer()) vector[origin] = seq.get<int64_t>();
    return vector;
  };
  RELAIS_ASSIGN_OR_RETURN(content::VersionVector gateway, hello());
  std::printf("Connected to %s (school %s)\n", url.c_str(), box.school_scope().c_str());
  int64_t sent = 0;
  int verdicts_lost = 0;
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(std::vector<content::Op> ops, box.replica().OpsSince(gateway, kOpsPerBundle));
    if (ops.empty()) break;
    sync::StringSink sink;
    RELAIS_ASSIGN_OR_RETURN(sync::BundleSummary summary, box.WriteBundle(ops, gw.GatewayTime(), &sink));
    std::printf("Sending %zu changes (%llu bytes)\n", ops.size(),
                static_cast<unsigned long long>(summary.bundle_bytes));
    Result<json> uploaded = Upload(gw, sink.data());
    if (!uploaded.ok() && uploaded.status().message() == kVerdictLost && ++verdicts_lost <= kResumeAttempts) {
      // Ask again what the gateway holds: the ops it took are not sent twice,
      // the ones it did not are sent again.
      std::printf("  %s: asking the gateway what it holds\n", kVerdictLost);
      RELAIS_ASSIGN_OR_RETURN(gateway, hello());
      continue;
    }
    RELAIS_ASSIGN_OR_RETURN(json verdict, std::move(uploaded));
    for (const content::Op& op : ops) gateway[op.origin] = std::max(gateway[op.origin], op.seq);
    sent += static_cast<int64_t>(ops.size());
    std::printf("  the gateway took %lld new, %lld already held\n",
                static_cast<long long>(verdict.value("inserted", 0)),
                static_cast<long long>(verdict.value("duplicates", 0)));
  }
  RELAIS_ASSIGN_OR_RETURN(held, box.replica().Held());
  auto answer = gw.client().Post("/hub/v1/answer", gw.Signed("POST", "/hub/v1/answer"),
                                 json{{"vector", VectorJson(held)}}.dump(), "application/json");
  RELAIS_RETURN_IF_ERROR(gw.Check(answer, "the answer"));
  sync::StringSource source(answer->body);
  RELAIS_ASSIGN_OR_RETURN(sync::ApplyReport report, box.ApplyBundle(source, gw.GatewayTime()));
  std::printf("Received %lld changes (%lld new, %lld rows written, %lld waiting, %lld conflicts)\n",
              static_cast<long long>(report.received), static_cast<long long>(report.new_ops),
              static_cast<long long>(report.rows_written), static_cast<long long>(report.pending),
              static_cast<long long>(report.conflicts));
  RELAIS_RETURN_IF_ERROR(box.RecordSuccess(setup.clock.Now(), gateway[box.replica().origin()]));
  std::printf("Sync done: %lld sent, %lld received\n", static_cast<long long>(sent),
              static_cast<long long>(report.received));
  return Status::Ok();
}

int Sync(const std::vector<std::string>& argv) {
  auto args = Args::Parse(argv, {"data", "hub"}, {});
  if (!args.ok()) return Fail(args.status());
  Setup setup;
  if (Status st = OpenSchool(*args, &setup); !st.ok()) return Fail(st);
  auto box = sync::BoxSync::Load(*setup.school, setup.config.data_dir);
  if (!box.ok()) return Fail(box.status());
  Status st = SyncRound(*args, setup, **box);
  if (!st.ok()) {
    (void)(*box)->RecordFailure(st.message());
    core::LogEvent("sync.failed", {{"reason", st.message()}});
    return Fail(st);
  }
  return 0;
}

int Enrol(const std::vector<std::string>& argv) {
  auto args = Args::Parse(argv, {"data", "hub", "code"}, {});
  if (!args.ok()) return Fail(args.status());
  auto url = args->Get("hub");
  auto code = args->Get("code");
  if (!url || !code) return Fail(Status::InvalidArgument("give --hub URL and --code CODE"));
  Setup setup;
  if (Status st = OpenSchool(*args, &setup); !st.ok()) return Fail(st);
  auto request = sync::BoxSync::EnrolmentRequest(setup.config.data_dir, *code, setup.clock.Now());
  if (!request.ok()) return Fail(request.status());
  Gateway gw(*url, nullptr, setup.clock);
  auto res = gw.client().Post("/hub/v1/enrol", *request, "application/octet-stream");
  if (Status st = gw.Check(res, "the enrolment"); !st.ok()) return Fail(st);
  if (Status st = sync::BoxSync::FinishEnrolment(*setup.school, setup.config.data_dir, *code, res->body); !st.ok())
    return Fail(st);
  if (Status st = setup.school->accounts().SetSetting("sync_hub_url", *url); !st.ok()) return Fail(st);
  auto box = sync::BoxSync::Load(*setup.school, setup.config.data_dir);
  if (!box.ok()) return Fail(box.status());
  std::printf("Enrolled: box %s, school %s, gateway %s\n", (*box)->box_id().c_str(), (*box)->school_scope().c_str(),
              url->c_str());
  return 0;
}

fs::path StickBoxDir(const fs::path& stick, const std::string& box_id) { return stick / "relais" / box_id; }

int Export(const std::vector<std::string>& argv) {
  auto args = Args::Parse(argv, {"data", "to"}, {});
  if (!args.ok()) return Fail(args.status());
  auto to = args->Get("to");
  if (!to) return Fail(Status::InvalidArgument("give --to STICK"));
  Setup setup;
  if (Status st = OpenSchool(*args, &setup); !st.ok()) return Fail(st);
  auto box = sync::BoxSync::Load(*setup.school, setup.config.data_dir);
  if (!box.ok()) return Fail(box.status());
  fs::path dir = StickBoxDir(*to, (*box)->box_id());
  auto run = [&]() -> Status {
    // This export replaces what an earlier one left for this box: its
    // bundles (what they hold above the acknowledged seq is written again
    // below; a damaged one would block `hub import` for ever) and the
    // gateway's answer to it. A stale answer must not be imported as if it
    // answered this export: importing an answer marks the exported seq as
    // held by the gateway. Until this export is complete, no seq counts as
    // exported (a kill -9 half-way must not vouch for removed bundles).
    RELAIS_RETURN_IF_ERROR(setup.school->accounts().SetSetting("sync_exported_seq", "0"));
    std::error_code ec, removing;
    std::vector<fs::path> old = {dir / "to-box" / "answer.bundle"};
    for (const auto& entry : fs::directory_iterator(dir / "to-gateway", ec))
      if (entry.path().extension() == ".bundle") old.push_back(entry.path());
    for (const fs::path& file : old)
      if (!fs::remove(file, removing) && removing)
        return Status::IOError("cannot remove " + file.string() + ": " + removing.message());
    RELAIS_RETURN_IF_ERROR(core::MakeDirs(dir / "to-gateway"));
    // The gateway holds every other origin's operations (it sent them); of
    // ours, those up to the last seq it acknowledged.
    RELAIS_ASSIGN_OR_RETURN(content::VersionVector have, (*box)->replica().Held());
    auto acked = setup.school->accounts().GetSetting("sync_acked_seq");
    have[(*box)->replica().origin()] = acked.ok() ? std::strtoll(acked->c_str(), nullptr, 10) : 0;
    int64_t count = 0;
    int64_t last = 0;
    while (true) {
      RELAIS_ASSIGN_OR_RETURN(std::vector<content::Op> ops, (*box)->replica().OpsSince(have, kOpsPerBundle));
      if (ops.empty()) break;
      sync::StringSink sink;
      RELAIS_ASSIGN_OR_RETURN(sync::BundleSummary summary, (*box)->WriteBundle(ops, setup.clock.Now(), &sink));
      std::string name = core::ToHex(std::string_view(reinterpret_cast<const char*>(summary.bundle_id.data()),
                                                      summary.bundle_id.size())) +
                         ".bundle";
      RELAIS_RETURN_IF_ERROR(core::WriteFileAtomic(dir / "to-gateway" / name, sink.data()));
      for (const content::Op& op : ops) {
        have[op.origin] = std::max(have[op.origin], op.seq);
        if (op.origin == (*box)->replica().origin()) last = std::max(last, op.seq);
      }
      count += static_cast<int64_t>(ops.size());
    }
    RELAIS_ASSIGN_OR_RETURN(auto statement, (*box)->MakeStatement(setup.clock.Now()));
    RELAIS_RETURN_IF_ERROR(core::WriteFileAtomic(dir / "statement.json", statement.json));
    RELAIS_RETURN_IF_ERROR(core::WriteFileAtomic(dir / "statement.sig", statement.signature_hex));
    if (last > 0)
      RELAIS_RETURN_IF_ERROR(setup.school->accounts().SetSetting("sync_exported_seq", std::to_string(last)));
    std::printf("Exported %lld changes to %s\nNext: relais hub import %s on a connected PC, then relais sync import\n",
                static_cast<long long>(count), dir.c_str(), to->c_str());
    return Status::Ok();
  };
  if (Status st = run(); !st.ok()) return Fail(st);
  return 0;
}

int Import(const std::vector<std::string>& argv) {
  auto args = Args::Parse(argv, {"data", "from"}, {});
  if (!args.ok()) return Fail(args.status());
  auto from = args->Get("from");
  if (!from) return Fail(Status::InvalidArgument("give --from STICK"));
  Setup setup;
  if (Status st = OpenSchool(*args, &setup); !st.ok()) return Fail(st);
  auto box = sync::BoxSync::Load(*setup.school, setup.config.data_dir);
  if (!box.ok()) return Fail(box.status());
  fs::path answer = StickBoxDir(*from, (*box)->box_id()) / "to-box" / "answer.bundle";
  std::error_code ec;
  if (!fs::exists(answer, ec))
    return Fail(Status::NotFound("no answer for this box on the stick (" + answer.string() +
                                 "): run relais hub import on a connected PC first"));
  auto run = [&]() -> Status {
    RELAIS_ASSIGN_OR_RETURN(auto source, sync::FileSource::Open(answer));
    RELAIS_ASSIGN_OR_RETURN(sync::ApplyReport report, (*box)->ApplyBundle(*source, setup.clock.Now()));
    // The gateway answered after taking the stick's changes.
    auto exported = setup.school->accounts().GetSetting("sync_exported_seq");
    auto acked = setup.school->accounts().GetSetting("sync_acked_seq");
    int64_t seq = std::max<int64_t>(exported.ok() ? std::strtoll(exported->c_str(), nullptr, 10) : 0,
                                    acked.ok() ? std::strtoll(acked->c_str(), nullptr, 10) : 0);
    RELAIS_RETURN_IF_ERROR((*box)->RecordSuccess(setup.clock.Now(), seq));
    std::printf("Imported %lld changes (%lld new, %lld rows written)\n", static_cast<long long>(report.received),
                static_cast<long long>(report.new_ops), static_cast<long long>(report.rows_written));
    return Status::Ok();
  };
  if (Status st = run(); !st.ok()) {
    (void)(*box)->RecordFailure(st.message());
    return Fail(st);
  }
  return 0;
}

}  // namespace

int RunSyncCli(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) return std::fputs(kSyncHelp, stdout), 0;
  std::string sub = argv.empty() ? "" : argv[0];
  std::vector<std::string> rest(argv.begin() + std::min<size_t>(argv.size(), 1), argv.end());
  if (sub == "enrol") return Enrol(rest);
  if (sub == "export") return Export(rest);
  if (sub == "import") return Import(rest);
  if (sub.empty() || sub.rfind("--", 0) == 0) return Sync(argv);
  std::fprintf(stderr, "relais sync: unknown command '%s'\n\n%s", sub.c_str(), kSyncHelp);
  return 2;
}

}  // namespace relais::server

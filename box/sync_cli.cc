// box/sync_cli.cc — `relais sync`: the box's side of sync with the gateway,
// over its HTTP API (docs/hub-api.md) or a USB stick. docs/sync.md, "Running sync".
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "box/box_files.h"
#include "box/box_sync.h"
#include "box/cli.h"
#include "box/gateway_client.h"
#include "core/crypto.h"
#include "core/files.h"
#include "core/log.h"

namespace relais::box {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr size_t kOpsPerBundle = 5000;

constexpr const char* kSyncHelp = R"(Usage: relais sync --data DIR [--hub URL]
       relais sync enrol --data DIR --hub URL --code CODE [--ca FILE] [--allow-http]
       relais sync rotate-key --data DIR
       relais sync export --data DIR --to STICK
       relais sync import --data DIR --from STICK

sync           one round with the gateway (`relais-hub serve`): sends the
               changes it lacks, fetches and applies the ones this box lacks.
               --hub defaults to the URL given at enrolment.
enrol          joins the gateway's school with a one-time code from
               `relais-hub enrol-code`; the box's keys are made here and never
               leave it. Over https the box pins the key of the gateway's
               certificate (or, with --ca FILE, trusts that CA); plain http
               only to this machine unless --allow-http.
rotate-key     gives the box a new encryption key and tells the gateway (a
               round right away, or the next one); answers sealed to the old
               key before that still open.
export         writes the changes for the gateway and a signed statement of
               what the box holds to STICK/relais/<box id>/ (then, on a
               connected PC: relais-hub import STICK).
import         applies the gateway's answer from the stick. Running any of
               these twice is harmless.
)";

std::string HubUrl(const Args& args, content::School& school) {
  if (auto hub = args.Get("hub")) return *hub;
  auto stored = school.accounts().GetSetting("sync_hub_url");
  return stored.ok() ? *stored : "";
}

// An enrolled box opened for one round or trip: the school, the box's keys,
// and the round lock (released first: members are destroyed in reverse).
struct BoxRound {
  Setup setup;
  std::unique_ptr<box::BoxSync> box;
  std::unique_ptr<core::FileLock> lock;
};

Status OpenBoxRound(const Args& args, BoxRound* out) {
  RELAIS_RETURN_IF_ERROR(OpenSchool(args, &out->setup));
  RELAIS_ASSIGN_OR_RETURN(out->box, box::BoxSync::Load(*out->setup.school, out->setup.config.data_dir));
  RELAIS_ASSIGN_OR_RETURN(out->lock, box::BoxSync::LockRound(out->setup.config.data_dir));
  return Status::Ok();
}

Status SyncRound(const Args& args, Setup& setup, box::BoxSync& box) {
  std::string url = HubUrl(args, *setup.school);
  if (url.empty()) return Status::InvalidArgument("no gateway: give --hub URL");
  auto print = [](const std::string& line) { std::printf("%s\n", line.c_str()); };
  RELAIS_ASSIGN_OR_RETURN(RoundReport report, RunSyncRound(box, url, setup.clock, print));
  std::printf("Sync done: %lld sent, %lld received\n", static_cast<long long>(report.sent),
              static_cast<long long>(report.received));
  return Status::Ok();
}

int Sync(const std::vector<std::string>& argv) {
  auto args = Args::Parse(argv, {"data", "hub"}, {});
  if (!args.ok()) return Fail(args.status());
  BoxRound round;
  if (Status st = OpenBoxRound(*args, &round); !st.ok()) return Fail(st);
  Setup& setup = round.setup;
  box::BoxSync& box = *round.box;
  Status st = SyncRound(*args, setup, box);
  if (!st.ok()) {
    (void)box.RecordFailure(st.message());
    core::LogEvent("sync.failed", {{"reason", st.message()}});
    return Fail(st);
  }
  return 0;
}

int Enrol(const std::vector<std::string>& argv) {
  auto args = Args::Parse(argv, {"data", "hub", "code", "ca"}, {"allow-http"});
  if (!args.ok()) return Fail(args.status());
  auto url = args->Get("hub");
  auto code = args->Get("code");
  if (!url || !code) return Fail(Status::InvalidArgument("give --hub URL and --code CODE"));
  GatewayTrust trust;
  trust.allow_plain_http = args->Has("allow-http");
  if (Status st = CheckGatewayUrl(*url, trust.allow_plain_http); !st.ok()) return Fail(st);
  if (auto ca = args->Get("ca")) trust.ca_file = fs::absolute(*ca);
  Setup setup;
  if (Status st = OpenSchool(*args, &setup); !st.ok()) return Fail(st);
  auto request = box::BoxSync::EnrolmentRequest(setup.config.data_dir, *code, setup.clock.Now());
  if (!request.ok()) return Fail(request.status());
  // Over https without --ca, the key the gateway shows now is pinned (the
  // answer is MACed with the code, so a gateway that cannot answer it is refused).
  TlsPinCheck pin(trust, /*first_use=*/true);
  GatewayClient gw(*url, nullptr, setup.clock, &pin);
  if (Status st = pin.Install(gw.client()); !st.ok()) return Fail(st);
  auto res = gw.client().Post("/hub/v1/enrol", *request, "application/octet-stream");
  if (Status st = gw.Check(res, "the enrolment"); !st.ok()) return Fail(st);
  if (url->rfind("https://", 0) == 0 && trust.ca_file.empty()) {
    if (pin.seen().empty()) return Fail(Status::Internal("the gateway's TLS key could not be read"));
    trust.pin_sha256 = pin.seen();
  }
  fs::path sync_dir = box::BoxSyncDir(setup.config.data_dir);
  if (Status st = SaveGatewayTrust(sync_dir, trust); !st.ok()) return Fail(st);
  if (Status st = box::BoxSync::FinishEnrolment(*setup.school, setup.config.data_dir, *code, res->body); !st.ok())
    return Fail(st);
  if (Status st = setup.school->accounts().SetSetting("sync_hub_url", *url); !st.ok()) return Fail(st);
  auto box = box::BoxSync::Load(*setup.school, setup.config.data_dir);
  if (!box.ok()) return Fail(box.status());
  std::printf("Enrolled: box %s, school %s, gateway %s\n", (*box)->box_id().c_str(), (*box)->school_scope().c_str(),
              url->c_str());
  if (!trust.pin_sha256.empty()) std::printf("Pinned the gateway's TLS key: sha256 %s\n", trust.pin_sha256.c_str());
  if (!trust.ca_file.empty()) std::printf("The gateway's certificate must be signed by %s\n", trust.ca_file.c_str());
  return 0;
}

int RotateKey(const std::vector<std::string>& argv) {
  auto args = Args::Parse(argv, {"data", "hub"}, {});
  if (!args.ok()) return Fail(args.status());
  BoxRound round;
  if (Status st = OpenBoxRound(*args, &round); !st.ok()) return Fail(st);
  Setup& setup = round.setup;
  box::BoxSync& box = *round.box;
  auto epoch = box.RotateKey();
  if (!epoch.ok()) return Fail(epoch.status());
  std::printf("New encryption key: epoch %u (the old ones are kept for answers in transit)\n", *epoch);
  core::LogEvent("sync.key_rotated", {{"epoch", std::to_string(*epoch)}});
  // The round tells the gateway first thing.
  if (Status st = SyncRound(*args, setup, box); !st.ok()) {
    (void)box.RecordFailure(st.message());
    std::printf("The gateway could not be told now (%s); the next sync tells it\n", st.message().c_str());
    return 1;
  }
  return 0;
}

fs::path StickBoxDir(const fs::path& stick, const std::string& box_id) { return stick / "relais" / box_id; }

std::string BundleFileName(const sync::BundleSummary& summary) {
  return core::ToHex(
             std::string_view(reinterpret_cast<const char*>(summary.bundle_id.data()), summary.bundle_id.size())) +
         ".bundle";
}

int Export(const std::vector<std::string>& argv) {
  auto args = Args::Parse(argv, {"data", "to"}, {});
  if (!args.ok()) return Fail(args.status());
  auto to = args->Get("to");
  if (!to) return Fail(Status::InvalidArgument("give --to STICK"));
  BoxRound round;
  if (Status st = OpenBoxRound(*args, &round); !st.ok()) return Fail(st);
  Setup& setup = round.setup;
  box::BoxSync& box = *round.box;
  fs::path dir = StickBoxDir(*to, box.box_id());
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
    RELAIS_ASSIGN_OR_RETURN(content::VersionVector have, box.replica().Held());
    auto acked = setup.school->accounts().GetSetting("sync_acked_seq");
    have[box.replica().origin()] = acked.ok() ? std::strtoll(acked->c_str(), nullptr, 10) : 0;
    int64_t count = 0;
    int64_t last = 0;
    while (true) {
      RELAIS_ASSIGN_OR_RETURN(std::vector<content::Op> ops, box.replica().OpsSince(have, kOpsPerBundle));
      if (ops.empty()) break;
      sync::StringSink sink;
      RELAIS_ASSIGN_OR_RETURN(sync::BundleSummary summary, box.WriteBundle(ops, setup.clock.Now(), &sink));
      RELAIS_RETURN_IF_ERROR(core::WriteFileAtomic(dir / "to-gateway" / BundleFileName(summary), sink.data()));
      for (const content::Op& op : ops) {
        have[op.origin] = std::max(have[op.origin], op.seq);
        if (op.origin == box.replica().origin()) last = std::max(last, op.seq);
      }
      count += static_cast<int64_t>(ops.size());
    }
    // Files' bytes: the manifests in one more bundle, the sealed chunks beside it.
    RELAIS_ASSIGN_OR_RETURN(box::BoxFiles files, box::BoxFiles::Open(*setup.school, setup.config.data_dir));
    RELAIS_ASSIGN_OR_RETURN(std::vector<sync::Manifest> outgoing, files.Outgoing());
    box::FileTransfer sent;
    if (!outgoing.empty()) {
      std::vector<sync::Record> records;
      for (const sync::Manifest& m : outgoing) records.push_back({sync::kRecordManifest, sync::EncodeManifest(m)});
      sync::StringSink sink;
      RELAIS_ASSIGN_OR_RETURN(sync::BundleSummary summary, box.WriteBundle({}, setup.clock.Now(), &sink, records));
      RELAIS_RETURN_IF_ERROR(core::WriteFileAtomic(dir / "to-gateway" / BundleFileName(summary), sink.data()));
      sync::DirChunkPeer stick(dir / "to-gateway" / "chunks");
      RELAIS_ASSIGN_OR_RETURN(sent, files.Send(stick, outgoing, /*acknowledge=*/false, nullptr));
    }
    RELAIS_ASSIGN_OR_RETURN(sync::FileNews news, files.News());
    RELAIS_ASSIGN_OR_RETURN(auto statement, box.MakeStatement(setup.clock.Now(), news));
    RELAIS_RETURN_IF_ERROR(core::WriteFileAtomic(dir / "statement.json", statement.json));
    RELAIS_RETURN_IF_ERROR(core::WriteFileAtomic(dir / "statement.sig", statement.signature_hex));
    if (last > 0)
      RELAIS_RETURN_IF_ERROR(setup.school->accounts().SetSetting("sync_exported_seq", std::to_string(last)));
    std::printf(
        "Exported %lld changes and %lld files (%lld chunks) to %s\n"
        "Next: relais-hub import %s on a connected PC, then relais sync import\n",
        static_cast<long long>(count), static_cast<long long>(outgoing.size()), static_cast<long long>(sent.chunks),
        dir.c_str(), to->c_str());
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
  BoxRound round;
  if (Status st = OpenBoxRound(*args, &round); !st.ok()) return Fail(st);
  Setup& setup = round.setup;
  box::BoxSync& box = *round.box;
  fs::path answer = StickBoxDir(*from, box.box_id()) / "to-box" / "answer.bundle";
  std::error_code ec;
  if (!fs::exists(answer, ec))
    return Fail(Status::NotFound("no answer for this box on the stick (" + answer.string() +
                                 "): run relais-hub import on a connected PC first"));
  auto run = [&]() -> Status {
    RELAIS_ASSIGN_OR_RETURN(auto source, sync::FileSource::Open(answer));
    std::vector<sync::Record> file_records;
    RELAIS_ASSIGN_OR_RETURN(sync::ApplyReport report, box.ApplyBundle(*source, setup.clock.Now(), &file_records));
    // Files' bytes: the gateway's manifests, then the sealed chunks it wrote beside the answer.
    RELAIS_ASSIGN_OR_RETURN(box::BoxFiles files, box::BoxFiles::Open(*setup.school, setup.config.data_dir));
    RELAIS_RETURN_IF_ERROR(files.Learn(file_records));
    sync::DirChunkPeer stick(StickBoxDir(*from, box.box_id()) / "to-box" / "chunks");
    auto print = [](const std::string& line) { std::printf("%s\n", line.c_str()); };
    RELAIS_ASSIGN_OR_RETURN(box::FileTransfer fetched, files.Fetch(stick, print));
    std::printf("Files: %lld complete here (%lld chunks), %lld waiting\n", static_cast<long long>(fetched.files),
                static_cast<long long>(fetched.chunks), static_cast<long long>(fetched.waiting));
    if (fetched.refused > 0)
      return Status::Corruption(std::to_string(fetched.refused) +
                                " file chunks on the stick failed to verify and were refused (altered or cut)");
    // The gateway answered after taking the stick's changes.
    auto exported = setup.school->accounts().GetSetting("sync_exported_seq");
    auto acked = setup.school->accounts().GetSetting("sync_acked_seq");
    int64_t seq = std::max<int64_t>(exported.ok() ? std::strtoll(exported->c_str(), nullptr, 10) : 0,
                                    acked.ok() ? std::strtoll(acked->c_str(), nullptr, 10) : 0);
    RELAIS_RETURN_IF_ERROR(box.RecordSuccess(setup.clock.Now(), seq));
    std::printf("Imported %lld changes (%lld new, %lld rows written)\n", static_cast<long long>(report.received),
                static_cast<long long>(report.new_ops), static_cast<long long>(report.rows_written));
    return Status::Ok();
  };
  if (Status st = run(); !st.ok()) {
    (void)box.RecordFailure(st.message());
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
  if (sub == "rotate-key") return RotateKey(rest);
  if (sub == "import") return Import(rest);
  if (sub.empty() || sub.rfind("--", 0) == 0) return Sync(argv);
  std::fprintf(stderr, "relais sync: unknown command '%s'\n\n%s", sub.c_str(), kSyncHelp);
  return 2;
}

}  // namespace relais::box

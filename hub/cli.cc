// hub/cli.cc — `relais-hub …`: the gateway's commands.
//
// Every command opens the store named by --data DIR (SQLite) or --postgres
// URL, with settings from --config FILE (or DIR/relais.conf) and RELAIS_HUB_*
// variables, exactly as `relais-hub serve` does, so an operator can add a
// school or revoke a box while gateways serve.
#include "hub/cli.h"

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "core/cli_args.h"
#include "core/crypto.h"
#include "core/files.h"
#include "core/log.h"
#include "http/event_server.h"
#include "http/serve_signals.h"
#include "http/tls_context.h"
#include "hub/api.h"
#include "hub/files.h"
#include "hub/hub.h"
#include "sync/chunk_peer.h"
#include "sync/statement.h"

namespace relais::hub {

using core::Args;
using core::WantsHelp;

namespace {
// Prints "relais-hub: message" and returns the exit code (2 for a usage error, 1 otherwise).
int Fail(const Status& st) { return core::Fail(st, "relais-hub"); }
}  // namespace
namespace {

namespace fs = std::filesystem;

constexpr const char* kHubUsage =
    R"(Usage: relais-hub <command> [options]      (relais-hub <command> --help for details)

The gateway boxes sync with, run by the académie or the ENT operator.
Every command takes the store: --data DIR (SQLite) or --postgres URL.

Commands:
  serve          serve boxes and the ENT over HTTP
  school add     create a school (prints its id)
  school list    list the schools
  enrol-code     print a one-time code that enrols one box into a school
  box list       list a school's boxes
  revoke         revoke a box: refused from now on, and told to everyone
  keygen         create the gateway's key file (once, for PostgreSQL deployments)
  rotate-key     give the gateway a new encryption key (the old ones keep opening late bundles)
  import         take the boxes' changes from a USB stick, write their answers to it
)";

constexpr const char* kStoreHelp = R"(
Store (one of):
  --data DIR        SQLite in DIR (created if needed); settings in DIR/relais.conf
  --postgres URL    PostgreSQL, e.g. postgresql://relais@db.example/relais
                    (put the password in ~/.pgpass or PGPASSWORD, not in the URL)
  --config FILE     a settings file ("key = value"): hub_postgres, hub_key_file, …
                    (every setting: docs/configuration.md)
  --key-file PATH   the gateway's secret keys (default DIR/hub-identity.key; required
                    with --postgres: every hub process gets the same file)
)";

constexpr const char* kServeHelp = R"(Usage: relais-hub serve (--data DIR | --postgres URL) [--listen ADDR:PORT]
                        [--tls-cert FILE --tls-key FILE]

Serves the gateway's API (docs/hub-api.md). Over PostgreSQL, any number of
these processes may serve side by side behind a load balancer. The ENT's API
key is read from the file named by the hub_ent_key_file setting.
  --listen ADDR:PORT  where to listen (default 127.0.0.1:8080; port 0 picks a free one)
  --tls-cert FILE     serve HTTPS there with this certificate (PEM), and --tls-key FILE
                      its key (settings tls_cert, tls_key); boxes pin its key when they enrol
)";
constexpr const char* kSchoolAddHelp = R"(Usage: relais-hub school add (--data DIR | --postgres URL) NAME

Creates a school and prints its id.
)";
constexpr const char* kSchoolListHelp = R"(Usage: relais-hub school list (--data DIR | --postgres URL)

Lists the schools: id, name.
)";
constexpr const char* kEnrolCodeHelp =
    R"(Usage: relais-hub enrol-code (--data DIR | --postgres URL) --school ID [--count N]

Prints a one-time code that enrols one box into the school. It is valid for
hub_enrol_code_days days (default 7) and works once; only its hash is stored.
  --count N   print N codes, one a line (a fleet of boxes; at most 10000)
)";
constexpr const char* kBoxListHelp = R"(Usage: relais-hub box list (--data DIR | --postgres URL) --school ID

Lists the school's boxes: id, enrolment time, revocation time.
)";
constexpr const char* kRevokeHelp = R"(Usage: relais-hub revoke (--data DIR | --postgres URL) BOX

Revokes a box: the gateway refuses it from now on, and the new revocation
list travels to every box of every school with their next sync.
)";

constexpr const char* kKeygenHelp = R"(Usage: relais-hub keygen --key-file PATH

Creates the gateway's identity (an Ed25519 signing key and an X25519
encryption key) in PATH, mode 0600. Refuses to overwrite an existing file:
boxes pin the gateway's key at enrolment. Copy the file to every hub process
(hub_key_file) and keep a backup.
)";

constexpr const char* kRotateKeyHelp = R"(Usage: relais-hub rotate-key (--data DIR | --key-file PATH)

Adds a new X25519 encryption key to the gateway's identity (DIR/hub-identity.key,
or PATH). Boxes learn it from the gateway's certificate in their next answer
and seal their bundles to it from then on; bundles sealed to an older key (a USB
stick weeks late) still open: the last 64 keys are kept. The signing key, which
boxes pinned, does not change. Restart every `relais-hub serve` using the file.
)";

constexpr int kMaxCodesAtOnce = 10000;

const std::vector<std::string> kStoreOptions = {"data", "postgres", "config", "key-file"};

std::vector<std::string> With(std::vector<std::string> extra) {
  extra.insert(extra.end(), kStoreOptions.begin(), kStoreOptions.end());
  return extra;
}

int Help(const char* text) {
  std::fputs(text, stdout);
  std::fputs(kStoreHelp, stdout);
  return 0;
}

struct HubSetup {
  Config config;
  core::SystemClock clock;
  std::unique_ptr<hub::HubStore> store;
  std::unique_ptr<sync::Identity> identity;
  std::unique_ptr<hub::Hub> hub;
  std::unique_ptr<core::FileLock> lock;  // SQLite + serve only
};

// Loads the settings (file, environment, flags) and opens the store.
Status OpenHub(const Args& args, HubSetup* setup, bool serving = false) {
  Config& config = setup->config;
  auto data = args.Get("data");
  auto postgres = args.Get("postgres");
  auto file = args.Get("config");
  if (data) config.data_dir = *data;
  if (file) {
    if (!fs::exists(*file)) return Status::InvalidArgument("no such settings file: " + *file);
    RELAIS_RETURN_IF_ERROR(config.LoadFile(*file));
  } else if (data) {
    RELAIS_RETURN_IF_ERROR(config.LoadFile(config.data_dir / "relais.conf"));
  }
  RELAIS_RETURN_IF_ERROR(config.LoadEnvironment());
  if (postgres) RELAIS_RETURN_IF_ERROR(config.Set("hub_postgres", *postgres));
  if (auto listen = args.Get("listen")) RELAIS_RETURN_IF_ERROR(config.Set("listen", *listen));
  if (auto cert = args.Get("tls-cert")) RELAIS_RETURN_IF_ERROR(config.Set("tls_cert", *cert));
  if (auto key = args.Get("tls-key")) RELAIS_RETURN_IF_ERROR(config.Set("tls_key", *key));
  if (!data && config.hub_postgres.empty())
    return Status::InvalidArgument("give the store: --data DIR (SQLite) or --postgres URL");
  if (data && postgres) return Status::InvalidArgument("give --data DIR or --postgres URL, not both");
  RELAIS_RETURN_IF_ERROR(config.Validate());
  RELAIS_RETURN_IF_ERROR(core::InitCrypto());
  if (serving && config.hub_postgres.empty()) {
    // One SQLite gateway per folder; PostgreSQL gateways may run side by side.
    RELAIS_RETURN_IF_ERROR(core::MakeDirs(config.data_dir));
    auto lock = core::FileLock::Acquire(config.data_dir / "hub.lock");
    if (!lock.ok() && lock.status().code() == StatusCode::kConflict)
      return Status::Conflict("another relais-hub serve is already using " + config.data_dir.string());
    if (!lock.ok()) return lock.status();
    setup->lock = std::move(lock).value();
  }
  if (auto key_file = args.Get("key-file")) config.hub_key_file = *key_file;
  RELAIS_ASSIGN_OR_RETURN(setup->store, hub::OpenHubStore(config));
  RELAIS_ASSIGN_OR_RETURN(setup->identity, hub::LoadHubIdentity(config));
  setup->hub = std::make_unique<hub::Hub>(*setup->store, setup->clock, config, *setup->identity);
  return Status::Ok();
}

// Parses the arguments and opens the hub; on failure prints why and sets *exit_code.
std::optional<Args> ParseAndOpen(const std::vector<std::string>& argv, const std::vector<std::string>& with_value,
                                 HubSetup* setup, int* exit_code, bool serving = false) {
  auto args = Args::Parse(argv, With(with_value), {});
  if (!args.ok()) {
    *exit_code = Fail(args.status());
    return std::nullopt;
  }
  if (Status st = OpenHub(*args, setup, serving); !st.ok()) {
    *exit_code = Fail(st);
    return std::nullopt;
  }
  return std::move(args).value();
}

int HubServe(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) return Help(kServeHelp);
  sigset_t stop_signals = http::BlockStopSignals();
  HubSetup setup;
  int code = 0;
  auto args = ParseAndOpen(argv, {"listen", "tls-cert", "tls-key"}, &setup, &code, /*serving=*/true);
  if (!args) return code;
  std::string ent_key;
  if (!setup.config.hub_ent_key_file.empty()) {
    auto text = core::ReadFile(setup.config.hub_ent_key_file);
    if (!text.ok()) return Fail(text.status());
    ent_key = text->substr(0, text->find_first_of("\r\n"));
    if (ent_key.size() < 16) return Fail(Status::InvalidArgument("the ENT API key must be 16 characters or more"));
  }
  HubApi api(*setup.hub, setup.config, setup.clock, ent_key);
  http::EventServer http([&api](const httplib::Request& req, httplib::Response& res,
                                const httplib::ContentReader* reader) { api.Dispatch(req, res, reader); },
                         http::TransportOptions(setup.config));
  // HTTPS on `listen` when tls_cert and tls_key are set (boxes pin its key at enrolment).
  std::shared_ptr<const http::TlsContext> tls;
  if (!setup.config.tls_cert.empty()) {
    auto loaded = http::TlsContext::Load(setup.config.tls_cert, setup.config.tls_key, setup.clock.Now());
    if (!loaded.ok()) return Fail(loaded.status());
    tls = *loaded;
  }
  auto port = http.Bind(setup.config.listen_host, setup.config.listen_port, tls);
  if (!port.ok()) return Fail(port.status());
  std::string host = setup.config.listen_host;
  if (host == "0.0.0.0" || host == "::") host = "127.0.0.1";
  std::string url = std::string(tls ? "https://" : "http://") + host + ":" + std::to_string(*port);
  std::printf("Relais hub %s — store: %s\n", RELAIS_VERSION, setup.store->engine());
  std::printf("Listening on %s\n", url.c_str());
  std::fflush(stdout);
  core::LogEvent("hub.start", {{"url", url}, {"store", setup.store->engine()}, {"version", RELAIS_VERSION}});
  http::StopOnSignal(http, stop_signals);
  bool ok = http.Run();
  core::FlushLog();
  return ok ? 0 : 1;
}

int SchoolAdd(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) return Help(kSchoolAddHelp);
  HubSetup setup;
  int code = 0;
  auto args = ParseAndOpen(argv, {}, &setup, &code);
  if (!args) return code;
  if (args->positional().size() != 1) return Fail(Status::InvalidArgument("give the school's name"));
  auto school = setup.store->AddSchool(args->positional()[0], setup.clock.Now());
  if (!school.ok()) return Fail(school.status());
  std::printf("%s\n", school->id.c_str());
  return 0;
}

int SchoolList(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) return Help(kSchoolListHelp);
  HubSetup setup;
  int code = 0;
  auto args = ParseAndOpen(argv, {}, &setup, &code);
  if (!args) return code;
  auto schools = setup.store->ListSchools();
  if (!schools.ok()) return Fail(schools.status());
  for (const auto& s : *schools) std::printf("%s  %s\n", s.id.c_str(), s.name.c_str());
  return 0;
}

int EnrolCode(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) return Help(kEnrolCodeHelp);
  HubSetup setup;
  int code = 0;
  auto args = ParseAndOpen(argv, {"school", "count"}, &setup, &code);
  if (!args) return code;
  auto school = args->Get("school");
  if (!school) return Fail(Status::InvalidArgument("--school ID is required (see relais-hub school list)"));
  int count = 1;
  if (auto text = args->Get("count")) {
    char* end = nullptr;
    long n = std::strtol(text->c_str(), &end, 10);
    if (text->empty() || *end != '\0' || n < 1 || n > kMaxCodesAtOnce)
      return Fail(Status::InvalidArgument("--count must be from 1 to " + std::to_string(kMaxCodesAtOnce)));
    count = static_cast<int>(n);
  }
  int64_t expires_at = 0;
  for (int i = 0; i < count; ++i) {
    auto issued = setup.hub->IssueEnrolmentCode(*school);
    if (!issued.ok()) return Fail(issued.status());
    std::printf("%s\n", issued->code.c_str());
    expires_at = issued->expires_at;
  }
  std::fflush(stdout);
  std::fprintf(stderr, "%s, until %s\n", count == 1 ? "one box, once" : "each code: one box, once",
               core::FormatTime(expires_at).c_str());
  return 0;
}

int BoxList(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) return Help(kBoxListHelp);
  HubSetup setup;
  int code = 0;
  auto args = ParseAndOpen(argv, {"school"}, &setup, &code);
  if (!args) return code;
  auto school = args->Get("school");
  if (!school) return Fail(Status::InvalidArgument("--school ID is required"));
  auto boxes = setup.store->ListBoxes(*school);
  if (!boxes.ok()) return Fail(boxes.status());
  for (const auto& b : *boxes)
    std::printf("%s  enrolled %s%s\n", b.id.c_str(), core::FormatTime(b.enrolled_at).c_str(),
                b.revoked_at ? ("  revoked " + core::FormatTime(*b.revoked_at)).c_str() : "");
  return 0;
}

int Revoke(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) return Help(kRevokeHelp);
  HubSetup setup;
  int code = 0;
  auto args = ParseAndOpen(argv, {}, &setup, &code);
  if (!args) return code;
  if (args->positional().size() != 1) return Fail(Status::InvalidArgument("give the box's id"));
  auto version = setup.store->RevokeBox(args->positional()[0], setup.clock.Now());
  if (!version.ok()) return Fail(version.status());
  std::printf("revoked %s (revocation list version %lld)\n", args->positional()[0].c_str(),
              static_cast<long long>(*version));
  return 0;
}

constexpr const char* kImportHelp = R"(Usage: relais-hub import (--data DIR | --postgres URL) STICK

For each box that ran `relais sync export --to STICK`: ingests its bundles
(STICK/relais/<box>/to-gateway/), checks its signed statement of what it holds,
and writes the changes it lacks to STICK/relais/<box>/to-box/answer.bundle,
for `relais sync import --from STICK` on the box. Running it twice is harmless.
)";

// The sealed chunks a box wrote to the stick (DIR/<blob>/<index>.chunk):
// each opened with the school's manifest of its file and stored. A chunk that
// does not open (altered, cut, or of a file the gateway did not take) is
// refused and named; the others are kept.
Status ImportChunks(hub::Hub& hub, const hub::HubBox& box, const fs::path& dir, int64_t* refused_out) {
  std::error_code ec;
  int64_t stored = 0, refused = 0;
  for (const auto& file_dir : fs::directory_iterator(dir, ec)) {
    std::string blob = file_dir.path().filename().string();
    if (!file_dir.is_directory() || !sync::IsChunkId(blob)) continue;
    for (const auto& entry : fs::directory_iterator(file_dir.path(), ec)) {
      std::string name = entry.path().filename().string();
      char* end = nullptr;
      unsigned long index = std::strtoul(name.c_str(), &end, 10);
      if (entry.path().extension() != ".chunk" || end == name.c_str() || std::string(end) != ".chunk") continue;
      auto size = fs::file_size(entry.path(), ec);
      Status st = ec || size > uint64_t{sync::kMaxChunkBytes} + sync::kChunkOverheadBytes
                      ? Status::Corruption("larger than any chunk")
                      : Status::Ok();
      if (st.ok()) {
        RELAIS_ASSIGN_OR_RETURN(std::string sealed, core::ReadFile(entry.path()));
        st = hub::PutSealedChunk(hub.store(), box.school_id, blob, static_cast<uint32_t>(index), "", sealed);
      }
      if (st.ok()) {
        ++stored;
      } else if (st.code() == StatusCode::kIOError || st.code() == StatusCode::kInternal) {
        return st;
      } else {
        ++refused;
        std::fprintf(stderr, "relais: chunk %s refused: %s\n", entry.path().c_str(), st.message().c_str());
      }
    }
  }
  if (stored || refused)
    std::printf("  chunks: %lld stored, %lld refused\n", static_cast<long long>(stored),
                static_cast<long long>(refused));
  *refused_out = refused;
  return Status::Ok();
}

// One box's directory on a stick: ingest its bundles and chunks, answer its statement.
Status ImportBox(hub::Hub& hub, const fs::path& dir, const std::string& box_id) {
  RELAIS_ASSIGN_OR_RETURN(hub::HubBox box, hub.store().GetBox(box_id));
  if (box.revoked_at) return Status::PermissionDenied("box " + box_id + " is revoked");
  std::error_code ec;
  std::vector<fs::path> bundles;
  for (const auto& entry : fs::directory_iterator(dir / "to-gateway", ec))
    if (entry.path().extension() == ".bundle") bundles.push_back(entry.path());
  std::sort(bundles.begin(), bundles.end());
  for (const fs::path& file : bundles) {
    RELAIS_ASSIGN_OR_RETURN(auto source, sync::FileSource::Open(file));
    RELAIS_ASSIGN_OR_RETURN(hub::Hub::BundleOutcome outcome, hub.IngestBundle(box, *source));
    std::printf("  %s: %d new, %d already held\n", file.filename().c_str(), outcome.inserted, outcome.duplicates);
  }
  int64_t refused = 0;
  RELAIS_RETURN_IF_ERROR(ImportChunks(hub, box, dir / "to-gateway" / "chunks", &refused));
  RELAIS_ASSIGN_OR_RETURN(std::string statement, core::ReadFile(dir / "statement.json"));
  RELAIS_ASSIGN_OR_RETURN(std::string signature, core::ReadFile(dir / "statement.sig"));
  sync::FileNews files;
  RELAIS_ASSIGN_OR_RETURN(content::VersionVector have,
                          sync::VerifyStatement(statement, signature, box.sign_public_key, box.school_id, &files));
  sync::StringSink sink;
  std::vector<std::string> manifests;
  RELAIS_ASSIGN_OR_RETURN(int64_t count, hub.WriteAnswerBundle(box, have, &sink, files, &manifests));
  RELAIS_RETURN_IF_ERROR(core::MakeDirs(dir / "to-box"));
  RELAIS_RETURN_IF_ERROR(core::WriteFileAtomic(dir / "to-box" / "answer.bundle", sink.data()));
  std::printf("  answer: %lld changes for the box\n", static_cast<long long>(count));
  // The bytes of the files the answer gives the box: every chunk, sealed under the school's manifest.
  int64_t chunks = 0;
  for (const std::string& blob : manifests) {
    RELAIS_ASSIGN_OR_RETURN(sync::Manifest m, hub::SchoolManifest(hub.store(), box.school_id, blob));
    sync::DirChunkPeer stick(dir / "to-box" / "chunks");
    std::vector<uint32_t> all = sync::WantedChunks(m, [](const sync::ChunkHash&) { return false; });
    for (uint32_t index : all) {
      RELAIS_ASSIGN_OR_RETURN(std::string sealed, hub::SealedChunkOf(hub.store(), box.school_id, blob, index,
                                                                     sync::ChunkHashHex(m.chunks[index].hash)));
      RELAIS_RETURN_IF_ERROR(stick.Put(m, index, sealed));
      ++chunks;
    }
  }
  if (!manifests.empty())
    std::printf("  files: %zu for the box (%lld chunks written)\n", manifests.size(), static_cast<long long>(chunks));
  if (refused > 0)
    return Status::Corruption(std::to_string(refused) +
                              " chunks on the stick were refused (altered or cut): export "
                              "again from the box");
  return Status::Ok();
}

int Import(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) return Help(kImportHelp);
  HubSetup setup;
  int code = 0;
  auto args = ParseAndOpen(argv, {}, &setup, &code);
  if (!args) return code;
  if (args->positional().size() != 1) return Fail(Status::InvalidArgument("give the stick's directory"));
  fs::path root = fs::path(args->positional()[0]) / "relais";
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    return Fail(Status::NotFound("nothing to import: no " + root.string() + " (run relais sync export first)"));
  int failures = 0;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (!entry.is_directory()) continue;
    std::string box_id = entry.path().filename().string();
    std::printf("box %s\n", box_id.c_str());
    if (Status st = ImportBox(*setup.hub, entry.path(), box_id); !st.ok()) {
      std::fprintf(stderr, "relais: box %s: %s\n", box_id.c_str(), st.message().c_str());
      ++failures;
    }
  }
  return failures ? 1 : 0;
}

int Keygen(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) return std::fputs(kKeygenHelp, stdout), 0;
  auto args = Args::Parse(argv, {"key-file"}, {});
  if (!args.ok()) return Fail(args.status());
  auto file = args->Get("key-file");
  if (!file) return Fail(Status::InvalidArgument("--key-file PATH is required"));
  if (Status st = core::InitCrypto(); !st.ok()) return Fail(st);
  if (fs::exists(*file)) return Fail(Status::Conflict(*file + " exists: boxes pinned its key; not overwriting it"));
  auto identity = sync::Identity::Generate();
  if (Status st = identity->Save(*file); !st.ok()) return Fail(st);
  std::printf("gateway key %s written to %s\n", sync::KeyIdHex(identity->sign_key_id()).c_str(), file->c_str());
  return 0;
}

int RotateKey(const std::vector<std::string>& argv) {
  if (WantsHelp(argv)) return std::fputs(kRotateKeyHelp, stdout), 0;
  auto args = Args::Parse(argv, {"data", "key-file"}, {});
  if (!args.ok()) return Fail(args.status());
  Config config;
  if (auto data = args->Get("data")) {
    config.data_dir = *data;
    if (Status st = config.LoadFile(config.data_dir / "relais.conf"); !st.ok()) return Fail(st);
  } else if (!args->Get("key-file")) {
    return Fail(Status::InvalidArgument("give --data DIR or --key-file PATH"));
  }
  if (auto file = args->Get("key-file")) config.hub_key_file = *file;
  if (Status st = core::InitCrypto(); !st.ok()) return Fail(st);
  fs::path file = hub::HubKeyFile(config);
  auto identity = sync::Identity::Load(file);
  if (!identity.ok()) return Fail(identity.status());
  const sync::BoxKey& key = (*identity)->RotateBoxKey();
  if (Status st = (*identity)->Save(file); !st.ok()) return Fail(st);
  std::printf(
      "gateway encryption key rotated to epoch %u in %s (%zu keys kept for bundles in transit)\n"
      "Next: restart every relais-hub serve that uses it\n",
      key.epoch, file.c_str(), (*identity)->box_key_count());
  core::LogEvent("hub.key_rotated", {{"epoch", std::to_string(key.epoch)}});
  return 0;
}

}  // namespace

int RunCli(const std::vector<std::string>& argv) {
  std::string cmd = argv.empty() ? "" : argv[0];
  std::string sub = argv.size() > 1 ? argv[1] : "";
  std::vector<std::string> rest(argv.begin() + (argv.empty() ? 0 : 1), argv.end());
  std::vector<std::string> rest2(argv.begin() + std::min<size_t>(argv.size(), 2), argv.end());
  if (cmd.empty() || cmd == "--help" || cmd == "-h") {
    std::fputs(kHubUsage, cmd.empty() ? stderr : stdout);
    return cmd.empty() ? 2 : 0;
  }
  if (cmd == "serve") return HubServe(rest);
  if (cmd == "school" && sub == "add") return SchoolAdd(rest2);
  if (cmd == "school" && sub == "list") return SchoolList(rest2);
  if (cmd == "enrol-code") return EnrolCode(rest);
  if (cmd == "box" && sub == "list") return BoxList(rest2);
  if (cmd == "revoke") return Revoke(rest);
  if (cmd == "keygen") return Keygen(rest);
  if (cmd == "rotate-key") return RotateKey(rest);
  if (cmd == "import") return Import(rest);
  std::fprintf(stderr, "relais-hub: unknown command '%s'\n\n%s", cmd.c_str(), kHubUsage);
  return 2;
}

}  // namespace relais::hub

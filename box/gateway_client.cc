// box/gateway_client.cc — see gateway_client.h.
#include "box/gateway_client.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "box/gateway_files.h"
#include "core/crypto.h"
#include "core/files.h"
#include "sync/request_signing.h"

namespace relais::box {

using nlohmann::json;

namespace {

constexpr size_t kOpsPerBundle = 5000;
constexpr size_t kPatchBytes = 1 << 20;
constexpr uint64_t kRangeBytes = 1 << 20;  // bytes of the answer per GET
constexpr int kResumeAttempts = 5;

json VectorJson(const content::VersionVector& v) {
  json out = json::object();
  for (const auto& [origin, seq] : v) out[origin] = seq;
  return out;
}

void Say(const Progress& progress, const std::string& line) {
  if (progress) progress(line);
}

constexpr const char* kVerdictLost = "the upload ended but its verdict was lost";

// Sends `bundle` from byte `offset` to the upload at `target`, resumably: on
// a cut, asks the gateway where it stands and sends the rest, read from the
// source piece by piece (memory stays at one piece). Returns the gateway's
// verdict; NotFound(kVerdictLost) when the upload is gone after a cut (the
// gateway took the last byte, and may or may not have ingested the bundle).
Result<json> SendUpload(GatewayClient& gw, const std::string& target, const sync::ByteSource& bundle, uint64_t offset,
                        const Progress& progress) {
  const uint64_t length = bundle.size();
  int failures = 0;
  std::string piece;
  while (true) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kPatchBytes, length - offset));
    RELAIS_RETURN_IF_ERROR(bundle.ReadAt(offset, n, &piece));
    std::string at = std::to_string(offset);
    auto res = gw.client().Patch(target, gw.Signed("PATCH", target, at), piece.data(), n, "application/octet-stream");
    if (res && res->status == 200) {
      json verdict = json::parse(res->body, nullptr, false);
      if (verdict.is_discarded()) return Status::Corruption("the gateway's verdict is not JSON");
      return verdict;
    }
    if (res && res->status == 204) {
      offset += n;
      Say(progress, "  sent " + std::to_string(offset) + " / " + std::to_string(length) + " bytes");
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
    if (offset > length) return Status::Corruption("the gateway claims more bytes than the bundle has");
    Say(progress, "  resuming at byte " + std::to_string(offset));
  }
}

// Asks the gateway for an upload of `length` bytes; returns its target.
Result<std::string> CreateUpload(GatewayClient& gw, uint64_t length) {
  RELAIS_ASSIGN_OR_RETURN(json created,
                          gw.JsonOf(gw.client().Post("/hub/v1/uploads", gw.Signed("POST", "/hub/v1/uploads"),
                                                     json{{"length", length}}.dump(), "application/json"),
                                    "the upload"));
  std::string id = created.value("id", std::string());
  if (id.empty() || id.find_first_of("/?#") != std::string::npos)
    return Status::Corruption("the gateway's upload has no usable id");
  return "/hub/v1/uploads/" + id;
}

// Uploads `bundle` from its first byte (SendUpload).
Result<json> Upload(GatewayClient& gw, const sync::ByteSource& bundle, const Progress& progress) {
  RELAIS_ASSIGN_OR_RETURN(std::string target, CreateUpload(gw, bundle.size()));
  return SendUpload(gw, target, bundle, 0, progress);
}

// --- The upload in flight, kept across processes ---------------------------
// DATA/sync/outgoing/ holds the operations bundle being uploaded (`bundle`,
// fsynced before the upload is asked for) and, once the gateway named the
// upload, `upload`: {"version":1,"target":…,"length":…,"sha256":…}, written
// atomically. A round killed (or cut for good) mid-upload leaves both; the
// next round asks the gateway where that upload stands and sends the rest
// before anything else. Both go once the gateway gave its verdict, or when
// they cannot be used (the gateway forgot the upload, the file is damaged):
// the round then starts over from the journal, so nothing is lost, and the
// gateway ingests operations idempotently, so nothing is doubled.
constexpr const char* kKeptBundle = "bundle";
constexpr const char* kKeptRecord = "upload";
constexpr int kKeptVersion = 1;

std::filesystem::path OutgoingDir(const box::BoxSync& box) { return box.sync_dir() / "outgoing"; }

void DropKeptUpload(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::remove(dir / kKeptRecord, ec);  // the record first: a bundle alone is never resumed
  std::filesystem::remove_all(dir, ec);
}

Result<std::string> Sha256Hex(const sync::ByteSource& source) {
  core::Sha256Stream hash;
  std::string piece;
  for (uint64_t at = 0; at < source.size(); at += piece.size()) {
    RELAIS_RETURN_IF_ERROR(
        source.ReadAt(at, static_cast<size_t>(std::min<uint64_t>(kPatchBytes, source.size() - at)), &piece));
    if (piece.empty()) return Status::IOError("the bundle file was cut short");
    hash.Update(piece);
  }
  return hash.FinishHex();
}

// Records that `target` is the upload of DATA/sync/outgoing/bundle.
Status KeepUpload(const std::filesystem::path& dir, const std::string& target, const sync::ByteSource& bundle) {
  RELAIS_ASSIGN_OR_RETURN(std::string sha, Sha256Hex(bundle));
  json record = {{"version", kKeptVersion}, {"target", target}, {"length", bundle.size()}, {"sha256", sha}};
  return core::WriteFileAtomic(dir / kKeptRecord, record.dump() + "\n", 0600);
}

struct KeptUpload {
  std::string target;
  std::unique_ptr<sync::FileSource> bundle;
};

// The kept upload, checked: Corruption when its record is not one, or its
// bundle is gone or not the bytes the record names.
Result<KeptUpload> LoadKeptUpload(const std::filesystem::path& dir) {
  RELAIS_ASSIGN_OR_RETURN(std::string text, core::ReadFile(dir / kKeptRecord));
  json record = json::parse(text, nullptr, false);
  if (!record.is_object() || record.value("version", 0) != kKeptVersion || !record["target"].is_string() ||
      !record["length"].is_number_unsigned() || !record["sha256"].is_string() ||
      record["target"].get<std::string>().rfind("/hub/v1/uploads/", 0) != 0)
    return Status::Corruption("its record is damaged");
  auto bundle = sync::FileSource::Open(dir / kKeptBundle);
  if (!bundle.ok()) return Status::Corruption("its bundle is gone");
  if ((*bundle)->size() != record["length"].get<uint64_t>()) return Status::Corruption("its bundle has another size");
  RELAIS_ASSIGN_OR_RETURN(std::string sha, Sha256Hex(**bundle));
  if (sha != record["sha256"].get<std::string>()) return Status::Corruption("its bundle is damaged");
  return KeptUpload{record["target"].get<std::string>(), std::move(*bundle)};
}

// Finishes the upload a killed or cut round kept in `dir`, if any: sends
// only the bytes the gateway lacks. Adds the operations the gateway took to
// `report`. Ok when there is nothing (left) to resume, having started over
// when the upload cannot be resumed; an error when the gateway cannot be
// reached (the upload stays kept for the next round).
Status ResumeKeptUpload(GatewayClient& gw, const std::filesystem::path& dir, const Progress& progress,
                        RoundReport* report) {
  std::error_code ec;
  if (!std::filesystem::exists(dir / kKeptRecord, ec)) {
    DropKeptUpload(dir);  // a bundle written but never uploaded
    return Status::Ok();
  }
  auto kept = LoadKeptUpload(dir);
  if (!kept.ok()) {
    Say(progress,
        "The upload kept from an interrupted round cannot be used (" + kept.status().message() + "): starting over");
    DropKeptUpload(dir);
    return Status::Ok();
  }
  auto head = gw.client().Head(kept->target, gw.Signed("HEAD", kept->target));
  if (head && head->status == 404) {
    Say(progress, "The gateway no longer knows the upload kept from an interrupted round: starting over");
    DropKeptUpload(dir);
    return Status::Ok();
  }
  RELAIS_RETURN_IF_ERROR(gw.Check(head, "the kept upload's offset"));
  const uint64_t length = kept->bundle->size();
  uint64_t offset = std::strtoull(head->get_header_value("Upload-Offset").c_str(), nullptr, 10);
  if (offset > length || std::strtoull(head->get_header_value("Upload-Length").c_str(), nullptr, 10) != length) {
    Say(progress, "The gateway's upload is not the one kept from an interrupted round: starting over");
    DropKeptUpload(dir);
    return Status::Ok();
  }
  Say(progress,
      "Resuming the upload of an interrupted round at byte " + std::to_string(offset) + " / " + std::to_string(length));
  Result<json> verdict = SendUpload(gw, kept->target, *kept->bundle, offset, progress);
  if (verdict.ok()) {
    DropKeptUpload(dir);
    report->sent += verdict->value("inserted", int64_t{0}) + verdict->value("duplicates", int64_t{0});
    Say(progress, "  the gateway took " + std::to_string(verdict->value("inserted", 0)) + " new, " +
                      std::to_string(verdict->value("duplicates", 0)) + " already held");
    return Status::Ok();
  }
  // The gateway gave a verdict (lost on the way, or a refusal such as a
  // bundle too old): it deleted the upload. Hello tells what it lacks.
  if (verdict.status().message() == kVerdictLost || verdict.status().code() == StatusCode::kInvalidArgument) {
    Say(progress, "  " + verdict.status().message() + ": starting over");
    DropKeptUpload(dir);
    return Status::Ok();
  }
  return verdict.status();
}

// Downloads the stored answer `id` of `length` bytes into `file` by ranges of
// kRangeBytes. Each range's bytes go to the file as they arrive, so after a
// cut the next request starts at the file's size (5 attempts in a row).
Status DownloadAnswer(GatewayClient& gw, const std::string& id, uint64_t length, core::StreamingFile* file,
                      const Progress& progress) {
  const std::string target = "/hub/v1/answers/" + id;
  int failures = 0;
  while (file->size() < length) {
    const uint64_t from = file->size();
    const uint64_t last = std::min(length, from + kRangeBytes) - 1;
    httplib::Headers headers = gw.Signed("GET", target);
    headers.emplace("Range", "bytes=" + std::to_string(from) + "-" + std::to_string(last));
    bool accepted = false;
    std::string refusal;  // the body of an error answer
    Status written;
    auto res = gw.client().Get(
        target, headers,
        [&](const httplib::Response& r) {
          std::string range = r.get_header_value("Content-Range");
          accepted = (r.status == 206 && range.rfind("bytes " + std::to_string(from) + "-", 0) == 0) ||
                     (r.status == 200 && from == 0);
          return true;
        },
        [&](const char* data, size_t n) {
          if (!accepted) {
            refusal.append(data, std::min<size_t>(n, 4096 - std::min<size_t>(4096, refusal.size())));
            return true;
          }
          if (file->size() + n > length) {
            written = Status::Corruption("the gateway sent more bytes than the answer has");
            return false;
          }
          written = file->Append(std::string_view(data, n));
          return written.ok();
        });
    RELAIS_RETURN_IF_ERROR(written);
    if (res && !accepted) {
      res->body = refusal;
      Status st = gw.Check(res, "the answer");
      return st.ok() ? Status::Corruption("the gateway did not send the range asked for") : st;
    }
    if (res && file->size() == last + 1) {
      Say(progress, "  received " + std::to_string(file->size()) + " / " + std::to_string(length) + " bytes");
      continue;
    }
    // Cut (what arrived is in the file): ask again from where it stopped.
    if (++failures > kResumeAttempts) {
      if (!res) return gw.Check(res, "the answer");
      return Status::Corruption("the gateway's answer was cut short " + std::to_string(failures) + " times");
    }
    Say(progress, "  resuming the answer at byte " + std::to_string(file->size()));
  }
  return Status::Ok();
}

}  // namespace

void RoundCanceller::Cancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  if (client_) client_->stop();
}

bool RoundCanceller::cancelled() const {
  std::lock_guard lock(mu_);
  return cancelled_;
}

// Attaches a round's client to a canceller while the round runs.
class CancelScope {
 public:
  CancelScope(RoundCanceller* cancel, httplib::Client* client) : cancel_(cancel) {
    if (!cancel_) return;
    std::lock_guard lock(cancel_->mu_);
    cancel_->client_ = client;
  }
  ~CancelScope() {
    if (!cancel_) return;
    std::lock_guard lock(cancel_->mu_);
    cancel_->client_ = nullptr;
  }
  Status Check() const {
    return cancel_ && cancel_->cancelled() ? Status::Internal("the sync round was cancelled") : Status::Ok();
  }
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;

 private:
  RoundCanceller* cancel_;
};

GatewayClient::GatewayClient(const std::string& url, const sync::Identity* box, const core::Clock& clock,
                             const TlsPinCheck* tls)
    : url_(url), client_(url), box_(box), clock_(clock), tls_(tls) {
  client_.set_connection_timeout(10, 0);
  client_.set_read_timeout(120, 0);
  client_.set_write_timeout(120, 0);
}

Status GatewayClient::Connect() {
  int64_t local_now = clock_.Now();
  RELAIS_ASSIGN_OR_RETURN(json health, JsonOf(client_.Get("/hub/v1/health"), "GET /hub/v1/health"));
  if (!health.contains("time_s") || !health["time_s"].is_number_integer())
    return Status::Corruption(url_ + " does not look like a relais gateway");
  offset_ = health["time_s"].get<int64_t>() - local_now;
  return Status::Ok();
}

int64_t GatewayClient::GatewayTime() const { return clock_.Now() + offset_; }

httplib::Headers GatewayClient::Signed(const std::string& method, const std::string& target,
                                       const std::string& offset) {
  httplib::Headers h;
  for (const auto& [k, v] : sync::SignRequest(*box_, method, target, GatewayTime(), offset)) h.emplace(k, v);
  if (!offset.empty()) h.emplace("Upload-Offset", offset);
  return h;
}

Status GatewayClient::Check(const httplib::Result& res, const std::string& what) {
  if (!res && tls_ && tls_->mismatch())
    return Status::PermissionDenied("the gateway at " + url_ +
                                    " showed a TLS key that is not the one pinned at enrolment " + "(pinned sha256 " +
                                    tls_->trust().pin_sha256.substr(0, 16) + "…, shown " + tls_->seen().substr(0, 16) +
                                    "…): refused. If the gateway's key really changed, " + "enrol the box again");
  if (!res && res.error() == httplib::Error::SSLServerVerification)
    return Status::PermissionDenied("the gateway at " + url_ +
                                    " showed a certificate that does not verify (not signed by the CA given at "
                                    "enrolment, or not for this host name): refused");
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

Result<json> GatewayClient::JsonOf(const httplib::Result& res, const std::string& what) {
  RELAIS_RETURN_IF_ERROR(Check(res, what));
  json body = json::parse(res->body, nullptr, false);
  if (body.is_discarded()) return Status::Corruption("the gateway's answer to " + what + " is not JSON");
  return body;
}

Result<RoundReport> RunSyncRound(box::BoxSync& box, const std::string& url, const core::Clock& clock,
                                 const Progress& progress, RoundCanceller* cancel) {
  RELAIS_ASSIGN_OR_RETURN(GatewayTrust trust, LoadGatewayTrust(box.sync_dir()));
  RELAIS_RETURN_IF_ERROR(CheckGatewayUrl(url, trust.allow_plain_http));
  TlsPinCheck pin(std::move(trust), /*first_use=*/false);
  GatewayClient gw(url, &box.identity(), clock, &pin);
  RELAIS_RETURN_IF_ERROR(pin.Install(gw.client()));
  CancelScope scope(cancel, &gw.client());
  RELAIS_RETURN_IF_ERROR(scope.Check());
  RELAIS_RETURN_IF_ERROR(gw.Connect());
  // First the upload a killed or cut round left, if any: hello then counts it.
  RoundReport report;
  const std::filesystem::path outgoing = OutgoingDir(box);
  RELAIS_RETURN_IF_ERROR(ResumeKeptUpload(gw, outgoing, progress, &report));
  RELAIS_ASSIGN_OR_RETURN(content::VersionVector held, box.replica().Held());
  // What the gateway holds for the school (and the box's key epoch it knows).
  int64_t known_epoch = box.certified_key_epoch();
  auto hello = [&]() -> Result<content::VersionVector> {
    RELAIS_ASSIGN_OR_RETURN(json answer,
                            gw.JsonOf(gw.client().Post("/hub/v1/hello", gw.Signed("POST", "/hub/v1/hello"),
                                                       json{{"vector", VectorJson(held)}}.dump(), "application/json"),
                                      "hello"));
    content::VersionVector vector;
    if (answer.contains("vector") && answer["vector"].is_object())
      for (const auto& [origin, seq] : answer["vector"].items())
        if (seq.is_number_integer()) vector[origin] = seq.get<int64_t>();
    known_epoch = answer.value("box_key_epoch", known_epoch);
    return vector;
  };
  RELAIS_ASSIGN_OR_RETURN(content::VersionVector gateway, hello());
  Say(progress, "Connected to " + url + " (school " + box.school_scope() + ")");
  // A rotated encryption key the gateway does not know yet (`relais sync rotate-key`).
  if (known_epoch < box.key_epoch()) {
    auto told = gw.client().Post("/hub/v1/box-key", gw.Signed("POST", "/hub/v1/box-key"), box.KeyRotationRequest(),
                                 "application/json");
    RELAIS_RETURN_IF_ERROR(gw.Check(told, "the box's new encryption key"));
    RELAIS_RETURN_IF_ERROR(box.AdoptCertificate(told->body, gw.GatewayTime()));
    Say(progress, "The gateway now seals to the box's encryption key epoch " + std::to_string(box.key_epoch()));
  }
  // Bundles and the answer go through files here; what a killed round left is dropped.
  const std::filesystem::path tmp = box.sync_dir() / "tmp";
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);
  RELAIS_RETURN_IF_ERROR(core::MakeDirs(tmp));
  int verdicts_lost = 0;
  while (true) {
    RELAIS_RETURN_IF_ERROR(scope.Check());
    RELAIS_ASSIGN_OR_RETURN(std::vector<content::Op> ops, box.replica().OpsSince(gateway, kOpsPerBundle));
    if (ops.empty()) break;
    RELAIS_ASSIGN_OR_RETURN(auto file, core::StreamingFile::Create(tmp));
    sync::StreamingFileSink sink(file.get());
    RELAIS_ASSIGN_OR_RETURN(sync::BundleSummary summary, box.WriteBundle(ops, gw.GatewayTime(), &sink));
    Say(progress,
        "Sending " + std::to_string(ops.size()) + " changes (" + std::to_string(summary.bundle_bytes) + " bytes)");
    // Kept in DATA/sync/outgoing while it travels, so a killed round resumes it.
    DropKeptUpload(outgoing);
    RELAIS_RETURN_IF_ERROR(core::MakeDirs(outgoing));
    RELAIS_RETURN_IF_ERROR(file->CommitTo(outgoing / kKeptBundle));
    RELAIS_ASSIGN_OR_RETURN(auto bundle, sync::FileSource::Open(outgoing / kKeptBundle));
    RELAIS_ASSIGN_OR_RETURN(std::string target, CreateUpload(gw, bundle->size()));
    RELAIS_RETURN_IF_ERROR(KeepUpload(outgoing, target, *bundle));
    Result<json> uploaded = SendUpload(gw, target, *bundle, 0, progress);
    if (uploaded.ok() || uploaded.status().message() == kVerdictLost) DropKeptUpload(outgoing);
    if (!uploaded.ok() && uploaded.status().message() == kVerdictLost && ++verdicts_lost <= kResumeAttempts) {
      // Ask again what the gateway holds: the operations it took are not
      // sent twice, the ones it did not are sent again.
      Say(progress, std::string("  ") + kVerdictLost + ": asking the gateway what it holds");
      RELAIS_ASSIGN_OR_RETURN(gateway, hello());
      continue;
    }
    RELAIS_ASSIGN_OR_RETURN(json verdict, std::move(uploaded));
    for (const content::Op& op : ops) gateway[op.origin] = std::max(gateway[op.origin], op.seq);
    report.sent += static_cast<int64_t>(ops.size());
    Say(progress, "  the gateway took " + std::to_string(verdict.value("inserted", 0)) + " new, " +
                      std::to_string(verdict.value("duplicates", 0)) + " already held");
  }
  // Files' bytes: announce the box's files, send the chunks the gateway lacks (box/gateway_files.h).
  FilesReport files;
  auto upload = [&](const std::string& bundle) {
    sync::StringSource source(bundle);
    return Upload(gw, source, progress).status();
  };
  RELAIS_ASSIGN_OR_RETURN(sync::FileNews news, SendFiles(gw, box, upload, progress, &files));
  // The answer: stored by the gateway, downloaded by ranges into a file, applied from it.
  RELAIS_ASSIGN_OR_RETURN(held, box.replica().Held());
  RELAIS_RETURN_IF_ERROR(scope.Check());
  RELAIS_ASSIGN_OR_RETURN(
      json created, gw.JsonOf(gw.client().Post("/hub/v1/answers", gw.Signed("POST", "/hub/v1/answers"),
                                               json{{"vector", VectorJson(held)}, {"files", FileNewsJson(news)}}.dump(),
                                               "application/json"),
                              "the answer"));
  std::string id = created.value("id", std::string());
  int64_t length = created.value("length", int64_t{0});
  if (id.empty() || length <= 0) return Status::Corruption("the gateway's answer has no id or length");
  RELAIS_ASSIGN_OR_RETURN(auto answer, core::StreamingFile::Create(tmp));
  RELAIS_RETURN_IF_ERROR(DownloadAnswer(gw, id, static_cast<uint64_t>(length), answer.get(), progress));
  RELAIS_RETURN_IF_ERROR(scope.Check());
  RELAIS_ASSIGN_OR_RETURN(auto source, sync::FileSource::Open(answer->path()));
  std::vector<sync::Record> file_records;
  RELAIS_ASSIGN_OR_RETURN(sync::ApplyReport applied, box.ApplyBundle(*source, gw.GatewayTime(), &file_records));
  std::string answer_target = "/hub/v1/answers/" + id;
  (void)gw.client().Delete(answer_target, gw.Signed("DELETE", answer_target));  // else it expires
  Say(progress, "Received " + std::to_string(applied.received) + " changes (" + std::to_string(applied.new_ops) +
                    " new, " + std::to_string(applied.rows_written) + " rows written, " +
                    std::to_string(applied.pending) + " waiting, " + std::to_string(applied.conflicts) + " conflicts)");
  RELAIS_RETURN_IF_ERROR(FetchFiles(gw, box, file_records, progress, &files));
  RELAIS_RETURN_IF_ERROR(box.RecordSuccess(clock.Now(), gateway[box.replica().origin()]));
  report.received = applied.received;
  report.new_ops = applied.new_ops;
  report.chunks_sent = files.sent.chunks;
  report.chunk_bytes_sent = files.sent.bytes;
  report.chunks_fetched = files.fetched.chunks;
  return report;
}

}  // namespace relais::box

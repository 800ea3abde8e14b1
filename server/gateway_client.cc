// server/gateway_client.cc — see gateway_client.h.
#include "server/gateway_client.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "server/gateway_files.h"
#include "sync/hub_auth.h"

namespace relais::server {

using nlohmann::json;

namespace {

constexpr size_t kOpsPerBundle = 5000;
constexpr size_t kPatchBytes = 1 << 20;
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

// Uploads a bundle resumably: on a cut, asks the gateway where it stands and
// sends the rest. Returns the gateway's verdict; NotFound(kVerdictLost) when
// the upload is gone after a cut (the gateway took the last byte, and may or
// may not have ingested the bundle).
Result<json> Upload(GatewayClient& gw, const std::string& bundle, const Progress& progress) {
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
      Say(progress, "  sent " + std::to_string(offset) + " / " + std::to_string(bundle.size()) + " bytes");
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
    Say(progress, "  resuming at byte " + std::to_string(offset));
  }
}

}  // namespace

GatewayClient::GatewayClient(const std::string& url, const sync::Identity* box, const core::Clock& clock)
    : url_(url), client_(url), box_(box), clock_(clock) {
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

Result<RoundReport> RunSyncRound(sync::BoxSync& box, const std::string& url, const core::Clock& clock,
                                 const Progress& progress) {
  GatewayClient gw(url, &box.identity(), clock);
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
  Say(progress, "Connected to " + url + " (school " + box.school_scope() + ")");
  RoundReport report;
  int verdicts_lost = 0;
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(std::vector<content::Op> ops, box.replica().OpsSince(gateway, kOpsPerBundle));
    if (ops.empty()) break;
    sync::StringSink sink;
    RELAIS_ASSIGN_OR_RETURN(sync::BundleSummary summary, box.WriteBundle(ops, gw.GatewayTime(), &sink));
    Say(progress,
        "Sending " + std::to_string(ops.size()) + " changes (" + std::to_string(summary.bundle_bytes) + " bytes)");
    Result<json> uploaded = Upload(gw, sink.data(), progress);
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
  // Files' bytes: announce the box's files, send the chunks the gateway lacks (server/gateway_files.h).
  FilesReport files;
  auto upload = [&](const std::string& bundle) { return Upload(gw, bundle, progress).status(); };
  RELAIS_ASSIGN_OR_RETURN(sync::FileNews news, SendFiles(gw, box, upload, progress, &files));
  RELAIS_ASSIGN_OR_RETURN(held, box.replica().Held());
  auto answer =
      gw.client().Post("/hub/v1/answer", gw.Signed("POST", "/hub/v1/answer"),
                       json{{"vector", VectorJson(held)}, {"files", FileNewsJson(news)}}.dump(), "application/json");
  RELAIS_RETURN_IF_ERROR(gw.Check(answer, "the answer"));
  sync::StringSource source(answer->body);
  std::vector<sync::Record> file_records;
  RELAIS_ASSIGN_OR_RETURN(sync::ApplyReport applied, box.ApplyBundle(source, gw.GatewayTime(), &file_records));
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

}  // namespace relais::server

#include "hub/api.h"

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>

#include "core/crypto.h"
#include "core/files.h"
#include "core/log.h"
#include "hub/auth.h"
#include "hub/ent_upload.h"
#include "hub/files.h"
#include "sync/op_codec.h"

namespace relais::hub {

namespace {
constexpr uint64_t kMaxEnrolmentBytes = 64 << 10;
constexpr uint64_t kMaxChunkBytes = 16 << 20;
constexpr uint64_t kMaxPublishBytes = 16 << 20;  // a whole school's roster and course material
constexpr int64_t kMaxAnswerRange = 4 << 20;     // bytes of an answer per GET
constexpr int kMaxPage = 1000;
constexpr const char* kOctets = "application/octet-stream";
}  // namespace

const std::vector<HubApi::Route>& HubApi::Routes() {
  static const std::vector<Route> kRoutes = {
      {"GET", "/hub/v1/health", Access::kPublic, &HubApi::Health},
      {"POST", "/hub/v1/enrol", Access::kPublic, &HubApi::Enrol},
      {"GET", "/hub/v1/revocations", Access::kPublic, &HubApi::Revocations},
      {"GET", "/hub/v1/gateway", Access::kPublic, &HubApi::GatewayCertificate},
      {"POST", "/hub/v1/hello", Access::kBox, &HubApi::Hello},
      {"POST", "/hub/v1/answer", Access::kBox, &HubApi::Answer},
      {"POST", "/hub/v1/answers", Access::kBox, &HubApi::CreateAnswer},
      {"POST", "/hub/v1/box-key", Access::kBox, &HubApi::RotateBoxKey},
      {"GET", "/hub/v1/answers/:id", Access::kBox, &HubApi::GetAnswer},
      {"DELETE", "/hub/v1/answers/:id", Access::kBox, &HubApi::DeleteAnswer},
      {"POST", "/hub/v1/uploads", Access::kBox, &HubApi::CreateUpload},
      {"HEAD", "/hub/v1/uploads/:id", Access::kBox, &HubApi::UploadOffset},
      {"PATCH", "/hub/v1/uploads/:id", Access::kBox, &HubApi::PatchUpload},
      {"POST", "/hub/v1/chunks/missing", Access::kBox, &HubApi::MissingChunks},
      {"PUT", "/hub/v1/chunks/:id", Access::kBox, &HubApi::PutChunk},
      {"GET", "/hub/v1/chunks/:id", Access::kBox, &HubApi::GetChunk},
      {"GET", "/hub/v1/ent/schools", Access::kEnt, &HubApi::EntSchools},
      {"GET", "/hub/v1/ent/schools/:id/changes", Access::kEnt, &HubApi::EntChanges},
      {"GET", "/hub/v1/ent/schools/:id/files/:sha256", Access::kEnt, &HubApi::EntFile},
      {"POST", "/hub/v1/ent/schools/:id/files", Access::kEnt, &HubApi::EntUploadFile},
      {"POST", "/hub/v1/ent/schools/:id/publish", Access::kEnt, &HubApi::EntPublish},
  };
  return kRoutes;
}

HubApi::HubApi(hub::Hub& hub, const Config& config, const core::Clock& clock, std::string ent_key)
    : hub_(hub),
      config_(config),
      clock_(clock),
      ent_key_(std::move(ent_key)),
      router_(
          *this, Routes(),
          {.access_event = "hub.request",
           .exception_event = "hub.exception",
           .internal_message = "internal error; the details are in the gateway's log",
           .caller_field = "box",
           .redacted_prefixes = {}},
          [this](const Route& route, Call& call) { return Authenticate(route, call); },
          [](const Call& call) { return call.box.id; }) {}

void HubApi::Dispatch(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) {
  router_.Dispatch(req, res, reader);
  if (!res.has_header("Cache-Control")) res.set_header("Cache-Control", "no-store");
}

// A box's signed request (hub/auth.h) or the ENT's bearer key, checked before
// any body is read.
bool HubApi::Authenticate(const Route& route, Call& call) {
  const httplib::Request& req = call.req;
  if (route.access == Access::kBox) {
    auto box = hub::VerifyRequest(hub_.store(), req.method, req.target, req.get_header_value("Relais-Box"),
                                  req.get_header_value("Relais-Time"), req.get_header_value("Relais-Signature"),
                                  req.get_header_value("Upload-Offset"), clock_.Now());
    if (!box.ok()) {
      call.res.set_header("Relais-Gateway-Time", std::to_string(clock_.Now()));
      http::WriteError(call.res, box.status());
      return false;
    }
    call.box = std::move(box).value();
  } else if (route.access == Access::kEnt) {
    std::string auth = req.get_header_value("Authorization");
    bool ok = !ent_key_.empty() && auth.rfind("Bearer ", 0) == 0 && core::ConstantTimeEqual(auth.substr(7), ent_key_);
    if (!ok) {
      http::WriteError(call.res, Status::Unauthenticated("the ENT API needs Authorization: Bearer <API key>"));
      return false;
    }
  }
  return true;
}

Result<std::string> HubApi::RawBody(Call& c, uint64_t limit) {
  if (!c.reader) return Status::InvalidArgument("the request needs a body");
  std::string body;
  bool too_large = false;
  bool ok = (*c.reader)([&](const char* data, size_t n) {
    if (body.size() + n > limit) {
      too_large = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (too_large) return Status::TooLarge("the body is over " + std::to_string(limit) + " bytes");
  if (!ok) return Status::InvalidArgument("the body was cut");
  return body;
}

void HubApi::Health(Call& c) {
  http::WriteJson(c.res, {{"status", "ok"},
                          {"version", RELAIS_VERSION},
                          {"store", hub_.store().engine()},
                          {"gateway_key", sync::KeyIdHex(hub_.identity().sign_key_id())},
                          {"time", core::FormatTime(clock_.Now())},
                          {"time_s", clock_.Now()}});
}

void HubApi::Enrol(Call& c) {
  auto request = RawBody(c, kMaxEnrolmentBytes);
  if (!request.ok()) return http::WriteError(c.res, request.status());
  auto response = hub_.Enrol(*request);
  if (!response.ok()) {
    core::LogEvent("hub.enrol_refused", {{"reason", response.status().message()}, {"addr", c.req.remote_addr}});
    return http::WriteError(c.res, response.status());
  }
  core::LogEvent("hub.enrolled", {{"addr", c.req.remote_addr}});
  c.res.status = 200;
  c.res.set_content(*response, kOctets);
}

void HubApi::Revocations(Call& c) {
  auto list = hub_.SignedRevocations();
  if (!list.ok()) return http::WriteError(c.res, list.status());
  c.res.set_content(sync::EncodeRevocationList(*list), kOctets);
}

void HubApi::GatewayCertificate(Call& c) {
  auto cert = hub_.GatewayCertificate();
  if (!cert.ok()) return http::WriteError(c.res, cert.status());
  c.res.set_content(sync::EncodeCertificate(*cert), kOctets);
}

// The optional {"vector":{"<origin>":<seq>,…}} of a hello or answer request,
// and the answer's optional {"files":{"have":[…],"want":[…]}}.
Result<hub::VersionVector> HubApi::BodyVector(Call& c, sync::FileNews* files) {
  auto body = c.reader ? http::ReadJsonBody(c.req, *c.reader, config_.max_json_bytes) : Result<json>(json::object());
  if (!body.ok()) return body.status();
  hub::VersionVector have;
  if (body->contains("vector")) {
    const json& v = (*body)["vector"];
    if (!v.is_object()) return Status::InvalidArgument("vector must be an object");
    for (const auto& [origin, seq] : v.items()) {
      if (!seq.is_number_integer()) return Status::InvalidArgument("vector values are integers");
      have[origin] = seq.get<int64_t>();
    }
  }
  if (files && body->contains("files")) {
    const json& f = (*body)["files"];
    if (!f.is_object()) return Status::InvalidArgument("files must be an object");
    for (auto [key, list] : {std::pair{"have", &files->have}, std::pair{"want", &files->want}}) {
      auto ids = http::OptionalStringList(f, key, sync::kMaxFileNews);
      if (!ids.ok()) return ids.status();
      if (!*ids) continue;
      for (const std::string& id : **ids)
        if (!sync::IsChunkId(id)) return Status::InvalidArgument("a file id is 64 lower-case hex");
      *list = std::move(**ids);
    }
  }
  return have;
}

void HubApi::Hello(Call& c) {
  auto have = BodyVector(c);
  if (!have.ok()) return http::WriteError(c.res, have.status());
  const std::string& school = c.box.school_id;
  auto vector = hub_.store().SchoolVector(school);
  if (!vector.ok()) return http::WriteError(c.res, vector.status());
  auto head = hub_.store().FeedHead(school);
  if (!head.ok()) return http::WriteError(c.res, head.status());
  auto revocations = hub_.store().Revocations();
  if (!revocations.ok()) return http::WriteError(c.res, revocations.status());
  auto pending = hub_.store().OpsNotCoveredBy(school, *have, 0, 1);
  if (!pending.ok()) return http::WriteError(c.res, pending.status());
  json gateway_vector = json::object();
  for (const auto& [origin, seq] : *vector) gateway_vector[origin] = seq;
  http::WriteJson(c.res, {{"box", c.box.id},
                          {"school", school},
                          {"vector", gateway_vector},
                          {"feed_head", *head},
                          {"box_lacks_operations", !pending->empty()},
                          {"revocation_version", revocations->version},
                          {"box_key_epoch", c.box.enc_key_epoch},
                          {"time", core::FormatTime(clock_.Now())},
                          {"time_s", clock_.Now()}});
}

// The operations the box lacks, given its vector, in one bundle sealed to it.
void HubApi::Answer(Call& c) {
  sync::FileNews files;
  auto have = BodyVector(c, &files);
  if (!have.ok()) return http::WriteError(c.res, have.status());
  sync::StringSink sink;
  auto count = hub_.WriteAnswerBundle(c.box, *have, &sink, files);
  if (!count.ok()) return http::WriteError(c.res, count.status());
  c.res.status = 200;
  c.res.set_header("Relais-Operations", std::to_string(*count));
  c.res.set_content(std::move(sink.data()), kOctets);
}

// The box's new encryption key, signed by the box: answered with the box's
// new certificate carrying it.
void HubApi::RotateBoxKey(Call& c) {
  auto body = RawBody(c, kMaxEnrolmentBytes);
  if (!body.ok()) return http::WriteError(c.res, body.status());
  auto cert = hub_.RotateBoxKey(c.box, *body);
  if (!cert.ok()) return http::WriteError(c.res, cert.status());
  core::LogEvent("hub.box_key_rotated", {{"box", c.box.id}});
  c.res.status = 200;
  c.res.set_content(*cert, kOctets);
}

// The answer, stored (hub/uploads.h), so that any gateway process can
// serve its ranges.
void HubApi::CreateAnswer(Call& c) {
  sync::FileNews files;
  auto have = BodyVector(c, &files);
  if (!have.ok()) return http::WriteError(c.res, have.status());
  auto answer = hub_.uploads().StoreAnswer(c.box, *have, files);
  if (!answer.ok()) return http::WriteError(c.res, answer.status());
  c.res.set_header("Location", "/hub/v1/answers/" + answer->id);
  http::WriteJson(c.res, {{"id", answer->id}, {"length", answer->length}, {"operations", answer->operations}}, 201);
}

// `Range: bytes=A-` or `bytes=A-B` (one range); without it, from byte 0. At
// most kMaxAnswerRange bytes per answer: 206 with Content-Range whenever the
// bytes are not the whole answer.
void HubApi::GetAnswer(Call& c) {
  auto answer = hub_.uploads().FindAnswer(c.box, c.params[0]);
  if (!answer.ok()) return http::WriteError(c.res, answer.status());
  int64_t first = 0;
  int64_t last = answer->length - 1;
  std::string range = c.req.get_header_value("Range");
  if (!range.empty()) {
    std::string_view r = range;
    size_t dash = r.find('-');
    char* end = nullptr;
    std::string from(r.rfind("bytes=", 0) == 0 && dash != std::string_view::npos ? r.substr(6, dash - 6) : "");
    first = std::strtoll(from.c_str(), &end, 10);
    if (from.empty() || *end != '\0' || first < 0)
      return http::WriteError(c.res, Status::InvalidArgument("Range must be bytes=FIRST- or bytes=FIRST-LAST"));
    std::string to(r.substr(dash + 1));
    if (!to.empty()) {
      last = std::min(last, static_cast<int64_t>(std::strtoll(to.c_str(), &end, 10)));
      if (*end != '\0' || last < first)
        return http::WriteError(c.res, Status::InvalidArgument("Range must be bytes=FIRST- or bytes=FIRST-LAST"));
    }
    if (first >= answer->length) {
      c.res.set_header("Content-Range", "bytes */" + std::to_string(answer->length));
      return http::WriteError(c.res, 416, "range_not_satisfiable",
                              "the answer is " + std::to_string(answer->length) + " bytes long");
    }
  }
  last = std::min(last, first + kMaxAnswerRange - 1);
  bool whole = first == 0 && last == answer->length - 1;
  c.res.status = whole ? 200 : 206;
  if (!whole)
    c.res.set_header("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
                                          std::to_string(answer->length));
  c.res.set_header("Accept-Ranges", "bytes");
  // Streamed from the store, from the part holding byte `first` (no earlier
  // part is read), at most one part per call: memory stays at one part. A
  // part missing or short ends the connection early; the box asks again.
  c.res.set_content_provider(
      static_cast<size_t>(last - first + 1), kOctets,
      [uploads = &hub_.uploads(), answer = *answer, first](size_t offset, size_t length, httplib::DataSink& sink) {
        int64_t from = first + static_cast<int64_t>(offset);
        int64_t to = from + static_cast<int64_t>(std::min<size_t>(length, hub::kUploadPieceBytes));
        bool wrote = false;
        Status st = uploads->ReadAnswer(answer, from, to, [&](std::string_view bytes) {
          wrote = sink.write(bytes.data(), bytes.size());
          return wrote ? Status::Ok() : Status::IOError("the connection is gone");
        });
        return st.ok() && wrote;
      });
}

// The box has applied the answer: forget it (else it goes with the stale ones).
void HubApi::DeleteAnswer(Call& c) {
  Status st = hub_.uploads().DeleteAnswer(c.box, c.params[0]);
  if (!st.ok()) return http::WriteError(c.res, st);
  c.res.status = 204;
}

void HubApi::CreateUpload(Call& c) {
  auto body = c.reader ? http::ReadJsonBody(c.req, *c.reader, config_.max_json_bytes)
                       : Result<json>(Status::InvalidArgument("the request needs a JSON body"));
  if (!body.ok()) return http::WriteError(c.res, body.status());
  if (!body->contains("length") || !(*body)["length"].is_number_integer())
    return http::WriteError(c.res, Status::InvalidArgument("length must be a whole number of bytes above 0"));
  if (body->value("kind", std::string("bundle")) != "bundle")
    return http::WriteError(c.res, Status::InvalidArgument("kind must be \"bundle\""));
  auto upload = hub_.uploads().Create(c.box, (*body)["length"].get<int64_t>());
  if (!upload.ok()) return http::WriteError(c.res, upload.status());
  c.res.set_header("Location", "/hub/v1/uploads/" + upload->id);
  c.res.set_header("Upload-Offset", "0");
  http::WriteJson(c.res, {{"id", upload->id}, {"offset", 0}, {"length", upload->length}}, 201);
}

void HubApi::UploadOffset(Call& c) {
  auto upload = hub_.uploads().Find(c.box, c.params[0]);
  if (!upload.ok()) return http::WriteError(c.res, upload.status());
  c.res.status = 200;
  c.res.set_header("Upload-Offset", std::to_string(upload->offset));
  c.res.set_header("Upload-Length", std::to_string(upload->length));
}

// tus-like (hub/uploads.h runs the protocol): the body goes in at
// Upload-Offset and streams into the store; the answer always says the
// offset to resume at, and the PATCH that brings the last byte the verdict.
void HubApi::PatchUpload(Call& c) {
  std::string offset_text = c.req.get_header_value("Upload-Offset");
  char* end = nullptr;
  long long offset = std::strtoll(offset_text.c_str(), &end, 10);
  if (offset_text.empty() || *end != '\0' || offset < 0) {
    // An unknown upload is 404 whatever the header says.
    if (auto upload = hub_.uploads().Find(c.box, c.params[0]); !upload.ok())
      return http::WriteError(c.res, upload.status());
    return http::WriteError(c.res, Status::InvalidArgument("Upload-Offset must be the byte offset to write at"));
  }
  hub::BodySource body;
  if (c.reader)
    body = [reader = c.reader](const std::function<bool(std::string_view)>& piece) {
      return (*reader)([&](const char* data, size_t n) { return piece(std::string_view(data, n)); });
    };
  hub::UploadAppend appended = hub_.uploads().Append(c.box, c.params[0], offset, body);
  if (appended.offset) c.res.set_header("Upload-Offset", std::to_string(*appended.offset));
  if (!appended.status.ok()) return http::WriteError(c.res, appended.status);
  if (!appended.complete) {
    c.res.status = 204;
    return;
  }
  http::WriteJson(c.res, {{"offset", *appended.offset},
                          {"complete", true},
                          {"records", appended.records},
                          {"inserted", appended.inserted},
                          {"duplicates", appended.duplicates}});
}

void HubApi::MissingChunks(Call& c) {
  auto body = c.reader ? http::ReadJsonBody(c.req, *c.reader, config_.max_json_bytes)
                       : Result<json>(Status::InvalidArgument("the request needs a JSON body"));
  if (!body.ok()) return http::WriteError(c.res, body.status());
  auto ids = http::OptionalStringList(*body, "ids", 10000);
  if (!ids.ok()) return http::WriteError(c.res, ids.status());
  if (!*ids) return http::WriteError(c.res, Status::InvalidArgument("ids is required"));
  for (const std::string& id : **ids)
    if (!sync::IsChunkId(id))
      return http::WriteError(c.res, Status::InvalidArgument("a chunk id is 64 lower-case hex"));
  auto missing = hub_.store().MissingChunks(**ids);
  if (!missing.ok()) return http::WriteError(c.res, missing.status());
  http::WriteJson(c.res, {{"missing", *missing}});
}

namespace {
// The ?blob=<sha256 hex>&index=<n> naming which file's chunk a request is about.
Result<std::pair<std::string, uint32_t>> ChunkPlace(const httplib::Request& req) {
  std::string blob = req.get_param_value("blob");
  std::string index_text = req.get_param_value("index");
  char* end = nullptr;
  unsigned long long index = std::strtoull(index_text.c_str(), &end, 10);
  if (!sync::IsChunkId(blob) || index_text.empty() || *end != '\0' || index > UINT32_MAX)
    return Status::InvalidArgument("name the file and the chunk's place in it: ?blob=<sha256 hex>&index=<n>");
  return std::pair{blob, static_cast<uint32_t>(index)};
}
}  // namespace

// The body is the chunk sealed under the school's manifest of the file
// (sync-format.md, "File chunks"): the gateway opens it, checks it is the
// manifest's chunk at that index, and stores the plaintext under its hash. A
// file nobody announced has no manifest: its chunks are refused.
void HubApi::PutChunk(Call& c) {
  if (!sync::IsChunkId(c.params[0]))
    return http::WriteError(c.res, Status::InvalidArgument("a chunk id is 64 lower-case hex"));
  auto place = ChunkPlace(c.req);
  if (!place.ok()) return http::WriteError(c.res, place.status());
  auto bytes = RawBody(c, kMaxChunkBytes);
  if (!bytes.ok()) return http::WriteError(c.res, bytes.status());
  Status st = hub::PutSealedChunk(hub_.store(), c.box.school_id, place->first, place->second, c.params[0], *bytes);
  if (!st.ok()) return http::WriteError(c.res, st);
  http::WriteJson(c.res, {{"id", c.params[0]}, {"size", bytes->size()}}, 201);
}

// The chunk sealed under the school's manifest of the file.
void HubApi::GetChunk(Call& c) {
  auto place = ChunkPlace(c.req);
  if (!place.ok()) return http::WriteError(c.res, place.status());
  auto bytes = hub::SealedChunkOf(hub_.store(), c.box.school_id, place->first, place->second, c.params[0]);
  if (!bytes.ok()) return http::WriteError(c.res, bytes.status());
  c.res.set_content(*bytes, kOctets);
}

void HubApi::EntSchools(Call& c) {
  auto schools = hub_.store().ListSchools();
  if (!schools.ok()) return http::WriteError(c.res, schools.status());
  json out = json::array();
  for (const auto& s : *schools) {
    auto head = hub_.store().FeedHead(s.id);
    out.push_back({{"id", s.id}, {"name", s.name}, {"cursor", head.ok() ? *head : 0}});
  }
  http::WriteJson(c.res, {{"schools", out}});
}

// The school's changes after a cursor (a feed number), in order. The cursor
// of the last change is the next call's `after`: nothing is skipped, even
// with many gateways writing (hub/store.h).
void HubApi::EntChanges(Call& c) {
  auto school = hub_.store().GetSchool(c.params[0]);
  if (!school.ok()) return http::WriteError(c.res, school.status());
  int64_t after = 0;
  int limit = 100;
  if (c.req.has_param("after")) {
    std::string v = c.req.get_param_value("after");
    char* end = nullptr;
    after = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || after < 0)
      return http::WriteError(c.res, Status::InvalidArgument("after must be a cursor (a whole number)"));
  }
  if (c.req.has_param("limit")) {
    std::string v = c.req.get_param_value("limit");
    char* end = nullptr;
    long long n = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < 1 || n > kMaxPage)
      return http::WriteError(c.res, Status::InvalidArgument("limit must be from 1 to 1000"));
    limit = static_cast<int>(n);
  }
  auto ops = hub_.store().OpsAfterFeed(school->id, after, limit);
  if (!ops.ok()) return http::WriteError(c.res, ops.status());
  json changes = json::array();
  for (const hub::HubOp& op : *ops) {
    json change = {{"cursor", op.feed}, {"origin", op.origin}, {"seq", op.seq}, {"hlc", op.hlc}};
    // A journal operation reads as the row it changes; anything else as hex.
    if (auto decoded = sync::DecodeOp(op.record); decoded.ok()) {
      static constexpr const char* kKinds[] = {"", "insert", "update", "delete"};
      change["table"] = decoded->table;
      change["op"] = kKinds[static_cast<int>(decoded->kind)];
      change["key"] = json::parse(content::KeyJson(decoded->key));
      change["columns"] = json::parse(content::ColumnsJson(decoded->columns));
      // A file's bytes: whether GET …/files/<sha256> can serve them yet.
      if (auto blob = hub::FileBlobOfOp(*decoded)) {
        auto missing = hub::MissingChunksOfFile(hub_.store(), school->id, *blob);
        change["file"] = {{"sha256", *blob},
                          {"bytes_available", missing.ok() && missing->empty()},
                          {"url", "/hub/v1/ent/schools/" + school->id + "/files/" + *blob}};
      }
    } else {
      change["record_hex"] = core::ToHex(op.record);
    }
    changes.push_back(std::move(change));
  }
  http::WriteJson(c.res, {{"school", school->id},
                          {"changes", changes},
                          {"next", ops->empty() ? after : ops->back().feed},
                          {"more", static_cast<int>(ops->size()) == limit}});
}

// The bytes of a school's file, assembled from its chunks as they are sent
// (one chunk in memory at a time). 404 until every chunk has arrived.
void HubApi::EntFile(Call& c) {
  auto school = hub_.store().GetSchool(c.params[0]);
  if (!school.ok()) return http::WriteError(c.res, school.status());
  const std::string& blob = c.params[1];
  if (!sync::IsChunkId(blob)) return http::WriteError(c.res, Status::NotFound("no such file"));
  auto manifest = hub::SchoolManifest(hub_.store(), school->id, blob);
  if (!manifest.ok() && manifest.status().code() == StatusCode::kNotFound)
    return http::WriteError(c.res, Status::NotFound("the school's boxes have not sent this file yet"));
  if (!manifest.ok()) return http::WriteError(c.res, manifest.status());
  auto missing = hub_.store().MissingChunks(hub::ChunkIdsOf(*manifest));
  if (!missing.ok()) return http::WriteError(c.res, missing.status());
  if (!missing->empty())
    return http::WriteError(c.res, Status::NotFound("the file's bytes are still arriving (" +
                                                    std::to_string(missing->size()) + " chunks missing)"));
  struct Cursor {
    sync::Manifest manifest;
    size_t index = 0;    // the chunk held in `bytes`
    uint64_t start = 0;  // its offset in the file
    std::string bytes;
  };
  auto cursor = std::make_shared<Cursor>();
  cursor->manifest = std::move(manifest).value();
  cursor->index = SIZE_MAX;
  hub::HubStore& store = hub_.store();
  c.res.set_header("ETag", "\"" + blob + "\"");
  c.res.set_header("Cache-Control", "private, max-age=31536000, immutable");
  c.res.set_content_provider(cursor->manifest.size, kOctets,
                             [cursor, &store](size_t offset, size_t length, httplib::DataSink& sink) {
                               const auto& chunks = cursor->manifest.chunks;
                               // The chunk holding `offset`: usually the current one or the next.
                               size_t i = cursor->index == SIZE_MAX ? 0 : cursor->index;
                               if (i < chunks.size() && offset < chunks[i].offset) i = 0;
                               while (i < chunks.size() && offset >= chunks[i].offset + chunks[i].size) ++i;
                               if (i >= chunks.size()) return false;
                               if (i != cursor->index) {
                                 auto bytes = store.GetChunk(sync::ChunkHashHex(chunks[i].hash));
                                 if (!bytes.ok() || bytes->size() != chunks[i].size) return false;
                                 cursor->bytes = std::move(bytes).value();
                                 cursor->index = i;
                                 cursor->start = chunks[i].offset;
                               }
                               size_t at = offset - cursor->start;
                               size_t n = std::min(length, cursor->bytes.size() - at);
                               return sink.write(cursor->bytes.data() + at, n);
                             });
}

// The ENT uploads a file (the raw bytes as the body, streamed into chunks:
// memory stays flat). Everything the request line says is checked before
// the body is read; nothing is visible until the last byte is in.
void HubApi::EntUploadFile(Call& c) {
  hub::EntUpload::Request request;
  request.school_id = c.params[0];
  request.name = c.req.get_param_value("name");
  request.owner_login = c.req.get_param_value("owner");
  request.declared_type = http::BaseContentType(c.req.get_header_value("Content-Type"));
  request.max_bytes = config_.max_upload_bytes;
  if (c.req.has_header("Content-Length"))
    request.length = std::strtoull(c.req.get_header_value("Content-Length").c_str(), nullptr, 10);
  else if (!c.reader)
    request.length = 0;
  auto upload = hub::EntUpload::Start(hub_, std::move(request));
  if (!upload.ok()) return http::WriteError(c.res, upload.status());
  Status added;
  bool complete = c.reader && (*c.reader)([&](const char* data, size_t n) {
                    added = (*upload)->Add(std::string_view(data, n));
                    return added.ok();
                  });
  if (!added.ok()) return http::WriteError(c.res, added);
  if (!complete) return http::WriteError(c.res, Status::InvalidArgument("the upload was cut before its end"));
  auto file = (*upload)->Finish();
  if (!file.ok()) return http::WriteError(c.res, file.status());
  core::LogEvent("hub.ent_file", {{"school", c.params[0]},
                                  {"file", file->id},
                                  {"size", std::to_string(file->size)},
                                  {"created", file->created ? "1" : "0"}});
  http::WriteJson(c.res,
                  {{"id", file->id},
                   {"sha256", file->sha256},
                   {"size", file->size},
                   {"name", file->name},
                   {"content_type", file->content_type},
                   {"owner", file->owner_login},
                   {"created", file->created},
                   {"cursor", file->feed_head}},
                  file->created ? 201 : 200);
}

// The ENT publishes homework, course material, rosters and account ends
// into a school: the gateway's own operations (hub/ent_publish.h).
void HubApi::EntPublish(Call& c) {
  if (!c.reader) return http::WriteError(c.res, Status::InvalidArgument("the request needs a JSON body"));
  auto body = http::ReadJsonBody(c.req, *c.reader, std::max<uint64_t>(config_.max_json_bytes, kMaxPublishBytes));
  if (!body.ok()) return http::WriteError(c.res, body.status());
  auto outcome = hub_.Publish(c.params[0], *body);
  if (!outcome.ok()) return http::WriteError(c.res, outcome.status());
  core::LogEvent("hub.ent_published", {{"school", c.params[0]}, {"operations", std::to_string(outcome->operations)}});
  http::WriteJson(c.res, {{"school", c.params[0]},
                          {"origin", hub_.origin()},
                          {"operations", outcome->operations},
                          {"first_seq", outcome->first_seq},
                          {"last_seq", outcome->last_seq},
                          {"cursor", outcome->feed_head}});
}

}  // namespace relais::hub

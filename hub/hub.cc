#include "hub/hub.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "core/crypto.h"
#include "hub/auth.h"
#include "sync/enrolment.h"
#include "sync/envelope.h"
#include "sync/op_codec.h"

namespace relais::hub {

namespace {
constexpr int64_t kCertificateLifetime = 2 * 365 * 86400;
std::string Bytes(const auto& array) { return std::string(reinterpret_cast<const char*>(array.data()), array.size()); }
}  // namespace

Status CheckClocks(const std::vector<HubOp>& ops, int64_t now) {
  const uint64_t limit_ms = static_cast<uint64_t>(std::max<int64_t>(now + kMaxClockAheadSeconds, 0)) * 1000;
  for (const HubOp& op : ops) {
    uint64_t ms = content::HlcMs(static_cast<uint64_t>(op.hlc));
    if (ms <= limit_ms) continue;
    return Status::InvalidArgument("operation " + std::to_string(op.seq) + " of origin " + op.origin + " is dated " +
                                   core::FormatTime(static_cast<int64_t>(ms / 1000)) +
                                   ", more than a day ahead of the gateway's clock (" + core::FormatTime(now) +
                                   "): the box's clock is wrong");
  }
  return Status::Ok();
}

Result<std::unique_ptr<HubStore>> OpenHubStore(const Config& config) {
  if (!config.hub_postgres.empty()) return OpenPostgresHubStore(config.hub_postgres, config.hub_connections);
  return OpenSqliteHubStore(config.data_dir);
}

std::filesystem::path HubKeyFile(const Config& config) {
  return config.hub_key_file.empty() ? config.data_dir / "hub-identity.key" : config.hub_key_file;
}

Result<std::unique_ptr<sync::Identity>> LoadHubIdentity(const Config& config) {
  std::filesystem::path file = HubKeyFile(config);
  if (config.hub_postgres.empty()) return sync::Identity::LoadOrCreate(file);
  auto identity = sync::Identity::Load(file);
  if (!identity.ok() && identity.status().code() == StatusCode::kNotFound)
    return Status::NotFound("no gateway key file at " + file.string() +
                            ": create it once with `relais-hub keygen --key-file PATH` and give every hub process "
                            "the same file (hub_key_file)");
  return identity;
}

Result<std::optional<HubOp>> DecodeOpRecord(const sync::Record& record) {
  if (record.kind >= sync::kRecordRevocationList) return std::optional<HubOp>();
  RELAIS_ASSIGN_OR_RETURN(content::Op op, sync::DecodeOp(record.bytes));
  return std::optional<HubOp>(HubOp{op.origin, op.seq, static_cast<int64_t>(op.hlc), record.bytes, 0});
}

Result<Hub::IssuedCode> Hub::IssueEnrolmentCode(std::string_view school_id) {
  RELAIS_RETURN_IF_ERROR(store_.GetSchool(school_id).status());
  int64_t now = clock_.Now();
  RELAIS_ASSIGN_OR_RETURN(sync::EnrolmentCode code,
                          sync::NewEnrolmentCode(std::string(school_id), now, config_.hub_enrol_code_ttl_s));
  std::string sealed = core::SealTo(identity_.current_box_key().keys.public_key, code.pending.code_key);
  RELAIS_RETURN_IF_ERROR(
      store_.AddEnrolmentCode(Bytes(code.pending.code_id), sealed, school_id, code.pending.expires_at, now));
  return IssuedCode{code.code, code.pending.expires_at};
}

Result<sync::Certificate> Hub::GatewayCertificate() {
  // Serial 0: the gateway's certificate of itself is identified by its key epoch.
  int64_t now = clock_.Now();
  return sync::MakeGatewayCertificate(identity_, "relais-hub", 0, now, now + kCertificateLifetime);
}

Result<sync::RevocationList> Hub::SignedRevocations() {
  RELAIS_ASSIGN_OR_RETURN(HubRevocationList stored, store_.Revocations());
  sync::RevocationList list;
  list.version = static_cast<uint64_t>(stored.version);
  list.issued_at = clock_.Now();
  for (const HubRevocation& r : stored.entries) {
    core::SignPublicKey key{};
    if (r.sign_public_key.size() != key.size()) return Status::Corruption("a revoked box's key is damaged");
    std::copy(r.sign_public_key.begin(), r.sign_public_key.end(), key.begin());
    list.entries.push_back({sync::KeyIdOf(key), r.revoked_at});
  }
  sync::SignRevocationList(identity_, &list);
  return list;
}

Result<std::string> Hub::Enrol(std::string_view request) {
  RELAIS_ASSIGN_OR_RETURN(sync::CodeId code_id, sync::EnrolmentRequestCodeId(request));
  auto stored = store_.GetEnrolmentCode(Bytes(code_id));
  if (!stored.ok() && stored.status().code() == StatusCode::kNotFound)
    return Status::PermissionDenied("unknown enrolment code");
  if (!stored.ok()) return stored.status();
  int64_t now = clock_.Now();
  if (stored->used_at) return Status::PermissionDenied("this enrolment code was already used");
  if (stored->expires_at <= now) return Status::PermissionDenied("this enrolment code has expired");
  // Sealed to the key current when the code was issued: it may have rotated since.
  Result<std::string> key = Status::Internal("the enrolment code's key does not open with any of the gateway's keys");
  for (auto held = identity_.box_keys().rbegin(); held != identity_.box_keys().rend() && !key.ok(); ++held) {
    auto opened = core::OpenSealed(held->keys, stored->sealed_key);
    if (opened.ok()) key = std::move(opened);
  }
  if (!key.ok()) return key.status();
  sync::PendingEnrolment pending{code_id, *key, stored->school_id, stored->expires_at};
  RELAIS_ASSIGN_OR_RETURN(sync::Certificate gateway_cert, GatewayCertificate());
  RELAIS_ASSIGN_OR_RETURN(sync::RevocationList revocations, SignedRevocations());
  RELAIS_ASSIGN_OR_RETURN(int64_t serial, store_.NextCertificateSerial());
  RELAIS_ASSIGN_OR_RETURN(sync::EnrolmentAnswer answer,
                          sync::AnswerEnrolment(identity_, gateway_cert, pending, request,
                                                static_cast<uint64_t>(serial), now, kCertificateLifetime, revocations));
  const sync::Certificate& cert = answer.box_certificate;
  HubBox box{sync::KeyIdHex(cert.sign_key_id()),
             stored->school_id,
             Bytes(cert.sign_key),
             Bytes(cert.box_key),
             cert.box_epoch,
             sync::EncodeCertificate(cert),
             now,
             std::nullopt};
  RELAIS_RETURN_IF_ERROR(store_.EnrolBox(Bytes(code_id), box, now));
  return answer.response;
}

Result<std::string> Hub::RotateBoxKey(const HubBox& box, std::string_view request) {
  auto body = nlohmann::json::parse(request, nullptr, false);
  if (!body.is_object() || !body.contains("key") || !body["key"].is_string() || !body.contains("epoch") ||
      !body["epoch"].is_number_integer() || !body.contains("signature") || !body["signature"].is_string())
    return Status::InvalidArgument("give {\"key\":hex,\"epoch\":n,\"signature\":hex}");
  std::string key_hex = body["key"], signature_hex = body["signature"];
  int64_t epoch = body["epoch"];
  std::string key_bytes, signature_bytes;
  sync::SubjectKeys subject;
  core::Signature signature{};
  if (!sync::DecodeHex(key_hex, &key_bytes) || key_bytes.size() != subject.box_key.size() ||
      !sync::DecodeHex(signature_hex, &signature_bytes) || signature_bytes.size() != signature.size() || epoch < 1 ||
      epoch > UINT32_MAX || box.sign_public_key.size() != subject.sign_key.size())
    return Status::InvalidArgument("the new key, its epoch or its signature is malformed");
  std::copy(signature_bytes.begin(), signature_bytes.end(), signature.begin());
  std::copy(box.sign_public_key.begin(), box.sign_public_key.end(), subject.sign_key.begin());
  if (!core::VerifySignature(subject.sign_key, sync::BoxKeyMessage(box.id, key_hex, epoch), signature))
    return Status::PermissionDenied("the new key is not signed by this box");
  if (epoch <= box.enc_key_epoch)
    return Status::Conflict("the gateway already holds key epoch " + std::to_string(box.enc_key_epoch));
  std::copy(key_bytes.begin(), key_bytes.end(), subject.box_key.begin());
  subject.box_epoch = static_cast<uint32_t>(epoch);
  int64_t now = clock_.Now();
  RELAIS_ASSIGN_OR_RETURN(int64_t serial, store_.NextCertificateSerial());
  RELAIS_ASSIGN_OR_RETURN(sync::Certificate cert, sync::IssueCertificate(identity_, sync::Role::kBox, box.school_id,
                                                                         static_cast<uint64_t>(serial), subject, now,
                                                                         now + kCertificateLifetime));
  std::string encoded = sync::EncodeCertificate(cert);
  RELAIS_RETURN_IF_ERROR(store_.RotateBoxKey(box.id, key_bytes, epoch, encoded));
  return encoded;
}

Result<Hub::BundleOutcome> Hub::IngestBundle(const HubBox& box, const sync::ByteSource& source) {
  sync::TrustStore trust;
  trust.Pin(identity_.sign_public_key());
  RELAIS_ASSIGN_OR_RETURN(sync::RevocationList revocations, SignedRevocations());
  RELAIS_RETURN_IF_ERROR(trust.UpdateRevocations(revocations).status());
  RELAIS_ASSIGN_OR_RETURN(auto reader, sync::BundleReader::Open(source, identity_, trust, box.school_id, clock_.Now()));
  // The signer must be the box that uploaded it, not another box of the school.
  if (sync::KeyIdHex(reader->header().sender_key_id) != box.id)
    return Status::PermissionDenied("the bundle is signed by another box than the uploader");
  BundleOutcome outcome;
  std::vector<HubOp> ops;
  std::vector<std::string> manifests;
  sync::Record record;
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool more, reader->Next(&record));
    if (!more) break;
    ++outcome.records;
    if (record.kind == sync::kRecordManifest) {
      RELAIS_RETURN_IF_ERROR(sync::DecodeManifest(record.bytes).status());
      manifests.push_back(std::move(record.bytes));
      continue;
    }
    if (!decode_op_) continue;
    RELAIS_ASSIGN_OR_RETURN(std::optional<HubOp> op, decode_op_(record));
    if (op) ops.push_back(std::move(*op));
  }
  RELAIS_RETURN_IF_ERROR(CheckClocks(ops, clock_.Now()));
  // Only now is the whole bundle known to be intact. New operations must be
  // of origins this box owns (the first box to send an origin's operations
  // owns it; the gateway's origin is the gateway's): relaying others'
  // operations, already stored, is fine.
  if (!ops.empty()) {
    IngestOptions options;
    options.owner = box.id;
    options.gateway_origin = origin();
    RELAIS_ASSIGN_OR_RETURN(IngestResult ingested, store_.IngestOpsAs(box.school_id, ops, options));
    outcome.inserted = ingested.inserted;
    outcome.duplicates = ingested.duplicates;
  }
  for (const std::string& manifest : manifests) {
    Status st = StoreManifestRecord(store_, box.school_id, manifest, config_.max_upload_bytes, clock_.Now());
    // A file over the limit is not taken (its chunks will be refused); the
    // rest of the bundle is.
    if (st.code() == StatusCode::kInvalidArgument) {
      ++outcome.manifests_refused;
      continue;
    }
    RELAIS_RETURN_IF_ERROR(st);
    ++outcome.manifests;
  }
  return outcome;
}

Result<int64_t> Hub::WriteAnswerBundle(const HubBox& box, const VersionVector& have, sync::ByteSink* sink,
                                       const sync::FileNews& files, std::vector<std::string>* manifests_sent) {
  if (box.enc_public_key.size() != core::BoxPublicKey{}.size())
    return Status::Corruption("the box's encryption key is damaged");
  sync::Recipient recipient;
  std::copy(box.enc_public_key.begin(), box.enc_public_key.end(), recipient.box_key.begin());
  recipient.epoch = static_cast<uint32_t>(box.enc_key_epoch);
  int64_t now = clock_.Now();
  sync::BundleOptions options;
  options.scope = box.school_id;
  options.created_at = now;
  options.expires_at = now + 30 * 86400;  // a USB stick may take weeks
  RELAIS_ASSIGN_OR_RETURN(auto writer, sync::BundleWriter::Create(identity_, recipient, options, sink));
  RELAIS_ASSIGN_OR_RETURN(sync::RevocationList revocations, SignedRevocations());
  RELAIS_RETURN_IF_ERROR(writer->Add(sync::kRecordRevocationList, sync::EncodeRevocationList(revocations)));
  RELAIS_ASSIGN_OR_RETURN(sync::Certificate gateway, GatewayCertificate());
  RELAIS_RETURN_IF_ERROR(writer->Add(sync::kRecordCertificate, sync::EncodeCertificate(gateway)));
  int64_t count = 0;
  int64_t after = 0;
  std::set<std::string> wanted(files.want.begin(), files.want.end());
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(std::vector<HubOp> ops, store_.OpsNotCoveredBy(box.school_id, have, after, 1000));
    if (ops.empty()) break;
    for (const HubOp& op : ops) {
      RELAIS_RETURN_IF_ERROR(writer->Add(1, op.record));
      // The files rows the box is about to learn of: their bytes' manifests too.
      if (auto decoded = sync::DecodeOp(op.record); decoded.ok())
        if (auto blob = FileBlobOfOp(*decoded)) wanted.insert(*blob);
    }
    count += static_cast<int64_t>(ops.size());
    after = ops.back().feed;
  }
  RELAIS_RETURN_IF_ERROR(AddFileRecords(store_, box.school_id, wanted, files.have, *writer, manifests_sent).status());
  RELAIS_RETURN_IF_ERROR(writer->Finish().status());
  return count;
}

}  // namespace relais::hub

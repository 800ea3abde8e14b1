#include "sync/box_sync.h"

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/files.h"
#include "sync/enrolment.h"
#include "sync/envelope.h"
#include "sync/hub_auth.h"
#include "sync/op_codec.h"

namespace relais::sync {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int64_t kBundleLifetime = 30 * 86400;  // a USB stick may take weeks
constexpr const char* kStatementContext = "relais-box-statement-v1\n";

fs::path IdentityFile(const fs::path& data_dir) { return BoxSyncDir(data_dir) / "identity.key"; }
fs::path TrustFile(const fs::path& data_dir) { return BoxSyncDir(data_dir) / "trust"; }
fs::path CertificateFile(const fs::path& data_dir) { return BoxSyncDir(data_dir) / "certificate"; }

std::string Bytes(const auto& array) { return std::string(reinterpret_cast<const char*>(array.data()), array.size()); }

Result<std::string> Setting(content::School& school, std::string_view key) {
  auto value = school.accounts().GetSetting(key);
  if (!value.ok() && value.status().code() == StatusCode::kNotFound) return std::string();
  return value;
}

}  // namespace

std::string GatewayOrigin(const core::SignPublicKey& gateway_key) {
  return core::DerivedUuid("gateway-origin", {KeyIdHex(KeyIdOf(gateway_key))});
}

fs::path BoxSyncDir(const fs::path& data_dir) { return data_dir / "sync"; }

Result<std::string> BoxSync::EnrolmentRequest(const fs::path& data_dir, std::string_view code, int64_t now) {
  RELAIS_RETURN_IF_ERROR(core::MakeDirs(BoxSyncDir(data_dir)));
  RELAIS_ASSIGN_OR_RETURN(auto identity, Identity::LoadOrCreate(IdentityFile(data_dir)));
  return MakeEnrolmentRequest(*identity, code, now);
}

Status BoxSync::FinishEnrolment(content::School& school, const fs::path& data_dir, std::string_view code,
                                std::string_view response) {
  RELAIS_ASSIGN_OR_RETURN(auto identity, Identity::Load(IdentityFile(data_dir)));
  RELAIS_ASSIGN_OR_RETURN(Enrolment enrolment, AcceptEnrolment(*identity, code, response));
  TrustStore trust;
  RELAIS_RETURN_IF_ERROR(PinEnrolment(enrolment, &trust));
  // Certificate last: its presence is what "enrolled" means.
  RELAIS_RETURN_IF_ERROR(trust.Save(TrustFile(data_dir)));
  Replica replica(school);
  RELAIS_RETURN_IF_ERROR(replica.SetGatewayOrigin(GatewayOrigin(enrolment.gateway_certificate.sign_key)));
  return core::WriteFileAtomic(CertificateFile(data_dir), EncodeCertificate(enrolment.certificate));
}

Result<std::unique_ptr<BoxSync>> BoxSync::Load(content::School& school, const fs::path& data_dir) {
  std::error_code ec;
  if (!fs::exists(CertificateFile(data_dir), ec))
    return Status::NotFound("this box has not enrolled with a gateway: run `relais sync enrol` first");
  std::unique_ptr<BoxSync> sync(new BoxSync(school, data_dir));
  RELAIS_ASSIGN_OR_RETURN(sync->identity_, Identity::Load(IdentityFile(data_dir)));
  RELAIS_ASSIGN_OR_RETURN(sync->trust_, TrustStore::Load(TrustFile(data_dir)));
  RELAIS_ASSIGN_OR_RETURN(std::string cert, core::ReadFile(CertificateFile(data_dir)));
  RELAIS_ASSIGN_OR_RETURN(sync->certificate_, DecodeCertificate(cert));
  if (!sync->trust_.gateway_certificate()) return Status::Corruption("the sync trust file has no gateway certificate");
  return sync;
}

Result<BundleSummary> BoxSync::WriteBundle(const std::vector<content::Op>& ops, int64_t now, ByteSink* sink,
                                           const std::vector<Record>& extra) {
  const Certificate& gateway = *trust_.gateway_certificate();
  BundleOptions options;
  options.scope = certificate_.scope;
  options.created_at = now;
  options.expires_at = now + kBundleLifetime;
  options.sender_certificate = EncodeCertificate(certificate_);
  if (!ops.empty()) options.created_hlc = ops.back().hlc;
  RELAIS_ASSIGN_OR_RETURN(
      auto writer, BundleWriter::Create(*identity_, Recipient{gateway.box_key, gateway.box_epoch}, options, sink));
  for (const content::Op& op : ops) RELAIS_RETURN_IF_ERROR(writer->Add(kRecordOp, EncodeOp(op)));
  for (const Record& record : extra) RELAIS_RETURN_IF_ERROR(writer->Add(record.kind, record.bytes));
  return writer->Finish();
}

Result<ApplyReport> BoxSync::ApplyBundle(const ByteSource& source, int64_t now, std::vector<Record>* file_records) {
  RELAIS_ASSIGN_OR_RETURN(auto reader, BundleReader::Open(source, *identity_, trust_, certificate_.scope, now));
  if (!trust_.FindPinned(reader->header().sender_key_id))
    return Status::PermissionDenied("the bundle is not signed by the gateway");
  std::vector<content::Op> ops;
  std::optional<RevocationList> revocations;
  std::optional<Certificate> gateway_cert;
  std::vector<Record> files;
  Record record;
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool more, reader->Next(&record));
    if (!more) break;
    if (record.kind == kRecordRevocationList) {
      RELAIS_ASSIGN_OR_RETURN(revocations, DecodeRevocationList(record.bytes));
    } else if (record.kind == kRecordCertificate) {
      RELAIS_ASSIGN_OR_RETURN(gateway_cert, DecodeCertificate(record.bytes));
    } else if (record.kind == kRecordOp) {
      RELAIS_ASSIGN_OR_RETURN(content::Op op, DecodeOp(record.bytes));
      ops.push_back(std::move(op));
    } else if (record.kind == kRecordManifest || record.kind == kRecordFileHeld) {
      files.push_back(record);
    }  // other kinds are not handled by this version
  }
  // The whole bundle verified: adopt, then apply.
  TrustStore trust = trust_;
  bool changed = false;
  if (revocations) {
    RELAIS_ASSIGN_OR_RETURN(bool adopted, trust.UpdateRevocations(*revocations));
    changed |= adopted;
  }
  if (gateway_cert) {
    RELAIS_ASSIGN_OR_RETURN(bool adopted, trust.AdoptGatewayCertificate(*gateway_cert));
    changed |= adopted;
  }
  if (trust.IsRevoked(identity_->sign_key_id()))
    return Status::PermissionDenied("the gateway has revoked this box: enrol it again");
  RELAIS_ASSIGN_OR_RETURN(ApplyReport report, replica_.Apply(ops));
  if (file_records) *file_records = std::move(files);  // only from a bundle that verified
  if (changed) {
    RELAIS_RETURN_IF_ERROR(trust.Save(TrustFile(data_dir_)));
    trust_ = std::move(trust);
  }
  return report;
}

Result<BoxSync::Statement> BoxSync::MakeStatement(int64_t now, const FileNews& files) {
  RELAIS_ASSIGN_OR_RETURN(content::VersionVector held, replica_.Held());
  json vector = json::object();
  for (const auto& [origin, seq] : held) vector[origin] = seq;
  Statement s;
  s.json = json{{"box", box_id()},
                {"school", certificate_.scope},
                {"time", now},
                {"vector", vector},
                {"files", {{"have", files.have}, {"want", files.want}}}}
               .dump();
  s.signature_hex = core::ToHex(Bytes(identity_->Sign(kStatementContext + s.json)));
  return s;
}

Result<content::VersionVector> VerifyStatement(std::string_view text, std::string_view signature_hex,
                                               std::string_view sign_public_key, std::string_view school_id,
                                               FileNews* files) {
  std::string signature_bytes;
  core::SignPublicKey key{};
  core::Signature signature{};
  if (!DecodeHex(signature_hex, &signature_bytes) || signature_bytes.size() != signature.size() ||
      sign_public_key.size() != key.size())
    return Status::Corruption("the box's statement has a malformed signature");
  std::copy(signature_bytes.begin(), signature_bytes.end(), signature.begin());
  std::copy(sign_public_key.begin(), sign_public_key.end(), key.begin());
  if (!core::VerifySignature(key, kStatementContext + std::string(text), signature))
    return Status::PermissionDenied("the box's statement is not signed by that box");
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("vector") || !parsed["vector"].is_object())
    return Status::Corruption("the box's statement is malformed");
  if (parsed.value("school", std::string()) != school_id)
    return Status::PermissionDenied("the box's statement is for another school");
  content::VersionVector vector;
  for (const auto& [origin, seq] : parsed["vector"].items()) {
    if (!seq.is_number_integer()) return Status::Corruption("the box's statement is malformed");
    vector[origin] = seq.get<int64_t>();
  }
  if (files && parsed.contains("files") && parsed["files"].is_object()) {
    for (auto [key, list] : {std::pair{"have", &files->have}, std::pair{"want", &files->want}}) {
      const json& ids = parsed["files"].value(key, json::array());
      if (!ids.is_array()) return Status::Corruption("the box's statement is malformed");
      for (const json& id : ids)
        if (id.is_string() && IsChunkId(id.get<std::string>()) && list->size() < kMaxFileNews)
          list->push_back(id.get<std::string>());
    }
  }
  return vector;
}

Status BoxSync::RecordSuccess(int64_t now, int64_t acked_seq) {
  RELAIS_RETURN_IF_ERROR(school_.accounts().SetSetting("sync_last_at", core::FormatTime(now)));
  RELAIS_RETURN_IF_ERROR(school_.accounts().SetSetting("sync_acked_seq", std::to_string(acked_seq)));
  return school_.accounts().SetSetting("sync_last_error", "");
}

Status BoxSync::RecordFailure(std::string_view error) {
  return school_.accounts().SetSetting("sync_last_error", error);
}

Result<BoxSyncStatus> ReadBoxSyncStatus(content::School& school, const fs::path& data_dir) {
  BoxSyncStatus status;
  std::error_code ec;
  status.enrolled = fs::exists(CertificateFile(data_dir), ec);
  RELAIS_ASSIGN_OR_RETURN(status.last_sync, Setting(school, "sync_last_at"));
  RELAIS_ASSIGN_OR_RETURN(status.last_error, Setting(school, "sync_last_error"));
  RELAIS_ASSIGN_OR_RETURN(std::string acked, Setting(school, "sync_acked_seq"));
  auto db = school.db().Reader();
  RELAIS_ASSIGN_OR_RETURN(content::JournalState state, content::ReadJournalState(*db));
  status.pending =
      std::max<int64_t>(0, state.last_seq - (acked.empty() ? 0 : std::strtoll(acked.c_str(), nullptr, 10)));
  return status;
}

}  // namespace relais::sync

#include "box/box_sync.h"

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/files.h"
#include "sync/enrolment.h"
#include "sync/envelope.h"
#include "sync/op_codec.h"
#include "sync/request_signing.h"
#include "sync/statement.h"

namespace relais::box {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int64_t kBundleLifetime = 30 * 86400;  // a USB stick may take weeks

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

fs::path BoxSyncDir(const fs::path& data_dir) { return data_dir / "sync"; }

Result<std::string> BoxSync::EnrolmentRequest(const fs::path& data_dir, std::string_view code, int64_t now) {
  RELAIS_RETURN_IF_ERROR(core::MakeDirs(BoxSyncDir(data_dir)));
  RELAIS_ASSIGN_OR_RETURN(auto identity, sync::Identity::LoadOrCreate(IdentityFile(data_dir)));
  return sync::MakeEnrolmentRequest(*identity, code, now);
}

Status BoxSync::FinishEnrolment(content::School& school, const fs::path& data_dir, std::string_view code,
                                std::string_view response) {
  RELAIS_ASSIGN_OR_RETURN(auto identity, sync::Identity::Load(IdentityFile(data_dir)));
  RELAIS_ASSIGN_OR_RETURN(sync::Enrolment enrolment, sync::AcceptEnrolment(*identity, code, response));
  sync::TrustStore trust;
  RELAIS_RETURN_IF_ERROR(sync::PinEnrolment(enrolment, &trust));
  // Certificate last: its presence is what "enrolled" means.
  RELAIS_RETURN_IF_ERROR(trust.Save(TrustFile(data_dir)));
  sync::Replica replica(school);
  RELAIS_RETURN_IF_ERROR(replica.SetGatewayOrigin(sync::GatewayOrigin(enrolment.gateway_certificate.sign_key)));
  return core::WriteFileAtomic(CertificateFile(data_dir), sync::EncodeCertificate(enrolment.certificate));
}

Result<std::unique_ptr<core::FileLock>> BoxSync::LockRound(const fs::path& data_dir) {
  RELAIS_RETURN_IF_ERROR(core::MakeDirs(BoxSyncDir(data_dir)));
  auto lock = core::FileLock::Acquire(BoxSyncDir(data_dir) / "round.lock");
  if (!lock.ok() && lock.status().code() == StatusCode::kConflict)
    return Status::Conflict("a sync is already running on " + data_dir.string() +
                            " (relais serve's automatic sync or another relais sync): try again when it ends");
  return lock;
}

Result<std::unique_ptr<BoxSync>> BoxSync::Load(content::School& school, const fs::path& data_dir) {
  std::error_code ec;
  if (!fs::exists(CertificateFile(data_dir), ec))
    return Status::NotFound("this box has not enrolled with a gateway: run `relais sync enrol` first");
  std::unique_ptr<BoxSync> sync(new BoxSync(school, data_dir));
  RELAIS_ASSIGN_OR_RETURN(sync->identity_, sync::Identity::Load(IdentityFile(data_dir)));
  RELAIS_ASSIGN_OR_RETURN(sync->trust_, sync::TrustStore::Load(TrustFile(data_dir)));
  RELAIS_ASSIGN_OR_RETURN(std::string cert, core::ReadFile(CertificateFile(data_dir)));
  RELAIS_ASSIGN_OR_RETURN(sync->certificate_, sync::DecodeCertificate(cert));
  if (!sync->trust_.gateway_certificate()) return Status::Corruption("the sync trust file has no gateway certificate");
  return sync;
}

Result<sync::BundleSummary> BoxSync::WriteBundle(const std::vector<content::Op>& ops, int64_t now, sync::ByteSink* sink,
                                                 const std::vector<sync::Record>& extra) {
  const sync::Certificate& gateway = *trust_.gateway_certificate();
  sync::BundleOptions options;
  options.scope = certificate_.scope;
  options.created_at = now;
  options.expires_at = now + kBundleLifetime;
  options.sender_certificate = sync::EncodeCertificate(certificate_);
  if (!ops.empty()) options.created_hlc = ops.back().hlc;
  RELAIS_ASSIGN_OR_RETURN(
      auto writer,
      sync::BundleWriter::Create(*identity_, sync::Recipient{gateway.box_key, gateway.box_epoch}, options, sink));
  for (const content::Op& op : ops) RELAIS_RETURN_IF_ERROR(writer->Add(kRecordOp, sync::EncodeOp(op)));
  for (const sync::Record& record : extra) RELAIS_RETURN_IF_ERROR(writer->Add(record.kind, record.bytes));
  return writer->Finish();
}

Result<sync::ApplyReport> BoxSync::ApplyBundle(const sync::ByteSource& source, int64_t now,
                                               std::vector<sync::Record>* file_records) {
  RELAIS_ASSIGN_OR_RETURN(auto reader, sync::BundleReader::Open(source, *identity_, trust_, certificate_.scope, now));
  if (!trust_.FindPinned(reader->header().sender_key_id))
    return Status::PermissionDenied("the bundle is not signed by the gateway");
  std::vector<content::Op> ops;
  std::optional<sync::RevocationList> revocations;
  std::optional<sync::Certificate> gateway_cert;
  std::vector<sync::Record> files;
  sync::Record record;
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool more, reader->Next(&record));
    if (!more) break;
    if (record.kind == sync::kRecordRevocationList) {
      RELAIS_ASSIGN_OR_RETURN(revocations, sync::DecodeRevocationList(record.bytes));
    } else if (record.kind == sync::kRecordCertificate) {
      RELAIS_ASSIGN_OR_RETURN(gateway_cert, sync::DecodeCertificate(record.bytes));
    } else if (record.kind == kRecordOp) {
      RELAIS_ASSIGN_OR_RETURN(content::Op op, sync::DecodeOp(record.bytes));
      ops.push_back(std::move(op));
    } else if (record.kind == sync::kRecordManifest || record.kind == sync::kRecordFileHeld) {
      files.push_back(record);
    }  // other kinds are not handled by this version
  }
  // The whole bundle verified: adopt, then apply.
  sync::TrustStore trust = trust_;
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
  RELAIS_ASSIGN_OR_RETURN(sync::ApplyReport report, replica_.Apply(ops));
  if (file_records) *file_records = std::move(files);  // only from a bundle that verified
  if (changed) {
    RELAIS_RETURN_IF_ERROR(trust.Save(TrustFile(data_dir_)));
    trust_ = std::move(trust);
  }
  return report;
}

Result<uint32_t> BoxSync::RotateKey() {
  const sync::BoxKey& key = identity_->RotateBoxKey();
  RELAIS_RETURN_IF_ERROR(identity_->Save(IdentityFile(data_dir_)));
  return key.epoch;
}

std::string BoxSync::KeyRotationRequest() const {
  const sync::BoxKey& key = identity_->current_box_key();
  std::string key_hex = core::ToHex(Bytes(key.keys.public_key));
  std::string signature = core::ToHex(Bytes(identity_->Sign(sync::BoxKeyMessage(box_id(), key_hex, key.epoch))));
  return json{{"key", key_hex}, {"epoch", key.epoch}, {"signature", signature}}.dump();
}

Status BoxSync::AdoptCertificate(std::string_view encoded, int64_t now) {
  RELAIS_ASSIGN_OR_RETURN(sync::Certificate cert, sync::DecodeCertificate(encoded));
  RELAIS_RETURN_IF_ERROR(trust_.CheckCertificate(cert, certificate_.scope, now));
  const sync::BoxKey& key = identity_->current_box_key();
  if (cert.sign_key != identity_->sign_public_key() || cert.box_key != key.keys.public_key ||
      cert.box_epoch != key.epoch)
    return Status::PermissionDenied("the gateway's new certificate is not for this box's current keys");
  RELAIS_RETURN_IF_ERROR(core::WriteFileAtomic(CertificateFile(data_dir_), encoded));
  certificate_ = std::move(cert);
  return Status::Ok();
}

Result<sync::Statement> BoxSync::MakeStatement(int64_t now, const sync::FileNews& files) {
  RELAIS_ASSIGN_OR_RETURN(content::VersionVector held, replica_.Held());
  return sync::SignStatement(*identity_, box_id(), certificate_.scope, now, held, files);
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

}  // namespace relais::box

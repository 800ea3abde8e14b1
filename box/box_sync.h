// box/box_sync.h — the box's side of sync, whatever carries the bytes.
//
// A box keeps its sync keys in DATA/sync/: identity.key (its own keys, mode
// 0600, never leave the box), trust (the gateway keys pinned at enrolment,
// the gateway's self-certificate and the newest revocation list) and
// certificate (the box's certificate for its school). BoxSync turns the
// journal's operations into a bundle for the gateway, reads the gateway's
// answer bundles into Replica::Apply, and keeps the status shown by
// GET /api/v1/health. Transports (box/sync_cli.cc): the gateway's HTTP API
// or a USB stick. docs/sync.md, "Running sync".
// Not thread-safe: one sync runs at a time on a box.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "content/school.h"
#include "core/files.h"
#include "core/status.h"
#include "sync/byte_io.h"
#include "sync/certificate.h"
#include "sync/envelope.h"
#include "sync/file_news.h"
#include "sync/identity.h"
#include "sync/replica.h"
#include "sync/statement.h"

namespace relais::box {

// Bundle record kind of one journal operation (sync/op_codec.h).
inline constexpr uint8_t kRecordOp = 1;

// DATA/sync.
std::filesystem::path BoxSyncDir(const std::filesystem::path& data_dir);

// The box's sync status (settings table), for GET /api/v1/health.
struct BoxSyncStatus {
  bool enrolled = false;
  std::string last_sync;   // ISO time of the last successful round, "" if never
  std::string last_error;  // "" when the last round succeeded
  int64_t pending = 0;     // local operations the gateway is not known to hold
};
Result<BoxSyncStatus> ReadBoxSyncStatus(content::School& school, const std::filesystem::path& data_dir);

class BoxSync {
 public:
  // Step 1 of enrolment: the box's keys (made now, or kept from an earlier
  // attempt) and the request to send the gateway with the typed code.
  static Result<std::string> EnrolmentRequest(const std::filesystem::path& data_dir, std::string_view code,
                                              int64_t now);
  // Step 2: checks the gateway's answer with the code, pins the gateway,
  // stores trust and certificate, and names the gateway's origin.
  // PermissionDenied if the answer was not made by the code's gateway.
  static Status FinishEnrolment(content::School& school, const std::filesystem::path& data_dir, std::string_view code,
                                std::string_view response);

  // The lock every sync round takes (DATA/sync/round.lock), so that
  // `relais serve`'s automatic sync and a `relais sync` run never overlap;
  // the kernel drops it when the process dies. Conflict ("a sync is already
  // running") while another round holds it.
  static Result<std::unique_ptr<core::FileLock>> LockRound(const std::filesystem::path& data_dir);

  // An enrolled box. NotFound if it has not enrolled.
  static Result<std::unique_ptr<BoxSync>> Load(content::School& school, const std::filesystem::path& data_dir);

  const sync::Identity& identity() const { return *identity_; }
  std::string box_id() const { return sync::KeyIdHex(identity_->sign_key_id()); }
  const std::string& school_scope() const { return certificate_.scope; }
  sync::Replica& replica() { return replica_; }
  content::School& school() { return school_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  // DATA/sync: where transports keep their temporary files.
  std::filesystem::path sync_dir() const { return BoxSyncDir(data_dir_); }

  // Writes into `sink` a bundle for the gateway holding `ops`, signed by the box.
  // `extra` records (file manifests) follow the operations.
  Result<sync::BundleSummary> WriteBundle(const std::vector<content::Op>& ops, int64_t now, sync::ByteSink* sink,
                                          const std::vector<sync::Record>& extra = {});

  // Verifies a bundle from the gateway (addressed to this box, for its
  // school, signed by the pinned gateway), adopts its revocation list and
  // gateway certificate, and applies its operations in one batch. A bundle
  // already applied changes nothing. Errors as BundleReader says; nothing
  // is applied then.
  // The bundle's file records (manifests, held files) go to `file_records`
  // when given, for BoxFiles::Learn.
  Result<sync::ApplyReport> ApplyBundle(const sync::ByteSource& source, int64_t now,
                                        std::vector<sync::Record>* file_records = nullptr);

  // Key rotation (docs/sync.md, "Key rotation"). RotateKey makes a new
  // encryption key and saves the identity; the old keys stay, so answers
  // sealed to them before the gateway learns the new one still open.
  // Returns the new epoch.
  Result<uint32_t> RotateKey();
  // The current encryption key's epoch, and the gateway's idea of it (from
  // the box's certificate).
  uint32_t key_epoch() const { return identity_->current_box_key().epoch; }
  uint32_t certified_key_epoch() const { return certificate_.box_epoch; }
  // The body of POST /hub/v1/box-key: the current key, its epoch, signed.
  std::string KeyRotationRequest() const;
  // Stores the certificate the gateway answered: it must be signed by the
  // pinned gateway, for this box's signing key, school and current
  // encryption key. PermissionDenied otherwise; nothing changes then.
  Status AdoptCertificate(std::string_view encoded, int64_t now);

  // The signed statement of what the box holds (USB, sync/statement.h);
  // `files` says which files' bytes the box sends and wants.
  Result<sync::Statement> MakeStatement(int64_t now, const sync::FileNews& files = {});

  // Status bookkeeping (settings): a round succeeded, with the gateway now
  // holding the box's own operations up to `acked_seq`; or it failed.
  Status RecordSuccess(int64_t now, int64_t acked_seq);
  Status RecordFailure(std::string_view error);

 private:
  BoxSync(content::School& school, std::filesystem::path data_dir)
      : school_(school), data_dir_(std::move(data_dir)), replica_(school) {}
  content::School& school_;
  std::filesystem::path data_dir_;
  sync::Replica replica_;
  std::unique_ptr<sync::Identity> identity_;
  sync::TrustStore trust_;
  sync::Certificate certificate_;
};

}  // namespace relais::box

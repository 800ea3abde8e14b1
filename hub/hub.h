// hub/hub.h — the gateway's logic (`relais-hub`), above its store.
//
// The gateway holds the académie's identity (sync/identity.h), enrols boxes
// with one-time codes (sync/enrolment.h), signs the revocation list, and keeps
// each school's operation log in a HubStore. Several Hub objects in several
// processes may share one PostgreSQL store: a Hub keeps no state of its own
// beyond the identity, which every process loads from the same key file.
// Thread-safe: the identity is only read.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "hub/config.h"
#include "hub/files.h"
#include "hub/store.h"
#include "hub/uploads.h"
#include "sync/byte_io.h"
#include "sync/certificate.h"
#include "sync/envelope.h"
#include "sync/identity.h"

namespace relais::content {
struct Op;
}  // namespace relais::content

namespace relais::hub {

class LogIndex;

// The store `config` names: PostgreSQL when hub_postgres is set, else SQLite
// in data_dir.
Result<std::unique_ptr<HubStore>> OpenHubStore(const Config& config);

// Where the gateway's identity lives: hub_key_file, else DATA/hub-identity.key.
std::filesystem::path HubKeyFile(const Config& config);

// The gateway's identity. With SQLite it is created on first use; with
// PostgreSQL the key file must exist (`relais-hub keygen`), so that
// stateless processes never each make their own. NotFound then.
Result<std::unique_ptr<sync::Identity>> LoadHubIdentity(const Config& config);

// How far ahead of the gateway's clock an operation's hlc may be: a box whose
// clock says 2040 would otherwise drag every party's hybrid clock to 2040.
constexpr int64_t kMaxClockAheadSeconds = 86400;

// InvalidArgument, naming the first one, if an operation of `ops` is dated
// more than kMaxClockAheadSeconds after `now` (Unix seconds). Refused rather
// than clamped: an operation's hlc is part of what every party merges on,
// and the box that made it keeps its own copy, so a clamped copy would make
// parties disagree for ever.
Status CheckClocks(const std::vector<HubOp>& ops, int64_t now);

// The journal's operation records (sync/op_codec.h; record kinds below the
// wire layer's 0xF0) as operations of a school's log, the record kept as is.
// Other records (manifests, certificates, revocation lists): nullopt.
// Corruption or InvalidArgument as DecodeOp says.
Result<std::optional<HubOp>> DecodeOpRecord(const sync::Record& record);

class Hub {
 public:
  // `store`, `clock`, `config` and `identity` must outlive the Hub.
  Hub(HubStore& store, const core::Clock& clock, const Config& config, const sync::Identity& identity)
      : store_(store), clock_(clock), config_(config), identity_(identity) {}
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  HubStore& store() { return store_; }
  // The resumable bundle uploads and stored answers (hub/uploads.h): the
  // upload protocol of docs/hub-api.md runs there, over the store.
  Uploads& uploads() { return uploads_; }
  const sync::Identity& identity() const { return identity_; }
  const core::Clock& clock() const { return clock_; }

  struct IssuedCode {
    std::string code;  // shown once; the store keeps its id and sealed key only
    int64_t expires_at = 0;
  };
  // A one-time code enrolling one box into `school_id`. NotFound if there is
  // no such school.
  Result<IssuedCode> IssueEnrolmentCode(std::string_view school_id);

  // Answers a box's enrolment request (sync/enrolment.h): checks the code,
  // records the box with its certificate and uses up the code in one
  // transaction. PermissionDenied for an unknown, used or expired code or a
  // request not made with it; Corruption for a malformed request.
  Result<std::string> Enrol(std::string_view request);

  // A box's new encryption key (`request`: JSON {"key":hex,"epoch":n,
  // "signature":hex of BoxKeyMessage by the box's signing key}): records it
  // with a new certificate carrying it, which it returns (encoded). From then
  // on answers are sealed to the new key. InvalidArgument for a malformed
  // request, PermissionDenied for a bad signature, Conflict for an epoch not
  // above the stored one.
  Result<std::string> RotateBoxKey(const HubBox& box, std::string_view request);

  // The gateway's certificate of itself (its current encryption key).
  Result<sync::Certificate> GatewayCertificate();

  // The revocation list, signed now by the gateway.
  Result<sync::RevocationList> SignedRevocations();

  struct BundleOutcome {
    uint64_t records = 0;  // records in the verified bundle
    int inserted = 0;      // operations new to the school's log
    int duplicates = 0;
    int manifests = 0;          // file manifests taken
    int manifests_refused = 0;  // files over the gateway's upload limit
  };
  // Turns a bundle record into an operation of the school's log, or nullopt
  // for a record that is not one (Corruption for a malformed one). The
  // default is DecodeOpRecord; tests may install another.
  using OpDecoder = std::function<Result<std::optional<HubOp>>(const sync::Record&)>;
  void SetOpDecoder(OpDecoder decoder) { decode_op_ = std::move(decoder); }

  // Verifies a bundle `box` uploaded (sync/envelope.h: addressed to the
  // gateway, signed by this box under a valid, unrevoked certificate for its
  // school), reads all its records and, once the whole bundle has verified,
  // ingests its operations into the box's school in one transaction, then
  // its file manifests (0xF1; a file above the upload limit is not taken).
  // Corruption, InvalidArgument or PermissionDenied as BundleReader says, or
  // as the decoder says; nothing is stored then.
  Result<BundleOutcome> IngestBundle(const HubBox& box, const sync::ByteSource& source);

  // The gateway's own origin in every school's log: GatewayOrigin of its
  // signing key (box/box_sync.h), as every box names it at enrolment.
  std::string origin() const;

  struct PublishOutcome {
    int64_t operations = 0;  // operations added to the school's log (0: nothing new)
    int64_t first_seq = 0;   // their seqs under the gateway's origin
    int64_t last_seq = 0;
    int64_t feed_head = 0;  // the school's feed after them
  };
  // Publishes what the ENT sent (hub/ent_publish.h, docs/hub-api.md) into
  // `school_id`: operations of the gateway's origin numbered after its last
  // one in this school, clocked after every operation the log holds, stored
  // in one transaction (hub/publish.cc). NotFound for an unknown school;
  // InvalidArgument naming the bad field, and nothing stored.
  Result<PublishOutcome> Publish(std::string_view school_id, const nlohmann::json& body);

  // What the school's log says of its rows (hub/ent_publish.h), read whole.
  Result<LogIndex> ReadLogIndex(std::string_view school_id);

  // Makes operations of the gateway's origin with `build` (given the log's
  // index, the seq of the first one and the gateway's clock) and stores them
  // in the school's log in one transaction, gap-free: if another gateway
  // process took the numbers meanwhile, `build` runs again on a fresh read
  // of the log. Errors of `build` are returned as they are; nothing stored.
  using GatewayOpsBuilder =
      std::function<Result<std::vector<content::Op>>(const LogIndex& index, int64_t first_seq, int64_t now)>;
  Result<PublishOutcome> AppendGatewayOps(std::string_view school_id, const GatewayOpsBuilder& build);

  // The answer to `box`: a bundle sealed to its encryption key, signed by the
  // gateway, holding the revocation list, the gateway's certificate and every
  // operation of its school that `have` does not cover (feed order, as
  // record kind 1). Returns how many operations it holds.
  // With `files` (hub/files.h), it also holds the manifests of the
  // files the box wants or that the answer's files rows name, and what the
  // gateway holds of the files the box is sending (AddFileRecords); the
  // blobs whose manifests it holds are appended to `manifests_sent`.
  Result<int64_t> WriteAnswerBundle(const HubBox& box, const VersionVector& have, sync::ByteSink* sink,
                                    const sync::FileNews& files = {},
                                    std::vector<std::string>* manifests_sent = nullptr);

 private:
  HubStore& store_;
  const core::Clock& clock_;
  const Config& config_;
  const sync::Identity& identity_;
  OpDecoder decode_op_ = DecodeOpRecord;
  Uploads uploads_{*this, store_, clock_, config_};
};

}  // namespace relais::hub

// sync/hub.h — the gateway's logic (`relais hub`), above its store.
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
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "sync/byte_io.h"
#include "sync/certificate.h"
#include "sync/envelope.h"
#include "sync/hub_files.h"
#include "sync/hub_store.h"
#include "sync/identity.h"

namespace relais::sync {

// The store `config` names: PostgreSQL when hub_postgres is set, else SQLite
// in data_dir.
Result<std::unique_ptr<HubStore>> OpenHubStore(const core::Config& config);

// Where the gateway's identity lives: hub_key_file, else DATA/hub-identity.key.
std::filesystem::path HubKeyFile(const core::Config& config);

// The gateway's identity. With SQLite it is created on first use; with
// PostgreSQL the key file must exist (`relais hub keygen`), so that
// stateless processes never each make their own. NotFound then.
Result<std::unique_ptr<Identity>> LoadHubIdentity(const core::Config& config);

// The journal's operation records (sync/op_codec.h; record kinds below the
// wire layer's 0xF0) as operations of a school's log, the record kept as is.
// Other records (manifests, certificates, revocation lists): nullopt.
// Corruption or InvalidArgument as DecodeOp says.
Result<std::optional<HubOp>> DecodeOpRecord(const Record& record);

class Hub {
 public:
  // `store`, `clock`, `config` and `identity` must outlive the Hub.
  Hub(HubStore& store, const core::Clock& clock, const core::Config& config, const Identity& identity)
      : store_(store), clock_(clock), config_(config), identity_(identity) {}

  HubStore& store() { return store_; }
  const Identity& identity() const { return identity_; }

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

  // The gateway's certificate of itself (its current encryption key).
  Result<Certificate> GatewayCertificate();

  // The revocation list, signed now by the gateway.
  Result<RevocationList> SignedRevocations();

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
  using OpDecoder = std::function<Result<std::optional<HubOp>>(const Record&)>;
  void SetOpDecoder(OpDecoder decoder) { decode_op_ = std::move(decoder); }

  // Verifies a bundle `box` uploaded (sync/envelope.h: addressed to the
  // gateway, signed by this box under a valid, unrevoked certificate for its
  // school), reads all its records and, once the whole bundle has verified,
  // ingests its operations into the box's school in one transaction, then
  // its file manifests (0xF1; a file above the upload limit is not taken).
  // Corruption, InvalidArgument or PermissionDenied as BundleReader says, or
  // as the decoder says; nothing is stored then.
  Result<BundleOutcome> IngestBundle(const HubBox& box, const ByteSource& source);

  // The answer to `box`: a bundle sealed to its encryption key, signed by the
  // gateway, holding the revocation list, the gateway's certificate and every
  // operation of its school that `have` does not cover (feed order, as
  // record kind 1). Returns how many operations it holds.
  // With `files` (sync/hub_files.h), it also holds the manifests of the
  // files the box wants or that the answer's files rows name, and what the
  // gateway holds of the files the box is sending (AddFileRecords); the
  // blobs whose manifests it holds are appended to `manifests_sent`.
  Result<int64_t> WriteAnswerBundle(const HubBox& box, const VersionVector& have, ByteSink* sink,
                                    const FileNews& files = {}, std::vector<std::string>* manifests_sent = nullptr);

 private:
  HubStore& store_;
  const core::Clock& clock_;
  const core::Config& config_;
  const Identity& identity_;
  OpDecoder decode_op_ = DecodeOpRecord;
};

}  // namespace relais::sync

// hub/store.h — the gateway's storage: one interface, two engines.
//
// `relais-hub` keeps every school's state here: schools, enrolled boxes,
// one-time enrolment codes, the operation log, the revocation list, file
// manifests and chunks, and uploads in progress. Two implementations pass the same
// conformance suite (tests/hub/hub_store_test.cc):
//   * SQLite (OpenSqliteHubStore): one hub process owns DATA/hub.db; chunk
//     bytes live in a content-addressed directory DATA/chunks/ab/cd/<id>.
//   * PostgreSQL (OpenPostgresHubStore): any number of stateless hub processes
//     share one database; chunk bytes live in a bytea table so every process
//     sees them. See docs/hub-storage.md for the schema and the reasons.
//
// Invariants every implementation keeps:
//  * An operation is identified by (school, origin, seq). Ingesting it again
//    is a no-op, however late it comes (a USB stick weeks later).
//  * Each newly stored operation gets the next number of its school's
//    downstream feed: 1, 2, 3 … with no gap and no reuse, even with many
//    writers. Numbers are allocated under a lock on the school's counter row
//    held until commit, so commits happen in feed order and a reader never
//    sees feed n+1 without n.
//  * A school's version vector maps each origin to the highest seq s such
//    that every seq 1..s of that origin is stored (the contiguous prefix).
//  * An enrolment code is consumed at most once, even by concurrent hubs.
//  * An upload's offset and its bytes commit together: a crash never leaves
//    an offset ahead of the stored bytes.
//  * An origin, once bound to a sender in a school (IngestOptions::owner),
//    stays bound to it: only that sender adds new operations of it.
//
// Thread-safety: every method may be called from any thread at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace relais::hub {

struct HubSchool {
  std::string id;  // UUID, chosen by the store
  std::string name;
  int64_t created_at = 0;
};

struct HubBox {
  std::string id;               // chosen by the gateway at enrolment
  std::string school_id;        // the only school this box may write to
  std::string sign_public_key;  // Ed25519, raw bytes
  std::string enc_public_key;   // X25519, raw bytes
  int64_t enc_key_epoch = 0;    // grows with each rotation
  std::string certificate;      // the signed certificate bytes, as issued
  int64_t enrolled_at = 0;
  std::optional<int64_t> revoked_at;
};

struct HubEnrolmentCode {
  std::string code_id;
  std::string school_id;
  std::string sealed_key;
  int64_t expires_at = 0;
  std::optional<int64_t> used_at;
  std::string box_id;  // who used it; empty while unused
};

// One operation of a school's log. `record` is opaque to the store (the
// sync format defines it); `feed` is assigned by the store on ingest.
struct HubOp {
  std::string origin;  // a box id, or the gateway's own origin
  int64_t seq = 0;     // per-origin, from 1, gap-free at the origin
  int64_t hlc = 0;     // hybrid logical clock of the change
  std::string record;
  int64_t feed = 0;  // the school's downstream number; 0 before ingest
};

// origin → highest contiguous seq held.
using VersionVector = std::map<std::string, int64_t>;

struct IngestResult {
  int inserted = 0;       // operations new to the store
  int duplicates = 0;     // already present (or repeated within the batch)
  int64_t feed_head = 0;  // the school's last feed number after the ingest
};

// The owner of the gateway's own origin (IngestOptions::owner).
inline constexpr const char* kGatewayOwner = "gateway";

// How a batch is ingested (HubStore::IngestOpsAs).
struct IngestOptions {
  // Who sends the batch: a box id, or kGatewayOwner for the gateway's own
  // publishing. When set, each origin with a NEW operation in the batch must
  // be bound to `owner`, or to no one yet — it is then bound to `owner`: an
  // origin belongs to the first sender of its operations, per school. A new
  // operation of an origin bound to another sender is PermissionDenied, and
  // nothing is stored. Operations already stored (a box relaying what it
  // received from others) are not checked: they change nothing. Empty: no
  // binding (tools and tests).
  std::string owner;
  // The gateway's origin, bound to kGatewayOwner in every school whether or
  // not the gateway has published there yet. Empty: none.
  std::string gateway_origin;
  // Every operation must be new: if one is already stored the whole batch is
  // refused with Conflict and nothing is stored. The gateway numbers its own
  // operations after its origin's highest stored seq; a concurrent publisher
  // that took those numbers first makes it renumber and retry.
  bool all_new = false;
};

struct HubRevocation {
  std::string box_id;
  std::string sign_public_key;
  int64_t revoked_at = 0;
  int64_t version = 0;  // the list version that added this entry
};

// The gateway-wide list of revoked boxes. `version` grows by one with every
// revocation, so a party holding version v knows exactly what it lacks.
struct HubRevocationList {
  int64_t version = 0;
  std::vector<HubRevocation> entries;  // by version
};

// HubStore::ReadUpload's `to` for "to the last byte".
inline constexpr int64_t kUploadEnd = std::numeric_limits<int64_t>::max();

struct HubUpload {
  std::string id;  // random, URL-safe
  std::string school_id;
  std::string box_id;
  std::string kind;    // "bundle", …: what to do with the bytes once complete
  int64_t length = 0;  // total bytes announced at creation
  int64_t offset = 0;  // bytes stored so far
  int64_t created_at = 0;
  int64_t updated_at = 0;
};

class HubStore {
 public:
  virtual ~HubStore() = default;

  // "sqlite" or "postgresql", for logs and benchmarks.
  virtual const char* engine() const = 0;

  // --- Schools -------------------------------------------------------------
  // Creates a school with a fresh id. InvalidArgument for an empty name.
  virtual Result<HubSchool> AddSchool(std::string_view name, int64_t now) = 0;
  // NotFound if there is no such school.
  virtual Result<HubSchool> GetSchool(std::string_view id) = 0;
  virtual Result<std::vector<HubSchool>> ListSchools() = 0;

  // --- Boxes ---------------------------------------------------------------
  // Conflict if the id is taken; NotFound if the school does not exist.
  virtual Status AddBox(const HubBox& box) = 0;
  // NotFound if there is no such box.
  virtual Result<HubBox> GetBox(std::string_view id) = 0;
  virtual Result<std::vector<HubBox>> ListBoxes(std::string_view school_id) = 0;
  // Records a rotated encryption key and the certificate that carries it.
  // Conflict unless `epoch` is above the stored one (an old rotation replayed)
  // or if the box is revoked; NotFound if there is no such box.
  virtual Status RotateBoxKey(std::string_view box_id, std::string_view enc_public_key, int64_t epoch,
                              std::string_view certificate) = 0;

  // --- Enrolment codes -----------------------------------------------------
  // Stores a pending enrolment for `school_id` under the code's id (derived
  // from the code; never the code). `sealed_key` is the code's MAC key sealed
  // to the gateway's own encryption key: the database alone cannot enrol.
  // Conflict if the id exists; NotFound if the school does not.
  virtual Status AddEnrolmentCode(std::string_view code_id, std::string_view sealed_key, std::string_view school_id,
                                  int64_t expires_at, int64_t now) = 0;
  // NotFound if there is no such code (used and expired ones are returned:
  // the caller refuses them).
  virtual Result<HubEnrolmentCode> GetEnrolmentCode(std::string_view code_id) = 0;
  // In one transaction: marks the code used by `box` and adds the box.
  // Exactly one of several concurrent callers (in any process) succeeds; the
  // others, and any call with an unknown, used or expired code or a box of
  // another school, get PermissionDenied. Conflict (code left unused) if the
  // box id is taken.
  virtual Status EnrolBox(std::string_view code_id, const HubBox& box, int64_t now) = 0;
  // The next certificate serial number: 1, 2, 3 … never reused.
  virtual Result<int64_t> NextCertificateSerial() = 0;

  // --- Operation log -------------------------------------------------------
  // Stores the operations not yet present, in one transaction, giving each
  // new one the school's next feed number (in the order of `ops`). NotFound
  // if the school does not exist; InvalidArgument for a seq < 1 or an empty
  // origin (then nothing is stored).
  virtual Result<IngestResult> IngestOps(std::string_view school_id, const std::vector<HubOp>& ops) = 0;
  // IngestOps with the checks `options` asks for, in the same transaction.
  virtual Result<IngestResult> IngestOpsAs(std::string_view school_id, const std::vector<HubOp>& ops,
                                           const IngestOptions& options) = 0;
  // The highest seq of `origin` stored for the school (0 when none), gaps or
  // not.
  virtual Result<int64_t> LastSeq(std::string_view school_id, std::string_view origin) = 0;
  // Up to `limit` operations with feed > `after_feed`, in feed order.
  virtual Result<std::vector<HubOp>> OpsAfterFeed(std::string_view school_id, int64_t after_feed, int limit) = 0;
  // Up to `limit` operations with feed > `after_feed` that `have` does not
  // cover (seq > have[origin], 0 for an origin it lacks), in feed order.
  // Page with after_feed = the last returned op's feed.
  virtual Result<std::vector<HubOp>> OpsNotCoveredBy(std::string_view school_id, const VersionVector& have,
                                                     int64_t after_feed, int limit) = 0;
  virtual Result<VersionVector> SchoolVector(std::string_view school_id) = 0;
  // The school's last feed number (0 when its log is empty).
  virtual Result<int64_t> FeedHead(std::string_view school_id) = 0;

  // --- Revocation ----------------------------------------------------------
  // Revokes a box and returns the new list version. NotFound if there is no
  // such box; Conflict if it is already revoked (the list is unchanged).
  virtual Result<int64_t> RevokeBox(std::string_view box_id, int64_t now) = 0;
  virtual Result<HubRevocationList> Revocations() = 0;

  // --- File chunks ---------------------------------------------------------
  // Chunks are immutable and named by a lower-case hex id the caller derives
  // from their content (the store does not check it: the gateway verifies a
  // chunk before calling PutChunk). Storing an id twice keeps the first.
  // InvalidArgument for an id that is not 64 lower-case hex characters.
  virtual Status PutChunk(std::string_view id, std::string_view bytes) = 0;
  // The ids of `ids` the store does not hold, in the order given.
  virtual Result<std::vector<std::string>> MissingChunks(const std::vector<std::string>& ids) = 0;
  // NotFound if absent.
  virtual Result<std::string> GetChunk(std::string_view id) = 0;

  // --- File manifests ------------------------------------------------------
  // A school's manifests (sync/chunks.h), one per blob: `blob_id` is the
  // file's SHA-256 as 64 lower-case hex, `manifest` the encoded manifest,
  // opaque here. The first manifest stored for (school, blob) wins and is
  // the one every box of the school receives: chunks travel sealed under its
  // key (docs/sync-format.md, "File chunks"). Returns true if this call
  // stored it, false if the school already had one (kept unchanged).
  // InvalidArgument for a blob id that is not 64 lower-case hex; NotFound if
  // the school does not exist.
  virtual Result<bool> PutManifest(std::string_view school_id, std::string_view blob_id, std::string_view manifest,
                                   int64_t now) = 0;
  // The school's manifest of `blob_id`. NotFound if it has none.
  virtual Result<std::string> GetManifest(std::string_view school_id, std::string_view blob_id) = 0;

  // --- Resumable uploads ---------------------------------------------------
  // Creates an upload of `length` bytes; the id is chosen by the store.
  virtual Result<HubUpload> CreateUpload(std::string_view school_id, std::string_view box_id, std::string_view kind,
                                         int64_t length, int64_t now) = 0;
  // NotFound if there is no such upload (or it was deleted).
  virtual Result<HubUpload> GetUpload(std::string_view id) = 0;
  // Appends `bytes` at `offset` and returns the new offset. Conflict if
  // `offset` is not the stored offset (a client resuming from a stale
  // position: it must ask the offset again); TooLarge if the bytes would go
  // past the announced length. Many processes may race: one wins, the
  // others get Conflict, and the stored bytes are those of the winner.
  virtual Result<int64_t> AppendUpload(std::string_view id, int64_t offset, std::string_view bytes, int64_t now) = 0;
  // Calls `sink` with the upload's bytes from byte `from` up to byte `to`
  // (excluded; kUploadEnd or any offset past the end: to the last byte), in
  // order, in pieces of at most the size they were appended with: memory
  // stays at one piece. The piece holding `from` is found directly (an index
  // seek), so a range late in a large upload costs no more than an early one.
  // Stops at the first error `sink` returns. Fewer bytes than asked for when
  // the upload has fewer (or none: no such upload).
  virtual Status ReadUpload(std::string_view id, int64_t from, int64_t to,
                            const std::function<Status(std::string_view)>& sink) = 0;
  // Forgets an upload and its bytes. Deleting a missing upload is fine.
  virtual Status DeleteUpload(std::string_view id) = 0;
  // Deletes the uploads not touched since `before`; returns how many.
  virtual Result<int> DeleteStaleUploads(int64_t before) = 0;
};

// Opens (creating if needed) the SQLite store in `data_dir`: hub.db and chunks/.
Result<std::unique_ptr<HubStore>> OpenSqliteHubStore(const std::filesystem::path& data_dir);

// Connects to PostgreSQL at `url` ("postgresql://user@host:port/db" or a
// libpq key=value string) and creates or upgrades the schema (safe when
// several hubs start at once). `connections` is the pool size.
Result<std::unique_ptr<HubStore>> OpenPostgresHubStore(const std::string& url, int connections = 4);

}  // namespace relais::hub

// content/journal.h — the change journal: every change to a synced table,
// captured in the same transaction as the change, as an operation of the op
// log (sync_ops, migration 0002). sync/ reads and merges these rows; content/
// never calls sync/.
//
// Invariants:
//  * An operation is named by (origin, seq): origin is the replica that made
//    it (a UUID), seq its gap-free, per-origin sequence number (a rolled-back
//    transaction gives its numbers back with it).
//  * Every operation carries a hybrid logical clock value (Kulkarni et al.
//    2014): the top 48 bits are Unix milliseconds, the low 16 a counter.
//    Local values strictly grow, even when the wall clock jumps back, and
//    exceed every value received from a peer (ObserveHlc).
//  * Operations received from peers are stored unchanged (never re-captured)
//    so that they can be forwarded.
// Thread-safety: the functions take a borrowed connection; the caller holds
// the pool's writer (for writes) and a transaction.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/db.h"
#include "core/status.h"

namespace relais::content {

// The tables whose rows travel between replicas, parents before children.
// sessions, audit_log, settings and sync_* stay local.
const std::vector<std::string>& SyncedTables();
bool IsSyncedTable(std::string_view table);

// The hybrid logical clock's layout.
constexpr int kHlcCounterBits = 16;
constexpr uint64_t HlcPack(uint64_t ms, uint64_t counter) { return (ms << kHlcCounterBits) | (counter & 0xffff); }
constexpr uint64_t HlcMs(uint64_t hlc) { return hlc >> kHlcCounterBits; }

// One row change in engine-neutral form.
struct Op {
  using Kind = core::RowChange::Kind;
  std::string origin;  // UUID text of the replica that made it
  int64_t seq = 0;     // 1, 2, 3 … per origin
  uint64_t hlc = 0;
  uint64_t base = 0;  // newest hlc on this row the origin knew of when making it
  std::string table;
  Kind kind = Kind::kInsert;
  std::vector<core::SqlValue> key;    // primary-key values in key order
  std::vector<core::Column> columns;  // insert: all other columns; update: changed ones; delete: none
};
bool operator==(const Op& a, const Op& b);

// For each origin, the highest seq such that all of 1..seq are held.
using VersionVector = std::map<std::string, int64_t>;

// The canonical JSON text of a key (the `pk` column of sync_ops).
std::string KeyJson(const std::vector<core::SqlValue>& key);
// The JSON object text of columns (the `cols` column of sync_ops).
std::string ColumnsJson(const std::vector<core::Column>& columns);
std::string ValueJson(const core::SqlValue& value);

struct JournalState {
  std::string origin;
  int64_t last_seq = 0;
  uint64_t hlc = 0;
  std::string gateway_origin;  // empty until known
};

// Captures the changes of the writer connection into the op log. Create one
// per School with Attach; it must outlive the connection's transactions.
class Journal final : public core::ChangeSink {
 public:
  // Gives this replica an origin id on first use and enables capture of the
  // synced tables on `writer` (the pool's writer connection). `clock` must
  // outlive the Journal. Internal if SQLite lacks the session extension.
  static Result<std::unique_ptr<Journal>> Attach(core::Db& writer, const core::Clock& clock);

  // Appends one operation per change, with the next seqs and hlc values.
  Status Record(core::Db& db, const std::vector<core::RowChange>& changes) override;

  const std::string& origin() const { return origin_; }

 private:
  Journal(const core::Clock& clock, std::string origin) : clock_(clock), origin_(std::move(origin)) {}
  const core::Clock& clock_;
  std::string origin_;
};

// --- The op log store, for sync/ (all inside the caller's transaction). ---

Result<JournalState> ReadJournalState(core::Db& db);
// Names the gateway's origin (learnt at enrolment; the same on every party).
Status SetGatewayOrigin(core::Db& db, const std::string& origin);
// Raises this replica's clock to at least `hlc` (after receiving it).
Status ObserveHlc(core::Db& db, uint64_t hlc);
Result<VersionVector> HeldVersions(core::Db& db);
// Operations this replica holds that `have` lacks, ordered by (origin, seq),
// at most `limit`.
Result<std::vector<Op>> OpsSince(core::Db& db, const VersionVector& have, size_t limit);
// Stores a peer's operation. Returns false if (origin, seq) was already held
// (the stored one wins; nothing changes).
Result<bool> StoreRemoteOp(core::Db& db, const Op& op);
// Moves origin's cursor over every contiguous seq now held.
Status AdvanceCursor(core::Db& db, const std::string& origin);
// Every operation on one row, oldest hlc first.
Result<std::vector<Op>> OpsForRow(core::Db& db, const std::string& table, const std::string& key_json);
// Number of operations held (all origins).
Result<int64_t> CountOps(core::Db& db);

}  // namespace relais::content

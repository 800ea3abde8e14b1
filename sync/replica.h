// sync/replica.h — one party of sync (a box or the gateway) seen through its
// change journal: what it holds, what a peer lacks, and the merge of a peer's
// operations into its tables.
//
// Invariants:
//  * Apply is atomic (a batch that fails leaves nothing: no operation, no row,
//    no cursor), idempotent by (origin, seq), and order-independent: replicas
//    that hold the same operations have the same synced tables, whatever the
//    order, cuts and duplicates in which they received them.
//  * Applied operations are stored in the op log unchanged (to be forwarded)
//    and are not captured again as local changes.
// Thread-safe: every call borrows the school's pool (one writer at a time).
#pragma once

#include <string>
#include <vector>

#include "content/journal.h"
#include "content/school.h"
#include "content/types.h"

namespace relais::sync {

struct ApplyReport {
  int64_t received = 0;      // operations in the batch
  int64_t new_ops = 0;       // not held before
  int64_t rows_written = 0;  // rows inserted, updated or deleted
  int64_t pending = 0;       // rows still waiting for a row they refer to
  int64_t conflicts = 0;     // conflicts recorded by this batch
};

// A conflict resolved by a rule, kept for a teacher or an admin to review.
struct SyncConflict {
  std::string id;
  std::string table;
  std::string key;     // JSON array of the row's key
  std::string column;  // "(row)" for the row's existence
  std::string rule;
  std::string class_id;  // empty when the row belongs to no class
  std::string winner_origin;
  int64_t winner_seq = 0;
  std::string winner_value;  // JSON
  std::string loser_origin;
  int64_t loser_seq = 0;
  std::string loser_value;  // JSON
  std::string detected_at;
};

class Replica {
 public:
  // `school` must outlive the Replica.
  explicit Replica(content::School& school) : school_(school) {}

  const std::string& origin() const { return school_.journal().origin(); }
  // Names the gateway's origin (same on every party; see docs/sync.md).
  Status SetGatewayOrigin(const std::string& origin);

  // The version vector: for each origin, every seq up to this one is held.
  Result<content::VersionVector> Held();
  // Operations held here that a peer holding `have` lacks, by (origin, seq),
  // at most `limit`. Calling again with the peer's new vector continues.
  Result<std::vector<content::Op>> OpsSince(const content::VersionVector& have, size_t limit);

  // Merges a peer's operations in one transaction. InvalidArgument for an
  // operation on an unknown table or column, or claiming this replica's
  // origin without being held (nothing applied).
  Result<ApplyReport> Apply(const std::vector<content::Op>& ops);

  // Unresolved conflicts, newest first. Admins see all; a teacher those of
  // their classes; students none (PermissionDenied).
  Result<std::vector<SyncConflict>> OpenConflicts(const content::Viewer& viewer, int limit);

 private:
  content::School& school_;
};

// Every row of the synced tables, one line per row in a fixed order
// ("table<TAB>JSON array of the columns"): replicas that converged have
// identical dumps.
Result<std::string> DumpSyncedTables(core::Db& db);

}  // namespace relais::sync

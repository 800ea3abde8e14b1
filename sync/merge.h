// sync/merge.h — the conflict rules: from every operation a replica holds on
// one row, the row's state. A pure function of the set of operations (not of
// their order or of duplicates), so every party that holds the same
// operations computes the same row. The rules are described in docs/sync.md.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "content/journal.h"

namespace relais::sync {

// True when `a` was made after `b` in the total order of operations:
// (hlc, origin, seq).
bool Later(const content::Op& a, const content::Op& b);

// Tables whose rows the ENT publishes (homework, course material, rosters):
// the gateway origin's edit wins over a box edit made without having seen it.
bool GatewayWins(const std::string& table);

struct ColumnWinner {
  const content::Op* op = nullptr;
  core::SqlValue value;
};

struct ConflictFound {
  std::string column;  // "(row)" for the row's existence
  std::string rule;    // "last-writer-wins", "gateway-wins", "end-wins", "password-kept"
  const content::Op* winner = nullptr;
  core::SqlValue winner_value;
  const content::Op* loser = nullptr;
  core::SqlValue loser_value;
};

struct RowState {
  // Whether the row exists: the winning insert (true) or delete (false);
  // nullopt when no operation inserted or deleted it (only updates held).
  std::optional<bool> alive;
  const content::Op* alive_op = nullptr;
  std::map<std::string, ColumnWinner> columns;  // every column some operation set
  std::vector<ConflictFound> conflicts;
};

// Resolves one row of `table` from its operations. `gateway_origin` may be
// empty (no gateway known: plain last-writer-wins). The result points into
// `ops`, which must outlive it.
RowState ResolveRow(const std::string& table, const std::vector<content::Op>& ops, const std::string& gateway_origin);

}  // namespace relais::sync

#include "sync/replica.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "core/crypto.h"
#include "sync/merge.h"

namespace relais::sync {
namespace {

using content::Op;

// One row of a synced table: (table, key JSON). Ordered parents first.
struct RowRef {
  size_t table_rank;
  std::string table;
  std::string key;
  bool operator<(const RowRef& o) const { return std::tie(table_rank, key) < std::tie(o.table_rank, o.key); }
};

RowRef MakeRow(const std::string& table, std::string key) {
  const auto& tables = content::SyncedTables();
  size_t rank = static_cast<size_t>(std::find(tables.begin(), tables.end(), table) - tables.begin());
  return {rank, table, std::move(key)};
}

Result<std::vector<std::string>> KeyColumns(core::Db& db, const std::string& table) {
  RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk", table));
  std::vector<std::string> out;
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(q.Text(0));
  }
  return out;
}

// The class a row belongs to, for showing its conflicts to the class's
// teachers; ?1 is the first key value.
const std::map<std::string, std::string>& ClassQueries() {
  static const std::map<std::string, std::string> kQueries = {
      {"classes", "SELECT id FROM classes WHERE id = ?1"},
      {"class_members", "SELECT class_id FROM class_members WHERE id = ?1"},
      {"courses", "SELECT class_id FROM courses WHERE id = ?1"},
      {"sections", "SELECT c.class_id FROM sections s JOIN courses c ON c.id = s.course_id WHERE s.id = ?1"},
      {"resources",
       "SELECT c.class_id FROM resources r JOIN sections s ON s.id = r.section_id JOIN courses c ON c.id = "
       "s.course_id WHERE r.id = ?1"},
      {"homework", "SELECT class_id FROM homework WHERE id = ?1"},
      {"homework_attachments", "SELECT class_id FROM homework WHERE id = ?1"},
      {"submissions", "SELECT h.class_id FROM submissions s JOIN homework h ON h.id = s.homework_id WHERE s.id = ?1"},
      {"submission_versions",
       "SELECT h.class_id FROM submission_versions v JOIN submissions s ON s.id = v.submission_id "
       "JOIN homework h ON h.id = s.homework_id WHERE v.id = ?1"},
      {"submission_files",
       "SELECT h.class_id FROM submission_versions v JOIN submissions s ON s.id = v.submission_id "
       "JOIN homework h ON h.id = s.homework_id WHERE v.id = ?1"},
      {"feedback",
       "SELECT h.class_id FROM feedback f JOIN submissions s ON s.id = f.submission_id "
       "JOIN homework h ON h.id = s.homework_id WHERE f.id = ?1"},
      {"feedback_files",
       "SELECT h.class_id FROM feedback f JOIN submissions s ON s.id = f.submission_id "
       "JOIN homework h ON h.id = s.homework_id WHERE f.id = ?1"},
  };
  return kQueries;
}

// Temporary version numbers given to hand-in versions while they are merged,
// far below any a renumbering uses (-1 … -n).
constexpr int64_t kFirstTemporaryVersion = -1000000000;

// The merge of one batch, inside its transaction.
class Merger {
 public:
  Merger(core::Db& db, std::string gateway_origin, std::string now)
      : db_(db), gateway_(std::move(gateway_origin)), now_(std::move(now)) {}

  // Writes the row's resolved state. Returns false when it must wait (it
  // refers to a row not held yet, or lacks a required column).
  Result<bool> Materialise(const RowRef& row);
  // Gives the versions of a submission the numbers 1..n in a deterministic
  // order (all versions kept) and sets its current version to n.
  Status Renumber(const std::string& submission_id);

  std::set<std::string>& submissions() { return submissions_; }
  int64_t rows_written() const { return rows_written_; }
  int64_t conflicts() const { return conflicts_; }

 private:
  Status RecordConflict(const std::string& table, const std::string& key, const core::SqlValue& first_key,
                        const std::string& column, const std::string& rule, const Op& winner,
                        const core::SqlValue& winner_value, const Op& loser, const core::SqlValue& loser_value);

  core::Db& db_;
  std::string gateway_;
  std::string now_;
  std::set<std::string> submissions_;
  int64_t next_temporary_ = kFirstTemporaryVersion;
  int64_t rows_written_ = 0;
  int64_t conflicts_ = 0;
};

Result<bool> Merger::Materialise(const RowRef& row) {
  RELAIS_ASSIGN_OR_RETURN(std::vector<Op> ops, content::OpsForRow(db_, row.table, row.key));
  if (ops.empty()) return true;
  RowState state = ResolveRow(row.table, ops, gateway_);
  RELAIS_ASSIGN_OR_RETURN(std::vector<std::string> key_columns, KeyColumns(db_, row.table));
  const std::vector<core::SqlValue>& key = ops.front().key;
  std::string where;
  for (size_t i = 0; i < key_columns.size(); ++i)
    where += (i ? " AND " : "") + key_columns[i] + " = ?" + std::to_string(i + 1);
  bool alive = true;
  if (state.alive) {
    alive = *state.alive;
  } else {
    RELAIS_ASSIGN_OR_RETURN(auto q, db_.Prepare("SELECT 1 FROM " + row.table + " WHERE " + where));
    for (size_t i = 0; i < key.size(); ++i) q.Bind(static_cast<int>(i + 1), key[i]);
    RELAIS_ASSIGN_OR_RETURN(alive, q.Step());
  }
  Status written;
  if (!alive) {
    RELAIS_ASSIGN_OR_RETURN(auto q, db_.Prepare("DELETE FROM " + row.table + " WHERE " + where));
    for (size_t i = 0; i < key.size(); ++i) q.Bind(static_cast<int>(i + 1), key[i]);
    written = q.Run();
  } else {
    std::vector<core::Column> columns;
    for (const auto& [name, winner] : state.columns) columns.emplace_back(name, winner.value);
    if (row.table == "submission_versions") {
      for (auto& [name, value] : columns) {
        if (name == "version") value = next_temporary_--;
        if (name == "submission_id" && std::holds_alternative<std::string>(value))
          submissions_.insert(std::get<std::string>(value));
      }
    }
    if (row.table == "submissions" && std::holds_alternative<std::string>(key[0]))
      submissions_.insert(std::get<std::string>(key[0]));
    std::string names, params, updates;
    for (size_t i = 0; i < key_columns.size(); ++i) {
      names += (i ? ", " : "") + key_columns[i];
      params += (i ? ", ?" : "?") + std::to_string(i + 1);
    }
    for (size_t i = 0; i < columns.size(); ++i) {
      names += ", " + columns[i].first;
      params += ", ?" + std::to_string(key.size() + i + 1);
      updates += (i ? ", " : "") + columns[i].first + " = excluded." + columns[i].first;
    }
    std::string conflict_keys;
    for (size_t i = 0; i < key_columns.size(); ++i) conflict_keys += (i ? ", " : "") + key_columns[i];
    std::string sql = "INSERT INTO " + row.table + " (" + names + ") VALUES (" + params + ") ON CONFLICT (" +
                      conflict_keys + ") DO " + (updates.empty() ? std::string("NOTHING") : "UPDATE SET " + updates);
    RELAIS_ASSIGN_OR_RETURN(auto q, db_.Prepare(sql));
    int index = 1;
    for (const core::SqlValue& v : key) q.Bind(index++, v);
    for (const auto& [name, value] : columns) q.Bind(index++, value);
    written = q.Run();
  }
  // A missing parent, a missing required column or a unique value taken by
  // another row: the row waits for more operations.
  if (written.code() == StatusCode::kConflict) return false;
  RELAIS_RETURN_IF_ERROR(written);
  ++rows_written_;
  for (const ConflictFound& c : state.conflicts)
    RELAIS_RETURN_IF_ERROR(RecordConflict(row.table, row.key, key[0], c.column, c.rule, *c.winner, c.winner_value,
                                          *c.loser, c.loser_value));
  return true;
}

Status Merger::Renumber(const std::string& submission_id) {
  struct Version {
    int64_t number;  // as its origin numbered it
    uint64_t hlc;
    std::string origin;
    std::string id;
    Op op;
  };
  std::vector<Version> versions;
  {
    RELAIS_ASSIGN_OR_RETURN(
        auto q, db_.Query("SELECT id, version FROM submission_versions WHERE submission_id = ?1", submission_id));
    while (true) {
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      versions.push_back({q.Int(1), 0, "", q.Text(0), {}});
    }
  }
  if (versions.empty()) return Status::Ok();
  for (Version& v : versions) {
    RELAIS_ASSIGN_OR_RETURN(std::vector<Op> ops,
                            content::OpsForRow(db_, "submission_versions", content::KeyJson({v.id})));
    if (ops.empty()) continue;  // made before the journal existed: keeps its number
    RowState state = ResolveRow("submission_versions", ops, gateway_);
    auto it = state.columns.find("version");
    if (it == state.columns.end() || !std::holds_alternative<int64_t>(it->second.value)) continue;
    v.number = std::get<int64_t>(it->second.value);
    v.hlc = it->second.op->hlc;
    v.origin = it->second.op->origin;
    v.op = *it->second.op;
  }
  std::sort(versions.begin(), versions.end(), [](const Version& a, const Version& b) {
    return std::tie(a.number, a.hlc, a.origin, a.id) < std::tie(b.number, b.hlc, b.origin, b.id);
  });
  for (size_t i = 0; i < versions.size(); ++i) {
    RELAIS_ASSIGN_OR_RETURN(auto q, db_.Query("UPDATE submission_versions SET version = ?1 WHERE id = ?2",
                                              -static_cast<int64_t>(i + 1), versions[i].id));
    RELAIS_RETURN_IF_ERROR(q.Run());
  }
  for (size_t i = 0; i < versions.size(); ++i) {
    RELAIS_ASSIGN_OR_RETURN(auto q, db_.Query("UPDATE submission_versions SET version = ?1 WHERE id = ?2",
                                              static_cast<int64_t>(i + 1), versions[i].id));
    RELAIS_RETURN_IF_ERROR(q.Run());
    // Two hand-ins numbered alike on two replicas: both kept, one renumbered.
    if (i > 0 && versions[i].number == versions[i - 1].number && !versions[i].origin.empty() &&
        !versions[i - 1].origin.empty() && versions[i].origin != versions[i - 1].origin)
      RELAIS_RETURN_IF_ERROR(RecordConflict("submission_versions", content::KeyJson({versions[i].id}), versions[i].id,
                                            "version", "versions-kept", versions[i - 1].op, versions[i].number,
                                            versions[i].op, static_cast<int64_t>(i + 1)));
  }
  RELAIS_ASSIGN_OR_RETURN(auto q, db_.Query("UPDATE submissions SET current_version = ?1 WHERE id = ?2",
                                            static_cast<int64_t>(versions.size()), submission_id));
  return q.Run();
}

Status Merger::RecordConflict(const std::string& table, const std::string& key, const core::SqlValue& first_key,
                              const std::string& column, const std::string& rule, const Op& winner,
                              const core::SqlValue& winner_value, const Op& loser, const core::SqlValue& loser_value) {
  std::optional<std::string> class_id;
  auto it = ClassQueries().find(table);
  if (it != ClassQueries().end()) {
    RELAIS_ASSIGN_OR_RETURN(auto q, db_.Prepare(it->second));
    q.Bind(1, first_key);
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) class_id = q.OptText(0);
  }
  std::string id = core::DerivedUuid("conflict", {table, key, column, loser.origin, std::to_string(loser.seq)});
  RELAIS_ASSIGN_OR_RETURN(
      auto q,
      db_.Query("INSERT INTO sync_conflicts (id, tbl, pk, col, rule, class_id, winner_origin, winner_seq, "
                "winner_value, loser_origin, loser_seq, loser_value, detected_at) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) ON CONFLICT DO NOTHING",
                id, table, key, column, rule, class_id, winner.origin, winner.seq, content::ValueJson(winner_value),
                loser.origin, loser.seq, content::ValueJson(loser_value), now_));
  RELAIS_RETURN_IF_ERROR(q.Run());
  conflicts_ += db_.Changes();
  return Status::Ok();
}

// Checks an operation against this replica's schema before anything is written.
Status Validate(core::Db& db, const Op& op) {
  if (!content::IsSyncedTable(op.table))
    return Status::InvalidArgument("an operation on an unsynced table " + op.table);
  if (!core::IsUuid(op.origin)) return Status::InvalidArgument("an operation from a malformed origin");
  if (op.seq <= 0) return Status::InvalidArgument("an operation with a bad sequence number");
  RELAIS_ASSIGN_OR_RETURN(std::vector<std::string> key_columns, KeyColumns(db, op.table));
  if (op.key.size() != key_columns.size()) return Status::InvalidArgument("an operation with a bad key on " + op.table);
  for (const core::SqlValue& v : op.key)
    if (std::holds_alternative<std::monostate>(v)) return Status::InvalidArgument("an operation with a null key");
  RELAIS_ASSIGN_OR_RETURN(const std::vector<std::string>* names, db.ColumnNames(op.table));
  for (const auto& [name, value] : op.columns) {
    if (std::find(names->begin(), names->end(), name) == names->end() ||
        std::find(key_columns.begin(), key_columns.end(), name) != key_columns.end())
      return Status::InvalidArgument("an operation on an unknown column " + op.table + "." + name);
  }
  if (op.kind == Op::Kind::kDelete && !op.columns.empty()) return Status::InvalidArgument("a deletion with columns");
  return Status::Ok();
}

}  // namespace

Status Replica::SetGatewayOrigin(const std::string& origin) {
  auto db = school_.db().Writer();
  core::Transaction txn(*db, core::Transaction::kWithoutCapture);
  RELAIS_RETURN_IF_ERROR(txn.status());
  RELAIS_RETURN_IF_ERROR(content::SetGatewayOrigin(*db, origin));
  return txn.Commit();
}

Result<content::VersionVector> Replica::Held() {
  auto db = school_.db().Reader();
  return content::HeldVersions(*db);
}

Result<std::vector<Op>> Replica::OpsSince(const content::VersionVector& have, size_t limit) {
  auto db = school_.db().Reader();
  return content::OpsSince(*db, have, limit);
}

Result<ApplyReport> Replica::Apply(const std::vector<Op>& ops) {
  ApplyReport report;
  report.received = static_cast<int64_t>(ops.size());
  auto db = school_.db().Writer();
  core::Transaction txn(*db, core::Transaction::kWithoutCapture);
  RELAIS_RETURN_IF_ERROR(txn.status());
  RELAIS_ASSIGN_OR_RETURN(content::JournalState state, content::ReadJournalState(*db));
  std::set<RowRef> todo;
  std::set<std::string> origins;
  uint64_t newest = 0;
  for (const Op& op : ops) {
    RELAIS_RETURN_IF_ERROR(Validate(*db, op));
    if (op.origin == state.origin) {
      // Our own operations coming back: held already, or forged.
      if (op.seq > state.last_seq)
        return Status::InvalidArgument("an operation claims this replica's origin with an unknown seq");
      continue;
    }
    RELAIS_ASSIGN_OR_RETURN(bool stored, content::StoreRemoteOp(*db, op));
    if (!stored) continue;
    ++report.new_ops;
    todo.insert(MakeRow(op.table, content::KeyJson(op.key)));
    origins.insert(op.origin);
    newest = std::max(newest, op.hlc);
  }
  if (report.new_ops == 0) return report;  // nothing new: nothing to write
  RELAIS_RETURN_IF_ERROR(content::ObserveHlc(*db, newest));
  for (const std::string& origin : origins) RELAIS_RETURN_IF_ERROR(content::AdvanceCursor(*db, origin));
  {
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT tbl, pk FROM sync_pending"));
    while (true) {
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      todo.insert(MakeRow(q.Text(0), q.Text(1)));
    }
  }
  Merger merger(*db, state.gateway_origin, core::FormatTime(school_.clock().Now()));
  // Parents first; rows that wait are retried while any other row lands.
  std::set<RowRef> done;
  for (bool progress = true; progress && !todo.empty();) {
    progress = false;
    for (auto it = todo.begin(); it != todo.end();) {
      RELAIS_ASSIGN_OR_RETURN(bool written, merger.Materialise(*it));
      if (written) {
        done.insert(*it);
        it = todo.erase(it);
        progress = true;
      } else {
        ++it;
      }
    }
  }
  for (const std::string& submission : merger.submissions()) RELAIS_RETURN_IF_ERROR(merger.Renumber(submission));
  for (const RowRef& row : done) {
    RELAIS_ASSIGN_OR_RETURN(auto q,
                            db->Query("DELETE FROM sync_pending WHERE tbl = ?1 AND pk = ?2", row.table, row.key));
    RELAIS_RETURN_IF_ERROR(q.Run());
  }
  for (const RowRef& row : todo) {
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("INSERT INTO sync_pending (tbl, pk) VALUES (?1, ?2) "
                                              "ON CONFLICT DO NOTHING",
                                              row.table, row.key));
    RELAIS_RETURN_IF_ERROR(q.Run());
  }
  report.rows_written = merger.rows_written();
  report.pending = static_cast<int64_t>(todo.size());
  report.conflicts = merger.conflicts();
  RELAIS_RETURN_IF_ERROR(txn.Commit());
  return report;
}

Result<std::vector<SyncConflict>> Replica::OpenConflicts(const content::Viewer& viewer, int limit) {
  if (viewer.role == content::Role::kStudent) return Status::PermissionDenied("only teachers and admins see conflicts");
  auto db = school_.db().Reader();
  RELAIS_ASSIGN_OR_RETURN(
      auto q, db->Query("SELECT id, tbl, pk, col, rule, COALESCE(class_id, ''), winner_origin, winner_seq, "
                        "COALESCE(winner_value, 'null'), loser_origin, loser_seq, COALESCE(loser_value, 'null'), "
                        "detected_at FROM sync_conflicts WHERE resolved_at IS NULL AND (?1 OR class_id IN "
                        "(SELECT class_id FROM class_members WHERE user_id = ?2 AND role = 'teacher')) "
                        "ORDER BY detected_at DESC, id LIMIT ?3",
                        viewer.role == content::Role::kAdmin, viewer.id, limit));
  std::vector<SyncConflict> out;
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({q.Text(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4), q.Text(5), q.Text(6), q.Int(7), q.Text(8),
                   q.Text(9), q.Int(10), q.Text(11), q.Text(12)});
  }
  return out;
}

Result<std::string> DumpSyncedTables(core::Db& db) {
  std::string out;
  core::ReadTransaction snapshot(db);
  for (const std::string& table : content::SyncedTables()) {
    RELAIS_ASSIGN_OR_RETURN(const std::vector<std::string>* names, db.ColumnNames(table));
    RELAIS_ASSIGN_OR_RETURN(std::vector<std::string> key_columns, KeyColumns(db, table));
    std::string columns, order;
    for (size_t i = 0; i < names->size(); ++i) columns += (i ? ", " : "") + (*names)[i];
    for (size_t i = 0; i < key_columns.size(); ++i) order += (i ? ", " : "") + key_columns[i];
    RELAIS_ASSIGN_OR_RETURN(auto q,
                            db.Prepare("SELECT json_array(" + columns + ") FROM " + table + " ORDER BY " + order));
    while (true) {
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.append(table).append("\t").append(q.Text(0)).append("\n");
    }
  }
  return out;
}

}  // namespace relais::sync

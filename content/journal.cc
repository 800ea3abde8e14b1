#include "content/journal.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/crypto.h"

namespace relais::content {
namespace {

using json = nlohmann::json;

json ToJson(const core::SqlValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* t = std::get_if<std::string>(&v)) return *t;
  return nullptr;
}

Result<core::SqlValue> FromJson(const json& j) {
  if (j.is_null()) return core::SqlValue();
  if (j.is_number_integer()) return core::SqlValue(j.get<int64_t>());
  if (j.is_number_float()) return core::SqlValue(j.get<double>());
  if (j.is_string()) return core::SqlValue(j.get<std::string>());
  return Status::Corruption("op log: a value is neither null, a number nor a string");
}

Result<Op> ReadOp(const core::Stmt& q) {
  Op op;
  op.origin = q.Text(0);
  op.seq = q.Int(1);
  op.hlc = static_cast<uint64_t>(q.Int(2));
  op.base = static_cast<uint64_t>(q.Int(3));
  op.table = q.Text(4);
  op.kind = static_cast<Op::Kind>(q.Int(5));
  json key = json::parse(q.Text(6), nullptr, false);
  json cols = json::parse(q.Text(7), nullptr, false);
  if (!key.is_array() || !cols.is_object()) return Status::Corruption("op log: a malformed operation");
  for (const json& v : key) {
    RELAIS_ASSIGN_OR_RETURN(core::SqlValue value, FromJson(v));
    op.key.push_back(std::move(value));
  }
  for (auto it = cols.begin(); it != cols.end(); ++it) {
    RELAIS_ASSIGN_OR_RETURN(core::SqlValue value, FromJson(it.value()));
    op.columns.emplace_back(it.key(), std::move(value));
  }
  return op;
}

Result<std::vector<Op>> ReadOps(core::Stmt& q) {
  std::vector<Op> out;
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    RELAIS_ASSIGN_OR_RETURN(Op op, ReadOp(q));
    out.push_back(std::move(op));
  }
  return out;
}

constexpr const char* kOpColumns = "SELECT origin, seq, hlc, base, tbl, kind, pk, cols FROM sync_ops ";

Status InsertOp(core::Db& db, const Op& op) {
  RELAIS_ASSIGN_OR_RETURN(
      auto q, db.Query("INSERT INTO sync_ops (origin, seq, hlc, base, tbl, pk, kind, cols) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
                       op.origin, op.seq, static_cast<int64_t>(op.hlc), static_cast<int64_t>(op.base), op.table,
                       KeyJson(op.key), static_cast<int64_t>(op.kind), ColumnsJson(op.columns)));
  return q.Run();
}

}  // namespace

const std::vector<std::string>& SyncedTables() {
  static const std::vector<std::string> kTables = {"users",
                                                   "classes",
                                                   "class_members",
                                                   "files",
                                                   "courses",
                                                   "sections",
                                                   "resources",
                                                   "homework",
                                                   "homework_attachments",
                                                   "submissions",
                                                   "submission_versions",
                                                   "submission_files",
                                                   "feedback",
                                                   "feedback_files"};
  return kTables;
}

bool IsSyncedTable(std::string_view table) {
  const auto& tables = SyncedTables();
  return std::find(tables.begin(), tables.end(), table) != tables.end();
}

bool operator==(const Op& a, const Op& b) {
  return a.origin == b.origin && a.seq == b.seq && a.hlc == b.hlc && a.base == b.base && a.table == b.table &&
         a.kind == b.kind && a.key == b.key && a.columns == b.columns;
}

std::string KeyJson(const std::vector<core::SqlValue>& key) {
  json j = json::array();
  for (const core::SqlValue& v : key) j.push_back(ToJson(v));
  return j.dump();
}

std::string ColumnsJson(const std::vector<core::Column>& columns) {
  json j = json::object();
  for (const auto& [name, value] : columns) j[name] = ToJson(value);
  return j.dump();
}

std::string ValueJson(const core::SqlValue& value) { return ToJson(value).dump(); }

Result<std::unique_ptr<Journal>> Journal::Attach(core::Db& writer, const core::Clock& clock) {
  RELAIS_RETURN_IF_ERROR(core::CheckCaptureSupport());
  {
    core::Transaction txn(writer, core::Transaction::kWithoutCapture);
    RELAIS_RETURN_IF_ERROR(txn.status());
    RELAIS_ASSIGN_OR_RETURN(auto q, writer.Query("INSERT INTO sync_state (id, origin) VALUES (1, ?1) "
                                                 "ON CONFLICT (id) DO NOTHING",
                                                 core::NewUuid()));
    RELAIS_RETURN_IF_ERROR(q.Run());
    RELAIS_RETURN_IF_ERROR(txn.Commit());
  }
  RELAIS_ASSIGN_OR_RETURN(JournalState state, ReadJournalState(writer));
  std::unique_ptr<Journal> journal(new Journal(clock, state.origin));
  RELAIS_RETURN_IF_ERROR(writer.EnableCapture(SyncedTables(), journal.get()));
  return journal;
}

Status Journal::Record(core::Db& db, const std::vector<core::RowChange>& changes) {
  RELAIS_ASSIGN_OR_RETURN(JournalState state, ReadJournalState(db));
  const uint64_t physical = HlcPack(static_cast<uint64_t>(std::max<int64_t>(clock_.NowMs(), 0)), 0);
  uint64_t hlc = state.hlc;
  int64_t seq = state.last_seq;
  for (const core::RowChange& change : changes) {
    Op op;
    op.origin = origin_;
    op.seq = ++seq;
    hlc = std::max(hlc + 1, physical);
    op.hlc = hlc;
    op.table = change.table;
    op.kind = change.kind;
    for (const auto& [name, value] : change.key) op.key.push_back(value);
    op.columns = change.columns;
    // Sorted by name: the canonical order of the op log and of records.
    std::sort(op.columns.begin(), op.columns.end(),
              [](const core::Column& a, const core::Column& b) { return a.first < b.first; });
    std::string key_json = KeyJson(op.key);
    RELAIS_ASSIGN_OR_RETURN(
        auto q, db.Query("SELECT COALESCE(MAX(hlc), 0) FROM sync_ops WHERE tbl = ?1 AND pk = ?2", op.table, key_json));
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    op.base = row ? static_cast<uint64_t>(q.Int(0)) : 0;
    RELAIS_RETURN_IF_ERROR(InsertOp(db, op));
  }
  RELAIS_ASSIGN_OR_RETURN(
      auto up, db.Query("UPDATE sync_state SET last_seq = ?1, hlc = ?2 WHERE id = 1", seq, static_cast<int64_t>(hlc)));
  // This replica's own cursor is last_seq (HeldVersions): one page less to write per transaction.
  return up.Run();
}

Result<JournalState> ReadJournalState(core::Db& db) {
  RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT origin, last_seq, hlc, COALESCE(gateway_origin, '') "
                                           "FROM sync_state WHERE id = 1"));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::Internal("the change journal has no origin yet");
  return JournalState{q.Text(0), q.Int(1), static_cast<uint64_t>(q.Int(2)), q.Text(3)};
}

Status SetGatewayOrigin(core::Db& db, const std::string& origin) {
  if (!core::IsUuid(origin)) return Status::InvalidArgument("not an origin id: " + origin);
  RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("UPDATE sync_state SET gateway_origin = ?1 WHERE id = 1", origin));
  return q.Run();
}

Status ObserveHlc(core::Db& db, uint64_t hlc) {
  RELAIS_ASSIGN_OR_RETURN(auto q,
                          db.Query("UPDATE sync_state SET hlc = MAX(hlc, ?1) WHERE id = 1", static_cast<int64_t>(hlc)));
  return q.Run();
}

Result<VersionVector> HeldVersions(core::Db& db) {
  RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT origin, seq FROM sync_cursors UNION ALL "
                                           "SELECT origin, last_seq FROM sync_state WHERE last_seq > 0"));
  VersionVector out;
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out[q.Text(0)] = q.Int(1);
  }
  return out;
}

Result<std::vector<Op>> OpsSince(core::Db& db, const VersionVector& have, size_t limit) {
  json vector = json::object();
  for (const auto& [origin, seq] : have) vector[origin] = seq;
  RELAIS_ASSIGN_OR_RETURN(
      auto q, db.Query(std::string(kOpColumns) + "WHERE seq > COALESCE(json_extract(?1, '$.\"' || origin || '\"'), 0) "
                                                 "ORDER BY origin, seq LIMIT ?2",
                       vector.dump(), static_cast<int64_t>(limit)));
  return ReadOps(q);
}

Result<bool> StoreRemoteOp(core::Db& db, const Op& op) {
  RELAIS_RETURN_IF_ERROR(InsertOp(db, op));
  return db.Changes() > 0;
}

Status AdvanceCursor(core::Db& db, const std::string& origin) {
  // The first missing seq after the cursor, minus one.
  RELAIS_ASSIGN_OR_RETURN(auto q,
                          db.Query("WITH RECURSIVE run(s) AS ("
                                   "  SELECT COALESCE((SELECT seq FROM sync_cursors WHERE origin = ?1), 0) "
                                   "  UNION ALL SELECT s + 1 FROM run "
                                   "  WHERE EXISTS (SELECT 1 FROM sync_ops WHERE origin = ?1 AND seq = s + 1)) "
                                   "INSERT INTO sync_cursors (origin, seq) SELECT ?1, MAX(s) FROM run WHERE true "
                                   "ON CONFLICT (origin) DO UPDATE SET seq = excluded.seq",
                                   origin));
  return q.Run();
}

Result<std::vector<Op>> OpsForRow(core::Db& db, const std::string& table, const std::string& key_json) {
  RELAIS_ASSIGN_OR_RETURN(
      auto q, db.Query(std::string(kOpColumns) + "WHERE tbl = ?1 AND pk = ?2 ORDER BY hlc, origin", table, key_json));
  return ReadOps(q);
}

Result<int64_t> CountOps(core::Db& db) {
  RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT COUNT(*) FROM sync_ops"));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? q.Int(0) : 0;
}

}  // namespace relais::content

#include "core/db.h"

#include <sqlite3.h>

#include <chrono>

#if !defined(SQLITE_ENABLE_SESSION) || !defined(SQLITE_ENABLE_PREUPDATE_HOOK)
#error "core/db.cc needs -DSQLITE_ENABLE_SESSION -DSQLITE_ENABLE_PREUPDATE_HOOK (see CMakeLists.txt)"
#endif

namespace relais::core {
namespace {

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  int primary = rc & 0xff;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) return Status::Corruption(msg);
  if (primary == SQLITE_FULL || primary == SQLITE_IOERR || primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN)
    return Status::IOError(msg);
  if (primary == SQLITE_CONSTRAINT) return Status::Conflict(msg);
  return Status::Internal(msg);
}

Result<SqlValue> ToSqlValue(sqlite3_value* v, const char* table) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
      return SqlValue(static_cast<int64_t>(sqlite3_value_int64(v)));
    case SQLITE_FLOAT:
      return SqlValue(sqlite3_value_double(v));
    case SQLITE_TEXT:
      return SqlValue(std::string(reinterpret_cast<const char*>(sqlite3_value_text(v)),
                                  static_cast<size_t>(sqlite3_value_bytes(v))));
    case SQLITE_NULL:
      return SqlValue();
    default:
      return Status::Internal(std::string("a BLOB value in captured table ") + table);
  }
}

// Owns a changeset iterator.
struct ChangesetIter {
  sqlite3_changeset_iter* it = nullptr;
  ~ChangesetIter() {
    if (it) sqlite3changeset_finalize(it);
  }
};

// Turns a session changeset into row changes with column names.
Result<std::vector<RowChange>> ParseChangeset(Db& db, int size, void* data) {
  std::vector<RowChange> out;
  ChangesetIter iter;
  int rc = sqlite3changeset_start(&iter.it, size, data);
  if (rc != SQLITE_OK) return Status::Internal(std::string("changeset: ") + sqlite3_errstr(rc));
  while ((rc = sqlite3changeset_next(iter.it)) == SQLITE_ROW) {
    const char* table = nullptr;
    int ncol = 0, op = 0, indirect = 0;
    sqlite3changeset_op(iter.it, &table, &ncol, &op, &indirect);
    unsigned char* pk = nullptr;
    int npk = 0;
    sqlite3changeset_pk(iter.it, &pk, &npk);
    RELAIS_ASSIGN_OR_RETURN(const std::vector<std::string>* names, db.ColumnNames(table));
    if (static_cast<int>(names->size()) != ncol) return Status::Internal(std::string("changeset: columns of ") + table);
    RowChange change;
    change.table = table;
    change.kind = op == SQLITE_INSERT   ? RowChange::Kind::kInsert
                  : op == SQLITE_UPDATE ? RowChange::Kind::kUpdate
                                        : RowChange::Kind::kDelete;
    for (int i = 0; i < ncol; ++i) {
      sqlite3_value* v = nullptr;
      if (pk[i]) {
        rc = op == SQLITE_INSERT ? sqlite3changeset_new(iter.it, i, &v) : sqlite3changeset_old(iter.it, i, &v);
        if (rc != SQLITE_OK || !v) return Status::Internal(std::string("changeset: key of ") + table);
        RELAIS_ASSIGN_OR_RETURN(SqlValue value, ToSqlValue(v, table));
        change.key.emplace_back((*names)[i], std::move(value));
        continue;
      }
      if (op == SQLITE_DELETE) continue;
      rc = sqlite3changeset_new(iter.it, i, &v);
      if (rc != SQLITE_OK) return Status::Internal(std::string("changeset: value of ") + table);
      if (!v) continue;  // an update that left this column unchanged
      RELAIS_ASSIGN_OR_RETURN(SqlValue value, ToSqlValue(v, table));
      change.columns.emplace_back((*names)[i], std::move(value));
    }
    out.push_back(std::move(change));
  }
  if (rc != SQLITE_DONE) return Status::Internal(std::string("changeset: ") + sqlite3_errstr(rc));
  return out;
}

}  // namespace

Status CheckCaptureSupport() {
  if (!sqlite3_compileoption_used("ENABLE_SESSION") || !sqlite3_compileoption_used("ENABLE_PREUPDATE_HOOK"))
    return Status::Internal(std::string("this SQLite library (") + sqlite3_libversion() +
                            ") lacks the session extension (SQLITE_ENABLE_SESSION and "
                            "SQLITE_ENABLE_PREUPDATE_HOOK): changes cannot be captured for sync");
  return Status::Ok();
}

Stmt::~Stmt() {
  if (stmt_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Stmt& Stmt::Bind(int index, int64_t v) {
  sqlite3_bind_int64(stmt_, index, v);
  return *this;
}
Stmt& Stmt::Bind(int index, double v) {
  sqlite3_bind_double(stmt_, index, v);
  return *this;
}
Stmt& Stmt::Bind(int index, std::string_view v) {
  sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::Bind(int index, std::nullptr_t) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}
Stmt& Stmt::BindBlob(int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::Bind(int index, const SqlValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return Bind(index, *i);
  if (const auto* d = std::get_if<double>(&v)) return Bind(index, *d);
  if (const auto* t = std::get_if<std::string>(&v)) return Bind(index, std::string_view(*t));
  return Bind(index, nullptr);
}

SqlValue Stmt::Value(int col) const {
  switch (sqlite3_column_type(stmt_, col)) {
    case SQLITE_INTEGER:
      return Int(col);
    case SQLITE_FLOAT:
      return Double(col);
    case SQLITE_NULL:
      return SqlValue();
    default:
      return Text(col);
  }
}

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, rc, "step");
}

Status Stmt::Run() {
  while (true) {
    auto row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
  }
}

int64_t Stmt::Int(int col) const { return sqlite3_column_int64(stmt_, col); }
double Stmt::Double(int col) const { return sqlite3_column_double(stmt_, col); }
std::string Stmt::Text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
}
std::optional<std::string> Stmt::OptText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}
std::optional<double> Stmt::OptDouble(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Double(col);
}
bool Stmt::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

Result<std::unique_ptr<Db>> Db::Open(const std::filesystem::path& path, Options options) {
  sqlite3* raw = nullptr;
  int flags =
      SQLITE_OPEN_NOMUTEX | (options.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status st = SqliteError(raw, rc, "open " + path.string());
    sqlite3_close(raw);
    return st;
  }
  std::unique_ptr<Db> db(new Db(raw));
  sqlite3_busy_timeout(raw, 10000);
  sqlite3_extended_result_codes(raw, 1);
  std::string pragmas =
      "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-" + std::to_string(options.cache_kib) + ";";
  if (!options.read_only) pragmas += "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;";
  RELAIS_RETURN_IF_ERROR(db->Exec(pragmas));
  return db;
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Status Db::Exec(std::string_view sql) {
  std::string copy(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, copy.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    Status st = SqliteError(nullptr, rc, "exec");
    return Status(st.code(), "exec: " + msg);
  }
  return Status::Ok();
}

Result<Stmt> Db::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Stmt(it->second, db_);
  sqlite3_stmt* stmt = nullptr;
  int rc =
      sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "prepare");
  cache_.emplace(sql, stmt);
  return Stmt(stmt, db_);
}

int64_t Db::Changes() const { return sqlite3_changes64(db_); }
int64_t Db::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

Status Db::EnableCapture(std::vector<std::string> tables, ChangeSink* sink) {
  RELAIS_RETURN_IF_ERROR(CheckCaptureSupport());
  for (const std::string& table : tables) {
    RELAIS_ASSIGN_OR_RETURN(const std::vector<std::string>* names, ColumnNames(table));
    if (names->empty()) return Status::Internal("cannot capture changes of unknown table " + table);
  }
  captured_tables_ = std::move(tables);
  sink_ = sink;
  return Status::Ok();
}

namespace {
Result<std::vector<std::string>> Names(Db& db, const std::string& sql, const std::string& table) {
  RELAIS_ASSIGN_OR_RETURN(auto q, db.Query(sql, table));
  std::vector<std::string> names;
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    names.push_back(q.Text(0));
  }
  if (names.empty()) return Status::NotFound("no table " + table);
  return names;
}
}  // namespace

Result<const std::vector<std::string>*> Db::ColumnNames(const std::string& table) {
  auto it = columns_.find(table);
  if (it != columns_.end()) return &it->second;
  RELAIS_ASSIGN_OR_RETURN(auto names, Names(*this, "SELECT name FROM pragma_table_info(?1) ORDER BY cid", table));
  return &columns_.emplace(table, std::move(names)).first->second;
}

Result<const std::vector<std::string>*> Db::KeyColumnNames(const std::string& table) {
  auto it = key_columns_.find(table);
  if (it != key_columns_.end()) return &it->second;
  RELAIS_ASSIGN_OR_RETURN(auto names,
                          Names(*this, "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk", table));
  return &key_columns_.emplace(table, std::move(names)).first->second;
}

Transaction::Transaction(Db& db, Capture capture) : db_(db), begin_(db.Exec("BEGIN IMMEDIATE")) {
  if (!begin_.ok() || capture == kWithoutCapture || !db_.sink_) return;
  int rc = sqlite3session_create(db_.db_, "main", &session_);
  for (size_t i = 0; rc == SQLITE_OK && i < db_.captured_tables_.size(); ++i)
    rc = sqlite3session_attach(session_, db_.captured_tables_[i].c_str());
  if (rc != SQLITE_OK) {
    begin_ = Status::Internal(std::string("cannot start change capture: ") + sqlite3_errstr(rc));
    (void)db_.Exec("ROLLBACK");
  }
}

Transaction::~Transaction() {
  if (session_) sqlite3session_delete(session_);
  if (!done_ && begin_.ok()) (void)db_.Exec("ROLLBACK");
}

Status Transaction::Commit() {
  RELAIS_RETURN_IF_ERROR(begin_);
  if (session_) {
    int size = 0;
    void* data = nullptr;
    int rc = sqlite3session_changeset(session_, &size, &data);
    sqlite3session_delete(session_);
    session_ = nullptr;
    if (rc != SQLITE_OK) return Status::Internal(std::string("change capture: ") + sqlite3_errstr(rc));
    std::unique_ptr<void, decltype(&sqlite3_free)> owned(data, &sqlite3_free);
    if (size > 0) {
      RELAIS_ASSIGN_OR_RETURN(std::vector<RowChange> changes, ParseChangeset(db_, size, data));
      if (!changes.empty()) RELAIS_RETURN_IF_ERROR(db_.sink_->Record(db_, changes));
    }
  }
  Status st = db_.Exec("COMMIT");
  if (st.ok()) done_ = true;
  return st;
}

ReadTransaction::ReadTransaction(Db& db) : db_(db) {
  auto begin = db_.Prepare("BEGIN");
  active_ = begin.ok() && begin->Run().ok();
}

ReadTransaction::~ReadTransaction() {
  if (!active_) return;
  auto commit = db_.Prepare("COMMIT");
  if (commit.ok()) (void)commit->Run();
}

Status Migrate(Db& db, const std::vector<Migration>& migrations) {
  int current = 0;
  {
    RELAIS_ASSIGN_OR_RETURN(auto q, db.Prepare("PRAGMA user_version"));
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) current = static_cast<int>(q.Int(0));
  }
  int newest = migrations.empty() ? 0 : migrations.back().version;
  if (current > newest)
    return Status::Corruption("database schema version " + std::to_string(current) +
                              " is newer than this program knows (" + std::to_string(newest) + "): upgrade relais");
  for (const Migration& m : migrations) {
    if (m.version <= current) continue;
    Transaction txn(db);
    RELAIS_RETURN_IF_ERROR(txn.status());
    Status st = db.Exec(m.sql);
    if (!st.ok()) return Status(st.code(), "migration " + m.name + ": " + st.message());
    RELAIS_RETURN_IF_ERROR(db.Exec("PRAGMA user_version=" + std::to_string(m.version)));
    RELAIS_RETURN_IF_ERROR(txn.Commit());
  }
  return Status::Ok();
}

namespace {
// Changes when another connection commits (https://sqlite.org/pragma.html#pragma_data_version).
Result<int64_t> DataVersion(Db& db) {
  RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("PRAGMA data_version"));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::Internal("PRAGMA data_version returned no row");
  return q.Int(0);
}
}  // namespace

Result<std::unique_ptr<DbPool>> DbPool::Open(const std::filesystem::path& path, int readers) {
  std::unique_ptr<DbPool> pool(new DbPool());
  pool->path_ = path;
  RELAIS_ASSIGN_OR_RETURN(pool->writer_, Db::Open(path));
  RELAIS_ASSIGN_OR_RETURN(pool->data_version_, DataVersion(*pool->writer_));
  for (int i = 0; i < readers; ++i) {
    Db::Options options;
    options.cache_kib = 1024;
    RELAIS_ASSIGN_OR_RETURN(auto reader, Db::Open(path, options));
    // Readers never write; query_only makes a stray write fail loudly.
    RELAIS_RETURN_IF_ERROR(reader->Exec("PRAGMA query_only=ON"));
    pool->free_readers_.push_back(reader.get());
    pool->readers_.push_back(std::move(reader));
  }
  return pool;
}

void DbPool::CheckOutsideWrites() {
  const int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  int64_t last = last_check_ns_.load(std::memory_order_relaxed);
  if (now - last < kOutsideCheckIntervalNs) return;
  if (!last_check_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed)) return;  // another thread checks
  std::unique_lock lock(writer_mu_, std::try_to_lock);
  if (!lock.owns_lock()) {
    last_check_ns_.store(last, std::memory_order_relaxed);  // a write is in progress: the next call checks
    return;
  }
  auto version = DataVersion(*writer_);
  if (!version.ok() || *version == data_version_) return;
  data_version_ = *version;
  NoteOutsideWrite();
}

void DbPool::NoteOutsideWrite() {
  outside_generation_.fetch_add(1, std::memory_order_acq_rel);
  write_generation_.fetch_add(1, std::memory_order_acq_rel);
}

DbPool::Lease DbPool::Reader() {
  std::unique_lock lock(readers_mu_);
  if (!free_readers_.empty() && waiters_.empty()) {
    Db* db = free_readers_.back();
    free_readers_.pop_back();
    return Lease(this, db, false);
  }
  Waiter me;
  waiters_.push_back(&me);
  me.cv.wait(lock, [&] { return me.db != nullptr; });
  return Lease(this, me.db, false);
}

DbPool::Lease DbPool::Writer() {
  writer_mu_.lock();
  return Lease(this, writer_.get(), true);
}

DbPool::Lease::~Lease() {
  if (!pool_) return;
  if (writer_) {
    pool_->write_generation_.fetch_add(1, std::memory_order_acq_rel);
    pool_->writer_mu_.unlock();
    return;
  }
  std::lock_guard lock(pool_->readers_mu_);
  if (pool_->waiters_.empty()) {
    pool_->free_readers_.push_back(db_);
    return;
  }
  // Hand the connection straight to the longest waiter.
  Waiter* next = pool_->waiters_.front();
  pool_->waiters_.pop_front();
  next->db = db_;
  next->cv.notify_one();
}

}  // namespace relais::core

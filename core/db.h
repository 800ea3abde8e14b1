// core/db.h — a small SQLite wrapper: connections, cached prepared statements,
// RAII transactions, numbered migrations and a connection pool.
//
// Invariants:
//  * Every connection is opened in WAL mode with synchronous=FULL, so a
//    committed transaction survives a power cut (the WAL is fsynced on commit).
//  * A Db is used by one thread at a time (the pool guarantees it); SQLite's
//    own mutexes are switched off per connection (SQLITE_OPEN_NOMUTEX).
//  * Statements are prepared once per connection and cached by their SQL text;
//    a Stmt handle resets and clears its statement when it goes out of scope.
//  * Parameters are always bound, never concatenated into SQL.
//  * Change capture: once EnableCapture() was called on a connection, every
//    Transaction on it records the net changes to the captured tables with
//    SQLite's session extension and hands them to the ChangeSink just before
//    COMMIT, inside the same transaction: the data and its change rows commit
//    together or not at all. Writes outside a Transaction are not captured.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;
struct sqlite3_session;

namespace relais::core {

class Db;

// One SQLite value: NULL, INTEGER, REAL or TEXT (captured tables hold no BLOBs).
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;
using Column = std::pair<std::string, SqlValue>;  // column name, value

// The net change of one row in one transaction, as seen by the session
// extension: several writes to a row collapse into one change.
struct RowChange {
  enum class Kind { kInsert = 1, kUpdate = 2, kDelete = 3 };
  std::string table;
  Kind kind = Kind::kInsert;
  std::vector<Column> key;      // the primary-key columns, in table order
  std::vector<Column> columns;  // insert: every other column; update: the changed ones; delete: none
};

// Receives the captured changes of a transaction. Implemented by the store
// that owns the change journal (content/journal.h).
class ChangeSink {
 public:
  virtual ~ChangeSink() = default;
  // Called inside the transaction on `db`, just before COMMIT, with its net
  // changes (never empty). An error aborts the commit (the caller rolls back).
  [[nodiscard]] virtual Status Record(Db& db, const std::vector<RowChange>& changes) = 0;
};

// OK when this SQLite library was built with the session extension and the
// pre-update hook (Debian's is); Internal otherwise.
Status CheckCaptureSupport();

// A prepared statement borrowed from a Db's cache. Must not outlive the Db.
class Stmt {
 public:
  Stmt(sqlite3_stmt* stmt, sqlite3* db) : stmt_(stmt), db_(db) {}
  Stmt(Stmt&& other) noexcept : stmt_(other.stmt_), db_(other.db_) { other.stmt_ = nullptr; }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Bind by 1-based index.
  Stmt& Bind(int index, int64_t v);
  Stmt& Bind(int index, int v) { return Bind(index, static_cast<int64_t>(v)); }
  Stmt& Bind(int index, bool v) { return Bind(index, static_cast<int64_t>(v ? 1 : 0)); }
  Stmt& Bind(int index, double v);
  Stmt& Bind(int index, std::string_view v);
  Stmt& Bind(int index, const std::string& v) { return Bind(index, std::string_view(v)); }
  Stmt& Bind(int index, const char* v) { return Bind(index, std::string_view(v)); }
  Stmt& Bind(int index, std::nullptr_t);
  template <typename T>
  Stmt& Bind(int index, const std::optional<T>& v) {
    return v ? Bind(index, *v) : Bind(index, nullptr);
  }
  Stmt& BindBlob(int index, std::string_view bytes);
  Stmt& Bind(int index, const SqlValue& v);

  // Advances to the next row: true when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion; an error if the statement fails.
  Status Run();

  int64_t Int(int col) const;
  double Double(int col) const;
  std::string Text(int col) const;
  std::optional<std::string> OptText(int col) const;
  std::optional<double> OptDouble(int col) const;
  bool IsNull(int col) const;
  // The column's value; a BLOB reads as its bytes in a string.
  SqlValue Value(int col) const;

 private:
  sqlite3_stmt* stmt_;
  sqlite3* db_;
};

class Db {
 public:
  struct Options {
    bool read_only = false;
    int cache_kib = 2048;  // page cache per connection
  };
  static Result<std::unique_ptr<Db>> Open(const std::filesystem::path& path, Options options);
  static Result<std::unique_ptr<Db>> Open(const std::filesystem::path& path) { return Open(path, Options{}); }
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements that take no parameters and return no rows.
  Status Exec(std::string_view sql);

  // Returns the cached statement for `sql`, preparing it on first use, with
  // `args` bound to ?1, ?2, ... in order.
  template <typename... Args>
  Result<Stmt> Query(const std::string& sql, const Args&... args) {
    auto stmt = Prepare(sql);
    if (!stmt.ok()) return stmt.status();
    int i = 1;
    (stmt->Bind(i++, args), ...);
    return stmt;
  }
  Result<Stmt> Prepare(const std::string& sql);

  int64_t Changes() const;
  int64_t LastInsertRowId() const;
  sqlite3* handle() { return db_; }

  // From now on, every Transaction on this connection captures the changes
  // to `tables` (which must have a primary key) and hands them to `sink`
  // before committing. `sink` must outlive the Db. Returns Internal if SQLite
  // lacks the session extension.
  Status EnableCapture(std::vector<std::string> tables, ChangeSink* sink);
  bool capturing() const { return sink_ != nullptr; }

  // The names of `table`'s columns in declaration order (cached).
  Result<const std::vector<std::string>*> ColumnNames(const std::string& table);
  // The names of `table`'s primary-key columns in key order (cached).
  Result<const std::vector<std::string>*> KeyColumnNames(const std::string& table);

 private:
  friend class Transaction;
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
  std::vector<std::string> captured_tables_;
  ChangeSink* sink_ = nullptr;
  std::unordered_map<std::string, std::vector<std::string>> columns_;
  std::unordered_map<std::string, std::vector<std::string>> key_columns_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless Commit()
// succeeded. A mutation and its audit/change rows share one Transaction.
// On a capturing Db (EnableCapture) the changes are captured unless the
// transaction is opened kWithoutCapture — only for code that writes the
// change journal itself (applying a peer's changes).
class [[nodiscard]] Transaction {
 public:
  enum Capture { kCapture, kWithoutCapture };
  explicit Transaction(Db& db, Capture capture = kCapture);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  const Status& status() const { return begin_; }
  // Hands the captured changes to the sink, then commits. On error nothing
  // is committed (the destructor rolls back).
  Status Commit();

 private:
  Db& db_;
  Status begin_;
  sqlite3_session* session_ = nullptr;
  bool done_ = false;
};

// A read transaction: one consistent snapshot for several queries (and one
// WAL read lock instead of one per statement). Ends on destruction.
class ReadTransaction {
 public:
  explicit ReadTransaction(Db& db);
  ~ReadTransaction();
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  Db& db_;
  bool active_ = false;
};

// While alive, commits on `db` are not fsynced (synchronous=NORMAL): they
// reach the disk with the next fsynced commit or checkpoint, and a power cut
// before that rolls them back. Only for writes whose loss costs nothing a
// user was told is saved (a login session: the pupil logs in again). The
// database stays consistent either way (WAL mode).
class RelaxedDurability {
 public:
  explicit RelaxedDurability(Db& db) : db_(db) { (void)db_.Exec("PRAGMA synchronous=NORMAL"); }
  ~RelaxedDurability() { (void)db_.Exec("PRAGMA synchronous=FULL"); }
  RelaxedDurability(const RelaxedDurability&) = delete;
  RelaxedDurability& operator=(const RelaxedDurability&) = delete;

 private:
  Db& db_;
};

struct Migration {
  int version;       // 1, 2, 3 … contiguous, never reused
  std::string name;  // "0001_init"
  std::string sql;
};

// Applies, in order and each in its own transaction, the migrations whose
// version is above the database's PRAGMA user_version. Returns Corruption if
// the database is newer than the newest migration known to this binary.
Status Migrate(Db& db, const std::vector<Migration>& migrations);

// A pool of connections to one database file: one writer (serialised) and a
// few readers (WAL lets them read while the writer writes). Thread-safe.
class DbPool {
 public:
  static Result<std::unique_ptr<DbPool>> Open(const std::filesystem::path& path, int readers);

  // A borrowed connection, given back when the lease is destroyed.
  class Lease {
   public:
    Lease(DbPool* pool, Db* db, bool writer) : pool_(pool), db_(db), writer_(writer) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), db_(o.db_), writer_(o.writer_) { o.pool_ = nullptr; }
    Lease(const Lease&) = delete;
    ~Lease();
    Db& operator*() { return *db_; }
    Db* operator->() { return db_; }

   private:
    DbPool* pool_;
    Db* db_;
    bool writer_;
  };

  // Readers are handed out first come, first served, so that under a burst
  // of requests no thread waits much longer than the others.
  Lease Reader();
  Lease Writer();  // blocks while another thread writes
  const std::filesystem::path& path() const { return path_; }
  // Grows each time a writer lease ends (after its transaction committed or
  // rolled back): a cheap way to know whether anything may have changed.
  uint64_t write_generation() const { return write_generation_.load(std::memory_order_acquire); }

  // Writes made behind the pool's back: by another process (`relais sync`,
  // `relais user` while `relais serve` runs), or ones the owner reports with
  // NoteOutsideWrite (a sync bundle applied in-process, which changes
  // accounts wholesale). outside_generation() grows with each one seen, and
  // write_generation() with it, so caches keyed on either drop their entries.
  uint64_t outside_generation() const { return outside_generation_.load(std::memory_order_acquire); }
  // Asks SQLite whether another connection committed since the last check
  // (PRAGMA data_version on the writer connection: the pool's readers never
  // write, so "another connection" is another process) and, if so, counts it
  // as above. Meant to run once per request: the pragma takes a few
  // microseconds (the WAL's shared-memory locks), so it runs at most once per
  // kOutsideCheckIntervalNs whatever the request rate, and not while a write
  // is in progress (the next call checks). A request more than that interval
  // after a quiet moment always checks.
  void CheckOutsideWrites();
  static constexpr int64_t kOutsideCheckIntervalNs = 1'000'000;
  void NoteOutsideWrite();

 private:
  DbPool() = default;
  std::filesystem::path path_;
  std::unique_ptr<Db> writer_;
  std::mutex writer_mu_;
  std::vector<std::unique_ptr<Db>> readers_;
  std::vector<Db*> free_readers_;
  struct Waiter {
    std::condition_variable cv;
    Db* db = nullptr;
  };
  std::deque<Waiter*> waiters_;
  std::mutex readers_mu_;
  std::atomic<uint64_t> write_generation_{0};
  std::atomic<uint64_t> outside_generation_{0};
  int64_t data_version_ = 0;               // the writer's PRAGMA data_version at the last check; under writer_mu_
  std::atomic<int64_t> last_check_ns_{0};  // steady clock of the last CheckOutsideWrites that ran
};

}  // namespace relais::core

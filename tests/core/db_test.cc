#include "core/db.h"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/crypto.h"

namespace fs = std::filesystem;
using relais::StatusCode;
using relais::core::Db;
using relais::core::DbPool;
using relais::core::Migrate;
using relais::core::Migration;
using relais::core::Transaction;

namespace {
struct TempDir {
  fs::path path = fs::temp_directory_path() / ("relais-core-" + relais::core::RandomToken(8));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

int64_t CountRows(Db& db, const std::string& table) {
  auto q = db.Query("SELECT COUNT(*) FROM " + table);
  REQUIRE(q.ok());
  REQUIRE(*q->Step());
  return q->Int(0);
}
}  // namespace

TEST_CASE("migrations apply in order once and record the schema version") {
  TempDir dir;
  auto db = Db::Open(dir.path / "t.db");
  REQUIRE(db.ok());
  std::vector<Migration> migrations = {{1, "0001_a", "CREATE TABLE a (x INTEGER);"},
                                       {2, "0002_b", "CREATE TABLE b (y TEXT); INSERT INTO a VALUES (1);"}};
  REQUIRE(Migrate(**db, migrations).ok());
  REQUIRE(Migrate(**db, migrations).ok());  // second run: nothing to do
  CHECK(CountRows(**db, "a") == 1);
  auto v = (*db)->Query("PRAGMA user_version");
  REQUIRE(v.ok());
  REQUIRE(*v->Step());
  CHECK(v->Int(0) == 2);
}

TEST_CASE("a failing migration leaves the database at the previous version") {
  TempDir dir;
  auto db = Db::Open(dir.path / "t.db");
  REQUIRE(db.ok());
  std::vector<Migration> migrations = {{1, "0001_a", "CREATE TABLE a (x INTEGER);"},
                                       {2, "0002_bad", "CREATE TABLE c (z); THIS IS NOT SQL;"}};
  CHECK_FALSE(Migrate(**db, migrations).ok());
  auto c = (*db)->Query("SELECT COUNT(*) FROM sqlite_master WHERE name = 'c'");
  REQUIRE(c.ok());
  REQUIRE(*c->Step());
  CHECK(c->Int(0) == 0);
}

TEST_CASE("a database newer than the program is refused, not damaged") {
  TempDir dir;
  auto db = Db::Open(dir.path / "t.db");
  REQUIRE(db.ok());
  REQUIRE((*db)->Exec("PRAGMA user_version = 7").ok());
  auto st = Migrate(**db, {{1, "0001_a", "CREATE TABLE a (x);"}});
  CHECK(st.code() == StatusCode::kCorruption);
  CHECK(st.message().find("newer") != std::string::npos);
}

TEST_CASE("a transaction that is not committed is rolled back") {
  TempDir dir;
  auto db = Db::Open(dir.path / "t.db");
  REQUIRE(db.ok());
  REQUIRE((*db)->Exec("CREATE TABLE t (x INTEGER)").ok());
  {
    Transaction txn(**db);
    REQUIRE(txn.status().ok());
    auto q = (*db)->Query("INSERT INTO t VALUES (?1)", 42);
    REQUIRE(q.ok());
    REQUIRE(q->Run().ok());
  }
  CHECK(CountRows(**db, "t") == 0);
  {
    Transaction txn(**db);
    auto q = (*db)->Query("INSERT INTO t VALUES (?1)", 43);
    REQUIRE(q.ok());
    REQUIRE(q->Run().ok());
    REQUIRE(txn.Commit().ok());
  }
  CHECK(CountRows(**db, "t") == 1);
}

TEST_CASE("bound parameters keep quotes and NULs as data") {
  TempDir dir;
  auto db = Db::Open(dir.path / "t.db");
  REQUIRE(db.ok());
  REQUIRE((*db)->Exec("CREATE TABLE t (s TEXT)").ok());
  std::string evil = "x'); DROP TABLE t; --";
  {
    auto q = (*db)->Query("INSERT INTO t VALUES (?1)", evil);
    REQUIRE(q.ok());
    REQUIRE(q->Run().ok());
  }
  auto q = (*db)->Query("SELECT s FROM t");
  REQUIRE(q.ok());
  REQUIRE(*q->Step());
  CHECK(q->Text(0) == evil);
}

TEST_CASE("constraint violations are reported as conflicts") {
  TempDir dir;
  auto db = Db::Open(dir.path / "t.db");
  REQUIRE(db.ok());
  REQUIRE((*db)->Exec("CREATE TABLE t (s TEXT UNIQUE)").ok());
  REQUIRE((*db)->Query("INSERT INTO t VALUES ('a')")->Run().ok());
  auto st = (*db)->Query("INSERT INTO t VALUES ('a')")->Run();
  CHECK(st.code() == StatusCode::kConflict);
}

TEST_CASE("pool readers see committed writes and cannot write") {
  TempDir dir;
  {
    auto db = Db::Open(dir.path / "t.db");
    REQUIRE(db.ok());
    REQUIRE((*db)->Exec("CREATE TABLE t (x INTEGER)").ok());
  }
  auto pool = DbPool::Open(dir.path / "t.db", 2);
  REQUIRE(pool.ok());
  {
    auto w = (*pool)->Writer();
    REQUIRE(w->Query("INSERT INTO t VALUES (1)")->Run().ok());
  }
  auto r = (*pool)->Reader();
  CHECK(CountRows(*r, "t") == 1);
  CHECK_FALSE(r->Query("INSERT INTO t VALUES (2)")->Run().ok());
}

TEST_CASE("a file that is not a database is reported as corruption") {
  TempDir dir;
  std::FILE* f = std::fopen((dir.path / "bad.db").c_str(), "w");
  std::fputs("this is not an SQLite database, just some text that is long enough to matter.............", f);
  std::fclose(f);
  auto db = Db::Open(dir.path / "bad.db");
  CHECK_FALSE(db.ok());
  if (!db.ok()) CHECK(db.status().code() == StatusCode::kCorruption);
}

TEST_CASE("a pool sees another connection's commit at its next check, and not its own writes") {
  TempDir dir;
  auto pool = DbPool::Open(dir.path / "t.db", 1);
  REQUIRE(pool.ok());
  {
    auto w = (*pool)->Writer();
    REQUIRE(w->Exec("CREATE TABLE t (x INTEGER)").ok());
  }
  // The stimulus, not a wait: the pool checks at most once per interval of its
  // own steady clock, so the test lets that much time pass.
  auto pause = [] { std::this_thread::sleep_for(std::chrono::nanoseconds(2 * DbPool::kOutsideCheckIntervalNs)); };
  pause();
  (*pool)->CheckOutsideWrites();
  CHECK((*pool)->outside_generation() == 0);  // its own writes are not "outside"
  // Another process (here: another connection) commits.
  auto other = Db::Open(dir.path / "t.db");
  REQUIRE(other.ok());
  REQUIRE((*other)->Exec("INSERT INTO t VALUES (1)").ok());
  uint64_t writes = (*pool)->write_generation();
  pause();
  (*pool)->CheckOutsideWrites();
  CHECK((*pool)->outside_generation() == 1);
  CHECK((*pool)->write_generation() > writes);  // the response caches drop their entries too
  pause();
  (*pool)->CheckOutsideWrites();
  CHECK((*pool)->outside_generation() == 1);  // once per commit
  // Two commits between checks count once: what matters is that something moved.
  REQUIRE((*other)->Exec("INSERT INTO t VALUES (2)").ok());
  REQUIRE((*other)->Exec("INSERT INTO t VALUES (3)").ok());
  pause();
  (*pool)->CheckOutsideWrites();
  CHECK((*pool)->outside_generation() == 2);
  (*pool)->NoteOutsideWrite();
  CHECK((*pool)->outside_generation() == 3);
}

// hub/store_pg.cc — the gateway's store on PostgreSQL (libpq).
//
// Several `relais-hub` processes share one database and keep no state of
// their own, so every invariant of hub_store.h is enforced by the database:
//  * Feed numbers: IngestOps takes the school's row FOR NO KEY UPDATE first.
//    Writers of one school queue on that row lock until the holder commits,
//    so feed numbers are handed out, and become visible, in order and without
//    gaps (a bigserial would let a reader see n+1 while n is uncommitted).
//  * Operations go in with INSERT … ON CONFLICT DO NOTHING, keyed by
//    (school, origin, seq); a whole batch costs four round trips (lock, find
//    the ones already stored, insert the rest from arrays, move the heads).
//  * Enrolment codes and upload offsets change with one conditional UPDATE
//    (… WHERE used_at IS NULL / WHERE received = $offset): a concurrent
//    second caller waits for the row, re-checks the condition and loses.
//  * Chunk bytes live in a bytea column (chunks are at most a few MiB), so
//    every hub process reads what another wrote, and backups take them along.
//  * The schema is created or upgraded under an advisory lock, so hubs that
//    start together do not race.
// All statements run in READ COMMITTED, PostgreSQL's default.
#include <arpa/inet.h>
#include <libpq-fe.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include "core/crypto.h"
#include "hub/migrations.h"
#include "hub/store.h"
#include "hub/store_internal.h"
#include "sync/chunks.h"

namespace relais::hub {
namespace {

constexpr Oid kByteaOid = 17;
constexpr Oid kInt8ArrayOid = 1016;
constexpr Oid kTextArrayOid = 1009;
constexpr Oid kByteaArrayOid = 1001;
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;

// One statement parameter, sent in text form, or binary for bytea and arrays.
struct PgArg {
  std::string value;
  Oid type = 0;  // 0: let the server infer it from the statement
  bool binary = false;
  bool null = false;
};
PgArg Arg(std::string_view s) { return {std::string(s)}; }
PgArg Arg(int64_t v) { return {std::to_string(v)}; }
PgArg Arg(int v) { return {std::to_string(v)}; }
PgArg Bytes(std::string_view s) { return {std::string(s), kByteaOid, true}; }

void PutBe32(std::string& out, uint32_t v) {
  v = htonl(v);
  out.append(reinterpret_cast<const char*>(&v), 4);
}
uint64_t Be64(uint64_t v) { return (static_cast<uint64_t>(htonl(static_cast<uint32_t>(v))) << 32) | htonl(v >> 32); }

// A one-dimensional array in PostgreSQL's binary array format.
template <typename T, typename Put>
PgArg ArrayArg(Oid array_oid, Oid element_oid, const std::vector<T>& items, Put put) {
  std::string out;
  PutBe32(out, 1);  // dimensions
  PutBe32(out, 0);  // no nulls
  PutBe32(out, element_oid);
  PutBe32(out, static_cast<uint32_t>(items.size()));
  PutBe32(out, 1);  // lower bound
  for (const T& item : items) put(out, item);
  return {std::move(out), array_oid, true};
}
PgArg Int8Array(const std::vector<int64_t>& v) {
  return ArrayArg(kInt8ArrayOid, kInt8Oid, v, [](std::string& out, int64_t x) {
    PutBe32(out, 8);
    uint64_t be = Be64(static_cast<uint64_t>(x));
    out.append(reinterpret_cast<const char*>(&be), 8);
  });
}
PgArg BytesArray(Oid array_oid, Oid element_oid, const std::vector<std::string_view>& v) {
  return ArrayArg(array_oid, element_oid, v, [](std::string& out, std::string_view s) {
    PutBe32(out, static_cast<uint32_t>(s.size()));
    out.append(s);
  });
}

// A query's result, with binary columns: integers are big-endian, text and
// bytea are raw bytes.
class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
  PGresult* get() const { return r_.get(); }
  int rows() const { return PQntuples(r_.get()); }
  int64_t affected() const {
    const char* n = PQcmdTuples(r_.get());
    return n && *n ? std::stoll(n) : 0;
  }
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col); }
  std::string Text(int row, int col) const {
    return std::string(PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col)));
  }
  int64_t Int(int row, int col) const {
    const auto* p = reinterpret_cast<const unsigned char*>(PQgetvalue(r_.get(), row, col));
    int len = PQgetlength(r_.get(), row, col);
    uint64_t v = 0;
    for (int i = 0; i < len; ++i) v = (v << 8) | p[i];
    if (len == 4) return static_cast<int32_t>(v);
    if (len == 2) return static_cast<int16_t>(v);
    return static_cast<int64_t>(v);
  }

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

// Maps a failed result to a Status: constraint violations are Conflict, a
// lost connection IOError, anything else Internal.
Status PgError(PGconn* conn, const PGresult* res) {
  if (PQstatus(conn) != CONNECTION_OK) return Status::IOError(std::string("postgresql: ") + PQerrorMessage(conn));
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  if (state && std::strncmp(state, "23", 2) == 0) return Status::Conflict(message);
  return Status::Internal("postgresql: " + message);
}

// One connection and the statements prepared on it. Used by one thread at a
// time (the pool's lease guarantees it).
struct PgConn {
  PGconn* conn = nullptr;
  std::unordered_map<std::string, std::string> prepared;  // SQL → statement name
  ~PgConn() {
    if (conn) PQfinish(conn);
  }

  // Runs `sql`, prepared once per connection, with `args`; rows come back in
  // binary form.
  Result<PgResult> Run(const std::string& sql, const std::vector<PgArg>& args = {}) {
    auto it = prepared.find(sql);
    if (it == prepared.end()) {
      std::string name = "s" + std::to_string(prepared.size());
      std::vector<Oid> types;
      for (const PgArg& a : args) types.push_back(a.type);
      PgResult prep(PQprepare(conn, name.c_str(), sql.c_str(), static_cast<int>(types.size()), types.data()));
      if (PQresultStatus(prep.get()) != PGRES_COMMAND_OK) return PgError(conn, prep.get());
      it = prepared.emplace(sql, name).first;
    }
    std::vector<const char*> values;
    std::vector<int> lengths, formats;
    for (const PgArg& a : args) {
      values.push_back(a.null ? nullptr : a.value.data());
      lengths.push_back(static_cast<int>(a.value.size()));
      formats.push_back(a.binary ? 1 : 0);
    }
    PgResult res(PQexecPrepared(conn, it->second.c_str(), static_cast<int>(args.size()), values.data(), lengths.data(),
                                formats.data(), /*resultFormat=*/1));
    ExecStatusType st = PQresultStatus(res.get());
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) return PgError(conn, res.get());
    return res;
  }

  // Runs statements without parameters or rows (BEGIN, COMMIT, DDL).
  Status Exec(const std::string& sql) {
    PgResult res(PQexec(conn, sql.c_str()));
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) return PgError(conn, res.get());
    return Status::Ok();
  }
};

Result<std::unique_ptr<PgConn>> Connect(const std::string& url) {
  auto c = std::make_unique<PgConn>();
  c->conn = PQconnectdb(url.c_str());
  if (!c->conn || PQstatus(c->conn) != CONNECTION_OK)
    return Status::IOError(std::string("cannot connect to postgresql: ") + (c->conn ? PQerrorMessage(c->conn) : ""));
  RELAIS_RETURN_IF_ERROR(c->Exec("SET client_min_messages = warning"));
  return c;
}

// A fixed set of connections handed out one thread at a time. A connection
// found broken when it comes back is reopened on its next use.
class PgPool {
 public:
  PgPool(std::string url, std::vector<std::unique_ptr<PgConn>> conns) : url_(std::move(url)) {
    for (auto& c : conns) free_.push_back(c.release());
  }
  ~PgPool() {
    for (PgConn* c : free_) delete c;
  }

  class Lease {
   public:
    Lease(PgPool* pool, PgConn* c) : pool_(pool), c_(c) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), c_(o.c_) { o.c_ = nullptr; }
    ~Lease() {
      if (c_) pool_->Return(c_);
    }
    PgConn* operator->() { return c_; }
    PgConn& operator*() { return *c_; }

   private:
    PgPool* pool_;
    PgConn* c_;
  };

  Result<Lease> Get() {
    PgConn* c;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !free_.empty(); });
      c = free_.front();
      free_.pop_front();
    }
    if (PQstatus(c->conn) != CONNECTION_OK) {
      auto fresh = Connect(url_);
      if (!fresh.ok()) {
        Return(c);
        return fresh.status();
      }
      delete c;
      c = fresh->release();
    }
    return Lease(this, c);
  }

 private:
  void Return(PgConn* c) {
    {
      std::lock_guard lock(mu_);
      free_.push_back(c);
    }
    cv_.notify_one();
  }
  std::string url_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PgConn*> free_;
};

// BEGIN on construction; ROLLBACK on destruction unless Commit() succeeded.
class PgTxn {
 public:
  explicit PgTxn(PgConn& c) : c_(c), begin_(c.Exec("BEGIN")) {}
  ~PgTxn() {
    if (!done_ && begin_.ok()) (void)c_.Exec("ROLLBACK");
  }
  const Status& status() const { return begin_; }
  Status Commit() {
    done_ = true;
    return c_.Exec("COMMIT");
  }

 private:
  PgConn& c_;
  Status begin_;
  bool done_ = false;
};

constexpr const char* kBoxColumns =
    "id, school_id, sign_public_key, enc_public_key, enc_key_epoch, certificate, enrolled_at, revoked_at";
constexpr const char* kUploadColumns = "id, school_id, box_id, kind, length, received, created_at, updated_at";

HubBox BoxFromRow(const PgResult& r, int i) {
  HubBox b;
  b.id = r.Text(i, 0);
  b.school_id = r.Text(i, 1);
  b.sign_public_key = r.Text(i, 2);
  b.enc_public_key = r.Text(i, 3);
  b.enc_key_epoch = r.Int(i, 4);
  b.certificate = r.Text(i, 5);
  b.enrolled_at = r.Int(i, 6);
  if (!r.IsNull(i, 7)) b.revoked_at = r.Int(i, 7);
  return b;
}

HubUpload UploadFromRow(const PgResult& r, int i) {
  return {r.Text(i, 0), r.Text(i, 1), r.Text(i, 2), r.Text(i, 3), r.Int(i, 4), r.Int(i, 5), r.Int(i, 6), r.Int(i, 7)};
}

std::vector<HubOp> OpsFromRows(const PgResult& r) {
  std::vector<HubOp> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back({r.Text(i, 0), r.Int(i, 1), r.Int(i, 2), r.Text(i, 3), r.Int(i, 4)});
  return out;
}

class PgHubStore final : public HubStore {
 public:
  explicit PgHubStore(std::unique_ptr<PgPool> pool) : pool_(std::move(pool)) {}

  const char* engine() const override { return "postgresql"; }

  Result<HubSchool> AddSchool(std::string_view name, int64_t now) override {
    if (name.empty()) return Status::InvalidArgument("a school needs a name");
    HubSchool s{core::NewUuid(), std::string(name), now};
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    RELAIS_ASSIGN_OR_RETURN(auto r, c->Run("INSERT INTO hub_schools (id, name, created_at) VALUES ($1, $2, $3)",
                                           {Arg(s.id), Arg(s.name), Arg(now)}));
    return s;
  }

  Result<HubSchool> GetSchool(std::string_view id) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    RELAIS_ASSIGN_OR_RETURN(auto r, c->Run("SELECT id, name, created_at FROM hub_schools WHERE id = $1", {Arg(id)}));
    if (r.rows() == 0) return Status::NotFound("no such school");
    return HubSchool{r.Text(0, 0), r.Text(0, 1), r.Int(0, 2)};
  }

  Result<std::vector<HubSchool>> ListSchools() override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    RELAIS_ASSIGN_OR_RETURN(auto r,
                            c->Run("SELECT id, name, created_at FROM hub_schools ORDER BY name COLLATE \"C\", id"));
    std::vector<HubSchool> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back({r.Text(i, 0), r.Text(i, 1), r.Int(i, 2)});
    return out;
  }

  Status AddBox(const HubBox& b) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    return InsertBox(*c, b);
  }

  Result<HubBox> GetBox(std::string_view id) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    RELAIS_ASSIGN_OR_RETURN(auto r,
                            c->Run(std::string("SELECT ") + kBoxColumns + " FROM hub_boxes WHERE id = $1", {Arg(id)}));
    if (r.rows() == 0) return Status::NotFound("no such box");
    return BoxFromRow(r, 0);
  }

  Result<std::vector<HubBox>> ListBoxes(std::string_view school_id) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    RELAIS_ASSIGN_OR_RETURN(auto r, c->Run(std::string("SELECT ") + kBoxColumns +
                                               " FROM hub_boxes WHERE school_id = $1 ORDER BY id COLLATE \"C\"",
                                           {Arg(school_id)}));
    std::vector<HubBox> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(BoxFromRow(r, i));
    return out;
  }

  Status RotateBoxKey(std::string_view box_id, std::string_view enc_public_key, int64_t epoch,
                      std::string_view certificate) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    RELAIS_ASSIGN_OR_RETURN(auto r, c->Run("UPDATE hub_boxes SET enc_public_key = $2, enc_key_epoch = $3, "
                                           "certificate = $4 WHERE id = $1 AND enc_key_epoch < $3 "
                                           "AND revoked_at IS NULL",
                                           {Arg(box_id), Bytes(enc_public_key), Arg(epoch), Bytes(certificate)}));
    if (r.affected() == 1) return Status::Ok();
    RELAIS_ASSIGN_OR_RETURN(auto exists, c->Run("SELECT 1 FROM hub_boxes WHERE id = $1", {Arg(box_id)}));
    if (exists.rows() == 0) return Status::NotFound("no such box");
    return Status::Conflict("the box is revoked or already has a newer key");
  }

  Status AddEnrolmentCode(std::string_view code_id, std::string_view sealed_key, std::string_view school_id,
                          int64_t expires_at, int64_t now) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    RELAIS_RETURN_IF_ERROR(SchoolExists(*c, school_id));
    RELAIS_ASSIGN_OR_RETURN(auto r,
                            c->Run("INSERT INTO hub_enrolment_codes (code_id, school_id, sealed_key, "
                                   "created_at, expires_at) VALUES ($1, $2, $3, $4, $5) "
                                   "ON CONFLICT DO NOTHING",
                                   {Bytes(code_id), Arg(school_id), Bytes(sealed_key), Arg(now), Arg(expires_at)}));
    if (r.affected() == 0) return Status::Conflict("an enrolment code with this id exists");
    return Status::Ok();
  }

  Result<HubEnrolmentCode> GetEnrolmentCode(std::string_view code_id) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    RELAIS_ASSIGN_OR_RETURN(auto r, c->Run("SELECT code_id, school_id, sealed_key, expires_at, used_at, "
                                           "COALESCE(box_id, '') FROM hub_enrolment_codes WHERE code_id = $1",
                                           {Bytes(code_id)}));
    if (r.rows() == 0) return Status::NotFound("no such enrolment code");
    HubEnrolmentCode code{r.Text(0, 0), r.Text(0, 1), r.Text(0, 2), r.Int(0, 3), std::nullopt, r.Text(0, 5)};
    if (!r.IsNull(0, 4)) code.used_at = r.Int(0, 4);
    return code;
  }

  Status EnrolBox(std::string_view code_id, const HubBox& b, int64_t now) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    PgTxn txn(*c);
    RELAIS_RETURN_IF_ERROR(txn.status());
    // A concurrent caller waits for this row, re-checks used_at and loses.
    RELAIS_ASSIGN_OR_RETURN(auto r, c->Run("UPDATE hub_enrolment_codes SET used_at = $2, box_id = $3 "
                                           "WHERE code_id = $1 AND used_at IS NULL AND expires_at > $2 "
                                           "AND school_id = $4",
                                           {Bytes(code_id), Arg(now), Arg(b.id), Arg(b.school_id)}));
    if (r.affected() == 0) return Status::PermissionDenied("unknown, used or expired enrolment code");
    RELAIS_RETURN_IF_ERROR(InsertBox(*c, b));
    return txn.Commit();
  }

  Result<int64_t> NextCertificateSerial() override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    RELAIS_ASSIGN_OR_RETURN(auto r, c->Run("UPDATE hub_counters SET value = value + 1 "
                                           "WHERE name = 'certificate_serial' RETURNING value"));
    if (r.rows() == 0) return Status::Corruption("the certificate counter is missing");
    return r.Int(0, 0);
  }

  Result<IngestResult> IngestOps(std::string_view school_id, const std::vector<HubOp>& ops) override {
    return IngestOpsAs(school_id, ops, IngestOptions{});
  }

  Result<IngestResult> IngestOpsAs(std::string_view school_id, const std::vector<HubOp>& ops,
                                   const IngestOptions& options) override {
    RELAIS_RETURN_IF_ERROR(internal::CheckOps(ops));
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    PgTxn txn(*c);
    RELAIS_RETURN_IF_ERROR(txn.status());
    IngestResult result;
    {
      // The school's sequencer: held until commit.
      RELAIS_ASSIGN_OR_RETURN(
          auto r, c->Run("SELECT feed_head FROM hub_schools WHERE id = $1 FOR NO KEY UPDATE", {Arg(school_id)}));
      if (r.rows() == 0) return Status::NotFound("no such school");
      result.feed_head = r.Int(0, 0);
    }
    if (ops.empty()) {
      RELAIS_RETURN_IF_ERROR(txn.Commit());
      return result;
    }
    std::vector<std::string_view> origins;
    std::vector<int64_t> seqs;
    for (const HubOp& op : ops) {
      origins.push_back(op.origin);
      seqs.push_back(op.seq);
    }
    // Which of these are stored already? Nobody else can add any of this
    // school's operations while we hold its row.
    std::set<std::pair<std::string, int64_t>> present;
    {
      RELAIS_ASSIGN_OR_RETURN(auto r,
                              c->Run("SELECT o.origin, o.seq FROM hub_ops o "
                                     "JOIN unnest($2::text[], $3::bigint[]) AS n(origin, seq) "
                                     "ON o.origin = n.origin AND o.seq = n.seq WHERE o.school_id = $1",
                                     {Arg(school_id), BytesArray(kTextArrayOid, kTextOid, origins), Int8Array(seqs)}));
      for (int i = 0; i < r.rows(); ++i) present.emplace(r.Text(i, 0), r.Int(i, 1));
    }
    std::vector<std::string_view> new_origins, records;
    std::vector<int64_t> new_seqs, hlcs, feeds;
    std::set<std::string> touched;
    for (const HubOp& op : ops) {
      if (!present.emplace(op.origin, op.seq).second) {
        if (options.all_new) return Status::Conflict("operation " + std::to_string(op.seq) + " is already stored");
        ++result.duplicates;
        continue;
      }
      new_origins.push_back(op.origin);
      new_seqs.push_back(op.seq);
      hlcs.push_back(op.hlc);
      records.push_back(op.record);
      feeds.push_back(++result.feed_head);
      touched.insert(op.origin);
      ++result.inserted;
    }
    if (!options.owner.empty() && !touched.empty())
      RELAIS_RETURN_IF_ERROR(ClaimOrigins(*c, school_id, touched, options));
    if (result.inserted > 0) {
      RELAIS_ASSIGN_OR_RETURN(
          auto r, c->Run("INSERT INTO hub_ops (school_id, origin, seq, hlc, record, feed) "
                         "SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bytea[], $6::bigint[]) "
                         "ON CONFLICT DO NOTHING",
                         {Arg(school_id), BytesArray(kTextArrayOid, kTextOid, new_origins), Int8Array(new_seqs),
                          Int8Array(hlcs), BytesArray(kByteaArrayOid, kByteaOid, records), Int8Array(feeds)}));
      // Under the school's lock nothing else inserts: a shortfall is a bug,
      // and committing it would leave a gap in the feed.
      if (r.affected() != result.inserted) return Status::Internal("operations appeared under the school's lock");
      RELAIS_ASSIGN_OR_RETURN(auto u, c->Run("UPDATE hub_schools SET feed_head = $2 WHERE id = $1",
                                             {Arg(school_id), Arg(result.feed_head)}));
    }
    for (const std::string& origin : touched) {
      RELAIS_ASSIGN_OR_RETURN(
          auto r, c->Run("WITH cur AS (SELECT COALESCE((SELECT contiguous_seq FROM hub_origins "
                         "WHERE school_id = $1 AND origin = $2), 0) AS c), "
                         "run AS (SELECT o.seq, row_number() OVER (ORDER BY o.seq) AS rn FROM hub_ops o, cur "
                         "WHERE o.school_id = $1 AND o.origin = $2 AND o.seq > cur.c) "
                         "INSERT INTO hub_origins (school_id, origin, contiguous_seq) "
                         "SELECT $1, $2, COALESCE((SELECT MAX(run.seq) FROM run, cur WHERE run.seq = cur.c + run.rn), "
                         "(SELECT c FROM cur)) "
                         "ON CONFLICT (school_id, origin) DO UPDATE SET contiguous_seq = excluded.contiguous_seq",
                         {Arg(school_id), Arg(origin)}));
    }
    RELAIS_RETURN_IF_ERROR(txn.Commit());
    return result;
  }

  Result<int64_t> LastSeq(std::string_view school_id, std::string_view origin) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    RELAIS_ASSIGN_OR_RETURN(auto r, c->Run("SELECT COALESCE(MAX(seq), 0) FROM hub_ops WHERE school_id = $1 AND "
                                           "origin = $2",
                                           {Arg(school_id), Arg(origin)}));
    return r.rows() ? r.Int(0, 0) : 0;
  }

  Result<std::vector<HubOp>> OpsAfterFeed(std::string_view school_id, int64_t after_feed, int limit) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    RELAIS_ASSIGN_OR_RETURN(auto r, c->Run("SELECT origin, seq, hlc, record, feed FROM hub_ops WHERE school_id = $1 "
                                           "AND feed > $2 ORDER BY feed LIMIT $3",
                                           {Arg(school_id), Arg(after_feed), Arg(limit)}));
    return OpsFromRows(r);
  }

  Result<std::vector<HubOp>> OpsNotCoveredBy(std::string_view school_id, const VersionVector& have, int64_t after_feed,
                                             int limit) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    RELAIS_ASSIGN_OR_RETURN(auto r,
                            c->Run("SELECT o.origin, o.seq, o.hlc, o.record, o.feed FROM hub_ops o "
                                   "LEFT JOIN jsonb_each_text($2::jsonb) v ON v.key = o.origin "
                                   "WHERE o.school_id = $1 AND o.feed > $3 AND o.seq > COALESCE(v.value::bigint, 0) "
                                   "ORDER BY o.feed LIMIT $4",
                                   {Arg(school_id), Arg(internal::VectorJson(have)), Arg(after_feed), Arg(limit)}));
    return OpsFromRows(r);
  }

  Result<VersionVector> SchoolVector(std::string_view school_id) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    RELAIS_ASSIGN_OR_RETURN(
        auto r, c->Run("SELECT origin, contiguous_seq FROM hub_origins WHERE school_id = $1", {Arg(school_id)}));
    VersionVector v;
    for (int i = 0; i < r.rows(); ++i) v[r.Text(i, 0)] = r.Int(i, 1);
    return v;
  }

  Result<int64_t> FeedHead(std::string_view school_id) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    RELAIS_ASSIGN_OR_RETURN(auto r, c->Run("SELECT feed_head FROM hub_schools WHERE id = $1", {Arg(school_id)}));
    if (r.rows() == 0) return Status::NotFound("no such school");
    return r.Int(0, 0);
  }

  Result<int64_t> RevokeBox(std::string_view box_id, int64_t now) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    PgTxn txn(*c);
    RELAIS_RETURN_IF_ERROR(txn.status());
    {
      RELAIS_ASSIGN_OR_RETURN(
          auto r, c->Run("SELECT revoked_at IS NOT NULL FROM hub_boxes WHERE id = $1 FOR UPDATE", {Arg(box_id)}));
      if (r.rows() == 0) return Status::NotFound("no such box");
      if (r.Int(0, 0)) return Status::Conflict("the box is already revoked");
    }
    RELAIS_ASSIGN_OR_RETURN(auto v, c->Run("UPDATE hub_counters SET value = value + 1 "
                                           "WHERE name = 'revocation_version' RETURNING value"));
    if (v.rows() == 0) return Status::Corruption("the revocation counter is missing");
    int64_t version = v.Int(0, 0);
    RELAIS_ASSIGN_OR_RETURN(auto u,
                            c->Run("UPDATE hub_boxes SET revoked_at = $2 WHERE id = $1", {Arg(box_id), Arg(now)}));
    RELAIS_ASSIGN_OR_RETURN(auto i, c->Run("INSERT INTO hub_revocations (version, box_id, revoked_at) "
                                           "VALUES ($1, $2, $3)",
                                           {Arg(version), Arg(box_id), Arg(now)}));
    RELAIS_RETURN_IF_ERROR(txn.Commit());
    return version;
  }

  Result<HubRevocationList> Revocations() override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    // One snapshot for the version and the entries.
    RELAIS_RETURN_IF_ERROR(c->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    auto list = ReadRevocations(*c);
    (void)c->Exec("COMMIT");
    return list;
  }

  Status PutChunk(std::string_view id, std::string_view bytes) override {
    if (!sync::IsChunkId(id)) return Status::InvalidArgument("a chunk id is 64 lower-case hex characters");
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    RELAIS_ASSIGN_OR_RETURN(auto r, c->Run("INSERT INTO hub_chunks (id, size, bytes) VALUES ($1, $2, $3) "
                                           "ON CONFLICT DO NOTHING",
                                           {Arg(id), Arg(static_cast<int64_t>(bytes.size())), Bytes(bytes)}));
    return Status::Ok();
  }

  Result<std::vector<std::string>> MissingChunks(const std::vector<std::string>& ids) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    std::vector<std::string_view> views(ids.begin(), ids.end());
    RELAIS_ASSIGN_OR_RETURN(auto r, c->Run("SELECT id FROM hub_chunks WHERE id = ANY($1::text[])",
                                           {BytesArray(kTextArrayOid, kTextOid, views)}));
    std::set<std::string> held;
    for (int i = 0; i < r.rows(); ++i) held.insert(r.Text(i, 0));
    std::vector<std::string> missing;
    for (const std::string& id : ids)
      if (!held.count(id)) missing.push_back(id);
    return missing;
  }

  Result<std::string> GetChunk(std::string_view id) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    RELAIS_ASSIGN_OR_RETURN(auto r, c->Run("SELECT bytes FROM hub_chunks WHERE id = $1", {Arg(id)}));
    if (r.rows() == 0) return Status::NotFound("no such chunk");
    return r.Text(0, 0);
  }

  Result<bool> PutManifest(std::string_view school_id, std::string_view blob_id, std::string_view manifest,
                           int64_t now) override {
    if (!sync::IsChunkId(blob_id)) return Status::InvalidArgument("a blob id is 64 lower-case hex characters");
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    // The school must exist: the insert selects from it, so an unknown school inserts nothing.
    RELAIS_ASSIGN_OR_RETURN(auto school, c->Run("SELECT 1 FROM hub_schools WHERE id = $1", {Arg(school_id)}));
    if (school.rows() == 0) return Status::NotFound("no such school");
    RELAIS_ASSIGN_OR_RETURN(auto r, c->Run("INSERT INTO hub_manifests (school_id, blob_id, manifest, created_at) "
                                           "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1",
                                           {Arg(school_id), Arg(blob_id), Bytes(manifest), Arg(now)}));
    return r.rows() > 0;
  }

  Result<std::string> GetManifest(std::string_view school_id, std::string_view blob_id) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    RELAIS_ASSIGN_OR_RETURN(auto r, c->Run("SELECT manifest FROM hub_manifests WHERE school_id = $1 AND blob_id = $2",
                                           {Arg(school_id), Arg(blob_id)}));
    if (r.rows() == 0) return Status::NotFound("no manifest for this file");
    return r.Text(0, 0);
  }

  Result<HubUpload> CreateUpload(std::string_view school_id, std::string_view box_id, std::string_view kind,
                                 int64_t length, int64_t now) override {
    if (length < 0) return Status::InvalidArgument("an upload's length cannot be negative");
    HubUpload u{core::RandomToken(internal::kUploadIdBytes),
                std::string(school_id),
                std::string(box_id),
                std::string(kind),
                length,
                0,
                now,
                now};
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    RELAIS_RETURN_IF_ERROR(SchoolExists(*c, school_id));
    RELAIS_ASSIGN_OR_RETURN(auto r, c->Run("INSERT INTO hub_uploads (id, school_id, box_id, kind, length, "
                                           "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
                                           {Arg(u.id), Arg(school_id), Arg(box_id), Arg(kind), Arg(length), Arg(now)}));
    return u;
  }

  Result<HubUpload> GetUpload(std::string_view id) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    return FindUpload(*c, id);
  }

  Result<int64_t> AppendUpload(std::string_view id, int64_t offset, std::string_view bytes, int64_t now) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    PgTxn txn(*c);
    RELAIS_RETURN_IF_ERROR(txn.status());
    int64_t end = offset + static_cast<int64_t>(bytes.size());
    // Waits for a concurrent append to the same upload, then re-checks the offset.
    RELAIS_ASSIGN_OR_RETURN(auto r, c->Run("UPDATE hub_uploads SET received = $3, updated_at = $4 "
                                           "WHERE id = $1 AND received = $2 AND $3 <= length RETURNING received",
                                           {Arg(id), Arg(offset), Arg(end), Arg(now)}));
    if (r.rows() == 0) {
      RELAIS_ASSIGN_OR_RETURN(HubUpload u, FindUpload(*c, id));
      if (offset != u.offset)
        return Status::Conflict("the upload is at offset " + std::to_string(u.offset) + ", not " +
                                std::to_string(offset));
      return Status::TooLarge("the bytes go past the upload's announced length");
    }
    if (!bytes.empty()) {
      RELAIS_ASSIGN_OR_RETURN(auto p, c->Run("INSERT INTO hub_upload_parts (upload_id, start, bytes) "
                                             "VALUES ($1, $2, $3)",
                                             {Arg(id), Arg(offset), Bytes(bytes)}));
    }
    RELAIS_RETURN_IF_ERROR(txn.Commit());
    return end;
  }

  Status ReadUpload(std::string_view id, int64_t from, int64_t to,
                    const std::function<Status(std::string_view)>& sink) override {
    // As the SQLite store: the part holding `from` by the primary key
    // (upload_id, start), then each next one; one part in memory.
    int64_t next = -1;
    while (from < to) {
      std::string bytes;
      int64_t start = 0;
      {
        RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
        RELAIS_ASSIGN_OR_RETURN(auto r, next < 0 ? c->Run("SELECT start, bytes FROM hub_upload_parts WHERE "
                                                          "upload_id = $1 AND start <= $2 ORDER BY start DESC LIMIT 1",
                                                          {Arg(id), Arg(from)})
                                                 : c->Run("SELECT start, bytes FROM hub_upload_parts WHERE "
                                                          "upload_id = $1 AND start = $2",
                                                          {Arg(id), Arg(next)}));
        if (r.rows() == 0) break;
        start = r.Int(0, 0);
        bytes = r.Text(0, 1);
      }
      next = start + static_cast<int64_t>(bytes.size());
      if (next <= from) break;  // `from` is past the last byte
      RELAIS_RETURN_IF_ERROR(sink(std::string_view(bytes).substr(static_cast<size_t>(from - start),
                                                                 static_cast<size_t>(std::min(next, to) - from))));
      from = std::min(next, to);
    }
    return Status::Ok();
  }

  Status DeleteUpload(std::string_view id) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    RELAIS_ASSIGN_OR_RETURN(auto r, c->Run("DELETE FROM hub_uploads WHERE id = $1", {Arg(id)}));
    return Status::Ok();
  }

  Result<int> DeleteStaleUploads(int64_t before) override {
    RELAIS_ASSIGN_OR_RETURN(auto c, pool_->Get());
    RELAIS_ASSIGN_OR_RETURN(auto r, c->Run("DELETE FROM hub_uploads WHERE updated_at < $1", {Arg(before)}));
    return static_cast<int>(r.affected());
  }

 private:
  // Binds the origins with new operations to options.owner, unless one is
  // bound to another sender (PermissionDenied). Under the school's row lock,
  // so two senders of one school cannot both claim an origin.
  static Status ClaimOrigins(PgConn& c, std::string_view school_id, const std::set<std::string>& origins,
                             const IngestOptions& options) {
    std::vector<std::string_view> list(origins.begin(), origins.end());
    std::map<std::string, std::string> owners;
    RELAIS_ASSIGN_OR_RETURN(auto r, c.Run("SELECT origin, owner FROM hub_origin_owners WHERE school_id = $1 AND "
                                          "origin = ANY($2::text[])",
                                          {Arg(school_id), BytesArray(kTextArrayOid, kTextOid, list)}));
    for (int i = 0; i < r.rows(); ++i) owners[r.Text(i, 0)] = r.Text(i, 1);
    if (!options.gateway_origin.empty()) owners[options.gateway_origin] = kGatewayOwner;
    std::vector<std::string_view> unowned;
    for (const std::string& origin : origins) {
      auto it = owners.find(origin);
      if (it == owners.end())
        unowned.push_back(origin);
      else
        RELAIS_RETURN_IF_ERROR(internal::CheckOwner(origin, it->second, options.owner));
    }
    if (unowned.empty()) return Status::Ok();
    RELAIS_ASSIGN_OR_RETURN(auto ins,
                            c.Run("INSERT INTO hub_origin_owners (school_id, origin, owner) "
                                  "SELECT $1, o, $3 FROM unnest($2::text[]) AS o",
                                  {Arg(school_id), BytesArray(kTextArrayOid, kTextOid, unowned), Arg(options.owner)}));
    return Status::Ok();
  }

  static Status InsertBox(PgConn& c, const HubBox& b) {
    RELAIS_RETURN_IF_ERROR(SchoolExists(c, b.school_id));
    RELAIS_ASSIGN_OR_RETURN(auto r,
                            c.Run(std::string("INSERT INTO hub_boxes (") + kBoxColumns +
                                      ") VALUES ($1, $2, $3, $4, $5, $6, $7, NULL) ON CONFLICT (id) DO NOTHING",
                                  {Arg(b.id), Arg(b.school_id), Bytes(b.sign_public_key), Bytes(b.enc_public_key),
                                   Arg(b.enc_key_epoch), Bytes(b.certificate), Arg(b.enrolled_at)}));
    if (r.affected() == 0) return Status::Conflict("a box with this id exists");
    return Status::Ok();
  }

  static Status SchoolExists(PgConn& c, std::string_view school_id) {
    RELAIS_ASSIGN_OR_RETURN(auto r, c.Run("SELECT 1 FROM hub_schools WHERE id = $1", {Arg(school_id)}));
    return r.rows() ? Status::Ok() : Status::NotFound("no such school");
  }

  static Result<HubUpload> FindUpload(PgConn& c, std::string_view id) {
    RELAIS_ASSIGN_OR_RETURN(
        auto r, c.Run(std::string("SELECT ") + kUploadColumns + " FROM hub_uploads WHERE id = $1", {Arg(id)}));
    if (r.rows() == 0) return Status::NotFound("no such upload");
    return UploadFromRow(r, 0);
  }

  static Result<HubRevocationList> ReadRevocations(PgConn& c) {
    HubRevocationList list;
    RELAIS_ASSIGN_OR_RETURN(auto v, c.Run("SELECT value FROM hub_counters WHERE name = 'revocation_version'"));
    if (v.rows()) list.version = v.Int(0, 0);
    RELAIS_ASSIGN_OR_RETURN(auto r, c.Run("SELECT r.box_id, b.sign_public_key, r.revoked_at, r.version "
                                          "FROM hub_revocations r JOIN hub_boxes b ON b.id = r.box_id "
                                          "ORDER BY r.version"));
    for (int i = 0; i < r.rows(); ++i) list.entries.push_back({r.Text(i, 0), r.Text(i, 1), r.Int(i, 2), r.Int(i, 3)});
    return list;
  }

  std::unique_ptr<PgPool> pool_;
};

// Brings the schema to the newest version, one hub at a time.
Status MigratePg(PgConn& c) {
  PgTxn txn(c);
  RELAIS_RETURN_IF_ERROR(txn.status());
  RELAIS_ASSIGN_OR_RETURN(auto lock, c.Run("SELECT pg_advisory_xact_lock(hashtext('relais-hub schema'))"));
  RELAIS_RETURN_IF_ERROR(c.Exec("CREATE TABLE IF NOT EXISTS hub_schema (version integer NOT NULL)"));
  RELAIS_ASSIGN_OR_RETURN(auto r, c.Run("SELECT version FROM hub_schema"));
  int64_t current = r.rows() ? r.Int(0, 0) : 0;
  // Versions are the numbers of hub/migrations/postgresql/NNNN_*.sql, as core::Migrate reads SQLite's.
  const auto& migrations = PostgresMigrations();
  const int64_t newest = migrations.empty() ? 0 : migrations.back().version;
  if (current > newest)
    return Status::Corruption("database schema version " + std::to_string(current) +
                              " is newer than this program knows: upgrade relais");
  for (const core::Migration& m : migrations) {
    if (m.version <= current) continue;
    Status st = c.Exec(m.sql);
    if (!st.ok()) return Status(st.code(), "hub schema migration " + m.name + ": " + st.message());
  }
  RELAIS_RETURN_IF_ERROR(c.Exec("DELETE FROM hub_schema"));
  RELAIS_ASSIGN_OR_RETURN(auto w, c.Run("INSERT INTO hub_schema (version) VALUES ($1)", {Arg(newest)}));
  return txn.Commit();
}

}  // namespace

Result<std::unique_ptr<HubStore>> OpenPostgresHubStore(const std::string& url, int connections) {
  std::vector<std::unique_ptr<PgConn>> conns;
  for (int i = 0; i < std::max(1, connections); ++i) {
    RELAIS_ASSIGN_OR_RETURN(auto c, Connect(url));
    conns.push_back(std::move(c));
  }
  RELAIS_RETURN_IF_ERROR(MigratePg(*conns.front()));
  return std::unique_ptr<HubStore>(new PgHubStore(std::make_unique<PgPool>(url, std::move(conns))));
}

}  // namespace relais::hub

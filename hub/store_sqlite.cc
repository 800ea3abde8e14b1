// hub/store_sqlite.cc — the gateway's store on SQLite (the default).
//
// One hub process owns DATA/hub.db (the CLI takes a lock file). Writers are
// serialised by the connection pool's single writer and BEGIN IMMEDIATE, so
// the per-school feed counter needs no further locking: a transaction reads
// hub_schools.feed_head, numbers the operations it inserts and writes the
// head back before anyone else can write. Chunk bytes are files named by
// their id under DATA/chunks/ab/cd/<id>, written durably before the
// catalogue row that makes them visible.
#include <set>

#include "core/crypto.h"
#include "core/db.h"
#include "core/files.h"
#include "hub/migrations.h"
#include "hub/store.h"
#include "hub/store_internal.h"
#include "sync/chunks.h"

namespace relais::hub {
namespace {

namespace fs = std::filesystem;
using core::Db;
using core::DbPool;
using core::Transaction;

HubBox BoxFromRow(const core::Stmt& q) {
  HubBox b;
  b.id = q.Text(0);
  b.school_id = q.Text(1);
  b.sign_public_key = q.Text(2);
  b.enc_public_key = q.Text(3);
  b.enc_key_epoch = q.Int(4);
  b.certificate = q.Text(5);
  b.enrolled_at = q.Int(6);
  if (!q.IsNull(7)) b.revoked_at = q.Int(7);
  return b;
}

constexpr const char* kBoxColumns =
    "id, school_id, sign_public_key, enc_public_key, enc_key_epoch, certificate, enrolled_at, revoked_at";

HubUpload UploadFromRow(const core::Stmt& q) {
  HubUpload u;
  u.id = q.Text(0);
  u.school_id = q.Text(1);
  u.box_id = q.Text(2);
  u.kind = q.Text(3);
  u.length = q.Int(4);
  u.offset = q.Int(5);
  u.created_at = q.Int(6);
  u.updated_at = q.Int(7);
  return u;
}

class SqliteHubStore final : public HubStore {
 public:
  SqliteHubStore(fs::path data_dir, std::unique_ptr<DbPool> pool)
      : chunks_dir_(data_dir / "chunks"), pool_(std::move(pool)) {}

  const char* engine() const override { return "sqlite"; }

  Result<HubSchool> AddSchool(std::string_view name, int64_t now) override {
    if (name.empty()) return Status::InvalidArgument("a school needs a name");
    HubSchool s{core::NewUuid(), std::string(name), now};
    auto db = pool_->Writer();
    RELAIS_ASSIGN_OR_RETURN(
        auto q, db->Query("INSERT INTO hub_schools (id, name, created_at) VALUES (?1, ?2, ?3)", s.id, s.name, now));
    RELAIS_RETURN_IF_ERROR(q.Run());
    return s;
  }

  Result<HubSchool> GetSchool(std::string_view id) override {
    auto db = pool_->Reader();
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT id, name, created_at FROM hub_schools WHERE id = ?1", id));
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::NotFound("no such school");
    return HubSchool{q.Text(0), q.Text(1), q.Int(2)};
  }

  Result<std::vector<HubSchool>> ListSchools() override {
    auto db = pool_->Reader();
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT id, name, created_at FROM hub_schools ORDER BY name, id"));
    std::vector<HubSchool> out;
    while (true) {
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back({q.Text(0), q.Text(1), q.Int(2)});
    }
    return out;
  }

  Status AddBox(const HubBox& b) override {
    auto db = pool_->Writer();
    Transaction txn(*db);
    RELAIS_RETURN_IF_ERROR(txn.status());
    RELAIS_RETURN_IF_ERROR(InsertBox(*db, b));
    return txn.Commit();
  }

  Result<HubBox> GetBox(std::string_view id) override {
    auto db = pool_->Reader();
    RELAIS_ASSIGN_OR_RETURN(auto q,
                            db->Query(std::string("SELECT ") + kBoxColumns + " FROM hub_boxes WHERE id = ?1", id));
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::NotFound("no such box");
    return BoxFromRow(q);
  }

  Result<std::vector<HubBox>> ListBoxes(std::string_view school_id) override {
    auto db = pool_->Reader();
    RELAIS_ASSIGN_OR_RETURN(
        auto q, db->Query(std::string("SELECT ") + kBoxColumns + " FROM hub_boxes WHERE school_id = ?1 ORDER BY id",
                          school_id));
    std::vector<HubBox> out;
    while (true) {
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back(BoxFromRow(q));
    }
    return out;
  }

  Status RotateBoxKey(std::string_view box_id, std::string_view enc_public_key, int64_t epoch,
                      std::string_view certificate) override {
    auto db = pool_->Writer();
    Transaction txn(*db);
    RELAIS_RETURN_IF_ERROR(txn.status());
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Prepare("UPDATE hub_boxes SET enc_public_key = ?2, enc_key_epoch = ?3, "
                                                "certificate = ?4 WHERE id = ?1 AND enc_key_epoch < ?3 "
                                                "AND revoked_at IS NULL"));
    q.Bind(1, box_id).BindBlob(2, enc_public_key).Bind(3, epoch).BindBlob(4, certificate);
    RELAIS_RETURN_IF_ERROR(q.Run());
    if (db->Changes() == 1) return txn.Commit();
    RELAIS_ASSIGN_OR_RETURN(auto exists, db->Query("SELECT 1 FROM hub_boxes WHERE id = ?1", box_id));
    RELAIS_ASSIGN_OR_RETURN(bool row, exists.Step());
    if (!row) return Status::NotFound("no such box");
    return Status::Conflict("the box is revoked or already has a newer key");
  }

  Status AddEnrolmentCode(std::string_view code_id, std::string_view sealed_key, std::string_view school_id,
                          int64_t expires_at, int64_t now) override {
    auto db = pool_->Writer();
    Transaction txn(*db);
    RELAIS_RETURN_IF_ERROR(txn.status());
    RELAIS_RETURN_IF_ERROR(SchoolExists(*db, school_id));
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Prepare("INSERT INTO hub_enrolment_codes (code_id, school_id, sealed_key, "
                                                "created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5) "
                                                "ON CONFLICT DO NOTHING"));
    q.BindBlob(1, code_id).Bind(2, school_id).BindBlob(3, sealed_key).Bind(4, now).Bind(5, expires_at);
    RELAIS_RETURN_IF_ERROR(q.Run());
    if (db->Changes() == 0) return Status::Conflict("an enrolment code with this id exists");
    return txn.Commit();
  }

  Result<HubEnrolmentCode> GetEnrolmentCode(std::string_view code_id) override {
    auto db = pool_->Reader();
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Prepare("SELECT code_id, school_id, sealed_key, expires_at, used_at, box_id "
                                                "FROM hub_enrolment_codes WHERE code_id = ?1"));
    q.BindBlob(1, code_id);
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::NotFound("no such enrolment code");
    HubEnrolmentCode c{q.Text(0), q.Text(1), q.Text(2), q.Int(3), std::nullopt, q.Text(5)};
    if (!q.IsNull(4)) c.used_at = q.Int(4);
    return c;
  }

  Status EnrolBox(std::string_view code_id, const HubBox& b, int64_t now) override {
    auto db = pool_->Writer();
    Transaction txn(*db);
    RELAIS_RETURN_IF_ERROR(txn.status());
    {
      RELAIS_ASSIGN_OR_RETURN(auto q, db->Prepare("UPDATE hub_enrolment_codes SET used_at = ?2, box_id = ?3 "
                                                  "WHERE code_id = ?1 AND used_at IS NULL AND expires_at > ?2 "
                                                  "AND school_id = ?4"));
      q.BindBlob(1, code_id).Bind(2, now).Bind(3, b.id).Bind(4, b.school_id);
      RELAIS_RETURN_IF_ERROR(q.Run());
      if (db->Changes() == 0) return Status::PermissionDenied("unknown, used or expired enrolment code");
    }
    RELAIS_RETURN_IF_ERROR(InsertBox(*db, b));
    return txn.Commit();
  }

  Result<int64_t> NextCertificateSerial() override {
    auto db = pool_->Writer();
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("UPDATE hub_counters SET value = value + 1 "
                                              "WHERE name = 'certificate_serial' RETURNING value"));
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::Corruption("the certificate counter is missing");
    int64_t serial = q.Int(0);
    RELAIS_ASSIGN_OR_RETURN(bool more, q.Step());
    (void)more;
    return serial;
  }

  Result<IngestResult> IngestOps(std::string_view school_id, const std::vector<HubOp>& ops) override {
    return IngestOpsAs(school_id, ops, IngestOptions{});
  }

  Result<IngestResult> IngestOpsAs(std::string_view school_id, const std::vector<HubOp>& ops,
                                   const IngestOptions& options) override {
    RELAIS_RETURN_IF_ERROR(internal::CheckOps(ops));
    auto db = pool_->Writer();
    Transaction txn(*db);
    RELAIS_RETURN_IF_ERROR(txn.status());
    IngestResult result;
    {
      RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT feed_head FROM hub_schools WHERE id = ?1", school_id));
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return Status::NotFound("no such school");
      result.feed_head = q.Int(0);
    }
    std::set<std::string> touched;  // origins with new operations
    std::set<std::string> owned;    // origins whose owner was checked
    for (const HubOp& op : ops) {
      RELAIS_ASSIGN_OR_RETURN(auto q, db->Prepare("INSERT INTO hub_ops (school_id, origin, seq, hlc, record, feed) "
                                                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING"));
      q.Bind(1, school_id).Bind(2, op.origin).Bind(3, op.seq).Bind(4, op.hlc).BindBlob(5, op.record);
      q.Bind(6, result.feed_head + 1);
      RELAIS_RETURN_IF_ERROR(q.Run());
      if (db->Changes() == 0) {
        if (options.all_new) return Status::Conflict("operation " + std::to_string(op.seq) + " is already stored");
        ++result.duplicates;
        continue;
      }
      ++result.inserted;
      ++result.feed_head;
      touched.insert(op.origin);
      if (!options.owner.empty() && owned.insert(op.origin).second)
        RELAIS_RETURN_IF_ERROR(ClaimOrigin(*db, school_id, op.origin, options));
    }
    if (result.inserted > 0) {
      RELAIS_ASSIGN_OR_RETURN(
          auto q, db->Query("UPDATE hub_schools SET feed_head = ?2 WHERE id = ?1", school_id, result.feed_head));
      RELAIS_RETURN_IF_ERROR(q.Run());
    }
    for (const std::string& origin : touched) RELAIS_RETURN_IF_ERROR(AdvanceOrigin(*db, school_id, origin));
    RELAIS_RETURN_IF_ERROR(txn.Commit());
    return result;
  }

  Result<int64_t> LastSeq(std::string_view school_id, std::string_view origin) override {
    auto db = pool_->Reader();
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT COALESCE(MAX(seq), 0) FROM hub_ops WHERE school_id = ?1 AND "
                                              "origin = ?2",
                                              school_id, origin));
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    return row ? q.Int(0) : 0;
  }

  Result<std::vector<HubOp>> OpsAfterFeed(std::string_view school_id, int64_t after_feed, int limit) override {
    auto db = pool_->Reader();
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT origin, seq, hlc, record, feed FROM hub_ops WHERE school_id = ?1 "
                                              "AND feed > ?2 ORDER BY feed LIMIT ?3",
                                              school_id, after_feed, limit));
    return ReadOps(q);
  }

  Result<std::vector<HubOp>> OpsNotCoveredBy(std::string_view school_id, const VersionVector& have, int64_t after_feed,
                                             int limit) override {
    auto db = pool_->Reader();
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT o.origin, o.seq, o.hlc, o.record, o.feed FROM hub_ops o "
                                              "LEFT JOIN json_each(?2) v ON v.key = o.origin "
                                              "WHERE o.school_id = ?1 AND o.feed > ?3 AND o.seq > COALESCE(v.value, 0) "
                                              "ORDER BY o.feed LIMIT ?4",
                                              school_id, internal::VectorJson(have), after_feed, limit));
    return ReadOps(q);
  }

  Result<VersionVector> SchoolVector(std::string_view school_id) override {
    auto db = pool_->Reader();
    RELAIS_ASSIGN_OR_RETURN(
        auto q, db->Query("SELECT origin, contiguous_seq FROM hub_origins WHERE school_id = ?1", school_id));
    VersionVector v;
    while (true) {
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      v[q.Text(0)] = q.Int(1);
    }
    return v;
  }

  Result<int64_t> FeedHead(std::string_view school_id) override {
    auto db = pool_->Reader();
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT feed_head FROM hub_schools WHERE id = ?1", school_id));
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::NotFound("no such school");
    return q.Int(0);
  }

  Result<int64_t> RevokeBox(std::string_view box_id, int64_t now) override {
    auto db = pool_->Writer();
    Transaction txn(*db);
    RELAIS_RETURN_IF_ERROR(txn.status());
    {
      RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT revoked_at IS NOT NULL FROM hub_boxes WHERE id = ?1", box_id));
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return Status::NotFound("no such box");
      if (q.Int(0)) return Status::Conflict("the box is already revoked");
    }
    int64_t version = 0;
    {
      RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("UPDATE hub_counters SET value = value + 1 "
                                                "WHERE name = 'revocation_version' RETURNING value"));
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return Status::Corruption("the revocation counter is missing");
      version = q.Int(0);
      RELAIS_ASSIGN_OR_RETURN(bool more, q.Step());
      (void)more;
    }
    RELAIS_ASSIGN_OR_RETURN(auto upd, db->Query("UPDATE hub_boxes SET revoked_at = ?2 WHERE id = ?1", box_id, now));
    RELAIS_RETURN_IF_ERROR(upd.Run());
    RELAIS_ASSIGN_OR_RETURN(auto ins, db->Query("INSERT INTO hub_revocations (version, box_id, revoked_at) "
                                                "VALUES (?1, ?2, ?3)",
                                                version, box_id, now));
    RELAIS_RETURN_IF_ERROR(ins.Run());
    RELAIS_RETURN_IF_ERROR(txn.Commit());
    return version;
  }

  Result<HubRevocationList> Revocations() override {
    auto db = pool_->Reader();
    core::ReadTransaction snapshot(*db);
    HubRevocationList list;
    {
      RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT value FROM hub_counters WHERE name = 'revocation_version'"));
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (row) list.version = q.Int(0);
    }
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT r.box_id, b.sign_public_key, r.revoked_at, r.version "
                                              "FROM hub_revocations r JOIN hub_boxes b ON b.id = r.box_id "
                                              "ORDER BY r.version"));
    while (true) {
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      list.entries.push_back({q.Text(0), q.Text(1), q.Int(2), q.Int(3)});
    }
    return list;
  }

  Status PutChunk(std::string_view id, std::string_view bytes) override {
    if (!sync::IsChunkId(id)) return Status::InvalidArgument("a chunk id is 64 lower-case hex characters");
    {
      auto db = pool_->Reader();
      RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT 1 FROM hub_chunks WHERE id = ?1", id));
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (row) return Status::Ok();
    }
    // The file first, durably; then the row that makes it visible. A crash in
    // between leaves a file nobody lists, rewritten by the next PutChunk.
    fs::path path = ChunkPath(id);
    RELAIS_RETURN_IF_ERROR(core::MakeDirs(path.parent_path()));
    RELAIS_RETURN_IF_ERROR(core::WriteFileAtomic(path, bytes));
    auto db = pool_->Writer();
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("INSERT INTO hub_chunks (id, size) VALUES (?1, ?2) "
                                              "ON CONFLICT DO NOTHING",
                                              id, static_cast<int64_t>(bytes.size())));
    return q.Run();
  }

  Result<std::vector<std::string>> MissingChunks(const std::vector<std::string>& ids) override {
    auto db = pool_->Reader();
    std::vector<std::string> missing;
    for (const std::string& id : ids) {
      RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT 1 FROM hub_chunks WHERE id = ?1", id));
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) missing.push_back(id);
    }
    return missing;
  }

  Result<std::string> GetChunk(std::string_view id) override {
    if (!sync::IsChunkId(id)) return Status::NotFound("no such chunk");
    {
      auto db = pool_->Reader();
      RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT 1 FROM hub_chunks WHERE id = ?1", id));
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return Status::NotFound("no such chunk");
    }
    return core::ReadFile(ChunkPath(id));
  }

  Result<bool> PutManifest(std::string_view school_id, std::string_view blob_id, std::string_view manifest,
                           int64_t now) override {
    if (!sync::IsChunkId(blob_id)) return Status::InvalidArgument("a blob id is 64 lower-case hex characters");
    auto db = pool_->Writer();
    Transaction txn(*db);
    RELAIS_RETURN_IF_ERROR(txn.status());
    {
      RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT 1 FROM hub_schools WHERE id = ?1", school_id));
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return Status::NotFound("no such school");
    }
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Prepare("INSERT INTO hub_manifests (school_id, blob_id, manifest, created_at) "
                                                "VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING"));
    q.Bind(1, school_id).Bind(2, blob_id).BindBlob(3, manifest).Bind(4, now);
    RELAIS_RETURN_IF_ERROR(q.Run());
    bool stored = db->Changes() > 0;
    RELAIS_RETURN_IF_ERROR(txn.Commit());
    return stored;
  }

  Result<std::string> GetManifest(std::string_view school_id, std::string_view blob_id) override {
    auto db = pool_->Reader();
    RELAIS_ASSIGN_OR_RETURN(
        auto q,
        db->Query("SELECT manifest FROM hub_manifests WHERE school_id = ?1 AND blob_id = ?2", school_id, blob_id));
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::NotFound("no manifest for this file");
    return q.Text(0);
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
    auto db = pool_->Writer();
    Transaction txn(*db);
    RELAIS_RETURN_IF_ERROR(txn.status());
    RELAIS_RETURN_IF_ERROR(SchoolExists(*db, school_id));
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("INSERT INTO hub_uploads (id, school_id, box_id, kind, length, "
                                              "created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                                              u.id, u.school_id, u.box_id, u.kind, length, now));
    RELAIS_RETURN_IF_ERROR(q.Run());
    RELAIS_RETURN_IF_ERROR(txn.Commit());
    return u;
  }

  Result<HubUpload> GetUpload(std::string_view id) override {
    auto db = pool_->Reader();
    return FindUpload(*db, id);
  }

  Result<int64_t> AppendUpload(std::string_view id, int64_t offset, std::string_view bytes, int64_t now) override {
    auto db = pool_->Writer();
    Transaction txn(*db);
    RELAIS_RETURN_IF_ERROR(txn.status());
    RELAIS_ASSIGN_OR_RETURN(HubUpload u, FindUpload(*db, id));
    if (offset != u.offset)
      return Status::Conflict("the upload is at offset " + std::to_string(u.offset) + ", not " +
                              std::to_string(offset));
    int64_t end = offset + static_cast<int64_t>(bytes.size());
    if (end > u.length) return Status::TooLarge("the bytes go past the upload's announced length");
    if (bytes.empty()) return offset;
    RELAIS_ASSIGN_OR_RETURN(auto part, db->Prepare("INSERT INTO hub_upload_parts (upload_id, start, bytes) "
                                                   "VALUES (?1, ?2, ?3)"));
    part.Bind(1, id).Bind(2, offset).BindBlob(3, bytes);
    RELAIS_RETURN_IF_ERROR(part.Run());
    RELAIS_ASSIGN_OR_RETURN(
        auto q, db->Query("UPDATE hub_uploads SET received = ?2, updated_at = ?3 WHERE id = ?1", id, end, now));
    RELAIS_RETURN_IF_ERROR(q.Run());
    RELAIS_RETURN_IF_ERROR(txn.Commit());
    return end;
  }

  Status ReadUpload(std::string_view id, int64_t from, int64_t to,
                    const std::function<Status(std::string_view)>& sink) override {
    // One part at a time, so memory stays at one part whatever the upload's
    // size. The first is the one holding `from`, by the primary key
    // (upload_id, start); each next one starts where the previous ended.
    int64_t next = -1;
    while (from < to) {
      std::string bytes;
      int64_t start = 0;
      {
        auto db = pool_->Reader();
        RELAIS_ASSIGN_OR_RETURN(auto q, next < 0
                                            ? db->Query("SELECT start, bytes FROM hub_upload_parts WHERE "
                                                        "upload_id = ?1 AND start <= ?2 ORDER BY start DESC LIMIT 1",
                                                        id, from)
                                            : db->Query("SELECT start, bytes FROM hub_upload_parts WHERE "
                                                        "upload_id = ?1 AND start = ?2",
                                                        id, next));
        RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        start = q.Int(0);
        bytes = q.Text(1);
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
    auto db = pool_->Writer();
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("DELETE FROM hub_uploads WHERE id = ?1", id));
    return q.Run();
  }

  Result<int> DeleteStaleUploads(int64_t before) override {
    auto db = pool_->Writer();
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("DELETE FROM hub_uploads WHERE updated_at < ?1", before));
    RELAIS_RETURN_IF_ERROR(q.Run());
    return static_cast<int>(db->Changes());
  }

 private:
  fs::path ChunkPath(std::string_view id) const {
    return chunks_dir_ / std::string(id.substr(0, 2)) / std::string(id.substr(2, 2)) / std::string(id);
  }

  static Status InsertBox(Db& db, const HubBox& b) {
    RELAIS_RETURN_IF_ERROR(SchoolExists(db, b.school_id));
    RELAIS_ASSIGN_OR_RETURN(auto q, db.Prepare(std::string("INSERT INTO hub_boxes (") + kBoxColumns +
                                               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL) "
                                               "ON CONFLICT (id) DO NOTHING"));
    q.Bind(1, b.id).Bind(2, b.school_id).BindBlob(3, b.sign_public_key).BindBlob(4, b.enc_public_key);
    q.Bind(5, b.enc_key_epoch).BindBlob(6, b.certificate).Bind(7, b.enrolled_at);
    RELAIS_RETURN_IF_ERROR(q.Run());
    if (db.Changes() == 0) return Status::Conflict("a box with this id exists");
    return Status::Ok();
  }

  static Status SchoolExists(Db& db, std::string_view school_id) {
    RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT 1 FROM hub_schools WHERE id = ?1", school_id));
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    return row ? Status::Ok() : Status::NotFound("no such school");
  }

  static Result<HubUpload> FindUpload(Db& db, std::string_view id) {
    RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT id, school_id, box_id, kind, length, received, created_at, "
                                             "updated_at FROM hub_uploads WHERE id = ?1",
                                             id));
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::NotFound("no such upload");
    return UploadFromRow(q);
  }

  static Result<std::vector<HubOp>> ReadOps(core::Stmt& q) {
    std::vector<HubOp> out;
    while (true) {
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back({q.Text(0), q.Int(1), q.Int(2), q.Text(3), q.Int(4)});
    }
    return out;
  }

  // Moves the origin's contiguous seq forward over the seqs now stored.
  // Binds `origin` to options.owner unless it is bound to another sender
  // (PermissionDenied). Inside the ingest's transaction.
  static Status ClaimOrigin(Db& db, std::string_view school_id, const std::string& origin,
                            const IngestOptions& options) {
    std::optional<std::string> owner;
    if (origin == options.gateway_origin) {
      owner = kGatewayOwner;
    } else {
      RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT owner FROM hub_origin_owners WHERE school_id = ?1 AND "
                                               "origin = ?2",
                                               school_id, origin));
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (row) owner = q.Text(0);
    }
    if (owner) return internal::CheckOwner(origin, *owner, options.owner);
    RELAIS_ASSIGN_OR_RETURN(auto ins, db.Query("INSERT INTO hub_origin_owners (school_id, origin, owner) "
                                               "VALUES (?1, ?2, ?3)",
                                               school_id, origin, options.owner));
    return ins.Run();
  }

  static Status AdvanceOrigin(Db& db, std::string_view school_id, const std::string& origin) {
    int64_t contiguous = 0;
    {
      RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT contiguous_seq FROM hub_origins WHERE school_id = ?1 "
                                               "AND origin = ?2",
                                               school_id, origin));
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (row) contiguous = q.Int(0);
    }
    int64_t before = contiguous;
    constexpr int kPage = 1000;
    while (true) {
      RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT seq FROM hub_ops WHERE school_id = ?1 AND origin = ?2 "
                                               "AND seq > ?3 ORDER BY seq LIMIT ?4",
                                               school_id, origin, contiguous, kPage));
      int seen = 0;
      bool gap = false;
      while (true) {
        RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        ++seen;
        if (q.Int(0) != contiguous + 1) {
          gap = true;
          break;
        }
        ++contiguous;
      }
      if (gap || seen < kPage) break;
    }
    if (contiguous == before && before != 0) return Status::Ok();
    RELAIS_ASSIGN_OR_RETURN(auto up, db.Query("INSERT INTO hub_origins (school_id, origin, contiguous_seq) "
                                              "VALUES (?1, ?2, ?3) ON CONFLICT (school_id, origin) "
                                              "DO UPDATE SET contiguous_seq = excluded.contiguous_seq",
                                              school_id, origin, contiguous));
    return up.Run();
  }

  fs::path chunks_dir_;
  std::unique_ptr<DbPool> pool_;
};

}  // namespace

Result<std::unique_ptr<HubStore>> OpenSqliteHubStore(const fs::path& data_dir) {
  RELAIS_RETURN_IF_ERROR(core::MakeDirs(data_dir));
  RELAIS_ASSIGN_OR_RETURN(auto pool, DbPool::Open(data_dir / "hub.db", 4));
  {
    auto db = pool->Writer();
    RELAIS_RETURN_IF_ERROR(core::Migrate(*db, SqliteMigrations()));
  }
  return std::unique_ptr<HubStore>(new SqliteHubStore(data_dir, std::move(pool)));
}

}  // namespace relais::hub

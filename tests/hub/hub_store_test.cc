// The gateway store's conformance suite: every case runs against SQLite and
// against a real PostgreSQL server (tests/support/pg_fixture.h). A missing
// PostgreSQL fails the suite: CI installs it (scripts/install-deps.sh pg).
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "core/crypto.h"
#include "core/db.h"
#include "hub/store.h"
#include "tests/support/pg_fixture.h"

namespace fs = std::filesystem;
using relais::Status;
using relais::StatusCode;
using namespace relais::hub;
using namespace relais::testing;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("relais-hub-" + relais::core::RandomToken(8));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

// Where a store lives, so a test can open a second store (a second hub
// process) on the same data.
struct Backend {
  std::string engine;
  std::unique_ptr<TempDir> dir;  // SQLite
  std::string url;               // PostgreSQL

  std::unique_ptr<HubStore> Open() const {
    auto store = engine == "sqlite" ? OpenSqliteHubStore(dir->path) : OpenPostgresHubStore(url, 8);
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    return std::move(store).value();
  }
  // Runs `sql` on the store's database behind its back (a test that must
  // prove which rows a read touches).
  void Exec(const std::string& sql) const {
    if (engine == "sqlite") {
      auto db = relais::core::Db::Open(dir->path / "hub.db");
      REQUIRE(db.ok());
      REQUIRE((*db)->Exec(sql).ok());
      return;
    }
    std::string cmd = "psql -q '" + url + "' -c \"" + sql + "\" > /dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
};

Backend SqliteBackend() { return {"sqlite", std::make_unique<TempDir>(), ""}; }

Backend PostgresBackend() {
  auto server = relais::testing::PgServer::Shared();
  REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  auto url = (*server)->NewDatabase();
  REQUIRE_MESSAGE(url.ok(), url.status().ToString());
  return {"postgresql", nullptr, *url};
}

// Runs `body` once per engine, on a fresh store.
template <typename F>
void ForEachEngine(F body) {
  REQUIRE(relais::core::InitCrypto().ok());
  for (const char* engine : {"sqlite", "postgresql"}) {
    INFO("engine: " << std::string(engine));
    Backend backend = std::string(engine) == "sqlite" ? SqliteBackend() : PostgresBackend();
    body(backend);
  }
}

std::string SchoolId(HubStore& store, const std::string& name = "Collège Jean Moulin") {
  auto s = store.AddSchool(name, 1000);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  return s->id;
}

HubBox MakeBox(const std::string& id, const std::string& school) {
  return {id, school, std::string("sign-") + id, std::string("enc-") + id, 1, "cert", 2000, std::nullopt};
}

HubOp Op(const std::string& origin, int64_t seq, std::string record = "") {
  if (record.empty()) record = origin + "#" + std::to_string(seq);
  return {origin, seq, seq * 10, record, 0};
}

std::string AllBytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
  return s;
}

std::string HexId(int n) { return relais::core::ToHex(relais::core::Sha256(std::to_string(n))); }

}  // namespace

TEST_CASE("schools are created with fresh ids, listed by name, and found by id") {
  ForEachEngine([](Backend& b) {
    auto store = b.Open();
    std::string a = SchoolId(*store, "Lycée Victor Hugo");
    std::string c = SchoolId(*store, "Collège Camus");
    CHECK(a != c);
    auto list = store->ListSchools();
    REQUIRE(list.ok());
    REQUIRE(list->size() == 2);
    CHECK((*list)[0].name == "Collège Camus");
    auto found = store->GetSchool(a);
    REQUIRE(found.ok());
    CHECK(found->name == "Lycée Victor Hugo");
    CHECK(store->GetSchool("nope").status().code() == StatusCode::kNotFound);
    CHECK(store->AddSchool("", 1).status().code() == StatusCode::kInvalidArgument);
  });
}

TEST_CASE("a box belongs to an existing school, its id is unique, and its keys round-trip byte for byte") {
  ForEachEngine([](Backend& b) {
    auto store = b.Open();
    std::string school = SchoolId(*store);
    HubBox box = MakeBox("box-1", school);
    box.sign_public_key = AllBytes();
    box.certificate = std::string("\0cert\0", 6);
    REQUIRE(store->AddBox(box).ok());
    CHECK(store->AddBox(box).code() == StatusCode::kConflict);
    CHECK(store->AddBox(MakeBox("box-2", "no-school")).code() == StatusCode::kNotFound);
    auto got = store->GetBox("box-1");
    REQUIRE(got.ok());
    CHECK(got->sign_public_key == AllBytes());
    CHECK(got->certificate == box.certificate);
    CHECK(got->school_id == school);
    CHECK_FALSE(got->revoked_at.has_value());
    CHECK(store->GetBox("box-2").status().code() == StatusCode::kNotFound);
    auto boxes = store->ListBoxes(school);
    REQUIRE(boxes.ok());
    CHECK(boxes->size() == 1);
  });
}

TEST_CASE("an encryption key rotates only forward, and never for a revoked box") {
  ForEachEngine([](Backend& b) {
    auto store = b.Open();
    std::string school = SchoolId(*store);
    REQUIRE(store->AddBox(MakeBox("box-1", school)).ok());
    REQUIRE(store->RotateBoxKey("box-1", "enc-2", 2, "cert-2").ok());
    CHECK(store->RotateBoxKey("box-1", "enc-old", 2, "cert-old").code() == StatusCode::kConflict);
    CHECK(store->RotateBoxKey("box-1", "enc-old", 1, "cert-old").code() == StatusCode::kConflict);
    CHECK(store->RotateBoxKey("ghost", "k", 9, "c").code() == StatusCode::kNotFound);
    auto got = store->GetBox("box-1");
    REQUIRE(got.ok());
    CHECK(got->enc_public_key == "enc-2");
    CHECK(got->enc_key_epoch == 2);
    CHECK(got->certificate == "cert-2");
    REQUIRE(store->RevokeBox("box-1", 5000).ok());
    CHECK(store->RotateBoxKey("box-1", "enc-3", 3, "cert-3").code() == StatusCode::kConflict);
  });
}

TEST_CASE("an enrolment code enrols one box, once, before it expires, into its own school") {
  ForEachEngine([](Backend& b) {
    auto store = b.Open();
    std::string school = SchoolId(*store);
    std::string other = SchoolId(*store, "Autre école");
    std::string id = relais::core::Sha256("code-1").substr(0, 16);
    REQUIRE(store->AddEnrolmentCode(id, "sealed", school, /*expires_at=*/2000, /*now=*/1000).ok());
    CHECK(store->AddEnrolmentCode(id, "sealed", school, 2000, 1000).code() == StatusCode::kConflict);
    CHECK(store->AddEnrolmentCode("x", "s", "no-school", 2000, 1000).code() == StatusCode::kNotFound);
    auto got = store->GetEnrolmentCode(id);
    REQUIRE(got.ok());
    CHECK(got->school_id == school);
    CHECK(got->sealed_key == "sealed");
    CHECK_FALSE(got->used_at.has_value());
    CHECK(store->GetEnrolmentCode("nope").status().code() == StatusCode::kNotFound);

    CHECK(store->EnrolBox("nope", MakeBox("box-1", school), 1500).code() == StatusCode::kPermissionDenied);
    CHECK(store->EnrolBox(id, MakeBox("box-1", other), 1500).code() == StatusCode::kPermissionDenied);
    REQUIRE(store->AddBox(MakeBox("taken", school)).ok());
    CHECK(store->EnrolBox(id, MakeBox("taken", school), 1500).code() == StatusCode::kConflict);
    REQUIRE(store->EnrolBox(id, MakeBox("box-1", school), 1500).ok());  // the conflict left the code unused
    CHECK(store->EnrolBox(id, MakeBox("box-2", school), 1500).code() == StatusCode::kPermissionDenied);
    got = store->GetEnrolmentCode(id);
    REQUIRE(got.ok());
    CHECK(got->used_at == 1500);
    CHECK(got->box_id == "box-1");
    CHECK(store->GetBox("box-1").ok());
    CHECK(store->GetBox("box-2").status().code() == StatusCode::kNotFound);

    std::string late = relais::core::Sha256("code-3").substr(0, 16);
    REQUIRE(store->AddEnrolmentCode(late, "sealed", school, 2000, 1000).ok());
    CHECK(store->EnrolBox(late, MakeBox("box-3", school), 2000).code() == StatusCode::kPermissionDenied);

    auto s1 = store->NextCertificateSerial();
    auto s2 = store->NextCertificateSerial();
    REQUIRE(s1.ok());
    REQUIRE(s2.ok());
    CHECK(*s2 == *s1 + 1);
  });
}

TEST_CASE("ingesting the same operations twice stores them once and numbers the feed without gaps") {
  ForEachEngine([](Backend& b) {
    auto store = b.Open();
    std::string school = SchoolId(*store);
    std::vector<HubOp> batch = {Op("box-a", 1), Op("box-a", 2), Op("box-b", 1, AllBytes())};
    auto first = store->IngestOps(school, batch);
    REQUIRE_MESSAGE(first.ok(), first.status().ToString());
    CHECK(first->inserted == 3);
    CHECK(first->duplicates == 0);
    CHECK(first->feed_head == 3);
    auto again = store->IngestOps(school, batch);
    REQUIRE(again.ok());
    CHECK(again->inserted == 0);
    CHECK(again->duplicates == 3);
    CHECK(again->feed_head == 3);
    // A repeat inside one batch counts once.
    auto mixed = store->IngestOps(school, {Op("box-a", 3), Op("box-a", 3), Op("box-a", 1)});
    REQUIRE(mixed.ok());
    CHECK(mixed->inserted == 1);
    CHECK(mixed->duplicates == 2);

    auto ops = store->OpsAfterFeed(school, 0, 100);
    REQUIRE(ops.ok());
    REQUIRE(ops->size() == 4);
    for (size_t i = 0; i < ops->size(); ++i) CHECK((*ops)[i].feed == static_cast<int64_t>(i + 1));
    CHECK((*ops)[2].record == AllBytes());
    CHECK((*ops)[2].hlc == 10);
    CHECK((*ops)[3].origin == "box-a");
    CHECK((*ops)[3].seq == 3);
    auto head = store->FeedHead(school);
    REQUIRE(head.ok());
    CHECK(*head == 4);
    // The first write wins: a replay with other bytes changes nothing.
    REQUIRE(store->IngestOps(school, {Op("box-a", 1, "forged")}).ok());
    auto one = store->OpsAfterFeed(school, 0, 1);
    REQUIRE(one.ok());
    CHECK((*one)[0].record == "box-a#1");
  });
}

TEST_CASE("a batch with one bad operation, or for an unknown school, stores nothing") {
  ForEachEngine([](Backend& b) {
    auto store = b.Open();
    std::string school = SchoolId(*store);
    CHECK(store->IngestOps(school, {Op("box-a", 1), Op("box-a", 0)}).status().code() == StatusCode::kInvalidArgument);
    CHECK(store->IngestOps(school, {Op("box-a", 1), Op("", 2)}).status().code() == StatusCode::kInvalidArgument);
    CHECK(store->IngestOps("no-school", {Op("box-a", 1)}).status().code() == StatusCode::kNotFound);
    auto head = store->FeedHead(school);
    REQUIRE(head.ok());
    CHECK(*head == 0);
    auto ops = store->OpsAfterFeed(school, 0, 10);
    REQUIRE(ops.ok());
    CHECK(ops->empty());
  });
}

TEST_CASE("the version vector counts only the contiguous seqs of each origin, whatever the arrival order") {
  ForEachEngine([](Backend& b) {
    auto store = b.Open();
    std::string school = SchoolId(*store);
    REQUIRE(store->IngestOps(school, {Op("box-a", 3), Op("box-a", 5), Op("box-b", 1)}).ok());
    auto v = store->SchoolVector(school);
    REQUIRE(v.ok());
    CHECK(v->at("box-a") == 0);
    CHECK(v->at("box-b") == 1);
    REQUIRE(store->IngestOps(school, {Op("box-a", 1), Op("box-a", 2)}).ok());
    v = store->SchoolVector(school);
    REQUIRE(v.ok());
    CHECK(v->at("box-a") == 3);
    REQUIRE(store->IngestOps(school, {Op("box-a", 4)}).ok());
    v = store->SchoolVector(school);
    REQUIRE(v.ok());
    CHECK(v->at("box-a") == 5);
    // A long run crosses any paging inside the store.
    std::vector<HubOp> run;
    for (int s = 2; s <= 2500; ++s) run.push_back(Op("box-b", s));
    REQUIRE(store->IngestOps(school, run).ok());
    v = store->SchoolVector(school);
    REQUIRE(v.ok());
    CHECK(v->at("box-b") == 2500);
    // Schools do not share vectors.
    std::string other = SchoolId(*store, "Autre école");
    auto empty = store->SchoolVector(other);
    REQUIRE(empty.ok());
    CHECK(empty->empty());
  });
}

TEST_CASE("a peer gets exactly the operations its version vector does not cover, page by page") {
  ForEachEngine([](Backend& b) {
    auto store = b.Open();
    std::string school = SchoolId(*store);
    std::vector<HubOp> ops;
    for (int s = 1; s <= 5; ++s) ops.push_back(Op("box-a", s));
    for (int s = 1; s <= 4; ++s) ops.push_back(Op("box-b", s));
    ops.push_back(Op("gateway", 1));
    REQUIRE(store->IngestOps(school, ops).ok());

    VersionVector have = {{"box-a", 3}, {"box-b", 4}, {"unknown", 7}};
    std::vector<std::pair<std::string, int64_t>> got;
    int64_t after = 0;
    int pages = 0;
    while (true) {
      auto page = store->OpsNotCoveredBy(school, have, after, 2);
      REQUIRE(page.ok());
      if (page->empty()) break;
      ++pages;
      for (const HubOp& op : *page) {
        CHECK(op.feed > after);
        after = op.feed;
        got.emplace_back(op.origin, op.seq);
      }
    }
    CHECK(pages == 2);
    std::vector<std::pair<std::string, int64_t>> want = {{"box-a", 4}, {"box-a", 5}, {"gateway", 1}};
    CHECK(got == want);
    auto all = store->OpsNotCoveredBy(school, {}, 0, 100);
    REQUIRE(all.ok());
    CHECK(all->size() == 10);
    auto none = store->OpsNotCoveredBy(school, {{"box-a", 5}, {"box-b", 4}, {"gateway", 1}}, 0, 100);
    REQUIRE(none.ok());
    CHECK(none->empty());
  });
}

TEST_CASE("revoking a box grows the list's version once, and the list names its signing key") {
  ForEachEngine([](Backend& b) {
    auto store = b.Open();
    std::string school = SchoolId(*store);
    REQUIRE(store->AddBox(MakeBox("box-1", school)).ok());
    REQUIRE(store->AddBox(MakeBox("box-2", school)).ok());
    auto empty = store->Revocations();
    REQUIRE(empty.ok());
    CHECK(empty->version == 0);
    auto v1 = store->RevokeBox("box-2", 3000);
    REQUIRE(v1.ok());
    CHECK(*v1 == 1);
    CHECK(store->RevokeBox("box-2", 3001).status().code() == StatusCode::kConflict);
    CHECK(store->RevokeBox("ghost", 3001).status().code() == StatusCode::kNotFound);
    auto v2 = store->RevokeBox("box-1", 3002);
    REQUIRE(v2.ok());
    CHECK(*v2 == 2);
    auto list = store->Revocations();
    REQUIRE(list.ok());
    CHECK(list->version == 2);
    REQUIRE(list->entries.size() == 2);
    CHECK(list->entries[0].box_id == "box-2");
    CHECK(list->entries[0].sign_public_key == "sign-box-2");
    CHECK(list->entries[0].version == 1);
    CHECK(list->entries[1].revoked_at == 3002);
    auto box = store->GetBox("box-2");
    REQUIRE(box.ok());
    CHECK(box->revoked_at == 3000);
  });
}

TEST_CASE("chunks are stored once by id, and the store says which ones it lacks") {
  ForEachEngine([](Backend& b) {
    auto store = b.Open();
    std::string big(3 << 20, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 4096);
    REQUIRE(store->PutChunk(HexId(1), big).ok());
    REQUIRE(store->PutChunk(HexId(2), AllBytes()).ok());
    REQUIRE(store->PutChunk(HexId(2), "other bytes").ok());  // the first stays
    CHECK(store->PutChunk("ABC", "x").code() == StatusCode::kInvalidArgument);
    CHECK(store->PutChunk("../../../../etc/passwd", "x").code() == StatusCode::kInvalidArgument);
    auto missing = store->MissingChunks({HexId(3), HexId(1), HexId(4), HexId(2)});
    REQUIRE(missing.ok());
    CHECK(*missing == std::vector<std::string>{HexId(3), HexId(4)});
    auto got = store->GetChunk(HexId(1));
    REQUIRE(got.ok());
    CHECK(*got == big);
    got = store->GetChunk(HexId(2));
    REQUIRE(got.ok());
    CHECK(*got == AllBytes());
    CHECK(store->GetChunk(HexId(3)).status().code() == StatusCode::kNotFound);
  });
}

TEST_CASE("a school keeps the first manifest of a file, byte for byte, and schools do not see each other's") {
  ForEachEngine([](Backend& b) {
    auto store = b.Open();
    std::string school = SchoolId(*store, "Collège A");
    std::string other = SchoolId(*store, "Collège B");
    std::string manifest = AllBytes() + AllBytes();  // opaque bytes, NULs included
    auto stored = store->PutManifest(school, HexId(1), manifest, 5000);
    REQUIRE_MESSAGE(stored.ok(), stored.status().ToString());
    CHECK(*stored);
    stored = store->PutManifest(school, HexId(1), "a later manifest of the same file", 6000);
    REQUIRE(stored.ok());
    CHECK_FALSE(*stored);  // the first stays: every box gets the same chunk key
    auto got = store->GetManifest(school, HexId(1));
    REQUIRE(got.ok());
    CHECK(*got == manifest);
    CHECK(store->GetManifest(other, HexId(1)).status().code() == StatusCode::kNotFound);
    CHECK(store->GetManifest(school, HexId(2)).status().code() == StatusCode::kNotFound);
    CHECK(store->PutManifest(school, "not-hex", "m", 1).status().code() == StatusCode::kInvalidArgument);
    CHECK(store->PutManifest("no-such-school", HexId(3), "m", 1).status().code() == StatusCode::kNotFound);
    stored = store->PutManifest(other, HexId(1), "school B's own", 7000);
    REQUIRE(stored.ok());
    CHECK(*stored);
    CHECK(*store->GetManifest(other, HexId(1)) == "school B's own");
    CHECK(*store->GetManifest(school, HexId(1)) == manifest);
  });
}

TEST_CASE("an upload resumes at its stored offset, from another hub process, and refuses stale or excess bytes") {
  ForEachEngine([](Backend& b) {
    std::string upload_id;
    std::string school;
    {
      auto first = b.Open();
      school = SchoolId(*first);
      auto u = first->CreateUpload(school, "box-1", "bundle", 10, 100);
      REQUIRE(u.ok());
      upload_id = u->id;
      CHECK(u->offset == 0);
      auto at = first->AppendUpload(upload_id, 0, "abcd", 101);
      REQUIRE(at.ok());
      CHECK(*at == 4);
    }
    // The first hub is gone; another one picks the upload up.
    auto second = b.Open();
    auto u = second->GetUpload(upload_id);
    REQUIRE(u.ok());
    CHECK(u->offset == 4);
    CHECK(u->length == 10);
    CHECK(u->kind == "bundle");
    CHECK(u->box_id == "box-1");
    CHECK(u->updated_at == 101);
    CHECK(second->AppendUpload(upload_id, 0, "abcd", 102).status().code() == StatusCode::kConflict);
    CHECK(second->AppendUpload(upload_id, 4, "efghijk", 102).status().code() == StatusCode::kTooLarge);
    auto end = second->AppendUpload(upload_id, 4, "efghij", 102);
    REQUIRE(end.ok());
    CHECK(*end == 10);
    std::string bytes;
    REQUIRE(second
                ->ReadUpload(upload_id, 0, kUploadEnd,
                             [&](std::string_view piece) {
                               bytes.append(piece);
                               return Status::Ok();
                             })
                .ok());
    CHECK(bytes == "abcdefghij");
    CHECK(second->GetUpload("nope").status().code() == StatusCode::kNotFound);
    CHECK(second->AppendUpload("nope", 0, "x", 1).status().code() == StatusCode::kNotFound);
    CHECK(second->CreateUpload("no-school", "b", "bundle", 1, 1).status().code() == StatusCode::kNotFound);

    auto stale = second->CreateUpload(school, "box-1", "bundle", 5, 50);
    REQUIRE(stale.ok());
    auto removed = second->DeleteStaleUploads(60);
    REQUIRE(removed.ok());
    CHECK(*removed == 1);
    CHECK(second->GetUpload(stale->id).status().code() == StatusCode::kNotFound);
    REQUIRE(second->DeleteUpload(upload_id).ok());
    CHECK(second->GetUpload(upload_id).status().code() == StatusCode::kNotFound);
    REQUIRE(second->DeleteUpload(upload_id).ok());
  });
}

TEST_CASE("a ranged read of a many-part upload starts at the part holding its first byte") {
  ForEachEngine([](Backend& b) {
    auto store = b.Open();
    std::string school = SchoolId(*store);
    // Eight parts of 1,000 bytes and a short last one, each byte known.
    std::string all;
    for (int i = 0; i < 8500; ++i) all.push_back(static_cast<char>((i * 7 + i / 251) & 0xff));
    auto u = store->CreateUpload(school, "box-1", "answer", static_cast<int64_t>(all.size()), 1);
    REQUIRE(u.ok());
    for (int64_t at = 0; at < static_cast<int64_t>(all.size());) {
      auto next = store->AppendUpload(u->id, at, std::string_view(all).substr(static_cast<size_t>(at), 1000), 2);
      REQUIRE(next.ok());
      at = *next;
    }
    auto read = [&](int64_t from, int64_t to) {
      std::string got;
      REQUIRE(store
                  ->ReadUpload(u->id, from, to,
                               [&](std::string_view piece) {
                                 CHECK(piece.size() <= 1000);
                                 got.append(piece);
                                 return Status::Ok();
                               })
                  .ok());
      return got;
    };
    struct Range {
      int64_t from, to;
    };
    for (Range r : {Range{0, kUploadEnd}, Range{7000, 7001}, Range{7999, 8001}, Range{6543, 8500}, Range{6543, 7777},
                    Range{8000, 9999}, Range{8499, kUploadEnd}, Range{1000, 2000}, Range{999, 1000}}) {
      INFO("bytes " << r.from << " to " << r.to);
      int64_t end = std::min<int64_t>(r.to, static_cast<int64_t>(all.size()));
      CHECK(read(r.from, r.to) == all.substr(static_cast<size_t>(r.from), static_cast<size_t>(end - r.from)));
    }
    CHECK(read(8500, kUploadEnd).empty());
    CHECK(read(20000, 30000).empty());
    CHECK(read(3000, 3000).empty());
    // The parts before the one holding the first byte are not read: gone, a
    // late range still reads exactly (a read from the start stops at the hole).
    b.Exec("DELETE FROM hub_upload_parts WHERE start < 6000");
    CHECK(read(6543, 7777) == all.substr(6543, 7777 - 6543));
    CHECK(read(0, kUploadEnd).empty());
  });
}

TEST_CASE("everything stored survives closing and reopening the store") {
  ForEachEngine([](Backend& b) {
    std::string school;
    {
      auto store = b.Open();
      school = SchoolId(*store);
      REQUIRE(store->AddBox(MakeBox("box-1", school)).ok());
      REQUIRE(store->IngestOps(school, {Op("box-1", 1), Op("box-1", 2)}).ok());
      REQUIRE(store->PutChunk(HexId(9), "chunk").ok());
      REQUIRE(store->PutManifest(school, HexId(9), "manifest", 10).ok());
      REQUIRE(store->RevokeBox("box-1", 10).ok());
    }
    auto store = b.Open();
    auto head = store->FeedHead(school);
    REQUIRE(head.ok());
    CHECK(*head == 2);
    auto v = store->SchoolVector(school);
    REQUIRE(v.ok());
    CHECK(v->at("box-1") == 2);
    auto chunk = store->GetChunk(HexId(9));
    REQUIRE(chunk.ok());
    CHECK(*chunk == "chunk");
    auto manifest = store->GetManifest(school, HexId(9));
    REQUIRE(manifest.ok());
    CHECK(*manifest == "manifest");
    auto list = store->Revocations();
    REQUIRE(list.ok());
    CHECK(list->version == 1);
    // The next feed number follows on.
    auto more = store->IngestOps(school, {Op("box-1", 3)});
    REQUIRE(more.ok());
    CHECK(more->feed_head == 3);
  });
}

// --- Concurrency ------------------------------------------------------------

// Writers ingest overlapping batches (each operation sent by several writers,
// in random order) while readers follow the feed. Every operation must be
// stored once, feed numbers must be 1..N, and a reader following the feed
// with "after my cursor" must never see a number skipped (which would mean
// it read n+1 while n was not yet committed, and would lose n for ever).
void HammerFeed(std::vector<HubStore*> hubs) {
  HubStore& first = *hubs[0];
  std::string school = SchoolId(first);
  constexpr int kOrigins = 4, kSeqs = 300, kWriters = 8, kCopies = 3;
  std::vector<HubOp> all;
  for (int o = 0; o < kOrigins; ++o)
    for (int s = 1; s <= kSeqs; ++s) all.push_back(Op("box-" + std::to_string(o), s));
  const int total = static_cast<int>(all.size());

  std::atomic<int> inserted{0};
  std::atomic<bool> writers_done{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(static_cast<unsigned>(w));
      // Writer w sends every operation whose index % kWriters is within kCopies of w.
      std::vector<HubOp> mine;
      for (int i = 0; i < total; ++i)
        if ((i + kWriters - w) % kWriters < kCopies) mine.push_back(all[static_cast<size_t>(i)]);
      std::shuffle(mine.begin(), mine.end(), rng);
      HubStore& hub = *hubs[static_cast<size_t>(w) % hubs.size()];
      for (size_t i = 0; i < mine.size();) {
        size_t n = std::min<size_t>(1 + rng() % 25, mine.size() - i);
        std::vector<HubOp> batch(mine.begin() + static_cast<long>(i), mine.begin() + static_cast<long>(i + n));
        auto r = hub.IngestOps(school, batch);
        if (!r.ok()) {
          ++failures;
          MESSAGE(r.status().ToString());
          return;
        }
        inserted += r->inserted;
        i += n;
      }
    });
  }
  std::atomic<int> gaps{0};
  std::vector<int64_t> seen_by_reader(hubs.size(), 0);
  std::vector<std::thread> readers;
  for (size_t r = 0; r < hubs.size(); ++r) {
    readers.emplace_back([&, r] {
      int64_t cursor = 0;
      while (true) {
        bool done = writers_done.load();
        auto page = hubs[r]->OpsAfterFeed(school, cursor, 50);
        if (!page.ok()) {
          ++failures;
          return;
        }
        for (const HubOp& op : *page) {
          if (op.feed != cursor + 1) ++gaps;
          cursor = op.feed;
        }
        if (done && page->empty()) break;
      }
      seen_by_reader[r] = cursor;
    });
  }
  for (auto& t : threads) t.join();
  writers_done = true;
  for (auto& t : readers) t.join();
  REQUIRE(failures == 0);
  CHECK(gaps == 0);
  CHECK(inserted == total);
  for (int64_t seen : seen_by_reader) CHECK(seen == total);
  auto head = first.FeedHead(school);
  REQUIRE(head.ok());
  CHECK(*head == total);
  auto ops = first.OpsAfterFeed(school, 0, total + 10);
  REQUIRE(ops.ok());
  REQUIRE(static_cast<int>(ops->size()) == total);
  std::set<std::pair<std::string, int64_t>> keys;
  for (size_t i = 0; i < ops->size(); ++i) {
    CHECK((*ops)[i].feed == static_cast<int64_t>(i + 1));
    keys.emplace((*ops)[i].origin, (*ops)[i].seq);
  }
  CHECK(static_cast<int>(keys.size()) == total);
  auto v = first.SchoolVector(school);
  REQUIRE(v.ok());
  for (int o = 0; o < kOrigins; ++o) CHECK(v->at("box-" + std::to_string(o)) == kSeqs);
}

TEST_CASE("concurrent writers of overlapping operations leave no duplicate and no gap, and readers never see one") {
  ForEachEngine([](Backend& b) {
    auto store = b.Open();
    HammerFeed({store.get()});
  });
}

TEST_CASE("two hubs over one PostgreSQL database share one gap-free feed") {
  REQUIRE(relais::core::InitCrypto().ok());
  Backend b = PostgresBackend();
  auto one = b.Open();
  auto two = b.Open();
  HammerFeed({one.get(), two.get()});
}

TEST_CASE("one enrolment code raced by many boxes, on two hubs, enrols exactly one") {
  ForEachEngine([](Backend& b) {
    auto one = b.Open();
    std::unique_ptr<HubStore> two = b.engine == "postgresql" ? b.Open() : nullptr;
    std::string school = SchoolId(*one);
    for (int round = 0; round < 5; ++round) {
      std::string id = "race-" + std::to_string(round);
      REQUIRE(one->AddEnrolmentCode(id, "sealed", school, 1 << 30, 1).ok());
      std::atomic<int> wins{0}, denied{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < 12; ++t) {
        threads.emplace_back([&, t] {
          HubStore& hub = (two && t % 2) ? *two : *one;
          Status st = hub.EnrolBox(id, MakeBox(id + "-box-" + std::to_string(t), school), 2);
          if (st.ok())
            ++wins;
          else if (st.code() == StatusCode::kPermissionDenied)
            ++denied;
        });
      }
      for (auto& t : threads) t.join();
      CHECK(wins == 1);
      CHECK(denied == 11);
      auto boxes = one->ListBoxes(school);
      REQUIRE(boxes.ok());
      CHECK(boxes->size() == static_cast<size_t>(round + 1));
    }
  });
}

TEST_CASE("appends racing at the same offset: one wins, the others are told to ask the offset again") {
  ForEachEngine([](Backend& b) {
    auto one = b.Open();
    std::unique_ptr<HubStore> two = b.engine == "postgresql" ? b.Open() : nullptr;
    std::string school = SchoolId(*one);
    auto u = one->CreateUpload(school, "box-1", "bundle", 1000, 1);
    REQUIRE(u.ok());
    std::atomic<int> wins{0}, conflicts{0};
    std::vector<std::thread> threads;
    std::vector<std::string> pieces;
    for (int t = 0; t < 10; ++t) pieces.push_back(std::string(100, static_cast<char>('a' + t)));
    for (int t = 0; t < 10; ++t) {
      threads.emplace_back([&, t] {
        HubStore& hub = (two && t % 2) ? *two : *one;
        auto r = hub.AppendUpload(u->id, 0, pieces[static_cast<size_t>(t)], 2);
        if (r.ok())
          ++wins;
        else if (r.status().code() == StatusCode::kConflict)
          ++conflicts;
      });
    }
    for (auto& t : threads) t.join();
    CHECK(wins == 1);
    CHECK(conflicts == 9);
    std::string bytes;
    REQUIRE(one->ReadUpload(u->id, 0, kUploadEnd,
                            [&](std::string_view p) {
                              bytes.append(p);
                              return Status::Ok();
                            })
                .ok());
    REQUIRE(bytes.size() == 100);
    CHECK(std::count(pieces.begin(), pieces.end(), bytes) == 1);
    auto got = one->GetUpload(u->id);
    REQUIRE(got.ok());
    CHECK(got->offset == 100);
  });
}

TEST_CASE("publishing numbers must be new: a batch reusing a stored operation is refused whole") {
  ForEachEngine([](Backend& b) {
    auto store = b.Open();
    std::string school = SchoolId(*store);
    IngestOptions append;
    append.all_new = true;
    REQUIRE(store->IngestOpsAs(school, {Op("gw", 1), Op("gw", 2)}, append).ok());
    auto last = store->LastSeq(school, "gw");
    REQUIRE(last.ok());
    CHECK(*last == 2);
    CHECK(store->IngestOpsAs(school, {Op("gw", 3), Op("gw", 2)}, append).status().code() == StatusCode::kConflict);
    last = store->LastSeq(school, "gw");
    REQUIRE(last.ok());
    CHECK(*last == 2);
    CHECK(*store->LastSeq(school, "nobody") == 0);
  });
}

TEST_CASE("an origin belongs to the first box that sends its operations; relayed duplicates pass, new ones do not") {
  ForEachEngine([](Backend& b) {
    auto store = b.Open();
    std::string school = SchoolId(*store);
    IngestOptions as_a, as_b, as_gateway;
    as_a.owner = "box-a";
    as_b.owner = "box-b";
    as_gateway.owner = kGatewayOwner;
    for (IngestOptions* o : {&as_a, &as_b, &as_gateway}) o->gateway_origin = "gw";
    REQUIRE(store->IngestOpsAs(school, {Op("origin-a", 1), Op("origin-a", 2)}, as_a).ok());
    // Box B relays what it received from A: duplicates, accepted.
    auto relayed = store->IngestOpsAs(school, {Op("origin-a", 1), Op("origin-a", 2), Op("origin-b", 1)}, as_b);
    REQUIRE_MESSAGE(relayed.ok(), relayed.status().ToString());
    CHECK(relayed->inserted == 1);
    CHECK(relayed->duplicates == 2);
    // A new operation of A's origin from B is refused, with the whole batch.
    auto forged = store->IngestOpsAs(school, {Op("origin-b", 2), Op("origin-a", 3)}, as_b);
    CHECK(forged.status().code() == StatusCode::kPermissionDenied);
    // So is one of the gateway's origin, even before the gateway published.
    CHECK(store->IngestOpsAs(school, {Op("gw", 1)}, as_a).status().code() == StatusCode::kPermissionDenied);
    auto head = store->FeedHead(school);
    REQUIRE(head.ok());
    CHECK(*head == 3);
    // The owners carry on.
    CHECK(store->IngestOpsAs(school, {Op("origin-a", 3)}, as_a).ok());
    CHECK(store->IngestOpsAs(school, {Op("gw", 1)}, as_gateway).ok());
    CHECK(store->IngestOpsAs(school, {Op("gw", 1), Op("origin-a", 3)}, as_b).ok());  // relayed
    // Bindings are per school: in another school origin-a is free.
    std::string other = SchoolId(*store, "École Jules Ferry");
    CHECK(store->IngestOpsAs(other, {Op("origin-a", 1)}, as_b).ok());
    // And they survive reopening (another hub process).
    auto reopened = b.Open();
    CHECK(reopened->IngestOpsAs(school, {Op("origin-a", 4)}, as_b).status().code() == StatusCode::kPermissionDenied);
    CHECK(reopened->IngestOpsAs(school, {Op("origin-a", 4)}, as_a).ok());
  });
}

// The box's side of file bytes (box/box_files.h) with a directory as the
// carrier: manifests built once and kept, chunks sent sealed, received
// chunks verified, kept across a failed fetch, and assembled byte for byte.
#include "box/box_files.h"

#include <doctest/doctest.h>

#include "content/school.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/files.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using namespace relais;
using namespace relais::sync;
using namespace relais::box;

namespace {

const ChunkParams kSmall{4096, 16384, 65536};

std::unique_ptr<content::School> OpenSchool(const fs::path& dir, const core::Clock& clock) {
  auto school = content::School::Open(dir, clock);
  REQUIRE_MESSAGE(school.ok(), school.status().ToString());
  return std::move(school).value();
}

// A teacher's file of `bytes` on `school`; returns its SHA-256.
std::string AddFile(content::School& school, const std::string& bytes) {
  auto user = school.accounts().FindUser("prof");
  if (!user.ok()) user = school.accounts().CreateUser(nullptr, {"prof", "", content::Role::kTeacher, "pw-123456", {}});
  REQUIRE_MESSAGE(user.ok(), user.status().ToString());
  auto blob = school.blobs().Put(bytes);
  REQUIRE(blob.ok());
  content::Viewer viewer{user->id, user->login, user->role, ""};
  REQUIRE(school.files().Record(viewer, *blob, "application/pdf", "cours.pdf").ok());
  return blob->sha256;
}

}  // namespace

TEST_CASE("a box's file is cut once, sent sealed, and fetched, verified and assembled on another box") {
  REQUIRE(core::InitCrypto().ok());
  testing::TempDir tmp;
  core::SystemClock clock;
  auto a = OpenSchool(tmp.path / "a", clock);
  auto b = OpenSchool(tmp.path / "b", clock);
  std::string bytes = core::RandomBytes(400000);
  std::string sha = AddFile(*a, bytes);

  auto files_a = BoxFiles::Open(*a, tmp.path / "a", kSmall);
  REQUIRE(files_a.ok());
  auto out = files_a->Outgoing();
  REQUIRE(out.ok());
  REQUIRE(out->size() == 1);
  CHECK(core::ToHex((*out)[0].blob_id) == sha);
  CHECK((*out)[0].chunks.size() > 5);
  // The manifest is kept: a resumed send seals under the same key.
  auto again = files_a->Outgoing();
  REQUIRE(again.ok());
  CHECK(EncodeManifest((*again)[0]) == EncodeManifest((*out)[0]));
  auto news = files_a->News();
  REQUIRE(news.ok());
  CHECK(news->have == std::vector<std::string>{sha});
  CHECK(news->want.empty());

  fs::path stick = tmp.path / "stick";
  DirChunkPeer to_stick(stick);
  auto sent = files_a->Send(to_stick, *out, /*acknowledge=*/false, nullptr);
  REQUIRE(sent.ok());
  CHECK(sent->chunks == static_cast<int64_t>((*out)[0].chunks.size()));
  // Sealed on the stick: no run of the file's bytes is there in clear.
  std::string first = core::ReadFile(DirChunkPeer::PathOf(stick, sha, 0)).value();
  CHECK(first.find(bytes.substr(100, 48)) == std::string::npos);
  // Not acknowledged by a stick; acknowledged by the gateway's held-file record.
  CHECK(files_a->Outgoing()->size() == 1);
  REQUIRE(files_a->Learn({{kRecordFileHeld, (*out)[0].blob_id}}).ok());
  CHECK(files_a->Outgoing()->empty());
  CHECK(files_a->News()->have.empty());

  // Box B learns the manifest; one chunk on the stick is altered.
  auto files_b = BoxFiles::Open(*b, tmp.path / "b", kSmall);
  REQUIRE(files_b.ok());
  REQUIRE(files_b->Learn({{kRecordManifest, EncodeManifest((*out)[0])}}).ok());
  fs::path third = DirChunkPeer::PathOf(stick, sha, 3);
  std::string good = core::ReadFile(third).value();
  std::string bad = good;
  bad[bad.size() - 1] ^= 0x01;
  REQUIRE(core::WriteFileAtomic(third, bad).ok());
  DirChunkPeer from_stick(stick);
  auto fetched = files_b->Fetch(from_stick, nullptr);
  REQUIRE(fetched.ok());
  CHECK(fetched->refused == 1);
  CHECK(fetched->files == 0);
  CHECK(fetched->chunks == 3);  // those before the altered one are kept
  CHECK_FALSE(b->blobs().Contains(sha));
  REQUIRE(core::WriteFileAtomic(third, good).ok());
  fetched = files_b->Fetch(from_stick, nullptr);
  REQUIRE(fetched.ok());
  CHECK(fetched->refused == 0);
  CHECK(fetched->files == 1);
  CHECK(fetched->chunks == static_cast<int64_t>((*out)[0].chunks.size()) - 3);  // only what was missing
  REQUIRE(b->blobs().Contains(sha));
  CHECK(core::ReadFile(b->blobs().PathFor(sha)).value() == bytes);
  // Done: nothing more to fetch, and the received chunks are gone from DATA/sync/chunks.
  fetched = files_b->Fetch(from_stick, nullptr);
  REQUIRE(fetched.ok());
  CHECK(fetched->chunks == 0);
  CHECK(fs::is_empty(tmp.path / "b" / "sync" / "chunks"));
}

TEST_CASE("a box adopts the gateway's manifest of a file it holds but has not had acknowledged") {
  REQUIRE(core::InitCrypto().ok());
  testing::TempDir tmp;
  core::SystemClock clock;
  auto a = OpenSchool(tmp.path / "a", clock);
  std::string bytes = core::RandomBytes(100000);
  std::string sha = AddFile(*a, bytes);
  auto files = BoxFiles::Open(*a, tmp.path / "a", kSmall);
  REQUIRE(files.ok());
  auto mine = files->Outgoing();
  REQUIRE(mine.ok());
  auto theirs = BuildManifest(a->blobs().PathFor(sha), kSmall);  // another box's cut: another key
  REQUIRE(theirs.ok());
  REQUIRE(EncodeManifest(*theirs) != EncodeManifest((*mine)[0]));
  REQUIRE(files->Learn({{kRecordManifest, EncodeManifest(*theirs)}}).ok());
  auto now = files->Outgoing();
  REQUIRE(now.ok());
  REQUIRE(now->size() == 1);
  CHECK(EncodeManifest((*now)[0]) == EncodeManifest(*theirs));
  // A malformed record is refused whole.
  CHECK(files->Learn({{kRecordFileHeld, "short"}}).code() == StatusCode::kCorruption);
  CHECK(files->Outgoing()->size() == 1);
}

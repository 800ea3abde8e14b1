#include "sync/chunks.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <set>

#include "core/files.h"
#include "tests/support/temp_dir.h"

using namespace relais;
using namespace relais::sync;
namespace fs = std::filesystem;

namespace {

// Small sizes so tests stay fast; the production defaults are 256 KiB / 1 MiB / 4 MiB.
const ChunkParams kSmall{4 * 1024, 16 * 1024, 64 * 1024};

using relais::testing::TempDir;

std::set<ChunkHash> HashesOf(const Manifest& m) {
  std::set<ChunkHash> out;
  for (const auto& c : m.chunks) out.insert(c.hash);
  return out;
}

// Sends every wanted chunk of `m` (read from `file`) into `store`, up to `limit` chunks.
size_t Transfer(const Manifest& m, const fs::path& file, ChunkStore& store, size_t limit = SIZE_MAX) {
  auto reader = core::FileReader::Open(file);
  REQUIRE(reader.ok());
  auto wanted = WantedChunks(m, [&](const ChunkHash& h) { return store.Has(h); });
  size_t sent = 0;
  for (uint32_t i : wanted) {
    if (sent == limit) break;
    auto sealed = ReadAndSealChunk(m, i, **reader);
    REQUIRE(sealed.ok());
    REQUIRE(store.PutSealed(m, i, *sealed).ok());
    ++sent;
  }
  return sent;
}

}  // namespace

TEST_CASE("chunks stay between the minimum and maximum sizes and average near the target") {
  TempDir dir;
  std::string data = core::RandomBytes(2 << 20);
  auto m = BuildManifest(dir.Write("f", data), kSmall);
  REQUIRE(m.ok());
  uint64_t total = 0;
  for (size_t i = 0; i < m->chunks.size(); ++i) {
    const ChunkRef& c = m->chunks[i];
    CHECK(c.offset == total);
    CHECK(c.size <= kSmall.max_bytes);
    if (i + 1 < m->chunks.size()) CHECK(c.size >= kSmall.min_bytes);
    total += c.size;
  }
  CHECK(total == data.size());
  double avg = double(total) / double(m->chunks.size());
  CHECK(avg > kSmall.avg_bytes / 2.0);
  CHECK(avg < kSmall.avg_bytes * 2.0);
  CHECK(m->blob_id == core::Sha256(data));
}

TEST_CASE("an insertion in the middle of a file changes only the chunks around it") {
  TempDir dir;
  std::string a = core::RandomBytes(3 << 20);
  std::string b = a;
  b.insert(1 << 20, "a teacher added one sentence here");
  auto ma = BuildManifest(dir.Write("a", a), kSmall);
  auto mb = BuildManifest(dir.Write("b", b), kSmall);
  REQUIRE(ma.ok());
  REQUIRE(mb.ok());
  std::set<ChunkHash> have = HashesOf(*ma);
  auto wanted = WantedChunks(*mb, [&](const ChunkHash& h) { return have.count(h) > 0; });
  CHECK(wanted.size() >= 1);
  CHECK(wanted.size() <= 3);
  CHECK(mb->chunks.size() > 100);
}

TEST_CASE("a file with repeated content sends each distinct chunk once") {
  TempDir dir;
  std::string block = core::RandomBytes(kSmall.max_bytes);  // cut at max: identical chunks
  std::string data;
  for (int i = 0; i < 8; ++i) data += block;
  auto m = BuildManifest(dir.Write("f", data), kSmall);
  REQUIRE(m.ok());
  auto wanted = WantedChunks(*m, [](const ChunkHash&) { return false; });
  CHECK(wanted.size() < m->chunks.size());
  CHECK(HashesOf(*m).size() == wanted.size());
}

TEST_CASE("a file travels as sealed chunks and is reassembled byte for byte") {
  TempDir dir;
  std::string data = core::RandomBytes(700 * 1024);
  fs::path src = dir.Write("video.mp4", data);
  auto m = BuildManifest(src, kSmall);
  REQUIRE(m.ok());
  auto decoded = DecodeManifest(EncodeManifest(*m));  // as the receiver gets it, inside a bundle
  REQUIRE(decoded.ok());
  auto store = ChunkStore::Open(dir.path / "incoming");
  REQUIRE(store.ok());
  CHECK(Transfer(*decoded, src, *store) == decoded->chunks.size());
  REQUIRE(store->Assemble(*decoded, dir.path / "copy.mp4").ok());
  CHECK(*core::ReadFile(dir.path / "copy.mp4") == data);
}

TEST_CASE("a cut transfer resumes: only the chunks not yet received are sent again") {
  TempDir dir;
  std::string data = core::RandomBytes(1 << 20);
  fs::path src = dir.Write("f", data);
  auto m = BuildManifest(src, kSmall);
  REQUIRE(m.ok());
  size_t total = m->chunks.size();
  {
    auto store = ChunkStore::Open(dir.path / "incoming");
    REQUIRE(store.ok());
    CHECK(Transfer(*m, src, *store, total / 2) == total / 2);
    CHECK(store->Assemble(*m, dir.path / "copy").code() == StatusCode::kNotFound);
  }  // the receiver "restarts"
  auto store = ChunkStore::Open(dir.path / "incoming");
  REQUIRE(store.ok());
  auto wanted = WantedChunks(*m, [&](const ChunkHash& h) { return store->Has(h); });
  CHECK(wanted.size() == total - total / 2);
  CHECK(Transfer(*m, src, *store) == total - total / 2);
  REQUIRE(store->Assemble(*m, dir.path / "copy").ok());
  CHECK(*core::ReadFile(dir.path / "copy") == data);
}

TEST_CASE("a sealed chunk that was altered, moved to another index or blob, or cut is refused") {
  TempDir dir;
  std::string data = core::RandomBytes(200 * 1024);
  fs::path src = dir.Write("f", data);
  auto m = BuildManifest(src, kSmall);
  REQUIRE(m.ok());
  REQUIRE(m->chunks.size() >= 2);
  auto reader = core::FileReader::Open(src);
  REQUIRE(reader.ok());
  auto sealed = ReadAndSealChunk(*m, 0, **reader);
  REQUIRE(sealed.ok());
  CHECK(sealed->size() == m->chunks[0].size + kChunkOverheadBytes);
  CHECK(OpenChunk(*m, 0, *sealed).ok());
  CHECK(OpenChunk(*m, 1, *sealed).status().code() == StatusCode::kCorruption);
  for (size_t i = 0; i < sealed->size(); i += 997) {
    std::string bad = *sealed;
    bad[i] ^= 0x20;
    CHECK_FALSE(OpenChunk(*m, 0, bad).ok());
  }
  CHECK_FALSE(OpenChunk(*m, 0, sealed->substr(0, sealed->size() - 1)).ok());
  CHECK_FALSE(OpenChunk(*m, 0, sealed->substr(0, 10)).ok());
  // Same key, another blob: the additional data differs.
  Manifest other = *m;
  other.blob_id = core::Sha256("another file");
  CHECK_FALSE(OpenChunk(other, 0, *sealed).ok());
  // A sender holding the key cannot pass other bytes off as this chunk.
  std::string forged = SealChunk(*m, 0, std::string(m->chunks[0].size, 'x'));
  CHECK(OpenChunk(*m, 0, forged).status().code() == StatusCode::kCorruption);
}

TEST_CASE("a manifest survives encoding and every truncation of it is refused") {
  TempDir dir;
  auto m = BuildManifest(dir.Write("f", core::RandomBytes(100 * 1024)), kSmall);
  REQUIRE(m.ok());
  std::string bytes = EncodeManifest(*m);
  auto back = DecodeManifest(bytes);
  REQUIRE(back.ok());
  CHECK(EncodeManifest(*back) == bytes);
  for (size_t len = 0; len < bytes.size(); ++len) CHECK_FALSE(DecodeManifest(bytes.substr(0, len)).ok());
  std::string bad_size = bytes;
  bad_size[8 + 2 + 32] ^= 1;  // the file size no longer matches the chunks
  CHECK(DecodeManifest(bad_size).status().code() == StatusCode::kCorruption);
}

TEST_CASE("an empty file has an empty manifest and assembles to an empty file") {
  TempDir dir;
  auto m = BuildManifest(dir.Write("empty", ""), kSmall);
  REQUIRE(m.ok());
  CHECK(m->chunks.empty());
  auto back = DecodeManifest(EncodeManifest(*m));
  REQUIRE(back.ok());
  auto store = ChunkStore::Open(dir.path / "incoming");
  REQUIRE(store.ok());
  REQUIRE(store->Assemble(*back, dir.path / "copy").ok());
  CHECK(fs::file_size(dir.path / "copy") == 0);
}

TEST_CASE("chunk sizes that make no sense are refused") {
  TempDir dir;
  fs::path f = dir.Write("f", "x");
  CHECK(BuildManifest(f, ChunkParams{1024, 512, 4096}).status().code() == StatusCode::kInvalidArgument);
  CHECK(BuildManifest(f, ChunkParams{16, 512, 4096}).status().code() == StatusCode::kInvalidArgument);
  CHECK(BuildManifest(f, ChunkParams{}).ok());
}

TEST_CASE("a stream cut as it arrives, in pieces of any size, gives the chunks of the same bytes as a file") {
  TempDir dir;
  std::string data = core::RandomBytes(700 * 1024 + 3);
  fs::path file = dir.path / "f";
  REQUIRE(core::WriteFileAtomic(file, data).ok());
  auto from_file = BuildManifest(file, kSmall);
  REQUIRE(from_file.ok());
  for (size_t piece : {size_t{1}, size_t{1000}, size_t{64 * 1024}, size_t{65 * 1024}, data.size()}) {
    INFO("pieces of " << piece << " bytes");
    ChunkCutter cutter(kSmall);
    std::string seen;  // the chunks' plaintexts, in the order given
    uint64_t expected_offset = 0;
    auto sink = [&](const ChunkRef& ref, std::string_view plaintext) {
      CHECK(ref.offset == expected_offset);
      CHECK(ref.size == plaintext.size());
      expected_offset += plaintext.size();
      seen.append(plaintext);
      return Status::Ok();
    };
    for (size_t at = 0; at < data.size(); at += piece)
      REQUIRE(cutter.Add(std::string_view(data).substr(at, piece), sink).ok());
    auto streamed = cutter.Finish(sink);
    REQUIRE(streamed.ok());
    CHECK(seen == data);
    CHECK(streamed->blob_id == from_file->blob_id);
    CHECK(streamed->size == data.size());
    REQUIRE(streamed->chunks.size() == from_file->chunks.size());
    for (size_t i = 0; i < streamed->chunks.size(); ++i) {
      CHECK(streamed->chunks[i].hash == from_file->chunks[i].hash);
      CHECK(streamed->chunks[i].size == from_file->chunks[i].size);
    }
  }
}

TEST_CASE("a chunk the sink refuses stops the cutter with the sink's error") {
  ChunkCutter cutter(kSmall);
  auto refuse = [](const ChunkRef&, std::string_view) { return Status::IOError("disk full"); };
  Status st = cutter.Add(core::RandomBytes(200 * 1024), refuse);
  CHECK(st.code() == StatusCode::kIOError);
}

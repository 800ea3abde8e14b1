#include "content/blob_store.h"

#include <doctest/doctest.h>

#include <cstring>
#include <random>

#include "core/crypto.h"

namespace relais::content {
namespace {

// A fresh, empty data folder removed at the end of the test.
class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("relais-blob-" + core::RandomToken(8))) {
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Regular files anywhere under `dir`.
size_t CountFiles(const fs::path& dir) {
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) ++n;
  }
  return n;
}

std::string ReadBlob(const BlobStore& store, const std::string& sha) {
  auto reader = store.Open(sha);
  REQUIRE(reader.ok());
  std::string out((*reader)->size(), '\0');
  auto n = (*reader)->ReadAt(0, out.data(), out.size());
  REQUIRE(n.ok());
  out.resize(*n);
  return out;
}

constexpr char kAbcSha[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

}  // namespace

TEST_CASE("a blob is named by the SHA-256 of its bytes and stored under two directory levels") {
  TempDir dir;
  auto store = BlobStore::Open(dir.path(), /*clear_tmp=*/true);
  REQUIRE(store.ok());
  auto info = (*store)->Put("abc");
  REQUIRE(info.ok());
  CHECK(info->sha256 == kAbcSha);
  CHECK(info->size == 3);
  CHECK(info->head == "abc");
  fs::path expected = dir.path() / "blobs" / "ba" / "78" / kAbcSha;
  CHECK((*store)->PathFor(kAbcSha) == expected);
  CHECK(fs::is_regular_file(expected));
  CHECK((*store)->Contains(kAbcSha));
  CHECK(ReadBlob(**store, kAbcSha) == "abc");
}

TEST_CASE("the empty file is a valid blob") {
  TempDir dir;
  auto store = BlobStore::Open(dir.path(), /*clear_tmp=*/true);
  REQUIRE(store.ok());
  auto info = (*store)->Put("");
  REQUIRE(info.ok());
  CHECK(info->sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(info->size == 0);
  CHECK(ReadBlob(**store, info->sha256).empty());
}

TEST_CASE("the same content uploaded twice is stored once") {
  TempDir dir;
  auto store = BlobStore::Open(dir.path(), /*clear_tmp=*/true);
  REQUIRE(store.ok());
  auto a = (*store)->Put("same bytes");
  REQUIRE(a.ok());
  auto w = (*store)->NewWriter(1000);
  REQUIRE(w.ok());
  REQUIRE((*w)->Write("same ").ok());
  REQUIRE((*w)->Write("bytes").ok());
  auto b = (*w)->Finish();
  REQUIRE(b.ok());
  CHECK(a->sha256 == b->sha256);
  CHECK(CountFiles(dir.path() / "blobs") == 1);
  CHECK(CountFiles(dir.path() / "tmp") == 0);
  CHECK(ReadBlob(**store, a->sha256) == "same bytes");
}

TEST_CASE("an upload over the limit fails with TooLarge and leaves nothing behind") {
  TempDir dir;
  auto store = BlobStore::Open(dir.path(), /*clear_tmp=*/true);
  REQUIRE(store.ok());
  auto w = (*store)->NewWriter(10);
  REQUIRE(w.ok());
  REQUIRE((*w)->Write("0123456").ok());
  CHECK(CountFiles(dir.path() / "tmp") == 1);
  Status st = (*w)->Write("789A");  // 11 bytes in total
  CHECK(st.code() == StatusCode::kTooLarge);
  CHECK(CountFiles(dir.path() / "tmp") == 0);
  CHECK((*w)->Write("x").code() == StatusCode::kTooLarge);  // stays failed
  CHECK((*w)->Finish().status().code() == StatusCode::kTooLarge);
  w->reset();
  CHECK(CountFiles(dir.path() / "tmp") == 0);
  CHECK(CountFiles(dir.path() / "blobs") == 0);
}

TEST_CASE("an upload of exactly the limit is accepted") {
  TempDir dir;
  auto store = BlobStore::Open(dir.path(), /*clear_tmp=*/true);
  REQUIRE(store.ok());
  auto w = (*store)->NewWriter(3);
  REQUIRE(w.ok());
  REQUIRE((*w)->Write("ab").ok());
  REQUIRE((*w)->Write("c").ok());
  auto info = (*w)->Finish();
  REQUIRE(info.ok());
  CHECK(info->sha256 == kAbcSha);
  CHECK((*w)->Finish().status().code() == StatusCode::kInternal);  // spent
}

TEST_CASE("a writer destroyed without Finish leaves nothing behind") {
  TempDir dir;
  auto store = BlobStore::Open(dir.path(), /*clear_tmp=*/true);
  REQUIRE(store.ok());
  {
    auto w = (*store)->NewWriter(1 << 20);
    REQUIRE(w.ok());
    REQUIRE((*w)->Write("partial upload").ok());
    CHECK(CountFiles(dir.path() / "tmp") == 1);
  }
  CHECK(CountFiles(dir.path() / "tmp") == 0);
  CHECK(CountFiles(dir.path() / "blobs") == 0);
}

TEST_CASE("a command opening the store while the server uploads leaves the upload alone") {
  TempDir dir;
  auto server = BlobStore::Open(dir.path(), /*clear_tmp=*/true);
  REQUIRE(server.ok());
  auto writer = (*server)->NewWriter(1 << 20);
  REQUIRE(writer.ok());
  REQUIRE((*writer)->Write("half of an upload").ok());
  auto cli = BlobStore::Open(dir.path(), /*clear_tmp=*/false);
  REQUIRE(cli.ok());
  REQUIRE((*writer)->Write(", and the rest").ok());
  auto info = (*writer)->Finish();
  REQUIRE(info.ok());
  CHECK(ReadBlob(**server, info->sha256) == "half of an upload, and the rest");
}

TEST_CASE("the server opening the store removes partial uploads left by a crash") {
  TempDir dir;
  fs::create_directories(dir.path() / "tmp");
  {
    std::FILE* f = std::fopen((dir.path() / "tmp" / "upload-crashed.part").c_str(), "w");
    std::fclose(f);
  }
  auto store = BlobStore::Open(dir.path(), /*clear_tmp=*/true);
  REQUIRE(store.ok());
  CHECK(CountFiles(dir.path() / "tmp") == 0);
  CHECK((*store)->tmp_dir() == dir.path() / "tmp");
}

TEST_CASE("Open refuses names that are not 64 lower-case hex characters") {
  TempDir dir;
  auto store = BlobStore::Open(dir.path(), /*clear_tmp=*/true);
  REQUIRE(store.ok());
  for (std::string name :
       {std::string("../etc/passwd"), std::string(""), std::string(64, 'A'), std::string(63, 'a'), std::string(65, 'a'),
        std::string("../../") + std::string(58, 'a'), std::string(62, 'a') + "/x"}) {
    CAPTURE(name);
    CHECK((*store)->Open(name).status().code() == StatusCode::kInvalidArgument);
    CHECK_FALSE((*store)->Contains(name));
    CHECK((*store)->PathFor(name).empty());
  }
}

TEST_CASE("Open of an absent blob is NotFound") {
  TempDir dir;
  auto store = BlobStore::Open(dir.path(), /*clear_tmp=*/true);
  REQUIRE(store.ok());
  CHECK((*store)->Open(std::string(64, 'a')).status().code() == StatusCode::kNotFound);
  CHECK_FALSE((*store)->Contains(std::string(64, 'a')));
}

TEST_CASE("a 50 MB upload streamed in 64 KiB chunks hashes correctly and keeps only its head") {
  TempDir dir;
  auto store = BlobStore::Open(dir.path(), /*clear_tmp=*/true);
  REQUIRE(store.ok());
  constexpr size_t kChunk = 64 * 1024;
  constexpr size_t kChunks = 800;  // 52,428,800 bytes
  auto w = (*store)->NewWriter(uint64_t{kChunk} * kChunks);
  REQUIRE(w.ok());
  std::mt19937_64 rng(42);
  std::string chunk(kChunk, '\0');
  std::string first_chunk;
  core::Sha256Stream expected;
  for (size_t i = 0; i < kChunks; ++i) {
    for (size_t j = 0; j < kChunk; j += 8) {
      uint64_t r = rng();
      std::memcpy(chunk.data() + j, &r, 8);
    }
    if (i == 0) first_chunk = chunk;
    expected.Update(chunk);
    REQUIRE((*w)->Write(chunk).ok());
  }
  CHECK((*w)->size() == uint64_t{kChunk} * kChunks);
  CHECK((*w)->head() == first_chunk.substr(0, BlobWriter::kSniffBytes));
  auto info = (*w)->Finish();
  REQUIRE(info.ok());
  CHECK(info->sha256 == expected.FinishHex());
  CHECK(info->size == uint64_t{kChunk} * kChunks);
  CHECK(info->head.size() == BlobWriter::kSniffBytes);
  CHECK(fs::file_size((*store)->PathFor(info->sha256)) == uint64_t{kChunk} * kChunks);
  CHECK(CountFiles(dir.path() / "tmp") == 0);
}

}  // namespace relais::content

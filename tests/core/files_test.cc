#include "core/files.h"

#include <doctest/doctest.h>

#include <filesystem>

#include "core/crypto.h"

namespace fs = std::filesystem;
using namespace relais::core;

namespace {
struct TempDir {
  fs::path path = fs::temp_directory_path() / ("relais-files-" + RandomToken(8));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};
size_t CountEntries(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}
}  // namespace

TEST_CASE("an atomic write replaces the file whole and leaves no temporary") {
  TempDir dir;
  fs::path p = dir.path / "setting.txt";
  REQUIRE(WriteFileAtomic(p, "first").ok());
  REQUIRE(WriteFileAtomic(p, "second, longer").ok());
  CHECK(*ReadFile(p) == "second, longer");
  CHECK(CountEntries(dir.path) == 1);
}

TEST_CASE("a write into a missing folder fails cleanly") {
  TempDir dir;
  auto st = WriteFileAtomic(dir.path / "no" / "such" / "file", "x");
  CHECK(st.code() == relais::StatusCode::kIOError);
}

TEST_CASE("a streaming file disappears unless committed") {
  TempDir dir;
  {
    auto f = StreamingFile::Create(dir.path);
    REQUIRE(f.ok());
    REQUIRE((*f)->Append("partial upload").ok());
    CHECK(CountEntries(dir.path) == 1);
  }
  CHECK(CountEntries(dir.path) == 0);
  auto f = StreamingFile::Create(dir.path);
  REQUIRE(f.ok());
  REQUIRE((*f)->Append("whole").ok());
  REQUIRE((*f)->CommitTo(dir.path / "final").ok());
  CHECK(*ReadFile(dir.path / "final") == "whole");
  CHECK(CountEntries(dir.path) == 1);
}

TEST_CASE("committing onto an existing name keeps the existing file") {
  TempDir dir;
  REQUIRE(WriteFileAtomic(dir.path / "blob", "same bytes").ok());
  auto f = StreamingFile::Create(dir.path);
  REQUIRE(f.ok());
  REQUIRE((*f)->Append("same bytes").ok());
  REQUIRE((*f)->CommitTo(dir.path / "blob").ok());
  CHECK(CountEntries(dir.path) == 1);
}

TEST_CASE("reading a missing file is NotFound") {
  CHECK(ReadFile("/nonexistent/relais").status().code() == relais::StatusCode::kNotFound);
}

#include "core/files.h"

#include <doctest/doctest.h>

#include <filesystem>

#include "core/config.h"
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

TEST_CASE("configuration comes from the file, then the environment, and bad values are named") {
  TempDir dir;
  REQUIRE(WriteFileAtomic(dir.path / "relais.conf", "# comment\nlisten = 0.0.0.0:9000\nmax_upload_mb = 50\n").ok());
  Config c;
  REQUIRE(c.LoadFile(dir.path / "relais.conf").ok());
  CHECK(c.listen_host == "0.0.0.0");
  CHECK(c.listen_port == 9000);
  CHECK(c.max_upload_bytes == 50ull << 20);
  setenv("RELAIS_MAX_UPLOAD_MB", "10", 1);
  REQUIRE(c.LoadEnvironment().ok());
  unsetenv("RELAIS_MAX_UPLOAD_MB");
  CHECK(c.max_upload_bytes == 10ull << 20);
  CHECK(c.Set("listen", "nowhere").code() == relais::StatusCode::kInvalidArgument);
  CHECK(c.Set("listen", "127.0.0.1:99999").code() == relais::StatusCode::kInvalidArgument);
  CHECK(c.Set("colour", "blue").code() == relais::StatusCode::kInvalidArgument);
  REQUIRE(WriteFileAtomic(dir.path / "bad.conf", "listen 8080\n").ok());
  auto st = Config().LoadFile(dir.path / "bad.conf");
  CHECK(st.message().find(":1:") != std::string::npos);
}

TEST_CASE("weaker password hashing than 19 MiB and 2 passes is refused at start-up") {
  Config c;
  CHECK(c.Validate().ok());
  c.password_mem_kib = 8 * 1024;
  CHECK_FALSE(c.Validate().ok());
}

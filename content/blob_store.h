// content/blob_store.h — the content-addressed file store.
//
// Layout under the data folder (documented in docs/storage.md):
//   blobs/ab/cd/abcdef…(64 hex)   one file per distinct content, named by SHA-256
//   tmp/upload-*.part             uploads in progress (removed at start-up)
// A blob is written once and never modified; the same bytes uploaded twice are
// stored once. A blob appears under its final name only after its bytes and
// the directory entry are fsynced, so a name always means complete content.
// Thread-safe: writers are independent; readers open files by name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/files.h"
#include "core/status.h"

namespace relais::content {

namespace fs = std::filesystem;

struct BlobInfo {
  std::string sha256;  // 64 lower-case hex characters
  uint64_t size = 0;
  std::string head;  // the first bytes (up to kSniffBytes), for type sniffing
};

class BlobStore;

// One upload streaming to disk. Created by BlobStore::NewWriter; the partial
// file is deleted if the writer is destroyed without Finish().
class BlobWriter {
 public:
  static constexpr size_t kSniffBytes = 4096;
  // Appends bytes. Returns TooLarge (and stops accepting) once the total
  // would exceed the limit given to NewWriter; IOError if the disk fails.
  // After an error the partial file is already deleted and every later call
  // returns the same error.
  Status Write(std::string_view data);
  // Makes the blob durable under its SHA-256 name and returns what was stored.
  // If a blob with the same content exists it is kept and this one dropped.
  // The writer is spent afterwards (a second call returns Internal).
  Result<BlobInfo> Finish();
  // Bytes accepted so far.
  uint64_t size() const { return size_; }
  const std::string& head() const { return head_; }

 private:
  friend class BlobStore;
  BlobWriter(const BlobStore* store, std::unique_ptr<core::StreamingFile> file, uint64_t limit);
  const BlobStore* store_;
  std::unique_ptr<core::StreamingFile> file_;
  uint64_t limit_;
  uint64_t size_ = 0;
  std::string head_;
  struct HashState;
  std::shared_ptr<HashState> hash_;
  Status error_;  // sticky: set on the first failure, or once finished
};

class BlobStore {
 public:
  // Creates blobs/ and tmp/ under `data_dir` if needed. With `clear_tmp`
  // (the server, at start-up, holding the data folder's lock) it also removes
  // partial uploads left in tmp/ by a crash; nothing else may clear it, since
  // a running server may be writing there.
  static Result<std::unique_ptr<BlobStore>> Open(const fs::path& data_dir, bool clear_tmp);

  // A new upload limited to `max_bytes`.
  Result<std::unique_ptr<BlobWriter>> NewWriter(uint64_t max_bytes) const;
  // Stores `data` in one call (small files, demo content, tests).
  Result<BlobInfo> Put(std::string_view data) const;
  // Opens the blob for reading. NotFound if absent; InvalidArgument if
  // `sha256` is not 64 lower-case hex characters.
  Result<std::unique_ptr<core::FileReader>> Open(std::string_view sha256) const;
  // The same for a std::string, which would otherwise be ambiguous between
  // the overload above and the static Open(const fs::path&).
  Result<std::unique_ptr<core::FileReader>> Open(const std::string& sha256) const {
    return Open(std::string_view(sha256));
  }
  bool Contains(std::string_view sha256) const;
  // blobs/ab/cd/abcd…; an empty path when `sha256` is not 64 lower-case hex.
  fs::path PathFor(std::string_view sha256) const;
  // True for 64 lower-case hex characters.
  static bool IsValidSha256(std::string_view sha256);
  const fs::path& tmp_dir() const { return tmp_; }

 private:
  BlobStore(fs::path root, fs::path tmp) : root_(std::move(root)), tmp_(std::move(tmp)) {}
  fs::path root_;
  fs::path tmp_;
};

}  // namespace relais::content

// core/files.h — durable file operations.
//
// Every durable write in Relais goes through here: write to a temporary file
// in the same directory, fsync it, rename it over the target, fsync the
// directory. After the call returns OK the file survives a power cut.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace relais::core {

namespace fs = std::filesystem;

// Atomically replaces `path` with `data` (temp + fsync + rename + fsync dir).
Status WriteFileAtomic(const fs::path& path, std::string_view data, int mode = 0644);
Result<std::string> ReadFile(const fs::path& path);
Status FsyncDir(const fs::path& dir);
Status MakeDirs(const fs::path& dir);
// Bytes available to an unprivileged user on the file system holding `path`.
Result<uint64_t> FreeDiskBytes(const fs::path& path);
// The size of the file system holding `path`.
Result<uint64_t> DiskTotalBytes(const fs::path& path);
// The disk space used by the files under `dir` (allocated blocks, like du;
// symbolic links are not followed). Files that vanish during the walk are skipped.
Result<uint64_t> DirectoryBytes(const fs::path& dir);

// A file being written sequentially, e.g. an upload streaming to disk.
// Deleted on destruction unless Commit() moved it into place.
class StreamingFile {
 public:
  // Creates a new, uniquely named file in `dir`.
  static Result<std::unique_ptr<StreamingFile>> Create(const fs::path& dir);
  ~StreamingFile();
  Status Append(std::string_view data);
  // fsyncs, then renames to `target` (replacing nothing: if `target` exists the
  // temporary is removed and OK is returned), then fsyncs target's directory.
  Status CommitTo(const fs::path& target);
  const fs::path& path() const { return path_; }
  uint64_t size() const { return size_; }

 private:
  StreamingFile(int fd, fs::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  fs::path path_;
  uint64_t size_ = 0;
  bool committed_ = false;
};

// An exclusive advisory lock (flock) on a file, held while the object lives.
// The kernel drops it when the process dies, so a crash never leaves it stale.
class FileLock {
 public:
  // Creates `path` if needed and locks it; Conflict if another process holds it.
  static Result<std::unique_ptr<FileLock>> Acquire(const fs::path& path);
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

// A read-only memory mapping of part of a file, unmapped on destruction.
// Sending from a mapping saves copying the bytes into a buffer first.
class MappedRange {
 public:
  MappedRange(void* base, size_t mapped, const char* data, size_t size)
      : base_(base), mapped_(mapped), data_(data), size_(size) {}
  MappedRange(const MappedRange&) = delete;
  MappedRange& operator=(const MappedRange&) = delete;
  ~MappedRange();
  const char* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void* base_;
  size_t mapped_;
  const char* data_;
  size_t size_;
};

// A read-only open file descriptor with RAII close.
class FileReader {
 public:
  static Result<std::unique_ptr<FileReader>> Open(const fs::path& path);
  ~FileReader();
  // Reads up to `n` bytes at `offset` into `buf`; returns the count (0 at end).
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) const;
  // Maps `n` bytes at `offset` (which need not be page-aligned). The range
  // must lie within the file.
  Result<std::unique_ptr<MappedRange>> Map(uint64_t offset, size_t n) const;
  uint64_t size() const { return size_; }
  int64_t mtime() const { return mtime_; }

 private:
  FileReader(int fd, uint64_t size, int64_t mtime) : fd_(fd), size_(size), mtime_(mtime) {}
  int fd_;
  uint64_t size_;
  int64_t mtime_;
};

}  // namespace relais::core

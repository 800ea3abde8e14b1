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

// A read-only open file descriptor with RAII close.
class FileReader {
 public:
  static Result<std::unique_ptr<FileReader>> Open(const fs::path& path);
  ~FileReader();
  // Reads up to `n` bytes at `offset` into `buf`; returns the count (0 at end).
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) const;
  uint64_t size() const { return size_; }
  int64_t mtime() const { return mtime_; }

 private:
  FileReader(int fd, uint64_t size, int64_t mtime) : fd_(fd), size_(size), mtime_(mtime) {}
  int fd_;
  uint64_t size_;
  int64_t mtime_;
};

}  // namespace relais::core

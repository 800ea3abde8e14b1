#include "core/files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/crypto.h"

namespace relais::core {
namespace {

Status Errno(const std::string& what) {
  int e = errno;
  std::string msg = what + ": " + std::strerror(e);
  return Status::IOError(msg);
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

Status FsyncDir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open dir " + dir.string());
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Errno("fsync dir " + dir.string());
  return Status::Ok();
}

Status MakeDirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("create " + dir.string() + ": " + ec.message());
  return Status::Ok();
}

Status WriteFileAtomic(const fs::path& path, std::string_view data, int mode) {
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  // Built step by step: GCC 12 warns falsely (-Wrestrict) on "." + std::string.
  std::string tmp_name(".");
  tmp_name += path.filename().string();
  tmp_name += ".tmp-";
  tmp_name += RandomToken(6);
  fs::path tmp = dir / tmp_name;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Errno("create " + tmp.string());
  Status st = WriteAll(fd, data);
  if (st.ok() && ::fsync(fd) != 0) st = Errno("fsync " + tmp.string());
  ::close(fd);
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = Errno("rename " + path.string());
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return FsyncDir(dir);
}

Result<std::string> ReadFile(const fs::path& path) {
  auto reader = FileReader::Open(path);
  if (!reader.ok()) return reader.status();
  std::string out((*reader)->size(), '\0');
  size_t done = 0;
  while (done < out.size()) {
    auto n = (*reader)->ReadAt(done, out.data() + done, out.size() - done);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    done += *n;
  }
  out.resize(done);
  return out;
}

Result<uint64_t> FreeDiskBytes(const fs::path& path) {
  struct statvfs s {};
  if (::statvfs(path.c_str(), &s) != 0) return Errno("statvfs " + path.string());
  return static_cast<uint64_t>(s.f_bavail) * s.f_frsize;
}

Result<uint64_t> DiskTotalBytes(const fs::path& path) {
  struct statvfs s {};
  if (::statvfs(path.c_str(), &s) != 0) return Errno("statvfs " + path.string());
  return static_cast<uint64_t>(s.f_blocks) * s.f_frsize;
}

Result<uint64_t> DirectoryBytes(const fs::path& dir) {
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) return Status::IOError("cannot list " + dir.string() + ": " + ec.message());
  uint64_t total = 0;
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Status::IOError("cannot list " + dir.string() + ": " + ec.message());
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
      total += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return total;
}

Result<std::unique_ptr<StreamingFile>> StreamingFile::Create(const fs::path& dir) {
  fs::path path = dir / ("upload-" + RandomToken(12) + ".part");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create " + path.string());
  return std::unique_ptr<StreamingFile>(new StreamingFile(fd, path));
}

StreamingFile::~StreamingFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(path_.c_str());
}

Status StreamingFile::Append(std::string_view data) {
  RELAIS_RETURN_IF_ERROR(WriteAll(fd_, data));
  size_ += data.size();
  return Status::Ok();
}

Status StreamingFile::CommitTo(const fs::path& target) {
  if (::fsync(fd_) != 0) return Errno("fsync " + path_.string());
  ::close(fd_);
  fd_ = -1;
  // link() fails with EEXIST when the target is already there: content
  // addressing means it is the same bytes, so keep the existing one.
  if (::link(path_.c_str(), target.c_str()) != 0 && errno != EEXIST) return Errno("link " + target.string());
  ::unlink(path_.c_str());
  committed_ = true;
  RELAIS_RETURN_IF_ERROR(FsyncDir(target.parent_path()));
  return FsyncDir(path_.parent_path());
}

Result<std::unique_ptr<FileReader>> FileReader::Open(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound("no file " + path.string());
    return Errno("open " + path.string());
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status s = Errno("stat " + path.string());
    ::close(fd);
    return s;
  }
  return std::unique_ptr<FileReader>(
      new FileReader(fd, static_cast<uint64_t>(st.st_size), static_cast<int64_t>(st.st_mtime)));
}

FileReader::~FileReader() { ::close(fd_); }

Result<size_t> FileReader::ReadAt(uint64_t offset, char* buf, size_t n) const {
  while (true) {
    ssize_t r = ::pread(fd_, buf, n, static_cast<off_t>(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      return Errno("read");
    }
    return static_cast<size_t>(r);
  }
}

Result<std::unique_ptr<FileLock>> FileLock::Acquire(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("open " + path.string());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    ::close(fd);
    if (e == EWOULDBLOCK) return Status::Conflict(path.string() + " is locked by another process");
    errno = e;
    return Errno("lock " + path.string());
  }
  return std::unique_ptr<FileLock>(new FileLock(fd));
}

FileLock::~FileLock() { ::close(fd_); }

MappedRange::~MappedRange() { ::munmap(base_, mapped_); }

Result<std::unique_ptr<MappedRange>> FileReader::Map(uint64_t offset, size_t n) const {
  if (n == 0 || offset + n > size_) return Status::InvalidArgument("mapping outside the file");
  static const uint64_t kPage = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  uint64_t start = offset - offset % kPage;
  size_t mapped = static_cast<size_t>(offset - start) + n;
  void* base = ::mmap(nullptr, mapped, PROT_READ, MAP_SHARED | MAP_POPULATE, fd_, static_cast<off_t>(start));
  if (base == MAP_FAILED) return Errno("mmap");
  // The bytes will be read once, in order.
  ::madvise(base, mapped, MADV_SEQUENTIAL);
  return std::make_unique<MappedRange>(base, mapped, static_cast<const char*>(base) + (offset - start), n);
}

}  // namespace relais::core

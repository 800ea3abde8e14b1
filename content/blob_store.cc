// content/blob_store.cc — the content-addressed file store.
//
// Invariants:
//  * A file under blobs/ is complete and its name is the SHA-256 of its bytes:
//    bytes are fsynced in tmp/, then hard-linked into place
//    (core::StreamingFile::CommitTo), then the directories are fsynced.
//  * A writer that fails (too large, disk error) or is dropped deletes its
//    partial file at once; tmp/ is emptied at start-up for crashes.
//  * Memory per writer is bounded: the hash state and the first kSniffBytes.
//
// Writer states:
//
//   writing --Write ok--> writing
//      |  \--Write fails (TooLarge/IOError)--> failed (file deleted, error_ sticky)
//      \--Finish ok--> finished (file committed; error_ = Internal "spent")
//      \--Finish fails--> failed (file deleted)

#include "content/blob_store.h"

#include <algorithm>
#include <mutex>
#include <system_error>
#include <unordered_set>

#include "core/crypto.h"

namespace relais::content {

struct BlobWriter::HashState {
  core::Sha256Stream sha;
};

namespace {

// Creates `dir` (one level below `parent`, which exists) if missing and makes
// the new entry durable by fsyncing `parent`.
// Makes sure `dir` exists and its entry in `parent` is on disk. A folder
// that merely exists is not enough: another upload may have created it and
// not yet synced its parent, or a crash may have struck between the two. So
// each folder is synced once per process, the first time it is used.
Status EnsureDurableDir(const fs::path& parent, const fs::path& dir) {
  static std::mutex mu;
  static std::unordered_set<std::string> durable;
  {
    std::lock_guard lock(mu);
    if (durable.count(dir.string())) return Status::Ok();
  }
  RELAIS_RETURN_IF_ERROR(core::MakeDirs(dir));
  RELAIS_RETURN_IF_ERROR(core::FsyncDir(parent));
  std::lock_guard lock(mu);
  if (durable.size() > 70000) durable.clear();  // 65,536 folders at most; bounded anyway
  durable.insert(dir.string());
  return Status::Ok();
}

}  // namespace

BlobWriter::BlobWriter(const BlobStore* store, std::unique_ptr<core::StreamingFile> file, uint64_t limit)
    : store_(store), file_(std::move(file)), limit_(limit), hash_(std::make_shared<HashState>()) {}

Status BlobWriter::Write(std::string_view data) {
  if (!error_.ok()) return error_;
  if (data.size() > limit_ - size_) {
    error_ = Status::TooLarge("the file is larger than the limit of " + std::to_string(limit_) + " bytes");
    file_.reset();  // deletes the partial file
    return error_;
  }
  if (data.empty()) return Status::Ok();
  Status st = file_->Append(data);
  if (!st.ok()) {
    error_ = st;
    file_.reset();
    return error_;
  }
  hash_->sha.Update(data);
  if (head_.size() < kSniffBytes) {
    head_.append(data.substr(0, kSniffBytes - head_.size()));
  }
  size_ += data.size();
  return Status::Ok();
}

Result<BlobInfo> BlobWriter::Finish() {
  if (!error_.ok()) return error_;
  BlobInfo info;
  info.sha256 = hash_->sha.FinishHex();
  info.size = size_;
  info.head = head_;
  // From here on the writer is spent whatever happens.
  error_ = Status::Internal("blob writer already finished");

  const fs::path target = store_->PathFor(info.sha256);
  const fs::path level2 = target.parent_path();
  const fs::path level1 = level2.parent_path();
  Status st = EnsureDurableDir(level1.parent_path(), level1);
  if (st.ok()) st = EnsureDurableDir(level1, level2);
  if (st.ok()) st = file_->CommitTo(target);
  file_.reset();  // removes the temporary if it is still there
  if (!st.ok()) {
    error_ = st;
    return st;
  }
  return info;
}

bool BlobStore::IsValidSha256(std::string_view sha256) {
  if (sha256.size() != 64) return false;
  return std::all_of(sha256.begin(), sha256.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<std::unique_ptr<BlobStore>> BlobStore::Open(const fs::path& data_dir, bool clear_tmp) {
  fs::path root = data_dir / "blobs";
  fs::path tmp = data_dir / "tmp";
  std::error_code ec;
  bool created = !fs::is_directory(root, ec) || !fs::is_directory(tmp, ec);
  RELAIS_RETURN_IF_ERROR(core::MakeDirs(root));
  RELAIS_RETURN_IF_ERROR(core::MakeDirs(tmp));
  if (created) RELAIS_RETURN_IF_ERROR(core::FsyncDir(data_dir));

  // Nothing in tmp/ is live when the server starts: remove partial uploads
  // of a crash. Other commands (the CLI) leave it alone: a server may be
  // writing there.
  for (fs::directory_iterator it(tmp, ec), end; clear_tmp && !ec && it != end; it.increment(ec)) {
    std::error_code rm_ec;
    fs::remove_all(it->path(), rm_ec);
    if (rm_ec) return Status::IOError("remove " + it->path().string() + ": " + rm_ec.message());
  }
  if (ec) return Status::IOError("list " + tmp.string() + ": " + ec.message());
  return std::unique_ptr<BlobStore>(new BlobStore(std::move(root), std::move(tmp)));
}

Result<std::unique_ptr<BlobWriter>> BlobStore::NewWriter(uint64_t max_bytes) const {
  RELAIS_ASSIGN_OR_RETURN(auto file, core::StreamingFile::Create(tmp_));
  return std::unique_ptr<BlobWriter>(new BlobWriter(this, std::move(file), max_bytes));
}

Result<BlobInfo> BlobStore::Put(std::string_view data) const {
  RELAIS_ASSIGN_OR_RETURN(auto writer, NewWriter(data.size()));
  RELAIS_RETURN_IF_ERROR(writer->Write(data));
  return writer->Finish();
}

Result<std::unique_ptr<core::FileReader>> BlobStore::Open(std::string_view sha256) const {
  if (!IsValidSha256(sha256)) return Status::InvalidArgument("not a SHA-256 name: expected 64 lower-case hex");
  auto reader = core::FileReader::Open(PathFor(sha256));
  if (!reader.ok() && reader.status().code() == StatusCode::kNotFound) {
    return Status::NotFound("no blob " + std::string(sha256));
  }
  return reader;
}

bool BlobStore::Contains(std::string_view sha256) const {
  if (!IsValidSha256(sha256)) return false;
  std::error_code ec;
  return fs::is_regular_file(PathFor(sha256), ec);
}

fs::path BlobStore::PathFor(std::string_view sha256) const {
  if (!IsValidSha256(sha256)) return {};
  return root_ / std::string(sha256.substr(0, 2)) / std::string(sha256.substr(2, 2)) / std::string(sha256);
}

}  // namespace relais::content

#include "sync/chunk_peer.h"

#include "core/crypto.h"
#include "core/files.h"

namespace relais::sync {

namespace fs = std::filesystem;

fs::path DirChunkPeer::PathOf(const fs::path& dir, std::string_view blob_id, uint32_t index) {
  return dir / std::string(blob_id) / (std::to_string(index) + ".chunk");
}

Status DirChunkPeer::Put(const Manifest& manifest, uint32_t index, std::string_view sealed) {
  fs::path path = PathOf(dir_, core::ToHex(manifest.blob_id), index);
  std::error_code ec;
  if (fs::exists(path, ec)) {
    // Written by an earlier export: kept if it still opens, replaced if damaged.
    auto existing = core::ReadFile(path);
    if (existing.ok() && OpenChunk(manifest, index, *existing).ok()) return Status::Ok();
  }
  RELAIS_RETURN_IF_ERROR(core::MakeDirs(path.parent_path()));
  return core::WriteFileAtomic(path, sealed);
}

Result<std::string> DirChunkPeer::Get(const Manifest& manifest, uint32_t index) {
  fs::path path = PathOf(dir_, core::ToHex(manifest.blob_id), index);
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::NotFound("no such chunk on the stick");
  auto size = fs::file_size(path, ec);
  if (ec || size > uint64_t{kMaxChunkBytes} + kChunkOverheadBytes)
    return Status::Corruption("chunk file " + path.string() + " is larger than any chunk");
  return core::ReadFile(path);
}

}  // namespace relais::sync

// sync/chunk_peer.h — where a box sends sealed chunks and fetches them from:
// the gateway over HTTP (box/gateway_files.h) or a USB stick's chunk folder
// (DirChunkPeer, read by the gateway's `relais-hub import` too).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sync/chunks.h"

namespace relais::sync {

// Carries sealed chunks to and from the gateway.
class ChunkPeer {
 public:
  virtual ~ChunkPeer() = default;
  // Of `ids` (chunk hashes, hex), those the other side lacks, in order.
  virtual Result<std::vector<std::string>> Missing(const std::vector<std::string>& ids) = 0;
  // Sends chunk `index` of `manifest`, sealed under it. Conflict if the other
  // side does not take it under this manifest (it holds another manifest of
  // the file: the box adopts that one from the next answer).
  virtual Status Put(const Manifest& manifest, uint32_t index, std::string_view sealed) = 0;
  // Chunk `index` of `manifest`, sealed under it. NotFound if the other side
  // does not have it (yet).
  virtual Result<std::string> Get(const Manifest& manifest, uint32_t index) = 0;
};

// Sealed chunks as files in a directory (a USB stick):
// DIR/<blob id hex>/<index>.chunk, written atomically. Missing() says every
// chunk is missing (the other side is not here to ask); Put() keeps a chunk
// file already written that still opens (an export resumed on the same
// stick) and replaces a damaged one; Get() reads one (NotFound if absent).
class DirChunkPeer final : public ChunkPeer {
 public:
  explicit DirChunkPeer(std::filesystem::path dir) : dir_(std::move(dir)) {}
  static std::filesystem::path PathOf(const std::filesystem::path& dir, std::string_view blob_id, uint32_t index);
  Result<std::vector<std::string>> Missing(const std::vector<std::string>& ids) override { return ids; }
  Status Put(const Manifest& manifest, uint32_t index, std::string_view sealed) override;
  Result<std::string> Get(const Manifest& manifest, uint32_t index) override;

 private:
  std::filesystem::path dir_;
};

}  // namespace relais::sync

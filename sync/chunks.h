// sync/chunks.h — files as content-defined, content-addressed, encrypted chunks.
//
// A file is cut where its content says (FastCDC: a gear rolling hash with
// normalised chunking between min and max sizes), so an insertion moves only
// the boundaries near it and the same bytes give the same chunks in any file.
// Each chunk is addressed by the SHA-256 of its plaintext and travels
// encrypted on its own (XChaCha20-Poly1305, a random nonce, additional data =
// blob id ‖ chunk index) under the file's chunk key, so every chunk verifies
// and resumes independently. A manifest lists a file's chunks; it travels
// inside a (signed, encrypted) bundle as a record. The receiver says which
// chunk hashes it lacks (WantedChunks), stores verified chunks as they come
// (ChunkStore, so a cut transfer resumes where it stopped), and assembles the
// file when all are there. Nothing here loads a whole file: memory is bounded
// by a few max-size chunks. Layouts: docs/sync-format.md.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto.h"
#include "core/files.h"
#include "core/status.h"
#include "sync/format.h"

namespace relais::sync {

struct ChunkParams {
  uint32_t min_bytes = 256 * 1024;
  uint32_t avg_bytes = 1024 * 1024;  // rounded to a power of two
  uint32_t max_bytes = 4 * 1024 * 1024;
  // InvalidArgument unless 64 <= min < avg < max <= kMaxChunkBytes.
  Status Validate() const;
};

using ChunkHash = std::array<uint8_t, core::kSha256Bytes>;
std::string ChunkHashHex(const ChunkHash& hash);

struct ChunkRef {
  ChunkHash hash{};
  uint64_t offset = 0;  // implied by the sizes before it; kept for convenience
  uint32_t size = 0;
};

// The length of the first chunk of `data`, which holds at least
// params.max_bytes bytes or else the rest of the file.
size_t NextChunkLength(std::string_view data, const ChunkParams& params);

struct Manifest {
  std::string blob_id;  // SHA-256 of the whole file, 32 raw bytes (the blob store's address)
  uint64_t size = 0;
  core::SymmetricKey key;  // the chunk key, random per manifest
  std::vector<ChunkRef> chunks;
};

// Cuts a stream into chunks as its bytes arrive (push), exactly as
// BuildManifest cuts a file, holding at most params.max_bytes plus the piece
// being added. Each complete chunk goes to the sink given to Add or Finish,
// plaintext and reference, before that call returns. Not thread-safe.
class ChunkCutter {
 public:
  // The chunk's reference (offset and size set) and its plaintext. A non-OK
  // status stops the cutter: Add and Finish return it.
  using Sink = std::function<Status(const ChunkRef& ref, std::string_view plaintext)>;
  // `params` must be valid (ChunkParams::Validate).
  explicit ChunkCutter(const ChunkParams& params) : params_(params) {}

  // Adds the next bytes of the stream.
  Status Add(std::string_view data, const Sink& sink);
  // The rest of the stream as its last chunk; then the manifest of the whole
  // stream with a fresh chunk key. The cutter is then spent.
  Result<Manifest> Finish(const Sink& sink);
  // Bytes added so far.
  uint64_t size() const { return size_; }

 private:
  // Cuts every chunk the buffer holds whole (all of it when `last`).
  Status Cut(bool last, const Sink& sink);

  ChunkParams params_;
  core::Sha256Stream whole_;
  std::string buf_;  // bytes not yet cut
  uint64_t size_ = 0;
  std::vector<ChunkRef> chunks_;
};

// Reads `file` once, streaming, and lists its chunks with a fresh chunk key.
Result<Manifest> BuildManifest(const std::filesystem::path& file, const ChunkParams& params);
std::string EncodeManifest(const Manifest& manifest);
// Corruption on anything malformed (sizes that do not add up, oversized chunks...).
Result<Manifest> DecodeManifest(std::string_view bytes);

// The encrypted form of chunk `index`, whose plaintext is `plaintext`.
std::string SealChunk(const Manifest& manifest, uint32_t index, std::string_view plaintext);
// Reads chunk `index` from `file` (the manifest's file) and seals it.
Result<std::string> ReadAndSealChunk(const Manifest& manifest, uint32_t index, const core::FileReader& file);
// The plaintext of a sealed chunk. Corruption if it fails to authenticate, was
// sealed for another blob or index, or does not hash to the manifest's hash.
Result<std::string> OpenChunk(const Manifest& manifest, uint32_t index, std::string_view sealed);

// Indexes of the chunks to send: those whose hash `have` does not know, each
// distinct hash once (its first occurrence), in file order.
std::vector<uint32_t> WantedChunks(const Manifest& manifest, const std::function<bool(const ChunkHash&)>& have);

// A directory of verified plaintext chunks named by hash, written atomically:
// what a receiver has so far. Safe to reopen after a crash (a chunk file is
// either whole or absent). Not thread-safe.
class ChunkStore {
 public:
  static Result<ChunkStore> Open(const std::filesystem::path& dir);
  bool Has(const ChunkHash& hash) const;
  // Stores a chunk; Corruption if `plaintext` does not hash to `hash`.
  Status Put(const ChunkHash& hash, std::string_view plaintext);
  // Opens a sealed chunk of `manifest` and stores it.
  Status PutSealed(const Manifest& manifest, uint32_t index, std::string_view sealed);
  // Streams the file's chunks into `target` (atomically), checking the whole
  // file's hash. NotFound if a chunk is missing; Corruption if the result
  // does not hash to manifest.blob_id. An existing `target` is kept as is
  // (targets are content-addressed: same name, same bytes).
  Status Assemble(const Manifest& manifest, const std::filesystem::path& target) const;
  // Deletes the stored chunks of `manifest` (after assembly).
  void Remove(const Manifest& manifest);

 private:
  explicit ChunkStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path PathOf(const ChunkHash& hash) const;
  std::filesystem::path dir_;
};

// Whether `id` is a chunk or blob id: 64 lower-case hex characters.
bool IsChunkId(std::string_view id);

}  // namespace relais::sync

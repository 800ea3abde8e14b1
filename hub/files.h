// hub/files.h — the gateway's side of file bytes: manifests and chunks.
//
// A box announces each file it sends with a manifest record (0xF1) in a
// bundle; the gateway keeps the first manifest of each (school, file) and
// every box of the school receives that one, so chunks are sealed under one
// key per file whoever sends or fetches them. Chunks travel sealed
// (sync/chunks.h) over HTTP and on a stick alike; the gateway opens each
// with the school's manifest, checks it against the manifest's hash and
// stores the plaintext by hash (HubStore::PutChunk), so one copy serves every
// box, school and the ENT. A chunk nobody announced has no manifest to open
// with and is refused. docs/sync-format.md, "File chunks"; docs/sync.md,
// "Files". Stateless functions over the store; thread-safe as the store is.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "content/journal.h"
#include "core/status.h"
#include "hub/store.h"
#include "sync/chunks.h"
#include "sync/envelope.h"
#include "sync/file_news.h"

namespace relais::hub {

// The blob id (SHA-256 hex) that a `files` operation names in its sha256
// column; nullopt for any other operation.
std::optional<std::string> FileBlobOfOp(const content::Op& op);

// The distinct chunk ids (hex) of a manifest, in file order.
std::vector<std::string> ChunkIdsOf(const sync::Manifest& manifest);

// Stores a manifest record a box sent for its school. InvalidArgument if the
// file is larger than `max_file_bytes` (the gateway's upload limit: a box
// cannot make the gateway accept chunks for more than that per file);
// Corruption for a malformed manifest.
Status StoreManifestRecord(HubStore& store, std::string_view school_id, std::string_view record,
                           uint64_t max_file_bytes, int64_t now);

// The school's manifest of `blob_id` (hex), decoded. NotFound if none.
Result<sync::Manifest> SchoolManifest(HubStore& store, std::string_view school_id, std::string_view blob_id);

// The chunk ids of the school's file the store lacks (empty: the bytes are
// all there). NotFound if the school has no manifest for it.
Result<std::vector<std::string>> MissingChunksOfFile(HubStore& store, std::string_view school_id,
                                                     std::string_view blob_id);

// Opens chunk `index` of the school's file `blob_id`, sealed by a box, and
// stores its plaintext under its id (`chunk_id`, checked against the
// manifest unless empty). NotFound if the file was never
// announced (no manifest); InvalidArgument for an index out of range or a
// chunk id that is not the manifest's; Conflict if it does not open with
// the school's manifest (altered, or sealed under another box's manifest
// of the same file).
Status PutSealedChunk(HubStore& store, std::string_view school_id, std::string_view blob_id, uint32_t index,
                      std::string_view chunk_id, std::string_view sealed);

// Chunk `index` of the school's file, sealed under the school's manifest.
// NotFound if there is no manifest or the chunk is not held yet;
// InvalidArgument if `chunk_id` is not the manifest's chunk at `index`.
Result<std::string> SealedChunkOf(HubStore& store, std::string_view school_id, std::string_view blob_id, uint32_t index,
                                  std::string_view chunk_id);

// Adds to an answer bundle what the box should learn about files: the
// manifest of every blob in `wanted` (the box's `want` list and the files
// rows in the answer) whose chunks are all held, a held-file record (0xF3)
// for every blob of `have` whose chunks are all held, and the school's
// manifest of the other `have` blobs (so the box seals under the school's
// key). Returns the number of records added.
// The blobs whose manifests went in are appended to `sent` when given.
Result<int> AddFileRecords(HubStore& store, std::string_view school_id, const std::set<std::string>& wanted,
                           const std::vector<std::string>& have, sync::BundleWriter& writer,
                           std::vector<std::string>* sent = nullptr);

}  // namespace relais::hub

// hub/files.cc — see hub_files.h.
#include "hub/files.h"

#include "core/crypto.h"
#include "sync/request_signing.h"

namespace relais::hub {

std::optional<std::string> FileBlobOfOp(const content::Op& op) {
  if (op.table != "files") return std::nullopt;
  for (const core::Column& c : op.columns)
    if (c.first == "sha256" && std::holds_alternative<std::string>(c.second)) {
      const std::string& hex = std::get<std::string>(c.second);
      if (sync::IsChunkId(hex)) return hex;
    }
  return std::nullopt;
}

std::vector<std::string> ChunkIdsOf(const sync::Manifest& manifest) {
  std::vector<std::string> ids;
  std::set<sync::ChunkHash> seen;
  for (const sync::ChunkRef& c : manifest.chunks)
    if (seen.insert(c.hash).second) ids.push_back(sync::ChunkHashHex(c.hash));
  return ids;
}

Status StoreManifestRecord(HubStore& store, std::string_view school_id, std::string_view record,
                           uint64_t max_file_bytes, int64_t now) {
  RELAIS_ASSIGN_OR_RETURN(sync::Manifest manifest, sync::DecodeManifest(record));
  if (manifest.size > max_file_bytes)
    return Status::InvalidArgument("a file of " + std::to_string(manifest.size) + " bytes is over the gateway's " +
                                   std::to_string(max_file_bytes) + "-byte limit");
  return store.PutManifest(school_id, core::ToHex(manifest.blob_id), record, now).status();
}

Result<sync::Manifest> SchoolManifest(HubStore& store, std::string_view school_id, std::string_view blob_id) {
  RELAIS_ASSIGN_OR_RETURN(std::string bytes, store.GetManifest(school_id, blob_id));
  auto manifest = sync::DecodeManifest(bytes);
  if (!manifest.ok()) return Status::Corruption("the stored manifest of " + std::string(blob_id) + " is damaged");
  return manifest;
}

Result<std::vector<std::string>> MissingChunksOfFile(HubStore& store, std::string_view school_id,
                                                     std::string_view blob_id) {
  RELAIS_ASSIGN_OR_RETURN(sync::Manifest manifest, SchoolManifest(store, school_id, blob_id));
  return store.MissingChunks(ChunkIdsOf(manifest));
}

namespace {
Status CheckIndex(const sync::Manifest& manifest, uint32_t index, std::string_view chunk_id) {
  if (index >= manifest.chunks.size()) return Status::InvalidArgument("the file has no chunk at that index");
  if (sync::ChunkHashHex(manifest.chunks[index].hash) != chunk_id)
    return Status::InvalidArgument("that is not the file's chunk at that index");
  return Status::Ok();
}
}  // namespace

Status PutSealedChunk(HubStore& store, std::string_view school_id, std::string_view blob_id, uint32_t index,
                      std::string_view chunk_id, std::string_view sealed) {
  auto manifest = SchoolManifest(store, school_id, blob_id);
  if (!manifest.ok() && manifest.status().code() == StatusCode::kNotFound)
    return Status::NotFound("no manifest for this file: announce it in a bundle first");
  if (!manifest.ok()) return manifest.status();
  if (index >= manifest->chunks.size()) return Status::InvalidArgument("the file has no chunk at that index");
  std::string id = sync::ChunkHashHex(manifest->chunks[index].hash);
  if (!chunk_id.empty() && chunk_id != id) return Status::InvalidArgument("that is not the file's chunk at that index");
  auto plain = sync::OpenChunk(*manifest, index, sealed);
  if (!plain.ok())
    return Status::Conflict(
        "the chunk does not open with the school's manifest of this file (altered, or sealed "
        "under another box's manifest: take the gateway's from the answer)");
  return store.PutChunk(id, *plain);
}

Result<std::string> SealedChunkOf(HubStore& store, std::string_view school_id, std::string_view blob_id, uint32_t index,
                                  std::string_view chunk_id) {
  RELAIS_ASSIGN_OR_RETURN(sync::Manifest manifest, SchoolManifest(store, school_id, blob_id));
  RELAIS_RETURN_IF_ERROR(CheckIndex(manifest, index, chunk_id));
  RELAIS_ASSIGN_OR_RETURN(std::string plain, store.GetChunk(chunk_id));
  return sync::SealChunk(manifest, index, plain);
}

Result<int> AddFileRecords(HubStore& store, std::string_view school_id, const std::set<std::string>& wanted,
                           const std::vector<std::string>& have, sync::BundleWriter& writer,
                           std::vector<std::string>* sent) {
  int added = 0;
  auto complete = [&](const sync::Manifest& m) -> Result<bool> {
    RELAIS_ASSIGN_OR_RETURN(std::vector<std::string> missing, store.MissingChunks(ChunkIdsOf(m)));
    return missing.empty();
  };
  for (const std::string& blob : wanted) {
    auto bytes = store.GetManifest(school_id, blob);
    if (!bytes.ok() && bytes.status().code() == StatusCode::kNotFound) continue;  // not announced yet
    if (!bytes.ok()) return bytes.status();
    auto manifest = sync::DecodeManifest(*bytes);
    if (!manifest.ok()) continue;
    RELAIS_ASSIGN_OR_RETURN(bool whole, complete(*manifest));
    if (!whole) continue;  // the box would find chunks missing: next time
    RELAIS_RETURN_IF_ERROR(writer.Add(sync::kRecordManifest, *bytes));
    if (sent) sent->push_back(blob);
    ++added;
  }
  for (const std::string& blob : have) {
    auto bytes = store.GetManifest(school_id, blob);
    if (!bytes.ok() && bytes.status().code() == StatusCode::kNotFound) continue;
    if (!bytes.ok()) return bytes.status();
    auto manifest = sync::DecodeManifest(*bytes);
    if (!manifest.ok()) continue;
    RELAIS_ASSIGN_OR_RETURN(bool whole, complete(*manifest));
    if (whole)
      RELAIS_RETURN_IF_ERROR(writer.Add(sync::kRecordFileHeld, manifest->blob_id));
    else
      RELAIS_RETURN_IF_ERROR(writer.Add(sync::kRecordManifest, *bytes));
    if (sent) sent->push_back(blob);
    ++added;
  }
  return added;
}

}  // namespace relais::hub

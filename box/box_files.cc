// box/box_files.cc — see box_files.h. The SQL of the local table sync_files
// (content/migrations/0004_sync_files.sql) lives here.
#include "box/box_files.h"

#include <map>

#include "box/box_sync.h"
#include "core/crypto.h"
#include "core/db.h"
#include "core/files.h"

namespace relais::box {

namespace fs = std::filesystem;

namespace {
constexpr size_t kMissingBatch = 5000;  // chunk ids per have/want question
}  // namespace

Result<BoxFiles> BoxFiles::Open(content::School& school, const fs::path& data_dir, sync::ChunkParams params) {
  RELAIS_RETURN_IF_ERROR(params.Validate());
  RELAIS_ASSIGN_OR_RETURN(sync::ChunkStore chunks, sync::ChunkStore::Open(BoxSyncDir(data_dir) / "chunks"));
  return BoxFiles(school, std::move(chunks), params);
}

Status BoxFiles::Keep(std::string_view blob_id, std::string_view manifest, bool replace) {
  auto db = school_->db().Writer();
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Prepare(replace ? "INSERT INTO sync_files (blob_id, manifest, acked) "
                                                        "VALUES (?1, ?2, 0) ON CONFLICT (blob_id) DO UPDATE SET "
                                                        "manifest = excluded.manifest WHERE acked = 0"
                                                      : "INSERT INTO sync_files (blob_id, manifest, acked) "
                                                        "VALUES (?1, ?2, 0) ON CONFLICT DO NOTHING"));
  q.Bind(1, blob_id).BindBlob(2, manifest);
  return q.Run();
}

Status BoxFiles::MarkAcked(std::string_view blob_id) {
  auto db = school_->db().Writer();
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("UPDATE sync_files SET acked = 1 WHERE blob_id = ?1", blob_id));
  return q.Run();
}

Result<std::optional<sync::Manifest>> BoxFiles::ManifestOf(std::string_view blob_id) {
  auto db = school_->db().Reader();
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT manifest FROM sync_files WHERE blob_id = ?1", blob_id));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<sync::Manifest>();
  RELAIS_ASSIGN_OR_RETURN(sync::Manifest m, sync::DecodeManifest(q.Text(0)));
  return std::optional<sync::Manifest>(std::move(m));
}

Result<std::vector<std::pair<std::string, std::optional<std::string>>>> BoxFiles::Unacknowledged() {
  std::vector<std::pair<std::string, std::optional<std::string>>> out;
  auto db = school_->db().Reader();
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT DISTINCT f.sha256, s.manifest FROM files f "
                                            "LEFT JOIN sync_files s ON s.blob_id = f.sha256 "
                                            "WHERE s.acked IS NOT 1 ORDER BY f.sha256"));
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.emplace_back(q.Text(0), q.OptText(1));
  }
  return out;
}

Result<std::vector<sync::Manifest>> BoxFiles::Outgoing(size_t limit) {
  RELAIS_ASSIGN_OR_RETURN(auto candidates, Unacknowledged());
  std::vector<sync::Manifest> out;
  for (auto& [blob, stored] : candidates) {
    if (out.size() >= limit) break;
    if (!school_->blobs().Contains(blob)) continue;  // not here: fetched, not sent
    if (stored) {
      RELAIS_ASSIGN_OR_RETURN(sync::Manifest m, sync::DecodeManifest(*stored));
      out.push_back(std::move(m));
      continue;
    }
    // First time: cut the file (one streaming read) and keep the manifest, so
    // that a resumed send seals under the same key.
    RELAIS_ASSIGN_OR_RETURN(sync::Manifest m, sync::BuildManifest(school_->blobs().PathFor(blob), params_));
    if (core::ToHex(m.blob_id) != blob) return Status::Corruption("blob " + blob + " does not match its name");
    RELAIS_RETURN_IF_ERROR(Keep(blob, sync::EncodeManifest(m), /*replace=*/false));
    RELAIS_ASSIGN_OR_RETURN(std::optional<sync::Manifest> kept, ManifestOf(blob));
    out.push_back(kept ? std::move(*kept) : std::move(m));
  }
  return out;
}

Result<sync::FileNews> BoxFiles::News() {
  sync::FileNews news;
  RELAIS_ASSIGN_OR_RETURN(auto candidates, Unacknowledged());
  for (auto& [blob, manifest] : candidates) {
    if (!content::BlobStore::IsValidSha256(blob)) continue;
    if (school_->blobs().Contains(blob)) {
      if (manifest && news.have.size() < sync::kMaxFileNews) news.have.push_back(std::move(blob));
    } else if (!manifest && news.want.size() < sync::kMaxFileNews) {
      news.want.push_back(std::move(blob));
    }
  }
  return news;
}

Result<FileTransfer> BoxFiles::Send(sync::ChunkPeer& peer, const std::vector<sync::Manifest>& manifests,
                                    bool acknowledge, const FileProgress& progress) {
  FileTransfer t;
  for (const sync::Manifest& m : manifests) {
    std::string blob = core::ToHex(m.blob_id);
    // The first index of each distinct chunk, by id.
    std::map<std::string, uint32_t> index_of;
    std::vector<std::string> ids;
    for (uint32_t i = 0; i < m.chunks.size(); ++i) {
      std::string id = sync::ChunkHashHex(m.chunks[i].hash);
      if (index_of.emplace(id, i).second) ids.push_back(id);
    }
    std::vector<std::string> missing;
    for (size_t at = 0; at < ids.size(); at += kMissingBatch) {
      std::vector<std::string> batch(ids.begin() + at, ids.begin() + std::min(ids.size(), at + kMissingBatch));
      RELAIS_ASSIGN_OR_RETURN(std::vector<std::string> lacking, peer.Missing(batch));
      missing.insert(missing.end(), lacking.begin(), lacking.end());
    }
    bool whole = true;
    if (!missing.empty()) {
      RELAIS_ASSIGN_OR_RETURN(auto reader, core::FileReader::Open(school_->blobs().PathFor(blob)));
      if (progress)
        progress("Sending file " + blob.substr(0, 12) + "… (" + std::to_string(m.size) +
                 " bytes): " + std::to_string(missing.size()) + " of " + std::to_string(ids.size()) + " chunks");
      for (const std::string& id : missing) {
        uint32_t index = index_of.at(id);
        RELAIS_ASSIGN_OR_RETURN(std::string sealed, sync::ReadAndSealChunk(m, index, *reader));
        Status st = peer.Put(m, index, sealed);
        if (st.code() == StatusCode::kConflict) {
          if (progress) progress("  the gateway holds another manifest of this file: it waits for the next round");
          whole = false;
          break;
        }
        RELAIS_RETURN_IF_ERROR(st);
        ++t.chunks;
        t.bytes += static_cast<int64_t>(sealed.size());
      }
    }
    if (!whole) {
      ++t.waiting;
      continue;
    }
    ++t.files;
    if (acknowledge) RELAIS_RETURN_IF_ERROR(MarkAcked(blob));
  }
  return t;
}

Status BoxFiles::Learn(const std::vector<sync::Record>& records) {
  // Decode everything first: a malformed record leaves nothing recorded.
  std::vector<std::pair<std::string, const std::string*>> manifests;  // blob, bytes
  std::vector<std::string> held;
  for (const sync::Record& r : records) {
    if (r.kind == sync::kRecordManifest) {
      RELAIS_ASSIGN_OR_RETURN(sync::Manifest m, sync::DecodeManifest(r.bytes));
      manifests.emplace_back(core::ToHex(m.blob_id), &r.bytes);
    } else if (r.kind == sync::kRecordFileHeld) {
      if (r.bytes.size() != core::kSha256Bytes) return Status::Corruption("a held-file record is not 32 bytes");
      held.push_back(core::ToHex(r.bytes));
    }
  }
  for (const auto& [blob, bytes] : manifests) {
    // The gateway's manifest is the school's: a blob held here but not yet
    // acknowledged adopts it (its chunks are then sealed under the key the
    // gateway opens with); a blob this box lacks keeps the first it got.
    bool here = school_->blobs().Contains(blob);
    RELAIS_RETURN_IF_ERROR(Keep(blob, *bytes, /*replace=*/here));
  }
  for (const std::string& blob : held) RELAIS_RETURN_IF_ERROR(MarkAcked(blob));
  return Status::Ok();
}

Result<FileTransfer> BoxFiles::Fetch(sync::ChunkPeer& peer, const FileProgress& progress) {
  std::vector<std::string> pending;  // manifests of blobs not here
  {
    auto db = school_->db().Reader();
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT manifest FROM sync_files WHERE acked = 0 ORDER BY blob_id"));
    while (true) {
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      pending.push_back(q.Text(0));
    }
  }
  FileTransfer t;
  for (const std::string& bytes : pending) {
    auto decoded = sync::DecodeManifest(bytes);
    if (!decoded.ok()) continue;
    const sync::Manifest& m = *decoded;
    std::string blob = core::ToHex(m.blob_id);
    if (school_->blobs().Contains(blob)) continue;
    std::vector<uint32_t> wanted = sync::WantedChunks(m, [&](const sync::ChunkHash& h) { return chunks_.Has(h); });
    if (progress && !wanted.empty())
      progress("Fetching file " + blob.substr(0, 12) + "… (" + std::to_string(m.size) +
               " bytes): " + std::to_string(wanted.size()) + " of " + std::to_string(m.chunks.size()) + " chunks");
    bool complete = true;
    for (uint32_t index : wanted) {
      auto sealed = peer.Get(m, index);
      if (!sealed.ok() && sealed.status().code() == StatusCode::kNotFound) {
        complete = false;
        break;
      }
      Status st = sealed.ok() ? chunks_.PutSealed(m, index, *sealed) : sealed.status();
      if (st.code() == StatusCode::kCorruption || st.code() == StatusCode::kInvalidArgument) {
        if (progress) progress("  chunk " + std::to_string(index) + " refused: " + st.message());
        ++t.refused;
        complete = false;
        break;
      }
      RELAIS_RETURN_IF_ERROR(st);
      ++t.chunks;
      t.bytes += static_cast<int64_t>(sealed->size());
    }
    if (!complete) {
      ++t.waiting;
      continue;
    }
    fs::path target = school_->blobs().PathFor(blob);
    RELAIS_RETURN_IF_ERROR(core::MakeDirs(target.parent_path()));
    Status st = chunks_.Assemble(m, target);
    if (!st.ok()) {
      // A damaged chunk file (the disk, not the peer): drop the chunks and fetch again next time.
      chunks_.Remove(m);
      ++t.waiting;
      if (progress) progress("  file " + blob.substr(0, 12) + "… not assembled: " + st.message());
      continue;
    }
    chunks_.Remove(m);
    RELAIS_RETURN_IF_ERROR(MarkAcked(blob));  // it came from the gateway
    ++t.files;
  }
  return t;
}

}  // namespace relais::box

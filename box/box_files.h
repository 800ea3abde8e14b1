// box/box_files.h — the box's side of file bytes in sync, whatever carries them.
//
// The `files` rows travel as operations; their bytes travel apart, as sealed
// chunks (sync/chunks.h), only those the other side lacks:
//  * Sending: every blob of a files row that is in this box's blob store and
//    that the gateway is not known to hold gets a manifest (built once,
//    streaming, and kept in the local table sync_files), announced in a
//    bundle; then the chunks the gateway lacks are read from the blob file,
//    sealed and sent one at a time. Once the gateway holds them all the blob
//    is marked acknowledged and never checked again. A cut transfer resumes
//    where it stopped: the gateway keeps every chunk it received, so the
//    missing list shrinks.
//  * Receiving: the gateway's answer carries the manifests of files this box
//    lacks (and says which of the box's files it holds, record 0xF3). Their
//    chunks are fetched into a ChunkStore under DATA/sync/chunks/ (kept
//    across cuts and kill -9), then assembled into the blob store, atomically
//    and hash-checked.
// A sync::ChunkPeer carries chunks: the gateway's HTTP API (box/gateway_client)
// or a USB stick (server/sync_cli). Memory stays at a few chunks whatever the
// file size. docs/sync.md, "Files". Not thread-safe: one sync at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "content/school.h"
#include "core/status.h"
#include "sync/chunk_peer.h"
#include "sync/chunks.h"
#include "sync/envelope.h"
#include "sync/file_news.h"

namespace relais::box {

// What a send or a fetch moved.
struct FileTransfer {
  int64_t files = 0;    // files now complete on the other side (send) or here (fetch)
  int64_t chunks = 0;   // chunks moved
  int64_t bytes = 0;    // sealed bytes moved
  int64_t waiting = 0;  // files left for a later round (chunks not available, another manifest)
  int64_t refused = 0;  // chunks that failed to verify (altered, cut): not stored
};

using FileProgress = std::function<void(const std::string& line)>;

class BoxFiles {
 public:
  // `school` must outlive this. Chunks being received live in DATA/sync/chunks.
  static Result<BoxFiles> Open(content::School& school, const std::filesystem::path& data_dir,
                               sync::ChunkParams params = {});

  // The manifests of the blobs to send: every blob of a files row that is in
  // the blob store and not acknowledged (a manifest is built and recorded the
  // first time). At most `limit`.
  Result<std::vector<sync::Manifest>> Outgoing(size_t limit = sync::kMaxFileNews);

  // For the answer request: the blobs held here and not acknowledged
  // (`have`), and those files rows name that are neither here nor have a
  // manifest (`want`).
  Result<sync::FileNews> News();

  // Sends the chunks of `manifests` that `peer` lacks. With `acknowledge`
  // (the peer is the gateway itself), a file whose chunks the gateway now all
  // holds is marked acknowledged. Errors of the transport stop the send and
  // are returned (what was sent stays sent).
  Result<FileTransfer> Send(sync::ChunkPeer& peer, const std::vector<sync::Manifest>& manifests, bool acknowledge,
                            const FileProgress& progress);

  // Takes in the file records of a verified answer (0xF1 manifests, 0xF3
  // held files). Corruption for a malformed record (nothing is recorded).
  Status Learn(const std::vector<sync::Record>& records);

  // For every blob with a manifest that is not in the blob store: fetches the
  // chunks not yet received from `peer`, then assembles the file into the
  // blob store. A chunk that fails to verify is refused and counted; its
  // file waits. Transport errors are returned.
  Result<FileTransfer> Fetch(sync::ChunkPeer& peer, const FileProgress& progress);

  // The manifest recorded for `blob_id` (hex), if any.
  Result<std::optional<sync::Manifest>> ManifestOf(std::string_view blob_id);

 private:
  BoxFiles(content::School& school, sync::ChunkStore chunks, sync::ChunkParams params)
      : school_(&school), chunks_(std::move(chunks)), params_(params) {}
  Status Keep(std::string_view blob_id, std::string_view manifest, bool replace);
  Status MarkAcked(std::string_view blob_id);
  // The blobs of files rows not acknowledged, each with its manifest if one is recorded.
  Result<std::vector<std::pair<std::string, std::optional<std::string>>>> Unacknowledged();
  content::School* school_;
  sync::ChunkStore chunks_;
  sync::ChunkParams params_;
};

}  // namespace relais::box

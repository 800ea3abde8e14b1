// box/gateway_files.h — files' bytes in a network sync round: the
// gateway's chunk API (docs/hub-api.md, "Chunks") as a box::ChunkPeer, and
// the two steps RunSyncRound calls around the answer. docs/sync.md, "Files".
// Not thread-safe: one round at a time per box.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "box/box_files.h"
#include "box/box_sync.h"
#include "box/gateway_client.h"
#include "core/status.h"

namespace relais::box {

// What the files part of a round did.
struct FilesReport {
  box::FileTransfer sent;
  box::FileTransfer fetched;
};

// Before the answer: announces, in one bundle handed to `upload`, the
// manifests of the box's files the gateway is not known to hold, then sends
// the chunks it lacks. Returns what the answer request should say about files
// (BoxFiles::News).
Result<sync::FileNews> SendFiles(GatewayClient& gw, box::BoxSync& box,
                                 const std::function<Status(const std::string& bundle)>& upload,
                                 const Progress& progress, FilesReport* report);

// After the answer verified and applied: records its file records, then
// fetches the chunks of the files this box lacks and assembles them.
Status FetchFiles(GatewayClient& gw, box::BoxSync& box, const std::vector<sync::Record>& records,
                  const Progress& progress, FilesReport* report);

// The "files" member of the answer request.
nlohmann::json FileNewsJson(const sync::FileNews& news);

}  // namespace relais::box

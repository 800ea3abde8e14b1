// box/gateway_files.cc — see gateway_files.h.
#include "box/gateway_files.h"

#include "core/crypto.h"

namespace relais::box {

using nlohmann::json;

namespace {

// The gateway's chunk routes, signed as the box.
class GatewayChunkPeer final : public sync::ChunkPeer {
 public:
  explicit GatewayChunkPeer(GatewayClient& gw) : gw_(gw) {}

  Result<std::vector<std::string>> Missing(const std::vector<std::string>& ids) override {
    const std::string target = "/hub/v1/chunks/missing";
    RELAIS_ASSIGN_OR_RETURN(json body, gw_.JsonOf(gw_.client().Post(target, gw_.Signed("POST", target),
                                                                    json{{"ids", ids}}.dump(), "application/json"),
                                                  "the chunk list"));
    if (!body.contains("missing") || !body["missing"].is_array())
      return Status::Corruption("the gateway's chunk list is malformed");
    std::vector<std::string> missing;
    for (const json& id : body["missing"])
      if (id.is_string()) missing.push_back(id.get<std::string>());
    return missing;
  }

  Status Put(const sync::Manifest& manifest, uint32_t index, std::string_view sealed) override {
    std::string target = Target(manifest, index);
    auto res =
        gw_.client().Put(target, gw_.Signed("PUT", target), sealed.data(), sealed.size(), "application/octet-stream");
    // 409: the gateway holds another manifest of the file; 404: it did not
    // take this file's manifest (over its size limit). Either way the file waits.
    if (res && (res->status == 409 || res->status == 404))
      return Status::Conflict("the gateway does not take this file's chunks under this manifest");
    return gw_.Check(res, "a file chunk");
  }

  Result<std::string> Get(const sync::Manifest& manifest, uint32_t index) override {
    std::string target = Target(manifest, index);
    auto res = gw_.client().Get(target, gw_.Signed("GET", target));
    if (res && res->status == 404) return Status::NotFound("the gateway does not hold this chunk yet");
    RELAIS_RETURN_IF_ERROR(gw_.Check(res, "a file chunk"));
    return std::move(res->body);
  }

 private:
  static std::string Target(const sync::Manifest& m, uint32_t index) {
    return "/hub/v1/chunks/" + sync::ChunkHashHex(m.chunks[index].hash) + "?blob=" + core::ToHex(m.blob_id) +
           "&index=" + std::to_string(index);
  }
  GatewayClient& gw_;
};

void Say(const Progress& progress, const std::string& line) {
  if (progress) progress(line);
}

}  // namespace

json FileNewsJson(const sync::FileNews& news) { return {{"have", news.have}, {"want", news.want}}; }

Result<sync::FileNews> SendFiles(GatewayClient& gw, box::BoxSync& box,
                                 const std::function<Status(const std::string& bundle)>& upload,
                                 const Progress& progress, FilesReport* report) {
  RELAIS_ASSIGN_OR_RETURN(box::BoxFiles files, box::BoxFiles::Open(box.school(), box.data_dir()));
  RELAIS_ASSIGN_OR_RETURN(std::vector<sync::Manifest> outgoing, files.Outgoing());
  if (!outgoing.empty()) {
    std::vector<sync::Record> records;
    for (const sync::Manifest& m : outgoing) records.push_back({sync::kRecordManifest, sync::EncodeManifest(m)});
    sync::StringSink sink;
    RELAIS_RETURN_IF_ERROR(box.WriteBundle({}, gw.GatewayTime(), &sink, records).status());
    Say(progress, "Announcing " + std::to_string(outgoing.size()) + " files");
    RELAIS_RETURN_IF_ERROR(upload(sink.data()));
    GatewayChunkPeer peer(gw);
    RELAIS_ASSIGN_OR_RETURN(report->sent, files.Send(peer, outgoing, /*acknowledge=*/true, progress));
    Say(progress, "Files: " + std::to_string(report->sent.chunks) + " chunks sent (" +
                      std::to_string(report->sent.bytes) + " bytes), " + std::to_string(report->sent.files) +
                      " files complete on the gateway, " + std::to_string(report->sent.waiting) + " waiting");
  }
  return files.News();
}

Status FetchFiles(GatewayClient& gw, box::BoxSync& box, const std::vector<sync::Record>& records,
                  const Progress& progress, FilesReport* report) {
  RELAIS_ASSIGN_OR_RETURN(box::BoxFiles files, box::BoxFiles::Open(box.school(), box.data_dir()));
  RELAIS_RETURN_IF_ERROR(files.Learn(records));
  GatewayChunkPeer peer(gw);
  RELAIS_ASSIGN_OR_RETURN(report->fetched, files.Fetch(peer, progress));
  const box::FileTransfer& f = report->fetched;
  if (f.chunks > 0 || f.waiting > 0 || f.refused > 0)
    Say(progress, "Files: " + std::to_string(f.chunks) + " chunks fetched (" + std::to_string(f.bytes) + " bytes), " +
                      std::to_string(f.files) + " files complete here, " + std::to_string(f.waiting) + " waiting" +
                      (f.refused ? ", " + std::to_string(f.refused) + " chunks refused" : std::string()));
  if (f.refused > 0)
    return Status::Corruption(std::to_string(f.refused) + " file chunks from the gateway failed to verify");
  return Status::Ok();
}

}  // namespace relais::box

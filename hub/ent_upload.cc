// hub/ent_upload.cc — see ent_upload.h.
#include "hub/ent_upload.h"

#include <algorithm>

#include "content/accounts.h"
#include "content/file_types.h"
#include "content/ids.h"
#include "core/crypto.h"
#include "hub/ent_publish.h"

namespace relais::hub {
namespace {
constexpr size_t kHeadBytes = 4096;  // what content::CheckUpload looks at

std::string LimitText(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }
}  // namespace

Result<std::unique_ptr<EntUpload>> EntUpload::Start(Hub& hub, Request request) {
  RELAIS_RETURN_IF_ERROR(hub.store().GetSchool(request.school_id).status());
  RELAIS_RETURN_IF_ERROR(CheckEntFileName(request.name));
  std::transform(request.owner_login.begin(), request.owner_login.end(), request.owner_login.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (request.owner_login.empty())
    return Status::InvalidArgument("owner: is required (?owner=<login>: the account the file belongs to)");
  if (Status st = content::ValidateLogin(request.owner_login); !st.ok())
    return Status::InvalidArgument("owner: " + st.message());
  if (request.length && *request.length == 0) return Status::InvalidArgument("the file is empty");
  if (request.length && *request.length > request.max_bytes)
    return Status::TooLarge("the file is over the gateway's limit of " + LimitText(request.max_bytes));
  // The owner is checked against the log now (an answer before the body is
  // sent) and again when the row is written.
  RELAIS_ASSIGN_OR_RETURN(LogIndex index, hub.ReadLogIndex(request.school_id));
  if (!index.Inserted("users", {core::SqlValue(content::UserId(request.owner_login))}))
    return Status::InvalidArgument("owner: no account " + request.owner_login + " in this school");
  return std::unique_ptr<EntUpload>(new EntUpload(hub, std::move(request)));
}

Status EntUpload::CheckType() {
  if (content_type_) return Status::Ok();
  auto type = content::CheckUpload(request_.name, request_.declared_type, head_, cutter_.size());
  if (!type.ok()) return type.status();
  content_type_ = *type;
  return Status::Ok();
}

Status EntUpload::Add(std::string_view data) {
  RELAIS_RETURN_IF_ERROR(failed_);
  if (cutter_.size() + data.size() > request_.max_bytes) {
    failed_ = Status::TooLarge("the file is over the gateway's limit of " + LimitText(request_.max_bytes));
    return failed_;
  }
  if (head_.size() < kHeadBytes) head_.append(data.substr(0, kHeadBytes - head_.size()));
  HubStore& store = hub_.store();
  failed_ = cutter_.Add(data, [&](const sync::ChunkRef& ref, std::string_view plaintext) {
    RELAIS_RETURN_IF_ERROR(CheckType());
    return store.PutChunk(sync::ChunkHashHex(ref.hash), plaintext);
  });
  return failed_;
}

Result<EntFile> EntUpload::Finish() {
  RELAIS_RETURN_IF_ERROR(failed_);
  failed_ = Status::Internal("the upload is finished");  // spent, whatever happens below
  if (cutter_.size() == 0) return Status::InvalidArgument("the file is empty");
  RELAIS_RETURN_IF_ERROR(CheckType());
  HubStore& store = hub_.store();
  RELAIS_ASSIGN_OR_RETURN(sync::Manifest built,
                          cutter_.Finish([&](const sync::ChunkRef& ref, std::string_view plaintext) {
                            return store.PutChunk(sync::ChunkHashHex(ref.hash), plaintext);
                          }));
  EntFile file;
  file.sha256 = core::ToHex(built.blob_id);
  file.size = built.size;
  file.name = request_.name;
  file.content_type = *content_type_;
  file.owner_login = request_.owner_login;
  // The school's manifest of these bytes, if it has one (a box sent them, or
  // an earlier upload): boxes seal and open the chunks under that one. Else
  // this one, as a box's first announcement would be kept.
  auto held = store.GetManifest(request_.school_id, file.sha256);
  if (!held.ok() && held.status().code() != StatusCode::kNotFound) return held.status();
  if (!held.ok())
    RELAIS_RETURN_IF_ERROR(
        store.PutManifest(request_.school_id, file.sha256, sync::EncodeManifest(built), hub_.clock().Now()).status());
  // Then the row: a box that receives it finds the file's manifest and chunks.
  EntFileRow row{file.sha256, file.size, file.content_type, file.name, file.owner_login};
  const std::string gateway = hub_.origin();
  auto outcome = hub_.AppendGatewayOps(
      request_.school_id,
      [&](const LogIndex& index, int64_t first_seq, int64_t now) -> Result<std::vector<content::Op>> {
        RELAIS_ASSIGN_OR_RETURN(EntFileOps made, EntFileOperations(row, index, gateway, first_seq, now));
        file.id = made.id;
        return std::move(made.ops);
      });
  if (!outcome.ok()) return outcome.status();
  file.created = outcome->operations > 0;
  file.feed_head = outcome->feed_head;
  return file;
}

}  // namespace relais::hub

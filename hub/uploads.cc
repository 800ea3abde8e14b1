// hub/uploads.cc — see uploads.h.
#include "hub/uploads.h"

#include <algorithm>
#include <filesystem>

#include "core/files.h"
#include "core/log.h"
#include "hub/hub.h"

namespace relais::hub {

namespace {
constexpr const char* kBundleKind = "bundle";
constexpr const char* kAnswerKind = "answer";
}  // namespace

// ---------------------------------------------------------------------------
// UploadSource

Status UploadSource::ReadAt(uint64_t offset, size_t n, std::string* out) const {
  if (offset > static_cast<uint64_t>(size_) || n > static_cast<uint64_t>(size_) - offset)
    return Status::Corruption("a read past the upload's end");
  if (n == 0) {
    out->clear();
    return Status::Ok();
  }
  const auto from = static_cast<int64_t>(offset);
  const auto window_end = window_start_ + static_cast<int64_t>(window_.size());
  if (from < window_start_ || from + static_cast<int64_t>(n) > window_end) {
    // Keep what the window holds from `from` on, then fetch from its end to
    // the end of the part holding the last byte asked for: each fetch ends
    // on a part boundary, so reading in order fetches each part once.
    if (from >= window_start_ && from <= window_end) {
      window_.erase(0, static_cast<size_t>(from - window_start_));
    } else {
      window_.clear();
    }
    window_start_ = from;
    bool enough = false;
    Status st =
        store_.ReadUpload(id_, from + static_cast<int64_t>(window_.size()), kUploadEnd, [&](std::string_view bytes) {
          window_.append(bytes);
          enough = window_.size() >= n;
          // Stops the read: the rest is fetched when asked for.
          return enough ? Status::Internal("enough") : Status::Ok();
        });
    if (!enough) {
      RELAIS_RETURN_IF_ERROR(st);
      window_.clear();
      return Status::Corruption("the upload's stored bytes end before its length");
    }
  }
  out->assign(window_, static_cast<size_t>(from - window_start_), n);
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Bundle uploads

Result<HubUpload> Uploads::Own(const HubBox& box, std::string_view id, std::string_view kind) {
  auto upload = store_.GetUpload(id);
  if (!upload.ok()) return upload.status();
  if (upload->box_id != box.id || upload->kind != kind)
    return Status::NotFound(kind == kAnswerKind ? "no such answer" : "no such upload");
  return upload;
}

Result<HubUpload> Uploads::Create(const HubBox& box, int64_t length) {
  if (length < 1) return Status::InvalidArgument("length must be a whole number of bytes above 0");
  if (static_cast<uint64_t>(length) > config_.max_upload_bytes)
    return Status::TooLarge("a bundle is at most " + std::to_string(config_.max_upload_bytes) + " bytes: split it");
  return store_.CreateUpload(box.school_id, box.id, kBundleKind, length, clock_.Now());
}

Result<HubUpload> Uploads::Find(const HubBox& box, std::string_view id) { return Own(box, id, kBundleKind); }

UploadAppend Uploads::Append(const HubBox& box, std::string_view id, int64_t offset, const BodySource& body) {
  UploadAppend out;
  auto upload = Own(box, id, kBundleKind);
  if (!upload.ok()) {
    out.status = upload.status();
    return out;
  }
  out.offset = upload->offset;
  if (offset != upload->offset) {
    out.status = Status::Conflict("the upload is at offset " + std::to_string(upload->offset));
    return out;
  }
  if (!body) {
    out.status = Status::InvalidArgument("the request needs a body");
    return out;
  }
  // The piece in hand: stored whenever it reaches kUploadPieceBytes, and
  // once more when the body ends or is cut.
  int64_t at = offset;
  std::string piece;
  Status failure;
  auto store_piece = [&] {
    if (piece.empty() || !failure.ok()) return;
    auto next = store_.AppendUpload(upload->id, at, piece, clock_.Now());
    if (!next.ok()) {
      failure = next.status();
      return;
    }
    at = *next;
    piece.clear();
  };
  bool whole = body([&](std::string_view data) {
    if (at + static_cast<int64_t>(piece.size() + data.size()) > upload->length) {
      failure = Status::TooLarge("the bytes go past the upload's announced length");
      return false;
    }
    while (!data.empty()) {
      size_t take = std::min(data.size(), kUploadPieceBytes - piece.size());
      piece.append(data.substr(0, take));
      data.remove_prefix(take);
      if (piece.size() == kUploadPieceBytes) store_piece();
      if (!failure.ok()) return false;
    }
    return true;
  });
  store_piece();  // after a cut too: every byte that arrived is kept
  out.offset = at;
  if (!failure.ok()) {
    out.status = failure;
  } else if (!whole) {
    out.status = Status::InvalidArgument("the body was cut; resume at Upload-Offset");
  } else if (at == upload->length) {
    upload->offset = at;
    Complete(box, *upload, &out);
  }
  return out;
}

// The bundle is verified straight from the stored parts (UploadSource): no
// copy to a temporary file, and memory stays at about one part.
void Uploads::Complete(const HubBox& box, const HubUpload& upload, UploadAppend* out) {
  out->complete = true;
  UploadSource source(store_, upload);
  auto outcome = hub_.IngestBundle(box, source);
  // Verified or refused, the upload is done: a refused bundle is not retried.
  (void)store_.DeleteUpload(upload.id);
  if (!outcome.ok()) {
    core::LogEvent("sync.bundle_rejected", {{"box", box.id}, {"reason", outcome.status().message()}});
    // A damaged bundle is the sender's fault, not the gateway's.
    out->status = outcome.status().code() == StatusCode::kCorruption
                      ? Status::InvalidArgument("bundle refused: " + outcome.status().message())
                      : outcome.status();
    return;
  }
  core::LogEvent("sync.bundle_received", {{"box", box.id}, {"records", std::to_string(outcome->records)}});
  out->records = outcome->records;
  out->inserted = outcome->inserted;
  out->duplicates = outcome->duplicates;
}

// ---------------------------------------------------------------------------
// Stored answers

Result<StoredAnswer> Uploads::StoreAnswer(const HubBox& box, const VersionVector& have, const sync::FileNews& files) {
  (void)store_.DeleteStaleUploads(clock_.Now() - kStaleUploadSeconds);
  // The store's upload is created with its length (its offset never passes
  // it), and the answer's length is known only once it is written: so the
  // bundle goes to a temporary file first (memory stays flat), then into
  // the store piece by piece.
  RELAIS_ASSIGN_OR_RETURN(auto file, core::StreamingFile::Create(std::filesystem::temp_directory_path()));
  sync::StreamingFileSink sink(file.get());
  RELAIS_ASSIGN_OR_RETURN(int64_t operations, hub_.WriteAnswerBundle(box, have, &sink, files));
  const auto length = static_cast<int64_t>(file->size());
  RELAIS_ASSIGN_OR_RETURN(HubUpload answer,
                          store_.CreateUpload(box.school_id, box.id, kAnswerKind, length, clock_.Now()));
  RELAIS_ASSIGN_OR_RETURN(auto reader, core::FileReader::Open(file->path()));
  std::string piece(kUploadPieceBytes, '\0');
  Status copied;
  for (int64_t at = 0; at < length && copied.ok();) {
    auto n = reader->ReadAt(static_cast<uint64_t>(at), piece.data(), piece.size());
    if (!n.ok()) {
      copied = n.status();
    } else if (*n == 0) {
      copied = Status::IOError("the answer's temporary file was cut short");
    } else {
      auto next = store_.AppendUpload(answer.id, at, std::string_view(piece.data(), *n), clock_.Now());
      if (next.ok()) at = *next;
      copied = next.status();
    }
  }
  if (!copied.ok()) {
    (void)store_.DeleteUpload(answer.id);
    return copied;
  }
  return StoredAnswer{answer.id, length, operations};
}

Result<HubUpload> Uploads::FindAnswer(const HubBox& box, std::string_view id) { return Own(box, id, kAnswerKind); }

Status Uploads::ReadAnswer(const HubUpload& answer, int64_t from, int64_t to,
                           const std::function<Status(std::string_view)>& sink) {
  return store_.ReadUpload(answer.id, from, to, sink);
}

Status Uploads::DeleteAnswer(const HubBox& box, std::string_view id) {
  RELAIS_ASSIGN_OR_RETURN(HubUpload answer, Own(box, id, kAnswerKind));
  return store_.DeleteUpload(answer.id);
}

}  // namespace relais::hub

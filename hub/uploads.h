// hub/uploads.h — the gateway's resumable uploads and stored answers
// (docs/hub-api.md, "Resumable bundle upload" and "Stored answers"), owned by
// the Hub (Hub::uploads()).
//
// The protocol runs here, not in the HTTP handlers: a handler parses the
// request, calls one method with the body as a BodySource, and renders what
// it gets back. The bytes live in the store (HubStore's uploads, SQLite or
// PostgreSQL), so any gateway process may take the next request of an upload.
//
// A bundle upload, drawn:
//
//   Create(length) ──► offset 0 ──Append(at offset)──► offset n … ──► offset == length
//                          ▲              │                                  │
//                          └── cut body: what fully arrived is kept ◄────────┘
//                              (resume at Find().offset)          verified from the stored parts,
//                                                                 ingested or refused, then deleted
//
// Invariants:
//  * An upload belongs to the box that created it; other boxes get NotFound.
//  * Bytes go to the store in pieces of at most kUploadPieceBytes, each with
//    its offset in one transaction (HubStore::AppendUpload): a cut or a crash
//    keeps every piece that fully arrived, never an offset ahead of its bytes.
//  * Memory stays at one piece whatever the upload's size: the body is
//    streamed into the store, and the complete bundle is verified by reading
//    the stored parts back (UploadSource), never the whole upload at once.
//  * A complete upload is verified once: verified or refused, it is deleted,
//    so a second append finds NotFound.
//
// Thread-safety: as the store; the methods keep no state between calls.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "hub/config.h"
#include "hub/store.h"
#include "sync/byte_io.h"
#include "sync/file_news.h"

namespace relais::hub {

class Hub;

// Bytes of an upload per stored part.
inline constexpr size_t kUploadPieceBytes = 1 << 20;
// Uploads and answers untouched this long are dropped (each StoreAnswer sweeps).
inline constexpr int64_t kStaleUploadSeconds = 7 * 86400;

// A request body as it arrives: calls `piece` with each piece of bytes, in
// order, until the body ends (returns true) or is cut, or `piece` returns
// false (returns false). httplib::ContentReader, adapted by the handler.
using BodySource = std::function<bool(const std::function<bool(std::string_view)>& piece)>;

// What Uploads::Append did.
struct [[nodiscard]] UploadAppend {
  // Ok, or why the append stopped: NotFound (no such upload of this box),
  // Conflict (`offset` is not the upload's: resume at `offset` below),
  // TooLarge (the bytes go past the announced length), InvalidArgument (the
  // body was cut: resume at `offset`; or the complete bundle was damaged),
  // PermissionDenied (the bundle is not this box's to send), or a store error.
  Status status;
  // The upload's offset after the call (where the box resumes); nullopt for
  // NotFound.
  std::optional<int64_t> offset;
  // The last byte arrived: the bundle was verified (ingested if `status` is
  // ok, refused otherwise) and the upload deleted.
  bool complete = false;
  // The ingest, when complete and accepted.
  uint64_t records = 0;
  int inserted = 0;
  int duplicates = 0;
};

// An answer written into the store (StoreAnswer).
struct StoredAnswer {
  std::string id;
  int64_t length = 0;
  int64_t operations = 0;
};

class Uploads {
 public:
  // `hub`, `store`, `clock` and `config` must outlive the Uploads. The
  // upload limit is config.max_upload_bytes, read at each call.
  Uploads(Hub& hub, HubStore& store, const core::Clock& clock, const Config& config)
      : hub_(hub), store_(store), clock_(clock), config_(config) {}
  Uploads(const Uploads&) = delete;
  Uploads& operator=(const Uploads&) = delete;

  // --- Bundle uploads ------------------------------------------------------
  // A new bundle upload of `length` bytes for `box`, at offset 0.
  // InvalidArgument for a length below 1; TooLarge above the limit.
  Result<HubUpload> Create(const HubBox& box, int64_t length);

  // The bundle upload `id` of `box` (its offset: where to resume). NotFound
  // if there is none, or it is another box's, or an answer.
  Result<HubUpload> Find(const HubBox& box, std::string_view id);

  // Appends the bytes `body` yields at `offset`. Conflict, reading nothing
  // of the body, unless `offset` is the upload's stored offset; then
  // InvalidArgument if there is no body at all (`body` empty). Each full
  // piece is stored as it arrives; after a cut the piece in hand is stored
  // too (every byte that arrived is kept). When the upload reaches its
  // length, the bundle is verified from the stored parts and, if
  // Hub::IngestBundle accepts it, ingested; a damaged bundle (Corruption) is
  // reported as InvalidArgument "bundle refused: …" (the sender's fault).
  // Either way the upload is then deleted: a refused bundle is not retried.
  UploadAppend Append(const HubBox& box, std::string_view id, int64_t offset, const BodySource& body);

  // --- Stored answers ------------------------------------------------------
  // Writes the answer for `box` (Hub::WriteAnswerBundle with `have` and
  // `files`) into the store as an upload of kind "answer", in parts of
  // kUploadPieceBytes, so that any gateway process serves its ranges. Sweeps
  // the uploads untouched for kStaleUploadSeconds first.
  Result<StoredAnswer> StoreAnswer(const HubBox& box, const VersionVector& have, const sync::FileNews& files);

  // The answer `id` of `box`. NotFound if there is none, or another box's.
  Result<HubUpload> FindAnswer(const HubBox& box, std::string_view id);

  // Calls `sink` with the answer's bytes [from, to), at most one stored part
  // at a time, starting at the part holding `from` (HubStore::ReadUpload).
  // `answer` comes from FindAnswer. Fewer bytes if the answer has fewer.
  Status ReadAnswer(const HubUpload& answer, int64_t from, int64_t to,
                    const std::function<Status(std::string_view)>& sink);

  // Forgets the answer `id` of `box` (applied). NotFound as FindAnswer.
  Status DeleteAnswer(const HubBox& box, std::string_view id);

 private:
  // The upload `id` if it is of `kind` and belongs to `box`; NotFound else.
  Result<HubUpload> Own(const HubBox& box, std::string_view id, std::string_view kind);
  // Verifies and ingests the complete upload, then deletes it.
  void Complete(const HubBox& box, const HubUpload& upload, UploadAppend* out);

  Hub& hub_;
  HubStore& store_;
  const core::Clock& clock_;
  const Config& config_;
};

// A stored upload's bytes as a ByteSource (what BundleReader reads), fetched
// from the store's parts on demand: it holds the window of bytes last read
// (to the end of the part that held them), so reading the upload in order
// fetches each part once per pass. Not thread-safe. `store` must outlive it.
class UploadSource final : public sync::ByteSource {
 public:
  UploadSource(HubStore& store, const HubUpload& upload) : store_(store), id_(upload.id), size_(upload.length) {}
  uint64_t size() const override { return static_cast<uint64_t>(size_); }
  Status ReadAt(uint64_t offset, size_t n, std::string* out) const override;

 private:
  HubStore& store_;
  std::string id_;
  int64_t size_;
  mutable int64_t window_start_ = 0;
  mutable std::string window_;
};

}  // namespace relais::hub

// hub/ent_upload.h — a file the ENT uploads into a school
// (POST /hub/v1/ent/schools/<id>/files, docs/hub-api.md), received as a
// stream.
//
// The bytes are cut into content-defined chunks as they arrive, with the
// box's chunker (sync/chunks.h), and each chunk's plaintext is stored once
// (HubStore::PutChunk) as soon as it is whole: memory holds one max-size
// chunk and the piece being read, whatever the file's size. Once the last
// byte is in, the file gets the school's manifest (the one the school
// already has for those bytes, else a new one, as a box makes it) and its
// `files` row becomes an operation of the gateway's origin in the school's
// log (hub/ent_publish.h, EntFileOperations). Boxes then receive the row
// with their next sync and fetch the chunks sealed under the school's
// manifest, as for a file another box sent.
//
// Nothing is visible before Finish: a cut upload (never finished) leaves
// neither manifest nor operation, only the chunks already stored, which are
// content-addressed and shared (another file may hold the same chunk), so
// they are kept (docs/hub-api.md says so). Not thread-safe: one per request.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "hub/hub.h"
#include "sync/chunks.h"

namespace relais::hub {

// What an upload recorded.
struct EntFile {
  std::string id;  // the files row: what publications name as file_id
  std::string sha256;
  uint64_t size = 0;
  std::string name;
  std::string content_type;
  std::string owner_login;
  bool created = false;   // false: the school's log held the row already (the same upload again)
  int64_t feed_head = 0;  // the school's change feed after it
};

class EntUpload {
 public:
  struct Request {
    std::string school_id;
    std::string name;                // the file's name, as the box stores it (CheckEntFileName)
    std::string declared_type;       // Content-Type without parameters; may be empty
    std::string owner_login;         // an account of the school (the teacher the file belongs to)
    std::optional<uint64_t> length;  // Content-Length, when the request has one
    uint64_t max_bytes = 0;          // the gateway's upload limit (max_upload_mb)
  };
  // Checks everything that can be checked before the body: NotFound for an
  // unknown school; InvalidArgument for a bad name, an owner who is not an
  // account of the school's log, or an announced length of 0; TooLarge for
  // an announced length above the limit. `hub` must outlive the upload.
  static Result<std::unique_ptr<EntUpload>> Start(Hub& hub, Request request);

  // Takes the next bytes of the body and stores every chunk completed.
  // TooLarge past the limit; UnsupportedType (content::CheckUpload) when the
  // first bytes contradict the declared type or show no accepted type —
  // checked before the first chunk is stored. After an error the upload is
  // spent.
  Status Add(std::string_view data);

  // After the last byte: stores the last chunk, the school's manifest of the
  // file (kept if the school has one for these bytes) and the row's
  // operation (none if the log holds the row already). InvalidArgument for
  // an empty file or an owner the log no longer holds.
  Result<EntFile> Finish();

 private:
  EntUpload(Hub& hub, Request request) : hub_(hub), request_(std::move(request)), cutter_(sync::ChunkParams{}) {}
  // Checks the type once the first bytes are in (before any chunk is stored).
  Status CheckType();

  Hub& hub_;
  Request request_;
  sync::ChunkCutter cutter_;
  std::string head_;                         // the first bytes, for the type check
  std::optional<std::string> content_type_;  // once checked
  Status failed_;
};

}  // namespace relais::hub

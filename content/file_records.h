// content/file_records.h — the catalogue of uploaded files (the `files`
// table), which points into the blob store.
#pragma once

#include <string>
#include <string_view>

#include "content/blob_store.h"
#include "content/limits.h"
#include "content/types.h"
#include "core/clock.h"
#include "core/db.h"

namespace relais::content {

class FileRecords {
 public:
  FileRecords(core::DbPool& db, const BlobStore& blobs, const core::Clock& clock)
      : db_(db), blobs_(blobs), clock_(clock) {}

  // Records a stored blob as a file owned by the viewer. The name is cleaned
  // (no path, no control characters, at most 200 bytes). Durable on return.
  Result<FileInfo> Record(const Viewer& viewer, const BlobInfo& blob, std::string_view content_type,
                          std::string_view name);
  // The file, if the viewer may read it; NotFound otherwise (we do not tell
  // strangers which ids exist).
  Result<FileInfo> GetReadable(const Viewer& viewer, std::string_view id);

 private:
  core::DbPool& db_;
  const BlobStore& blobs_;
  const core::Clock& clock_;
};

// "../../Devoir de maths.pdf" → "Devoir de maths.pdf"; "" → "fichier".
std::string CleanFileName(std::string_view name);

}  // namespace relais::content

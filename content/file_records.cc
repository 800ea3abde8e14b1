#include "content/file_records.h"

#include "content/access.h"
#include "content/audit.h"
#include "content/text.h"
#include "core/crypto.h"

namespace relais::content {

std::string CleanFileName(std::string_view name) {
  size_t slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name = name.substr(slash + 1);
  std::string clean = CleanText(name, kMaxFileName);
  std::string out;
  for (char c : clean)
    if (c != '\n' && c != '\t' && c != '"') out.push_back(c);
  std::string_view trimmed = TrimSpace(out);
  while (!trimmed.empty() && trimmed.front() == '.') trimmed.remove_prefix(1);
  return trimmed.empty() ? "fichier" : std::string(trimmed);
}

Result<FileInfo> FileRecords::Record(const Viewer& viewer, const BlobInfo& blob, std::string_view content_type,
                                     std::string_view name) {
  FileInfo f;
  f.id = core::NewUuid();
  f.sha256 = blob.sha256;
  f.size = blob.size;
  f.content_type = std::string(content_type);
  f.name = CleanFileName(name);
  f.owner_id = viewer.id;
  f.created_at = core::FormatTime(clock_.Now());
  auto db = db_.Writer();
  core::Transaction txn(*db);
  RELAIS_RETURN_IF_ERROR(txn.status());
  RELAIS_ASSIGN_OR_RETURN(
      auto q,
      db->Query("INSERT INTO files (id, sha256, size, content_type, name, owner_id, created_at, updated_at, "
                "author_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?6)",
                f.id, f.sha256, static_cast<int64_t>(f.size), f.content_type, f.name, f.owner_id, f.created_at));
  RELAIS_RETURN_IF_ERROR(q.Run());
  RELAIS_RETURN_IF_ERROR(RecordAudit(*db, &viewer, f.created_at, "file.upload", "file", f.id,
                                     f.content_type + " " + std::to_string(f.size)));
  RELAIS_RETURN_IF_ERROR(txn.Commit());
  return f;
}

Result<FileInfo> FileRecords::GetReadable(const Viewer& viewer, std::string_view id) {
  if (!core::IsUuid(id)) return Status::NotFound("no such file");
  auto db = db_.Reader();
  RELAIS_ASSIGN_OR_RETURN(bool readable, CanReadFile(*db, viewer, id));
  if (!readable) return Status::NotFound("no such file");
  RELAIS_ASSIGN_OR_RETURN(auto files, LoadFiles(*db,
                                                "SELECT id, sha256, size, content_type, name, owner_id, created_at "
                                                "FROM files WHERE id = ?1",
                                                id));
  if (files.empty()) return Status::NotFound("no such file");
  return files.front();
}

}  // namespace relais::content

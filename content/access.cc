#include "content/access.h"

#include <set>

#include "core/crypto.h"

namespace relais::content {

Result<std::optional<std::string>> ClassRole(core::Db& db, std::string_view user_id, std::string_view class_id) {
  RELAIS_ASSIGN_OR_RETURN(
      auto q, db.Query("SELECT role FROM class_members WHERE user_id = ?1 AND class_id = ?2", user_id, class_id));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(q.Text(0));
}

Status RequireTeacherOf(core::Db& db, const Viewer& viewer, std::string_view class_id) {
  RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT 1 FROM classes WHERE id = ?1", class_id));
  RELAIS_ASSIGN_OR_RETURN(bool exists, q.Step());
  if (!exists) return Status::NotFound("no such class");
  if (viewer.role == Role::kAdmin) return Status::Ok();
  RELAIS_ASSIGN_OR_RETURN(auto role, ClassRole(db, viewer.id, class_id));
  if (!role) return Status::NotFound("no such class");
  if (*role != "teacher") return Status::PermissionDenied("only the class's teachers may do this");
  return Status::Ok();
}

Result<bool> CanReadFile(core::Db& db, const Viewer& viewer, std::string_view file_id) {
  if (viewer.role == Role::kAdmin) {
    RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT 1 FROM files WHERE id = ?1", file_id));
    return q.Step();
  }
  // One query, each branch a way to reach the file. Students reach homework
  // attachments only when published, and submissions only their own.
  static const std::string kSql = R"sql(
    SELECT 1 FROM files WHERE id = ?1 AND owner_id = ?2
    UNION ALL
    SELECT 1 FROM homework_attachments a
      JOIN homework h ON h.id = a.homework_id AND h.deleted_at IS NULL
      JOIN class_members m ON m.class_id = h.class_id AND m.user_id = ?2
     WHERE a.file_id = ?1 AND (h.published = 1 OR m.role = 'teacher')
    UNION ALL
    SELECT 1 FROM resources r
      JOIN sections s ON s.id = r.section_id AND s.deleted_at IS NULL
      JOIN courses c ON c.id = s.course_id AND c.deleted_at IS NULL
      JOIN class_members m ON m.class_id = c.class_id AND m.user_id = ?2
     WHERE r.file_id = ?1 AND r.deleted_at IS NULL
    UNION ALL
    SELECT 1 FROM submission_files sf
      JOIN submission_versions v ON v.id = sf.version_id
      JOIN submissions s ON s.id = v.submission_id
      JOIN homework h ON h.id = s.homework_id
      JOIN class_members m ON m.class_id = h.class_id AND m.user_id = ?2
     WHERE sf.file_id = ?1 AND (m.role = 'teacher' OR s.student_id = ?2)
    UNION ALL
    SELECT 1 FROM feedback_files ff
      JOIN feedback f ON f.id = ff.feedback_id
      JOIN submissions s ON s.id = f.submission_id
      JOIN homework h ON h.id = s.homework_id
      JOIN class_members m ON m.class_id = h.class_id AND m.user_id = ?2
     WHERE ff.file_id = ?1 AND (m.role = 'teacher' OR s.student_id = ?2)
    LIMIT 1)sql";
  RELAIS_ASSIGN_OR_RETURN(auto q, db.Query(kSql, file_id, viewer.id));
  return q.Step();
}

Status RequireAttachable(core::Db& db, const Viewer& viewer, const std::vector<std::string>& file_ids) {
  std::set<std::string> seen;
  for (const std::string& id : file_ids) {
    if (!core::IsUuid(id)) return Status::InvalidArgument("not a file id: " + id);
    if (!seen.insert(id).second) return Status::InvalidArgument("file listed twice: " + id);
    RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT owner_id FROM files WHERE id = ?1", id));
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::NotFound("no such file: " + id);
    if (q.Text(0) == viewer.id) continue;
    if (viewer.role != Role::kStudent) {
      RELAIS_ASSIGN_OR_RETURN(bool readable, CanReadFile(db, viewer, id));
      if (readable) continue;
    }
    return Status::PermissionDenied("you may not use file " + id);
  }
  return Status::Ok();
}

FileInfo ReadFileInfo(const core::Stmt& q, int first) {
  return FileInfo{q.Text(first),     q.Text(first + 1), static_cast<uint64_t>(q.Int(first + 2)),
                  q.Text(first + 3), q.Text(first + 4), q.Text(first + 5),
                  q.Text(first + 6)};
}

Result<std::vector<FileInfo>> LoadFiles(core::Db& db, std::string_view sql, std::string_view key) {
  RELAIS_ASSIGN_OR_RETURN(auto q, db.Query(std::string(sql), key));
  std::vector<FileInfo> out;
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(ReadFileInfo(q, 0));
  }
  return out;
}

}  // namespace relais::content

#include "content/homework.h"

#include <set>
#include <unordered_map>

#include "content/access.h"
#include "content/audit.h"
#include "content/text.h"
#include "core/crypto.h"

namespace relais::content {
namespace {

// Columns shared by List and Get; ?1 is the viewer's id.
constexpr const char* kColumns =
    "SELECT h.id, h.class_id, c.name, h.subject, h.title, h.instructions, h.given_at, h.due_at, h.published, "
    "COALESCE(h.author_id, ''), h.created_at, h.updated_at, s.id, s.status, "
    "(SELECT v.late FROM submission_versions v WHERE v.submission_id = s.id AND v.version = s.current_version), "
    "f.grade, ";
constexpr const char* kJoins =
    " JOIN classes c ON c.id = h.class_id "
    "LEFT JOIN submissions s ON s.homework_id = h.id AND s.student_id = ?1 "
    "LEFT JOIN feedback f ON f.submission_id = s.id ";

Homework ReadHomework(const core::Stmt& q, const Viewer& viewer, int64_t now) {
  Homework h;
  h.id = q.Text(0);
  h.class_id = q.Text(1);
  h.class_name = q.Text(2);
  h.subject = q.Text(3);
  h.title = q.Text(4);
  h.instructions = q.Text(5);
  h.given_at = q.Text(6);
  h.due_at = q.Text(7);
  h.published = q.Int(8) != 0;
  h.author_id = q.Text(9);
  h.created_at = q.Text(10);
  h.updated_at = q.Text(11);
  if (viewer.role == Role::kStudent) {
    Homework::Mine mine;
    if (q.IsNull(12)) {
      mine.status = "todo";
      mine.late = core::ParseTime(h.due_at).value_or(0) < now;
    } else {
      mine.submission_id = q.Text(12);
      mine.status = q.Text(13);
      mine.late = q.Int(14) != 0;
      if (mine.status == "returned") mine.grade = q.OptDouble(15);
    }
    h.mine = mine;
  }
  return h;
}

Status LoadAttachments(core::Db& db, Homework& h) {
  RELAIS_ASSIGN_OR_RETURN(
      h.attachments,
      LoadFiles(db,
                "SELECT f.id, f.sha256, f.size, f.content_type, f.name, f.owner_id, f.created_at FROM "
                "homework_attachments a JOIN files f ON f.id = a.file_id WHERE a.homework_id = ?1 ORDER BY a.position",
                h.id));
  return Status::Ok();
}

// Trims and cleans a one-line field; too long is an error, not a silent cut.
Result<std::string> CleanField(std::string_view raw, size_t max_bytes, const char* name) {
  std::string_view trimmed = TrimSpace(raw);
  if (trimmed.size() > max_bytes)
    return Status::InvalidArgument(std::string("the ") + name + " is longer than " + std::to_string(max_bytes) +
                                   " bytes");
  return std::string(TrimSpace(CleanText(trimmed, max_bytes)));
}

Status ValidateFields(const std::string& subject, const std::string& title) {
  if (title.empty()) return Status::InvalidArgument("the title is required");
  if (subject.empty()) return Status::InvalidArgument("the subject is required");
  return Status::Ok();
}

Status ReplaceAttachments(core::Db& db, const std::string& homework_id, const std::vector<std::string>& ids) {
  if (ids.size() > kMaxAttachments)
    return Status::InvalidArgument("at most " + std::to_string(kMaxAttachments) + " attachments");
  if (std::set<std::string>(ids.begin(), ids.end()).size() != ids.size())
    return Status::InvalidArgument("an attachment is listed twice");
  RELAIS_ASSIGN_OR_RETURN(auto del, db.Query("DELETE FROM homework_attachments WHERE homework_id = ?1", homework_id));
  RELAIS_RETURN_IF_ERROR(del.Run());
  int position = 0;
  for (const std::string& file_id : ids) {
    RELAIS_ASSIGN_OR_RETURN(auto ins, db.Query("INSERT INTO homework_attachments (homework_id, file_id, position) "
                                               "VALUES (?1, ?2, ?3)",
                                               homework_id, file_id, position++));
    RELAIS_RETURN_IF_ERROR(ins.Run());
  }
  return Status::Ok();
}

// Loads one entry the viewer may see; NotFound otherwise.
Result<Homework> LoadVisible(core::Db& db, const Viewer& viewer, std::string_view id, int64_t now) {
  if (!core::IsUuid(id)) return Status::NotFound("no such homework");
  std::string sql = std::string(kColumns) + "m.role FROM homework h" + kJoins +
                    "LEFT JOIN class_members m ON m.class_id = h.class_id AND m.user_id = ?1 "
                    "WHERE h.id = ?2 AND h.deleted_at IS NULL";
  RELAIS_ASSIGN_OR_RETURN(auto q, db.Query(sql, viewer.id, id));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::NotFound("no such homework");
  std::optional<std::string> role = q.OptText(16);
  bool published = q.Int(8) != 0;
  bool visible = viewer.role == Role::kAdmin || (role && (*role == "teacher" || published));
  if (!visible) return Status::NotFound("no such homework");
  Homework h = ReadHomework(q, viewer, now);
  RELAIS_RETURN_IF_ERROR(LoadAttachments(db, h));
  return h;
}

}  // namespace

Result<Homework> HomeworkStore::Create(const Viewer& viewer, const HomeworkInput& in) {
  RELAIS_ASSIGN_OR_RETURN(std::string subject, CleanField(in.subject, kMaxSubject, "subject"));
  RELAIS_ASSIGN_OR_RETURN(std::string title, CleanField(in.title, kMaxTitle, "title"));
  std::string instructions = StripMarkup(in.instructions, kMaxInstructions);
  RELAIS_RETURN_IF_ERROR(ValidateFields(subject, title));
  int64_t now = clock_.Now();
  std::string now_text = core::FormatTime(now);
  std::string id = core::NewUuid();
  {
    auto db = db_.Writer();
    core::Transaction txn(*db);
    RELAIS_RETURN_IF_ERROR(txn.status());
    // Visibility first: a class the viewer cannot see is NotFound, whoever asks.
    RELAIS_RETURN_IF_ERROR(RequireTeacherOf(*db, viewer, in.class_id));
    if (viewer.role == Role::kStudent) return Status::PermissionDenied("students cannot publish homework");
    RELAIS_RETURN_IF_ERROR(RequireAttachable(*db, viewer, in.attachments));
    RELAIS_ASSIGN_OR_RETURN(
        auto q, db->Query("INSERT INTO homework (id, class_id, subject, title, instructions, given_at, due_at, "
                          "published, created_at, updated_at, author_id) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)",
                          id, in.class_id, subject, title, instructions, core::FormatTime(in.given_at.value_or(now)),
                          core::FormatTime(in.due_at), in.published, now_text, viewer.id));
    RELAIS_RETURN_IF_ERROR(q.Run());
    RELAIS_RETURN_IF_ERROR(ReplaceAttachments(*db, id, in.attachments));
    RELAIS_RETURN_IF_ERROR(RecordAudit(*db, &viewer, now_text, in.published ? "homework.publish" : "homework.draft",
                                       "homework", id, title));
    RELAIS_RETURN_IF_ERROR(txn.Commit());
  }
  return Get(viewer, id);
}

Result<std::vector<Homework>> HomeworkStore::List(const Viewer& viewer, const HomeworkFilter& filter) {
  int64_t now = clock_.Now();
  std::string sql = kColumns;
  if (viewer.role == Role::kAdmin) {
    sql += "'teacher' FROM homework h" + std::string(kJoins) + "WHERE h.deleted_at IS NULL ";
  } else {
    sql += "m.role FROM class_members m JOIN homework h ON h.class_id = m.class_id" + std::string(kJoins) +
           "WHERE m.user_id = ?1 AND h.deleted_at IS NULL AND (h.published = 1 OR m.role = 'teacher') ";
  }
  sql +=
      "AND (?2 IS NULL OR h.class_id = ?2) AND (?3 IS NULL OR h.due_at >= ?3) AND (?4 IS NULL OR h.due_at <= ?4) "
      "ORDER BY h.due_at, h.id LIMIT ?5";
  auto db = db_.Reader();
  core::ReadTransaction snapshot(*db);
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Prepare(sql));
  q.Bind(1, viewer.id).Bind(2, filter.class_id);
  q.Bind(3, filter.from ? std::optional<std::string>(core::FormatTime(*filter.from)) : std::nullopt);
  q.Bind(4, filter.to ? std::optional<std::string>(core::FormatTime(*filter.to)) : std::nullopt);
  q.Bind(5, filter.limit);
  std::vector<Homework> out;
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(ReadHomework(q, viewer, now));
  }
  if (out.empty()) return out;
  // All the attachments in one query rather than one per entry.
  std::string ids = "[";
  std::unordered_map<std::string, Homework*> by_id;
  for (Homework& h : out) {
    if (ids.size() > 1) ids.push_back(',');
    ids += "\"" + h.id + "\"";
    by_id[h.id] = &h;
  }
  ids.push_back(']');
  RELAIS_ASSIGN_OR_RETURN(
      auto a, db->Query("SELECT a.homework_id, f.id, f.sha256, f.size, f.content_type, f.name, f.owner_id, "
                        "f.created_at FROM homework_attachments a JOIN files f ON f.id = a.file_id "
                        "WHERE a.homework_id IN (SELECT value FROM json_each(?1)) ORDER BY a.homework_id, a.position",
                        ids));
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool row, a.Step());
    if (!row) break;
    auto it = by_id.find(a.Text(0));
    if (it == by_id.end()) continue;
    it->second->attachments.push_back(ReadFileInfo(a, 1));
  }
  return out;
}

Result<Homework> HomeworkStore::Get(const Viewer& viewer, std::string_view id) {
  auto db = db_.Reader();
  return LoadVisible(*db, viewer, id, clock_.Now());
}

Result<Homework> HomeworkStore::Update(const Viewer& viewer, std::string_view id, const HomeworkPatch& patch) {
  int64_t now = clock_.Now();
  std::string now_text = core::FormatTime(now);
  {
    auto db = db_.Writer();
    core::Transaction txn(*db);
    RELAIS_RETURN_IF_ERROR(txn.status());
    RELAIS_ASSIGN_OR_RETURN(Homework h, LoadVisible(*db, viewer, id, now));
    RELAIS_RETURN_IF_ERROR(RequireTeacherOf(*db, viewer, h.class_id));
    if (patch.subject) {
      RELAIS_ASSIGN_OR_RETURN(h.subject, CleanField(*patch.subject, kMaxSubject, "subject"));
    }
    if (patch.title) {
      RELAIS_ASSIGN_OR_RETURN(h.title, CleanField(*patch.title, kMaxTitle, "title"));
    }
    if (patch.instructions) h.instructions = StripMarkup(*patch.instructions, kMaxInstructions);
    if (patch.due_at) h.due_at = core::FormatTime(*patch.due_at);
    bool publishing = patch.published && *patch.published && !h.published;
    if (patch.published) h.published = *patch.published;
    RELAIS_RETURN_IF_ERROR(ValidateFields(h.subject, h.title));
    RELAIS_ASSIGN_OR_RETURN(auto q,
                            db->Query("UPDATE homework SET subject = ?1, title = ?2, instructions = ?3, "
                                      "due_at = ?4, published = ?5, updated_at = ?6 WHERE id = ?7",
                                      h.subject, h.title, h.instructions, h.due_at, h.published, now_text, h.id));
    RELAIS_RETURN_IF_ERROR(q.Run());
    if (patch.attachments) {
      // Files already attached stay usable even if another teacher uploaded them.
      std::vector<std::string> added;
      for (const std::string& f : *patch.attachments) {
        bool had = false;
        for (const FileInfo& a : h.attachments) had = had || a.id == f;
        if (!had) added.push_back(f);
      }
      RELAIS_RETURN_IF_ERROR(RequireAttachable(*db, viewer, added));
      RELAIS_RETURN_IF_ERROR(ReplaceAttachments(*db, h.id, *patch.attachments));
    }
    RELAIS_RETURN_IF_ERROR(RecordAudit(*db, &viewer, now_text, publishing ? "homework.publish" : "homework.edit",
                                       "homework", h.id, h.title));
    RELAIS_RETURN_IF_ERROR(txn.Commit());
  }
  return Get(viewer, id);
}

Status HomeworkStore::Delete(const Viewer& viewer, std::string_view id) {
  int64_t now = clock_.Now();
  std::string now_text = core::FormatTime(now);
  auto db = db_.Writer();
  core::Transaction txn(*db);
  RELAIS_RETURN_IF_ERROR(txn.status());
  RELAIS_ASSIGN_OR_RETURN(Homework h, LoadVisible(*db, viewer, id, now));
  RELAIS_RETURN_IF_ERROR(RequireTeacherOf(*db, viewer, h.class_id));
  RELAIS_ASSIGN_OR_RETURN(
      auto q, db->Query("UPDATE homework SET deleted_at = ?1, updated_at = ?1 WHERE id = ?2", now_text, h.id));
  RELAIS_RETURN_IF_ERROR(q.Run());
  RELAIS_RETURN_IF_ERROR(RecordAudit(*db, &viewer, now_text, "homework.delete", "homework", h.id, h.title));
  return txn.Commit();
}

}  // namespace relais::content

#include "content/courses.h"

#include <functional>

#include "content/access.h"
#include "content/audit.h"
#include "content/limits.h"
#include "content/text.h"
#include "core/crypto.h"

namespace relais::content {
namespace {

std::optional<std::string> Author(const Viewer& v) { return v.id; }

Result<std::string> CleanTitle(std::string_view raw) {
  std::string title(TrimSpace(CleanText(raw, kMaxCourseTitle)));
  if (title.empty()) return Status::InvalidArgument("the title is required");
  return title;
}

// Class of a live course, section or resource; NotFound if gone or unknown.
Result<std::string> ClassOf(core::Db& db, std::string_view kind, std::string_view id) {
  static const std::string kCourse = "SELECT c.class_id FROM courses c WHERE c.id = ?1 AND c.deleted_at IS NULL";
  static const std::string kSection =
      "SELECT c.class_id FROM sections s JOIN courses c ON c.id = s.course_id "
      "WHERE s.id = ?1 AND s.deleted_at IS NULL AND c.deleted_at IS NULL";
  static const std::string kResource =
      "SELECT c.class_id FROM resources r JOIN sections s ON s.id = r.section_id "
      "JOIN courses c ON c.id = s.course_id "
      "WHERE r.id = ?1 AND r.deleted_at IS NULL AND s.deleted_at IS NULL AND c.deleted_at IS NULL";
  if (!core::IsUuid(id)) return Status::NotFound("no such " + std::string(kind));
  const std::string& sql = kind == "course" ? kCourse : kind == "section" ? kSection : kResource;
  RELAIS_ASSIGN_OR_RETURN(auto q, db.Query(sql, id));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::NotFound("no such " + std::string(kind));
  return q.Text(0);
}

// Members read; others get NotFound.
Status RequireMemberOf(core::Db& db, const Viewer& viewer, std::string_view class_id, std::string_view what) {
  if (viewer.role == Role::kAdmin) return Status::Ok();
  RELAIS_ASSIGN_OR_RETURN(auto role, ClassRole(db, viewer.id, class_id));
  if (!role) return Status::NotFound("no such " + std::string(what));
  return Status::Ok();
}

Result<std::vector<Resource>> LoadResources(core::Db& db, std::string_view section_id) {
  RELAIS_ASSIGN_OR_RETURN(
      auto q, db.Query("SELECT r.id, r.section_id, r.kind, r.title, r.url, r.body, r.position, r.created_at, "
                       "r.updated_at, f.id, f.sha256, f.size, f.content_type, f.name, f.owner_id, f.created_at "
                       "FROM resources r LEFT JOIN files f ON f.id = r.file_id "
                       "WHERE r.section_id = ?1 AND r.deleted_at IS NULL ORDER BY r.position, r.created_at",
                       section_id));
  std::vector<Resource> out;
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    Resource r;
    r.id = q.Text(0);
    r.section_id = q.Text(1);
    r.kind = q.Text(2);
    r.title = q.Text(3);
    r.url = q.OptText(4);
    r.body = q.OptText(5);
    r.position = static_cast<int>(q.Int(6));
    r.created_at = q.Text(7);
    r.updated_at = q.Text(8);
    if (!q.IsNull(9)) {
      r.file = ReadFileInfo(q, 9);
    }
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<Section>> LoadSections(core::Db& db, std::string_view course_id) {
  std::vector<Section> out;
  {
    RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT id, course_id, title, position FROM sections "
                                             "WHERE course_id = ?1 AND deleted_at IS NULL "
                                             "ORDER BY position, created_at",
                                             course_id));
    while (true) {
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back(Section{q.Text(0), q.Text(1), q.Text(2), static_cast<int>(q.Int(3)), {}});
    }
  }
  for (Section& s : out) {
    RELAIS_ASSIGN_OR_RETURN(s.resources, LoadResources(db, s.id));
  }
  return out;
}

Result<Course> LoadCourse(core::Db& db, std::string_view id) {
  RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT id, class_id, title, created_at, updated_at FROM courses "
                                           "WHERE id = ?1 AND deleted_at IS NULL",
                                           id));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::NotFound("no such course");
  Course c{q.Text(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4), {}};
  RELAIS_ASSIGN_OR_RETURN(c.sections, LoadSections(db, c.id));
  return c;
}

Result<int> NextPosition(core::Db& db, const std::string& table, const std::string& parent_col,
                         std::string_view parent) {
  RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT COALESCE(MAX(position) + 1, 0) FROM " + table + " WHERE " +
                                               parent_col + " = ?1 AND deleted_at IS NULL",
                                           parent));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? static_cast<int>(q.Int(0)) : 0;
}

// In one transaction: checks that the viewer teaches the class of the live
// course, section or resource `id` (`kind`), runs `sql` (an UPDATE binding
// ?1 = now, ?2 = id, then whatever `bind` adds) and records `action`.
Status EditItem(core::DbPool& pool, const Viewer& viewer, std::string_view kind, std::string_view id,
                const std::string& now, const std::string& sql, const std::function<void(core::Stmt&)>& bind,
                std::string_view action) {
  auto db = pool.Writer();
  core::Transaction txn(*db);
  RELAIS_RETURN_IF_ERROR(txn.status());
  RELAIS_ASSIGN_OR_RETURN(std::string class_id, ClassOf(*db, kind, id));
  RELAIS_RETURN_IF_ERROR(RequireMemberOf(*db, viewer, class_id, kind));
  RELAIS_RETURN_IF_ERROR(RequireTeacherOf(*db, viewer, class_id));
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Query(sql, now, id));
  bind(q);
  RELAIS_RETURN_IF_ERROR(q.Run());
  RELAIS_RETURN_IF_ERROR(RecordAudit(*db, &viewer, now, action, kind, id));
  return txn.Commit();
}

std::string SoftDeleteSql(const std::string& table) {
  return "UPDATE " + table + " SET deleted_at = ?1, updated_at = ?1 WHERE id = ?2";
}

std::string EditSql(const std::string& table) {
  return "UPDATE " + table +
         " SET title = COALESCE(?3, title), position = COALESCE(?4, position), "
         "updated_at = ?1 WHERE id = ?2";
}

}  // namespace

Result<std::vector<Course>> CourseStore::ListForClass(const Viewer& viewer, std::string_view class_id) {
  auto db = db_.Reader();
  if (!core::IsUuid(class_id)) return Status::NotFound("no such class");
  RELAIS_RETURN_IF_ERROR(RequireMemberOf(*db, viewer, class_id, "class"));
  std::vector<std::string> ids;
  {
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT id FROM courses WHERE class_id = ?1 AND deleted_at IS NULL "
                                              "ORDER BY title COLLATE NOCASE",
                                              class_id));
    while (true) {
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ids.push_back(q.Text(0));
    }
  }
  std::vector<Course> out;
  for (const std::string& id : ids) {
    RELAIS_ASSIGN_OR_RETURN(Course c, LoadCourse(*db, id));
    out.push_back(std::move(c));
  }
  return out;
}

Result<Course> CourseStore::Get(const Viewer& viewer, std::string_view course_id) {
  auto db = db_.Reader();
  RELAIS_ASSIGN_OR_RETURN(std::string class_id, ClassOf(*db, "course", course_id));
  RELAIS_RETURN_IF_ERROR(RequireMemberOf(*db, viewer, class_id, "course"));
  return LoadCourse(*db, course_id);
}

Result<Course> CourseStore::Create(const Viewer& viewer, std::string_view class_id, std::string_view raw_title) {
  RELAIS_ASSIGN_OR_RETURN(std::string title, CleanTitle(raw_title));
  std::string now = core::FormatTime(clock_.Now());
  std::string id = core::NewUuid();
  auto db = db_.Writer();
  {
    core::Transaction txn(*db);
    RELAIS_RETURN_IF_ERROR(txn.status());
    if (!core::IsUuid(class_id)) return Status::NotFound("no such class");
    RELAIS_RETURN_IF_ERROR(RequireTeacherOf(*db, viewer, class_id));
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("INSERT INTO courses (id, class_id, title, created_at, updated_at, "
                                              "author_id) VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
                                              id, class_id, title, now, Author(viewer)));
    RELAIS_RETURN_IF_ERROR(q.Run());
    RELAIS_RETURN_IF_ERROR(RecordAudit(*db, &viewer, now, "course.create", "course", id, title));
    RELAIS_RETURN_IF_ERROR(txn.Commit());
  }
  return LoadCourse(*db, id);
}

Result<Course> CourseStore::Rename(const Viewer& viewer, std::string_view course_id, std::string_view raw_title) {
  RELAIS_ASSIGN_OR_RETURN(std::string title, CleanTitle(raw_title));
  RELAIS_RETURN_IF_ERROR(EditItem(
      db_, viewer, "course", course_id, core::FormatTime(clock_.Now()),
      "UPDATE courses SET title = ?3, updated_at = ?1 WHERE id = ?2", [&](core::Stmt& q) { q.Bind(3, title); },
      "course.edit"));
  auto db = db_.Reader();
  return LoadCourse(*db, course_id);
}

Status CourseStore::Delete(const Viewer& viewer, std::string_view course_id) {
  return EditItem(
      db_, viewer, "course", course_id, core::FormatTime(clock_.Now()), SoftDeleteSql("courses"), [](core::Stmt&) {},
      "course.delete");
}

Result<Section> CourseStore::AddSection(const Viewer& viewer, std::string_view course_id, std::string_view raw_title,
                                        std::optional<int> position) {
  RELAIS_ASSIGN_OR_RETURN(std::string title, CleanTitle(raw_title));
  std::string now = core::FormatTime(clock_.Now());
  Section s{core::NewUuid(), std::string(course_id), title, 0, {}};
  auto db = db_.Writer();
  core::Transaction txn(*db);
  RELAIS_RETURN_IF_ERROR(txn.status());
  RELAIS_ASSIGN_OR_RETURN(std::string class_id, ClassOf(*db, "course", course_id));
  RELAIS_RETURN_IF_ERROR(RequireMemberOf(*db, viewer, class_id, "course"));
  RELAIS_RETURN_IF_ERROR(RequireTeacherOf(*db, viewer, class_id));
  if (position) {
    s.position = *position;
  } else {
    RELAIS_ASSIGN_OR_RETURN(s.position, NextPosition(*db, "sections", "course_id", course_id));
  }
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("INSERT INTO sections (id, course_id, title, position, created_at, "
                                            "updated_at, author_id) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
                                            s.id, s.course_id, s.title, s.position, now, Author(viewer)));
  RELAIS_RETURN_IF_ERROR(q.Run());
  RELAIS_RETURN_IF_ERROR(RecordAudit(*db, &viewer, now, "section.create", "section", s.id, title));
  RELAIS_RETURN_IF_ERROR(txn.Commit());
  return s;
}

Result<Section> CourseStore::UpdateSection(const Viewer& viewer, std::string_view section_id,
                                           const std::optional<std::string>& title, std::optional<int> position) {
  std::optional<std::string> clean;
  if (title) {
    RELAIS_ASSIGN_OR_RETURN(clean, CleanTitle(*title));
  }
  RELAIS_RETURN_IF_ERROR(EditItem(
      db_, viewer, "section", section_id, core::FormatTime(clock_.Now()), EditSql("sections"),
      [&](core::Stmt& q) { q.Bind(3, clean).Bind(4, position); }, "section.edit"));
  auto db = db_.Reader();
  RELAIS_ASSIGN_OR_RETURN(auto back,
                          db->Query("SELECT id, course_id, title, position FROM sections WHERE id = ?1", section_id));
  RELAIS_ASSIGN_OR_RETURN(bool row, back.Step());
  if (!row) return Status::NotFound("no such section");
  Section s{back.Text(0), back.Text(1), back.Text(2), static_cast<int>(back.Int(3)), {}};
  RELAIS_ASSIGN_OR_RETURN(s.resources, LoadResources(*db, s.id));
  return s;
}

Status CourseStore::DeleteSection(const Viewer& viewer, std::string_view section_id) {
  return EditItem(
      db_, viewer, "section", section_id, core::FormatTime(clock_.Now()), SoftDeleteSql("sections"), [](core::Stmt&) {},
      "section.delete");
}

Result<Resource> CourseStore::AddResource(const Viewer& viewer, std::string_view section_id, const ResourceInput& in) {
  RELAIS_ASSIGN_OR_RETURN(std::string title, CleanTitle(in.title));
  Resource r;
  r.id = core::NewUuid();
  r.section_id = std::string(section_id);
  r.kind = in.kind;
  r.title = title;
  if (in.kind == "file") {
    if (!in.file_id) return Status::InvalidArgument("a file resource needs 'file_id'");
  } else if (in.kind == "link") {
    std::string url(TrimSpace(CleanText(in.url.value_or(""), kMaxUrl)));
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
      return Status::InvalidArgument("a link must start with http:// or https://");
    if (url.find_first_of(" \n\t\"<>") != std::string::npos)
      return Status::InvalidArgument("a link may not contain spaces, quotes or angle brackets");
    r.url = url;
  } else if (in.kind == "text") {
    std::string body = StripMarkup(in.body.value_or(""), kMaxResourceBody);
    if (body.empty()) return Status::InvalidArgument("a text resource needs 'body'");
    r.body = body;
  } else {
    return Status::InvalidArgument("'kind' must be file, link or text");
  }
  std::string now = core::FormatTime(clock_.Now());
  r.created_at = r.updated_at = now;
  auto db = db_.Writer();
  {
    core::Transaction txn(*db);
    RELAIS_RETURN_IF_ERROR(txn.status());
    RELAIS_ASSIGN_OR_RETURN(std::string class_id, ClassOf(*db, "section", section_id));
    RELAIS_RETURN_IF_ERROR(RequireMemberOf(*db, viewer, class_id, "section"));
    RELAIS_RETURN_IF_ERROR(RequireTeacherOf(*db, viewer, class_id));
    if (in.file_id) RELAIS_RETURN_IF_ERROR(RequireAttachable(*db, viewer, {*in.file_id}));
    if (in.position) {
      r.position = *in.position;
    } else {
      RELAIS_ASSIGN_OR_RETURN(r.position, NextPosition(*db, "resources", "section_id", section_id));
    }
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("INSERT INTO resources (id, section_id, kind, title, file_id, url, body, "
                                              "position, created_at, updated_at, author_id) "
                                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)"));
    q.Bind(1, r.id).Bind(2, r.section_id).Bind(3, r.kind).Bind(4, r.title);
    q.Bind(5, in.kind == "file" ? in.file_id : std::nullopt).Bind(6, r.url).Bind(7, r.body);
    q.Bind(8, r.position).Bind(9, now).Bind(10, viewer.id);
    RELAIS_RETURN_IF_ERROR(q.Run());
    RELAIS_RETURN_IF_ERROR(RecordAudit(*db, &viewer, now, "resource.create", "resource", r.id, r.kind));
    RELAIS_RETURN_IF_ERROR(txn.Commit());
  }
  RELAIS_ASSIGN_OR_RETURN(auto all, LoadResources(*db, section_id));
  for (Resource& x : all)
    if (x.id == r.id) return x;
  return Status::Internal("the new resource vanished");
}

Result<Resource> CourseStore::UpdateResource(const Viewer& viewer, std::string_view resource_id,
                                             const std::optional<std::string>& title, std::optional<int> position) {
  std::optional<std::string> clean;
  if (title) {
    RELAIS_ASSIGN_OR_RETURN(clean, CleanTitle(*title));
  }
  RELAIS_RETURN_IF_ERROR(EditItem(
      db_, viewer, "resource", resource_id, core::FormatTime(clock_.Now()), EditSql("resources"),
      [&](core::Stmt& q) { q.Bind(3, clean).Bind(4, position); }, "resource.edit"));
  auto db = db_.Reader();
  RELAIS_ASSIGN_OR_RETURN(auto s, db->Query("SELECT section_id FROM resources WHERE id = ?1", resource_id));
  RELAIS_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("no such resource");
  RELAIS_ASSIGN_OR_RETURN(auto all, LoadResources(*db, s.Text(0)));
  for (Resource& x : all)
    if (x.id == resource_id) return x;
  return Status::NotFound("no such resource");
}

Status CourseStore::DeleteResource(const Viewer& viewer, std::string_view resource_id) {
  return EditItem(
      db_, viewer, "resource", resource_id, core::FormatTime(clock_.Now()), SoftDeleteSql("resources"),
      [](core::Stmt&) {}, "resource.delete");
}

}  // namespace relais::content

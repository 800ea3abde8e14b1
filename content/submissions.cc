#include "content/submissions.h"

#include <cmath>

#include "content/access.h"
#include "content/audit.h"
#include "content/text.h"
#include "core/crypto.h"

namespace relais::content {
namespace {

constexpr const char* kFileColumns = "f.id, f.sha256, f.size, f.content_type, f.name, f.owner_id, f.created_at";

// Loads a submission with all its versions and feedback (no access check).
Result<Submission> LoadSubmission(core::Db& db, std::string_view id) {
  Submission s;
  {
    RELAIS_ASSIGN_OR_RETURN(
        auto q, db.Query("SELECT s.id, s.homework_id, s.status, s.current_version, s.created_at, s.updated_at, "
                         "u.id, u.login, u.display_name FROM submissions s JOIN users u ON u.id = s.student_id "
                         "WHERE s.id = ?1",
                         id));
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::NotFound("no such submission");
    s.id = q.Text(0);
    s.homework_id = q.Text(1);
    s.status = q.Text(2);
    s.current_version = static_cast<int>(q.Int(3));
    s.created_at = q.Text(4);
    s.updated_at = q.Text(5);
    s.student = {q.Text(6), q.Text(7), q.Text(8), "student"};
  }
  {
    RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT id, version, text, submitted_at, late FROM submission_versions "
                                             "WHERE submission_id = ?1 ORDER BY version DESC",
                                             id));
    while (true) {
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      SubmissionVersion v;
      v.id = q.Text(0);
      v.version = static_cast<int>(q.Int(1));
      v.text = q.Text(2);
      v.submitted_at = q.Text(3);
      v.late = q.Int(4) != 0;
      s.versions.push_back(std::move(v));
    }
  }
  for (SubmissionVersion& v : s.versions) {
    RELAIS_ASSIGN_OR_RETURN(v.files, LoadFiles(db,
                                               std::string("SELECT ") + kFileColumns +
                                                   " FROM submission_files sf JOIN files f ON f.id = sf.file_id "
                                                   "WHERE sf.version_id = ?1 ORDER BY sf.position",
                                               v.id));
  }
  {
    RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT id, comment, grade, returned_at, COALESCE(author_id, '') "
                                             "FROM feedback WHERE submission_id = ?1",
                                             id));
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) {
      Feedback f;
      f.id = q.Text(0);
      f.comment = q.Text(1);
      f.grade = q.OptDouble(2);
      f.returned_at = q.Text(3);
      f.author_id = q.Text(4);
      s.feedback = std::move(f);
    }
  }
  if (s.feedback) {
    RELAIS_ASSIGN_OR_RETURN(s.feedback->files, LoadFiles(db,
                                                         std::string("SELECT ") + kFileColumns +
                                                             " FROM feedback_files ff JOIN files f ON f.id = "
                                                             "ff.file_id WHERE ff.feedback_id = ?1 ORDER BY "
                                                             "ff.position",
                                                         s.feedback->id));
  }
  return s;
}

struct HomeworkRef {
  std::string class_id;
  std::string due_at;
  bool published = false;
};

// The homework, if the viewer can see it (same rules as HomeworkStore).
Result<HomeworkRef> VisibleHomework(core::Db& db, const Viewer& viewer, std::string_view id,
                                    std::optional<std::string>* role) {
  if (!core::IsUuid(id)) return Status::NotFound("no such homework");
  RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT h.class_id, h.due_at, h.published, m.role FROM homework h "
                                           "LEFT JOIN class_members m ON m.class_id = h.class_id AND m.user_id = ?1 "
                                           "WHERE h.id = ?2 AND h.deleted_at IS NULL",
                                           viewer.id, id));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::NotFound("no such homework");
  HomeworkRef h{q.Text(0), q.Text(1), q.Int(2) != 0};
  *role = q.OptText(3);
  bool visible = viewer.role == Role::kAdmin || (*role && (**role == "teacher" || h.published));
  if (!visible) return Status::NotFound("no such homework");
  return h;
}

// The submission, if the viewer may see it: its student, the class's
// teachers, admins.
Result<Submission> LoadVisibleSubmission(core::Db& db, const Viewer& viewer, std::string_view id,
                                         std::string* class_id) {
  if (!core::IsUuid(id)) return Status::NotFound("no such submission");
  RELAIS_ASSIGN_OR_RETURN(Submission s, LoadSubmission(db, id));
  std::optional<std::string> role;
  RELAIS_ASSIGN_OR_RETURN(HomeworkRef h, VisibleHomework(db, viewer, s.homework_id, &role));
  *class_id = h.class_id;
  bool mine = s.student.user_id == viewer.id;
  if (viewer.role != Role::kAdmin && !mine && role != std::optional<std::string>("teacher"))
    return Status::NotFound("no such submission");
  return s;
}

Status InsertFiles(core::Db& db, const std::string& table, const std::string& owner_col, const std::string& owner,
                   const std::vector<std::string>& files) {
  int position = 0;
  for (const std::string& file_id : files) {
    RELAIS_ASSIGN_OR_RETURN(
        auto q, db.Query("INSERT INTO " + table + " (" + owner_col + ", file_id, position) VALUES (?1, ?2, ?3)", owner,
                         file_id, position++));
    RELAIS_RETURN_IF_ERROR(q.Run());
  }
  return Status::Ok();
}

}  // namespace

Result<Submission> SubmissionStore::HandIn(const Viewer& viewer, std::string_view homework_id,
                                           std::string_view raw_text, const std::vector<std::string>& files) {
  std::string text = StripMarkup(raw_text, kMaxSubmissionText);
  if (text.empty() && files.empty()) return Status::InvalidArgument("a hand-in needs a text or at least one file");
  if (files.size() > kMaxSubmissionFiles)
    return Status::InvalidArgument("at most " + std::to_string(kMaxSubmissionFiles) + " files per hand-in");
  int64_t now = clock_.Now();
  std::string now_text = core::FormatTime(now);
  std::string submission_id;
  auto db = db_.Writer();
  {
    core::Transaction txn(*db);
    RELAIS_RETURN_IF_ERROR(txn.status());
    std::optional<std::string> role;
    RELAIS_ASSIGN_OR_RETURN(HomeworkRef h, VisibleHomework(*db, viewer, homework_id, &role));
    // Checked after visibility, so a homework the viewer cannot see is NotFound.
    if (viewer.role != Role::kStudent || role != std::optional<std::string>("student"))
      return Status::PermissionDenied("only the class's students hand in work");
    RELAIS_RETURN_IF_ERROR(RequireAttachable(*db, viewer, files));
    int version = 1;
    {
      RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT id, status, current_version FROM submissions "
                                                "WHERE homework_id = ?1 AND student_id = ?2",
                                                homework_id, viewer.id));
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (row) {
        if (q.Text(1) == "returned")
          return Status::Conflict("the teacher has already returned this work: it can no longer be changed");
        submission_id = q.Text(0);
        version = static_cast<int>(q.Int(2)) + 1;
      }
    }
    if (submission_id.empty()) {
      // One submission per student and homework on every replica.
      submission_id = core::DerivedUuid("submission", {homework_id, viewer.id});
      RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("INSERT INTO submissions (id, homework_id, student_id, status, "
                                                "current_version, created_at, updated_at, author_id) "
                                                "VALUES (?1, ?2, ?3, 'handed_in', 1, ?4, ?4, ?3)",
                                                submission_id, homework_id, viewer.id, now_text));
      RELAIS_RETURN_IF_ERROR(q.Run());
    } else {
      RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("UPDATE submissions SET current_version = ?1, updated_at = ?2 "
                                                "WHERE id = ?3",
                                                version, now_text, submission_id));
      RELAIS_RETURN_IF_ERROR(q.Run());
    }
    bool late = now_text > h.due_at;
    std::string version_id = core::NewUuid();
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("INSERT INTO submission_versions (id, submission_id, version, text, "
                                              "submitted_at, late, created_at, updated_at, author_id) "
                                              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5, ?5, ?7)",
                                              version_id, submission_id, version, text, now_text, late, viewer.id));
    RELAIS_RETURN_IF_ERROR(q.Run());
    RELAIS_RETURN_IF_ERROR(InsertFiles(*db, "submission_files", "version_id", version_id, files));
    RELAIS_RETURN_IF_ERROR(RecordAudit(*db, &viewer, now_text, "submission.hand_in", "submission", submission_id,
                                       "version " + std::to_string(version) + (late ? " late" : "")));
    RELAIS_RETURN_IF_ERROR(txn.Commit());
  }
  return LoadSubmission(*db, submission_id);
}

Result<std::vector<StudentWork>> SubmissionStore::ListForHomework(const Viewer& viewer, std::string_view homework_id) {
  auto db = db_.Reader();
  std::optional<std::string> role;
  RELAIS_ASSIGN_OR_RETURN(HomeworkRef h, VisibleHomework(*db, viewer, homework_id, &role));
  bool teacher = viewer.role == Role::kAdmin || role == std::optional<std::string>("teacher");
  std::string now_text = core::FormatTime(clock_.Now());
  std::vector<StudentWork> out;
  std::vector<std::string> submission_ids;
  {
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT u.id, u.login, u.display_name, s.id FROM class_members m "
                                              "JOIN users u ON u.id = m.user_id "
                                              "LEFT JOIN submissions s ON s.homework_id = ?1 AND s.student_id = u.id "
                                              "WHERE m.class_id = ?2 AND m.role = 'student' AND (?3 OR u.id = ?4) "
                                              "ORDER BY u.display_name COLLATE NOCASE, u.login",
                                              homework_id, h.class_id, teacher, viewer.id));
    while (true) {
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      StudentWork w;
      w.student = {q.Text(0), q.Text(1), q.Text(2), "student"};
      w.status = now_text > h.due_at ? "late" : "todo";
      out.push_back(std::move(w));
      submission_ids.push_back(q.OptText(3).value_or(""));
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (submission_ids[i].empty()) continue;
    RELAIS_ASSIGN_OR_RETURN(Submission s, LoadSubmission(*db, submission_ids[i]));
    out[i].status = s.status;
    out[i].submission = std::move(s);
  }
  return out;
}

Result<Submission> SubmissionStore::Get(const Viewer& viewer, std::string_view submission_id) {
  auto db = db_.Reader();
  std::string class_id;
  return LoadVisibleSubmission(*db, viewer, submission_id, &class_id);
}

Result<Feedback> SubmissionStore::Return(const Viewer& viewer, std::string_view submission_id,
                                         const FeedbackInput& in) {
  if (in.grade && (!std::isfinite(*in.grade) || *in.grade < 0 || *in.grade > 20))
    return Status::InvalidArgument("the grade must be between 0 and 20");
  std::string comment = StripMarkup(in.comment, kMaxComment);
  if (in.files.size() > kMaxSubmissionFiles)
    return Status::InvalidArgument("at most " + std::to_string(kMaxSubmissionFiles) + " files");
  std::string now_text = core::FormatTime(clock_.Now());
  auto db = db_.Writer();
  core::Transaction txn(*db);
  RELAIS_RETURN_IF_ERROR(txn.status());
  std::string class_id;
  RELAIS_ASSIGN_OR_RETURN(Submission s, LoadVisibleSubmission(*db, viewer, submission_id, &class_id));
  RELAIS_RETURN_IF_ERROR(RequireTeacherOf(*db, viewer, class_id));
  RELAIS_RETURN_IF_ERROR(RequireAttachable(*db, viewer, in.files));
  Feedback f;
  f.id = s.feedback ? s.feedback->id : core::DerivedUuid("feedback", {s.id});
  f.comment = comment;
  f.grade = in.grade;
  f.returned_at = now_text;
  f.author_id = viewer.id;
  if (s.feedback) {
    RELAIS_ASSIGN_OR_RETURN(auto del, db->Query("DELETE FROM feedback_files WHERE feedback_id = ?1", f.id));
    RELAIS_RETURN_IF_ERROR(del.Run());
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("UPDATE feedback SET comment = ?1, grade = ?2, returned_at = ?3, "
                                              "updated_at = ?3, author_id = ?4 WHERE id = ?5",
                                              f.comment, f.grade, now_text, viewer.id, f.id));
    RELAIS_RETURN_IF_ERROR(q.Run());
  } else {
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("INSERT INTO feedback (id, submission_id, comment, grade, returned_at, "
                                              "created_at, updated_at, author_id) VALUES (?1, ?2, ?3, ?4, ?5, ?5, "
                                              "?5, ?6)",
                                              f.id, s.id, f.comment, f.grade, now_text, viewer.id));
    RELAIS_RETURN_IF_ERROR(q.Run());
  }
  RELAIS_RETURN_IF_ERROR(InsertFiles(*db, "feedback_files", "feedback_id", f.id, in.files));
  RELAIS_ASSIGN_OR_RETURN(auto up, db->Query("UPDATE submissions SET status = 'returned', updated_at = ?1 "
                                             "WHERE id = ?2",
                                             now_text, s.id));
  RELAIS_RETURN_IF_ERROR(up.Run());
  RELAIS_RETURN_IF_ERROR(RecordAudit(*db, &viewer, now_text, "submission.return", "submission", s.id,
                                     f.grade ? "grade " + std::to_string(*f.grade) : "no grade"));
  RELAIS_RETURN_IF_ERROR(txn.Commit());
  RELAIS_ASSIGN_OR_RETURN(Submission after, LoadSubmission(*db, s.id));
  return *after.feedback;
}

}  // namespace relais::content

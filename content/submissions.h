// content/submissions.h — hand-ins and the teacher's feedback.
//
// One submission per student per homework. Each hand-in adds a version (the
// earlier ones are kept); a student may hand in again until the teacher
// returns the work. A version handed in after the due time is flagged late.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "content/limits.h"
#include "content/types.h"
#include "core/clock.h"
#include "core/db.h"

namespace relais::content {

struct FeedbackInput {
  std::string comment;
  std::optional<double> grade;  // 0 to 20
  std::vector<std::string> files;
};

class SubmissionStore {
 public:
  SubmissionStore(core::DbPool& db, const core::Clock& clock) : db_(db), clock_(clock) {}

  // A student of the homework's class hands in. Conflict once returned;
  // InvalidArgument if both text and files are empty. Durable on return.
  Result<Submission> HandIn(const Viewer& viewer, std::string_view homework_id, std::string_view text,
                            const std::vector<std::string>& files);
  // Teachers (and admins): one row per student of the class, handed in or
  // not. Students: their own row only.
  Result<std::vector<StudentWork>> ListForHomework(const Viewer& viewer, std::string_view homework_id);
  Result<Submission> Get(const Viewer& viewer, std::string_view submission_id);
  // A teacher of the class returns the work with a comment, an optional grade
  // and files. Returning again replaces the feedback.
  Result<Feedback> Return(const Viewer& viewer, std::string_view submission_id, const FeedbackInput& input);

 private:
  core::DbPool& db_;
  const core::Clock& clock_;
};

}  // namespace relais::content

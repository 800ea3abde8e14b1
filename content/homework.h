// content/homework.h — the cahier de textes: homework entries and their attachments.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "content/limits.h"
#include "content/types.h"
#include "core/clock.h"
#include "core/db.h"

namespace relais::content {

struct HomeworkInput {
  std::string class_id;
  std::string subject;
  std::string title;
  std::string instructions;
  int64_t due_at = 0;               // Unix seconds
  std::optional<int64_t> given_at;  // defaults to now
  std::vector<std::string> attachments;
  bool published = false;
};

struct HomeworkPatch {
  std::optional<std::string> subject, title, instructions;
  std::optional<int64_t> due_at;
  std::optional<std::vector<std::string>> attachments;
  std::optional<bool> published;
};

struct HomeworkFilter {
  std::optional<std::string> class_id;
  std::optional<int64_t> from, to;  // due_at window, inclusive
  int limit = 500;
};

class HomeworkStore {
 public:
  HomeworkStore(core::DbPool& db, const core::Clock& clock) : db_(db), clock_(clock) {}

  // Teachers of the class and admins. Attachments must be attachable by the viewer.
  Result<Homework> Create(const Viewer& viewer, const HomeworkInput& input);
  // Visible entries by due date: students get the published entries of their
  // classes, each with their own hand-in status; teachers every entry of the
  // classes they teach; admins all.
  Result<std::vector<Homework>> List(const Viewer& viewer, const HomeworkFilter& filter);
  Result<Homework> Get(const Viewer& viewer, std::string_view id);
  Result<Homework> Update(const Viewer& viewer, std::string_view id, const HomeworkPatch& patch);
  // Soft delete (a tombstone for sync); the entry disappears for everyone.
  Status Delete(const Viewer& viewer, std::string_view id);

 private:
  core::DbPool& db_;
  const core::Clock& clock_;
};

}  // namespace relais::content

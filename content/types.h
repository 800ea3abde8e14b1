// content/types.h — the school's records as plain values.
//
// Times are ISO 8601 UTC text ("2026-11-22T19:30:00Z"). Ids are UUIDs.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace relais::content {

enum class Role { kStudent, kTeacher, kAdmin };
const char* RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

// Who is asking. Every read and write of school data takes a Viewer and
// enforces what that person may see or do.
struct Viewer {
  std::string id;
  std::string login;
  Role role = Role::kStudent;
  std::string address;  // client address, for the audit log
};

struct User {
  std::string id;
  std::string login;
  std::string display_name;
  Role role = Role::kStudent;
  bool disabled = false;
  std::string created_at;
  std::string updated_at;
};

struct ClassInfo {
  std::string id;
  std::string name;
  std::optional<std::string> my_role;  // "student" / "teacher" for the viewer, if a member
  int students = 0;
  int teachers = 0;
  std::string created_at;
  std::string updated_at;
};

struct Member {
  std::string user_id;
  std::string login;
  std::string display_name;
  std::string role;  // in the class: "student" or "teacher"
};

struct FileInfo {
  std::string id;
  std::string sha256;
  uint64_t size = 0;
  std::string content_type;
  std::string name;
  std::string owner_id;
  std::string created_at;
};

struct Homework {
  std::string id;
  std::string class_id;
  std::string class_name;
  std::string subject;
  std::string title;
  std::string instructions;
  std::string given_at;
  std::string due_at;
  bool published = false;
  std::string author_id;
  std::string created_at;
  std::string updated_at;
  std::vector<FileInfo> attachments;
  // For a student viewer: their own hand-in.
  struct Mine {
    std::string status;  // "todo", "handed_in", "returned"
    bool late = false;   // handed in after the due time, or not handed in and overdue
    std::optional<std::string> submission_id;
    std::optional<double> grade;
  };
  std::optional<Mine> mine;
};

struct Feedback {
  std::string id;
  std::string comment;
  std::optional<double> grade;
  std::string returned_at;
  std::string author_id;
  std::vector<FileInfo> files;
};

struct SubmissionVersion {
  std::string id;
  int version = 0;
  std::string text;
  std::string submitted_at;
  bool late = false;
  std::vector<FileInfo> files;
};

struct Submission {
  std::string id;
  std::string homework_id;
  Member student;
  std::string status;  // "handed_in" / "returned"
  int current_version = 0;
  std::string created_at;
  std::string updated_at;
  std::vector<SubmissionVersion> versions;  // newest first
  std::optional<Feedback> feedback;
};

// One row of a teacher's view of a homework: every student of the class, with
// their submission if any.
struct StudentWork {
  Member student;
  std::string status;  // "todo", "late" (not handed in, overdue), "handed_in", "returned"
  std::optional<Submission> submission;
};

}  // namespace relais::content

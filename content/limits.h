// content/limits.h — the lengths and counts a school's data may have.
//
// One home for the limits the box's API, the accounts and content stores and
// the gateway's ENT connectors (hub/ent_publish.cc, hub/ent_upload.cc) check,
// so that what the ENT may publish is exactly what a box accepts. Lengths are
// in bytes of UTF-8. Raising one is safe; lowering one makes existing rows
// invalid on their next edit.
#pragma once

#include <cstddef>

namespace relais::content {

// Accounts and classes.
constexpr size_t kMaxLogin = 64;  // lower-case letters, digits, '.', '_', '-' (ValidateLogin)
constexpr size_t kMinPasswordLength = 6;
constexpr size_t kMaxPasswordLength = 256;
constexpr size_t kMaxDisplayName = 120;
constexpr size_t kMaxClassName = 60;

// Homework (the cahier de textes).
constexpr size_t kMaxTitle = 200;
constexpr size_t kMaxSubject = 80;
constexpr size_t kMaxInstructions = 20000;
constexpr size_t kMaxAttachments = 20;

// Courses, their sections and resources.
constexpr size_t kMaxCourseTitle = 200;
constexpr size_t kMaxUrl = 2000;
constexpr size_t kMaxResourceBody = 50000;

// Submissions and feedback.
constexpr size_t kMaxSubmissionText = 50000;
constexpr size_t kMaxComment = 10000;
constexpr size_t kMaxSubmissionFiles = 20;

// Files.
constexpr size_t kMaxFileName = 200;

}  // namespace relais::content

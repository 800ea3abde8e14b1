// content/access.h — who may see or use what. Shared by the stores; every
// query here runs on the connection (and transaction) the caller holds.
//
// The rules (docs/api.md, "Access"):
//  * admins see and manage everything;
//  * teachers see the classes they teach, all homework of those classes
//    (drafts included), and every submission to it;
//  * students see the classes they belong to, the published homework of
//    those classes, and only their own submissions and feedback;
//  * a file is readable by its owner and by whoever can see a homework,
//    resource, submission or feedback it is attached to.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "content/types.h"
#include "core/db.h"

namespace relais::content {

// The viewer's role in the class ("student"/"teacher"), or nullopt if not a member.
Result<std::optional<std::string>> ClassRole(core::Db& db, std::string_view user_id, std::string_view class_id);

// OK if the viewer teaches the class or is an admin; NotFound if the class
// does not exist or is invisible to the viewer; PermissionDenied if the
// viewer is a student of it.
Status RequireTeacherOf(core::Db& db, const Viewer& viewer, std::string_view class_id);

// True if the viewer may download the file.
Result<bool> CanReadFile(core::Db& db, const Viewer& viewer, std::string_view file_id);

// OK if each id names a file the viewer may attach: one they uploaded, or
// (teachers and admins) one they can read. Otherwise PermissionDenied or
// NotFound naming the first bad id. Duplicates are InvalidArgument.
Status RequireAttachable(core::Db& db, const Viewer& viewer, const std::vector<std::string>& file_ids);

// Reads a FileInfo from the 7 columns id, sha256, size, content_type, name,
// owner_id, created_at starting at column `first`.
FileInfo ReadFileInfo(const core::Stmt& q, int first);

// Runs `sql` (selecting id, sha256, size, content_type, name, owner_id,
// created_at from files) with `key` bound to ?1, and returns the files.
Result<std::vector<FileInfo>> LoadFiles(core::Db& db, std::string_view sql, std::string_view key);

}  // namespace relais::content

// content/accounts.h — users, classes, class membership, sessions, rosters.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "content/limits.h"
#include "content/types.h"
#include "core/clock.h"
#include "core/db.h"

namespace relais::content {

struct NewUser {
  std::string login;
  std::string display_name;  // defaults to the login
  Role role = Role::kStudent;
  std::string password;
  std::optional<std::string> class_name;  // joins this class (which must exist)
};

struct Session {
  std::string token;  // returned once, at creation; only its hash is stored
  Viewer viewer;
  std::string display_name;
  int64_t expires_at = 0;  // Unix seconds
};

struct RosterLine {
  int line = 0;
  std::string login, display_name, role, class_name;
};
struct RosterError {
  int line = 0;
  std::string message;
};
struct RosterReport {
  int created = 0;
  int unchanged = 0;
  int updated = 0;  // display name changed or class joined
  int classes_created = 0;
  // Passwords generated for the accounts created, to hand to their owners.
  std::vector<std::pair<std::string, std::string>> new_passwords;  // login, password
  std::vector<RosterError> errors;                                 // when non-empty, nothing was imported
  std::vector<RosterLine> lines;                                   // the file's lines, as parsed
};

struct UserFilter {
  std::optional<std::string> class_id;
  std::optional<Role> role;
  std::string search;  // part of the login or display name, any case; empty: everyone
  int limit = 1000;
};

// A user with the classes they belong to (that the viewer may see).
struct UserListing {
  User user;
  std::vector<Member> classes;  // user_id holds the class's id, display_name its name, role the role in it
};

class Accounts {
 public:
  Accounts(core::DbPool& db, const core::Clock& clock) : db_(db), clock_(clock) {}

  // Validates and creates a user. `actor` is null for the command line.
  // Conflict if the login is taken; InvalidArgument for a bad login
  // (1–64 of a-z 0-9 . _ -), display name or password.
  Result<User> CreateUser(const Viewer* actor, const NewUser& user);
  // Sets a password and ends the account's sessions (command line: actor null).
  Status SetPassword(const Viewer* actor, std::string_view login, std::string_view password);
  // From the app: an admin resets anyone's password, a teacher those of the
  // students of their classes (others are NotFound). Without `password` a
  // new one is generated. Returns the password now in force.
  Result<std::string> ResetPassword(const Viewer& actor, std::string_view user_id,
                                    const std::optional<std::string>& password);
  // Ends an account (a pupil who left): it can no longer log in, its
  // sessions end and its login cards are revoked. Its work stays. NotFound for an unknown id; ending an ended
  // account changes nothing. (Command line and sync: actor may be null.)
  Status EndAccount(const Viewer* actor, std::string_view user_id);
  Result<std::vector<User>> ListUsers();
  // Accounts by display name. Admins: every account. Teachers: the students
  // of the classes they teach (a class filter they do not teach finds no
  // one). Students: PermissionDenied.
  Result<std::vector<UserListing>> FindUsers(const Viewer& viewer, const UserFilter& filter);
  // Admin only (checked by the caller's route). Changes the display name
  // and/or ends (`disabled` true) or reopens an account. Ending it ends its
  // sessions and revokes its login card, in the same transaction; an admin
  // cannot end their own account (InvalidArgument), so one admin remains.
  Result<User> UpdateUser(const Viewer& actor, std::string_view user_id, const std::optional<std::string>& display_name,
                          std::optional<bool> disabled);
  Result<User> FindUser(std::string_view login);
  Result<User> GetUser(std::string_view id);

  // Checks a login and password; Unauthenticated with one message whether the
  // login exists or not. Hashes outside any database lock.
  Result<User> CheckPassword(std::string_view login, std::string_view password);
  Result<Session> CreateSession(const User& user, int64_t ttl_seconds, std::string_view address);
  // The session for a token, or Unauthenticated if unknown or expired.
  Result<Session> LookupSession(std::string_view token);
  Status DeleteSession(std::string_view token);
  Status RecordLoginFailure(std::string_view login, std::string_view address);

  Result<ClassInfo> CreateClass(const Viewer* actor, std::string_view name);
  Result<ClassInfo> FindClass(std::string_view name);
  // The viewer's classes (all classes for an admin), by name.
  Result<std::vector<ClassInfo>> ClassesOf(const Viewer& viewer);
  // Adds a user to a class: students as students, teachers and admins as
  // teachers. Idempotent. Admin only (checked by the caller's route).
  Result<Member> AddMember(const Viewer* actor, std::string_view class_id, std::string_view user_id);
  // Admin only (checked by the caller's route). Conflict if the name is taken.
  Result<ClassInfo> RenameClass(const Viewer& actor, std::string_view class_id, std::string_view name);
  // Admin only. Deletes a class that never held homework or courses, with its
  // memberships; Conflict otherwise (students' work is never deleted this way).
  Status DeleteClass(const Viewer& actor, std::string_view class_id);
  // Admin only. NotFound if the user is not a member. Their past work stays.
  Status RemoveMember(const Viewer& actor, std::string_view class_id, std::string_view user_id);
  // Members of a class; teachers of the class and admins only.
  Result<std::vector<Member>> Members(const Viewer& viewer, std::string_view class_id);

  // Parses a roster CSV (login, display name, role, class; comma or
  // semicolon separated; an optional header line; quotes allowed) and imports
  // it in one transaction: all lines or none. Idempotent.
  Result<RosterReport> ImportRoster(const Viewer* actor, std::string_view csv);

  // First run. While the box has no administrator, a one-time setup code
  // (printed by `relais serve` and written to DATA/setup-code.txt) lets the
  // technician name the school and create the administrator from the browser.
  // Returns the code, creating it if needed, or nullopt once an admin exists.
  Result<std::optional<std::string>> PrepareSetup();
  // Checks the code and, in one transaction, creates the administrator,
  // records the school's name and retires the code. Conflict if an admin
  // exists already; PermissionDenied for a wrong code.
  Result<User> CompleteSetup(std::string_view code, std::string_view school_name, const NewUser& admin);

  Result<std::string> GetSetting(std::string_view key);  // NotFound if unset
  Status SetSetting(std::string_view key, std::string_view value);

 private:
  Status StorePassword(const Viewer* actor, const User& user, std::string_view password);
  // Ends (sessions and login cards with it) or reopens `user` inside the caller's transaction.
  Status SetDisabled(core::Db& db, const Viewer* actor, const User& user, bool disabled, const std::string& now);
  Result<User> CreateUserLocked(core::Db& db, const Viewer* actor, const NewUser& user, const std::string& hash,
                                const std::string& now);
  core::DbPool& db_;
  const core::Clock& clock_;
};

// Parses a roster file into lines (no database), collecting errors.
std::vector<RosterLine> ParseRoster(std::string_view csv, std::vector<RosterError>* errors);
// A password easy to type on a tablet: 3 groups of lower-case letters and digits.
std::string GeneratePassword();
Status ValidateLogin(std::string_view login);

}  // namespace relais::content

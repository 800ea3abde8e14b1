#include "content/accounts.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "content/access.h"
#include "content/audit.h"
#include "content/ids.h"
#include "content/limits.h"
#include "content/text.h"
#include "core/crypto.h"

namespace relais::content {
namespace {

User ReadUser(const core::Stmt& q) {
  User u;
  u.id = q.Text(0);
  u.login = q.Text(1);
  u.display_name = q.Text(2);
  u.role = ParseRole(q.Text(3)).value_or(Role::kStudent);
  u.disabled = !q.IsNull(4);
  u.created_at = q.Text(5);
  u.updated_at = q.Text(6);
  return u;
}
constexpr const char* kUserColumns = "id, login, display_name, role, disabled_at, created_at, updated_at";

// The user `id` on `db` (a reader, or the writer inside a transaction); NotFound if there is none.
Result<User> LoadUser(core::Db& db, std::string_view id) {
  RELAIS_ASSIGN_OR_RETURN(auto q, db.Query(std::string("SELECT ") + kUserColumns + " FROM users WHERE id = ?1", id));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::NotFound("no such user");
  return ReadUser(q);
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

Status ValidatePassword(std::string_view password) {
  if (password.size() < kMinPasswordLength)
    return Status::InvalidArgument("the password must have at least " + std::to_string(kMinPasswordLength) +
                                   " characters");
  if (password.size() > kMaxPasswordLength) return Status::InvalidArgument("the password is too long");
  return Status::Ok();
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kStudent:
      return "student";
    case Role::kTeacher:
      return "teacher";
    case Role::kAdmin:
      return "admin";
  }
  return "student";
}

std::optional<Role> ParseRole(std::string_view name) {
  std::string n = LowerAscii(name);
  if (n == "student" || n == "eleve" || n == "élève") return Role::kStudent;
  if (n == "teacher" || n == "enseignant" || n == "professeur") return Role::kTeacher;
  if (n == "admin") return Role::kAdmin;
  return std::nullopt;
}

Status ValidateLogin(std::string_view login) {
  if (login.empty() || login.size() > kMaxLogin)
    return Status::InvalidArgument("a login has 1 to " + std::to_string(kMaxLogin) + " characters");
  for (char c : login) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return Status::InvalidArgument("a login may only contain lower-case letters, digits, '.', '_' and '-'");
  }
  return Status::Ok();
}

std::string GeneratePassword() {
  // No 0/o, 1/l/i: young pupils copy these from a printed card.
  static const char kAlphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";
  std::string raw = core::RandomBytes(12);
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (i > 0 && i % 4 == 0) out.push_back('-');
    out.push_back(kAlphabet[static_cast<unsigned char>(raw[i]) % (sizeof kAlphabet - 1)]);
  }
  return out;
}

Result<User> Accounts::CreateUserLocked(core::Db& db, const Viewer* actor, const NewUser& nu, const std::string& hash,
                                        const std::string& now) {
  std::optional<std::string> class_id;
  if (nu.class_name) {
    RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT id FROM classes WHERE name = ?1", *nu.class_name));
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::NotFound("no class named " + *nu.class_name);
    class_id = q.Text(0);
  }
  User u;
  // The login names the person school-wide: the same account created on the
  // box and on the ENT is one row everywhere (docs/sync.md).
  u.id = UserId(nu.login);
  u.login = nu.login;
  u.display_name = nu.display_name.empty() ? nu.login : nu.display_name;
  u.role = nu.role;
  u.created_at = u.updated_at = now;
  {
    RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT 1 FROM users WHERE login = ?1", u.login));
    RELAIS_ASSIGN_OR_RETURN(bool taken, q.Step());
    if (taken) return Status::Conflict("the login " + u.login + " is already taken");
  }
  RELAIS_ASSIGN_OR_RETURN(
      auto ins, db.Query("INSERT INTO users (id, login, display_name, role, password_hash, created_at, updated_at, "
                         "author_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
                         u.id, u.login, u.display_name, RoleName(u.role), hash, now));
  ins.Bind(7, actor ? std::optional<std::string>(actor->id) : std::nullopt);
  RELAIS_RETURN_IF_ERROR(ins.Run());
  RELAIS_RETURN_IF_ERROR(RecordAudit(db, actor, now, "user.create", "user", u.id, u.login));
  if (class_id) {
    RELAIS_ASSIGN_OR_RETURN(
        auto m,
        db.Query("INSERT INTO class_members (id, class_id, user_id, role, created_at, updated_at, author_id) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
                 MemberId(*class_id, u.id), *class_id, u.id, u.role == Role::kStudent ? "student" : "teacher", now));
    m.Bind(6, actor ? std::optional<std::string>(actor->id) : std::nullopt);
    RELAIS_RETURN_IF_ERROR(m.Run());
  }
  return u;
}

namespace {
// Cleans the login and display name, validates them and the password, and
// returns the password's hash (slow: call outside any database lock).
Result<std::string> NormaliseNewUser(NewUser* nu) {
  nu->login = LowerAscii(TrimSpace(nu->login));
  nu->display_name = std::string(TrimSpace(CleanText(nu->display_name, kMaxDisplayName)));
  RELAIS_RETURN_IF_ERROR(ValidateLogin(nu->login));
  RELAIS_RETURN_IF_ERROR(ValidatePassword(nu->password));
  return core::HashPassword(nu->password);
}
}  // namespace

Result<User> Accounts::CreateUser(const Viewer* actor, const NewUser& in) {
  NewUser nu = in;
  RELAIS_ASSIGN_OR_RETURN(std::string hash, NormaliseNewUser(&nu));
  std::string now = core::FormatTime(clock_.Now());
  auto db = db_.Writer();
  core::Transaction txn(*db);
  RELAIS_RETURN_IF_ERROR(txn.status());
  RELAIS_ASSIGN_OR_RETURN(User u, CreateUserLocked(*db, actor, nu, hash, now));
  RELAIS_RETURN_IF_ERROR(txn.Commit());
  return u;
}

Status Accounts::SetDisabled(core::Db& db, const Viewer* actor, const User& u, bool disabled, const std::string& now) {
  RELAIS_ASSIGN_OR_RETURN(auto up, db.Query("UPDATE users SET disabled_at = ?1, updated_at = ?2 WHERE id = ?3"));
  up.Bind(1, disabled ? std::optional<std::string>(now) : std::nullopt).Bind(2, now).Bind(3, u.id);
  RELAIS_RETURN_IF_ERROR(up.Run());
  if (disabled) {
    for (const char* sql : {"DELETE FROM sessions WHERE user_id = ?1", "DELETE FROM login_cards WHERE user_id = ?1"}) {
      RELAIS_ASSIGN_OR_RETURN(auto del, db.Query(sql, u.id));
      RELAIS_RETURN_IF_ERROR(del.Run());
    }
  }
  return RecordAudit(db, actor, now, disabled ? "user.end" : "user.reopen", "user", u.id, u.login);
}

Status Accounts::EndAccount(const Viewer* actor, std::string_view user_id) {
  std::string now = core::FormatTime(clock_.Now());
  auto db = db_.Writer();
  core::Transaction txn(*db);
  RELAIS_RETURN_IF_ERROR(txn.status());
  RELAIS_ASSIGN_OR_RETURN(User u, LoadUser(*db, user_id));
  if (u.disabled) return Status::Ok();
  RELAIS_RETURN_IF_ERROR(SetDisabled(*db, actor, u, true, now));
  return txn.Commit();
}

Status Accounts::SetPassword(const Viewer* actor, std::string_view login, std::string_view password) {
  RELAIS_ASSIGN_OR_RETURN(User user, FindUser(login));
  return StorePassword(actor, user, password);
}

Status Accounts::StorePassword(const Viewer* actor, const User& user, std::string_view password) {
  RELAIS_RETURN_IF_ERROR(ValidatePassword(password));
  RELAIS_ASSIGN_OR_RETURN(std::string hash, core::HashPassword(password));
  std::string now = core::FormatTime(clock_.Now());
  auto db = db_.Writer();
  core::Transaction txn(*db);
  RELAIS_RETURN_IF_ERROR(txn.status());
  RELAIS_ASSIGN_OR_RETURN(
      auto up, db->Query("UPDATE users SET password_hash = ?1, updated_at = ?2 WHERE id = ?3", hash, now, user.id));
  RELAIS_RETURN_IF_ERROR(up.Run());
  if (db->Changes() != 1) return Status::NotFound("no such user");
  // A new password ends every open session of that account, and revokes its login card.
  for (const char* sql : {"DELETE FROM sessions WHERE user_id = ?1", "DELETE FROM login_cards WHERE user_id = ?1"}) {
    RELAIS_ASSIGN_OR_RETURN(auto del, db->Query(sql, user.id));
    RELAIS_RETURN_IF_ERROR(del.Run());
  }
  RELAIS_RETURN_IF_ERROR(RecordAudit(*db, actor, now, "user.password", "user", user.id, user.login));
  return txn.Commit();
}

Result<std::string> Accounts::ResetPassword(const Viewer& actor, std::string_view user_id,
                                            const std::optional<std::string>& password) {
  if (actor.role == Role::kStudent) return Status::PermissionDenied("only teachers and administrators reset passwords");
  if (!core::IsUuid(user_id)) return Status::NotFound("no such user");
  RELAIS_ASSIGN_OR_RETURN(User user, GetUser(user_id));
  if (actor.role == Role::kTeacher) {
    // A teacher resets the passwords of the students of their classes, no one else's.
    auto db = db_.Reader();
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT 1 FROM class_members t JOIN class_members s "
                                              "ON s.class_id = t.class_id AND s.role = 'student' "
                                              "WHERE t.user_id = ?1 AND t.role = 'teacher' AND s.user_id = ?2",
                                              actor.id, user.id));
    RELAIS_ASSIGN_OR_RETURN(bool mine, q.Step());
    if (!mine) return Status::NotFound("no such user");
  }
  std::string chosen = password.value_or(GeneratePassword());
  RELAIS_RETURN_IF_ERROR(StorePassword(&actor, user, chosen));
  return chosen;
}

Result<std::vector<User>> Accounts::ListUsers() {
  auto db = db_.Reader();
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Query(std::string("SELECT ") + kUserColumns + " FROM users ORDER BY login"));
  std::vector<User> out;
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(ReadUser(q));
  }
  return out;
}

Result<std::vector<UserListing>> Accounts::FindUsers(const Viewer& viewer, const UserFilter& filter) {
  if (viewer.role == Role::kStudent) return Status::PermissionDenied("only teachers and administrators list users");
  // Teachers (?4) see the students of the classes they teach, and only those classes.
  std::optional<std::string> teacher;
  if (viewer.role == Role::kTeacher) teacher = viewer.id;
  std::optional<std::string> like;
  if (!filter.search.empty()) {
    std::string pattern = "%";
    for (char c : std::string(TrimSpace(filter.search))) {
      if (c == '%' || c == '_' || c == '\\') pattern.push_back('\\');
      pattern.push_back(c);
    }
    like = pattern + "%";
  }
  auto db = db_.Reader();
  core::ReadTransaction snapshot(*db);
  RELAIS_ASSIGN_OR_RETURN(
      auto q, db->Query(std::string("SELECT ") + kUserColumns +
                        " FROM users u WHERE (?1 IS NULL OR u.role = ?1) "
                        "AND (?2 IS NULL OR EXISTS (SELECT 1 FROM class_members m WHERE m.user_id = u.id AND "
                        "m.class_id = ?2)) "
                        "AND (?3 IS NULL OR u.login LIKE ?3 ESCAPE '\\' OR u.display_name LIKE ?3 ESCAPE '\\') "
                        "AND (?4 IS NULL OR EXISTS (SELECT 1 FROM class_members s JOIN class_members t ON "
                        "t.class_id = s.class_id AND t.user_id = ?4 AND t.role = 'teacher' "
                        "WHERE s.user_id = u.id AND s.role = 'student')) "
                        "ORDER BY u.display_name COLLATE NOCASE, u.login LIMIT ?5"));
  q.Bind(1, filter.role ? std::optional<std::string>(RoleName(*filter.role)) : std::nullopt);
  q.Bind(2, filter.class_id).Bind(3, like).Bind(4, teacher).Bind(5, filter.limit);
  std::vector<UserListing> out;
  std::map<std::string, size_t> index;
  nlohmann::json ids = nlohmann::json::array();
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    index[q.Text(0)] = out.size();
    ids.push_back(q.Text(0));
    out.push_back({ReadUser(q), {}});
  }
  if (out.empty()) return out;
  RELAIS_ASSIGN_OR_RETURN(auto m, db->Query("SELECT m.user_id, c.id, c.name, m.role FROM class_members m "
                                            "JOIN classes c ON c.id = m.class_id "
                                            "WHERE m.user_id IN (SELECT value FROM json_each(?1)) AND (?2 IS NULL OR "
                                            "EXISTS (SELECT 1 FROM class_members t WHERE t.class_id = c.id AND "
                                            "t.user_id = ?2 AND t.role = 'teacher')) ORDER BY c.name",
                                            ids.dump()));
  m.Bind(2, teacher);
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool row, m.Step());
    if (!row) break;
    out[index[m.Text(0)]].classes.push_back({m.Text(1), "", m.Text(2), m.Text(3)});
  }
  return out;
}

Result<User> Accounts::UpdateUser(const Viewer& actor, std::string_view user_id,
                                  const std::optional<std::string>& raw_name, std::optional<bool> disabled) {
  std::optional<std::string> name;
  if (raw_name) {
    name = std::string(TrimSpace(CleanText(*raw_name, kMaxDisplayName + 1)));
    if (name->empty() || name->size() > kMaxDisplayName)
      return Status::InvalidArgument("a display name has 1 to " + std::to_string(kMaxDisplayName) + " characters");
  }
  if (disabled == std::optional<bool>(true) && actor.id == user_id)
    return Status::InvalidArgument("you cannot end your own account");
  std::string now = core::FormatTime(clock_.Now());
  {
    auto db = db_.Writer();
    core::Transaction txn(*db);
    RELAIS_RETURN_IF_ERROR(txn.status());
    RELAIS_ASSIGN_OR_RETURN(User u, LoadUser(*db, user_id));
    if (name && *name != u.display_name) {
      RELAIS_ASSIGN_OR_RETURN(
          auto up, db->Query("UPDATE users SET display_name = ?1, updated_at = ?2 WHERE id = ?3", *name, now, u.id));
      RELAIS_RETURN_IF_ERROR(up.Run());
      RELAIS_RETURN_IF_ERROR(RecordAudit(*db, &actor, now, "user.rename", "user", u.id, *name));
    }
    if (disabled && *disabled != u.disabled) RELAIS_RETURN_IF_ERROR(SetDisabled(*db, &actor, u, *disabled, now));
    RELAIS_RETURN_IF_ERROR(txn.Commit());
  }
  return GetUser(user_id);
}

Result<User> Accounts::FindUser(std::string_view login) {
  auto db = db_.Reader();
  RELAIS_ASSIGN_OR_RETURN(
      auto q, db->Query(std::string("SELECT ") + kUserColumns + " FROM users WHERE login = ?1", LowerAscii(login)));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::NotFound("no user with login " + std::string(login));
  return ReadUser(q);
}

Result<User> Accounts::GetUser(std::string_view id) {
  auto db = db_.Reader();
  return LoadUser(*db, id);
}

Result<User> Accounts::CheckPassword(std::string_view login, std::string_view password) {
  static const Status kWrong = Status::Unauthenticated("wrong login or password");
  if (password.size() > kMaxPasswordLength || login.size() > kMaxLogin) return kWrong;
  User user;
  std::string hash;
  {
    auto db = db_.Reader();
    RELAIS_ASSIGN_OR_RETURN(
        auto q, db->Query(std::string("SELECT ") + kUserColumns + ", password_hash FROM users WHERE login = ?1",
                          LowerAscii(login)));
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) {
      user = ReadUser(q);
      hash = q.Text(7);
    }
  }
  if (hash.empty()) {
    // Spend the same time as for a real account, so timing does not tell
    // which logins exist.
    static const std::string kDummy = core::HashPassword("relais-dummy-password").value();
    (void)core::VerifyPassword(kDummy, password);
    return kWrong;
  }
  if (!core::VerifyPassword(hash, password) || user.disabled) return kWrong;
  return user;
}

Result<Session> Accounts::CreateSession(const User& user, int64_t ttl_seconds, std::string_view address) {
  Session s;
  s.token = core::RandomToken(32);
  s.viewer = Viewer{user.id, user.login, user.role, std::string(address)};
  s.display_name = user.display_name;
  int64_t now = clock_.Now();
  s.expires_at = now + ttl_seconds;
  std::string now_text = core::FormatTime(now);
  auto db = db_.Writer();
  // A session lost to a power cut only means logging in again: do not make a
  // class of 60 logging in together wait for 60 fsyncs in a row.
  core::RelaxedDurability relaxed(*db);
  core::Transaction txn(*db);
  RELAIS_RETURN_IF_ERROR(txn.status());
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) "
                                            "VALUES (?1, ?2, ?3, ?4)"));
  q.BindBlob(1, core::Sha256(s.token)).Bind(2, user.id).Bind(3, now_text).Bind(4, core::FormatTime(s.expires_at));
  RELAIS_RETURN_IF_ERROR(q.Run());
  // Expired sessions are swept as new ones arrive.
  RELAIS_ASSIGN_OR_RETURN(auto sweep, db->Query("DELETE FROM sessions WHERE expires_at < ?1", now_text));
  RELAIS_RETURN_IF_ERROR(sweep.Run());
  RELAIS_RETURN_IF_ERROR(RecordAudit(*db, &s.viewer, now_text, "session.login", "user", user.id));
  RELAIS_RETURN_IF_ERROR(txn.Commit());
  return s;
}

Result<Session> Accounts::LookupSession(std::string_view token) {
  if (token.empty() || token.size() > 128) return Status::Unauthenticated("not logged in");
  auto db = db_.Reader();
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT u.id, u.login, u.role, u.display_name, s.expires_at, "
                                            "u.disabled_at FROM sessions s JOIN users u ON u.id = s.user_id "
                                            "WHERE s.token_hash = ?1"));
  q.BindBlob(1, core::Sha256(token));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row || !q.IsNull(5)) return Status::Unauthenticated("not logged in");
  Session s;
  s.viewer.id = q.Text(0);
  s.viewer.login = q.Text(1);
  s.viewer.role = ParseRole(q.Text(2)).value_or(Role::kStudent);
  s.display_name = q.Text(3);
  s.expires_at = core::ParseTime(q.Text(4)).value_or(0);
  if (s.expires_at <= clock_.Now()) return Status::Unauthenticated("the session has expired");
  return s;
}

Status Accounts::DeleteSession(std::string_view token) {
  auto db = db_.Writer();
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("DELETE FROM sessions WHERE token_hash = ?1"));
  q.BindBlob(1, core::Sha256(token));
  return q.Run();
}

Status Accounts::RecordLoginFailure(std::string_view login, std::string_view address) {
  std::string now = core::FormatTime(clock_.Now());
  Viewer who{"", std::string(login.substr(0, 64)), Role::kStudent, std::string(address)};
  auto db = db_.Writer();
  return RecordAudit(*db, &who, now, "session.login_failed", "user", "");
}

namespace {
Result<ClassInfo> ReadClassRow(core::Stmt& q) {
  ClassInfo c;
  c.id = q.Text(0);
  c.name = q.Text(1);
  c.students = static_cast<int>(q.Int(2));
  c.teachers = static_cast<int>(q.Int(3));
  c.created_at = q.Text(4);
  c.updated_at = q.Text(5);
  c.my_role = q.OptText(6);
  return c;
}
// Conflict if a class has `name`, or has the id derived from it (a class
// renamed from that name keeps its id: docs/sync.md).
Status RequireNewClass(core::Db& db, const std::string& id, const std::string& name) {
  RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT name FROM classes WHERE name = ?1 OR id = ?2", name, id));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::Ok();
  if (LowerAscii(q.Text(0)) == LowerAscii(name)) return Status::Conflict("a class named " + name + " already exists");
  return Status::Conflict("the class " + q.Text(0) + " was once named " + name + ": choose another name");
}

constexpr const char* kClassSelect =
    "SELECT c.id, c.name, "
    "(SELECT COUNT(*) FROM class_members x WHERE x.class_id = c.id AND x.role = 'student'), "
    "(SELECT COUNT(*) FROM class_members x WHERE x.class_id = c.id AND x.role = 'teacher'), "
    "c.created_at, c.updated_at, m.role FROM classes c "
    "LEFT JOIN class_members m ON m.class_id = c.id AND m.user_id = ?1 ";
}  // namespace

Result<ClassInfo> Accounts::CreateClass(const Viewer* actor, std::string_view raw_name) {
  std::string name(TrimSpace(CleanText(raw_name, kMaxClassName + 1)));
  if (name.empty() || name.size() > kMaxClassName)
    return Status::InvalidArgument("a class name has 1 to " + std::to_string(kMaxClassName) + " characters");
  std::string now = core::FormatTime(clock_.Now());
  ClassInfo c;
  c.id = ClassId(name);
  c.name = name;
  c.created_at = c.updated_at = now;
  auto db = db_.Writer();
  core::Transaction txn(*db);
  RELAIS_RETURN_IF_ERROR(txn.status());
  RELAIS_RETURN_IF_ERROR(RequireNewClass(*db, c.id, name));
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("INSERT INTO classes (id, name, created_at, updated_at, author_id) "
                                            "VALUES (?1, ?2, ?3, ?3, ?4)",
                                            c.id, c.name, now));
  q.Bind(4, actor ? std::optional<std::string>(actor->id) : std::nullopt);
  RELAIS_RETURN_IF_ERROR(q.Run());
  RELAIS_RETURN_IF_ERROR(RecordAudit(*db, actor, now, "class.create", "class", c.id, c.name));
  RELAIS_RETURN_IF_ERROR(txn.Commit());
  return c;
}

Result<ClassInfo> Accounts::FindClass(std::string_view name) {
  auto db = db_.Reader();
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Query(std::string(kClassSelect) + "WHERE c.name = ?2", "", name));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::NotFound("no class named " + std::string(name));
  return ReadClassRow(q);
}

Result<std::vector<ClassInfo>> Accounts::ClassesOf(const Viewer& viewer) {
  auto db = db_.Reader();
  std::string sql = std::string(kClassSelect) +
                    (viewer.role == Role::kAdmin ? "ORDER BY c.name" : "WHERE m.role IS NOT NULL ORDER BY c.name");
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Query(sql, viewer.id));
  std::vector<ClassInfo> out;
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    RELAIS_ASSIGN_OR_RETURN(ClassInfo c, ReadClassRow(q));
    out.push_back(std::move(c));
  }
  return out;
}

Result<Member> Accounts::AddMember(const Viewer* actor, std::string_view class_id, std::string_view user_id) {
  std::string now = core::FormatTime(clock_.Now());
  auto db = db_.Writer();
  core::Transaction txn(*db);
  RELAIS_RETURN_IF_ERROR(txn.status());
  {
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT 1 FROM classes WHERE id = ?1", class_id));
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::NotFound("no such class");
  }
  Member m;
  {
    RELAIS_ASSIGN_OR_RETURN(auto q,
                            db->Query("SELECT id, login, display_name, role FROM users WHERE id = ?1", user_id));
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::NotFound("no such user");
    m.user_id = q.Text(0);
    m.login = q.Text(1);
    m.display_name = q.Text(2);
    m.role = q.Text(3) == "student" ? "student" : "teacher";
  }
  RELAIS_ASSIGN_OR_RETURN(auto existing, ClassRole(*db, user_id, class_id));
  if (existing) {
    m.role = *existing;
    return m;  // already a member: nothing to do
  }
  RELAIS_ASSIGN_OR_RETURN(
      auto ins, db->Query("INSERT INTO class_members (id, class_id, user_id, role, created_at, updated_at, author_id) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
                          MemberId(class_id, user_id), class_id, user_id, m.role, now));
  ins.Bind(6, actor ? std::optional<std::string>(actor->id) : std::nullopt);
  RELAIS_RETURN_IF_ERROR(ins.Run());
  RELAIS_RETURN_IF_ERROR(RecordAudit(*db, actor, now, "class.add_member", "class", class_id, m.login));
  RELAIS_RETURN_IF_ERROR(txn.Commit());
  return m;
}

Result<ClassInfo> Accounts::RenameClass(const Viewer& actor, std::string_view class_id, std::string_view raw_name) {
  std::string name(TrimSpace(CleanText(raw_name, kMaxClassName + 1)));
  if (name.empty() || name.size() > kMaxClassName)
    return Status::InvalidArgument("a class name has 1 to " + std::to_string(kMaxClassName) + " characters");
  std::string now = core::FormatTime(clock_.Now());
  {
    auto db = db_.Writer();
    core::Transaction txn(*db);
    RELAIS_RETURN_IF_ERROR(txn.status());
    RELAIS_ASSIGN_OR_RETURN(auto taken,
                            db->Query("SELECT 1 FROM classes WHERE name = ?1 AND id != ?2", name, class_id));
    RELAIS_ASSIGN_OR_RETURN(bool is_taken, taken.Step());
    if (is_taken) return Status::Conflict("a class named " + name + " already exists");
    RELAIS_ASSIGN_OR_RETURN(
        auto up, db->Query("UPDATE classes SET name = ?1, updated_at = ?2 WHERE id = ?3", name, now, class_id));
    RELAIS_RETURN_IF_ERROR(up.Run());
    if (db->Changes() != 1) return Status::NotFound("no such class");
    RELAIS_RETURN_IF_ERROR(RecordAudit(*db, &actor, now, "class.rename", "class", class_id, name));
    RELAIS_RETURN_IF_ERROR(txn.Commit());
  }
  auto db = db_.Reader();
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Query(std::string(kClassSelect) + "WHERE c.id = ?2", actor.id, class_id));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::NotFound("no such class");
  return ReadClassRow(q);
}

Status Accounts::DeleteClass(const Viewer& actor, std::string_view class_id) {
  std::string now = core::FormatTime(clock_.Now());
  auto db = db_.Writer();
  core::Transaction txn(*db);
  RELAIS_RETURN_IF_ERROR(txn.status());
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT name, EXISTS (SELECT 1 FROM homework WHERE class_id = ?1) OR "
                                            "EXISTS (SELECT 1 FROM courses WHERE class_id = ?1) FROM classes "
                                            "WHERE id = ?1",
                                            class_id));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::NotFound("no such class");
  std::string name = q.Text(0);
  if (q.Int(1) != 0)
    return Status::Conflict("the class " + name +
                            " has homework or courses: remove its members instead, its work is kept");
  for (const char* sql : {"DELETE FROM login_cards WHERE class_id = ?1",
                          "DELETE FROM class_members WHERE class_id = ?1", "DELETE FROM classes WHERE id = ?1"}) {
    RELAIS_ASSIGN_OR_RETURN(auto del, db->Query(sql, class_id));
    RELAIS_RETURN_IF_ERROR(del.Run());
  }
  RELAIS_RETURN_IF_ERROR(RecordAudit(*db, &actor, now, "class.delete", "class", class_id, name));
  return txn.Commit();
}

Status Accounts::RemoveMember(const Viewer& actor, std::string_view class_id, std::string_view user_id) {
  std::string now = core::FormatTime(clock_.Now());
  auto db = db_.Writer();
  core::Transaction txn(*db);
  RELAIS_RETURN_IF_ERROR(txn.status());
  RELAIS_ASSIGN_OR_RETURN(
      auto del, db->Query("DELETE FROM class_members WHERE class_id = ?1 AND user_id = ?2", class_id, user_id));
  RELAIS_RETURN_IF_ERROR(del.Run());
  if (db->Changes() != 1) return Status::NotFound("no such member of this class");
  RELAIS_ASSIGN_OR_RETURN(auto card,
                          db->Query("DELETE FROM login_cards WHERE class_id = ?1 AND user_id = ?2", class_id, user_id));
  RELAIS_RETURN_IF_ERROR(card.Run());
  RELAIS_RETURN_IF_ERROR(RecordAudit(*db, &actor, now, "class.remove_member", "class", class_id, user_id));
  return txn.Commit();
}

Result<std::vector<Member>> Accounts::Members(const Viewer& viewer, std::string_view class_id) {
  auto db = db_.Reader();
  RELAIS_RETURN_IF_ERROR(RequireTeacherOf(*db, viewer, class_id));
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT u.id, u.login, u.display_name, m.role FROM class_members m "
                                            "JOIN users u ON u.id = m.user_id WHERE m.class_id = ?1 "
                                            "ORDER BY m.role DESC, u.display_name COLLATE NOCASE, u.login",
                                            class_id));
  std::vector<Member> out;
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({q.Text(0), q.Text(1), q.Text(2), q.Text(3)});
  }
  return out;
}

// --- Rosters -----------------------------------------------------------------

namespace {

// Splits one CSV record with `sep`, honouring "quoted, fields" and "" escapes.
bool SplitCsv(std::string_view line, char sep, std::vector<std::string>* out) {
  out->clear();
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == sep) {
      out->push_back(std::string(TrimSpace(field)));
      field.clear();
    } else {
      field.push_back(c);
    }
  }
  out->push_back(std::string(TrimSpace(field)));
  return !quoted;
}

}  // namespace

std::vector<RosterLine> ParseRoster(std::string_view csv, std::vector<RosterError>* errors) {
  std::vector<RosterLine> lines;
  if (csv.substr(0, 3) == "\xEF\xBB\xBF") csv.remove_prefix(3);  // a BOM from a spreadsheet
  if (!IsValidUtf8(csv)) {
    errors->push_back({0, "the file is not UTF-8 text"});
    return lines;
  }
  std::map<std::string, int> seen;
  int number = 0;
  std::vector<std::string> fields;
  while (!csv.empty()) {
    size_t end = csv.find('\n');
    std::string_view raw = csv.substr(0, end);
    csv = end == std::string_view::npos ? std::string_view() : csv.substr(end + 1);
    ++number;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    if (TrimSpace(raw).empty() || raw[0] == '#') continue;
    char sep = raw.find(';') != std::string_view::npos ? ';' : ',';
    if (!SplitCsv(raw, sep, &fields)) {
      errors->push_back({number, "unterminated quote"});
      continue;
    }
    if (lines.empty() && !fields.empty() && LowerAscii(fields[0]) == "login") continue;  // header
    if (fields.size() != 4) {
      errors->push_back(
          {number, "expected 4 fields (login, display name, role, class), found " + std::to_string(fields.size())});
      continue;
    }
    RosterLine l{number, LowerAscii(fields[0]), fields[1], LowerAscii(fields[2]), fields[3]};
    if (Status st = ValidateLogin(l.login); !st.ok()) {
      errors->push_back({number, st.message()});
      continue;
    }
    auto role = ParseRole(l.role);
    if (!role || *role == Role::kAdmin) {
      errors->push_back({number, "the role must be student or teacher, not '" + fields[2] + "'"});
      continue;
    }
    l.role = RoleName(*role);
    if (l.display_name.empty() || l.display_name.size() > kMaxDisplayName) {
      errors->push_back({number, "the display name must have 1 to 120 characters"});
      continue;
    }
    if (l.class_name.empty() || l.class_name.size() > kMaxClassName) {
      errors->push_back({number, "the class name must have 1 to 60 characters"});
      continue;
    }
    std::string key = l.login + "\n" + LowerAscii(l.class_name);
    if (auto it = seen.find(key); it != seen.end()) {
      errors->push_back({number, "same login and class as line " + std::to_string(it->second)});
      continue;
    }
    seen.emplace(key, number);
    lines.push_back(std::move(l));
  }
  if (lines.empty() && errors->empty()) errors->push_back({0, "the file has no roster lines"});
  return lines;
}

Result<RosterReport> Accounts::ImportRoster(const Viewer* actor, std::string_view csv) {
  RosterReport report;
  report.lines = ParseRoster(csv, &report.errors);
  const std::vector<RosterLine>& lines = report.lines;
  if (!report.errors.empty()) return report;

  // Hash passwords for new accounts before taking the write lock: hashing is slow.
  std::map<std::string, std::pair<std::string, std::string>> fresh;  // login → (password, hash)
  {
    std::vector<std::string> logins;
    {
      auto db = db_.Reader();
      for (const RosterLine& l : lines) {
        RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT role FROM users WHERE login = ?1", l.login));
        RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
        if (row && q.Text(0) != l.role && !(q.Text(0) == "admin" && l.role == "teacher"))
          report.errors.push_back({l.line, "the account " + l.login + " exists with the role " + q.Text(0)});
        if (!row && !fresh.count(l.login)) {
          fresh[l.login];
          logins.push_back(l.login);
        }
      }
    }
    if (!report.errors.empty()) return report;
    for (const std::string& login : logins) {
      std::string password = GeneratePassword();
      RELAIS_ASSIGN_OR_RETURN(std::string hash, core::HashPassword(password));
      fresh[login] = {password, hash};
    }
  }

  std::string now = core::FormatTime(clock_.Now());
  auto db = db_.Writer();
  core::Transaction txn(*db);
  RELAIS_RETURN_IF_ERROR(txn.status());
  std::map<std::string, std::string> class_ids;  // lower-case name → id
  for (const RosterLine& l : lines) {
    std::string key = LowerAscii(l.class_name);
    if (!class_ids.count(key)) {
      RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT id FROM classes WHERE name = ?1", l.class_name));
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (row) {
        class_ids[key] = q.Text(0);
      } else {
        std::string id = ClassId(l.class_name);
        RELAIS_RETURN_IF_ERROR(RequireNewClass(*db, id, l.class_name));
        RELAIS_ASSIGN_OR_RETURN(auto ins, db->Query("INSERT INTO classes (id, name, created_at, updated_at, author_id) "
                                                    "VALUES (?1, ?2, ?3, ?3, ?4)",
                                                    id, l.class_name, now));
        ins.Bind(4, actor ? std::optional<std::string>(actor->id) : std::nullopt);
        RELAIS_RETURN_IF_ERROR(ins.Run());
        RELAIS_RETURN_IF_ERROR(RecordAudit(*db, actor, now, "class.create", "class", id, l.class_name));
        class_ids[key] = id;
        ++report.classes_created;
      }
    }
    const std::string& class_id = class_ids[key];
    std::string user_id;
    bool changed = false;
    {
      RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT id, display_name FROM users WHERE login = ?1", l.login));
      RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
      if (row) {
        user_id = q.Text(0);
        if (q.Text(1) != l.display_name) {
          RELAIS_ASSIGN_OR_RETURN(auto up, db->Query("UPDATE users SET display_name = ?1, updated_at = ?2 "
                                                     "WHERE id = ?3",
                                                     l.display_name, now, user_id));
          RELAIS_RETURN_IF_ERROR(up.Run());
          changed = true;
        }
      }
    }
    if (user_id.empty()) {
      auto it = fresh.find(l.login);
      if (it == fresh.end() || it->second.second.empty())
        return Status::Conflict("the account " + l.login + " appeared during the import: try again");
      NewUser nu{l.login, l.display_name, *ParseRole(l.role), "", std::nullopt};
      RELAIS_ASSIGN_OR_RETURN(User u, CreateUserLocked(*db, actor, nu, it->second.second, now));
      user_id = u.id;
      report.new_passwords.emplace_back(l.login, it->second.first);
      it->second.second.clear();  // created now; a second class line only adds membership
      ++report.created;
    }
    RELAIS_ASSIGN_OR_RETURN(auto role, ClassRole(*db, user_id, class_id));
    if (!role) {
      RELAIS_ASSIGN_OR_RETURN(
          auto m,
          db->Query("INSERT INTO class_members (id, class_id, user_id, role, created_at, updated_at, "
                    "author_id) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
                    MemberId(class_id, user_id), class_id, user_id, l.role == "student" ? "student" : "teacher", now));
      m.Bind(6, actor ? std::optional<std::string>(actor->id) : std::nullopt);
      RELAIS_RETURN_IF_ERROR(m.Run());
      changed = true;
    }
    bool was_created = !report.new_passwords.empty() && report.new_passwords.back().first == l.login;
    if (!was_created) {
      if (changed)
        ++report.updated;
      else
        ++report.unchanged;
    }
  }
  RELAIS_RETURN_IF_ERROR(
      RecordAudit(*db, actor, now, "roster.import", "roster", "", std::to_string(lines.size()) + " lines"));
  RELAIS_RETURN_IF_ERROR(txn.Commit());
  return report;
}

namespace {
Result<bool> AdminExists(core::Db& db) {
  RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT 1 FROM users WHERE role = 'admin' AND disabled_at IS NULL"));
  return q.Step();
}
}  // namespace

Result<std::optional<std::string>> Accounts::PrepareSetup() {
  auto db = db_.Writer();
  core::Transaction txn(*db);
  RELAIS_RETURN_IF_ERROR(txn.status());
  RELAIS_ASSIGN_OR_RETURN(bool has_admin, AdminExists(*db));
  if (has_admin) return std::optional<std::string>();
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT value FROM settings WHERE key = 'setup_code'"));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  if (row) return std::optional<std::string>(q.Text(0));
  std::string code = GeneratePassword();
  RELAIS_ASSIGN_OR_RETURN(auto ins, db->Query("INSERT INTO settings (key, value) VALUES ('setup_code', ?1)", code));
  RELAIS_RETURN_IF_ERROR(ins.Run());
  RELAIS_RETURN_IF_ERROR(txn.Commit());
  return std::optional<std::string>(code);
}

Result<User> Accounts::CompleteSetup(std::string_view code, std::string_view raw_school, const NewUser& in) {
  std::string school(TrimSpace(CleanText(raw_school, 200)));
  if (school.empty()) return Status::InvalidArgument("the school's name is required");
  NewUser nu = in;
  nu.role = Role::kAdmin;
  nu.class_name.reset();
  RELAIS_ASSIGN_OR_RETURN(std::string hash, NormaliseNewUser(&nu));
  std::string now = core::FormatTime(clock_.Now());
  auto db = db_.Writer();
  core::Transaction txn(*db);
  RELAIS_RETURN_IF_ERROR(txn.status());
  RELAIS_ASSIGN_OR_RETURN(bool has_admin, AdminExists(*db));
  if (has_admin) return Status::Conflict("this box is already set up");
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT value FROM settings WHERE key = 'setup_code'"));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  std::string expected = row ? q.Text(0) : "";
  std::string given(TrimSpace(code));
  if (expected.empty() || !core::ConstantTimeEqual(LowerAscii(given), expected))
    return Status::PermissionDenied("wrong setup code");
  RELAIS_ASSIGN_OR_RETURN(User admin, CreateUserLocked(*db, nullptr, nu, hash, now));
  RELAIS_ASSIGN_OR_RETURN(auto set, db->Query("INSERT INTO settings (key, value) VALUES ('school_name', ?1) "
                                              "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                              school));
  RELAIS_RETURN_IF_ERROR(set.Run());
  RELAIS_ASSIGN_OR_RETURN(auto del, db->Query("DELETE FROM settings WHERE key = 'setup_code'"));
  RELAIS_RETURN_IF_ERROR(del.Run());
  RELAIS_RETURN_IF_ERROR(RecordAudit(*db, nullptr, now, "setup.complete", "user", admin.id, school));
  RELAIS_RETURN_IF_ERROR(txn.Commit());
  return admin;
}

Result<std::string> Accounts::GetSetting(std::string_view key) {
  auto db = db_.Reader();
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT value FROM settings WHERE key = ?1", key));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::NotFound("no setting " + std::string(key));
  return q.Text(0);
}

Status Accounts::SetSetting(std::string_view key, std::string_view value) {
  auto db = db_.Writer();
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("INSERT INTO settings (key, value) VALUES (?1, ?2) "
                                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                            key, value));
  return q.Run();
}

}  // namespace relais::content

#include "content/login_cards.h"

#include <set>

#include "content/access.h"
#include "content/audit.h"
#include "core/crypto.h"

namespace relais::content {

namespace {

constexpr size_t kCardTokenBytes = 16;  // 22 characters: a small QR code, 128 bits

// The class's students who can hold a card (not ended), in the class list's
// order, each with the time their card for the class was issued ("" if none).
Result<std::vector<LoginCard>> StudentsOf(core::Db& db, std::string_view class_id) {
  RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("SELECT u.id, u.login, u.display_name, c.created_at FROM class_members m "
                                           "JOIN users u ON u.id = m.user_id "
                                           "LEFT JOIN login_cards c ON c.user_id = u.id AND c.class_id = m.class_id "
                                           "WHERE m.class_id = ?1 AND m.role = 'student' AND u.role = 'student' "
                                           "AND u.disabled_at IS NULL "
                                           "ORDER BY u.display_name COLLATE NOCASE, u.login",
                                           class_id));
  std::vector<LoginCard> out;
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({{q.Text(0), q.Text(1), q.Text(2), "student"}, "", q.OptText(3).value_or("")});
  }
  return out;
}

}  // namespace

Result<std::vector<LoginCard>> LoginCards::Issue(const Viewer& viewer, std::string_view class_id,
                                                 const std::vector<std::string>& user_ids) {
  std::set<std::string> wanted(user_ids.begin(), user_ids.end());
  std::string now = core::FormatTime(clock_.Now());
  auto db = db_.Writer();
  core::Transaction txn(*db);
  RELAIS_RETURN_IF_ERROR(txn.status());
  RELAIS_RETURN_IF_ERROR(RequireTeacherOf(*db, viewer, class_id));
  RELAIS_ASSIGN_OR_RETURN(std::vector<LoginCard> students, StudentsOf(*db, class_id));
  std::vector<LoginCard> cards;
  for (LoginCard& card : students) {
    if (!wanted.empty() && !wanted.count(card.student.user_id)) continue;
    card.issued_at = now;
    cards.push_back(std::move(card));
  }
  if (cards.size() != wanted.size() && !wanted.empty())
    return Status::NotFound("a user_id is not a student of this class");
  for (LoginCard& card : cards) {
    card.token = core::RandomToken(kCardTokenBytes);
    RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("INSERT INTO login_cards (user_id, class_id, token_hash, created_at, "
                                              "author_id) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (user_id, class_id) "
                                              "DO UPDATE SET token_hash = excluded.token_hash, "
                                              "created_at = excluded.created_at, author_id = excluded.author_id"));
    q.Bind(1, card.student.user_id).Bind(2, class_id).BindBlob(3, core::Sha256(card.token)).Bind(4, now);
    q.Bind(5, viewer.id);
    RELAIS_RETURN_IF_ERROR(q.Run());
  }
  RELAIS_RETURN_IF_ERROR(
      RecordAudit(*db, &viewer, now, "class.login_cards", "class", class_id, std::to_string(cards.size()) + " cards"));
  RELAIS_RETURN_IF_ERROR(txn.Commit());
  return cards;
}

Result<std::vector<LoginCard>> LoginCards::List(const Viewer& viewer, std::string_view class_id) {
  auto db = db_.Reader();
  core::ReadTransaction snapshot(*db);
  RELAIS_RETURN_IF_ERROR(RequireTeacherOf(*db, viewer, class_id));
  return StudentsOf(*db, class_id);
}

Result<User> LoginCards::Redeem(std::string_view token) {
  static const Status kInvalid = Status::Unauthenticated("this login card is not valid (any more)");
  if (token.empty() || token.size() > 64) return kInvalid;
  auto db = db_.Reader();
  RELAIS_ASSIGN_OR_RETURN(auto q, db->Query("SELECT u.id, u.login, u.display_name, u.role, u.created_at, u.updated_at "
                                            "FROM login_cards c JOIN users u ON u.id = c.user_id "
                                            "JOIN class_members m ON m.class_id = c.class_id AND m.user_id = u.id "
                                            "AND m.role = 'student' "
                                            "WHERE c.token_hash = ?1 AND u.disabled_at IS NULL"));
  q.BindBlob(1, core::Sha256(token));
  RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row || q.Text(3) != "student") return kInvalid;
  User u;
  u.id = q.Text(0);
  u.login = q.Text(1);
  u.display_name = q.Text(2);
  u.role = Role::kStudent;
  u.created_at = q.Text(4);
  u.updated_at = q.Text(5);
  return u;
}

}  // namespace relais::content

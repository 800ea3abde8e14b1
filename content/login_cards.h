// content/login_cards.h — printed login cards: a QR code that logs a student in.
//
// A card carries a random token (128 bits, URL-safe base64); the database
// keeps only its SHA-256 (migration 0003). A student has at most one live
// card per class, so each class's teacher may print their own. Issuing
// replaces the class's old cards, since their tokens cannot be shown again: a
// teacher who prints the same page twice prints the same cards, but a teacher
// who issues again revokes the first print. Resetting a password or ending an
// account revokes all its cards, leaving a class that class's card
// (content/accounts.cc); a card works only while its student is in its class.
// Only students get cards: a card is a password anyone holding the paper can
// use, acceptable for a pupil's account, not for a teacher's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "content/types.h"
#include "core/clock.h"
#include "core/db.h"

namespace relais::content {

struct LoginCard {
  Member student;
  std::string token;  // shown once, at issue; only its hash is stored
  std::string issued_at;
};

class LoginCards {
 public:
  LoginCards(core::DbPool& db, const core::Clock& clock) : db_(db), clock_(clock) {}

  // Issues a new card to every student of the class, or only to `user_ids`
  // (each must be a student of the class: NotFound otherwise), revoking their
  // previous cards, in one transaction. Teachers of the class and admins;
  // NotFound for a class the viewer cannot see, PermissionDenied for its
  // students. Cards come back in the class list's order (name, then login).
  Result<std::vector<LoginCard>> Issue(const Viewer& viewer, std::string_view class_id,
                                       const std::vector<std::string>& user_ids);

  // Every student of the class with the time their card for this class was
  // issued ("" when they have none), in the class list's order; `token` is
  // always empty. Same access as Issue. Lets the app warn before issuing
  // again revokes cards already printed.
  Result<std::vector<LoginCard>> List(const Viewer& viewer, std::string_view class_id);

  // The account a card logs in. Unauthenticated, with one message, when the
  // token is malformed, unknown or revoked, the account is ended, or it is no
  // longer a student of the card's class.
  Result<User> Redeem(std::string_view token);

 private:
  core::DbPool& db_;
  const core::Clock& clock_;
};

}  // namespace relais::content

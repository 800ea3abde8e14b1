// content/ids.h — the ids derived from a school's natural keys.
//
// A user, a class and a class membership are created independently on the
// box (an administrator, a roster import), by the gateway (an ENT
// publication, hub/ent_publish.h) and on another replica of the same school.
// Each gets an id derived from its natural key (core::DerivedUuid: a version-8
// UUID from the SHA-256 of a kind and the key), so that two creations of
// "the same" row are one row once the replicas sync.
//
// These functions must never change what they return for an input: every id
// already stored on a box, in a gateway's log and in a bundle in flight was
// computed by them, and a change would make the next creation of an existing
// user or class a second row (tests/content/ids_test.cc pins them).
#pragma once

#include <string>
#include <string_view>

namespace relais::content {

// The id of the account with this login (a login is lower case already,
// content::ValidateLogin; the login is used as given).
std::string UserId(std::string_view login);
// The id of the class with this name; names differing only in ASCII case are
// one class ("5e B" and "5e b").
std::string ClassId(std::string_view class_name);
// The id of `user_id`'s membership of `class_id` (one per pair, whatever the role).
std::string MemberId(std::string_view class_id, std::string_view user_id);

}  // namespace relais::content

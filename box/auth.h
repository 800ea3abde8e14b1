// box/auth.h — who is calling: sessions (with an in-memory cache in front
// of the database) and login throttling.
#pragma once

#include <httplib.h>

#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "content/accounts.h"
#include "core/clock.h"

namespace relais::box {

constexpr const char* kSessionCookie = "relais_session";

// Resolves tokens to sessions. Entries are re-checked against the database
// every `recheck_ms`, and at once when `outside_generation` (may be empty)
// has moved since: the database's writes made behind this process's back
// (core::DbPool::outside_generation: `relais sync` or `relais user` run
// while the server runs, a sync bundle applied), so a session ended or an
// account disabled there stops working at the next request. Sessions ended
// through this process stop at once. Thread-safe.
class SessionCache {
 public:
  SessionCache(content::Accounts& accounts, const core::Clock& clock, int64_t recheck_ms = 30000,
               std::function<uint64_t()> outside_generation = {})
      : accounts_(accounts),
        clock_(clock),
        recheck_ms_(recheck_ms),
        outside_generation_(std::move(outside_generation)) {}

  // The token from the Authorization: Bearer header, else from the cookie.
  static std::string TokenOf(const httplib::Request& req);
  Result<content::Session> Lookup(const std::string& token);
  void Forget(const std::string& token);
  void ForgetUser(const std::string& user_id);
  size_t size() const;
  // How many accounts made a request with a valid session in the last `window_ms`.
  size_t ActiveUsers(int64_t window_ms) const;

 private:
  Result<content::Session> LookupUnseen(const std::string& token);
  struct Entry {
    content::Session session;
    int64_t checked_ms;
    uint64_t generation;  // outside_generation_() when checked
  };
  uint64_t Generation() const { return outside_generation_ ? outside_generation_() : 0; }
  content::Accounts& accounts_;
  const core::Clock& clock_;
  int64_t recheck_ms_;
  std::function<uint64_t()> outside_generation_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // key: SHA-256 of the token
  mutable std::mutex seen_mu_;
  std::unordered_map<std::string, int64_t> seen_ms_;  // user id → last request (monotonic ms)
};

// Slows down password guessing. Per account: after `per_account` failures in
// a row the account is locked for 30 s, doubling with each further failure up
// to 15 minutes; a success resets it. Per address: at most `per_address`
// failures in 15 minutes. Thread-safe; memory is bounded.
class LoginThrottle {
 public:
  LoginThrottle(const core::Clock& clock, int per_account, int per_address)
      : clock_(clock), per_account_(per_account), per_address_(per_address) {}
  // OK, or RateLimited with *retry_after_s set.
  Status Check(const std::string& login, const std::string& address, int64_t* retry_after_s);
  void Failure(const std::string& login, const std::string& address);
  void Success(const std::string& login);

 private:
  struct Account {
    int failures = 0;
    int64_t locked_until_ms = 0;
  };
  struct Address {
    int failures = 0;
    int64_t window_start_ms = 0;
  };
  const core::Clock& clock_;
  int per_account_;
  int per_address_;
  std::mutex mu_;
  std::unordered_map<std::string, Account> accounts_;
  std::unordered_map<std::string, Address> addresses_;
};

}  // namespace relais::box

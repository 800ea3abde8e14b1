#include "box/auth.h"

#include <algorithm>

#include "core/crypto.h"
#include "http/http_util.h"

namespace relais::box {

std::string SessionCache::TokenOf(const httplib::Request& req) {
  auto it = req.headers.find("Authorization");
  if (it != req.headers.end()) {
    std::string_view v = it->second;
    if (v.size() > 7 && (v.substr(0, 7) == "Bearer " || v.substr(0, 7) == "bearer ")) return std::string(v.substr(7));
  }
  return http::GetCookie(req, kSessionCookie);
}

Result<content::Session> SessionCache::Lookup(const std::string& token) {
  auto session = LookupUnseen(token);
  if (session.ok()) {
    std::lock_guard lock(seen_mu_);
    if (seen_ms_.size() > 100000) seen_ms_.clear();  // bound memory
    seen_ms_[session->viewer.id] = clock_.MonotonicMs();
  }
  return session;
}

Result<content::Session> SessionCache::LookupUnseen(const std::string& token) {
  if (token.empty()) return Status::Unauthenticated("log in first");
  std::string key = core::Sha256(token);
  int64_t now_ms = clock_.MonotonicMs();
  uint64_t generation = Generation();  // read before the check: a write during it makes the next one recheck
  {
    std::shared_lock lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && now_ms - it->second.checked_ms < recheck_ms_ && it->second.generation == generation) {
      if (it->second.session.expires_at > clock_.Now()) return it->second.session;
    }
  }
  auto session = accounts_.LookupSession(token);
  std::unique_lock lock(mu_);
  if (!session.ok()) {
    entries_.erase(key);
    return session.status();
  }
  if (entries_.size() > 100000) entries_.clear();  // bound memory; entries reload on demand
  entries_[key] = Entry{*session, now_ms, generation};
  return session;
}

size_t SessionCache::ActiveUsers(int64_t window_ms) const {
  int64_t since = clock_.MonotonicMs() - window_ms;
  std::lock_guard lock(seen_mu_);
  return std::count_if(seen_ms_.begin(), seen_ms_.end(), [&](const auto& kv) { return kv.second >= since; });
}

void SessionCache::Forget(const std::string& token) {
  std::unique_lock lock(mu_);
  entries_.erase(core::Sha256(token));
}

void SessionCache::ForgetUser(const std::string& user_id) {
  std::unique_lock lock(mu_);
  std::erase_if(entries_, [&](const auto& kv) { return kv.second.session.viewer.id == user_id; });
}

size_t SessionCache::size() const {
  std::shared_lock lock(mu_);
  return entries_.size();
}

Status LoginThrottle::Check(const std::string& login, const std::string& address, int64_t* retry_after_s) {
  int64_t now = clock_.MonotonicMs();
  std::lock_guard lock(mu_);
  if (auto it = accounts_.find(login); it != accounts_.end() && it->second.locked_until_ms > now) {
    *retry_after_s = (it->second.locked_until_ms - now + 999) / 1000;
    return Status::RateLimited("too many failed attempts for this account: try again in " +
                               std::to_string(*retry_after_s) + " s");
  }
  constexpr int64_t kWindowMs = 15 * 60 * 1000;
  if (auto it = addresses_.find(address); it != addresses_.end()) {
    if (now - it->second.window_start_ms >= kWindowMs) {
      addresses_.erase(it);
    } else if (it->second.failures >= per_address_) {
      *retry_after_s = (it->second.window_start_ms + kWindowMs - now + 999) / 1000;
      return Status::RateLimited("too many failed attempts from this device: try again in " +
                                 std::to_string(*retry_after_s) + " s");
    }
  }
  return Status::Ok();
}

void LoginThrottle::Failure(const std::string& login, const std::string& address) {
  int64_t now = clock_.MonotonicMs();
  std::lock_guard lock(mu_);
  if (accounts_.size() > 50000) accounts_.clear();
  if (addresses_.size() > 50000) addresses_.clear();
  Account& a = accounts_[login];
  ++a.failures;
  if (a.failures >= per_account_) {
    int doublings = std::min(a.failures - per_account_, 5);
    int64_t lock_ms = std::min<int64_t>(30000LL << doublings, 15 * 60 * 1000);
    a.locked_until_ms = now + lock_ms;
  }
  Address& ad = addresses_[address];
  if (ad.failures == 0) ad.window_start_ms = now;
  ++ad.failures;
}

void LoginThrottle::Success(const std::string& login) {
  std::lock_guard lock(mu_);
  accounts_.erase(login);
}

}  // namespace relais::box

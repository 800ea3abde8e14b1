// box/response_cache.h — recently computed answers of read-only
// endpoints, per caller: rendered JSON lists, and which files a user may read.
//
// An entry is valid while nothing was written since it was rendered (the
// pool's write generation is unchanged; it also moves when a write by another
// process is seen, core::DbPool::CheckOutsideWrites, once per request) and
// for at most `ttl_ms` (so that answers that depend on the time, such as
// "late", are at most that stale). Thread-safe; bounded.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace relais::box {

template <typename T>
class GenerationCache {
 public:
  GenerationCache(size_t max_entries, int64_t ttl_ms) : max_entries_(max_entries), ttl_ms_(ttl_ms) {}

  // The value stored under `key`, or null if absent or stale.
  std::shared_ptr<const T> Get(const std::string& key, uint64_t generation, int64_t now_ms) const {
    std::shared_lock lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.generation != generation || now_ms - it->second.stored_ms > ttl_ms_)
      return nullptr;
    return it->second.body;
  }

  void Put(const std::string& key, uint64_t generation, int64_t now_ms, std::shared_ptr<const T> body) {
    std::unique_lock lock(mu_);
    if (entries_.size() >= max_entries_) entries_.clear();  // crude but bounded; refills on demand
    entries_[key] = Entry{generation, now_ms, std::move(body)};
  }

 private:
  struct Entry {
    uint64_t generation;
    int64_t stored_ms;
    std::shared_ptr<const T> body;
  };
  size_t max_entries_;
  int64_t ttl_ms_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

using ResponseCache = GenerationCache<std::string>;

}  // namespace relais::box

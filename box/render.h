// box/render.h — the JSON shape of each record in the API (docs/api.md).
#pragma once

#include <nlohmann/json.hpp>

#include "content/accounts.h"
#include "content/courses.h"
#include "content/types.h"
#include "sync/replica.h"

namespace relais::box {

nlohmann::json ToJson(const content::User& u);
// The user, with "classes": [{"id","name","role"}].
nlohmann::json ToJson(const content::UserListing& u);
nlohmann::json ToJson(const content::ClassInfo& c);
nlohmann::json ToJson(const content::Member& m);
nlohmann::json ToJson(const content::FileInfo& f);
nlohmann::json ToJson(const content::Homework& h);
nlohmann::json ToJson(const content::Feedback& f);
nlohmann::json ToJson(const content::Submission& s);
nlohmann::json ToJson(const content::StudentWork& w);
nlohmann::json ToJson(const content::Resource& r);
nlohmann::json ToJson(const content::Section& s);
nlohmann::json ToJson(const content::Course& c);
nlohmann::json ToJson(const sync::SyncConflict& c);

template <typename T>
nlohmann::json ToJsonList(const std::vector<T>& items) {
  nlohmann::json out = nlohmann::json::array();
  for (const T& item : items) out.push_back(ToJson(item));
  return out;
}

}  // namespace relais::box

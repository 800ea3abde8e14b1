// hub/store_internal.h — helpers shared by the two HubStore engines.
// Not part of the sync module's interface.
#pragma once

#include <string>
#include <vector>

#include "hub/store.h"

namespace relais::hub::internal {

// InvalidArgument for an operation without origin or with seq < 1.
Status CheckOps(const std::vector<HubOp>& ops);

// PermissionDenied unless `sender` is `owner`, the owner of `origin`.
Status CheckOwner(const std::string& origin, const std::string& owner, const std::string& sender);

// {"origin": seq, …}: how a version vector is passed to SQL (json_each in
// SQLite, jsonb_each_text in PostgreSQL).
std::string VectorJson(const VersionVector& v);

// Upload ids and school ids are chosen here so both engines agree.
constexpr int kUploadIdBytes = 18;

}  // namespace relais::hub::internal

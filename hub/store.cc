// hub/store.cc — what both storage engines share: input checks and the
// encoding of a version vector as a query parameter.
#include "hub/store.h"

#include <nlohmann/json.hpp>

#include "hub/store_internal.h"

namespace relais::hub {

namespace internal {

Status CheckOps(const std::vector<HubOp>& ops) {
  for (const HubOp& op : ops) {
    if (op.origin.empty()) return Status::InvalidArgument("an operation has no origin");
    if (op.seq < 1) return Status::InvalidArgument("an operation's seq must be 1 or more");
  }
  return Status::Ok();
}

Status CheckOwner(const std::string& origin, const std::string& owner, const std::string& sender) {
  if (owner == sender) return Status::Ok();
  if (owner == kGatewayOwner)
    return Status::PermissionDenied("new operations of origin " + origin + ": that is the gateway's own origin");
  return Status::PermissionDenied("new operations of origin " + origin + ", which belongs to another box");
}

std::string VectorJson(const VersionVector& v) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [origin, seq] : v) j[origin] = seq;
  return j.dump();
}

}  // namespace internal
}  // namespace relais::hub

// hub/publish.cc — Hub::Publish: the ENT's publications as the gateway's
// own operations in a school's log (hub/ent_publish.h does the mapping).
//
// Numbering: the gateway's origin has one gap-free seq per school. Publish
// reads the origin's last seq, builds the operations after it and stores them
// with IngestOptions::all_new: if another gateway process published in
// between, the store refuses the batch (Conflict) and Publish starts again
// from a fresh read of the log, so no number is used twice or skipped.
#include <nlohmann/json.hpp>

#include "hub/ent_publish.h"
#include "hub/hub.h"
#include "sync/identity.h"
#include "sync/op_codec.h"

namespace relais::hub {
namespace {
constexpr int kPublishAttempts = 5;
constexpr int kLogPage = 1000;
}  // namespace

std::string Hub::origin() const { return sync::GatewayOrigin(identity_.sign_public_key()); }

// Every operation, oldest first.
Result<LogIndex> Hub::ReadLogIndex(std::string_view school_id) {
  LogIndex index(origin());
  int64_t after = 0;
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(std::vector<HubOp> page, store_.OpsAfterFeed(school_id, after, kLogPage));
    if (page.empty()) break;
    for (const HubOp& stored : page) {
      auto op = sync::DecodeOp(stored.record);
      if (op.ok()) index.Add(*op);  // other records (if any) say nothing of rows
    }
    after = page.back().feed;
  }
  return index;
}

Result<Hub::PublishOutcome> Hub::AppendGatewayOps(std::string_view school_id, const GatewayOpsBuilder& build) {
  const std::string gateway = origin();
  for (int attempt = 0; attempt < kPublishAttempts; ++attempt) {
    RELAIS_ASSIGN_OR_RETURN(LogIndex index, ReadLogIndex(school_id));
    RELAIS_ASSIGN_OR_RETURN(int64_t last, store_.LastSeq(school_id, gateway));
    RELAIS_ASSIGN_OR_RETURN(std::vector<content::Op> ops, build(index, last + 1, clock_.Now()));
    PublishOutcome outcome;
    if (ops.empty()) {
      RELAIS_ASSIGN_OR_RETURN(outcome.feed_head, store_.FeedHead(school_id));
      return outcome;
    }
    std::vector<HubOp> records;
    records.reserve(ops.size());
    for (const content::Op& op : ops)
      records.push_back({op.origin, op.seq, static_cast<int64_t>(op.hlc), sync::EncodeOp(op), 0});
    IngestOptions options;
    options.all_new = true;
    options.owner = kGatewayOwner;
    options.gateway_origin = gateway;
    auto stored = store_.IngestOpsAs(school_id, records, options);
    if (!stored.ok() && stored.status().code() == StatusCode::kConflict) continue;  // numbers taken: again
    if (!stored.ok()) return stored.status();
    outcome.operations = stored->inserted;
    outcome.first_seq = ops.front().seq;
    outcome.last_seq = ops.back().seq;
    outcome.feed_head = stored->feed_head;
    return outcome;
  }
  return Status::Conflict("the school's log kept changing while publishing: publish again");
}

Result<Hub::PublishOutcome> Hub::Publish(std::string_view school_id, const nlohmann::json& body) {
  RELAIS_RETURN_IF_ERROR(store_.GetSchool(school_id).status());
  const std::string gateway = origin();
  return AppendGatewayOps(
      school_id, [&](const LogIndex& index, int64_t first_seq, int64_t now) -> Result<std::vector<content::Op>> {
        RELAIS_ASSIGN_OR_RETURN(Publication publication, ParsePublication(body, index, now));
        return PublicationOps(publication, index, gateway, first_seq, now);
      });
}

}  // namespace relais::hub

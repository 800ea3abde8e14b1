// content/audit.h — the audit log: who did what, when, from where.
//
// Rows are written inside the caller's transaction, so an action and its
// audit row commit together. Kept 12 months (PurgeAudit).
#pragma once

#include <string_view>

#include "content/types.h"
#include "core/db.h"

namespace relais::content {

// `actor` may be null for the system (command line, demo seeding).
Status RecordAudit(core::Db& db, const Viewer* actor, std::string_view now, std::string_view action,
                   std::string_view object_type, std::string_view object_id, std::string_view detail = "");

// Deletes rows older than `cutoff` (ISO time). Returns the number deleted.
Result<int64_t> PurgeAudit(core::Db& db, std::string_view cutoff);

struct AuditEntry {
  int64_t seq = 0;
  std::string at, actor_login, action, object_type, object_id, detail, address;
};
// The newest `limit` entries, newest first.
Result<std::vector<AuditEntry>> RecentAudit(core::Db& db, int limit);

}  // namespace relais::content

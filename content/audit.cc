#include "content/audit.h"

namespace relais::content {

Status RecordAudit(core::Db& db, const Viewer* actor, std::string_view now, std::string_view action,
                   std::string_view object_type, std::string_view object_id, std::string_view detail) {
  RELAIS_ASSIGN_OR_RETURN(
      auto q, db.Query("INSERT INTO audit_log (at, actor_id, actor_login, action, object_type, object_id, detail, "
                       "address) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  q.Bind(1, now);
  if (actor) {
    q.Bind(2, actor->id).Bind(3, actor->login).Bind(8, actor->address);
  } else {
    q.Bind(2, nullptr).Bind(3, "system").Bind(8, nullptr);
  }
  q.Bind(4, action).Bind(5, object_type).Bind(6, object_id).Bind(7, detail);
  return q.Run();
}

Result<int64_t> PurgeAudit(core::Db& db, std::string_view cutoff) {
  RELAIS_ASSIGN_OR_RETURN(auto q, db.Query("DELETE FROM audit_log WHERE at < ?1", cutoff));
  RELAIS_RETURN_IF_ERROR(q.Run());
  return db.Changes();
}

Result<std::vector<AuditEntry>> RecentAudit(core::Db& db, int limit) {
  RELAIS_ASSIGN_OR_RETURN(auto q,
                          db.Query("SELECT seq, at, COALESCE(actor_login,''), action, COALESCE(object_type,''), "
                                   "COALESCE(object_id,''), COALESCE(detail,''), COALESCE(address,'') FROM audit_log "
                                   "ORDER BY seq DESC LIMIT ?1",
                                   limit));
  std::vector<AuditEntry> out;
  while (true) {
    RELAIS_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({q.Int(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4), q.Text(5), q.Text(6), q.Text(7)});
  }
  return out;
}

}  // namespace relais::content

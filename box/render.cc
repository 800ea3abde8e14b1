#include "box/render.h"

namespace relais::box {

using nlohmann::json;

namespace {
json OptionalGrade(const std::optional<double>& g) { return g ? json(*g) : json(nullptr); }
}  // namespace

json ToJson(const content::User& u) {
  return {{"id", u.id},
          {"login", u.login},
          {"display_name", u.display_name},
          {"role", RoleName(u.role)},
          {"disabled", u.disabled},
          {"created_at", u.created_at},
          {"updated_at", u.updated_at}};
}

json ToJson(const content::UserListing& u) {
  json out = ToJson(u.user);
  out["classes"] = json::array();
  for (const content::Member& c : u.classes)
    out["classes"].push_back({{"id", c.user_id}, {"name", c.display_name}, {"role", c.role}});
  return out;
}

json ToJson(const content::ClassInfo& c) {
  return {{"id", c.id},
          {"name", c.name},
          {"my_role", c.my_role ? json(*c.my_role) : json(nullptr)},
          {"students", c.students},
          {"teachers", c.teachers},
          {"created_at", c.created_at},
          {"updated_at", c.updated_at}};
}

json ToJson(const content::Member& m) {
  return {{"user_id", m.user_id}, {"login", m.login}, {"display_name", m.display_name}, {"role", m.role}};
}

json ToJson(const content::FileInfo& f) {
  return {{"id", f.id},
          {"size", f.size},
          {"content_type", f.content_type},
          {"name", f.name},
          {"sha256", f.sha256},
          {"created_at", f.created_at},
          {"url", "/api/v1/files/" + f.id}};
}

json ToJson(const content::Homework& h) {
  json j = {{"id", h.id},
            {"class_id", h.class_id},
            {"class_name", h.class_name},
            {"subject", h.subject},
            {"title", h.title},
            {"instructions", h.instructions},
            {"given_at", h.given_at},
            {"due_at", h.due_at},
            {"published", h.published},
            {"author_id", h.author_id},
            {"created_at", h.created_at},
            {"updated_at", h.updated_at},
            {"attachments", ToJsonList(h.attachments)}};
  if (h.mine) {
    j["my_submission"] = {{"status", h.mine->status},
                          {"late", h.mine->late},
                          {"submission_id", h.mine->submission_id ? json(*h.mine->submission_id) : json(nullptr)},
                          {"grade", OptionalGrade(h.mine->grade)}};
  }
  return j;
}

json ToJson(const content::Feedback& f) {
  return {{"id", f.id},
          {"comment", f.comment},
          {"grade", OptionalGrade(f.grade)},
          {"returned_at", f.returned_at},
          {"author_id", f.author_id},
          {"files", ToJsonList(f.files)}};
}

json ToJson(const content::Submission& s) {
  json versions = json::array();
  for (const auto& v : s.versions)
    versions.push_back({{"id", v.id},
                        {"version", v.version},
                        {"text", v.text},
                        {"submitted_at", v.submitted_at},
                        {"late", v.late},
                        {"files", ToJsonList(v.files)}});
  return {{"id", s.id},
          {"homework_id", s.homework_id},
          {"student", ToJson(s.student)},
          {"status", s.status},
          {"current_version", s.current_version},
          {"late", !s.versions.empty() && s.versions.front().late},
          {"created_at", s.created_at},
          {"updated_at", s.updated_at},
          {"versions", versions},
          {"feedback", s.feedback ? ToJson(*s.feedback) : json(nullptr)}};
}

json ToJson(const content::StudentWork& w) {
  return {{"student", ToJson(w.student)},
          {"status", w.status},
          {"submission", w.submission ? ToJson(*w.submission) : json(nullptr)}};
}

json ToJson(const content::Resource& r) {
  return {{"id", r.id},
          {"section_id", r.section_id},
          {"kind", r.kind},
          {"title", r.title},
          {"file", r.file ? ToJson(*r.file) : json(nullptr)},
          {"url", r.url ? json(*r.url) : json(nullptr)},
          {"body", r.body ? json(*r.body) : json(nullptr)},
          {"position", r.position},
          {"created_at", r.created_at},
          {"updated_at", r.updated_at}};
}

json ToJson(const content::Section& s) {
  return {{"id", s.id},
          {"course_id", s.course_id},
          {"title", s.title},
          {"position", s.position},
          {"resources", ToJsonList(s.resources)}};
}

json ToJson(const content::Course& c) {
  return {{"id", c.id},
          {"class_id", c.class_id},
          {"title", c.title},
          {"created_at", c.created_at},
          {"updated_at", c.updated_at},
          {"sections", ToJsonList(c.sections)}};
}

json ToJson(const sync::SyncConflict& c) {
  // Values are stored as JSON text; a value that does not parse is shown as text.
  auto value = [](const std::string& text) {
    json v = json::parse(text, nullptr, false);
    return v.is_discarded() ? json(text) : v;
  };
  return {{"id", c.id},
          {"table", c.table},
          {"key", value(c.key)},
          {"column", c.column},
          {"rule", c.rule},
          {"class_id", c.class_id.empty() ? json(nullptr) : json(c.class_id)},
          {"kept", {{"origin", c.winner_origin}, {"seq", c.winner_seq}, {"value", value(c.winner_value)}}},
          {"lost", {{"origin", c.loser_origin}, {"seq", c.loser_seq}, {"value", value(c.loser_value)}}},
          {"detected_at", c.detected_at}};
}

}  // namespace relais::box

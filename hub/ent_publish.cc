#include "hub/ent_publish.h"

#include <algorithm>

#include "content/accounts.h"
#include "content/file_records.h"
#include "content/homework.h"
#include "content/ids.h"
#include "content/limits.h"
#include "content/text.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "http/json_fields.h"

namespace relais::hub {
namespace {

using content::Op;
using core::SqlValue;
using nlohmann::json;

// The box's limits are content/limits.h, so the box accepts what the gateway
// publishes; the ids are the box's (content/ids.h).
using content::ClassId;
using content::kMaxClassName;
using content::kMaxCourseTitle;
using content::kMaxDisplayName;
using content::kMaxUrl;
using content::MemberId;
using content::UserId;
constexpr size_t kMaxEntId = 200;
// An end date may be a little ahead of the gateway's clock (the ENT's own
// clock), not in the future: the box ends an account when disabled_at is set.
constexpr int64_t kEndSlackSeconds = 300;

std::string RowKey(const std::string& table, const std::vector<SqlValue>& key) {
  return table + "\t" + content::KeyJson(key);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

Status Bad(const std::string& path, const std::string& what) { return Status::InvalidArgument(path + ": " + what); }

// --- Strict JSON reading (http/json_fields.h): every error names its field. --

using http::OnlyFields;

// A text field cleaned as the box cleans typed text. Required ones must not
// be empty after trimming.
Result<std::optional<std::string>> Text(const json& o, const std::string& path, const char* name, size_t max,
                                        bool required, bool markup = false) {
  // The length is checked once trimmed, below.
  RELAIS_ASSIGN_OR_RETURN(std::optional<std::string> raw, http::OptionalString(o, name, std::string::npos, path));
  if (!raw) {
    if (required) return http::FieldError(path, name, "is required");
    return raw;
  }
  std::string field = path + "." + name;
  std::string_view trimmed = content::TrimSpace(*raw);
  if (trimmed.size() > max) return Bad(field, "is longer than " + std::to_string(max) + " bytes");
  std::string clean =
      markup ? content::StripMarkup(trimmed, max) : std::string(content::TrimSpace(content::CleanText(trimmed, max)));
  if (required && clean.empty()) return Bad(field, "must not be empty");
  return std::optional<std::string>(std::move(clean));
}

Result<std::string> RequiredText(const json& o, const std::string& path, const char* name, size_t max) {
  RELAIS_ASSIGN_OR_RETURN(std::optional<std::string> text, Text(o, path, name, max, true));
  return *text;
}

Result<std::optional<int64_t>> Time(const json& o, const std::string& path, const char* name) {
  if (!o.contains(name) || o[name].is_null()) return std::optional<int64_t>();
  std::string field = path + "." + name;
  if (!o[name].is_string()) return Bad(field, "must be a date-time string (2026-12-01T08:00:00Z)");
  std::optional<int64_t> t = core::ParseTime(o[name].get_ref<const std::string&>());
  if (!t) return Bad(field, "is not a date-time (2026-12-01T08:00:00Z)");
  return t;
}

Result<bool> Bool(const json& o, const std::string& path, const char* name) {
  if (o.contains(name) && o[name].is_null()) return http::FieldError(path, name, "must be true or false");
  RELAIS_ASSIGN_OR_RETURN(std::optional<bool> value, http::OptionalBool(o, name, path));
  return value.value_or(false);
}

Result<std::optional<int64_t>> Position(const json& o, const std::string& path) {
  if (!o.contains("position")) return std::optional<int64_t>();
  if (!o["position"].is_number_integer() || o["position"].get<int64_t>() < 0 || o["position"].get<int64_t>() > 1000000)
    return Bad(path + ".position", "must be a whole number from 0 to 1000000");
  return std::optional<int64_t>(o["position"].get<int64_t>());
}

// An optional array field; an empty array when absent.
Result<json> Array(const json& o, const std::string& path, const char* name) {
  return http::OptionalArray(o, name, path);
}

// The ENT's own id of an object: the seed of the row's derived id.
Result<std::string> EntId(const json& o, const std::string& path, std::set<std::string>* seen) {
  std::string field = path + ".id";
  if (!o.contains("id") || !o["id"].is_string()) return Bad(field, "is required: the ENT's own stable id (a string)");
  const std::string& id = o["id"].get_ref<const std::string&>();
  if (id.empty() || id.size() > kMaxEntId) return Bad(field, "must have 1 to 200 characters");
  for (unsigned char c : id)
    if (c < 0x20 || c == 0x7f) return Bad(field, "must not contain control characters");
  if (!seen->insert(id).second) return Bad(field, "repeats an id given earlier in the publication");
  return id;
}

// Reads a publication; `known_classes` / `known_users` / `files` are checked
// against what the log holds.
class Parser {
 public:
  Parser(const LogIndex& index, int64_t now) : index_(index), now_(now) {}

  Result<Publication> Parse(const json& body) {
    RELAIS_RETURN_IF_ERROR(
        OnlyFields(body, "publication", {"classes", "users", "end_accounts", "homework", "courses"}));
    Publication p;
    RELAIS_ASSIGN_OR_RETURN(json classes, Array(body, "publication", "classes"));
    RELAIS_ASSIGN_OR_RETURN(json users, Array(body, "publication", "users"));
    RELAIS_ASSIGN_OR_RETURN(json ends, Array(body, "publication", "end_accounts"));
    RELAIS_ASSIGN_OR_RETURN(json homework, Array(body, "publication", "homework"));
    RELAIS_ASSIGN_OR_RETURN(json courses, Array(body, "publication", "courses"));
    for (size_t i = 0; i < classes.size(); ++i) RELAIS_RETURN_IF_ERROR(ParseClass(classes[i], i, &p));
    for (size_t i = 0; i < users.size(); ++i) RELAIS_RETURN_IF_ERROR(ParseUser(users[i], i, &p));
    for (size_t i = 0; i < ends.size(); ++i) RELAIS_RETURN_IF_ERROR(ParseEnd(ends[i], i, &p));
    for (size_t i = 0; i < homework.size(); ++i) RELAIS_RETURN_IF_ERROR(ParseHomework(homework[i], i, &p));
    for (size_t i = 0; i < courses.size(); ++i) RELAIS_RETURN_IF_ERROR(ParseCourse(courses[i], i, &p));
    if (items_ == 0) return Status::InvalidArgument("publication: nothing to publish");
    return p;
  }

 private:
  Status Count(const std::string& path) {
    if (++items_ > kMaxPublishItems)
      return Bad(path, "a publication holds at most " + std::to_string(kMaxPublishItems) + " items: split it");
    return Status::Ok();
  }

  // The class named by `o[field]` must be published with this or held by
  // the log.
  Result<std::string> ClassName(const json& o, const std::string& path, const char* field) {
    RELAIS_ASSIGN_OR_RETURN(std::string name, RequiredText(o, path, field, kMaxClassName));
    return KnownClass(name, path + "." + field);
  }
  Result<std::string> KnownClass(const std::string& name, const std::string& field) {
    if (!classes_.count(ClassId(name)) && !index_.Inserted("classes", {SqlValue(ClassId(name))}))
      return Bad(field, "no class named \"" + name + "\" in this school: publish it in classes");
    return name;
  }

  Status FileRef(const std::string& file_id, const std::string& path) {
    if (!core::IsUuid(file_id) || !index_.Alive("files", {SqlValue(file_id)}))
      return Bad(path, "no file " + file_id + " in this school's change feed: attach files the feed lists");
    return Status::Ok();
  }

  Status ParseClass(const json& o, size_t i, Publication* p) {
    std::string path = "classes[" + std::to_string(i) + "]";
    RELAIS_RETURN_IF_ERROR(Count(path));
    RELAIS_RETURN_IF_ERROR(OnlyFields(o, path, {"name"}));
    RELAIS_ASSIGN_OR_RETURN(std::string name, RequiredText(o, path, "name", kMaxClassName));
    if (!classes_.insert(ClassId(name)).second) return Bad(path + ".name", "repeats a class given earlier");
    p->classes.push_back({name});
    return Status::Ok();
  }

  Status ParseUser(const json& o, size_t i, Publication* p) {
    std::string path = "users[" + std::to_string(i) + "]";
    RELAIS_RETURN_IF_ERROR(Count(path));
    RELAIS_RETURN_IF_ERROR(OnlyFields(o, path, {"login", "display_name", "role", "classes"}));
    Publication::User u;
    RELAIS_ASSIGN_OR_RETURN(std::string login, RequiredText(o, path, "login", 64));
    u.login = Lower(login);
    if (Status st = content::ValidateLogin(u.login); !st.ok()) return Bad(path + ".login", st.message());
    if (!users_.insert(UserId(u.login)).second) return Bad(path + ".login", "repeats a login given earlier");
    RELAIS_ASSIGN_OR_RETURN(std::optional<std::string> name, Text(o, path, "display_name", kMaxDisplayName, false));
    u.display_name = name && !name->empty() ? *name : u.login;
    RELAIS_ASSIGN_OR_RETURN(u.role, RequiredText(o, path, "role", 16));
    if (u.role != "student" && u.role != "teacher") return Bad(path + ".role", "must be \"student\" or \"teacher\"");
    RELAIS_ASSIGN_OR_RETURN(json classes, Array(o, path, "classes"));
    u.classes_given = o.contains("classes");
    for (size_t k = 0; k < classes.size(); ++k) {
      std::string cpath = path + ".classes[" + std::to_string(k) + "]";
      if (!classes[k].is_string()) return Bad(cpath, "must be a class name (a string)");
      std::string name(content::TrimSpace(content::CleanText(classes[k].get<std::string>(), kMaxClassName)));
      RELAIS_ASSIGN_OR_RETURN(std::string cls, KnownClass(name, cpath));
      u.classes.push_back(cls);
    }
    p->users.push_back(std::move(u));
    return Status::Ok();
  }

  Status ParseEnd(const json& o, size_t i, Publication* p) {
    std::string path = "end_accounts[" + std::to_string(i) + "]";
    RELAIS_RETURN_IF_ERROR(Count(path));
    RELAIS_RETURN_IF_ERROR(OnlyFields(o, path, {"login", "ended_at"}));
    Publication::EndAccount e;
    RELAIS_ASSIGN_OR_RETURN(std::string login, RequiredText(o, path, "login", 64));
    e.login = Lower(login);
    if (!users_.count(UserId(e.login)) && !index_.Inserted("users", {SqlValue(UserId(e.login))}))
      return Bad(path + ".login", "no account " + e.login + " in this school");
    RELAIS_ASSIGN_OR_RETURN(std::optional<int64_t> at, Time(o, path, "ended_at"));
    e.ended_at = at.value_or(now_);
    if (e.ended_at > now_ + kEndSlackSeconds)
      return Bad(path + ".ended_at", "is in the future: publish an account's end on the day it ends");
    p->end_accounts.push_back(std::move(e));
    return Status::Ok();
  }

  Status ParseHomework(const json& o, size_t i, Publication* p) {
    std::string path = "homework[" + std::to_string(i) + "]";
    RELAIS_RETURN_IF_ERROR(Count(path));
    RELAIS_RETURN_IF_ERROR(OnlyFields(
        o, path, {"id", "class", "subject", "title", "instructions", "given_at", "due_at", "attachments", "deleted"}));
    Publication::Homework h;
    RELAIS_ASSIGN_OR_RETURN(h.ent_id, EntId(o, path, &homework_ids_));
    RELAIS_ASSIGN_OR_RETURN(h.class_name, ClassName(o, path, "class"));
    RELAIS_ASSIGN_OR_RETURN(h.subject, RequiredText(o, path, "subject", content::kMaxSubject));
    RELAIS_ASSIGN_OR_RETURN(h.title, RequiredText(o, path, "title", content::kMaxTitle));
    RELAIS_ASSIGN_OR_RETURN(std::optional<std::string> instructions,
                            Text(o, path, "instructions", content::kMaxInstructions, false, true));
    h.instructions = instructions.value_or("");
    RELAIS_ASSIGN_OR_RETURN(std::optional<int64_t> due, Time(o, path, "due_at"));
    if (!due) return Bad(path + ".due_at", "is required");
    h.due_at = *due;
    RELAIS_ASSIGN_OR_RETURN(h.given_at, Time(o, path, "given_at"));
    if (h.given_at && h.due_at < *h.given_at) return Bad(path + ".due_at", "is before given_at");
    RELAIS_ASSIGN_OR_RETURN(h.deleted, Bool(o, path, "deleted"));
    RELAIS_ASSIGN_OR_RETURN(json files, Array(o, path, "attachments"));
    if (files.size() > content::kMaxAttachments)
      return Bad(path + ".attachments", "at most " + std::to_string(content::kMaxAttachments) + " files");
    for (size_t k = 0; k < files.size(); ++k) {
      std::string fpath = path + ".attachments[" + std::to_string(k) + "]";
      RELAIS_RETURN_IF_ERROR(OnlyFields(files[k], fpath, {"file_id"}));
      if (!files[k].contains("file_id") || !files[k]["file_id"].is_string())
        return Bad(fpath + ".file_id", "is required: the id of a file the change feed lists");
      std::string file_id = files[k]["file_id"].get<std::string>();
      RELAIS_RETURN_IF_ERROR(FileRef(file_id, fpath + ".file_id"));
      if (std::find(h.attachments.begin(), h.attachments.end(), file_id) != h.attachments.end())
        return Bad(fpath + ".file_id", "is attached twice");
      h.attachments.push_back(file_id);
    }
    p->homework.push_back(std::move(h));
    return Status::Ok();
  }

  Status ParseCourse(const json& o, size_t i, Publication* p) {
    std::string path = "courses[" + std::to_string(i) + "]";
    RELAIS_RETURN_IF_ERROR(Count(path));
    RELAIS_RETURN_IF_ERROR(OnlyFields(o, path, {"id", "class", "title", "deleted", "sections"}));
    Publication::Course c;
    RELAIS_ASSIGN_OR_RETURN(c.ent_id, EntId(o, path, &course_ids_));
    RELAIS_ASSIGN_OR_RETURN(c.class_name, ClassName(o, path, "class"));
    RELAIS_ASSIGN_OR_RETURN(c.title, RequiredText(o, path, "title", kMaxCourseTitle));
    RELAIS_ASSIGN_OR_RETURN(c.deleted, Bool(o, path, "deleted"));
    RELAIS_ASSIGN_OR_RETURN(json sections, Array(o, path, "sections"));
    for (size_t k = 0; k < sections.size(); ++k) {
      std::string spath = path + ".sections[" + std::to_string(k) + "]";
      RELAIS_RETURN_IF_ERROR(Count(spath));
      const json& so = sections[k];
      RELAIS_RETURN_IF_ERROR(OnlyFields(so, spath, {"id", "title", "position", "deleted", "resources"}));
      Publication::Section s;
      RELAIS_ASSIGN_OR_RETURN(s.ent_id, EntId(so, spath, &section_ids_));
      RELAIS_ASSIGN_OR_RETURN(s.title, RequiredText(so, spath, "title", kMaxCourseTitle));
      RELAIS_ASSIGN_OR_RETURN(std::optional<int64_t> position, Position(so, spath));
      s.position = position.value_or(static_cast<int64_t>(k));
      RELAIS_ASSIGN_OR_RETURN(s.deleted, Bool(so, spath, "deleted"));
      RELAIS_ASSIGN_OR_RETURN(json resources, Array(so, spath, "resources"));
      for (size_t r = 0; r < resources.size(); ++r) {
        std::string rpath = spath + ".resources[" + std::to_string(r) + "]";
        RELAIS_ASSIGN_OR_RETURN(Publication::Resource res, ParseResource(resources[r], rpath, r));
        s.resources.push_back(std::move(res));
      }
      c.sections.push_back(std::move(s));
    }
    p->courses.push_back(std::move(c));
    return Status::Ok();
  }

  Result<Publication::Resource> ParseResource(const json& o, const std::string& path, size_t index) {
    RELAIS_RETURN_IF_ERROR(Count(path));
    RELAIS_RETURN_IF_ERROR(
        OnlyFields(o, path, {"id", "kind", "title", "file_id", "url", "body", "position", "deleted"}));
    Publication::Resource r;
    RELAIS_ASSIGN_OR_RETURN(r.ent_id, EntId(o, path, &resource_ids_));
    RELAIS_ASSIGN_OR_RETURN(r.kind, RequiredText(o, path, "kind", 8));
    RELAIS_ASSIGN_OR_RETURN(r.title, RequiredText(o, path, "title", kMaxCourseTitle));
    RELAIS_ASSIGN_OR_RETURN(std::optional<int64_t> position, Position(o, path));
    r.position = position.value_or(static_cast<int64_t>(index));
    RELAIS_ASSIGN_OR_RETURN(r.deleted, Bool(o, path, "deleted"));
    // Exactly the field its kind needs (the box's CHECK on resources).
    static const std::map<std::string, std::string> kNeeds = {{"file", "file_id"}, {"link", "url"}, {"text", "body"}};
    auto need = kNeeds.find(r.kind);
    if (need == kNeeds.end()) return Bad(path + ".kind", "must be \"file\", \"link\" or \"text\"");
    for (const auto& [kind, field] : kNeeds) {
      bool given = o.contains(field) && !o[field].is_null();
      if (kind == r.kind && !given) return Bad(path + "." + field, "is required for a " + kind + " resource");
      if (kind != r.kind && given) return Bad(path + "." + field, "is only for a " + kind + " resource");
    }
    if (r.kind == "file") {
      RELAIS_ASSIGN_OR_RETURN(r.file_id, Text(o, path, "file_id", 36, true));
      RELAIS_RETURN_IF_ERROR(FileRef(*r.file_id, path + ".file_id"));
    } else if (r.kind == "link") {
      RELAIS_ASSIGN_OR_RETURN(r.url, Text(o, path, "url", kMaxUrl, true));
      if (r.url->rfind("https://", 0) != 0 && r.url->rfind("http://", 0) != 0)
        return Bad(path + ".url", "must start with https:// or http://");
    } else {
      RELAIS_ASSIGN_OR_RETURN(r.body, Text(o, path, "body", content::kMaxResourceBody, true, true));
    }
    return r;
  }

  const LogIndex& index_;
  int64_t now_;
  size_t items_ = 0;
  std::set<std::string> classes_, users_;  // derived ids published here
  std::set<std::string> homework_ids_, course_ids_, section_ids_, resource_ids_;
};

// Appends the gateway's operations, numbered and clocked in order.
class OpWriter {
 public:
  OpWriter(const LogIndex& index, std::string origin, int64_t first_seq, int64_t now)
      : index_(index), origin_(std::move(origin)), seq_(first_seq), now_(core::FormatTime(now)) {
    hlc_ = std::max(content::HlcPack(static_cast<uint64_t>(now) * 1000, 0), index.max_hlc() + 1);
  }

  const std::string& now() const { return now_; }
  std::vector<Op>& ops() { return ops_; }

  // An insert of a row the log does not hold (all its columns), else an
  // update of the ENT-owned `columns` whose value differs from what the
  // gateway last wrote (nothing when none does). `updated_at` is added to
  // either.
  void Upsert(const std::string& table, const std::string& id, std::vector<core::Column> all,
              const std::set<std::string>& owned) {
    std::vector<SqlValue> key{SqlValue(id)};
    if (!index_.Inserted(table, key)) return Insert(table, id, std::move(all));
    std::vector<core::Column> changed;
    for (auto& [name, value] : all) {
      if (!owned.count(name)) continue;
      const SqlValue* last = index_.GatewayValue(table, key, name);
      // A tombstone or an end is a fact, not its time: one of each is enough.
      bool both_set = last && !std::holds_alternative<std::monostate>(*last) &&
                      !std::holds_alternative<std::monostate>(value) && (name == "deleted_at" || name == "disabled_at");
      if (last && (*last == value || both_set)) continue;
      changed.emplace_back(name, std::move(value));
    }
    if (changed.empty()) return;
    changed.emplace_back("updated_at", now_);
    Emit(Op::Kind::kUpdate, table, key, std::move(changed));
  }

  // An insert of the row with `all` its columns (a row the log does not
  // hold, or one deleted since).
  void Insert(const std::string& table, const std::string& id, std::vector<core::Column> all) {
    all.emplace_back("created_at", now_);
    all.emplace_back("updated_at", now_);
    all.emplace_back("author_id", SqlValue());
    Emit(Op::Kind::kInsert, table, {SqlValue(id)}, std::move(all));
  }

  void Emit(Op::Kind kind, const std::string& table, std::vector<SqlValue> key, std::vector<core::Column> columns) {
    Op op;
    op.origin = origin_;
    op.seq = seq_++;
    op.hlc = hlc_++;
    op.base = index_.Newest(table, key);
    op.table = table;
    op.kind = kind;
    op.key = std::move(key);
    std::sort(columns.begin(), columns.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    op.columns = std::move(columns);
    ops_.push_back(std::move(op));
  }

 private:
  const LogIndex& index_;
  std::string origin_;
  int64_t seq_;
  uint64_t hlc_;
  std::string now_;
  std::vector<Op> ops_;
};

SqlValue Nullable(const std::optional<std::string>& s) { return s ? SqlValue(*s) : SqlValue(); }

}  // namespace

void LogIndex::Add(const Op& op) {
  Row& row = rows_[RowKey(op.table, op.key)];
  row.newest = std::max(row.newest, op.hlc);
  max_hlc_ = std::max(max_hlc_, op.hlc);
  if (op.kind != Op::Kind::kUpdate && op.hlc >= row.existence_hlc) {
    row.existence_hlc = op.hlc;
    row.alive = op.kind == Op::Kind::kInsert;
  }
  if (op.kind == Op::Kind::kInsert) {
    row.inserted = true;
    (op.origin == gateway_origin_ ? row.inserted_by_gateway : row.inserted_by_others) = true;
    if (op.table == "class_members" && op.key.size() == 1 && std::holds_alternative<std::string>(op.key[0])) {
      const SqlValue* user = nullptr;
      const SqlValue* cls = nullptr;
      for (const auto& [name, value] : op.columns) {
        if (name == "user_id") user = &value;
        if (name == "class_id") cls = &value;
      }
      if (user && cls && std::holds_alternative<std::string>(*user) && std::holds_alternative<std::string>(*cls))
        member_rows_[std::get<std::string>(*user)][std::get<std::string>(*cls)] = std::get<std::string>(op.key[0]);
    }
  }
  if (op.table == "homework_attachments" && op.key.size() == 2 && std::holds_alternative<std::string>(op.key[0]) &&
      std::holds_alternative<std::string>(op.key[1]))
    attachment_rows_[std::get<std::string>(op.key[0])].insert(std::get<std::string>(op.key[1]));
  if (op.origin != gateway_origin_) return;
  for (const auto& [name, value] : op.columns) {
    auto& [hlc, last] = row.gateway_values[name];
    if (op.hlc >= hlc) {
      hlc = op.hlc;
      last = value;
    }
  }
}

const LogIndex::Row* LogIndex::Find(const std::string& table, const std::vector<SqlValue>& key) const {
  auto it = rows_.find(RowKey(table, key));
  return it == rows_.end() ? nullptr : &it->second;
}

bool LogIndex::Inserted(const std::string& table, const std::vector<SqlValue>& key) const {
  const Row* row = Find(table, key);
  return row && row->inserted;
}

bool LogIndex::Alive(const std::string& table, const std::vector<SqlValue>& key) const {
  const Row* row = Find(table, key);
  return row && row->alive;
}

uint64_t LogIndex::Newest(const std::string& table, const std::vector<SqlValue>& key) const {
  const Row* row = Find(table, key);
  return row ? row->newest : 0;
}

const SqlValue* LogIndex::GatewayValue(const std::string& table, const std::vector<SqlValue>& key,
                                       const std::string& column) const {
  const Row* row = Find(table, key);
  if (!row) return nullptr;
  auto it = row->gateway_values.find(column);
  return it == row->gateway_values.end() ? nullptr : &it->second.second;
}

std::set<std::string> LogIndex::Attachments(const std::string& homework_id) const {
  std::set<std::string> out;
  auto it = attachment_rows_.find(homework_id);
  if (it == attachment_rows_.end()) return out;
  for (const std::string& file_id : it->second)
    if (Alive("homework_attachments", {SqlValue(homework_id), SqlValue(file_id)})) out.insert(file_id);
  return out;
}

std::map<std::string, std::string> LogIndex::GatewayMemberships(const std::string& user_id) const {
  std::map<std::string, std::string> out;
  auto it = member_rows_.find(user_id);
  if (it == member_rows_.end()) return out;
  for (const auto& [class_id, member_id] : it->second) {
    const Row* row = Find("class_members", {SqlValue(member_id)});
    if (row && row->alive && row->inserted_by_gateway && !row->inserted_by_others) out[class_id] = member_id;
  }
  return out;
}

Result<Publication> ParsePublication(const json& body, const LogIndex& index, int64_t now) {
  return Parser(index, now).Parse(body);
}

std::string EntHomeworkId(const std::string& ent_id) { return core::DerivedUuid("ent-homework", {ent_id}); }
std::string EntCourseId(const std::string& ent_id) { return core::DerivedUuid("ent-course", {ent_id}); }
std::string EntSectionId(const std::string& ent_id) { return core::DerivedUuid("ent-section", {ent_id}); }
std::string EntResourceId(const std::string& ent_id) { return core::DerivedUuid("ent-resource", {ent_id}); }

std::string EntFileId(const std::string& sha256, const std::string& name, const std::string& owner_id) {
  return core::DerivedUuid("ent-file", {sha256, name, owner_id});
}

Status CheckEntFileName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("name: is required (?name=<file name>)");
  if (name.size() > content::kMaxFileName)
    return Status::InvalidArgument("name: is longer than " + std::to_string(content::kMaxFileName) + " bytes");
  if (!content::IsValidUtf8(name)) return Status::InvalidArgument("name: is not UTF-8");
  if (name.find_first_of("/\\") != std::string_view::npos)
    return Status::InvalidArgument("name: must not contain a path separator (/ or \\)");
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return Status::InvalidArgument("name: must not contain control characters");
  std::string stored = content::CleanFileName(name);
  if (stored != name)
    return Status::InvalidArgument("name: the box would store it as \"" + stored + "\" (no double quote, " +
                                   "leading dot or surrounding space): send that");
  return Status::Ok();
}

Result<EntFileOps> EntFileOperations(const EntFileRow& file, const LogIndex& index, const std::string& origin,
                                     int64_t seq, int64_t now) {
  std::string owner_id = UserId(file.owner_login);
  if (!index.Inserted("users", {SqlValue(owner_id)}))
    return Status::InvalidArgument("owner: no account " + file.owner_login + " in this school");
  EntFileOps out;
  out.id = EntFileId(file.sha256, file.name, owner_id);
  OpWriter w(index, origin, seq, now);
  w.Upsert("files", out.id,
           {{"sha256", file.sha256},
            {"size", static_cast<int64_t>(file.size)},
            {"content_type", file.content_type},
            {"name", file.name},
            {"owner_id", owner_id}},
           {});  // nothing is ENT-owned once written: the same upload again writes nothing
  out.ops = std::move(w.ops());
  return out;
}

std::vector<Op> PublicationOps(const Publication& p, const LogIndex& index, const std::string& origin,
                               int64_t first_seq, int64_t now) {
  OpWriter w(index, origin, first_seq, now);
  const SqlValue null;
  auto deleted_at = [&](bool deleted) { return deleted ? SqlValue(w.now()) : null; };
  std::map<std::string, std::string> ends;  // login -> disabled_at
  for (const auto& e : p.end_accounts) ends[e.login] = core::FormatTime(e.ended_at);
  for (const auto& c : p.classes) w.Upsert("classes", ClassId(c.name), {{"name", c.name}}, {});
  for (const auto& u : p.users) {
    auto end = ends.find(u.login);
    SqlValue disabled_at = end == ends.end() ? null : SqlValue(end->second);
    std::set<std::string> owned{"display_name"};
    if (end != ends.end()) {
      owned.insert("disabled_at");
      ends.erase(end);
    }
    // A new account has no password ("" matches none): pupils log in with
    // the login cards their teacher prints on the box, or a password an
    // admin sets there. A box-set password is never overwritten.
    w.Upsert("users", UserId(u.login),
             {{"login", u.login},
              {"display_name", u.display_name},
              {"role", u.role},
              {"password_hash", std::string()},
              {"disabled_at", disabled_at}},
             owned);
    // Memberships: the listed ones exist (again, if one was removed); the
    // ENT's earlier ones it no longer lists are removed. A box's own stay.
    const std::string user_id = UserId(u.login);
    std::set<std::string> listed;
    for (const auto& name : u.classes) {
      std::string class_id = ClassId(name);
      std::string member_id = MemberId(class_id, user_id);
      listed.insert(class_id);
      if (!index.Alive("class_members", {SqlValue(member_id)}))
        w.Insert("class_members", member_id, {{"class_id", class_id}, {"user_id", user_id}, {"role", u.role}});
    }
    if (u.classes_given)
      for (const auto& [class_id, member_id] : index.GatewayMemberships(user_id))
        if (!listed.count(class_id)) w.Emit(Op::Kind::kDelete, "class_members", {SqlValue(member_id)}, {});
  }
  // Accounts the log holds already: an update of disabled_at.
  for (const auto& [login, at] : ends) w.Upsert("users", UserId(login), {{"disabled_at", at}}, {"disabled_at"});
  for (const auto& h : p.homework) {
    std::string id = EntHomeworkId(h.ent_id);
    std::set<std::string> owned{"class_id", "subject", "title", "instructions", "due_at", "published", "deleted_at"};
    if (h.given_at) owned.insert("given_at");
    w.Upsert("homework", id,
             {{"class_id", ClassId(h.class_name)},
              {"subject", h.subject},
              {"title", h.title},
              {"instructions", h.instructions},
              {"given_at", core::FormatTime(h.given_at.value_or(now))},
              {"due_at", core::FormatTime(h.due_at)},
              {"published", int64_t{1}},
              {"deleted_at", deleted_at(h.deleted)}},
             owned);
    // The list replaces the homework's attachments.
    std::set<std::string> kept(h.attachments.begin(), h.attachments.end());
    for (size_t i = 0; i < h.attachments.size(); ++i) {
      std::vector<SqlValue> key{SqlValue(id), SqlValue(h.attachments[i])};
      if (!index.Alive("homework_attachments", key))
        w.Emit(content::Op::Kind::kInsert, "homework_attachments", key, {{"position", static_cast<int64_t>(i)}});
    }
    for (const std::string& file_id : index.Attachments(id))
      if (!kept.count(file_id))
        w.Emit(content::Op::Kind::kDelete, "homework_attachments", {SqlValue(id), SqlValue(file_id)}, {});
  }
  for (const auto& c : p.courses) {
    std::string course_id = EntCourseId(c.ent_id);
    w.Upsert("courses", course_id,
             {{"class_id", ClassId(c.class_name)}, {"title", c.title}, {"deleted_at", deleted_at(c.deleted)}},
             {"class_id", "title", "deleted_at"});
    for (const auto& s : c.sections) {
      std::string section_id = EntSectionId(s.ent_id);
      w.Upsert("sections", section_id,
               {{"course_id", course_id},
                {"title", s.title},
                {"position", s.position},
                {"deleted_at", deleted_at(s.deleted)}},
               {"course_id", "title", "position", "deleted_at"});
      for (const auto& r : s.resources) {
        w.Upsert("resources", EntResourceId(r.ent_id),
                 {{"section_id", section_id},
                  {"kind", r.kind},
                  {"title", r.title},
                  {"file_id", Nullable(r.file_id)},
                  {"url", Nullable(r.url)},
                  {"body", Nullable(r.body)},
                  {"position", r.position},
                  {"deleted_at", deleted_at(r.deleted)}},
                 {"section_id", "kind", "title", "file_id", "url", "body", "position", "deleted_at"});
      }
    }
  }
  return std::move(w.ops());
}

}  // namespace relais::hub

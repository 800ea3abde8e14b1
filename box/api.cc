#include "box/api.h"

#include <chrono>
#include <exception>

#include "box/assets.h"
#include "box/box_ca.h"
#include "box/box_sync.h"
#include "box/qr_svg.h"
#include "box/render.h"
#include "content/file_types.h"
#include "core/crypto.h"
#include "core/files.h"
#include "core/log.h"
#include "http/file_response.h"

namespace relais::box {
namespace {

// "200 MB", or "512 KB" under a megabyte.
std::string SizeText(uint64_t bytes) {
  if (bytes >= (1u << 20)) return std::to_string(bytes >> 20) + " MB";
  return std::to_string(std::max<uint64_t>(1, bytes >> 10)) + " KB";
}

// "http://HOST" or "https://HOST" as the client reached the box, for links back to it.
std::string BoxOrigin(const httplib::Request& req) {
  std::string host = req.get_header_value("Host");
  if (host.empty() || host.find_first_of(" /\\\"<>'") != std::string::npos) host = req.local_addr;
  return (req.ssl ? "https://" : "http://") + host;
}

json UserSummary(const content::Viewer& v, const std::string& display_name) {
  return {{"id", v.id}, {"login", v.login}, {"display_name", display_name}, {"role", content::RoleName(v.role)}};
}

}  // namespace

// The route table: every endpoint, one line each, with who may call it.
const std::vector<Api::Route>& Api::Routes() {
  static const std::vector<Route> kRoutes = {
      {"POST", "/api/v1/session", Access::kPublic, &Api::Login},
      {"DELETE", "/api/v1/session", Access::kUser, &Api::Logout},
      {"GET", "/api/v1/me", Access::kUser, &Api::Me},
      {"GET", "/api/v1/setup", Access::kPublic, &Api::SetupState},
      {"POST", "/api/v1/setup", Access::kPublic, &Api::CompleteSetup},
      {"GET", "/api/v1/classes", Access::kUser, &Api::ListClasses},
      {"POST", "/api/v1/classes", Access::kAdmin, &Api::CreateClass},
      {"GET", "/api/v1/classes/:id/members", Access::kUser, &Api::ListMembers},
      {"POST", "/api/v1/classes/:id/members", Access::kAdmin, &Api::AddMember},
      {"PATCH", "/api/v1/classes/:id", Access::kAdmin, &Api::PatchClass},
      {"DELETE", "/api/v1/classes/:id", Access::kAdmin, &Api::DeleteClass},
      {"DELETE", "/api/v1/classes/:id/members/:user_id", Access::kAdmin, &Api::RemoveMember},
      {"GET", "/api/v1/users", Access::kUser, &Api::ListUsers},  // teachers: the students of their classes
      {"POST", "/api/v1/users", Access::kAdmin, &Api::CreateUser},
      {"PATCH", "/api/v1/users/:id", Access::kAdmin, &Api::PatchUser},
      {"POST", "/api/v1/roster", Access::kAdmin, &Api::ImportRoster},
      {"POST", "/api/v1/users/:id/password", Access::kUser, &Api::ResetPassword},
      {"GET", "/api/v1/classes/:id/login-cards", Access::kUser, &Api::ListLoginCards},
      {"POST", "/api/v1/classes/:id/login-cards", Access::kUser, &Api::IssueLoginCards},
      {"GET", "/c/:token", Access::kPublic, &Api::CardLogin},  // a login card's QR code
      {"POST", "/api/v1/files", Access::kUser, &Api::Upload},
      {"GET", "/api/v1/files/:id", Access::kUser, &Api::Download},
      {"GET", "/api/v1/files/:id/info", Access::kUser, &Api::FileInfo},
      {"POST", "/api/v1/homework", Access::kUser, &Api::CreateHomework},
      {"GET", "/api/v1/homework", Access::kUser, &Api::ListHomework},
      {"GET", "/api/v1/homework/:id", Access::kUser, &Api::GetHomework},
      {"PATCH", "/api/v1/homework/:id", Access::kUser, &Api::PatchHomework},
      {"DELETE", "/api/v1/homework/:id", Access::kUser, &Api::DeleteHomework},
      {"POST", "/api/v1/homework/:id/submissions", Access::kUser, &Api::HandIn},
      {"GET", "/api/v1/homework/:id/submissions", Access::kUser, &Api::ListSubmissions},
      {"GET", "/api/v1/submissions/:id", Access::kUser, &Api::GetSubmission},
      {"POST", "/api/v1/submissions/:id/feedback", Access::kUser, &Api::ReturnSubmission},
      {"GET", "/api/v1/classes/:id/courses", Access::kUser, &Api::ListCourses},
      {"POST", "/api/v1/classes/:id/courses", Access::kUser, &Api::CreateCourse},
      {"GET", "/api/v1/courses/:id", Access::kUser, &Api::GetCourse},
      {"PATCH", "/api/v1/courses/:id", Access::kUser, &Api::PatchCourse},
      {"DELETE", "/api/v1/courses/:id", Access::kUser, &Api::DeleteCourse},
      {"POST", "/api/v1/courses/:id/sections", Access::kUser, &Api::CreateSection},
      {"PATCH", "/api/v1/sections/:id", Access::kUser, &Api::PatchSection},
      {"DELETE", "/api/v1/sections/:id", Access::kUser, &Api::DeleteSection},
      {"POST", "/api/v1/sections/:id/resources", Access::kUser, &Api::CreateResource},
      {"PATCH", "/api/v1/resources/:id", Access::kUser, &Api::PatchResource},
      {"DELETE", "/api/v1/resources/:id", Access::kUser, &Api::DeleteResource},
      {"GET", "/api/v1/sync/conflicts", Access::kUser, &Api::ListSyncConflicts},
      {"GET", "/api/v1/health", Access::kPublic, &Api::Health},
      {"POST", "/api/v1/admin/time", Access::kAdmin, &Api::SetTime},
      {"GET", "/api/v1/admin/status", Access::kAdmin, &Api::AdminStatus},
      {"POST", "/api/v1/admin/sync", Access::kAdmin, &Api::AdminSync},
      {"GET", "/metrics", Access::kPublic, &Api::MetricsText},
      // Connectivity probes of tablets and laptops (see CaptiveProbe).
      {"GET", "/generate_204", Access::kPublic, &Api::CaptiveProbe},
      {"GET", "/gen_204", Access::kPublic, &Api::CaptiveProbe},
      {"GET", "/hotspot-detect.html", Access::kPublic, &Api::CaptiveProbe},
      {"GET", "/library/test/success.html", Access::kPublic, &Api::CaptiveProbe},
      {"GET", "/connecttest.txt", Access::kPublic, &Api::CaptiveProbe},
      {"GET", "/ncsi.txt", Access::kPublic, &Api::CaptiveProbe},
      {"GET", "/success.txt", Access::kPublic, &Api::CaptiveProbe},
      {"GET", "/canonical.html", Access::kPublic, &Api::CaptiveProbe},
      {"GET", "/check_network_status.txt", Access::kPublic, &Api::CaptiveProbe},
      {"GET", "/captive-portal-api", Access::kPublic, &Api::CaptivePortalApi},
      {"GET", "/installation", Access::kPublic, &Api::InstallationPage},  // installation_address only
      // The web app (box/assets.h): the shell for "/" and every app route, the service worker, the assets.
      {"GET", "/", Access::kPublic, &Api::AppShell},
      {"GET", "/app/*", Access::kPublic, &Api::AppShell},
      {"GET", "/sw.js", Access::kPublic, &Api::WebAsset},
      {"GET", "/assets/*", Access::kPublic, &Api::WebAsset},
      {"GET", "/ca.crt", Access::kPublic, &Api::CaCertificate},
  };
  return kRoutes;
}

Api::Api(content::School& school, const Config& config, const core::Clock& clock)
    : school_(school),
      config_(config),
      clock_(clock),
      sessions_(school.accounts(), clock, 30000, [&db = school.db()] { return db.outside_generation(); }),
      throttle_(clock, config.login_failures_per_account, config.login_failures_per_address),
      router_(
          *this, Routes(),
          {.access_event = "http.request",
           .exception_event = "http.exception",
           .internal_message = "internal error; the details are in the box's log",
           .caller_field = "user",
           .redacted_prefixes = {"/c/"}},  // a login card's token is a password: keep it out of the log
          [this](const Route& route, Call& call) { return Authenticate(route, call); },
          [](const Call& call) { return call.viewer.login; }),
      started_ms_(clock.MonotonicMs()) {
  std::vector<std::string> names;
  for (const Route& r : Routes()) names.push_back(std::string(r.method) + " " + r.pattern);
  names.push_back("other");
  metrics_.SetRouteNames(std::move(names));
}

void Api::Dispatch(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) {
  // Another process may have written (`relais sync`, `relais user`): the
  // session and response caches then start afresh with this request.
  school_.db().CheckOutsideWrites();
  Router::Outcome outcome = router_.Dispatch(req, res, reader);
  if (!res.has_header("X-Content-Type-Options")) res.set_header("X-Content-Type-Options", "nosniff");
  if (!res.has_header("Cache-Control")) res.set_header("Cache-Control", "no-store");
  metrics_.Observe(outcome.route, res.status, outcome.seconds);
}

// The route's access rule, checked before the handler reads any body: a
// session for kUser, an administrator's for kAdmin.
bool Api::Authenticate(const Route& route, Call& call) {
  if (route.access == Access::kPublic) return true;
  call.token = SessionCache::TokenOf(call.req);
  auto session = sessions_.Lookup(call.token);
  if (!session.ok()) {
    http::WriteError(call.res, session.status());
    return false;
  }
  call.viewer = session->viewer;
  call.viewer.address = call.req.remote_addr;
  call.display_name = session->display_name;
  call.expires_at = session->expires_at;
  if (route.access == Access::kAdmin && call.viewer.role != content::Role::kAdmin) {
    http::WriteError(call.res, Status::PermissionDenied("administrators only"));
    return false;
  }
  return true;
}

Result<json> Api::Body(Call& c) {
  if (!c.reader) return Status::InvalidArgument("the request needs a JSON body");
  return http::ReadJsonBody(c.req, *c.reader, config_.max_json_bytes);
}

void Api::AnswerDeleted(Call& c, const Status& st) {
  if (!st.ok()) return http::WriteError(c.res, st);
  http::WriteJson(c.res, {{"deleted", true}, {"id", c.params[0]}});
}

bool Api::AnswerFromCache(Call& c, std::string* key, uint64_t* generation) {
  // Taken before reading, so that a write during rendering makes the entry stale.
  *generation = school_.db().write_generation();
  *key = c.viewer.id + ' ' + c.req.target;
  auto body = cache_.Get(*key, *generation, clock_.MonotonicMs());
  if (!body) return false;
  c.res.status = 200;
  c.res.set_content(*body, "application/json; charset=utf-8");
  return true;
}

void Api::AnswerAndCache(Call& c, const std::string& key, uint64_t generation, const json& body) {
  auto text = std::make_shared<const std::string>(body.dump(-1, ' ', false, json::error_handler_t::replace));
  c.res.status = 200;
  c.res.set_content(*text, "application/json; charset=utf-8");
  cache_.Put(key, generation, clock_.MonotonicMs(), std::move(text));
}

// --- Sessions ---------------------------------------------------------------

void Api::Login(Call& c) {
  auto body = Body(c);
  if (!body.ok()) return http::WriteError(c.res, body.status());
  auto login = http::RequiredString(*body, "login", 256);
  if (!login.ok()) return http::WriteError(c.res, login.status());
  auto password = http::RequiredString(*body, "password", content::kMaxPasswordLength + 1);
  if (!password.ok()) return http::WriteError(c.res, password.status());
  std::string key = *login;
  for (char& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  int64_t retry_after = 0;
  if (Status st = throttle_.Check(key, c.req.remote_addr, &retry_after); !st.ok()) {
    c.res.set_header("Retry-After", std::to_string(retry_after));
    return http::WriteError(c.res, st);
  }
  auto user = school_.accounts().CheckPassword(*login, *password);
  if (!user.ok()) {
    metrics_.LoginResult(false);
    if (user.status().code() == StatusCode::kUnauthenticated) {
      throttle_.Failure(key, c.req.remote_addr);
      (void)school_.accounts().RecordLoginFailure(key, c.req.remote_addr);
    }
    return http::WriteError(c.res, user.status());
  }
  throttle_.Success(key);
  auto session = school_.accounts().CreateSession(*user, config_.session_ttl_s, c.req.remote_addr);
  if (!session.ok()) return http::WriteError(c.res, session.status());
  metrics_.LoginResult(true);
  AnswerWithSession(c, *session, 200);
}

void Api::AnswerWithSession(Call& c, const content::Session& session, int http_status) {
  c.res.set_header("Set-Cookie",
                   std::string(kSessionCookie) + "=" + session.token +
                       "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(config_.session_ttl_s));
  http::WriteJson(c.res,
                  {{"token", session.token},
                   {"expires_at", core::FormatTime(session.expires_at)},
                   {"user", UserSummary(session.viewer, session.display_name)}},
                  http_status);
}

void Api::Logout(Call& c) {
  Status st = school_.accounts().DeleteSession(c.token);
  sessions_.Forget(c.token);
  if (!st.ok()) return http::WriteError(c.res, st);
  c.res.set_header("Set-Cookie", std::string(kSessionCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  http::WriteJson(c.res, {{"logged_out", true}});
}

void Api::Me(Call& c) {
  http::WriteJson(c.res,
                  {{"user", UserSummary(c.viewer, c.display_name)}, {"expires_at", core::FormatTime(c.expires_at)}});
}

// --- First run ----------------------------------------------------------------

void Api::SetupState(Call& c) {
  auto code = school_.accounts().PrepareSetup();
  if (!code.ok()) return http::WriteError(c.res, code.status());
  auto school = school_.accounts().GetSetting("school_name");
  http::WriteJson(c.res, {{"needed", code->has_value()}, {"school_name", school.ok() ? json(*school) : json(nullptr)}});
}

void Api::CompleteSetup(Call& c) {
  auto body = Body(c);
  if (!body.ok()) return http::WriteError(c.res, body.status());
  auto code = http::RequiredString(*body, "code", 64);
  auto school = http::RequiredString(*body, "school_name", 1000);
  auto login = http::RequiredString(*body, "login", 64);
  auto password = http::RequiredString(*body, "password", content::kMaxPasswordLength);
  auto display = http::OptionalString(*body, "display_name", 200);
  for (const Status* st : {&code.status(), &school.status(), &login.status(), &password.status(), &display.status()})
    if (!st->ok()) return http::WriteError(c.res, *st);
  // The code is a password: guesses are throttled like logins.
  int64_t retry_after = 0;
  if (Status st = throttle_.Check("(setup)", c.req.remote_addr, &retry_after); !st.ok()) {
    c.res.set_header("Retry-After", std::to_string(retry_after));
    return http::WriteError(c.res, st);
  }
  content::NewUser admin{*login, display->value_or(""), content::Role::kAdmin, *password, std::nullopt};
  auto user = school_.accounts().CompleteSetup(*code, *school, admin);
  if (!user.ok()) {
    if (user.status().code() == StatusCode::kPermissionDenied) throttle_.Failure("(setup)", c.req.remote_addr);
    return http::WriteError(c.res, user.status());
  }
  std::error_code ec;
  std::filesystem::remove(school_.data_dir() / "setup-code.txt", ec);
  auto session = school_.accounts().CreateSession(*user, config_.session_ttl_s, c.req.remote_addr);
  if (!session.ok()) return http::WriteError(c.res, session.status());
  AnswerWithSession(c, *session, 201);
}

// --- Classes and users ------------------------------------------------------

void Api::ListClasses(Call& c) {
  std::string key;
  uint64_t generation;
  if (AnswerFromCache(c, &key, &generation)) return;
  auto classes = school_.accounts().ClassesOf(c.viewer);
  if (!classes.ok()) return http::WriteError(c.res, classes.status());
  AnswerAndCache(c, key, generation, {{"classes", ToJsonList(*classes)}});
}

void Api::CreateClass(Call& c) {
  auto body = Body(c);
  if (!body.ok()) return http::WriteError(c.res, body.status());
  auto name = http::RequiredString(*body, "name", 200);
  if (!name.ok()) return http::WriteError(c.res, name.status());
  auto created = school_.accounts().CreateClass(&c.viewer, *name);
  if (!created.ok()) return http::WriteError(c.res, created.status());
  http::WriteJson(c.res, ToJson(*created), 201);
}

void Api::ListMembers(Call& c) {
  auto members = school_.accounts().Members(c.viewer, c.params[0]);
  if (!members.ok()) return http::WriteError(c.res, members.status());
  http::WriteJson(c.res, {{"members", ToJsonList(*members)}});
}

void Api::AddMember(Call& c) {
  auto body = Body(c);
  if (!body.ok()) return http::WriteError(c.res, body.status());
  auto user_id = http::OptionalString(*body, "user_id", 64);
  if (!user_id.ok()) return http::WriteError(c.res, user_id.status());
  auto login = http::OptionalString(*body, "login", 64);
  if (!login.ok()) return http::WriteError(c.res, login.status());
  std::string id;
  if (*user_id) {
    id = **user_id;
  } else if (*login) {
    auto user = school_.accounts().FindUser(**login);
    if (!user.ok()) return http::WriteError(c.res, user.status());
    id = user->id;
  } else {
    return http::WriteError(c.res, Status::InvalidArgument("'user_id' or 'login' is required"));
  }
  auto member = school_.accounts().AddMember(&c.viewer, c.params[0], id);
  if (!member.ok()) return http::WriteError(c.res, member.status());
  http::WriteJson(c.res, ToJson(*member), 201);
}

void Api::ListUsers(Call& c) {
  content::UserFilter filter;
  if (c.req.has_param("class_id")) filter.class_id = c.req.get_param_value("class_id");
  filter.search = c.req.get_param_value("q").substr(0, 100);
  if (c.req.has_param("role")) {
    filter.role = content::ParseRole(c.req.get_param_value("role"));
    if (!filter.role)
      return http::WriteError(c.res, Status::InvalidArgument("'role' must be student, teacher or admin"));
  }
  auto users = school_.accounts().FindUsers(c.viewer, filter);
  if (!users.ok()) return http::WriteError(c.res, users.status());
  http::WriteJson(c.res, {{"users", ToJsonList(*users)}});
}

void Api::PatchUser(Call& c) {
  auto body = Body(c);
  if (!body.ok()) return http::WriteError(c.res, body.status());
  auto name = http::OptionalString(*body, "display_name", 1000);
  auto disabled = http::OptionalBool(*body, "disabled");
  for (const Status* st : {&name.status(), &disabled.status()})
    if (!st->ok()) return http::WriteError(c.res, *st);
  for (const auto& [key, value] : body->items())
    if (key != "display_name" && key != "disabled")
      return http::WriteError(c.res, Status::InvalidArgument("'" + key + "' cannot be changed"));
  auto user = school_.accounts().UpdateUser(c.viewer, c.params[0], *name, *disabled);
  if (!user.ok()) return http::WriteError(c.res, user.status());
  if (user->disabled) sessions_.ForgetUser(user->id);
  http::WriteJson(c.res, ToJson(*user));
}

void Api::PatchClass(Call& c) {
  auto body = Body(c);
  if (!body.ok()) return http::WriteError(c.res, body.status());
  auto name = http::RequiredString(*body, "name", 200);
  if (!name.ok()) return http::WriteError(c.res, name.status());
  auto renamed = school_.accounts().RenameClass(c.viewer, c.params[0], *name);
  if (!renamed.ok()) return http::WriteError(c.res, renamed.status());
  http::WriteJson(c.res, ToJson(*renamed));
}

void Api::DeleteClass(Call& c) { AnswerDeleted(c, school_.accounts().DeleteClass(c.viewer, c.params[0])); }

void Api::RemoveMember(Call& c) {
  Status st = school_.accounts().RemoveMember(c.viewer, c.params[0], c.params[1]);
  if (!st.ok()) return http::WriteError(c.res, st);
  http::WriteJson(c.res, {{"removed", true}, {"class_id", c.params[0]}, {"user_id", c.params[1]}});
}

// The body is the CSV file itself (the format of `relais roster import`).
void Api::ImportRoster(Call& c) {
  auto csv = http::ReadBody(c.req, *c.reader, config_.max_json_bytes);
  if (!csv.ok()) return http::WriteError(c.res, csv.status());
  auto report = school_.accounts().ImportRoster(&c.viewer, *csv);
  if (!report.ok()) return http::WriteError(c.res, report.status());
  if (!report->errors.empty()) {
    json lines = json::array();
    for (const content::RosterError& e : report->errors) lines.push_back({{"line", e.line}, {"message", e.message}});
    std::string message = std::to_string(report->errors.size()) + " error(s) in the file: nothing was imported";
    return http::WriteJson(c.res, {{"error", {{"code", "invalid_argument"}, {"message", message}, {"lines", lines}}}},
                           400);
  }
  json accounts = json::array();
  for (const auto& [login, password] : report->new_passwords) {
    json account = {{"login", login}, {"password", password}};
    for (const content::RosterLine& l : report->lines)
      if (l.login == login)
        account.update({{"display_name", l.display_name}, {"role", l.role}, {"class", l.class_name}});
    accounts.push_back(account);
  }
  http::WriteJson(c.res, {{"created", report->created},
                          {"updated", report->updated},
                          {"unchanged", report->unchanged},
                          {"classes_created", report->classes_created},
                          {"accounts", accounts}});
}

void Api::ListSyncConflicts(Call& c) {
  sync::Replica replica(school_);
  auto conflicts = replica.OpenConflicts(c.viewer, 200);
  if (!conflicts.ok()) return http::WriteError(c.res, conflicts.status());
  http::WriteJson(c.res, {{"conflicts", ToJsonList(*conflicts)}});
}

void Api::CreateUser(Call& c) {
  auto body = Body(c);
  if (!body.ok()) return http::WriteError(c.res, body.status());
  content::NewUser nu;
  auto login = http::RequiredString(*body, "login", 64);
  if (!login.ok()) return http::WriteError(c.res, login.status());
  auto password = http::RequiredString(*body, "password", content::kMaxPasswordLength);
  if (!password.ok()) return http::WriteError(c.res, password.status());
  auto role = http::RequiredString(*body, "role", 16);
  if (!role.ok()) return http::WriteError(c.res, role.status());
  auto display = http::OptionalString(*body, "display_name", 200);
  if (!display.ok()) return http::WriteError(c.res, display.status());
  auto class_id = http::OptionalString(*body, "class_id", 64);
  if (!class_id.ok()) return http::WriteError(c.res, class_id.status());
  auto parsed_role = content::ParseRole(*role);
  if (!parsed_role) return http::WriteError(c.res, Status::InvalidArgument("'role' must be student, teacher or admin"));
  nu.login = *login;
  nu.password = *password;
  nu.role = *parsed_role;
  nu.display_name = display->value_or("");
  if (*class_id) {
    // Joined in the creation's transaction, so a bad class leaves no user behind.
    auto classes = school_.accounts().ClassesOf(c.viewer);
    if (!classes.ok()) return http::WriteError(c.res, classes.status());
    for (const content::ClassInfo& k : *classes)
      if (k.id == **class_id) nu.class_name = k.name;
    if (!nu.class_name) return http::WriteError(c.res, Status::NotFound("no such class"));
  }
  auto user = school_.accounts().CreateUser(&c.viewer, nu);
  if (!user.ok()) return http::WriteError(c.res, user.status());
  http::WriteJson(c.res, ToJson(*user), 201);
}

void Api::ResetPassword(Call& c) {
  auto body = Body(c);
  if (!body.ok()) return http::WriteError(c.res, body.status());
  auto password = http::OptionalString(*body, "password", content::kMaxPasswordLength);
  if (!password.ok()) return http::WriteError(c.res, password.status());
  auto chosen = school_.accounts().ResetPassword(c.viewer, c.params[0], *password);
  if (!chosen.ok()) return http::WriteError(c.res, chosen.status());
  sessions_.ForgetUser(c.params[0]);
  json answer = {{"user_id", c.params[0]}, {"sessions_ended", true}};
  if (!*password) answer["password"] = *chosen;  // generated: shown once, to hand to the pupil
  http::WriteJson(c.res, answer);
}

// --- Login cards ------------------------------------------------------------

void Api::IssueLoginCards(Call& c) {
  auto body = Body(c);
  if (!body.ok()) return http::WriteError(c.res, body.status());
  auto user_ids = http::OptionalStringList(*body, "user_ids", 1000);
  if (!user_ids.ok()) return http::WriteError(c.res, user_ids.status());
  auto cards = school_.login_cards().Issue(c.viewer, c.params[0], user_ids->value_or(std::vector<std::string>()));
  if (!cards.ok()) return http::WriteError(c.res, cards.status());
  json out = json::array();
  for (const content::LoginCard& card : *cards) {
    std::string url = BoxOrigin(c.req) + "/c/" + card.token;
    auto svg = QrSvg(url);
    if (!svg.ok()) return http::WriteError(c.res, svg.status());
    out.push_back({{"user", ToJson(card.student)}, {"url", url}, {"qr_svg", *svg}, {"issued_at", card.issued_at}});
  }
  http::WriteJson(c.res, {{"class_id", c.params[0]}, {"cards", out}}, 201);
}

void Api::ListLoginCards(Call& c) {
  auto cards = school_.login_cards().List(c.viewer, c.params[0]);
  if (!cards.ok()) return http::WriteError(c.res, cards.status());
  json out = json::array();
  for (const content::LoginCard& card : *cards)
    out.push_back(
        {{"user", ToJson(card.student)}, {"issued_at", card.issued_at.empty() ? json(nullptr) : json(card.issued_at)}});
  http::WriteJson(c.res, {{"class_id", c.params[0]}, {"cards", out}});
}

// A scanned card: log the student in and open the app. Failures also go to
// the app, which explains them (?card=invalid or ?card=rate_limited).
void Api::CardLogin(Call& c) {
  std::string key = "(card) " + c.req.remote_addr;  // no account to lock: lock the device
  int64_t retry_after = 0;
  c.res.status = 303;
  c.res.set_header("Referrer-Policy", "no-referrer");
  if (!throttle_.Check(key, c.req.remote_addr, &retry_after).ok()) {
    c.res.set_header("Retry-After", std::to_string(retry_after));
    return c.res.set_header("Location", "/?card=rate_limited");
  }
  auto user = school_.login_cards().Redeem(c.params[0]);
  if (!user.ok()) {
    metrics_.LoginResult(false);
    if (user.status().code() != StatusCode::kUnauthenticated) return http::WriteError(c.res, user.status());
    throttle_.Failure(key, c.req.remote_addr);
    (void)school_.accounts().RecordLoginFailure("(card)", c.req.remote_addr);
    return c.res.set_header("Location", "/?card=invalid");
  }
  throttle_.Success(key);
  auto session = school_.accounts().CreateSession(*user, config_.session_ttl_s, c.req.remote_addr);
  if (!session.ok()) return http::WriteError(c.res, session.status());
  metrics_.LoginResult(true);
  AnswerWithSession(c, *session, 303);
  c.res.set_header("Location", "/");
}

// --- Files ------------------------------------------------------------------

void Api::Upload(Call& c) {
  // Refused before reading: the transport closes the connection after the answer.
  if (std::strtoull(c.req.get_header_value("Content-Length").c_str(), nullptr, 10) > config_.max_upload_bytes)
    return http::WriteError(c.res,
                            Status::TooLarge("the file is over the limit of " + SizeText(config_.max_upload_bytes)));
  std::string name = http::PercentDecode(c.req.get_header_value("X-Filename"));
  std::string declared = http::BaseContentType(c.req.get_header_value("Content-Type"));
  auto writer = school_.blobs().NewWriter(config_.max_upload_bytes);
  if (!writer.ok()) return http::WriteError(c.res, writer.status());
  Status write_status;
  bool complete = (*c.reader)([&](const char* data, size_t n) {
    write_status = (*writer)->Write(std::string_view(data, n));
    return write_status.ok();
  });
  if (!write_status.ok()) {
    if (write_status.code() == StatusCode::kTooLarge)
      write_status = Status::TooLarge("the file is over the limit of " + SizeText(config_.max_upload_bytes));
    return http::WriteError(c.res, write_status);
  }
  if (!complete) return http::WriteError(c.res, Status::InvalidArgument("the upload was cut before its end"));
  auto type = content::CheckUpload(name, declared, (*writer)->head(), (*writer)->size());
  if (!type.ok()) return http::WriteError(c.res, type.status());
  auto blob = (*writer)->Finish();
  if (!blob.ok()) return http::WriteError(c.res, blob.status());
  metrics_.UploadBytes(blob->size);
  auto file = school_.files().Record(c.viewer, *blob, *type, name);
  if (!file.ok()) return http::WriteError(c.res, file.status());
  http::WriteJson(c.res, ToJson(*file), 201);
}

void Api::Download(Call& c) {
  // Which files a user may read changes only with writes: remember the answer.
  uint64_t generation = school_.db().write_generation();
  std::string key = c.viewer.id + ' ' + c.params[0];
  auto file = readable_files_.Get(key, generation, clock_.MonotonicMs());
  if (!file) {
    auto found = school_.files().GetReadable(c.viewer, c.params[0]);
    if (!found.ok()) return http::WriteError(c.res, found.status());
    file = std::make_shared<const content::FileInfo>(std::move(found).value());
    readable_files_.Put(key, generation, clock_.MonotonicMs(), file);
  }
  http::StoredFile stored;
  stored.path = school_.blobs().PathFor(file->sha256).string();
  stored.size = file->size;
  stored.etag = file->sha256;
  stored.last_modified = core::ParseTime(file->created_at).value_or(0);
  stored.content_type = file->content_type;
  stored.filename = file->name;
  stored.inline_disposition = c.req.get_param_value("download") != "1";
  stored.active_content = content::IsActiveContent(file->content_type);
  http::ServeFile(c.req, c.res, stored);
}

void Api::FileInfo(Call& c) {
  auto file = school_.files().GetReadable(c.viewer, c.params[0]);
  if (!file.ok()) return http::WriteError(c.res, file.status());
  http::WriteJson(c.res, ToJson(*file));
}

// --- Homework ---------------------------------------------------------------

void Api::CreateHomework(Call& c) {
  auto body = Body(c);
  if (!body.ok()) return http::WriteError(c.res, body.status());
  content::HomeworkInput in;
  auto class_id = http::RequiredString(*body, "class_id", 64);
  if (!class_id.ok()) return http::WriteError(c.res, class_id.status());
  auto subject = http::RequiredString(*body, "subject", 1000);
  if (!subject.ok()) return http::WriteError(c.res, subject.status());
  auto title = http::RequiredString(*body, "title", 2000);
  if (!title.ok()) return http::WriteError(c.res, title.status());
  auto instructions = http::OptionalString(*body, "instructions", 200000);
  if (!instructions.ok()) return http::WriteError(c.res, instructions.status());
  auto due = http::OptionalTime(*body, "due_at", true);
  if (!due.ok()) return http::WriteError(c.res, due.status());
  if (!*due) return http::WriteError(c.res, Status::InvalidArgument("'due_at' is required"));
  auto given = http::OptionalTime(*body, "given_at", false);
  if (!given.ok()) return http::WriteError(c.res, given.status());
  auto attachments = http::OptionalStringList(*body, "attachments", content::kMaxAttachments);
  if (!attachments.ok()) return http::WriteError(c.res, attachments.status());
  auto published = http::OptionalBool(*body, "published");
  if (!published.ok()) return http::WriteError(c.res, published.status());
  in.class_id = *class_id;
  in.subject = *subject;
  in.title = *title;
  in.instructions = instructions->value_or("");
  in.due_at = **due;
  in.given_at = *given;
  in.attachments = attachments->value_or(std::vector<std::string>());
  in.published = published->value_or(false);
  auto created = school_.homework().Create(c.viewer, in);
  if (!created.ok()) return http::WriteError(c.res, created.status());
  http::WriteJson(c.res, ToJson(*created), 201);
}

void Api::ListHomework(Call& c) {
  content::HomeworkFilter filter;
  if (c.req.has_param("class_id")) filter.class_id = c.req.get_param_value("class_id");
  for (auto [name, end_of_day, slot] : {std::tuple{"from", false, &filter.from}, std::tuple{"to", true, &filter.to}}) {
    if (!c.req.has_param(name)) continue;
    auto t = core::ParseTime(c.req.get_param_value(name), end_of_day);
    if (!t)
      return http::WriteError(c.res, Status::InvalidArgument(std::string("'") + name +
                                                             "' must be a date like 2026-11-30 or a date and time"));
    *slot = *t;
  }
  std::string key;
  uint64_t generation;
  if (AnswerFromCache(c, &key, &generation)) return;
  auto list = school_.homework().List(c.viewer, filter);
  if (!list.ok()) return http::WriteError(c.res, list.status());
  AnswerAndCache(c, key, generation, {{"homework", ToJsonList(*list)}});
}

void Api::GetHomework(Call& c) {
  auto h = school_.homework().Get(c.viewer, c.params[0]);
  if (!h.ok()) return http::WriteError(c.res, h.status());
  http::WriteJson(c.res, ToJson(*h));
}

void Api::PatchHomework(Call& c) {
  auto body = Body(c);
  if (!body.ok()) return http::WriteError(c.res, body.status());
  content::HomeworkPatch patch;
  auto subject = http::OptionalString(*body, "subject", 1000);
  auto title = http::OptionalString(*body, "title", 2000);
  auto instructions = http::OptionalString(*body, "instructions", 200000);
  auto due = http::OptionalTime(*body, "due_at", true);
  auto attachments = http::OptionalStringList(*body, "attachments", content::kMaxAttachments);
  auto published = http::OptionalBool(*body, "published");
  for (const Status* st : {&subject.status(), &title.status(), &instructions.status(), &due.status(),
                           &attachments.status(), &published.status()})
    if (!st->ok()) return http::WriteError(c.res, *st);
  for (const auto& [key, value] : body->items())
    if (key != "subject" && key != "title" && key != "instructions" && key != "due_at" && key != "attachments" &&
        key != "published")
      return http::WriteError(c.res, Status::InvalidArgument("'" + key + "' cannot be changed"));
  patch.subject = *subject;
  patch.title = *title;
  patch.instructions = *instructions;
  patch.due_at = *due;
  patch.attachments = *attachments;
  patch.published = *published;
  auto updated = school_.homework().Update(c.viewer, c.params[0], patch);
  if (!updated.ok()) return http::WriteError(c.res, updated.status());
  http::WriteJson(c.res, ToJson(*updated));
}

void Api::DeleteHomework(Call& c) { AnswerDeleted(c, school_.homework().Delete(c.viewer, c.params[0])); }

// --- Submissions and feedback -------------------------------------------------

void Api::HandIn(Call& c) {
  auto body = Body(c);
  if (!body.ok()) return http::WriteError(c.res, body.status());
  auto text = http::OptionalString(*body, "text", 200000);
  if (!text.ok()) return http::WriteError(c.res, text.status());
  auto files = http::OptionalStringList(*body, "files", content::kMaxSubmissionFiles);
  if (!files.ok()) return http::WriteError(c.res, files.status());
  auto s = school_.submissions().HandIn(c.viewer, c.params[0], text->value_or(""),
                                        files->value_or(std::vector<std::string>()));
  if (!s.ok()) return http::WriteError(c.res, s.status());
  http::WriteJson(c.res, ToJson(*s), 201);
}

void Api::ListSubmissions(Call& c) {
  auto list = school_.submissions().ListForHomework(c.viewer, c.params[0]);
  if (!list.ok()) return http::WriteError(c.res, list.status());
  http::WriteJson(c.res, {{"submissions", ToJsonList(*list)}});
}

void Api::GetSubmission(Call& c) {
  auto s = school_.submissions().Get(c.viewer, c.params[0]);
  if (!s.ok()) return http::WriteError(c.res, s.status());
  http::WriteJson(c.res, ToJson(*s));
}

void Api::ReturnSubmission(Call& c) {
  auto body = Body(c);
  if (!body.ok()) return http::WriteError(c.res, body.status());
  auto comment = http::OptionalString(*body, "comment", 100000);
  if (!comment.ok()) return http::WriteError(c.res, comment.status());
  auto grade = http::OptionalNumber(*body, "grade");
  if (!grade.ok()) return http::WriteError(c.res, grade.status());
  auto files = http::OptionalStringList(*body, "files", content::kMaxSubmissionFiles);
  if (!files.ok()) return http::WriteError(c.res, files.status());
  content::FeedbackInput in{comment->value_or(""), *grade, files->value_or(std::vector<std::string>())};
  auto f = school_.submissions().Return(c.viewer, c.params[0], in);
  if (!f.ok()) return http::WriteError(c.res, f.status());
  http::WriteJson(c.res, ToJson(*f), 201);
}

// --- Courses, sections, resources --------------------------------------------

namespace {
// An optional integer "position" field.
Result<std::optional<int>> OptionalPosition(const json& body) {
  RELAIS_ASSIGN_OR_RETURN(auto n, http::OptionalNumber(body, "position"));
  if (!n) return std::optional<int>();
  if (*n < 0 || *n > 100000 || *n != static_cast<int>(*n))
    return Status::InvalidArgument("'position' must be a whole number from 0 to 100000");
  return std::optional<int>(static_cast<int>(*n));
}
}  // namespace

void Api::PatchTitleAndPosition(
    Call& c, const std::function<Result<json>(const std::optional<std::string>&, std::optional<int>)>& update) {
  auto body = Body(c);
  if (!body.ok()) return http::WriteError(c.res, body.status());
  auto title = http::OptionalString(*body, "title", 1000);
  if (!title.ok()) return http::WriteError(c.res, title.status());
  auto position = OptionalPosition(*body);
  if (!position.ok()) return http::WriteError(c.res, position.status());
  auto updated = update(*title, *position);
  if (!updated.ok()) return http::WriteError(c.res, updated.status());
  http::WriteJson(c.res, *updated);
}

void Api::ListCourses(Call& c) {
  auto courses = school_.courses().ListForClass(c.viewer, c.params[0]);
  if (!courses.ok()) return http::WriteError(c.res, courses.status());
  http::WriteJson(c.res, {{"courses", ToJsonList(*courses)}});
}

void Api::CreateCourse(Call& c) {
  auto body = Body(c);
  if (!body.ok()) return http::WriteError(c.res, body.status());
  auto title = http::RequiredString(*body, "title", 1000);
  if (!title.ok()) return http::WriteError(c.res, title.status());
  auto course = school_.courses().Create(c.viewer, c.params[0], *title);
  if (!course.ok()) return http::WriteError(c.res, course.status());
  http::WriteJson(c.res, ToJson(*course), 201);
}

void Api::GetCourse(Call& c) {
  auto course = school_.courses().Get(c.viewer, c.params[0]);
  if (!course.ok()) return http::WriteError(c.res, course.status());
  http::WriteJson(c.res, ToJson(*course));
}

void Api::PatchCourse(Call& c) {
  auto body = Body(c);
  if (!body.ok()) return http::WriteError(c.res, body.status());
  auto title = http::RequiredString(*body, "title", 1000);
  if (!title.ok()) return http::WriteError(c.res, title.status());
  auto course = school_.courses().Rename(c.viewer, c.params[0], *title);
  if (!course.ok()) return http::WriteError(c.res, course.status());
  http::WriteJson(c.res, ToJson(*course));
}

void Api::DeleteCourse(Call& c) { AnswerDeleted(c, school_.courses().Delete(c.viewer, c.params[0])); }

void Api::CreateSection(Call& c) {
  auto body = Body(c);
  if (!body.ok()) return http::WriteError(c.res, body.status());
  auto title = http::RequiredString(*body, "title", 1000);
  if (!title.ok()) return http::WriteError(c.res, title.status());
  auto position = OptionalPosition(*body);
  if (!position.ok()) return http::WriteError(c.res, position.status());
  auto section = school_.courses().AddSection(c.viewer, c.params[0], *title, *position);
  if (!section.ok()) return http::WriteError(c.res, section.status());
  http::WriteJson(c.res, ToJson(*section), 201);
}

void Api::PatchSection(Call& c) {
  PatchTitleAndPosition(c, [&](const std::optional<std::string>& title, std::optional<int> position) {
    auto section = school_.courses().UpdateSection(c.viewer, c.params[0], title, position);
    return section.ok() ? Result<json>(ToJson(*section)) : Result<json>(section.status());
  });
}

void Api::DeleteSection(Call& c) { AnswerDeleted(c, school_.courses().DeleteSection(c.viewer, c.params[0])); }

void Api::CreateResource(Call& c) {
  auto body = Body(c);
  if (!body.ok()) return http::WriteError(c.res, body.status());
  content::ResourceInput in;
  auto kind = http::RequiredString(*body, "kind", 16);
  auto title = http::RequiredString(*body, "title", 1000);
  auto file_id = http::OptionalString(*body, "file_id", 64);
  auto url = http::OptionalString(*body, "url", 4000);
  auto text = http::OptionalString(*body, "body", 200000);
  auto position = OptionalPosition(*body);
  for (const Status* st :
       {&kind.status(), &title.status(), &file_id.status(), &url.status(), &text.status(), &position.status()})
    if (!st->ok()) return http::WriteError(c.res, *st);
  in.kind = *kind;
  in.title = *title;
  in.file_id = *file_id;
  in.url = *url;
  in.body = *text;
  in.position = *position;
  auto resource = school_.courses().AddResource(c.viewer, c.params[0], in);
  if (!resource.ok()) return http::WriteError(c.res, resource.status());
  http::WriteJson(c.res, ToJson(*resource), 201);
}

void Api::PatchResource(Call& c) {
  PatchTitleAndPosition(c, [&](const std::optional<std::string>& title, std::optional<int> position) {
    auto resource = school_.courses().UpdateResource(c.viewer, c.params[0], title, position);
    return resource.ok() ? Result<json>(ToJson(*resource)) : Result<json>(resource.status());
  });
}

void Api::DeleteResource(Call& c) { AnswerDeleted(c, school_.courses().DeleteResource(c.viewer, c.params[0])); }

// --- Box --------------------------------------------------------------------

// The box has no battery-backed clock and is often offline: an admin reads
// the time on their own device and sets it here.
void Api::SetTime(Call& c) {
  auto body = Body(c);
  if (!body.ok()) return http::WriteError(c.res, body.status());
  auto text = http::RequiredString(*body, "time", 64);
  if (!text.ok()) return http::WriteError(c.res, text.status());
  auto t = core::ParseTime(*text);
  // Earlier than this code, or after 2100: a typo, not a time.
  if (!t || *t < 1767225600 || *t > 4102444800)
    return http::WriteError(c.res,
                            Status::InvalidArgument("time must be like 2026-09-01T08:30:00Z, between 2026 and 2100"));
  int64_t before = clock_.Now();
  Status st = set_time_ ? set_time_(*t) : Status::PermissionDenied("this server does not set the clock");
  if (!st.ok()) return http::WriteError(c.res, st);
  core::LogEvent("admin.set_time",
                 {{"user", c.viewer.login}, {"from", core::FormatTime(before)}, {"to", core::FormatTime(*t)}});
  http::WriteJson(c.res, {{"time", core::FormatTime(clock_.Now())}});
}

void Api::Health(Call& c) {
  auto free = core::FreeDiskBytes(school_.data_dir());
  double uptime = static_cast<double>(clock_.MonotonicMs() - started_ms_) / 1000.0;
  http::WriteJson(c.res, {{"status", "ok"},
                          {"version", RELAIS_VERSION},
                          {"uptime_s", static_cast<int64_t>(uptime)},
                          {"time", core::FormatTime(clock_.Now())},
                          {"disk_free_bytes", free.ok() ? json(*free) : json(nullptr)},
                          {"sync", SyncStatusJson()}});
}

// The box's sync with the gateway (box/box_sync.h): null before enrolment.
json Api::SyncStatusJson() {
  auto status = box::ReadBoxSyncStatus(school_, school_.data_dir());
  if (!status.ok() || !status->enrolled) return nullptr;
  auto or_null = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  json out = {{"last_sync", or_null(status->last_sync)},
              {"pending", status->pending},
              {"last_error", or_null(status->last_error)},
              {"automatic", false},
              {"running", false},
              {"next_attempt", nullptr},
              {"failures", 0}};
  if (auto_sync_) {
    AutoSync::State state = auto_sync_->state();
    out["automatic"] = state.enabled;
    out["running"] = state.running;
    out["failures"] = state.failures;
    if (state.next_attempt > 0) out["next_attempt"] = core::FormatTime(state.next_attempt);
  }
  return out;
}

// Wakes the automatic sync; the round runs in the background.
void Api::AdminSync(Call& c) {
  if (!auto_sync_) return http::WriteError(c.res, Status::Conflict("this server does not sync automatically"));
  json sync = SyncStatusJson();
  if (!sync.is_object()) return http::WriteError(c.res, Status::Conflict("this box has not enrolled with a gateway"));
  auto_sync_->SyncNow();
  core::LogEvent("admin.sync_now", {{"user", c.viewer.login}});
  http::WriteJson(c.res, {{"sync", SyncStatusJson()}}, 202);
}

void Api::AdminStatus(Call& c) {
  constexpr int64_t kConnectedWindowS = 5 * 60;
  const auto& dir = school_.data_dir();
  auto free = core::FreeDiskBytes(dir);
  auto total = core::DiskTotalBytes(dir);
  auto used = core::DirectoryBytes(dir);
  auto school = school_.accounts().GetSetting("school_name");
  auto or_null = [](const Result<uint64_t>& r) { return r.ok() ? json(*r) : json(nullptr); };
  json sync = SyncStatusJson();
  http::WriteJson(
      c.res, {{"version", RELAIS_VERSION},
              {"uptime_s", (clock_.MonotonicMs() - started_ms_) / 1000},
              {"time", core::FormatTime(clock_.Now())},
              {"school_name", school.ok() ? json(*school) : json(nullptr)},
              {"disk", {{"data_bytes", or_null(used)}, {"free_bytes", or_null(free)}, {"total_bytes", or_null(total)}}},
              {"connected_users", sessions_.ActiveUsers(kConnectedWindowS * 1000)},
              {"connected_window_s", kConnectedWindowS},
              {"last_sync", sync.is_object() ? sync["last_sync"] : json(nullptr)},
              {"sync", sync}});
}

// The box's DNS sends the operating systems' connectivity checks here. Each
// gets the exact answer that means "this network works", so tablets stay on
// the box's Wi-Fi without a "no internet" warning (the pop-up browser of a
// captive portal cannot download files; the app opens in the real browser).
void Api::CaptiveProbe(Call& c) {
  struct Answer {
    const char* path;
    int status;
    const char* type;
    const char* body;
  };
  static const Answer kAnswers[] = {
      {"/generate_204", 204, "text/plain", ""},  // Android, Chrome OS
      {"/gen_204", 204, "text/plain", ""},
      {"/hotspot-detect.html", 200, "text/html",  // iOS, iPadOS, macOS
       "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>"},
      {"/library/test/success.html", 200, "text/html",
       "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>"},
      {"/connecttest.txt", 200, "text/plain", "Microsoft Connect Test"},  // Windows 10/11
      {"/ncsi.txt", 200, "text/plain", "Microsoft NCSI"},                 // older Windows
      {"/success.txt", 200, "text/plain", "success\n"},                   // Firefox
      {"/canonical.html", 200, "text/html",
       "<meta http-equiv=\"refresh\" content=\"0;url=https://support.mozilla.org/kb/captive-portal\"/>"},
      {"/check_network_status.txt", 200, "text/plain", "NetworkManager is online\n"},  // Linux desktops
  };
  for (const Answer& a : kAnswers) {
    if (c.req.path != a.path) continue;
    c.res.status = a.status;
    if (a.status != 204) c.res.set_content(a.body, a.type);
    return;
  }
  http::WriteError(c.res, 404, "not_found", "no such endpoint: " + c.req.path);
}

// RFC 8908: the box is not a captive portal; its app is where to go.
void Api::CaptivePortalApi(Call& c) {
  c.res.status = 200;
  c.res.set_content(json({{"captive", false}, {"user-portal-url", BoxOrigin(c.req) + "/"}}).dump(),
                    "application/captive+json");
}

// The technician's page on the SD image: the box's Wi-Fi name and passphrase (DATA/installation.txt,
// written by its first boot) and the app's setup code while the school has no administrator. It exists
// only for connections made to `installation_address`, which the box's firewall lets only its Ethernet
// port reach; a tablet on the box's Wi-Fi cannot open it.
void Api::InstallationPage(Call& c) {
  if (config_.installation_address.empty() || c.req.local_addr != config_.installation_address)
    return http::WriteError(c.res, 404, "not_found", "no such endpoint: " + c.req.path);
  auto code = school_.accounts().PrepareSetup();
  if (!code.ok()) return http::WriteError(c.res, code.status());
  auto box = core::ReadFile(config_.data_dir / "installation.txt");
  std::string text = "Boîte Relais : informations pour l'installation\n\n";
  text += box.ok() ? *box : std::string("(pas de fichier installation.txt : Wi-Fi non configuré par cette boîte)\n");
  if (code->has_value())
    text.append("Code d'installation de l'application : ")
        .append(**code)
        .append("\nOuvrez http://ecole.lan/ pour l'utiliser.\n");
  else
    text += "L'application a déjà son administrateur.\n";
  c.res.set_header("Cache-Control", "no-store");
  c.res.status = 200;
  c.res.set_content(std::move(text), "text/plain; charset=utf-8");
}

bool Api::StaysOnPlainHttp(std::string_view path) {
  for (const Route& r : Routes())
    if ((r.handler == &Api::CaptiveProbe || r.handler == &Api::CaptivePortalApi || r.handler == &Api::CaCertificate ||
         r.handler == &Api::InstallationPage || r.handler == &Api::Health) &&
        path == r.pattern)
      return true;
  return false;
}

// The box's own CA (`relais tls init`), for tablets to install.
void Api::CaCertificate(Call& c) {
  auto pem = core::ReadFile(BoxTlsDir(config_.data_dir) / "ca.crt");
  if (!pem.ok()) return http::WriteError(c.res, 404, "not_found", "this box has no certificate authority of its own");
  c.res.set_header("Content-Disposition", "attachment; filename=\"relais-ca.crt\"");
  c.res.set_header("Cache-Control", "no-cache");
  c.res.status = 200;
  c.res.set_content(std::move(pem).value(), "application/x-x509-ca-cert");
}

void Api::MetricsText(Call& c) {
  auto free = core::FreeDiskBytes(school_.data_dir());
  double uptime = static_cast<double>(clock_.MonotonicMs() - started_ms_) / 1000.0;
  c.res.set_content(metrics_.Render(uptime, free.ok() ? *free : 0, sessions_.size()),
                    "text/plain; version=0.0.4; charset=utf-8");
}

// --- The web app ---------------------------------------------------------------

void Api::AppShell(Call& c) {
  const EmbeddedAsset* shell = FindAsset("/");
  if (!shell) return http::WriteError(c.res, 404, "not_found", "this build has no web app");
  ServeAsset(c.req, c.res, *shell);
}

void Api::WebAsset(Call& c) {
  const EmbeddedAsset* asset = FindAsset(c.req.path);
  if (!asset) return http::WriteError(c.res, 404, "not_found", "no such file: " + c.req.path);
  ServeAsset(c.req, c.res, *asset);
}

}  // namespace relais::box

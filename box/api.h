// box/api.h — the HTTP API under /api/v1, plus /metrics.
//
// All routes are in one table (Api::Routes in api.cc), one line each, with
// the access they need. The router (http/router.h) matches the table, answers
// 404/405/HEAD and logs; Api::Authenticate checks the session before any
// body is read (the body comes through a ContentReader the handler pulls
// from). The transport (http/event_server.h) calls Dispatch.
#pragma once

#include <httplib.h>

#include <functional>
#include <string>
#include <vector>

#include "box/auth.h"
#include "box/auto_sync.h"
#include "box/config.h"
#include "box/response_cache.h"
#include "content/school.h"
#include "http/http_util.h"
#include "http/metrics.h"
#include "http/router.h"

namespace relais::box {

using nlohmann::json;

enum class Access { kPublic, kUser, kAdmin };

// What a handler receives: the request (http/router.h) and its caller.
struct Call : http::Exchange {
  using http::Exchange::Exchange;
  content::Viewer viewer;    // empty for public routes
  std::string display_name;  // the viewer's
  int64_t expires_at = 0;    // when the session ends (Unix seconds)
  std::string token;
};

class Api {
 public:
  using Router = http::Router<Api, Call, Access>;
  using Route = Router::Route;  // {method, pattern, access, handler}

  // `school` and `config` must outlive the Api.
  Api(content::School& school, const Config& config, const core::Clock& clock);
  Api(const Api&) = delete;  // the router points back at it
  Api& operator=(const Api&) = delete;
  http::Metrics& metrics() { return metrics_; }
  // How POST /api/v1/admin/time sets the wall clock (`relais serve` passes
  // core::SetSystemClock; tests move their fake clock). Unset: it refuses.
  void set_time_setter(std::function<Status(int64_t)> setter) { set_time_ = std::move(setter); }
  // The automatic sync POST /api/v1/admin/sync wakes and health reports
  // (`relais serve` passes its own; must outlive the Api). Unset: the route
  // answers 409 and health shows only the stored status.
  void set_auto_sync(AutoSync* auto_sync) { auto_sync_ = auto_sync; }

  // Handles one request (the transport calls this; `reader` is null for GET
  // and HEAD).
  void Dispatch(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader);

  // True for the paths that must answer over plain HTTP even when HTTPS is
  // preferred: the connectivity probes, the captive-portal API, /ca.crt,
  // the installation page and the health check (monitoring scripts).
  static bool StaysOnPlainHttp(std::string_view path);

 private:
  static const std::vector<Route>& Routes();
  bool Authenticate(const Route& route, Call& call);

  void Login(Call& c);
  void Logout(Call& c);
  void Me(Call& c);
  void SetupState(Call& c);
  void CompleteSetup(Call& c);
  void ListClasses(Call& c);
  void CreateClass(Call& c);
  void ListMembers(Call& c);
  void AddMember(Call& c);
  void ListUsers(Call& c);
  void ListSyncConflicts(Call& c);
  void CreateUser(Call& c);
  void ResetPassword(Call& c);
  void PatchUser(Call& c);
  void PatchClass(Call& c);
  void DeleteClass(Call& c);
  void RemoveMember(Call& c);
  void ImportRoster(Call& c);
  void AdminStatus(Call& c);
  void AdminSync(Call& c);
  void IssueLoginCards(Call& c);
  void ListLoginCards(Call& c);
  void CardLogin(Call& c);
  void Upload(Call& c);
  void Download(Call& c);
  void FileInfo(Call& c);
  void CreateHomework(Call& c);
  void ListHomework(Call& c);
  void GetHomework(Call& c);
  void PatchHomework(Call& c);
  void DeleteHomework(Call& c);
  void HandIn(Call& c);
  void ListSubmissions(Call& c);
  void GetSubmission(Call& c);
  void ReturnSubmission(Call& c);
  void ListCourses(Call& c);
  void CreateCourse(Call& c);
  void GetCourse(Call& c);
  void PatchCourse(Call& c);
  void DeleteCourse(Call& c);
  void CreateSection(Call& c);
  void PatchSection(Call& c);
  void DeleteSection(Call& c);
  void CreateResource(Call& c);
  void PatchResource(Call& c);
  void DeleteResource(Call& c);
  void Health(Call& c);
  void MetricsText(Call& c);
  void CaptiveProbe(Call& c);
  void CaptivePortalApi(Call& c);
  void InstallationPage(Call& c);
  void SetTime(Call& c);
  void AppShell(Call& c);
  void WebAsset(Call& c);
  void CaCertificate(Call& c);

  Result<json> Body(Call& c);
  // Reads {"title"?, "position"?} and answers with what `update` returns.
  void PatchTitleAndPosition(
      Call& c, const std::function<Result<json>(const std::optional<std::string>&, std::optional<int>)>& update);
  // Sets the session cookie and answers {"token","expires_at","user"}.
  void AnswerWithSession(Call& c, const content::Session& session, int http_status);
  // {"deleted":true,"id":…} or the error.
  void AnswerDeleted(Call& c, const Status& st);
  // Answers from the response cache if it holds this caller's answer to this
  // exact GET; otherwise returns false and the caller renders.
  bool AnswerFromCache(Call& c, std::string* key, uint64_t* generation);
  void AnswerAndCache(Call& c, const std::string& key, uint64_t generation, const json& body);

  json SyncStatusJson();
  content::School& school_;
  const Config& config_;
  const core::Clock& clock_;
  SessionCache sessions_;
  LoginThrottle throttle_;
  http::Metrics metrics_;
  Router router_;
  ResponseCache cache_{20000, 5000};
  GenerationCache<content::FileInfo> readable_files_{50000, 5000};  // key: user id + file id
  int64_t started_ms_;
  std::function<Status(int64_t)> set_time_;
  AutoSync* auto_sync_ = nullptr;
};

}  // namespace relais::box

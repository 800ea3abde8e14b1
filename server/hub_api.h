// server/hub_api.h — the gateway's HTTP API under /hub/v1 (`relais hub serve`).
//
// One route table (HubApi::Routes in hub_api.cc), one line per route with who
// may call it; thin handlers over sync::Hub. Documented in docs/hub-api.md.
// Many hub processes may serve the same PostgreSQL store: a handler keeps
// nothing between requests that another process would need.
#pragma once

#include <httplib.h>

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "server/http_util.h"
#include "sync/hub.h"

namespace relais::server {

class HubApi {
 public:
  enum class Access { kPublic };
  struct Call {
    const httplib::Request& req;
    httplib::Response& res;
    const httplib::ContentReader* reader;  // null for GET and HEAD
    std::vector<std::string> params;       // the ":id" parts of the path, in order
  };
  using Handler = void (HubApi::*)(Call&);
  struct Route {
    const char* method;
    const char* pattern;
    Access access;
    Handler handler;
  };

  // `hub`, `config` and `clock` must outlive the HubApi.
  HubApi(sync::Hub& hub, const core::Config& config, const core::Clock& clock)
      : hub_(hub), config_(config), clock_(clock) {}

  void Dispatch(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader);

 private:
  static const std::vector<Route>& Routes();
  void Health(Call& c);

  sync::Hub& hub_;
  const core::Config& config_;
  const core::Clock& clock_;
};

}  // namespace relais::server

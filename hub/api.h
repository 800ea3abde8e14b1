// hub/api.h — the gateway's HTTP API under /hub/v1 (`relais-hub serve`).
//
// One route table (HubApi::Routes in hub_api.cc), one line per route with who
// may call it: anyone (health, enrolment with a one-time code, the signed
// revocation list and gateway certificate), an enrolled box (signed requests,
// hub/auth.h), or the ENT (a bearer API key). Thin handlers over
// hub::Hub. Documented in docs/hub-api.md.
// Many hub processes may serve the same PostgreSQL store: nothing a request
// needs is kept in the process between requests (uploads live in the store).
#pragma once

#include <httplib.h>

#include <string>
#include <vector>

#include "core/clock.h"
#include "http/http_util.h"
#include "http/router.h"
#include "hub/config.h"
#include "hub/hub.h"

namespace relais::hub {

using nlohmann::json;

class HubApi {
 public:
  enum class Access { kPublic, kBox, kEnt };
  // What a handler receives: the request (http/router.h) and its caller.
  struct Call : http::Exchange {
    using http::Exchange::Exchange;
    hub::HubBox box;  // the caller, for kBox routes
  };
  using Router = http::Router<HubApi, Call, Access>;
  using Route = Router::Route;  // {method, pattern, access, handler}

  // `hub`, `config` and `clock` must outlive the HubApi. `ent_key` is the
  // ENT's bearer API key; empty disables the ENT routes (401).
  HubApi(hub::Hub& hub, const Config& config, const core::Clock& clock, std::string ent_key);
  HubApi(const HubApi&) = delete;  // the router points back at it
  HubApi& operator=(const HubApi&) = delete;

  void Dispatch(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader);
  static const std::vector<Route>& Routes();

 private:
  bool Authenticate(const Route& route, Call& call);
  void Health(Call& c);
  void Enrol(Call& c);
  void Revocations(Call& c);
  void GatewayCertificate(Call& c);
  void Hello(Call& c);
  void Answer(Call& c);
  void RotateBoxKey(Call& c);
  void CreateAnswer(Call& c);
  void GetAnswer(Call& c);
  void DeleteAnswer(Call& c);
  Result<hub::VersionVector> BodyVector(Call& c, sync::FileNews* files = nullptr);
  void CreateUpload(Call& c);
  void UploadOffset(Call& c);
  void PatchUpload(Call& c);
  void MissingChunks(Call& c);
  void PutChunk(Call& c);
  void GetChunk(Call& c);
  void EntSchools(Call& c);
  void EntChanges(Call& c);
  void EntFile(Call& c);
  void EntUploadFile(Call& c);
  void EntPublish(Call& c);

  // Reads the whole body, at most `limit` bytes.
  Result<std::string> RawBody(Call& c, uint64_t limit);

  hub::Hub& hub_;
  const Config& config_;
  const core::Clock& clock_;
  std::string ent_key_;
  Router router_;
};

}  // namespace relais::hub

// The router (http/router.h) on its own: a small table served by the real
// transport on 127.0.0.1.
#include "http/router.h"

#include <doctest/doctest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/log.h"
#include "http/event_server.h"
#include "http/http_util.h"

namespace relais::http {
namespace {

using nlohmann::json;

enum class Rule { kOpen, kLocked };

struct TestCall : Exchange {
  using Exchange::Exchange;
  std::string caller;
};

// Routes that echo what they were given; "Locked" ones need "X-Key: yes".
class Echo {
 public:
  using Table = Router<Echo, TestCall, Rule>;
  static const std::vector<Table::Route>& Routes() {
    static const std::vector<Table::Route> kRoutes = {
        {"GET", "/items", Rule::kOpen, &Echo::List},
        {"POST", "/items", Rule::kLocked, &Echo::Create},
        {"GET", "/items/:id", Rule::kOpen, &Echo::Get},
        {"DELETE", "/items/:id/tags/:tag", Rule::kLocked, &Echo::Untag},
        {"HEAD", "/blobs/:id", Rule::kOpen, &Echo::BlobHead},
        {"GET", "/blobs/:id", Rule::kOpen, &Echo::Get},
        {"GET", "/files/*", Rule::kOpen, &Echo::Get},
        {"GET", "/boom", Rule::kOpen, &Echo::Boom},
    };
    return kRoutes;
  }

  Echo()
      : router_(
            *this, Routes(), Options(),
            [this](const Table::Route& route, TestCall& call) {
              ++authentications;
              if (route.access == Rule::kOpen) return true;
              if (call.req.get_header_value("X-Key") != "yes") {
                WriteError(call.res, Status::Unauthenticated("no key"));
                return false;
              }
              call.caller = "keyholder";
              return true;
            },
            [](const TestCall& call) { return call.caller; }) {}

  static RouterOptions Options() {
    RouterOptions options;
    options.access_event = "test.request";
    options.caller_field = "who";
    return options;
  }

  Table::Outcome Dispatch(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* r) {
    return router_.Dispatch(req, res, r);
  }

  int authentications = 0;
  int bodies_read = 0;

 private:
  void List(TestCall& c) { WriteJson(c.res, {{"items", json::array({"a", "b"})}}); }
  void Create(TestCall& c) {
    ++bodies_read;
    auto body = ReadJsonBody(c.req, *c.reader, 1000);
    if (!body.ok()) return WriteError(c.res, body.status());
    WriteJson(c.res, {{"created", *body}, {"by", c.caller}}, 201);
  }
  void Get(TestCall& c) { WriteJson(c.res, {{"params", c.params}, {"path", c.req.path}}); }
  void Untag(TestCall& c) { WriteJson(c.res, {{"params", c.params}}); }
  void BlobHead(TestCall& c) {
    c.res.status = 200;
    c.res.set_header("Upload-Offset", "42");
  }
  void Boom(TestCall&) { throw std::runtime_error("a library threw"); }

  Table router_;
};

class EchoServer {
 public:
  EchoServer() {
    core::SetLogQuiet(true);
    EventServer::Options options;
    options.min_workers = 2;
    server_ =
        std::make_unique<EventServer>([this](const httplib::Request& req, httplib::Response& res,
                                             const httplib::ContentReader* reader) { echo.Dispatch(req, res, reader); },
                                      options);
    port = server_->Bind("127.0.0.1", 0).value();
    thread_ = std::thread([this] { server_->Run(); });
  }
  ~EchoServer() {
    server_->Stop();
    thread_.join();
  }
  httplib::Client Client() const { return httplib::Client("127.0.0.1", port); }
  Echo echo;
  int port = 0;

 private:
  std::unique_ptr<EventServer> server_;
  std::thread thread_;
};

json Body(const httplib::Result& r) { return json::parse(r->body, nullptr, false); }

}  // namespace

TEST_CASE("a path is split into its segments, empty ones dropped") {
  CHECK(PathSegments("/api/v1//homework/abc/") == std::vector<std::string_view>{"api", "v1", "homework", "abc"});
  CHECK(PathSegments("/").empty());
}

TEST_CASE("a pattern matches segment for segment, taking parameters and a final star") {
  std::vector<std::string> params;
  CHECK(MatchPath(PathSegments("/a/:id/b/:x"), PathSegments("/a/1/b/2"), &params));
  CHECK(params == std::vector<std::string>{"1", "2"});
  CHECK_FALSE(MatchPath(PathSegments("/a/:id/b"), PathSegments("/a/1/c"), &params));
  CHECK(params.empty());
  CHECK_FALSE(MatchPath(PathSegments("/a/:id"), PathSegments("/a/1/b"), &params));
  CHECK(MatchPath(PathSegments("/assets/*"), PathSegments("/assets/x/y.js"), &params));
  CHECK_FALSE(MatchPath(PathSegments("/assets/*"), PathSegments("/assets"), &params));
}

TEST_CASE("the matcher finds the route of a method, and knows a path served by other methods") {
  RouteMatcher m({{"GET", "/items"},
                  {"POST", "/items"},
                  {"GET", "/items/:id"},
                  {"HEAD", "/blobs/:id"},
                  {"GET", "/blobs/:id"},
                  {"PUT", "/only-put"}});
  auto get = m.Find("GET", "/items/7");
  CHECK(get.route == 2);
  CHECK(get.params == std::vector<std::string>{"7"});
  CHECK(m.Find("POST", "/items").route == 1);
  auto head = m.Find("HEAD", "/items/7");
  CHECK(head.route == 2);  // the GET route answers HEAD
  CHECK(head.params == std::vector<std::string>{"7"});
  CHECK(m.Find("HEAD", "/blobs/9").route == 3);  // a HEAD route of its own comes first
  auto wrong = m.Find("DELETE", "/items");
  CHECK(wrong.route == RouteMatcher::kNone);
  CHECK(wrong.path_known);
  CHECK(wrong.allow == "GET, HEAD, POST");
  auto put_only = m.Find("HEAD", "/only-put");
  CHECK(put_only.route == RouteMatcher::kNone);
  CHECK(put_only.allow == "PUT");
  auto unknown = m.Find("GET", "/nothing/here");
  CHECK(unknown.route == RouteMatcher::kNone);
  CHECK_FALSE(unknown.path_known);
}

TEST_CASE("a request reaches its handler with the path's parameters") {
  EchoServer server;
  auto res = server.Client().Get("/items/42");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(Body(res)["params"] == json::array({"42"}));
  auto two = server.Client().Delete("/items/7/tags/red", {{"X-Key", "yes"}});
  REQUIRE(two);
  CHECK(Body(two)["params"] == json::array({"7", "red"}));
  auto rest = server.Client().Get("/files/a/b.txt");
  REQUIRE(rest);
  CHECK(Body(rest)["path"] == "/files/a/b.txt");
}

TEST_CASE("HEAD on a GET route answers the GET's status and headers, Content-Length included, without a body") {
  EchoServer server;
  auto get = server.Client().Get("/items");
  auto head = server.Client().Head("/items");
  REQUIRE(get);
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->body.empty());
  CHECK(head->get_header_value("Content-Length") == std::to_string(get->body.size()));
  CHECK(head->get_header_value("Content-Type") == get->get_header_value("Content-Type"));
  // A HEAD route of its own answers instead of the GET one.
  auto blob = server.Client().Head("/blobs/1");
  REQUIRE(blob);
  CHECK(blob->get_header_value("Upload-Offset") == "42");
}

TEST_CASE("an unknown path is a JSON 404, also for HEAD") {
  EchoServer server;
  auto res = server.Client().Get("/nothing");
  REQUIRE(res);
  CHECK(res->status == 404);
  json body = Body(res);
  CHECK(body["error"]["code"] == "not_found");
  CHECK(body["error"]["message"] == "no such endpoint: /nothing");
  auto head = server.Client().Head("/nothing");
  REQUIRE(head);
  CHECK(head->status == 404);
  CHECK(head->body.empty());
  CHECK(head->get_header_value("Content-Length") == std::to_string(res->body.size()));
}

TEST_CASE("a known path asked with another method is a JSON 405 with an Allow header") {
  EchoServer server;
  auto res = server.Client().Put("/items", "{}", "application/json");
  REQUIRE(res);
  CHECK(res->status == 405);
  CHECK(res->get_header_value("Allow") == "GET, HEAD, POST");
  CHECK(Body(res)["error"]["code"] == "method_not_allowed");
  auto del = server.Client().Delete("/items/3");
  REQUIRE(del);
  CHECK(del->status == 405);
  CHECK(del->get_header_value("Allow") == "GET, HEAD");
  CHECK(server.echo.authentications == 0);
}

TEST_CASE("authentication runs with the matched route before the handler reads the body") {
  EchoServer server;
  auto refused = server.Client().Post("/items", R"({"name":"x"})", "application/json");
  REQUIRE(refused);
  CHECK(refused->status == 401);
  CHECK(server.echo.bodies_read == 0);
  auto created = server.Client().Post("/items", {{"X-Key", "yes"}}, R"({"name":"x"})", "application/json");
  REQUIRE(created);
  CHECK(created->status == 201);
  CHECK(Body(created)["created"]["name"] == "x");
  CHECK(Body(created)["by"] == "keyholder");
  CHECK(server.echo.bodies_read == 1);
}

TEST_CASE("an exception from a handler becomes a JSON 500 internal, and the server goes on") {
  EchoServer server;
  auto res = server.Client().Get("/boom");
  REQUIRE(res);
  CHECK(res->status == 500);
  CHECK(Body(res)["error"]["code"] == "internal");
  CHECK(server.Client().Get("/items")->status == 200);
}

TEST_CASE("the outcome names the route served, or the table's size when none was") {
  Echo echo;
  core::SetLogQuiet(true);
  httplib::Request req;
  req.method = "GET";
  req.path = "/items/5";
  httplib::Response res;
  CHECK(echo.Dispatch(req, res, nullptr).route == 2);
  req.path = "/none";
  httplib::Response missing;
  CHECK(echo.Dispatch(req, missing, nullptr).route == Echo::Routes().size());
  CHECK(missing.status == 404);
}

}  // namespace relais::http

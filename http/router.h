// http/router.h — one request dispatcher for both programs' APIs.
//
// A program declares its routes in one table, one line each: method, path
// pattern, an access tag the router never looks at (the program's role or
// auth rule), and the handler. For each request the router
//   1. matches the path against the patterns (":name" takes one segment into
//      the call's params, a final "*" one or more segments);
//   2. answers an unknown path with a JSON 404 `not_found`, and a known path
//      asked with a method it does not serve with a JSON 405
//      `method_not_allowed` and an `Allow` header listing the methods it does;
//   3. answers HEAD with the route declared for HEAD if there is one, else with
//      the path's GET route: the handler runs as for GET and the transport
//      (http/event_server.h) sends the same headers, Content-Length included,
//      without the body;
//   4. calls the program's authentication hook with the matched route before
//      the handler (the body is still unread: a handler pulls it through
//      Call::reader), then the handler;
//   5. turns a std::exception escaping either into a JSON 500 `internal` and
//      one log line, and writes one access log line per request.
// Thread-safety: Dispatch may run on many threads at once; the table is
// fixed at construction.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace relais::http {

// One request as the router hands it on. A program's call type derives from
// it and adds what its authentication finds (`using Exchange::Exchange;`).
struct Exchange {
  Exchange(const httplib::Request& request, httplib::Response& response, const httplib::ContentReader* body)
      : req(request), res(response), reader(body) {}
  const httplib::Request& req;
  httplib::Response& res;
  const httplib::ContentReader* reader;  // null for GET and HEAD
  std::vector<std::string> params;       // the ":name" parts of the path, in order
};

// Splits "/api/v1/homework/abc" into {"api","v1","homework","abc"}.
std::vector<std::string_view> PathSegments(std::string_view path);
// True when `path` matches `pattern` segment for segment: a ":name" segment
// matches any one segment (`params` gets those in order), a final "*" one or
// more segments.
bool MatchPath(const std::vector<std::string_view>& pattern, const std::vector<std::string_view>& path,
               std::vector<std::string>* params);

// The paths of a route table, and the matching of one request against them.
class RouteMatcher {
 public:
  static constexpr size_t kNone = static_cast<size_t>(-1);
  struct Match {
    size_t route = kNone;             // index in the table, kNone if no route serves the request
    bool path_known = false;          // some route has this path (kNone then means 405, not 404)
    std::string allow;                // "GET, HEAD, POST": the methods of the path, for a 405
    std::vector<std::string> params;  // of the route matched
  };

  // `routes` are (method, pattern) pairs in table order; the first match wins.
  explicit RouteMatcher(const std::vector<std::pair<std::string, std::string>>& routes);
  // HEAD takes a HEAD route of the path, else its GET route.
  Match Find(std::string_view method, std::string_view path) const;
  size_t size() const { return methods_.size(); }

 private:
  std::vector<std::string> methods_;
  std::vector<std::string> patterns_;  // owns the text the segments view
  std::vector<std::vector<std::string_view>> segments_;
};

// What differs between the programs in the router's own answers and lines.
struct RouterOptions {
  std::string access_event = "http.request";        // one line per request
  std::string exception_event = "http.exception";   // one line per exception caught
  std::string internal_message = "internal error";  // the 500's message
  std::string caller_field = "user";                // the access line's field naming the caller
  // A path starting with one of these is logged as the prefix followed by
  // "…" (a login card's token is a password).
  std::vector<std::string> redacted_prefixes;
};

// The steps the template below shares (router.cc).
namespace router_internal {
// Writes the 404 or 405 answer for a request no route serves.
void AnswerUnmatched(const httplib::Request& req, httplib::Response& res, const RouteMatcher::Match& m);
// Runs `serve`, catching std::exception into a 500.
void Guarded(const RouterOptions& options, const httplib::Request& req, httplib::Response& res,
             const std::function<void()>& serve);
void LogAccess(const RouterOptions& options, const httplib::Request& req, const httplib::Response& res,
               std::string_view caller, double seconds);
}  // namespace router_internal

// `Owner` is the program's API class, `Call` its call type (derived from
// Exchange), `Tag` its access rule.
template <typename Owner, typename Call, typename Tag>
class Router {
 public:
  using Handler = void (Owner::*)(Call&);
  struct Route {
    const char* method;   // "GET" also answers HEAD
    const char* pattern;  // "/api/v1/homework/:id", "/assets/*"
    Tag access;           // opaque to the router
    Handler handler;
  };
  // Checks the caller for `route` and fills `call` (viewer, box …); false
  // once it has written the refusal into call.res. Runs before any body is read.
  using Authenticate = std::function<bool(const Route& route, Call& call)>;
  // The caller's name for the access line ("" when anonymous).
  using Caller = std::function<std::string(const Call& call)>;
  struct Outcome {
    size_t route;    // index in the table, or the table's size when no route served
    double seconds;  // the time the request took
  };

  // `owner` must outlive the router; `routes` must be static (Owner::Routes()).
  Router(Owner& owner, const std::vector<Route>& routes, RouterOptions options, Authenticate authenticate,
         Caller caller)
      : owner_(owner),
        routes_(routes),
        matcher_(Pairs(routes)),
        options_(std::move(options)),
        authenticate_(std::move(authenticate)),
        caller_(std::move(caller)) {}

  Outcome Dispatch(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) const {
    auto start = std::chrono::steady_clock::now();
    RouteMatcher::Match m = matcher_.Find(req.method, req.path);
    Call call(req, res, reader);
    call.params = std::move(m.params);
    router_internal::Guarded(options_, req, res, [&] {
      if (m.route == RouteMatcher::kNone) return router_internal::AnswerUnmatched(req, res, m);
      const Route& route = routes_[m.route];
      if (authenticate_(route, call)) (owner_.*route.handler)(call);
    });
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    router_internal::LogAccess(options_, req, res, caller_(call), seconds);
    return {m.route == RouteMatcher::kNone ? routes_.size() : m.route, seconds};
  }

 private:
  static std::vector<std::pair<std::string, std::string>> Pairs(const std::vector<Route>& routes) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const Route& r : routes) out.emplace_back(r.method, r.pattern);
    return out;
  }

  Owner& owner_;
  const std::vector<Route>& routes_;
  RouteMatcher matcher_;
  RouterOptions options_;
  Authenticate authenticate_;
  Caller caller_;
};

}  // namespace relais::http

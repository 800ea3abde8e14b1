// tests/box/test_server.h — an in-process Relais box for HTTP tests.
//
// TestServer opens a school in a fresh temporary folder (removed at the end),
// on a FakeClock the test moves by hand, and serves the real Api on
// 127.0.0.1 with a port chosen by the kernel. Requests go through a real
// httplib::Client, so cookies, headers, ranges and status codes are exactly
// what a browser or the tablet app would see.
//
// Seeding (classes, users) goes straight to content::Accounts; everything a
// user does goes over HTTP. Not thread-safe: one test thread drives it.
#pragma once

#include <httplib.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "box/api.h"
#include "box/config.h"
#include "content/school.h"
#include "core/clock.h"
#include "http/event_server.h"
#include "tests/support/raw_http.h"

namespace relais::testing {

namespace fs = std::filesystem;
using nlohmann::json;

// The password of every seeded account.
constexpr const char* kPassword = "correct-horse-42";

// Small files whose first bytes are what the type checker looks for.
std::string PdfBytes(std::string_view text = "homework");
std::string JpegBytes(size_t size = 600);
std::string PngBytes();

// What came back for one request.
struct Reply {
  int status = 0;  // 0 when the request did not complete (connection error)
  json body;       // the parsed body when it is JSON, else null
  std::string raw;
  httplib::Headers headers;

  std::string Header(const std::string& name) const;
  // The error code of an {"error":{"code","message"}} body, or "" when the
  // body is not exactly that shape.
  std::string ErrorCode() const;
};

// True when `r` is an error in the API's one shape: a JSON object holding
// "error" with a non-empty string "code" and a non-empty string "message",
// served as application/json.
bool IsJsonError(const Reply& r);

class TestServer {
 public:
  // `configure` may change the defaults (upload limit, JSON limit …) before
  // the server starts, `transport` the transport's. When the Config has a
  // tls_cert (see UseBoxCertificate), the server also listens for HTTPS.
  explicit TestServer(const std::function<void(box::Config&)>& configure = {},
                      const std::function<void(http::EventServer::Options&)>& transport = {});
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  core::FakeClock& clock() { return clock_; }
  content::School& school() { return *school_; }
  const box::Config& config() const { return config_; }
  const fs::path& data_dir() const { return dir_; }
  // Connections the transport holds now (accepted, not yet closed).
  size_t connections() const;
  int port() const { return port_; }
  int https_port() const { return https_port_; }  // 0 without TLS
  // Send() and the helpers below go over HTTPS (verifying the certificate
  // against DATA/tls/ca.crt) when true.
  void set_https(bool on) { https_ = on; }

  // --- Seeding through the stores ---
  content::ClassInfo AddClass(const std::string& name);
  // A user with kPassword, optionally joining `class_name`.
  content::User AddUser(const std::string& login, content::Role role,
                        const std::optional<std::string>& class_name = std::nullopt);
  // The Viewer the stores expect for `user`.
  static content::Viewer ViewerOf(const content::User& user);

  // --- HTTP ---
  // Logs in over HTTP and returns the token; "" when the login failed.
  std::string Login(const std::string& login, const std::string& password = kPassword);
  Reply Get(const std::string& path, const std::string& token = "", const httplib::Headers& extra = {});
  Reply Post(const std::string& path, const json& body, const std::string& token = "");
  Reply Patch(const std::string& path, const json& body, const std::string& token = "");
  Reply Delete(const std::string& path, const std::string& token = "");
  // POST /api/v1/files with the raw bytes as the body.
  Reply Upload(const std::string& token, const std::string& bytes, const std::string& content_type,
               const std::string& filename);
  // Any request. `token` (if any) goes in an Authorization: Bearer header;
  // `content_type` is sent when non-empty.
  Reply Send(const std::string& method, const std::string& path, const std::string& token, const std::string& body = "",
             const std::string& content_type = "", const httplib::Headers& extra = {});

 private:
  fs::path dir_;
  core::FakeClock clock_;
  box::Config config_;
  std::unique_ptr<content::School> school_;
  std::unique_ptr<box::Api> api_;
  std::unique_ptr<http::EventServer> server_;
  std::thread thread_;
  int port_ = 0;
  int https_port_ = 0;
  bool https_ = false;
};

// For TestServer's `configure`: makes the box's CA and a certificate for
// "localhost" and 127.0.0.1 in DATA/tls/ (as `relais tls init` does) and
// points tls_cert and tls_key at it.
void UseBoxCertificate(box::Config& config);

// Converts a reply to text for failure messages.
std::string Describe(const Reply& r);

// Two classes and their people, the common cast of the HTTP tests:
// class_a ("5e A") with teacher_a, student_a and student_a2; class_b
// ("5e B") with teacher_b and student_b; and an administrator.
struct Cast {
  content::ClassInfo class_a, class_b;
  content::User admin, teacher_a, teacher_b, student_a, student_a2, student_b;
};
Cast SeedTwoClasses(TestServer& box);

// A due date `days` from the box's current time, as the API expects it.
std::string DueIn(TestServer& box, int64_t days);

}  // namespace relais::testing

#include "tests/box/test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "box/box_ca.h"
#include "core/crypto.h"
#include "http/tls_context.h"

namespace relais::testing {

using namespace relais::box;
using namespace relais::http;

std::string PdfBytes(std::string_view text) {
  return "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% " + std::string(text) + "\ntrailer << >>\n%%EOF\n";
}

std::string JpegBytes(size_t size) {
  std::string out("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 20);
  for (size_t i = 0; out.size() + 2 < size; ++i) out.push_back(static_cast<char>(i * 7 + 3));
  out += "\xFF\xD9";
  return out;
}

std::string PngBytes() {
  // The signature and an IHDR chunk of a 1×1 image; sizeof - 1 drops the literal's NUL.
  static const char kHead[] =
      "\x89PNG\r\n\x1A\n\x00\x00\x00\x0DIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00";
  return std::string(kHead, sizeof kHead - 1) + std::string(40, '\x11');
}

std::string Reply::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::string Reply::ErrorCode() const {
  if (!body.is_object() || body.size() != 1 || !body.contains("error")) return "";
  const json& e = body["error"];
  if (!e.is_object() || !e.contains("code") || !e["code"].is_string()) return "";
  return e["code"].get<std::string>();
}

bool IsJsonError(const Reply& r) {
  if (r.Header("Content-Type").rfind("application/json", 0) != 0) return false;
  if (r.ErrorCode().empty()) return false;
  const json& e = r.body["error"];
  return e.contains("message") && e["message"].is_string() && !e["message"].get<std::string>().empty();
}

std::string Describe(const Reply& r) {
  std::ostringstream out;
  out << r.status << " " << (r.raw.size() > 300 ? r.raw.substr(0, 300) + "…" : r.raw);
  return out.str();
}

void UseBoxCertificate(box::Config& config) {
  box::BoxCertificateRequest request{{"localhost"}, {"127.0.0.1"}, core::SystemClock().Now(), false};
  auto made = box::InitBoxCertificates(config.data_dir, request);
  if (!made.ok()) throw std::runtime_error("cannot make certificates: " + made.status().ToString());
  config.tls_cert = made->server_cert;
  config.tls_key = made->server_key;
}

TestServer::TestServer(const std::function<void(box::Config&)>& configure,
                       const std::function<void(http::EventServer::Options&)>& transport)
    : dir_(fs::temp_directory_path() / ("relais-api-test-" + core::RandomToken(9))) {
  fs::create_directories(dir_);
  config_.data_dir = dir_;
  config_.http_threads = 24;
  config_.keep_alive_timeout_s = 2;
  if (configure) configure(config_);
  auto school = content::School::Open(dir_, clock_);
  if (!school.ok()) throw std::runtime_error("cannot open the test school: " + school.status().ToString());
  school_ = std::move(school).value();
  api_ = std::make_unique<box::Api>(*school_, config_, clock_);
  api_->set_time_setter([this](int64_t t) {
    clock_.Set(t);
    return Status::Ok();
  });
  http::EventServer::Options options;
  options.min_workers = 8;
  options.keep_alive_timeout_s = config_.keep_alive_timeout_s;
  if (transport) transport(options);
  server_ = std::make_unique<http::EventServer>(
      [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) {
        api_->Dispatch(req, res, reader);
      },
      options);
  auto port = server_->Bind("127.0.0.1", 0);
  if (!port.ok()) throw std::runtime_error("cannot bind: " + port.status().ToString());
  port_ = *port;
  if (!config_.tls_cert.empty()) {
    auto tls = http::TlsContext::Load(config_.tls_cert, config_.tls_key, core::SystemClock().Now());
    if (!tls.ok()) throw std::runtime_error("cannot load the certificate: " + tls.status().ToString());
    auto bound = server_->Bind("127.0.0.1", 0, *tls);
    if (!bound.ok()) throw std::runtime_error("cannot bind: " + bound.status().ToString());
    https_port_ = *bound;
  }
  thread_ = std::thread([this] { server_->Run(); });
}

size_t TestServer::connections() const { return server_->connections(); }

TestServer::~TestServer() {
  server_->Stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
  api_.reset();
  school_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

content::ClassInfo TestServer::AddClass(const std::string& name) {
  auto c = school_->accounts().CreateClass(nullptr, name);
  if (!c.ok()) throw std::runtime_error("cannot create class " + name + ": " + c.status().ToString());
  return *c;
}

content::User TestServer::AddUser(const std::string& login, content::Role role,
                                  const std::optional<std::string>& class_name) {
  content::NewUser nu;
  nu.login = login;
  nu.display_name = "User " + login;
  nu.role = role;
  nu.password = kPassword;
  nu.class_name = class_name;
  auto u = school_->accounts().CreateUser(nullptr, nu);
  if (!u.ok()) throw std::runtime_error("cannot create user " + login + ": " + u.status().ToString());
  return *u;
}

content::Viewer TestServer::ViewerOf(const content::User& user) {
  return content::Viewer{user.id, user.login, user.role, "127.0.0.1"};
}

std::string TestServer::Login(const std::string& login, const std::string& password) {
  Reply r = Post("/api/v1/session", {{"login", login}, {"password", password}});
  if (r.status != 200 || !r.body.contains("token")) return "";
  return r.body["token"].get<std::string>();
}

Reply TestServer::Get(const std::string& path, const std::string& token, const httplib::Headers& extra) {
  return Send("GET", path, token, "", "", extra);
}

Reply TestServer::Post(const std::string& path, const json& body, const std::string& token) {
  return Send("POST", path, token, body.dump(), "application/json");
}

Reply TestServer::Patch(const std::string& path, const json& body, const std::string& token) {
  return Send("PATCH", path, token, body.dump(), "application/json");
}

Reply TestServer::Delete(const std::string& path, const std::string& token) { return Send("DELETE", path, token); }

Reply TestServer::Upload(const std::string& token, const std::string& bytes, const std::string& content_type,
                         const std::string& filename) {
  return Send("POST", "/api/v1/files", token, bytes, content_type, {{"X-Filename", filename}});
}

Reply TestServer::Send(const std::string& method, const std::string& path, const std::string& token,
                       const std::string& body, const std::string& content_type, const httplib::Headers& extra) {
  httplib::Client client(https_ ? "https://localhost:" + std::to_string(https_port_)
                                : "http://127.0.0.1:" + std::to_string(port_));
  if (https_) {
    client.set_ca_cert_path((box::BoxTlsDir(dir_) / "ca.crt").string());
    client.enable_server_certificate_verification(true);
  }
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(20, 0);
  client.set_write_timeout(20, 0);
  httplib::Request req;
  req.method = method;
  req.path = path;
  req.headers = extra;
  if (!token.empty()) req.headers.emplace("Authorization", "Bearer " + token);
  if (!content_type.empty()) req.headers.emplace("Content-Type", content_type);
  req.body = body;
  auto res = client.send(req);
  Reply out;
  if (!res) return out;
  out.status = res->status;
  out.raw = res->body;
  out.headers = res->headers;
  if (!out.raw.empty()) {
    json parsed = json::parse(out.raw, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_discarded()) out.body = std::move(parsed);
  }
  return out;
}

Cast SeedTwoClasses(TestServer& box) {
  Cast c;
  c.class_a = box.AddClass("5e A");
  c.class_b = box.AddClass("5e B");
  c.admin = box.AddUser("admin", content::Role::kAdmin);
  c.teacher_a = box.AddUser("teacher.a", content::Role::kTeacher, "5e A");
  c.teacher_b = box.AddUser("teacher.b", content::Role::kTeacher, "5e B");
  c.student_a = box.AddUser("student.a", content::Role::kStudent, "5e A");
  c.student_a2 = box.AddUser("student.a2", content::Role::kStudent, "5e A");
  c.student_b = box.AddUser("student.b", content::Role::kStudent, "5e B");
  return c;
}

std::string DueIn(TestServer& box, int64_t days) { return core::FormatTime(box.clock().Now() + days * 86400); }

}  // namespace relais::testing

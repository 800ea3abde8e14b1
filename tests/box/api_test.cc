// The homework loop, sessions, files and the box endpoints over real HTTP.
#include <doctest/doctest.h>

#include <set>
#include <sstream>

#include "core/crypto.h"
#include "tests/box/test_server.h"
#include "tests/support/head_checks.h"

namespace relais::testing {

using namespace relais::box;
using namespace relais::http;
namespace {

// Finds the row for `login` in a teacher's GET …/submissions answer.
json RowOf(const json& list, const std::string& login) {
  for (const json& row : list["submissions"])
    if (row["student"]["login"] == login) return row;
  return nullptr;
}

// Finds the entry `id` in a GET /api/v1/homework answer.
json EntryOf(const json& list, const std::string& id) {
  for (const json& h : list["homework"])
    if (h["id"] == id) return h;
  return nullptr;
}

size_t CountBlobs(const fs::path& data_dir) {
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(data_dir / "blobs"))
    if (e.is_regular_file()) ++n;
  return n;
}

TEST_CASE("the homework loop works end to end over HTTP") {
  TestServer box;
  Cast cast = SeedTwoClasses(box);
  box.AddUser("student.a3", content::Role::kStudent, "5e A");
  std::string teacher = box.Login("teacher.a");
  std::string student = box.Login("student.a");
  REQUIRE(!teacher.empty());
  REQUIRE(!student.empty());

  // The teacher uploads a PDF and publishes homework with it.
  std::string pdf = PdfBytes("Exercices 1 à 5 page 42");
  Reply up = box.Upload(teacher, pdf, "application/pdf", "Fiche%20d%27exercices.pdf");
  REQUIRE_MESSAGE(up.status == 201, Describe(up));
  CHECK(up.body["size"] == pdf.size());
  CHECK(up.body["content_type"] == "application/pdf");
  CHECK(up.body["name"] == "Fiche d'exercices.pdf");
  std::string pdf_id = up.body["id"];
  std::string due = DueIn(box, 2);
  Reply created = box.Post("/api/v1/homework",
                           {{"class_id", cast.class_a.id},
                            {"subject", "Mathématiques"},
                            {"title", "Fractions"},
                            {"instructions", "Faire les exercices <b>1 à 5</b>."},
                            {"due_at", due},
                            {"attachments", {pdf_id}},
                            {"published", true}},
                           teacher);
  REQUIRE_MESSAGE(created.status == 201, Describe(created));
  std::string hw = created.body["id"];
  CHECK(created.body["title"] == "Fractions");
  CHECK(created.body["instructions"] == "Faire les exercices 1 à 5.");
  CHECK(created.body["published"] == true);
  CHECK(created.body["due_at"] == due);
  REQUIRE(created.body["attachments"].size() == 1);
  CHECK(created.body["attachments"][0]["id"] == pdf_id);

  // The student sees it, to do.
  Reply list = box.Get("/api/v1/homework", student);
  REQUIRE(list.status == 200);
  json entry = EntryOf(list.body, hw);
  REQUIRE(entry.is_object());
  CHECK(entry["my_submission"]["status"] == "todo");
  CHECK(entry["my_submission"]["late"] == false);
  CHECK(entry["my_submission"]["grade"].is_null());

  // … downloads the attachment, whole and in part.
  Reply file = box.Get("/api/v1/files/" + pdf_id, student);
  CHECK(file.status == 200);
  CHECK(file.raw == pdf);
  CHECK(file.Header("Content-Type").rfind("application/pdf", 0) == 0);
  Reply part = box.Get("/api/v1/files/" + pdf_id, student, {{"Range", "bytes=0-4"}});
  CHECK(part.status == 206);
  CHECK(part.raw == "%PDF-");
  CHECK(part.Header("Content-Range") == "bytes 0-4/" + std::to_string(pdf.size()));

  // … hands in a text and a photo.
  std::string photo = JpegBytes(3000);
  Reply photo_up = box.Upload(student, photo, "image/jpeg", "photo.jpg");
  REQUIRE_MESSAGE(photo_up.status == 201, Describe(photo_up));
  Reply first = box.Post("/api/v1/homework/" + hw + "/submissions",
                         {{"text", "Voici mon travail"}, {"files", {photo_up.body["id"]}}}, student);
  REQUIRE_MESSAGE(first.status == 201, Describe(first));
  std::string submission = first.body["id"];
  CHECK(first.body["status"] == "handed_in");
  CHECK(first.body["current_version"] == 1);
  CHECK(first.body["late"] == false);
  REQUIRE(first.body["versions"].size() == 1);
  CHECK(first.body["versions"][0]["files"][0]["id"] == photo_up.body["id"]);

  // … and again: a second version, the first one kept.
  box.clock().Advance(60);
  Reply second = box.Post("/api/v1/homework/" + hw + "/submissions", {{"text", "Version corrigée"}}, student);
  REQUIRE_MESSAGE(second.status == 201, Describe(second));
  CHECK(second.body["id"] == submission);
  CHECK(second.body["current_version"] == 2);
  REQUIRE(second.body["versions"].size() == 2);
  CHECK(second.body["versions"][0]["version"] == 2);
  CHECK(second.body["versions"][0]["text"] == "Version corrigée");
  CHECK(second.body["versions"][1]["version"] == 1);
  CHECK(second.body["versions"][1]["text"] == "Voici mon travail");

  // The student's own list shows it handed in.
  entry = EntryOf(box.Get("/api/v1/homework", student).body, hw);
  CHECK(entry["my_submission"]["status"] == "handed_in");
  CHECK(entry["my_submission"]["submission_id"] == submission);

  // The teacher sees every student of the class, handed in or not.
  Reply rows = box.Get("/api/v1/homework/" + hw + "/submissions", teacher);
  REQUIRE(rows.status == 200);
  CHECK(rows.body["submissions"].size() == 3);
  CHECK(RowOf(rows.body, "student.a")["status"] == "handed_in");
  CHECK(RowOf(rows.body, "student.a2")["status"] == "todo");
  CHECK(RowOf(rows.body, "student.a2")["submission"].is_null());
  CHECK(RowOf(rows.body, "student.a3")["status"] == "todo");
  CHECK(RowOf(rows.body, "student.b").is_null());

  // Past the due time, those who have not handed in are late.
  box.clock().Advance(3 * 86400);
  teacher = box.Login("teacher.a");  // the sessions of three days ago have expired
  student = box.Login("student.a");
  rows = box.Get("/api/v1/homework/" + hw + "/submissions", teacher);
  CHECK(RowOf(rows.body, "student.a2")["status"] == "late");
  CHECK(RowOf(rows.body, "student.a")["status"] == "handed_in");

  // The teacher returns the work with a comment, a grade and an annotated file.
  Reply annotated = box.Upload(teacher, PdfBytes("corrigé"), "application/pdf", "corrige.pdf");
  REQUIRE(annotated.status == 201);
  Reply feedback = box.Post(
      "/api/v1/submissions/" + submission + "/feedback",
      {{"comment", "Bien, mais revois l'exercice 3."}, {"grade", 15.5}, {"files", {annotated.body["id"]}}}, teacher);
  REQUIRE_MESSAGE(feedback.status == 201, Describe(feedback));
  CHECK(feedback.body["grade"] == 15.5);
  CHECK(feedback.body["comment"] == "Bien, mais revois l'exercice 3.");
  CHECK(feedback.body["files"].size() == 1);

  // The student sees it returned, with the grade, and can read the feedback and its file.
  entry = EntryOf(box.Get("/api/v1/homework", student).body, hw);
  CHECK(entry["my_submission"]["status"] == "returned");
  CHECK(entry["my_submission"]["grade"] == 15.5);
  Reply own = box.Get("/api/v1/homework/" + hw, student);
  CHECK(own.body["my_submission"]["grade"] == 15.5);
  Reply mine = box.Get("/api/v1/submissions/" + submission, student);
  REQUIRE(mine.status == 200);
  CHECK(mine.body["feedback"]["grade"] == 15.5);
  CHECK(box.Get("/api/v1/files/" + annotated.body["id"].get<std::string>(), student).status == 200);
  CHECK(RowOf(box.Get("/api/v1/homework/" + hw + "/submissions", teacher).body, "student.a")["status"] == "returned");

  // Once returned, the work can no longer be changed.
  Reply again = box.Post("/api/v1/homework/" + hw + "/submissions", {{"text", "Encore"}}, student);
  CHECK(again.status == 409);
  CHECK(IsJsonError(again));
  CHECK(box.Get("/api/v1/submissions/" + submission, student).body["current_version"] == 2);
}

TEST_CASE("a hand-in after the due time is flagged late") {
  TestServer box;
  Cast cast = SeedTwoClasses(box);
  std::string teacher = box.Login("teacher.a");
  std::string student = box.Login("student.a");
  Reply hw = box.Post("/api/v1/homework",
                      {{"class_id", cast.class_a.id},
                       {"subject", "Histoire"},
                       {"title", "Frise"},
                       {"due_at", DueIn(box, 1)},
                       {"published", true}},
                      teacher);
  REQUIRE(hw.status == 201);
  std::string id = hw.body["id"];
  CHECK(EntryOf(box.Get("/api/v1/homework", student).body, id)["my_submission"]["late"] == false);

  box.clock().Advance(86400 + 60);
  student = box.Login("student.a");
  json entry = EntryOf(box.Get("/api/v1/homework", student).body, id);
  CHECK(entry["my_submission"]["status"] == "todo");
  CHECK(entry["my_submission"]["late"] == true);

  Reply s = box.Post("/api/v1/homework/" + id + "/submissions", {{"text", "En retard, désolé"}}, student);
  REQUIRE(s.status == 201);
  CHECK(s.body["late"] == true);
  CHECK(s.body["versions"][0]["late"] == true);
  entry = EntryOf(box.Get("/api/v1/homework", student).body, id);
  CHECK(entry["my_submission"]["status"] == "handed_in");
  CHECK(entry["my_submission"]["late"] == true);
}

TEST_CASE("a hand-in before the due time is not late, even when the list is read after it") {
  TestServer box;
  Cast cast = SeedTwoClasses(box);
  std::string teacher = box.Login("teacher.a");
  std::string student = box.Login("student.a");
  Reply hw = box.Post("/api/v1/homework",
                      {{"class_id", cast.class_a.id},
                       {"subject", "SVT"},
                       {"title", "Schéma"},
                       {"due_at", DueIn(box, 1)},
                       {"published", true}},
                      teacher);
  REQUIRE(hw.status == 201);
  std::string id = hw.body["id"];
  REQUIRE(box.Post("/api/v1/homework/" + id + "/submissions", {{"text", "fait"}}, student).status == 201);
  box.clock().Advance(3 * 86400);
  student = box.Login("student.a");
  json entry = EntryOf(box.Get("/api/v1/homework", student).body, id);
  CHECK(entry["my_submission"]["status"] == "handed_in");
  CHECK(entry["my_submission"]["late"] == false);
}

// --- Sessions ------------------------------------------------------------------

TEST_CASE("logging in sets an HttpOnly SameSite cookie that works as authentication") {
  TestServer box;
  SeedTwoClasses(box);
  Reply r = box.Post("/api/v1/session", {{"login", "student.a"}, {"password", kPassword}});
  REQUIRE(r.status == 200);
  std::string token = r.body["token"];
  CHECK(token.size() >= 32);
  CHECK(r.body["user"]["login"] == "student.a");
  CHECK(r.body["user"]["role"] == "student");
  CHECK(r.body["user"]["display_name"] == "User student.a");
  std::string cookie = r.Header("Set-Cookie");
  CHECK(cookie.find("relais_session=" + token) == 0);
  CHECK(cookie.find("HttpOnly") != std::string::npos);
  CHECK(cookie.find("SameSite=") != std::string::npos);

  Reply me = box.Get("/api/v1/me", "", {{"Cookie", "theme=dark; relais_session=" + token}});
  CHECK(me.status == 200);
  CHECK(me.body["user"]["login"] == "student.a");
  CHECK(box.Get("/api/v1/me", "", {{"Cookie", "relais_session=not-a-token"}}).status == 401);
}

TEST_CASE("a bearer token works as authentication and logging out ends the session") {
  TestServer box;
  SeedTwoClasses(box);
  std::string token = box.Login("teacher.a");
  REQUIRE(!token.empty());
  Reply me = box.Get("/api/v1/me", token);
  CHECK(me.status == 200);
  CHECK(me.body["user"]["role"] == "teacher");

  Reply out = box.Delete("/api/v1/session", token);
  CHECK(out.status == 200);
  CHECK(out.Header("Set-Cookie").find("Max-Age=0") != std::string::npos);
  Reply after = box.Get("/api/v1/me", token);
  CHECK(after.status == 401);
  CHECK(IsJsonError(after));
  CHECK(box.Get("/api/v1/me", "", {{"Cookie", "relais_session=" + token}}).status == 401);
  // Another session of the same account is untouched.
  std::string other = box.Login("teacher.a");
  CHECK(box.Get("/api/v1/me", other).status == 200);
}

TEST_CASE("a session stops working once it has expired") {
  TestServer box;
  SeedTwoClasses(box);
  std::string token = box.Login("student.a");
  REQUIRE(box.Get("/api/v1/me", token).status == 200);
  box.clock().Advance(box.config().session_ttl_s + 1);
  CHECK(box.Get("/api/v1/me", token).status == 401);
}

TEST_CASE("a wrong password and an unknown login get the same 401") {
  TestServer box;
  SeedTwoClasses(box);
  Reply wrong = box.Post("/api/v1/session", {{"login", "student.a"}, {"password", "not-the-password"}});
  Reply unknown = box.Post("/api/v1/session", {{"login", "nobody"}, {"password", "not-the-password"}});
  CHECK(wrong.status == 401);
  CHECK(unknown.status == 401);
  CHECK(IsJsonError(wrong));
  CHECK(wrong.raw == unknown.raw);
  CHECK(wrong.Header("Set-Cookie").empty());
  // Logins are not case-sensitive.
  CHECK(!box.Login("Student.A").empty());
}

TEST_CASE("repeated failed logins are throttled with 429 and Retry-After, then allowed again") {
  TestServer box;
  SeedTwoClasses(box);
  int failures = box.config().login_failures_per_account;
  for (int i = 0; i < failures; ++i)
    CHECK(box.Post("/api/v1/session", {{"login", "student.a"}, {"password", "guess" + std::to_string(i)}}).status ==
          401);
  // Locked now, even with the right password.
  Reply locked = box.Post("/api/v1/session", {{"login", "student.a"}, {"password", kPassword}});
  CHECK(locked.status == 429);
  CHECK(IsJsonError(locked));
  int retry = std::atoi(locked.Header("Retry-After").c_str());
  CHECK(retry > 0);
  CHECK(retry <= 15 * 60);
  // Other accounts from the same address still log in.
  CHECK(!box.Login("student.a2").empty());
  box.clock().Advance(retry + 1);
  CHECK(!box.Login("student.a").empty());
}

TEST_CASE("many failed logins from one address are throttled across accounts") {
  TestServer box([](box::Config& c) { c.login_failures_per_address = 4; });
  SeedTwoClasses(box);
  const char* logins[] = {"student.a", "student.a2", "student.b", "teacher.a"};
  for (const char* login : logins)
    CHECK(box.Post("/api/v1/session", {{"login", login}, {"password", "wrong-password"}}).status == 401);
  Reply r = box.Post("/api/v1/session", {{"login", "teacher.b"}, {"password", kPassword}});
  CHECK(r.status == 429);
  CHECK(!r.Header("Retry-After").empty());
}

// --- Box endpoints ---------------------------------------------------------------

TEST_CASE("health answers without authentication") {
  TestServer box;
  box.clock().Advance(90);
  Reply r = box.Get("/api/v1/health");
  REQUIRE(r.status == 200);
  CHECK(r.body["status"] == "ok");
  CHECK(r.body["version"].is_string());
  CHECK(!r.body["version"].get<std::string>().empty());
  CHECK(r.body["uptime_s"] == 90);
  CHECK(r.body["disk_free_bytes"].is_number());
  CHECK(r.body["disk_free_bytes"].get<double>() > 0);
}

TEST_CASE("HEAD is a GET without its body, as on the gateway: same headers, 404 and 405 with Allow") {
  TestServer box;
  httplib::Client client("127.0.0.1", box.port());
  testing::CheckHeadIsGetWithoutBody(client, "/api/v1/setup", "/api/v1/roster", "POST");
  // A path of several methods lists them all, HEAD with GET.
  auto wrong = client.Put("/api/v1/classes", "{}", "application/json");
  REQUIRE(wrong);
  CHECK(wrong->status == 405);
  CHECK(wrong->get_header_value("Allow") == "GET, HEAD, POST");
}

TEST_CASE("metrics are served in the Prometheus text format and count requests") {
  TestServer box;
  SeedTwoClasses(box);
  box.Login("student.a");
  box.Post("/api/v1/session", {{"login", "student.a"}, {"password", "wrong-password"}});
  Reply r = box.Get("/metrics");
  REQUIRE(r.status == 200);
  CHECK(r.Header("Content-Type").rfind("text/plain", 0) == 0);
  CHECK(r.raw.find("# TYPE relais_http_requests_total counter") != std::string::npos);
  CHECK(r.raw.find("# HELP ") != std::string::npos);
  CHECK(r.raw.find("relais_logins_total") != std::string::npos);
  CHECK(r.raw.find("POST /api/v1/session") != std::string::npos);
  // Every non-comment line is "name{labels} value".
  std::istringstream lines(r.raw);
  std::string line;
  int samples = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    ++samples;
    size_t space = line.rfind(' ');
    REQUIRE_MESSAGE(space != std::string::npos, line);
    std::string value = line.substr(space + 1);
    char* end = nullptr;
    std::strtod(value.c_str(), &end);
    CHECK_MESSAGE((*end == '\0' || value == "+Inf" || value == "NaN"), line);
  }
  CHECK(samples > 5);
}

// --- Files -------------------------------------------------------------------------

TEST_CASE("the same file uploaded twice gets two ids and is stored once") {
  TestServer box;
  SeedTwoClasses(box);
  std::string token = box.Login("teacher.a");
  std::string pdf = PdfBytes("once");
  size_t before = CountBlobs(box.data_dir());
  Reply a = box.Upload(token, pdf, "application/pdf", "a.pdf");
  Reply b = box.Upload(token, pdf, "application/pdf", "b.pdf");
  REQUIRE(a.status == 201);
  REQUIRE(b.status == 201);
  CHECK(a.body["id"] != b.body["id"]);
  CHECK(a.body["sha256"] == b.body["sha256"]);
  CHECK(a.body["sha256"] == core::ToHex(core::Sha256(pdf)));
  CHECK(a.body["name"] == "a.pdf");
  CHECK(b.body["name"] == "b.pdf");
  CHECK(CountBlobs(box.data_dir()) == before + 1);
  CHECK(box.Get("/api/v1/files/" + b.body["id"].get<std::string>(), token).raw == pdf);
}

TEST_CASE("an upload over the size limit is refused with 413 and nothing is stored") {
  TestServer box([](box::Config& c) { c.max_upload_bytes = 2000; });
  SeedTwoClasses(box);
  std::string token = box.Login("student.a");
  Reply big = box.Upload(token, JpegBytes(5000), "image/jpeg", "big.jpg");
  CHECK(big.status == 413);
  CHECK(IsJsonError(big));
  CHECK(CountBlobs(box.data_dir()) == 0);
  Reply small = box.Upload(token, JpegBytes(1500), "image/jpeg", "small.jpg");
  CHECK(small.status == 201);
}

TEST_CASE("an upload over the size limit sent in chunks is refused with 413") {
  TestServer box([](box::Config& c) { c.max_upload_bytes = 2000; });
  SeedTwoClasses(box);
  std::string token = box.Login("student.a");
  // Sent in one go, so the client is never cut off while the server answers early.
  std::string reply = RawExchange(box.port(),
                                  "POST /api/v1/files HTTP/1.1\r\nHost: x\r\n"
                                  "Authorization: Bearer " +
                                      token +
                                      "\r\n"
                                      "Content-Type: image/jpeg\r\nX-Filename: big.jpg\r\n"
                                      "Transfer-Encoding: chunked\r\n\r\n" +
                                      Chunked(JpegBytes(6000)));
  INFO(reply);
  CHECK(reply.rfind("HTTP/1.1 413", 0) == 0);
  CHECK(CountBlobs(box.data_dir()) == 0);
}

TEST_CASE("an upload whose bytes contradict its declared type is refused with 415") {
  TestServer box;
  SeedTwoClasses(box);
  std::string token = box.Login("teacher.a");
  Reply r = box.Upload(token, PngBytes(), "application/pdf", "devoir.pdf");
  CHECK(r.status == 415);
  CHECK(IsJsonError(r));
  CHECK(r.ErrorCode() == "unsupported_type");
  Reply exe = box.Upload(token, std::string("MZ\x90\x00\x03\x00\x00\x00", 8) + std::string(100, 'x'),
                         "application/octet-stream", "jeu.exe");
  CHECK(exe.status == 415);
  // The same PNG declared as what it is goes through.
  Reply png = box.Upload(token, PngBytes(), "image/png", "image.png");
  CHECK(png.status == 201);
  CHECK(png.body["content_type"] == "image/png");
}

TEST_CASE("an uploaded HTML page is served as an inert download") {
  TestServer box;
  SeedTwoClasses(box);
  std::string token = box.Login("student.a");
  std::string html = "<!DOCTYPE html><html><body><script>fetch('/api/v1/me')</script></body></html>";
  Reply up = box.Upload(token, html, "text/html", "page.html");
  REQUIRE_MESSAGE(up.status == 201, Describe(up));
  Reply r = box.Get("/api/v1/files/" + up.body["id"].get<std::string>(), token);
  CHECK(r.status == 200);
  CHECK(r.raw == html);
  CHECK(r.Header("Content-Disposition").rfind("attachment", 0) == 0);
  CHECK(r.Header("Content-Security-Policy").find("sandbox") != std::string::npos);
  CHECK(r.Header("X-Content-Type-Options") == "nosniff");
}

TEST_CASE("an uploaded PDF is served inline with validators and answers conditional requests") {
  TestServer box;
  SeedTwoClasses(box);
  std::string token = box.Login("teacher.a");
  Reply up = box.Upload(token, PdfBytes(), "application/pdf", "cours.pdf");
  REQUIRE(up.status == 201);
  std::string path = "/api/v1/files/" + up.body["id"].get<std::string>();
  Reply r = box.Get(path, token);
  CHECK(r.status == 200);
  CHECK(r.Header("Content-Disposition").rfind("inline", 0) == 0);
  CHECK(r.Header("Content-Disposition").find("cours.pdf") != std::string::npos);
  std::string etag = r.Header("ETag");
  REQUIRE(!etag.empty());
  CHECK(!r.Header("Last-Modified").empty());
  CHECK(box.Get(path, token, {{"If-None-Match", etag}}).status == 304);
  CHECK(box.Get(path, token, {{"Range", "bytes=100000-"}}).status == 416);
  Reply download = box.Get(path + "?download=1", token);
  CHECK(download.Header("Content-Disposition").rfind("attachment", 0) == 0);
}

// --- Rosters --------------------------------------------------------------------

TEST_CASE("a roster import creates accounts that can log in, and re-importing it changes nothing") {
  TestServer box;
  const std::string csv =
      "login;display name;role;class\n"
      "lea.martin;Léa Martin;élève;4e B\n"
      "hugo.petit;Hugo Petit;student;4e B\n"
      "m.durand;M. Durand;enseignant;4e B\n";
  auto first = box.school().accounts().ImportRoster(nullptr, csv);
  REQUIRE(first.ok());
  CHECK(first->errors.empty());
  CHECK(first->created == 3);
  CHECK(first->classes_created == 1);
  REQUIRE(first->new_passwords.size() == 3);
  std::string token = box.Login(first->new_passwords[0].first, first->new_passwords[0].second);
  REQUIRE(!token.empty());
  Reply classes = box.Get("/api/v1/classes", token);
  REQUIRE(classes.body["classes"].size() == 1);
  CHECK(classes.body["classes"][0]["name"] == "4e B");
  CHECK(classes.body["classes"][0]["students"] == 2);
  CHECK(classes.body["classes"][0]["teachers"] == 1);

  auto again = box.school().accounts().ImportRoster(nullptr, csv);
  REQUIRE(again.ok());
  CHECK(again->errors.empty());
  CHECK(again->created == 0);
  CHECK(again->unchanged == 3);
  CHECK(again->classes_created == 0);
  CHECK(again->new_passwords.empty());
  CHECK(box.school().accounts().ListUsers()->size() == 3);
  // The passwords handed out the first time still work.
  CHECK(!box.Login(first->new_passwords[1].first, first->new_passwords[1].second).empty());
}

TEST_CASE("a roster with bad lines reports them by line number and imports nothing") {
  TestServer box;
  const std::string csv =
      "login,display name,role,class\n"
      "ok.one,Un,student,3e C\n"
      "Bad Login!,Deux,student,3e C\n"
      "ok.two,Trois,pirate,3e C\n"
      "ok.three,Quatre,student\n"
      "ok.four,Cinq,student,3e C\n";
  auto report = box.school().accounts().ImportRoster(nullptr, csv);
  REQUIRE(report.ok());
  REQUIRE(report->errors.size() == 3);
  CHECK(report->errors[0].line == 3);
  CHECK(report->errors[1].line == 4);
  CHECK(report->errors[2].line == 5);
  for (const auto& e : report->errors) CHECK(!e.message.empty());
  CHECK(report->created == 0);
  CHECK(box.school().accounts().ListUsers()->empty());
  CHECK(!box.school().accounts().FindClass("3e C").ok());
}

TEST_CASE("a roster line whose login exists with another role is an error and nothing is imported") {
  TestServer box;
  SeedTwoClasses(box);
  auto report = box.school().accounts().ImportRoster(nullptr,
                                                     "new.pupil,Nouveau,student,5e A\n"
                                                     "teacher.a,Prof A,student,5e A\n");
  REQUIRE(report.ok());
  REQUIRE(report->errors.size() == 1);
  CHECK(report->errors[0].line == 2);
  CHECK(!box.school().accounts().FindUser("new.pupil").ok());
}

TEST_CASE("tablets' connectivity probes get the answers that mean the network works") {
  TestServer box;
  struct Probe {
    const char* path;
    int status;
    const char* body;
  };
  for (const Probe& p :
       {Probe{"/generate_204", 204, ""},
        Probe{"/hotspot-detect.html", 200, "<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>"},
        Probe{"/connecttest.txt", 200, "Microsoft Connect Test"}, Probe{"/success.txt", 200, "success\n"},
        Probe{"/check_network_status.txt", 200, "NetworkManager is online\n"}}) {
    CAPTURE(p.path);
    std::string reply = RawExchange(
        box.port(), std::string("GET ") + p.path + " HTTP/1.1\r\nHost: connectivitycheck.gstatic.com\r\n\r\n");
    CHECK(reply.rfind("HTTP/1.1 " + std::to_string(p.status), 0) == 0);
    CHECK(reply.substr(reply.find("\r\n\r\n") + 4) == p.body);
  }
  Reply api = box.Get("/captive-portal-api");
  CHECK(api.status == 200);
  CHECK(api.body["captive"] == false);
  CHECK(api.body["user-portal-url"].get<std::string>().rfind("http://", 0) == 0);
}

TEST_CASE(
    "the installation page shows the box's secrets only on the installation address, the setup code only while "
    "pending") {
  // The SD image sets installation_address to an address its firewall opens to the Ethernet port alone.
  TestServer box([](box::Config& c) { c.installation_address = "127.0.0.1"; });
  REQUIRE(core::WriteFileAtomic(box.data_dir() / "installation.txt",
                                "Wi-Fi : Relais-Test\nMot de passe Wi-Fi : abcd-efgh-jkmn-pqrs\n", 0600)
              .ok());
  Reply page = box.Get("/installation");
  REQUIRE(page.status == 200);
  CHECK(page.raw.find("Mot de passe Wi-Fi : abcd-efgh-jkmn-pqrs") != std::string::npos);
  std::string code = box.school().accounts().PrepareSetup().value().value();
  CHECK(page.raw.find("Code d'installation de l'application : " + code) != std::string::npos);
  CHECK(page.Header("Cache-Control") == "no-store");

  REQUIRE(box.Post("/api/v1/setup",
                   {{"code", code}, {"school_name", "École"}, {"login", "directrice"}, {"password", kPassword}})
              .status == 201);
  page = box.Get("/installation");
  REQUIRE(page.status == 200);
  CHECK(page.raw.find(code) == std::string::npos);
  CHECK(page.raw.find("abcd-efgh-jkmn-pqrs") != std::string::npos);

  // Reached on another address (a tablet on the box's Wi-Fi reaches the app's address): no such page.
  TestServer wifi([](box::Config& c) { c.installation_address = "10.42.1.1"; });
  REQUIRE(
      core::WriteFileAtomic(wifi.data_dir() / "installation.txt", "Mot de passe Wi-Fi : abcd-efgh-jkmn-pqrs\n", 0600)
          .ok());
  Reply refused = wifi.Get("/installation");
  CHECK(refused.status == 404);
  CHECK(refused.raw.find("abcd") == std::string::npos);
}

TEST_CASE("a teacher resets a forgetful pupil's password: the old one and the pupil's sessions stop working") {
  TestServer box;
  Cast cast = SeedTwoClasses(box);
  std::string pupil = box.Login("student.a");
  std::string teacher = box.Login("teacher.a");
  Reply reset = box.Post("/api/v1/users/" + cast.student_a.id + "/password", json::object(), teacher);
  REQUIRE(reset.status == 200);
  std::string fresh = reset.body["password"].get<std::string>();
  CHECK(fresh.size() >= 12);
  CHECK(box.Get("/api/v1/me", pupil).status == 401);
  CHECK(box.Post("/api/v1/session", {{"login", "student.a"}, {"password", kPassword}}).status == 401);
  CHECK(box.Post("/api/v1/session", {{"login", "student.a"}, {"password", fresh}}).status == 200);
  // A chosen password is not echoed back.
  Reply chosen = box.Post("/api/v1/users/" + cast.student_a.id + "/password", {{"password", "lune-verte-7"}}, teacher);
  CHECK(chosen.status == 200);
  CHECK_FALSE(chosen.body.contains("password"));
  CHECK(box.Post("/api/v1/users/" + cast.student_a.id + "/password", {{"password", "abc"}}, teacher).status == 400);
}

TEST_CASE("the first administrator is created in the browser with the one-time setup code") {
  TestServer box;
  Reply state = box.Get("/api/v1/setup");
  REQUIRE(state.status == 200);
  CHECK(state.body["needed"] == true);
  std::string code = box.school().accounts().PrepareSetup().value().value();
  json form = {{"code", "aaaa-bbbb-cccc"},
               {"school_name", "École Jules Ferry"},
               {"login", "Directrice"},
               {"password", kPassword},
               {"display_name", "Mme la directrice"}};
  Reply wrong = box.Post("/api/v1/setup", form);
  CHECK(wrong.status == 403);
  CHECK(wrong.ErrorCode() == "permission_denied");
  form["code"] = code;
  Reply done = box.Post("/api/v1/setup", form);
  REQUIRE(done.status == 201);
  CHECK(done.body["user"]["role"] == "admin");
  CHECK(done.body["user"]["login"] == "directrice");
  CHECK(box.Get("/api/v1/users", done.body["token"].get<std::string>()).status == 200);
  CHECK(box.Get("/api/v1/setup").body["needed"] == false);
  CHECK(box.Get("/api/v1/setup").body["school_name"] == "École Jules Ferry");
  // The code is spent: nobody can create a second administrator with it.
  form["login"] = "intrus";
  CHECK(box.Post("/api/v1/setup", form).status == 409);
}

}  // namespace
}  // namespace relais::testing

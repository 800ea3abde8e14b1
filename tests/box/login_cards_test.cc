// Login cards over HTTP: issuing, scanning (GET /c/TOKEN), revocation,
// throttling, and keeping the card's token out of the log.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "core/crypto.h"
#include "tests/box/test_server.h"
#include "tests/support/process.h"

namespace relais::testing {

using namespace relais::box;
using namespace relais::http;
namespace {

// The path of a card's URL ("/c/…"), as the tablet's browser asks for it.
std::string PathOf(const json& card) {
  std::string url = card["url"];
  return url.substr(url.find("/c/"));
}

json CardOf(const json& cards, const std::string& login) {
  for (const json& c : cards["cards"])
    if (c["user"]["login"] == login) return c;
  return nullptr;
}

// The session token a 303 answer set in its cookie, or "".
std::string CookieToken(const Reply& r) {
  std::string cookie = r.Header("Set-Cookie");
  std::string prefix = "relais_session=";
  if (cookie.rfind(prefix, 0) != 0) return "";
  return cookie.substr(prefix.size(), cookie.find(';') - prefix.size());
}

TEST_CASE("a teacher prints login cards for a class and a scanned card logs its student in") {
  TestServer box;
  Cast cast = SeedTwoClasses(box);
  std::string teacher = box.Login("teacher.a");
  Reply issued = box.Post("/api/v1/classes/" + cast.class_a.id + "/login-cards", json::object(), teacher);
  REQUIRE_MESSAGE(issued.status == 201, Describe(issued));
  REQUIRE(issued.body["cards"].size() == 2);  // the two students; not the teacher
  json card = CardOf(issued.body, "student.a");
  REQUIRE(card.is_object());
  CHECK(card["user"]["user_id"] == cast.student_a.id);
  CHECK(card["user"]["display_name"] == "User student.a");
  std::string url = card["url"];
  CHECK(url.rfind("http://127.0.0.1:" + std::to_string(box.port()) + "/c/", 0) == 0);
  CHECK(url.size() < 60);  // a short URL keeps the QR code coarse enough for a cheap camera
  std::string svg = card["qr_svg"];
  CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(svg.find("<path") != std::string::npos);
  CHECK(CardOf(issued.body, "student.a2")["url"] != url);

  // The tablet opens the URL: a session for that student, and on to the app.
  Reply scan = box.Get(PathOf(card));
  REQUIRE_MESSAGE(scan.status == 303, Describe(scan));
  CHECK(RawExchange(box.port(), "GET " + PathOf(CardOf(issued.body, "student.a2")) + " HTTP/1.1\r\nHost: x\r\n\r\n")
            .rfind("HTTP/1.1 303 See Other\r\n", 0) == 0);
  CHECK(scan.Header("Location") == "/");
  CHECK(scan.Header("Referrer-Policy") == "no-referrer");
  std::string session = CookieToken(scan);
  REQUIRE(!session.empty());
  Reply me = box.Get("/api/v1/me", session);
  CHECK(me.body["user"]["login"] == "student.a");
  // The card works again the next day (it is the pupil's login, not a one-time code).
  box.clock().Advance(86400);
  CHECK(box.Get(PathOf(card)).Header("Location") == "/");
}

TEST_CASE("cards printed from an HTTPS page carry an https URL that logs in over HTTPS") {
  TestServer box(UseBoxCertificate);
  Cast cast = SeedTwoClasses(box);
  box.set_https(true);
  Reply issued =
      box.Post("/api/v1/classes/" + cast.class_a.id + "/login-cards", json::object(), box.Login("teacher.a"));
  REQUIRE_MESSAGE(issued.status == 201, Describe(issued));
  json card = CardOf(issued.body, "student.a");
  CHECK(card["url"].get<std::string>().rfind("https://localhost:" + std::to_string(box.https_port()) + "/c/", 0) == 0);
  Reply scan = box.Get(PathOf(card));
  CHECK(scan.Header("Location") == "/");
  CHECK(box.Get("/api/v1/me", CookieToken(scan)).body["user"]["login"] == "student.a");
}

TEST_CASE("issuing cards again revokes the earlier ones; issuing for one student leaves the others") {
  TestServer box;
  Cast cast = SeedTwoClasses(box);
  std::string teacher = box.Login("teacher.a");
  std::string path = "/api/v1/classes/" + cast.class_a.id + "/login-cards";
  json first = box.Post(path, json::object(), teacher).body;
  json second = box.Post(path, json::object(), teacher).body;
  CHECK(box.Get(PathOf(CardOf(first, "student.a"))).Header("Location") == "/?card=invalid");
  CHECK(box.Get(PathOf(CardOf(second, "student.a"))).Header("Location") == "/");

  // A lost card: a new one for that student alone.
  Reply one = box.Post(path, {{"user_ids", {cast.student_a2.id}}}, teacher);
  REQUIRE_MESSAGE(one.status == 201, Describe(one));
  REQUIRE(one.body["cards"].size() == 1);
  CHECK(box.Get(PathOf(CardOf(second, "student.a2"))).Header("Location") == "/?card=invalid");
  CHECK(box.Get(PathOf(CardOf(one.body, "student.a2"))).Header("Location") == "/");
  CHECK(box.Get(PathOf(CardOf(second, "student.a"))).Header("Location") == "/");
}

TEST_CASE("the class's card list tells who holds a card and since when, without the tokens") {
  TestServer box;
  Cast cast = SeedTwoClasses(box);
  std::string teacher = box.Login("teacher.a");
  std::string path = "/api/v1/classes/" + cast.class_a.id + "/login-cards";
  Reply none = box.Get(path, teacher);
  REQUIRE_MESSAGE(none.status == 200, Describe(none));
  REQUIRE(none.body["cards"].size() == 2);
  CHECK(none.body["cards"][0]["issued_at"].is_null());
  REQUIRE(box.Post(path, {{"user_ids", {cast.student_a2.id}}}, teacher).status == 201);
  Reply some = box.Get(path, teacher);
  CHECK(some.body["cards"][0]["user"]["login"] == "student.a");
  CHECK(some.body["cards"][0]["issued_at"].is_null());
  CHECK(some.body["cards"][1]["issued_at"] == core::FormatTime(box.clock().Now()));
  CHECK(some.raw.find("/c/") == std::string::npos);
  CHECK(!some.body["cards"][1].contains("url"));
  CHECK(box.Get(path, box.Login("student.a")).status == 403);
}

TEST_CASE("cards are only for the students of the class, and only teachers of the class or admins issue them") {
  TestServer box;
  Cast cast = SeedTwoClasses(box);
  std::string path = "/api/v1/classes/" + cast.class_a.id + "/login-cards";
  std::string teacher = box.Login("teacher.a");
  for (const std::string& id : {cast.teacher_a.id, cast.student_b.id, std::string("not-an-id")}) {
    Reply r = box.Post(path, {{"user_ids", {id}}}, teacher);
    INFO(Describe(r));
    CHECK(r.status == 404);
    CHECK(IsJsonError(r));
  }
  CHECK(box.Post(path, json::object(), box.Login("student.a")).status == 403);
  CHECK(box.Post(path, json::object(), box.Login("teacher.b")).status == 404);
  CHECK(box.Post(path, json::object(), box.Login("admin")).status == 201);
}

TEST_CASE("each class's teacher prints their own card for a pupil, and leaving a class revokes that class's card") {
  TestServer box;
  Cast cast = SeedTwoClasses(box);
  box.school().accounts().AddMember(nullptr, cast.class_b.id, cast.student_a.id).value();
  json a = box.Post("/api/v1/classes/" + cast.class_a.id + "/login-cards", json::object(), box.Login("teacher.a")).body;
  json b = box.Post("/api/v1/classes/" + cast.class_b.id + "/login-cards", json::object(), box.Login("teacher.b")).body;
  CHECK(box.Get(PathOf(CardOf(a, "student.a"))).Header("Location") == "/");
  CHECK(box.Get(PathOf(CardOf(b, "student.a"))).Header("Location") == "/");
  std::string admin = box.Login("admin");
  REQUIRE(box.Delete("/api/v1/classes/" + cast.class_a.id + "/members/" + cast.student_a.id, admin).status == 200);
  CHECK(box.Get(PathOf(CardOf(a, "student.a"))).Header("Location") == "/?card=invalid");
  CHECK(box.Get(PathOf(CardOf(b, "student.a"))).Header("Location") == "/");
  // Joining again does not bring the old card back.
  box.school().accounts().AddMember(nullptr, cast.class_a.id, cast.student_a.id).value();
  CHECK(box.Get(PathOf(CardOf(a, "student.a"))).Header("Location") == "/?card=invalid");
}

TEST_CASE("a password reset revokes the student's card") {
  TestServer box;
  Cast cast = SeedTwoClasses(box);
  std::string teacher = box.Login("teacher.a");
  json cards = box.Post("/api/v1/classes/" + cast.class_a.id + "/login-cards", json::object(), teacher).body;
  REQUIRE(box.Post("/api/v1/users/" + cast.student_a.id + "/password", json::object(), teacher).status == 200);
  CHECK(box.Get(PathOf(CardOf(cards, "student.a"))).Header("Location") == "/?card=invalid");
  CHECK(box.Get(PathOf(CardOf(cards, "student.a2"))).Header("Location") == "/");
}

TEST_CASE("a made-up card is refused and repeated failures from a device are throttled like logins") {
  TestServer box;
  Cast cast = SeedTwoClasses(box);
  json cards =
      box.Post("/api/v1/classes/" + cast.class_a.id + "/login-cards", json::object(), box.Login("teacher.a")).body;
  for (int i = 0; i < 5; ++i) {
    Reply r = box.Get("/c/" + core::RandomToken(16));
    CHECK(r.status == 303);
    CHECK(r.Header("Location") == "/?card=invalid");
    CHECK(r.Header("Set-Cookie").empty());
  }
  // Locked: even a good card waits, so guessing cannot continue.
  Reply locked = box.Get(PathOf(CardOf(cards, "student.a")));
  CHECK(locked.Header("Location") == "/?card=rate_limited");
  CHECK(!locked.Header("Retry-After").empty());
  CHECK(locked.Header("Set-Cookie").empty());
  box.clock().Advance(31);
  CHECK(box.Get(PathOf(CardOf(cards, "student.a"))).Header("Location") == "/");
  // Tokens of any length or alphabet are just wrong, never an error page.
  for (const std::string& bad : {std::string("x"), std::string(200, 'a'), std::string("%00")})
    CHECK(box.Get("/c/" + bad).status == 303);
}

TEST_CASE("a card's token does not appear in the box's log") {
  fs::path dir = fs::temp_directory_path() / ("relais-card-log-" + core::RandomToken(9));
  fs::create_directories(dir);
  std::string class_id;
  {
    core::SystemClock clock;
    auto school = content::School::Open(dir, clock);
    REQUIRE(school.ok());
    auto& accounts = (*school)->accounts();
    class_id = accounts.CreateClass(nullptr, "CM1")->id;
    REQUIRE(accounts.CreateUser(nullptr, {"prof", "Prof", content::Role::kTeacher, kPassword, "CM1"}).ok());
    REQUIRE(accounts.CreateUser(nullptr, {"eleve", "Élève", content::Role::kStudent, kPassword, "CM1"}).ok());
  }
  ServerProcess::Options options;
  options.data_dir = dir;
  options.log_file = dir / "log.txt";
  auto child = ServerProcess::Start(options);
  REQUIRE_MESSAGE(child.ok(), child.status().ToString());
  auto client = (*child)->NewClient();
  auto login =
      client->Post("/api/v1/session", json({{"login", "prof"}, {"password", kPassword}}).dump(), "application/json");
  REQUIRE(login);
  std::string token = json::parse(login->body)["token"];
  auto issued = client->Post("/api/v1/classes/" + class_id + "/login-cards", {{"Authorization", "Bearer " + token}},
                             "{}", "application/json");
  REQUIRE(issued);
  REQUIRE(issued->status == 201);
  std::string url = json::parse(issued->body)["cards"][0]["url"];
  std::string card_token = url.substr(url.find("/c/") + 3);
  auto scan = client->Get(url.substr(url.find("/c/")));
  REQUIRE(scan);
  CHECK(scan->status == 303);
  REQUIRE((*child)->Stop().ok());
  std::ifstream in(dir / "log.txt");
  std::stringstream log;
  log << in.rdbuf();
  CHECK(log.str().find("/c/") != std::string::npos);       // the request was logged …
  CHECK(log.str().find(card_token) == std::string::npos);  // … without its token
  fs::remove_all(dir);
}

}  // namespace
}  // namespace relais::testing

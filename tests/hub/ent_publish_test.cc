// The ENT's publications as gateway operations (hub/ent_publish.h): applied
// to a real box's school (Replica::Apply checks them against the box's
// schema), idempotent, winning over an offline box edit, and strict about
// their input.
#include "hub/ent_publish.h"

#include <doctest/doctest.h>

#include <set>

#include "content/ids.h"
#include "core/crypto.h"
#include "tests/support/replica_fixture.h"

using namespace relais;
using namespace relais::sync;
using namespace relais::hub;
using nlohmann::json;

namespace {

const std::string kGateway = core::DerivedUuid("gateway-origin", {"test"});
constexpr int64_t kNow = 1790000000;

// The gateway's side of a test: the school's log as the gateway holds it.
struct Log {
  std::vector<content::Op> ops;
  LogIndex Index() const {
    LogIndex index(kGateway);
    for (const auto& op : ops) index.Add(op);
    return index;
  }
  int64_t LastSeq() const {
    int64_t last = 0;
    for (const auto& op : ops)
      if (op.origin == kGateway) last = std::max(last, op.seq);
    return last;
  }
  // Publishes `body` as the gateway would; returns the new operations.
  std::vector<content::Op> Publish(const json& body, int64_t now = kNow) {
    LogIndex index = Index();
    auto p = ParsePublication(body, index, now);
    REQUIRE_MESSAGE(p.ok(), p.status().ToString());
    std::vector<content::Op> out = PublicationOps(*p, index, kGateway, LastSeq() + 1, now);
    ops.insert(ops.end(), out.begin(), out.end());
    return out;
  }
  void Take(TestReplica& box) {
    for (const auto& op : box.AllOps())
      if (op.origin == box.origin()) ops.push_back(op);
  }
};

json Roster() {
  return json::parse(R"({
    "classes": [{"name": "5e B"}],
    "users": [
      {"login": "prof.durand", "display_name": "M. Durand", "role": "teacher", "classes": ["5e B"]},
      {"login": "lea.martin", "display_name": "Léa Martin", "role": "student", "classes": ["5e B"]}
    ],
    "homework": [{"id": "ent-hw-1", "class": "5e B", "subject": "Maths", "title": "Fractions",
                  "instructions": "<p>Exercices 1 à 4</p>", "due_at": "2026-12-01T08:00:00Z"}],
    "courses": [{"id": "c-1", "class": "5e B", "title": "Histoire", "sections": [
      {"id": "s-1", "title": "Chapitre 1", "resources": [
        {"id": "r-1", "kind": "link", "title": "Frise", "url": "https://example.org/frise"},
        {"id": "r-2", "kind": "text", "title": "Résumé", "body": "Les Gaulois…"}]}]}]
  })");
}

ApplyReport Apply(TestReplica& box, const std::vector<content::Op>& ops) {
  auto report = box.replica().Apply(ops);
  REQUIRE_MESSAGE(report.ok(), report.status().ToString());
  return *report;
}

content::Viewer ViewerOf(TestReplica& box, const std::string& login) {
  auto user = box->accounts().FindUser(login);
  REQUIRE_MESSAGE(user.ok(), user.status().ToString());
  return content::Viewer{user->id, user->login, user->role, "test"};
}

}  // namespace

TEST_CASE("a roster, homework and a course become operations a box applies whole, and a pupil sees the homework") {
  REQUIRE(core::InitCrypto().ok());
  TestReplica box;
  REQUIRE(box.replica().SetGatewayOrigin(kGateway).ok());
  Log log;
  std::vector<content::Op> ops = log.Publish(Roster());
  for (size_t i = 0; i < ops.size(); ++i) {
    CHECK(ops[i].origin == kGateway);
    CHECK(ops[i].seq == static_cast<int64_t>(i + 1));
    if (i > 0) CHECK(ops[i].hlc > ops[i - 1].hlc);
  }
  CHECK(content::HlcMs(ops.front().hlc) >= static_cast<uint64_t>(kNow) * 1000);
  ApplyReport report = Apply(box, ops);
  CHECK(report.pending == 0);  // every row has the columns the box's schema needs
  CHECK(report.rows_written == static_cast<int64_t>(ops.size()));

  auto list = box->homework().List(ViewerOf(box, "lea.martin"), {});
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  CHECK((*list)[0].id == EntHomeworkId("ent-hw-1"));
  CHECK((*list)[0].title == "Fractions");
  CHECK((*list)[0].instructions == "Exercices 1 à 4");  // markup stripped as the box does
  // The ids are the box's: the pupil's id derives from the login.
  CHECK(ViewerOf(box, "lea.martin").id == core::DerivedUuid("user", {"lea.martin"}));
  // No password: the account logs in with a login card.
  CHECK_FALSE(box->accounts().CheckPassword("lea.martin", "").ok());
}

TEST_CASE("publishing the same thing twice writes nothing new; an edit writes only what changed") {
  REQUIRE(core::InitCrypto().ok());
  Log log;
  size_t first = log.Publish(Roster()).size();
  CHECK(first > 0);
  CHECK(log.Publish(Roster(), kNow + 60).empty());
  json edited = Roster();
  edited["homework"][0]["title"] = "Fractions (corrigé)";
  std::vector<content::Op> edit = log.Publish(edited, kNow + 120);
  REQUIRE(edit.size() == 1);
  CHECK(edit[0].kind == content::Op::Kind::kUpdate);
  CHECK(edit[0].table == "homework");
  REQUIRE(edit[0].columns.size() == 2);
  CHECK(edit[0].columns[0].first == "title");
  CHECK(edit[0].columns[1].first == "updated_at");
  CHECK(edit[0].seq == static_cast<int64_t>(first + 1));
  CHECK(edit[0].base > 0);  // the newest hlc the log held for the row
}

TEST_CASE("the ENT's edit of a homework wins over a box edit made offline; a later box edit wins normally") {
  REQUIRE(core::InitCrypto().ok());
  TestReplica box;
  REQUIRE(box.replica().SetGatewayOrigin(kGateway).ok());
  Log log;
  Apply(box, log.Publish(Roster()));
  content::Viewer teacher = ViewerOf(box, "prof.durand");
  std::string id = EntHomeworkId("ent-hw-1");
  // Offline on the box, the teacher edits the title; meanwhile the ENT does.
  box.clock().Advance(60);
  content::HomeworkPatch patch;
  patch.title = "Fractions (box)";
  REQUIRE(box->homework().Update(teacher, id, patch).ok());
  json edited = Roster();
  edited["homework"][0]["title"] = "Fractions (ENT)";
  std::vector<content::Op> ent_edit = log.Publish(edited, kNow + 30);
  // The box's edit is even later by the clock, yet the ENT's wins.
  Apply(box, ent_edit);
  CHECK(box->homework().Get(teacher, id)->title == "Fractions (ENT)");
  // A box edit made after seeing the ENT's wins as usual.
  box.clock().Advance(60);
  patch.title = "Fractions (box, after)";
  REQUIRE(box->homework().Update(teacher, id, patch).ok());
  CHECK(box->homework().Get(teacher, id)->title == "Fractions (box, after)");
}

TEST_CASE("an ENT roster meets the account a box made for the same login: one row, its password kept") {
  REQUIRE(core::InitCrypto().ok());
  TestReplica box;
  REQUIRE(box.replica().SetGatewayOrigin(kGateway).ok());
  box.AddUser("lea.martin", content::Role::kStudent);
  Log log;
  log.Take(box);  // the box synced its account to the gateway
  json roster = Roster();
  std::vector<content::Op> ops = log.Publish(roster);
  for (const auto& op : ops) {
    if (op.table != "users" || op.key[0] != core::SqlValue(core::DerivedUuid("user", {"lea.martin"}))) continue;
    CHECK(op.kind == content::Op::Kind::kUpdate);
    for (const auto& [name, value] : op.columns) CHECK(name != "password_hash");
  }
  Apply(box, ops);
  CHECK(box->accounts().CheckPassword("lea.martin", "correct-horse-42").ok());
  CHECK(box->accounts().FindUser("lea.martin")->display_name == "Léa Martin");
}

TEST_CASE("a roster published before the box's first sync does not wipe the password of the box's account") {
  REQUIRE(core::InitCrypto().ok());
  TestReplica box;
  REQUIRE(box.replica().SetGatewayOrigin(kGateway).ok());
  box.AddUser("prof.durand", content::Role::kTeacher);
  Log log;  // the gateway has not seen the box's account yet: it inserts one without a password
  std::vector<content::Op> ops = log.Publish(Roster());
  Apply(box, ops);
  CHECK(box->accounts().CheckPassword("prof.durand", "correct-horse-42").ok());
  CHECK(box->accounts().FindUser("prof.durand")->display_name == "M. Durand");
  // A third party that gets both in the other order agrees.
  TestReplica other;
  REQUIRE(other.replica().SetGatewayOrigin(kGateway).ok());
  Apply(other, ops);
  Push(box, other);
  CHECK(other.Dump() == box.Dump());
}

TEST_CASE("an account's end reaches the box: the account can no longer log in") {
  REQUIRE(core::InitCrypto().ok());
  TestReplica box;
  REQUIRE(box.replica().SetGatewayOrigin(kGateway).ok());
  box.AddUser("old.pupil", content::Role::kStudent);
  Log log;
  log.Take(box);
  std::vector<content::Op> ops = log.Publish(json{{"end_accounts", {{{"login", "old.pupil"}}}}});
  REQUIRE(ops.size() == 1);
  Apply(box, ops);
  CHECK(box->accounts().FindUser("old.pupil")->disabled);
  CHECK_FALSE(box->accounts().CheckPassword("old.pupil", "correct-horse-42").ok());
  // Ending it again writes nothing.
  CHECK(log.Publish(json{{"end_accounts", {{{"login", "old.pupil"}}}}}, kNow + 60).empty());
}

TEST_CASE("a bad publication is refused whole, naming the field") {
  REQUIRE(core::InitCrypto().ok());
  struct Case {
    const char* what;
    std::function<void(json&)> spoil;
    const char* field;
  };
  const std::vector<Case> cases = {
      {"not an object", [](json& b) { b = json::array(); }, "publication"},
      {"unknown top field", [](json& b) { b["homeworks"] = json::array(); }, "publication.homeworks"},
      {"unknown item field", [](json& b) { b["users"][1]["pasword"] = "x"; }, "users[1].pasword"},
      {"bad login", [](json& b) { b["users"][1]["login"] = "Léa Martin"; }, "users[1].login"},
      {"bad role", [](json& b) { b["users"][0]["role"] = "admin"; }, "users[0].role"},
      {"unknown class", [](json& b) { b["users"][1]["classes"][0] = "6e A"; }, "users[1].classes[0]"},
      {"repeated login", [](json& b) { b["users"][1]["login"] = "prof.durand"; }, "users[1].login"},
      {"homework without id", [](json& b) { b["homework"][0].erase("id"); }, "homework[0].id"},
      {"empty title", [](json& b) { b["homework"][0]["title"] = "  "; }, "homework[0].title"},
      {"bad due date", [](json& b) { b["homework"][0]["due_at"] = "tomorrow"; }, "homework[0].due_at"},
      {"missing due date", [](json& b) { b["homework"][0].erase("due_at"); }, "homework[0].due_at"},
      {"unknown file",
       [](json& b) {
         b["homework"][0]["attachments"] = {{{"file_id", core::NewUuid()}}};
       },
       "homework[0].attachments[0].file_id"},
      {"link without url", [](json& b) { b["courses"][0]["sections"][0]["resources"][0].erase("url"); },
       "courses[0].sections[0].resources[0].url"},
      {"text with a url", [](json& b) { b["courses"][0]["sections"][0]["resources"][1]["url"] = "https://x.org"; },
       "courses[0].sections[0].resources[1].url"},
      {"bad kind", [](json& b) { b["courses"][0]["sections"][0]["resources"][0]["kind"] = "video"; },
       "courses[0].sections[0].resources[0].kind"},
      {"ending an unknown account",
       [](json& b) {
         b["end_accounts"] = {{{"login", "nobody"}}};
       },
       "end_accounts[0].login"},
      {"an end in the future",
       [](json& b) {
         b["end_accounts"] = {{{"login", "lea.martin"}, {"ended_at", "2040-01-01T00:00:00Z"}}};
       },
       "end_accounts[0].ended_at"},
      {"nothing", [](json& b) { b = json::object(); }, "publication"},
  };
  LogIndex empty(kGateway);
  for (const Case& c : cases) {
    INFO(c.what);
    json body = Roster();
    c.spoil(body);
    auto parsed = ParsePublication(body, empty, kNow);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == StatusCode::kInvalidArgument);
    CHECK(parsed.status().message().rfind(std::string(c.field) + ":", 0) == 0);
  }
}

namespace {
// The names of the classes `login` is a member of on `box`, sorted.
std::set<std::string> ClassesOf(TestReplica& box, const std::string& login) {
  auto db = box->db().Reader();
  auto q = db->Query("SELECT c.name FROM class_members m JOIN classes c ON c.id = m.class_id WHERE m.user_id = ?1",
                     core::DerivedUuid("user", {login}));
  REQUIRE(q.ok());
  std::set<std::string> out;
  while (q->Step().value()) out.insert(q->Text(0));
  return out;
}
}  // namespace

TEST_CASE("a pupil the ENT moves from 5e B to 5e C is only in 5e C on the box; a membership the box made stays") {
  REQUIRE(core::InitCrypto().ok());
  TestReplica box;
  REQUIRE(box.replica().SetGatewayOrigin(kGateway).ok());
  Log log;
  json roster = json::parse(R"({
    "classes": [{"name": "5e B"}, {"name": "5e C"}],
    "users": [{"login": "lea.martin", "role": "student", "classes": ["5e B"]},
              {"login": "tom.petit", "role": "student", "classes": ["5e B"]}]})");
  Apply(box, log.Publish(roster));
  // On the box, an admin puts Léa in the drama club too.
  auto club = box->accounts().CreateClass(nullptr, "Atelier théâtre");
  REQUIRE(club.ok());
  REQUIRE(box->accounts().AddMember(nullptr, club->id, core::DerivedUuid("user", {"lea.martin"})).ok());
  log.Take(box);
  CHECK(ClassesOf(box, "lea.martin") == std::set<std::string>{"5e B", "Atelier théâtre"});

  // The ENT moves her to 5e C; Tom is published without a class list (untouched) .
  json moved = json::parse(R"({"users": [{"login": "lea.martin", "role": "student", "classes": ["5e C"]},
                                         {"login": "tom.petit", "role": "student"}]})");
  std::vector<content::Op> ops = log.Publish(moved, kNow + 60);
  int deletes = 0;
  for (const auto& op : ops)
    if (op.kind == content::Op::Kind::kDelete) {
      ++deletes;
      CHECK(op.table == "class_members");
      CHECK(op.key[0] ==
            core::SqlValue(core::DerivedUuid(
                "class_member", {core::DerivedUuid("class", {"5e b"}), core::DerivedUuid("user", {"lea.martin"})})));
    }
  CHECK(deletes == 1);
  Apply(box, ops);
  CHECK(ClassesOf(box, "lea.martin") == std::set<std::string>{"5e C", "Atelier théâtre"});
  CHECK(ClassesOf(box, "tom.petit") == std::set<std::string>{"5e B"});
  // The same again writes nothing; moving her back re-creates the membership.
  CHECK(log.Publish(moved, kNow + 120).empty());
  json back = json::parse(R"({"users": [{"login": "lea.martin", "role": "student", "classes": ["5e B"]}]})");
  Apply(box, log.Publish(back, kNow + 180));
  CHECK(ClassesOf(box, "lea.martin") == std::set<std::string>{"5e B", "Atelier théâtre"});
  // An empty list removes every membership the ENT made, none of the box's.
  Apply(box, log.Publish(json::parse(R"({"users": [{"login": "lea.martin", "role": "student", "classes": []}]})"),
                         kNow + 240));
  CHECK(ClassesOf(box, "lea.martin") == std::set<std::string>{"Atelier théâtre"});
}

TEST_CASE("an ENT-published class, user and membership get the ids a box derives for the same names") {
  REQUIRE(core::InitCrypto().ok());
  // One box receives the ENT's roster; another creates the same class and
  // accounts by hand (an administrator's API calls).
  TestReplica published;
  REQUIRE(published.replica().SetGatewayOrigin(kGateway).ok());
  Log log;
  Apply(published, log.Publish(Roster()));
  TestReplica typed;
  auto klass = typed->accounts().CreateClass(nullptr, "5e b");  // the case does not matter
  REQUIRE(klass.ok());
  content::NewUser lea{"lea.martin", "Léa Martin", content::Role::kStudent, "correct-horse-42", "5e b"};
  auto user = typed->accounts().CreateUser(nullptr, lea);
  REQUIRE_MESSAGE(user.ok(), user.status().ToString());

  auto ent_class = published->accounts().FindClass("5e B");
  REQUIRE(ent_class.ok());
  CHECK(ent_class->id == klass->id);
  CHECK(ent_class->id == content::ClassId("5e B"));
  CHECK(ViewerOf(published, "lea.martin").id == user->id);
  CHECK(user->id == content::UserId("lea.martin"));
  // The membership row has the same key on both boxes.
  std::string member_id = content::MemberId(klass->id, user->id);
  auto has_member = [&](const std::vector<content::Op>& ops) {
    return std::any_of(ops.begin(), ops.end(), [&](const content::Op& op) {
      return op.table == "class_members" && op.key[0] == core::SqlValue(member_id);
    });
  };
  CHECK(has_member(log.ops));
  CHECK(has_member(typed.AllOps()));
}

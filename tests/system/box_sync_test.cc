// Box-side sync end to end, with the real `relais` binary: a gateway
// (`relais-hub serve`) on 127.0.0.1 and two boxes that enrol with one-time
// codes and sync over the network and by USB directory. Convergence is
// judged on the full dumps of the synced tables (sync::DumpSyncedTables).
#include "box/box_sync.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "content/school.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/db.h"
#include "core/files.h"
#include "hub/ent_publish.h"
#include "sync/certificate.h"
#include "sync/chunks.h"
#include "sync/envelope.h"
#include "sync/identity.h"
#include "sync/replica.h"
#include "tests/support/cut_proxy.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

namespace fs = std::filesystem;
using namespace relais;
using namespace relais::testing;

namespace {

struct Output {
  int exit_code = -1;
  std::string out;  // standard output
  std::string all;  // standard output then standard error
};

// `args` split at spaces: the commands below hold paths without spaces, and no quotes.
std::vector<std::string> Words(const std::string& args) {
  std::vector<std::string> words;
  for (size_t at = 0; at < args.size();) {
    size_t end = args.find(' ', at);
    if (end == std::string::npos) end = args.size();
    if (end > at) words.push_back(args.substr(at, end - at));
    at = end + 1;
  }
  return words;
}

// Runs `relais ARGS` (the box) or, with Program::kHub, `relais-hub ARGS`.
Output Relais(Program program, const std::vector<std::string>& args) {
  CommandResult r = testing::Run(program, args);
  REQUIRE_MESSAGE(!r.killed, "relais " << (args.empty() ? "" : args[0]) << " did not end: " << r.All());
  return Output{r.exit_code, r.out, r.All()};
}
Output Relais(const std::string& args) { return Relais(Program::kBox, Words(args)); }
Output Hub(const std::string& args) { return Relais(Program::kHub, Words(args)); }

constexpr const char* kEntKey = "ent-connector-key-0123456789";

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

// `relais-hub serve --data DIR --listen LISTEN EXTRA…`, once it listens (and,
// over plain HTTP, answers its health check). `listen`: ADDR:PORT (a
// restarted gateway keeps its port); `extra`: more flags (--tls-cert …).
std::unique_ptr<ServerProcess> StartHub(const fs::path& dir, const std::string& listen = "127.0.0.1:0",
                                        const std::vector<std::string>& extra = {}) {
  ServerProcess::Options options;
  options.program = Program::kHub;
  options.command = {"serve", "--data", dir.string(), "--listen", listen};
  options.command.insert(options.command.end(), extra.begin(), extra.end());
  options.health_path = "/hub/v1/health";
  auto hub = ServerProcess::Start(options);
  REQUIRE_MESSAGE(hub.ok(), "the hub did not start: " << hub.status().ToString());
  return std::move(*hub);
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("relais-boxsync-" + core::RandomToken(8));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

std::string Dump(const fs::path& data) {
  core::SystemClock clock;
  auto school = content::School::Open(data, clock);
  REQUIRE_MESSAGE(school.ok(), school.status().ToString());
  auto db = (*school)->db().Reader();
  auto dump = sync::DumpSyncedTables(*db);
  REQUIRE(dump.ok());
  return *dump;
}

box::BoxSyncStatus SyncStatus(const fs::path& data) {
  core::SystemClock clock;
  auto school = content::School::Open(data, clock);
  REQUIRE(school.ok());
  auto status = box::ReadBoxSyncStatus(**school, data);
  REQUIRE(status.ok());
  return *status;
}

// A gateway with one school and two enrolled boxes.
struct World {
  TempDir tmp;
  fs::path hub_dir = tmp.path / "hub";
  fs::path a = tmp.path / "box-a";
  fs::path b = tmp.path / "box-b";
  fs::path stick = tmp.path / "stick";
  std::unique_ptr<ServerProcess> hub;
  std::string school;

  // `hub_flags`: more flags for the gateway (--tls-cert …).
  explicit World(const std::vector<std::string>& hub_flags = {}) {
    REQUIRE(core::InitCrypto().ok());
    fs::create_directories(hub_dir);
    // The ENT's connector authenticates with this key (docs/hub-api.md).
    REQUIRE(core::WriteFileAtomic(hub_dir / "ent.key", std::string(kEntKey) + "\n").ok());
    REQUIRE(
        core::WriteFileAtomic(hub_dir / "relais.conf", "hub_ent_key_file = " + (hub_dir / "ent.key").string() + "\n")
            .ok());
    hub = StartHub(hub_dir, "127.0.0.1:0", hub_flags);
    Output added = Relais(Program::kHub, {"school", "add", "--data", hub_dir.string(), "Collège Jean Moulin"});
    REQUIRE_MESSAGE(added.exit_code == 0, added.all);
    school = FirstLine(added.out);
    // Box A already has data when it enrols: it travels too.
    Must("user add --data " + a.string() + " --login prof.martin --role teacher --password correct-horse-1");
    Enrol(a);
    Enrol(b);
  }
  // Runs `relais ARGS` (Must) or `relais-hub ARGS` (MustHub), which must succeed.
  Output Must(const std::string& args) { return Must(Program::kBox, args); }
  Output MustHub(const std::string& args) { return Must(Program::kHub, args); }
  Output Must(Program program, const std::string& args) {
    Output r = Relais(program, Words(args));
    REQUIRE_MESSAGE(r.exit_code == 0, std::string(args + "\n" + r.all));
    return r;
  }
  // Stops the gateway (SIGTERM: it must exit cleanly).
  void StopHub() {
    CHECK(hub->Stop().ok());
    hub.reset();
  }
  void Enrol(const fs::path& box) {
    Output code = MustHub("enrol-code --data " + hub_dir.string() + " --school " + school);
    Output enrolled =
        Must("sync enrol --data " + box.string() + " --hub " + hub->url() + " --code " + FirstLine(code.out));
    CHECK(enrolled.out.find("Enrolled: box ") != std::string::npos);
  }
  Output Sync(const fs::path& box) { return Must("sync --data " + box.string()); }
};

// `relais serve` on the box's data folder, started and answering.
std::unique_ptr<testing::ServerProcess> ServeBox(const fs::path& data) {
  testing::ServerProcess::Options options;
  options.data_dir = data;
  auto served = testing::ServerProcess::Start(options);
  REQUIRE_MESSAGE(served.ok(), served.status().ToString());
  return std::move(*served);
}

}  // namespace

TEST_CASE("two boxes converge through the gateway over the network; a second round changes nothing") {
  World w;
  Output first = w.Sync(w.a);
  CHECK(first.out.find("Sending ") != std::string::npos);
  w.Sync(w.b);
  std::string dump_a = Dump(w.a);
  CHECK(dump_a.find("prof.martin") != std::string::npos);
  CHECK(Dump(w.b) == dump_a);

  // A change on B reaches A.
  w.Must("class add --data " + w.b.string() + " --name 4eB");
  w.Must("user add --data " + w.b.string() + " --login eleve.durand --role student --class 4eB --password pw-123456");
  w.Sync(w.b);
  w.Sync(w.a);
  dump_a = Dump(w.a);
  CHECK(dump_a.find("eleve.durand") != std::string::npos);
  CHECK(Dump(w.b) == dump_a);
  CHECK(SyncStatus(w.a).pending == 0);
  CHECK(SyncStatus(w.a).last_error.empty());
  CHECK_FALSE(SyncStatus(w.a).last_sync.empty());

  // Both already in step: nothing travels, nothing changes.
  Output again_a = w.Sync(w.a);
  Output again_b = w.Sync(w.b);
  CHECK(again_a.out.find("Sync done: 0 sent, 0 received") != std::string::npos);
  CHECK(again_b.out.find("Sync done: 0 sent, 0 received") != std::string::npos);
  CHECK(Dump(w.a) == dump_a);
  CHECK(Dump(w.b) == dump_a);

  // The box's server shows the status.
  auto served = ServeBox(w.a);
  auto health = served->NewClient()->Get("/api/v1/health");
  REQUIRE(health);
  auto body = nlohmann::json::parse(health->body);
  CHECK(body["sync"]["pending"] == 0);
  CHECK(body["sync"]["last_sync"].is_string());
  CHECK(body["sync"]["last_error"].is_null());
}

TEST_CASE("two boxes converge through the gateway by USB stick; importing twice is harmless") {
  World w;
  std::string stick = w.stick.string();
  w.Must("class add --data " + w.b.string() + " --name 3eA");
  CHECK(SyncStatus(w.a).pending > 0);
  w.Must("sync export --data " + w.a.string() + " --to " + stick);
  Output exported_b = w.Must("sync export --data " + w.b.string() + " --to " + stick);
  size_t to = exported_b.out.find(" to ") + 4;
  fs::path box_b_dir = exported_b.out.substr(to, exported_b.out.find('\n', to) - to);
  w.MustHub("import --data " + w.hub_dir.string() + " " + stick);
  // The second pass answers each box with everything the first pass took in.
  w.MustHub("import --data " + w.hub_dir.string() + " " + stick);
  w.Must("sync import --data " + w.a.string() + " --from " + stick);
  {
    // A damaged answer is refused and changes nothing.
    fs::path answer = box_b_dir / "to-box" / "answer.bundle";
    std::string good = core::ReadFile(answer).value();
    std::string bad = good;
    bad[bad.size() / 2] ^= 0x01;
    REQUIRE(core::WriteFileAtomic(answer, bad).ok());
    std::string b_before = Dump(w.b);
    Output refused = Relais("sync import --data " + w.b.string() + " --from " + stick);
    CHECK(refused.exit_code != 0);
    CHECK(Dump(w.b) == b_before);
    REQUIRE(core::WriteFileAtomic(answer, good).ok());
  }
  w.Must("sync import --data " + w.b.string() + " --from " + stick);
  std::string dump_a = Dump(w.a);
  CHECK(dump_a.find("prof.martin") != std::string::npos);
  CHECK(dump_a.find("3eA") != std::string::npos);
  CHECK(Dump(w.b) == dump_a);
  CHECK(SyncStatus(w.a).pending == 0);

  // The same stick again: duplicates change nothing.
  w.Must("sync import --data " + w.a.string() + " --from " + stick);
  CHECK(Dump(w.a) == dump_a);
  // And the network agrees with the stick.
  Output net = w.Sync(w.a);
  CHECK(net.out.find("Sync done: 0 sent, 0 received") != std::string::npos);
}

TEST_CASE("sync fails clearly, with a non-zero exit and the error kept for health, when the hub is away or refuses") {
  World w;
  Output away = Relais("sync --data " + w.a.string() + " --hub http://127.0.0.1:9");
  CHECK(away.exit_code != 0);
  CHECK(away.all.find("cannot reach the gateway") != std::string::npos);
  CHECK(SyncStatus(w.a).last_error.find("cannot reach the gateway") != std::string::npos);

  Output boxes = w.MustHub("box list --data " + w.hub_dir.string() + " --school " + w.school);
  // The box list shows both boxes; revoke them all, then sync is refused.
  size_t at = 0;
  while (at < boxes.out.size()) {
    std::string line = boxes.out.substr(at, boxes.out.find('\n', at) - at);
    at += line.size() + 1;
    std::string id = line.substr(0, line.find(' '));
    if (!id.empty()) w.MustHub("revoke --data " + w.hub_dir.string() + " " + id);
  }
  std::string before = Dump(w.a);
  Output refused = Relais("sync --data " + w.a.string());
  CHECK(refused.exit_code != 0);
  CHECK(refused.all.find("refused") != std::string::npos);
  CHECK(Dump(w.a) == before);

  Output no_box = Relais("sync --data " + (w.tmp.path / "never-enrolled").string());
  CHECK(no_box.exit_code != 0);
  CHECK(no_box.all.find("has not enrolled") != std::string::npos);
}

namespace {

content::Viewer ViewerOf(content::School& school, const std::string& login) {
  auto user = school.accounts().FindUser(login);
  REQUIRE_MESSAGE(user.ok(), user.status().ToString());
  return content::Viewer{user->id, user->login, user->role, "127.0.0.1"};
}

// On `box`: a teacher's homework for class 4eB and a student's hand-in of
// `photo`. Returns the photo's SHA-256.
std::string HandInPhoto(World& w, const fs::path& box, const std::string& photo) {
  w.Must("class add --data " + box.string() + " --name 4eB");
  w.Must("user add --data " + box.string() + " --login prof.durand --role teacher --class 4eB --password pw-123456");
  w.Must("user add --data " + box.string() + " --login eleve.lea --role student --class 4eB --password pw-123456");
  core::SystemClock clock;
  auto school = content::School::Open(box, clock);
  REQUIRE(school.ok());
  content::Viewer teacher = ViewerOf(**school, "prof.durand");
  content::Viewer student = ViewerOf(**school, "eleve.lea");
  auto cls = (*school)->accounts().FindClass("4eB");
  REQUIRE(cls.ok());
  content::HomeworkInput input;
  input.class_id = cls->id;
  input.subject = "Arts plastiques";
  input.title = "Photographier un arbre";
  input.due_at = clock.Now() + 86400;
  input.published = true;
  auto homework = (*school)->homework().Create(teacher, input);
  REQUIRE_MESSAGE(homework.ok(), homework.status().ToString());
  auto blob = (*school)->blobs().Put(photo);
  REQUIRE(blob.ok());
  auto file = (*school)->files().Record(student, *blob, "image/jpeg", "arbre.jpg");
  REQUIRE(file.ok());
  auto handed = (*school)->submissions().HandIn(student, homework->id, "", {file->id});
  REQUIRE_MESSAGE(handed.ok(), handed.status().ToString());
  return blob->sha256;
}

// A teacher's file of `bytes` on `box` (recorded, not attached). Returns its SHA-256.
std::string TeacherFile(const fs::path& box, const std::string& login, const std::string& bytes) {
  core::SystemClock clock;
  auto school = content::School::Open(box, clock);
  REQUIRE(school.ok());
  auto blob = (*school)->blobs().Put(bytes);
  REQUIRE(blob.ok());
  REQUIRE((*school)->files().Record(ViewerOf(**school, login), *blob, "video/mp4", "cours.mp4").ok());
  return blob->sha256;
}

// The bytes of blob `sha256` in `box`'s blob store; nullopt if absent.
std::optional<std::string> BlobBytes(const fs::path& box, const std::string& sha256) {
  core::SystemClock clock;
  auto school = content::School::Open(box, clock);
  REQUIRE(school.ok());
  if (!(*school)->blobs().Contains(sha256)) return std::nullopt;
  return core::ReadFile((*school)->blobs().PathFor(sha256)).value();
}

// Chunks the gateway holds (SQLite mode: one file each under DATA/chunks).
int HubChunkCount(const fs::path& hub_dir) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(hub_dir / "chunks", ec))
    if (e.is_regular_file() && e.path().filename().string().size() == 64) ++n;
  return n;
}

int64_t Number(const std::string& out, const std::string& after) {
  size_t at = out.find(after);
  if (at == std::string::npos) return -1;
  return std::strtoll(out.c_str() + at + after.size(), nullptr, 10);
}

// An HTTP client of the box's API as one logged-in user.
struct BoxUser {
  httplib::Client* client;
  std::string token;
  httplib::Result Get(const std::string& path) {
    return client->Get(path, {{"Cookie", std::string("relais_session=") + token}});
  }
  httplib::Result Post(const std::string& path, const nlohmann::json& body) {
    return client->Post(path, {{"Cookie", std::string("relais_session=") + token}}, body.dump(), "application/json");
  }
};

// The only pupil of class `class_id`, logged in with the login card `teacher`
// prints for the class (pupils the ENT publishes have no password). The
// card's path goes to `card_path` when given.
BoxUser PupilByCard(BoxUser& teacher, const std::string& class_id, const std::string& login,
                    std::string* card_path = nullptr) {
  auto cards = teacher.Post("/api/v1/classes/" + class_id + "/login-cards", nlohmann::json::object());
  REQUIRE(cards);
  REQUIRE_MESSAGE(cards->status == 201, cards->body);
  auto card_list = nlohmann::json::parse(cards->body)["cards"];
  REQUIRE(card_list.size() == 1);
  CHECK(card_list[0]["user"]["login"] == login);
  std::string url = card_list[0]["url"];
  std::string path = url.substr(url.find("/c/"));
  auto scan = teacher.client->Get(path);
  REQUIRE(scan);
  REQUIRE(scan->status == 303);
  std::string cookie = scan->get_header_value("Set-Cookie");
  REQUIRE(cookie.find("relais_session=") == 0);
  if (card_path) *card_path = path;
  return BoxUser{teacher.client, cookie.substr(15, cookie.find(';') - 15)};
}

// `login` logged in with its password.
BoxUser LogIn(httplib::Client* client, const std::string& login, const std::string& password) {
  auto r = client->Post("/api/v1/session", nlohmann::json{{"login", login}, {"password", password}}.dump(),
                        "application/json");
  REQUIRE(r);
  REQUIRE_MESSAGE(r->status == 200, r->body);
  return BoxUser{client, nlohmann::json::parse(r->body)["token"]};
}

// POSTs a publication to the gateway as the ENT's connector.
httplib::Result Publish(const std::string& hub_url, const std::string& school, const nlohmann::json& body,
                        const std::string& key = kEntKey) {
  httplib::Client hub(hub_url);
  return hub.Post("/hub/v1/ent/schools/" + school + "/publish", {{"Authorization", "Bearer " + key}}, body.dump(),
                  "application/json");
}

// Polls GET /api/v1/health until `done(sync)` holds, for up to `timeout_ms`.
nlohmann::json WaitForSync(testing::ServerProcess& box, const std::function<bool(const nlohmann::json&)>& done,
                           int timeout_ms = 30000) {
  auto client = box.NewClient();
  nlohmann::json sync;
  bool reached = WaitUntil(
      [&] {
        auto health = client->Get("/api/v1/health");
        if (!health || health->status != 200) return false;
        sync = nlohmann::json::parse(health->body)["sync"];
        return sync.is_object() && done(sync);
      },
      std::chrono::milliseconds(timeout_ms), std::chrono::milliseconds(20));
  if (reached) return sync;
  FAIL("the box's sync status never got there: " << sync.dump());
  return sync;
}

}  // namespace

TEST_CASE("a hand-in's photo made on box A reaches box B and the ENT with identical bytes over the network") {
  World w;
  std::string photo = core::RandomBytes(3 * 1024 * 1024 + 12345);  // several chunks
  std::string sha = HandInPhoto(w, w.a, photo);
  Output sent = w.Sync(w.a);
  CHECK(sent.out.find("Announcing 1 files") != std::string::npos);
  CHECK(Number(sent.out, "Files: ") > 0);
  Output got = w.Sync(w.b);
  CHECK(got.out.find("Fetching file " + sha.substr(0, 12)) != std::string::npos);
  auto at_b = BlobBytes(w.b, sha);
  REQUIRE(at_b.has_value());
  CHECK(*at_b == photo);
  CHECK(Dump(w.b) == Dump(w.a));
  // Nothing moves a second time: the gateway acknowledged A's file, B holds it.
  Output again_a = w.Sync(w.a);
  Output again_b = w.Sync(w.b);
  CHECK(again_a.out.find("Announcing") == std::string::npos);
  CHECK(again_b.out.find("Fetching") == std::string::npos);
  CHECK(again_a.out.find("Sync done: 0 sent, 0 received") != std::string::npos);

  // B serves the photo to the teacher; a file whose bytes have not arrived is a clear 503, not a 500.
  auto served = ServeBox(w.b);
  auto client = served->NewClient();
  auto login = client->Post("/api/v1/session", R"({"login":"prof.durand","password":"pw-123456"})", "application/json");
  REQUIRE(login);
  REQUIRE_MESSAGE(login->status == 200, login->body);
  std::string token = nlohmann::json::parse(login->body).value("token", std::string());
  httplib::Headers auth = {{"Authorization", "Bearer " + token}};
  core::SystemClock clock;
  std::string file_id;
  {
    auto school = content::School::Open(w.b, clock);
    REQUIRE(school.ok());
    auto db = (*school)->db().Reader();
    auto q = db->Query("SELECT id FROM files WHERE sha256 = ?1", sha);
    REQUIRE(q.ok());
    REQUIRE(q->Step().value());
    file_id = q->Text(0);
  }
  auto download = client->Get("/api/v1/files/" + file_id, auth);
  REQUIRE(download);
  CHECK(download->status == 200);
  CHECK(download->body == photo);
  fs::path blob_path;
  {
    auto school = content::School::Open(w.b, clock);
    blob_path = (*school)->blobs().PathFor(sha);
  }
  fs::rename(blob_path, blob_path.string() + ".away");
  auto waiting = client->Get("/api/v1/files/" + file_id, auth);
  REQUIRE(waiting);
  CHECK(waiting->status == 503);
  CHECK(waiting->body.find("not_synced_yet") != std::string::npos);
  fs::rename(blob_path.string() + ".away", blob_path);
}

TEST_CASE("files travel by USB stick both ways, sealed; an altered chunk on the stick is refused") {
  World w;
  std::string stick = w.stick.string();
  std::string photo = core::RandomBytes(2 * 1024 * 1024 + 777);
  std::string sha = HandInPhoto(w, w.a, photo);
  Output exported = w.Must("sync export --data " + w.a.string() + " --to " + stick);
  CHECK(exported.out.find("and 1 files") != std::string::npos);
  size_t to = exported.out.find(" to ") + 4;
  fs::path box_a_dir = exported.out.substr(to, exported.out.find('\n', to) - to);
  // The chunks on the stick are sealed: the photo's bytes appear nowhere in them.
  fs::path chunk_dir = box_a_dir / "to-gateway" / "chunks" / sha;
  REQUIRE(fs::is_directory(chunk_dir));
  fs::path first_chunk = chunk_dir / "0.chunk";
  std::string sealed = core::ReadFile(first_chunk).value();
  CHECK(sealed.find(photo.substr(1000, 64)) == std::string::npos);
  {
    // Altered on the way: the gateway refuses the chunk, says so, and keeps no file.
    std::string bad = sealed;
    bad[bad.size() / 2] ^= 0x40;
    REQUIRE(core::WriteFileAtomic(first_chunk, bad).ok());
    Output refused = Hub("import --data " + w.hub_dir.string() + " " + stick);
    CHECK(refused.exit_code != 0);
    CHECK(refused.all.find("refused") != std::string::npos);
    // Exporting again repairs the stick.
    w.Must("sync export --data " + w.a.string() + " --to " + stick);
  }
  Output exported_b = w.Must("sync export --data " + w.b.string() + " --to " + stick);
  to = exported_b.out.find(" to ") + 4;
  fs::path box_b_dir = exported_b.out.substr(to, exported_b.out.find('\n', to) - to);
  w.MustHub("import --data " + w.hub_dir.string() + " " + stick);
  Output second = w.MustHub("import --data " + w.hub_dir.string() + " " + stick);
  CHECK(second.out.find("files: 1 for the box") != std::string::npos);
  {
    // An altered chunk for the box: refused, the photo not assembled, the error kept.
    fs::path chunk = box_b_dir / "to-box" / "chunks" / sha / "1.chunk";
    std::string good = core::ReadFile(chunk).value();
    std::string bad = good;
    bad[40] ^= 0x01;
    REQUIRE(core::WriteFileAtomic(chunk, bad).ok());
    Output refused = Relais("sync import --data " + w.b.string() + " --from " + stick);
    CHECK(refused.exit_code != 0);
    CHECK(refused.all.find("refused") != std::string::npos);
    CHECK_FALSE(BlobBytes(w.b, sha).has_value());
    REQUIRE(core::WriteFileAtomic(chunk, good).ok());
  }
  w.Must("sync import --data " + w.b.string() + " --from " + stick);
  auto at_b = BlobBytes(w.b, sha);
  REQUIRE(at_b.has_value());
  CHECK(*at_b == photo);
  w.Must("sync import --data " + w.a.string() + " --from " + stick);
  CHECK(Dump(w.b) == Dump(w.a));
  // The network agrees: the gateway already holds the photo, nothing is sent again.
  Output net = w.Sync(w.a);
  CHECK(net.out.find("Announcing") == std::string::npos);
}

TEST_CASE("a large file's transfer killed mid-way resumes and sends only the chunks the gateway lacks") {
  World w;
  w.Must("user add --data " + w.b.string() + " --login prof.video --role teacher --password pw-123456");
  w.Sync(w.b);
  w.Sync(w.a);
  std::string video = core::RandomBytes(40 << 20);
  std::string sha = TeacherFile(w.b, "prof.video", video);
  // `relais sync` on B in a child, killed with SIGKILL once some chunks reached the gateway.
  auto sync = Process::Start(Program::kBox, {"sync", "--data", w.b.string()});
  REQUIRE_MESSAGE(sync.ok(), sync.status().ToString());
  REQUIRE_MESSAGE(
      WaitUntil([&] { return HubChunkCount(w.hub_dir) >= 8; }, std::chrono::seconds(40), std::chrono::milliseconds(2)),
      "the gateway never held 8 chunks of the video; sync said: " << (*sync)->Stderr());
  REQUIRE((*sync)->Kill().ok());
  // A chunk whose body had fully arrived is still stored: once the gateway has
  // closed the killed client's connections, it has stored all it will.
  REQUIRE_MESSAGE(WaitUntil([&] { return OpenServerConnections(w.hub->port()) == 0; }),
                  "the gateway kept the killed sync's connection open");
  int held = HubChunkCount(w.hub_dir);
  INFO("chunks at the gateway when killed: " << held);
  REQUIRE(held >= 8);
  int64_t total = 0;
  {
    core::SystemClock clock;
    auto school = content::School::Open(w.b, clock);
    REQUIRE(school.ok());
    auto db = (*school)->db().Reader();
    auto q = db->Query("SELECT manifest FROM sync_files WHERE blob_id = ?1", sha);
    REQUIRE(q.ok());
    REQUIRE(q->Step().value());
    auto m = sync::DecodeManifest(q->Text(0));
    REQUIRE(m.ok());
    total = static_cast<int64_t>(m->chunks.size());
  }
  REQUIRE_MESSAGE(held < total, "the transfer finished before it could be cut: " << held << " of " << total);

  // Meanwhile box A syncs: it learns of the file but its bytes are not all at the gateway yet.
  w.Sync(w.a);
  CHECK_FALSE(BlobBytes(w.a, sha).has_value());

  Output resumed = w.Sync(w.b);
  CHECK(Number(resumed.out, "Files: ") == total - held);  // only the missing chunks went up
  CHECK(HubChunkCount(w.hub_dir) == total);
  Output got = w.Sync(w.a);
  CHECK(Number(got.out, "Files: ") == total);
  auto at_a = BlobBytes(w.a, sha);
  REQUIRE(at_a.has_value());
  CHECK(*at_a == video);
}

TEST_CASE("the ENT publishes a roster and homework through the gateway; a pupil logs in with a card and sees it") {
  World w;
  nlohmann::json roster = nlohmann::json::parse(R"({
    "classes": [{"name": "5e B"}],
    "users": [
      {"login": "prof.martin", "display_name": "M. Martin", "role": "teacher", "classes": ["5e B"]},
      {"login": "lea.martin", "display_name": "Léa Martin", "role": "student", "classes": ["5e B"]}
    ],
    "homework": [{"id": "ent-hw-42", "class": "5e B", "subject": "Maths", "title": "Fractions",
                  "instructions": "Exercices 1 à 4", "due_at": "2030-12-01T08:00:00Z"}]
  })");
  // Without the key, or with a bad item, nothing is published.
  auto anonymous = Publish(w.hub->url(), w.school, roster, "wrong-key-0123456789");
  REQUIRE(anonymous);
  CHECK(anonymous->status == 401);
  nlohmann::json bad = roster;
  bad["homework"][0]["due_at"] = "someday";
  auto refused = Publish(w.hub->url(), w.school, bad);
  REQUIRE(refused);
  CHECK(refused->status == 400);
  CHECK(refused->body.find("homework[0].due_at") != std::string::npos);

  auto published = Publish(w.hub->url(), w.school, roster);
  REQUIRE(published);
  REQUIRE_MESSAGE(published->status == 200, published->body);
  auto outcome = nlohmann::json::parse(published->body);
  int64_t operations = outcome["operations"];
  CHECK(operations > 0);
  // Publishing it again adds nothing.
  auto again = Publish(w.hub->url(), w.school, roster);
  REQUIRE(again);
  CHECK(nlohmann::json::parse(again->body)["operations"] == 0);
  // The ENT's change feed shows the gateway's operations.
  {
    httplib::Client hub(w.hub->url());
    auto feed = hub.Get("/hub/v1/ent/schools/" + w.school + "/changes?limit=1000",
                        {{"Authorization", std::string("Bearer ") + kEntKey}});
    REQUIRE(feed);
    CHECK(feed->body.find("\"Fractions\"") != std::string::npos);
    CHECK(feed->body.find(outcome["origin"].get<std::string>()) != std::string::npos);
  }

  // Box A made prof.martin with a password before: the roster's prof.martin
  // is the same account, now a teacher of 5e B.
  w.Sync(w.a);
  auto served = ServeBox(w.a);
  auto client = served->NewClient();
  BoxUser teacher = LogIn(client.get(), "prof.martin", "correct-horse-1");
  // The pupil has no password: the teacher prints the class's login cards.
  std::string card_path;
  BoxUser pupil = PupilByCard(teacher, core::DerivedUuid("class", {"5e b"}), "lea.martin", &card_path);
  auto homework = pupil.Get("/api/v1/homework");
  REQUIRE(homework);
  REQUIRE_MESSAGE(homework->status == 200, homework->body);
  CHECK(homework->body.find("Fractions") != std::string::npos);
  CHECK(homework->body.find(hub::EntHomeworkId("ent-hw-42")) != std::string::npos);

  // The ENT edits the homework; then, offline (it has not seen that edit),
  // the teacher edits it on the box. The box's edit is later, yet the ENT's
  // wins ("gateway wins"), on both boxes.
  nlohmann::json edit = roster;
  edit["homework"][0]["title"] = "Fractions (ENT)";
  auto edited = Publish(w.hub->url(), w.school, edit);
  REQUIRE(edited);
  REQUIRE_MESSAGE(edited->status == 200, edited->body);
  CHECK(nlohmann::json::parse(edited->body)["operations"] == 1);
  auto edited_on_box = client->Patch("/api/v1/homework/" + hub::EntHomeworkId("ent-hw-42"),
                                     {{"Cookie", "relais_session=" + teacher.token}},
                                     nlohmann::json{{"title", "Fractions (box)"}}.dump(), "application/json");
  REQUIRE(edited_on_box);
  REQUIRE_MESSAGE(edited_on_box->status == 200, edited_on_box->body);

  // The pupil leaves: the ENT ends the account.
  auto ended = Publish(w.hub->url(), w.school, nlohmann::json::parse(R"({"end_accounts":[{"login":"lea.martin"}]})"));
  REQUIRE(ended);
  REQUIRE_MESSAGE(ended->status == 200, ended->body);
  // The box's server is stopped for the sync and started again (its caches
  // know only its own writes).
  client.reset();
  served.reset();
  w.Sync(w.a);
  w.Sync(w.b);
  served = ServeBox(w.a);
  client = served->NewClient();
  teacher.client = pupil.client = client.get();
  auto after = teacher.Get("/api/v1/homework/" + hub::EntHomeworkId("ent-hw-42"));
  REQUIRE(after);
  CHECK(after->body.find("Fractions (ENT)") != std::string::npos);
  CHECK(Dump(w.a) == Dump(w.b));
  // Her session and her card stop working.
  auto gone = pupil.Get("/api/v1/homework");
  REQUIRE(gone);
  CHECK(gone->status == 401);
  auto rescan = client->Get(card_path);
  REQUIRE(rescan);
  CHECK(rescan->get_header_value("Location") == "/?card=invalid");
}

TEST_CASE("the ENT uploads a worksheet and attaches it to homework; pupils get identical bytes by network and stick") {
  World w;
  auto roster = Publish(w.hub->url(), w.school, nlohmann::json::parse(R"({
    "classes": [{"name": "5e B"}],
    "users": [
      {"login": "prof.martin", "display_name": "M. Martin", "role": "teacher", "classes": ["5e B"]},
      {"login": "lea.martin", "display_name": "Léa Martin", "role": "student", "classes": ["5e B"]}
    ]})"));
  REQUIRE(roster);
  REQUIRE_MESSAGE(roster->status == 200, roster->body);
  // A few MiB: several chunks of the box's chunker.
  std::string worksheet = "%PDF-1.7\n" + core::RandomBytes(3 * 1024 * 1024 + 4321);
  std::string sha = core::ToHex(core::Sha256(worksheet));
  httplib::Client hub(w.hub->url());
  httplib::Headers bearer = {{"Authorization", std::string("Bearer ") + kEntKey}};
  std::string upload_path = "/hub/v1/ent/schools/" + w.school + "/files?name=Fractions.pdf&owner=prof.martin";
  auto uploaded = hub.Post(upload_path, bearer, worksheet, "application/pdf");
  REQUIRE(uploaded);
  REQUIRE_MESSAGE(uploaded->status == 201, uploaded->body);
  std::string file_id = nlohmann::json::parse(uploaded->body)["id"];
  CHECK(nlohmann::json::parse(uploaded->body)["sha256"] == sha);
  auto again = hub.Post(upload_path, bearer, worksheet, "application/pdf");
  REQUIRE(again);
  CHECK(again->status == 200);
  CHECK(nlohmann::json::parse(again->body)["id"] == file_id);
  auto homework = Publish(w.hub->url(), w.school,
                          nlohmann::json::parse(R"({
    "homework": [{"id": "ent-hw-7", "class": "5e B", "subject": "Maths", "title": "Fractions",
                  "due_at": "2030-12-01T08:00:00Z", "attachments": [{"file_id": ")" +
                                                file_id + R"("}]}]})"));
  REQUIRE(homework);
  REQUIRE_MESSAGE(homework->status == 200, homework->body);

  // Box A over the network: the row, then the bytes, as for a file another box sent.
  Output got = w.Sync(w.a);
  CHECK(got.out.find("Fetching file " + sha.substr(0, 12)) != std::string::npos);
  auto at_a = BlobBytes(w.a, sha);
  REQUIRE(at_a.has_value());
  CHECK(core::ToHex(core::Sha256(*at_a)) == sha);
  auto served = ServeBox(w.a);
  auto client = served->NewClient();
  BoxUser teacher = LogIn(client.get(), "prof.martin", "correct-horse-1");
  BoxUser pupil = PupilByCard(teacher, core::DerivedUuid("class", {"5e b"}), "lea.martin");
  auto seen = pupil.Get("/api/v1/homework/" + hub::EntHomeworkId("ent-hw-7"));
  REQUIRE(seen);
  REQUIRE_MESSAGE(seen->status == 200, seen->body);
  CHECK(seen->body.find(file_id) != std::string::npos);
  auto download = pupil.Get("/api/v1/files/" + file_id);
  REQUIRE(download);
  REQUIRE_MESSAGE(download->status == 200, download->body.substr(0, 200));
  CHECK(core::ToHex(core::Sha256(download->body)) == sha);
  CHECK(download->body == worksheet);

  // Box B by USB stick: the same row and bytes.
  w.Must("sync export --data " + w.b.string() + " --to " + w.stick.string());
  w.MustHub("import --data " + w.hub_dir.string() + " " + w.stick.string());
  w.Must("sync import --data " + w.b.string() + " --from " + w.stick.string());
  auto at_b = BlobBytes(w.b, sha);
  REQUIRE(at_b.has_value());
  CHECK(*at_b == worksheet);
}

TEST_CASE("a pupil the ENT moves from 5e B to 5e C is only in 5e C on the boxes; the box's own club stays") {
  World w;
  auto publish = [&](const std::string& body) {
    auto res = Publish(w.hub->url(), w.school, nlohmann::json::parse(body));
    REQUIRE(res);
    REQUIRE_MESSAGE(res->status == 200, res->body);
  };
  publish(R"({"classes": [{"name": "5e B"}, {"name": "5e C"}],
              "users": [{"login": "lea.martin", "role": "student", "classes": ["5e B"]}]})");
  w.Sync(w.a);
  // On box A, an admin puts Léa in the drama club, a class the ENT does not know.
  {
    core::SystemClock clock;
    auto school = content::School::Open(w.a, clock);
    REQUIRE(school.ok());
    auto club = (*school)->accounts().CreateClass(nullptr, "Atelier théâtre");
    REQUIRE(club.ok());
    REQUIRE((*school)->accounts().AddMember(nullptr, club->id, core::DerivedUuid("user", {"lea.martin"})).ok());
  }
  w.Sync(w.a);
  publish(R"({"users": [{"login": "lea.martin", "role": "student", "classes": ["5e C"]}]})");
  w.Sync(w.a);
  w.Sync(w.b);
  auto classes_of_lea = [](const fs::path& box) {
    core::SystemClock clock;
    auto school = content::School::Open(box, clock);
    REQUIRE(school.ok());
    auto db = (*school)->db().Reader();
    auto q = db->Query("SELECT c.name FROM class_members m JOIN classes c ON c.id = m.class_id WHERE m.user_id = ?1",
                       core::DerivedUuid("user", {"lea.martin"}));
    REQUIRE(q.ok());
    std::set<std::string> names;
    while (q->Step().value()) names.insert(q->Text(0));
    return names;
  };
  CHECK(classes_of_lea(w.a) == std::set<std::string>{"5e C", "Atelier théâtre"});
  CHECK(classes_of_lea(w.b) == std::set<std::string>{"5e C", "Atelier théâtre"});
  CHECK(Dump(w.a) == Dump(w.b));
}

TEST_CASE("relais serve sees at its next request what a relais sync or relais user run beside it changed") {
  World w;
  // No automatic rounds: the changes below come only from other processes.
  REQUIRE(core::WriteFileAtomic(w.a / "relais.conf", "sync_interval_s = 0\n").ok());
  w.Must("class add --data " + w.a.string() + " --name 4eB");
  w.Must("user add --data " + w.a.string() + " --login prof.durand --role teacher --class 4eB --password pw-123456");
  w.Must("user add --data " + w.a.string() + " --login eleve.lea --role student --class 4eB --password pw-123456");
  w.Must("user add --data " + w.a.string() + " --login eleve.tom --role student --class 4eB --password pw-123456");
  w.Sync(w.a);
  w.Sync(w.b);
  auto served = ServeBox(w.a);
  auto client = served->NewClient();
  auto login_as = [&](const std::string& login) {
    auto r = client->Post("/api/v1/session", nlohmann::json{{"login", login}, {"password", "pw-123456"}}.dump(),
                          "application/json");
    REQUIRE(r);
    REQUIRE_MESSAGE(r->status == 200, r->body);
    return BoxUser{client.get(), nlohmann::json::parse(r->body)["token"]};
  };
  BoxUser teacher = login_as("prof.durand");
  BoxUser lea = login_as("eleve.lea");
  BoxUser tom = login_as("eleve.tom");
  // Sessions and lists are cached now (sessions 30 s, lists 5 s).
  for (BoxUser* u : {&teacher, &lea, &tom}) {
    auto list = u->Get("/api/v1/homework");
    REQUIRE(list);
    REQUIRE(list->status == 200);
    CHECK(list->body.find("Arriv") == std::string::npos);
  }

  // On box B: new homework for 4eB, and Léa's account ended. It reaches A
  // through the gateway by a `relais sync` run beside A's server.
  {
    core::SystemClock clock;
    auto school = content::School::Open(w.b, clock);
    REQUIRE(school.ok());
    content::HomeworkInput in;
    in.class_id = (*school)->accounts().FindClass("4eB")->id;
    in.subject = "Histoire";
    in.title = "Arrivé par la passerelle";
    in.instructions = "Lire le chapitre 3";
    in.due_at = clock.Now() + 86400;
    in.published = true;
    REQUIRE((*school)->homework().Create(ViewerOf(**school, "prof.durand"), in).ok());
    REQUIRE((*school)->accounts().EndAccount(nullptr, ViewerOf(**school, "eleve.lea").id).ok());
  }
  w.Sync(w.b);
  auto synced_at = std::chrono::steady_clock::now();
  w.Sync(w.a);
  auto list = teacher.Get("/api/v1/homework");
  REQUIRE(list);
  CHECK(list->status == 200);
  CHECK(list->body.find("Arrivé par la passerelle") != std::string::npos);
  auto seen = tom.Get("/api/v1/homework");
  REQUIRE(seen);
  CHECK(seen->body.find("Arrivé par la passerelle") != std::string::npos);
  auto refused = lea.Get("/api/v1/homework");
  REQUIRE(refused);
  CHECK(refused->status == 401);
  // (Within the caches' lifetimes: without the check the old answers would still be served.)
  CHECK(std::chrono::steady_clock::now() - synced_at < std::chrono::seconds(5));

  // A password set with `relais user passwd` ends Tom's sessions: at once here too.
  auto before = tom.Get("/api/v1/me");
  REQUIRE(before);
  CHECK(before->status == 200);
  w.Must("user passwd --data " + w.a.string() + " --login eleve.tom --password another-pw-789");
  auto after = tom.Get("/api/v1/me");
  REQUIRE(after);
  CHECK(after->status == 401);
  CHECK(teacher.Get("/api/v1/me")->status == 200);
}

TEST_CASE("relais serve syncs an enrolled box by itself, backs off while the gateway is away, and catches up") {
  World w;
  // Rounds every hour only: what happens sooner comes from local changes and "sync now".
  REQUIRE(core::WriteFileAtomic(w.a / "relais.conf",
                                "sync_interval_s = 3600\nsync_retry_min_s = 1\n"
                                "sync_retry_max_s = 2\n")
              .ok());
  w.Must("user add --data " + w.a.string() + " --login admin.box --role admin --password correct-horse-2");
  auto served = ServeBox(w.a);
  testing::ServerProcess& box = *served;

  // The first round runs at start, without any CLI call, and the next one is
  // scheduled (the status may show the round's end a moment before that).
  nlohmann::json sync = WaitForSync(box, [](const nlohmann::json& s) {
    return s["last_sync"].is_string() && s["pending"] == 0 && s["next_attempt"].is_string();
  });
  CHECK(sync["automatic"] == true);
  CHECK(sync["last_error"].is_null());
  CHECK(sync["next_attempt"].is_string());
  w.Sync(w.b);
  CHECK(Dump(w.b).find("prof.martin") != std::string::npos);

  // A `relais sync` on the same data folder while a round holds the lock says so.
  {
    auto held = box::BoxSync::LockRound(w.a);
    REQUIRE(held.ok());
    Output busy = Relais("sync --data " + w.a.string());
    CHECK(busy.exit_code != 0);
    CHECK(busy.all.find("a sync is already running") != std::string::npos);
  }

  // A change made through the app goes out soon, not an hour later.
  auto client = box.NewClient();
  auto login =
      client->Post("/api/v1/session", R"({"login":"admin.box","password":"correct-horse-2"})", "application/json");
  REQUIRE(login);
  REQUIRE_MESSAGE(login->status == 200, login->body);
  httplib::Headers admin = {
      {"Authorization", "Bearer " + nlohmann::json::parse(login->body)["token"].get<std::string>()}};
  auto made = client->Post("/api/v1/classes", admin, R"({"name":"5eC"})", "application/json");
  REQUIRE(made);
  REQUIRE_MESSAGE(made->status == 201, made->body);
  WaitForSync(
      box, [](const nlohmann::json& s) { return s["pending"] == 0 && !s["running"].get<bool>(); }, 60000);
  w.Sync(w.b);
  CHECK(Dump(w.b).find("5eC") != std::string::npos);

  // The gateway goes away: "sync now" fails, the error is kept, retries back off.
  std::string hub_url = w.hub->url();
  w.StopHub();
  auto now = client->Post("/api/v1/admin/sync", admin, "", "application/json");
  REQUIRE(now);
  CHECK(now->status == 202);
  sync = WaitForSync(box, [](const nlohmann::json& s) { return s["failures"].get<int>() >= 2; });
  CHECK(sync["last_error"].get<std::string>().find("cannot reach the gateway") != std::string::npos);
  CHECK(sync["next_attempt"].is_string());
  // Meanwhile the box answers its users as ever.
  auto me = client->Get("/api/v1/me", admin);
  REQUIRE(me);
  CHECK(me->status == 200);

  // A change on B waits at the gateway; the gateway comes back on the same port; A catches up by itself.
  w.hub = StartHub(w.hub_dir, hub_url.substr(hub_url.find("//") + 2));
  w.Must("class add --data " + w.b.string() + " --name 6eD");
  w.Sync(w.b);
  sync = WaitForSync(box, [](const nlohmann::json& s) { return s["last_error"].is_null() && s["failures"] == 0; });
  CHECK(sync["pending"] == 0);
  // That round may have run before B's change reached the gateway: the next one brings it.
  int asked = 0;
  bool arrived = WaitUntil(
      [&] {
        if (asked++ % 250 == 0) (void)client->Post("/api/v1/admin/sync", admin, "", "application/json");
        auto classes = client->Get("/api/v1/classes", admin);
        return classes && classes->body.find("6eD") != std::string::npos;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(20));
  CHECK(arrived);
  // The shutdown is clean (SIGTERM, exit 0) and the data is the gateway's.
  CHECK(box.Stop().ok());
  CHECK(Dump(w.a) == Dump(w.b));
  CHECK(Dump(w.a).find("6eD") != std::string::npos);
}

// `count` homework entries for class 4eB by prof.lourd on `box`, each with
// 19,000 characters of random hex: about 10 KB each in a bundle.
void HeavyHomework(const fs::path& box, int count) {
  core::SystemClock clock;
  auto school = content::School::Open(box, clock);
  REQUIRE(school.ok());
  auto klass = (*school)->accounts().FindClass("4eB");
  REQUIRE(klass.ok());
  content::Viewer teacher = ViewerOf(**school, "prof.lourd");
  for (int i = 0; i < count; ++i) {
    content::HomeworkInput in;
    in.class_id = klass->id;
    in.subject = "Physique";
    in.title = "Relevés " + std::to_string(i);
    in.instructions = core::ToHex(core::RandomBytes(9500));
    in.due_at = clock.Now() + 86400;
    in.published = true;
    REQUIRE((*school)->homework().Create(teacher, in).ok());
  }
}

// The gateway's uploads of kind "bundle": id → {length, bytes stored}.
std::map<std::string, std::pair<int64_t, int64_t>> HubBundleUploads(core::Db& hub_db) {
  std::map<std::string, std::pair<int64_t, int64_t>> uploads;
  auto q = hub_db.Query("SELECT id, length, received FROM hub_uploads WHERE kind = 'bundle'");
  REQUIRE(q.ok());
  while (q->Step().value()) uploads[q->Text(0)] = {q->Int(1), q->Int(2)};
  return uploads;
}

// Starts `relais sync --data BOX` and kills it (SIGKILL) once the gateway has
// stored at least half of its new upload. Returns {length, bytes stored}.
std::pair<int64_t, int64_t> KillSyncMidUpload(World& w, const fs::path& box) {
  auto hub_db = core::Db::Open(w.hub_dir / "hub.db");
  REQUIRE(hub_db.ok());
  auto earlier = HubBundleUploads(**hub_db);  // left by an earlier kill
  auto ours = [&]() -> std::pair<int64_t, int64_t> {
    for (const auto& [id, upload] : HubBundleUploads(**hub_db))
      if (!earlier.count(id)) return upload;
    return {0, 0};
  };
  auto sync = Process::Start(Program::kBox, {"sync", "--data", box.string()});
  REQUIRE_MESSAGE(sync.ok(), sync.status().ToString());
  std::pair<int64_t, int64_t> upload;
  bool half = WaitUntil(
      [&] {
        upload = ours();
        return (upload.first > 0 && upload.second * 2 >= upload.first) || !(*sync)->running() ||
               (*sync)->Poll().has_value();
      },
      std::chrono::seconds(30), std::chrono::microseconds(500));
  REQUIRE_MESSAGE(half, "the gateway never stored half of the upload; sync said: " << (*sync)->Stderr());
  REQUIRE_MESSAGE((*sync)->Kill().ok(), "the upload ended before the kill");
  // What the gateway had of a PATCH cut mid-body is stored once it has closed
  // the killed client's connection.
  REQUIRE_MESSAGE(WaitUntil([&] { return OpenServerConnections(w.hub->port()) == 0; }),
                  "the gateway kept the killed sync's connection open");
  upload = ours();
  REQUIRE_MESSAGE(upload.first > 0, "the upload ended before the kill");
  REQUIRE(upload.second * 2 >= upload.first);
  REQUIRE(upload.second < upload.first);
  return upload;
}

TEST_CASE("a relais sync killed mid-upload resumes its bundle at the gateway's offset in the next run") {
  World w;
  w.Must("class add --data " + w.b.string() + " --name 4eB");
  w.Must("user add --data " + w.b.string() + " --login prof.lourd --role teacher --class 4eB --password pw-123456");
  HeavyHomework(w.b, 600);
  auto [length, stored] = KillSyncMidUpload(w, w.b);
  CHECK(length > (4 << 20));  // several PATCHes
  CHECK(fs::exists(w.b / "sync" / "outgoing" / "upload"));

  // The next run, through a proxy that counts what goes up, sends the rest only.
  const std::string& url = w.hub->url();
  auto proxy = testing::CutProxy::Start(std::stoi(url.substr(url.rfind(':') + 1)));
  REQUIRE(proxy.ok());
  Output resumed = w.Must("sync --data " + w.b.string() + " --hub " + (*proxy)->url());
  CHECK(resumed.out.find("Resuming the upload of an interrupted round at byte " + std::to_string(stored) + " / " +
                         std::to_string(length)) != std::string::npos);
  // Every operation arrived once: all new to the gateway, none sent twice.
  int64_t took = Number(resumed.out, "the gateway took ");
  CHECK(took > 600);
  CHECK(resumed.out.find(std::to_string(took) + " new, 0 already held") != std::string::npos);
  CHECK(resumed.out.find("Sync done: " + std::to_string(took) + " sent") != std::string::npos);
  uint64_t up = (*proxy)->bytes_to_target();
  MESSAGE("bundle of " << length << " bytes, " << stored << " stored when killed; the next run sent " << up
                       << " bytes up (" << (100 * static_cast<int64_t>(up) / length) << " % of the bundle)");
  CHECK(static_cast<int64_t>(up) < length * 6 / 10);
  CHECK(static_cast<int64_t>(up) < length - stored + 65536);  // the rest, plus the round's small requests
  CHECK_FALSE(fs::exists(w.b / "sync" / "outgoing"));
  w.Sync(w.a);
  w.Sync(w.b);  // A's own teacher
  CHECK(Dump(w.a) == Dump(w.b));
  CHECK(Dump(w.a).find("Relevés 599") != std::string::npos);

  // A kept bundle damaged on disk is not resumed: the round starts over from the journal.
  HeavyHomework(w.b, 600);
  KillSyncMidUpload(w, w.b);
  {
    fs::path kept = w.b / "sync" / "outgoing" / "bundle";
    std::string bytes = core::ReadFile(kept).value();
    bytes[bytes.size() / 3] ^= 0x20;
    REQUIRE(core::WriteFileAtomic(kept, bytes).ok());
  }
  Output damaged = w.Sync(w.b);
  CHECK(damaged.out.find("cannot be used (its bundle is damaged): starting over") != std::string::npos);
  CHECK(Number(damaged.out, "Sync done: ") >= 600);

  // An upload the gateway no longer knows (expired, another gateway's store): starts over too.
  HeavyHomework(w.b, 600);
  KillSyncMidUpload(w, w.b);
  {
    auto hub_db = core::Db::Open(w.hub_dir / "hub.db");
    REQUIRE(hub_db.ok());
    REQUIRE((*hub_db)->Exec("DELETE FROM hub_uploads").ok());
  }
  Output forgotten = w.Sync(w.b);
  CHECK(forgotten.out.find("The gateway no longer knows the upload kept from an interrupted round: starting over") !=
        std::string::npos);
  CHECK(Number(forgotten.out, "Sync done: ") >= 600);
  w.Sync(w.a);
  w.Sync(w.b);
  CHECK(Dump(w.a) == Dump(w.b));
  CHECK(Dump(w.a).find("Relevés 599") != std::string::npos);
}

TEST_CASE("an answer download cut in the middle resumes where it stopped, and the answer applies") {
  World w;
  {
    // Box B makes enough changes for a large answer to A (each class one operation).
    core::SystemClock clock;
    auto school = content::School::Open(w.b, clock);
    REQUIRE(school.ok());
    for (int i = 0; i < 4000; ++i)
      REQUIRE((*school)->accounts().CreateClass(nullptr, "Classe " + std::to_string(i) + " du collège").ok());
  }
  w.Sync(w.b);
  const std::string& url = w.hub->url();
  int hub_port = std::stoi(url.substr(url.rfind(':') + 1));
  // The round's small answers (health, hello, the upload) take far less than this.
  auto proxy = testing::CutProxy::Start(hub_port);
  REQUIRE(proxy.ok());
  using Proxy = testing::CutProxy;
  (*proxy)->CutAfter(40000, Proxy::Direction::kToClient, Proxy::CutKind::kReset);
  Output round = w.Must("sync --data " + w.a.string() + " --hub " + (*proxy)->url());
  CHECK((*proxy)->cuts_made() == 1);
  size_t at = round.out.find("resuming the answer at byte ");
  REQUIRE_MESSAGE(at != std::string::npos, round.out);
  long long resumed = std::stoll(round.out.substr(at + 28));
  CHECK(resumed > 10000);  // what arrived before the cut was kept, not fetched again
  CHECK(resumed < 40000);
  size_t received = round.out.find("  received ");
  REQUIRE(received != std::string::npos);
  long long length = std::stoll(round.out.substr(round.out.find(" / ", received) + 3));
  CHECK(length > 80000);  // the cut was in the middle
  MESSAGE("answer of " << length << " bytes cut after " << resumed << " bytes; resumed there (0 bytes fetched twice)");
  w.Sync(w.b);  // B gets A's teacher
  CHECK(Dump(w.a) == Dump(w.b));
  CHECK(Dump(w.a).find("Classe 3999 du coll") != std::string::npos);
  // Nothing left behind in the box's temporary folder.
  CHECK(fs::is_empty(w.a / "sync" / "tmp"));
}

TEST_CASE(
    "over https the box pins the gateway's TLS key at enrolment and refuses another; plain http only on loopback") {
  TempDir certs;
  fs::path one = certs.path / "one";
  fs::path two = certs.path / "two";
  for (const fs::path& dir : {one, two}) {
    Output made = Relais("tls init --data " + dir.string() + " --name localhost --ip 127.0.0.1");
    REQUIRE_MESSAGE(made.exit_code == 0, made.all);
  }
  auto tls_flags = [](const fs::path& dir) {
    return std::vector<std::string>{"--tls-cert", (dir / "tls" / "server.crt").string(), "--tls-key",
                                    (dir / "tls" / "server.key").string()};
  };
  World w(tls_flags(one));
  const std::string url = w.hub->url();
  REQUIRE(url.rfind("https://127.0.0.1:", 0) == 0);
  std::string pinned = core::ReadFile(w.a / "sync" / "gateway-tls").value();
  CHECK(pinned.rfind("pin-sha256 ", 0) == 0);
  w.Sync(w.a);
  w.Sync(w.b);
  CHECK(Dump(w.a) == Dump(w.b));

  // The same address, another key: refused, clearly, and nothing changes.
  std::string host_port = url.substr(8);
  w.StopHub();
  w.hub = StartHub(w.hub_dir, host_port, tls_flags(two));
  std::string before = Dump(w.a);
  Output refused = Relais("sync --data " + w.a.string());
  CHECK(refused.exit_code != 0);
  CHECK_MESSAGE(refused.all.find("not the one pinned at enrolment") != std::string::npos, refused.all);
  CHECK(SyncStatus(w.a).last_error.find("not the one pinned") != std::string::npos);
  CHECK(Dump(w.a) == before);

  // A box enrolled with --ca trusts what that CA signed, and nothing else.
  fs::path c = w.tmp.path / "box-c";
  Output code = w.MustHub("enrol-code --data " + w.hub_dir.string() + " --school " + w.school);
  Output enrolled = w.Must("sync enrol --data " + c.string() + " --hub " + url + " --code " + FirstLine(code.out) +
                           " --ca " + (two / "tls" / "ca.crt").string());
  CHECK(enrolled.out.find("must be signed by") != std::string::npos);
  w.Sync(c);
  w.StopHub();
  w.hub = StartHub(w.hub_dir, host_port, tls_flags(one));
  Output other_ca = Relais("sync --data " + c.string());
  CHECK(other_ca.exit_code != 0);
  CHECK_MESSAGE(other_ca.all.find("does not verify") != std::string::npos, other_ca.all);

  // Plain http to another machine is refused before any connection is made.
  Output plain = Relais("sync enrol --data " + (w.tmp.path / "box-d").string() +
                        " --hub http://192.0.2.10:8080 --code AAAA-BBBB-CCCC-DDDD");
  CHECK(plain.exit_code != 0);
  CHECK(plain.all.find("refusing plain http://") != std::string::npos);
  Output override_hub = Relais("sync --data " + w.a.string() + " --hub http://192.0.2.10:8080");
  CHECK(override_hub.exit_code != 0);
  CHECK(override_hub.all.find("refusing plain http://") != std::string::npos);
}

namespace {

// The key epoch a bundle on disk is sealed to, read by its recipient `me`.
uint32_t SealedEpoch(const fs::path& bundle, const sync::Identity& me, const sync::TrustStore& trust,
                     const std::string& school) {
  auto source = sync::FileSource::Open(bundle);
  REQUIRE(source.ok());
  auto reader = sync::BundleReader::Open(**source, me, trust, school, std::time(nullptr));
  REQUIRE_MESSAGE(reader.ok(), reader.status().ToString());
  return (*reader)->header().recipient_epoch;
}

fs::path OnlyBundle(const fs::path& dir) {
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(dir)) found.push_back(e.path());
  REQUIRE(found.size() == 1);
  return found[0];
}

}  // namespace

TEST_CASE("encryption keys rotate on both sides without losing bundles in transit") {
  World w;
  w.Sync(w.a);
  w.Sync(w.b);
  auto hub_identity = [&] { return sync::Identity::Load(w.hub_dir / "hub-identity.key").value(); };
  sync::TrustStore hub_trust;
  hub_trust.Pin(hub_identity()->sign_public_key());

  // A change leaves on a stick, sealed to the gateway's key of epoch 1…
  fs::path stick1 = w.tmp.path / "stick1";
  w.Must("class add --data " + w.a.string() + " --name 2nde1");
  Output exported = w.Must("sync export --data " + w.a.string() + " --to " + stick1.string());
  size_t to = exported.out.find(" to ") + 4;
  fs::path a_on_stick1 = exported.out.substr(to, exported.out.find('\n', to) - to);
  CHECK(SealedEpoch(OnlyBundle(a_on_stick1 / "to-gateway"), *hub_identity(), hub_trust, w.school) == 1);

  // …then the gateway rotates its key (and restarts with it).
  std::string host_port = w.hub->url().substr(7);
  w.StopHub();
  Output rotated = w.MustHub("rotate-key --data " + w.hub_dir.string());
  CHECK(rotated.out.find("rotated to epoch 2") != std::string::npos);
  w.hub = StartHub(w.hub_dir, host_port);

  // The stick's bundle, sealed to the old key, still goes in.
  w.MustHub("import --data " + w.hub_dir.string() + " " + stick1.string());
  w.Sync(w.b);
  CHECK(Dump(w.b).find("2nde1") != std::string::npos);

  // A learns the new key from its next answer: its new bundles are sealed to epoch 2.
  w.Sync(w.a);
  fs::path stick2 = w.tmp.path / "stick2";
  w.Must("class add --data " + w.a.string() + " --name 2nde2");
  w.Must("sync export --data " + w.a.string() + " --to " + stick2.string());
  fs::path a_on_stick2 = stick2 / "relais" / a_on_stick1.filename();
  CHECK(SealedEpoch(OnlyBundle(a_on_stick2 / "to-gateway"), *hub_identity(), hub_trust, w.school) == 2);
  // The gateway answers on the stick, sealed to A's key of epoch 1.
  w.MustHub("import --data " + w.hub_dir.string() + " " + stick2.string());
  fs::path answer = a_on_stick2 / "to-box" / "answer.bundle";
  auto a_identity = [&] { return sync::Identity::Load(w.a / "sync" / "identity.key").value(); };
  auto a_trust = [&] { return sync::TrustStore::Load(w.a / "sync" / "trust").value(); };
  CHECK(SealedEpoch(answer, *a_identity(), a_trust(), w.school) == 1);

  // Meanwhile A rotates its own key and tells the gateway (a signed request, in a round).
  w.Must("class add --data " + w.b.string() + " --name 2nde3");
  w.Sync(w.b);
  Output box_rotated = w.Must("sync rotate-key --data " + w.a.string());
  CHECK(box_rotated.out.find("epoch 2") != std::string::npos);
  CHECK(box_rotated.out.find("The gateway now seals to the box's encryption key epoch 2") != std::string::npos);
  CHECK(Dump(w.a).find("2nde3") != std::string::npos);  // that round's answer, sealed to the new key, applied
  // The answer sealed to the old key before the rotation still applies.
  w.Must("sync import --data " + w.a.string() + " --from " + stick2.string());
  // New answers are sealed to the new key.
  w.MustHub("import --data " + w.hub_dir.string() + " " + stick2.string());
  CHECK(SealedEpoch(answer, *a_identity(), a_trust(), w.school) == 2);
  w.Must("sync import --data " + w.a.string() + " --from " + stick2.string());
  w.Sync(w.a);
  w.Sync(w.b);
  CHECK(Dump(w.a) == Dump(w.b));
  // Telling the gateway again is refused as stale, not re-applied: the round has nothing to tell.
  Output again = w.Sync(w.a);
  CHECK(again.out.find("now seals") == std::string::npos);
}

TEST_CASE("relais serve stops at once on SIGTERM even with a sync round stuck on a silent gateway") {
  World w;
  // A "gateway" that takes connections into its backlog and never answers.
  int silent = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(silent >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(silent, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(silent, 16) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(getsockname(silent, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  {
    core::SystemClock clock;
    auto school = content::School::Open(w.a, clock);
    REQUIRE(school.ok());
    REQUIRE((*school)
                ->accounts()
                .SetSetting("sync_hub_url", "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)))
                .ok());
  }
  auto served = ServeBox(w.a);
  WaitForSync(*served, [](const nlohmann::json& s) { return s["running"].get<bool>(); });
  // The round waits up to two minutes for an answer; the shutdown does not.
  auto start = std::chrono::steady_clock::now();
  CHECK(served->Stop(5000).ok());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  close(silent);
  // The cut round is not recorded as the gateway's failure.
  CHECK(SyncStatus(w.a).last_error.empty());
}

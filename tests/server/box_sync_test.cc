// Box-side sync end to end, with the real `relais` binary: a gateway
// (`relais hub serve`) on 127.0.0.1 and two boxes that enrol with one-time
// codes and sync over the network and by USB directory. Convergence is
// judged on the full dumps of the synced tables (sync::DumpSyncedTables).
#include "sync/box_sync.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "content/school.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/files.h"
#include "sync/chunks.h"
#include "sync/replica.h"
#include "tests/server/child_server.h"

namespace fs = std::filesystem;
using namespace relais;

namespace {

struct Run {
  int exit_code = -1;
  std::string out;  // standard output
  std::string all;  // standard output then standard error
};

// Runs `relais ARGS`, standard input from /dev/null.
Run Relais(const std::string& args) {
  fs::path err = fs::temp_directory_path() / ("relais-boxsync-err-" + core::RandomToken(6));
  std::string cmd = std::string(RELAIS_BINARY) + " " + args + " < /dev/null 2> " + err.string();
  Run r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  FILE* e = fopen(err.c_str(), "r");
  r.all = r.out;
  if (e) {
    while ((n = fread(buf.data(), 1, buf.size(), e)) > 0) r.all.append(buf.data(), n);
    fclose(e);
  }
  fs::remove(err);
  return r;
}

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

// `relais hub serve --data DIR` in a child process on a kernel-chosen port.
class HubProcess {
 public:
  explicit HubProcess(const fs::path& dir) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(fds[1], 1);
      int null = open("/dev/null", O_RDWR);
      dup2(null, 0);
      dup2(null, 2);
      close(fds[0]);
      execl(RELAIS_BINARY, RELAIS_BINARY, "hub", "serve", "--data", dir.c_str(), "--listen", "127.0.0.1:0",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    FILE* out = fdopen(fds[0], "r");
    char line[512];
    while (fgets(line, sizeof line, out)) {
      std::string s(line);
      if (s.rfind("Listening on ", 0) == 0) {
        url_ = s.substr(13, s.find_first_of("\r\n") - 13);
        break;
      }
    }
    fclose(out);
    REQUIRE_MESSAGE(!url_.empty(), "the hub did not start");
  }
  ~HubProcess() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  const std::string& url() const { return url_; }

 private:
  pid_t pid_ = -1;
  std::string url_;
};

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

sync::BoxSyncStatus SyncStatus(const fs::path& data) {
  core::SystemClock clock;
  auto school = content::School::Open(data, clock);
  REQUIRE(school.ok());
  auto status = sync::ReadBoxSyncStatus(**school, data);
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
  std::unique_ptr<HubProcess> hub;
  std::string school;

  World() {
    REQUIRE(core::InitCrypto().ok());
    fs::create_directories(hub_dir);
    hub = std::make_unique<HubProcess>(hub_dir);
    Run added = Relais("hub school add --data " + hub_dir.string() + " 'Collège Jean Moulin'");
    REQUIRE_MESSAGE(added.exit_code == 0, added.all);
    school = FirstLine(added.out);
    // Box A already has data when it enrols: it travels too.
    Must("user add --data " + a.string() + " --login prof.martin --role teacher --password correct-horse-1");
    Enrol(a);
    Enrol(b);
  }
  Run Must(const std::string& args) {
    Run r = Relais(args);
    REQUIRE_MESSAGE(r.exit_code == 0, std::string(args + "\n" + r.all));
    return r;
  }
  void Enrol(const fs::path& box) {
    Run code = Must("hub enrol-code --data " + hub_dir.string() + " --school " + school);
    Run enrolled =
        Must("sync enrol --data " + box.string() + " --hub " + hub->url() + " --code " + FirstLine(code.out));
    CHECK(enrolled.out.find("Enrolled: box ") != std::string::npos);
  }
  Run Sync(const fs::path& box) { return Must("sync --data " + box.string()); }
};

}  // namespace

TEST_CASE("two boxes converge through the gateway over the network; a second round changes nothing") {
  World w;
  Run first = w.Sync(w.a);
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
  Run again_a = w.Sync(w.a);
  Run again_b = w.Sync(w.b);
  CHECK(again_a.out.find("Sync done: 0 sent, 0 received") != std::string::npos);
  CHECK(again_b.out.find("Sync done: 0 sent, 0 received") != std::string::npos);
  CHECK(Dump(w.a) == dump_a);
  CHECK(Dump(w.b) == dump_a);

  // The box's server shows the status.
  server::testing::ChildServer::Options options;
  options.data_dir = w.a;
  auto served = server::testing::ChildServer::Start(options);
  REQUIRE_MESSAGE(served.ok(), served.status().ToString());
  auto health = (*served)->NewClient()->Get("/api/v1/health");
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
  Run exported_b = w.Must("sync export --data " + w.b.string() + " --to " + stick);
  size_t to = exported_b.out.find(" to ") + 4;
  fs::path box_b_dir = exported_b.out.substr(to, exported_b.out.find('\n', to) - to);
  w.Must("hub import --data " + w.hub_dir.string() + " " + stick);
  // The second pass answers each box with everything the first pass took in.
  w.Must("hub import --data " + w.hub_dir.string() + " " + stick);
  w.Must("sync import --data " + w.a.string() + " --from " + stick);
  {
    // A damaged answer is refused and changes nothing.
    fs::path answer = box_b_dir / "to-box" / "answer.bundle";
    std::string good = core::ReadFile(answer).value();
    std::string bad = good;
    bad[bad.size() / 2] ^= 0x01;
    REQUIRE(core::WriteFileAtomic(answer, bad).ok());
    std::string b_before = Dump(w.b);
    Run refused = Relais("sync import --data " + w.b.string() + " --from " + stick);
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
  Run net = w.Sync(w.a);
  CHECK(net.out.find("Sync done: 0 sent, 0 received") != std::string::npos);
}

TEST_CASE("sync fails clearly, with a non-zero exit and the error kept for health, when the hub is away or refuses") {
  World w;
  Run away = Relais("sync --data " + w.a.string() + " --hub http://127.0.0.1:9");
  CHECK(away.exit_code != 0);
  CHECK(away.all.find("cannot reach the gateway") != std::string::npos);
  CHECK(SyncStatus(w.a).last_error.find("cannot reach the gateway") != std::string::npos);

  Run boxes = w.Must("hub box list --data " + w.hub_dir.string() + " --school " + w.school);
  // The box list shows both boxes; revoke them all, then sync is refused.
  size_t at = 0;
  while (at < boxes.out.size()) {
    std::string line = boxes.out.substr(at, boxes.out.find('\n', at) - at);
    at += line.size() + 1;
    std::string id = line.substr(0, line.find(' '));
    if (!id.empty()) w.Must("hub revoke --data " + w.hub_dir.string() + " " + id);
  }
  std::string before = Dump(w.a);
  Run refused = Relais("sync --data " + w.a.string());
  CHECK(refused.exit_code != 0);
  CHECK(refused.all.find("refused") != std::string::npos);
  CHECK(Dump(w.a) == before);

  Run no_box = Relais("sync --data " + (w.tmp.path / "never-enrolled").string());
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

}  // namespace

TEST_CASE("a hand-in's photo made on box A reaches box B and the ENT with identical bytes over the network") {
  World w;
  std::string photo = core::RandomBytes(3 * 1024 * 1024 + 12345);  // several chunks
  std::string sha = HandInPhoto(w, w.a, photo);
  Run sent = w.Sync(w.a);
  CHECK(sent.out.find("Announcing 1 files") != std::string::npos);
  CHECK(Number(sent.out, "Files: ") > 0);
  Run got = w.Sync(w.b);
  CHECK(got.out.find("Fetching file " + sha.substr(0, 12)) != std::string::npos);
  auto at_b = BlobBytes(w.b, sha);
  REQUIRE(at_b.has_value());
  CHECK(*at_b == photo);
  CHECK(Dump(w.b) == Dump(w.a));
  // Nothing moves a second time: the gateway acknowledged A's file, B holds it.
  Run again_a = w.Sync(w.a);
  Run again_b = w.Sync(w.b);
  CHECK(again_a.out.find("Announcing") == std::string::npos);
  CHECK(again_b.out.find("Fetching") == std::string::npos);
  CHECK(again_a.out.find("Sync done: 0 sent, 0 received") != std::string::npos);

  // B serves the photo to the teacher; a file whose bytes have not arrived is a clear 503, not a 500.
  server::testing::ChildServer::Options options;
  options.data_dir = w.b;
  auto served = server::testing::ChildServer::Start(options);
  REQUIRE_MESSAGE(served.ok(), served.status().ToString());
  auto client = (*served)->NewClient();
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
  Run exported = w.Must("sync export --data " + w.a.string() + " --to " + stick);
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
    Run refused = Relais("hub import --data " + w.hub_dir.string() + " " + stick);
    CHECK(refused.exit_code != 0);
    CHECK(refused.all.find("refused") != std::string::npos);
    // Exporting again repairs the stick.
    w.Must("sync export --data " + w.a.string() + " --to " + stick);
  }
  Run exported_b = w.Must("sync export --data " + w.b.string() + " --to " + stick);
  to = exported_b.out.find(" to ") + 4;
  fs::path box_b_dir = exported_b.out.substr(to, exported_b.out.find('\n', to) - to);
  w.Must("hub import --data " + w.hub_dir.string() + " " + stick);
  Run second = w.Must("hub import --data " + w.hub_dir.string() + " " + stick);
  CHECK(second.out.find("files: 1 for the box") != std::string::npos);
  {
    // An altered chunk for the box: refused, the photo not assembled, the error kept.
    fs::path chunk = box_b_dir / "to-box" / "chunks" / sha / "1.chunk";
    std::string good = core::ReadFile(chunk).value();
    std::string bad = good;
    bad[40] ^= 0x01;
    REQUIRE(core::WriteFileAtomic(chunk, bad).ok());
    Run refused = Relais("sync import --data " + w.b.string() + " --from " + stick);
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
  Run net = w.Sync(w.a);
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
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    execl(RELAIS_BINARY, RELAIS_BINARY, "sync", "--data", w.b.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int before_kill = 0;
  for (int i = 0; i < 20000 && before_kill < 8; ++i) {
    usleep(2000);
    before_kill = HubChunkCount(w.hub_dir);
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  usleep(300000);  // a chunk whose body had fully arrived is still stored
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

  Run resumed = w.Sync(w.b);
  CHECK(Number(resumed.out, "Files: ") == total - held);  // only the missing chunks went up
  CHECK(HubChunkCount(w.hub_dir) == total);
  Run got = w.Sync(w.a);
  CHECK(Number(got.out, "Files: ") == total);
  auto at_a = BlobBytes(w.a, sha);
  REQUIRE(at_a.has_value());
  CHECK(*at_a == video);
}

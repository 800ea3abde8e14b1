// tests/box/durability_test.cc — a 201 for an upload or a hand-in means
// the work is on disk (issue 2, "Durability").
//
// The server runs as a child process (tests/support/process.h) and is
// killed with SIGKILL at random moments while one client thread per student
// uploads files and hands in work. Each round:
//
//   1. the teacher publishes the round's homework; each student's thread loops:
//      upload 1–2 files (2 KB–300 KB of UTF-8 text or JPEG-looking bytes; some
//      sent slowly so that kills land mid-body, some repeating bytes already
//      stored so that the de-duplicating commit runs), then hand in a text
//      naming those files. Only what got a 201 enters the ledger.
//   2. after a random delay (log-uniform, 10–450 ms) the server gets SIGKILL.
//   3. the crash image, before anything repairs it: the database, opened
//      read-only, passes PRAGMA integrity_check and foreign_key_check; every
//      file row's blob exists with its size; every blob's name is the SHA-256
//      of its bytes.
//   4. the server restarts on the same folder: tmp/ holds no upload-*.part;
//      every upload and hand-in acknowledged in the round (and a sample of
//      older ones) reads back identical through the API, and no hand-in
//      version exists that no client sent.
// At the end every acknowledged upload, hand-in and homework is read back once
// more, the server is stopped with SIGTERM, and a fresh School::Open passes
// CheckIntegrity().
//
// What this catches: an acknowledgement sent before the commit, a partial
// file under its final name, a torn database, a server that cannot restart
// on a crashed folder. What it cannot catch: a missing fsync — SIGKILL leaves
// the kernel's page cache alone, so only a real power cut (or a fault-injecting
// file system) shows those.
//
// Settings (environment, read here only): RELAIS_DURABILITY_ROUNDS (default 25)
// and RELAIS_DURABILITY_SEED (default: from the time; always printed). The same
// seed replays the same delays, sizes and contents, not the same thread
// interleaving. On failure the data folder is kept and its path printed.

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "content/school.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/db.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

namespace relais::box {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::ServerProcess;
using SteadyClock = std::chrono::steady_clock;

constexpr int kDefaultRounds = 25;
constexpr size_t kStudents = 6;
constexpr size_t kMinFileBytes = 2 << 10;
constexpr size_t kMaxFileBytes = 300 << 10;
constexpr double kMinKillDelayMs = 10;
constexpr double kMaxKillDelayMs = 450;
constexpr int kMaxIterationsPerRound = 10000;  // per client; the kill comes long before
constexpr size_t kOlderFilesPerRound = 8;      // re-read from earlier rounds
constexpr size_t kOlderHandInsPerRound = 2;
constexpr size_t kPacedChunk = 16 << 10;

struct Settings {
  int rounds = kDefaultRounds;
  uint64_t seed = 0;
};

Settings ReadSettings() {
  Settings s;
  if (const char* r = std::getenv("RELAIS_DURABILITY_ROUNDS"); r && *r) s.rounds = std::max(1, std::atoi(r));
  if (const char* seed = std::getenv("RELAIS_DURABILITY_SEED"); seed && *seed) {
    s.seed = std::strtoull(seed, nullptr, 10);
  } else {
    s.seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  }
  return s;
}

// A data folder under the system's temporary directory. Removed at the end
// unless Keep() was called.
class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("relais-durability-" + core::RandomToken(8))) {
    fs::create_directories(path_);
  }
  ~TempDir() {
    if (keep_) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  void Keep() { keep_ = true; }

 private:
  fs::path path_;
  bool keep_ = false;
};

std::string HexSha256(std::string_view data) { return core::ToHex(core::Sha256(data)); }

httplib::Headers Bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

// --- The school ---------------------------------------------------------------

struct Person {
  std::string login;
  std::string password;
};

struct SeededSchool {
  std::string class_id;
  Person teacher;
  std::vector<Person> students;
};

// Creates a class, its teacher and kStudents students directly in the data
// folder, before any server runs. (The test binary hashes passwords with cheap
// Argon2id settings, so the server's logins are cheap too: the hash carries
// its parameters.)
SeededSchool SeedSchool(const fs::path& dir) {
  core::SystemClock clock;
  auto school = content::School::Open(dir, clock);
  REQUIRE_MESSAGE(school.ok(), school.status().message());
  auto cls = (*school)->accounts().CreateClass(nullptr, "4e B");
  REQUIRE_MESSAGE(cls.ok(), cls.status().message());
  SeededSchool seeded;
  seeded.class_id = cls->id;
  auto add = [&](const std::string& login, content::Role role) {
    Person p{login, "mot-de-passe-" + login};
    auto user = (*school)->accounts().CreateUser(nullptr, {login, "", role, p.password, std::string("4e B")});
    REQUIRE_MESSAGE(user.ok(), user.status().message());
    return p;
  };
  seeded.teacher = add("prof.durand", content::Role::kTeacher);
  for (size_t i = 0; i < kStudents; ++i)
    seeded.students.push_back(add("eleve" + std::to_string(i + 1), content::Role::kStudent));
  return seeded;
}

std::string LogIn(const ServerProcess& server, const Person& person) {
  auto client = server.NewClient();
  json body = {{"login", person.login}, {"password", person.password}};
  auto res = client->Post("/api/v1/session", body.dump(), "application/json");
  REQUIRE_MESSAGE(res, "login of " << person.login << ": " << httplib::to_string(res.error()));
  REQUIRE_MESSAGE(res->status == 200, "login of " << person.login << ": " << res->status << " " << res->body);
  return json::parse(res->body).at("token").get<std::string>();
}

struct Tokens {
  std::string teacher;
  std::vector<std::string> students;
};

Tokens LogInEveryone(const ServerProcess& server, const SeededSchool& school) {
  Tokens t;
  t.teacher = LogIn(server, school.teacher);
  for (const Person& p : school.students) t.students.push_back(LogIn(server, p));
  return t;
}

// --- What the clients send ------------------------------------------------------

const char* const kWords[] = {"le",        "théorème", "de",           "Pythagore", "s'applique", "au",    "triangle",
                              "rectangle", "donc",     "l'hypoténuse", "mesure",    "cm",         "ça",    "marche",
                              "exercice",  "réponse",  "fraction",     "élève",     "calcul",     "forêt", "où",
                              "hypothèse", "vérifié",  "schéma",       "à",         "rédiger",    "noté",  "1234"};

std::string RandomWords(std::mt19937_64& rng, size_t bytes) {
  std::uniform_int_distribution<size_t> word(0, std::size(kWords) - 1);
  std::uniform_int_distribution<int> line(0, 11);
  std::string out;
  out.reserve(bytes + 16);
  while (out.size() < bytes) {
    out += kWords[word(rng)];
    out += line(rng) == 0 ? '\n' : ' ';
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '\n')) out.pop_back();
  return out;
}

struct Upload {
  std::string name;
  std::string content_type;
  std::string body;
};

// 2 KB–300 KB (log-uniform) of UTF-8 text or of bytes that open like a JPEG,
// unique thanks to `tag`.
Upload RandomUpload(std::mt19937_64& rng, const std::string& tag) {
  std::uniform_real_distribution<double> log_size(std::log(double(kMinFileBytes)), std::log(double(kMaxFileBytes)));
  size_t size = static_cast<size_t>(std::exp(log_size(rng)));
  Upload u;
  if (rng() % 2 == 0) {
    u.name = tag + ".txt";
    u.content_type = "text/plain; charset=utf-8";
    u.body = "Devoir " + tag + "\n" + RandomWords(rng, size);
  } else {
    u.name = tag + ".jpg";
    u.content_type = "image/jpeg";
    u.body = std::string("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 20) + tag;
    u.body.reserve(size);
    while (u.body.size() < size) {
      uint64_t r = rng();
      u.body.append(reinterpret_cast<const char*>(&r), sizeof r);
    }
  }
  return u;
}

// --- The ledger: what the server acknowledged -------------------------------------

struct AckedFile {
  std::string id;
  std::string sha256;
  uint64_t size = 0;
  size_t student = 0;
  int round = 0;
};

struct AckedHandIn {
  std::string submission_id;
  std::string homework_id;
  int version = 0;
  std::string text;
  std::vector<std::string> file_ids;
  size_t student = 0;
  int round = 0;
};

// One client thread's record of a round. Only that thread writes it, until
// the main thread joins it.
struct ClientLog {
  std::vector<AckedFile> files;
  std::vector<AckedHandIn> hand_ins;
  std::vector<std::string> sent_texts;  // every hand-in text sent, acknowledged or not
  std::vector<std::string> failures;
  int paced_uploads = 0;
  int duplicate_uploads = 0;
};

enum Phase : int { kIdle = 0, kUploading = 1, kHandingIn = 2 };

struct ClientJob {
  const ServerProcess* server = nullptr;
  std::string token;
  std::string login;
  std::string homework_id;
  const std::string* shared_body = nullptr;  // the same bytes for every student this round
  size_t student = 0;
  int round = 0;
  uint64_t seed = 0;
  const std::atomic<bool>* kill_sent = nullptr;
  const std::atomic<bool>* stop = nullptr;
  std::atomic<int>* phase = nullptr;
  ClientLog* log = nullptr;
};

// A request that got no response is expected once the kill is sent; before,
// it is a failure. Returns false when the client should stop.
bool CheckTransport(const httplib::Result& res, const ClientJob& job, const char* what) {
  if (res) return true;
  if (!job.kill_sent->load())
    job.log->failures.push_back(job.login + ": " + what +
                                " got no response before the kill: " + httplib::to_string(res.error()));
  return false;
}

// Uploads `u`; on 201 records it and returns its id, otherwise "".
std::string UploadFile(httplib::Client& client, const ClientJob& job, const Upload& u, bool paced,
                       std::mt19937_64& rng) {
  httplib::Headers headers = Bearer(job.token);
  headers.emplace("X-Filename", u.name);
  job.phase->store(kUploading);
  httplib::Result res{nullptr, httplib::Error::Unknown};
  if (paced) {
    ++job.log->paced_uploads;
    int pause_us = std::uniform_int_distribution<int>(200, 4000)(rng);
    res = client.Post(
        "/api/v1/files", headers, u.body.size(),
        [&](size_t offset, size_t length, httplib::DataSink& sink) {
          if (job.stop->load()) return false;
          if (!sink.write(u.body.data() + offset, std::min(length, kPacedChunk))) return false;
          std::this_thread::sleep_for(std::chrono::microseconds(pause_us));  // a slow client on purpose
          return true;
        },
        u.content_type);
  } else {
    res = client.Post("/api/v1/files", headers, u.body, u.content_type);
  }
  job.phase->store(kIdle);
  if (!CheckTransport(res, job, "an upload")) return "";
  if (res->status != 201) {
    job.log->failures.push_back(job.login + ": upload of " + u.name + " answered " + std::to_string(res->status) + " " +
                                res->body);
    return "";
  }
  json j = json::parse(res->body, nullptr, false);
  std::string sha = HexSha256(u.body);
  if (j.is_discarded() || !j.contains("id") || j.value("sha256", "") != sha ||
      j.value("size", uint64_t{0}) != u.body.size()) {
    job.log->failures.push_back(job.login + ": upload of " + u.name +
                                " acknowledged with a wrong record: " + res->body);
    return "";
  }
  job.log->files.push_back({j["id"].get<std::string>(), sha, u.body.size(), job.student, job.round});
  return job.log->files.back().id;
}

// Hands in `text` with `file_ids`; on 201 checks and records the new version.
// Returns false when the client should stop.
bool HandIn(httplib::Client& client, const ClientJob& job, const std::string& text,
            const std::vector<std::string>& file_ids) {
  json body = {{"text", text}, {"files", file_ids}};
  job.log->sent_texts.push_back(text);
  job.phase->store(kHandingIn);
  auto res = client.Post("/api/v1/homework/" + job.homework_id + "/submissions", Bearer(job.token), body.dump(),
                         "application/json");
  job.phase->store(kIdle);
  if (!CheckTransport(res, job, "a hand-in")) return false;
  if (res->status != 201) {
    job.log->failures.push_back(job.login + ": hand-in answered " + std::to_string(res->status) + " " + res->body);
    return false;
  }
  json j = json::parse(res->body, nullptr, false);
  if (j.is_discarded() || !j.contains("versions") || j["versions"].empty()) {
    job.log->failures.push_back(job.login + ": hand-in acknowledged with an unreadable body: " + res->body);
    return false;
  }
  const json& newest = j["versions"][0];
  std::vector<std::string> got_files;
  for (const json& f : newest.value("files", json::array())) got_files.push_back(f.value("id", ""));
  int version = newest.value("version", 0);
  if (newest.value("text", "") != text || got_files != file_ids || version != j.value("current_version", -1)) {
    job.log->failures.push_back(job.login +
                                ": hand-in acknowledged with a version that is not the one sent: " + newest.dump());
    return false;
  }
  job.log->hand_ins.push_back({j.value("id", ""), job.homework_id, version, text, file_ids, job.student, job.round});
  return true;
}

// One student's loop for one round, until the kill.
void RunClient(const ClientJob& job) {
  std::mt19937_64 rng(job.seed);
  auto client = job.server->NewClient();
  client->set_keep_alive(rng() % 2 == 0);
  std::string previous_body;
  for (int i = 0; i < kMaxIterationsPerRound && !job.stop->load(); ++i) {
    std::vector<std::string> file_ids;
    int files = std::uniform_int_distribution<int>(0, 9)(rng) == 0 ? 0 : 1 + static_cast<int>(rng() % 2);
    for (int f = 0; f < files; ++f) {
      std::string tag =
          "r" + std::to_string(job.round) + "-" + job.login + "-" + std::to_string(i) + "-" + std::to_string(f);
      Upload u = RandomUpload(rng, tag);
      // Bytes already stored, or being stored by another student right now:
      // the commit finds the blob there.
      if (i == 0 && f == 0) {
        u = {"commun.txt", "text/plain", *job.shared_body};
        ++job.log->duplicate_uploads;
      } else if (!previous_body.empty() && rng() % 10 == 0) {
        u.body = previous_body;
        u.name = "copie.txt";
        u.content_type = previous_body[0] == 'D' ? "text/plain" : "image/jpeg";
        ++job.log->duplicate_uploads;
      }
      bool paced = rng() % 3 == 0;
      std::string id = UploadFile(*client, job, u, paced, rng);
      if (id.empty()) return;
      previous_body = u.body;
      file_ids.push_back(id);
    }
    std::string text = "Copie de " + job.login + ", tour " + std::to_string(job.round) + ", essai " +
                       std::to_string(i) + " " + core::RandomToken(6) + " : " +
                       RandomWords(rng, std::uniform_int_distribution<size_t>(20, 1500)(rng));
    if (!HandIn(*client, job, text, file_ids)) return;
  }
}

// --- Checks ---------------------------------------------------------------------

struct Stats {
  int rounds = 0;
  int kills_mid_upload = 0;   // rounds whose kill found at least one upload in flight
  int kills_mid_hand_in = 0;  // … at least one hand-in in flight
  int uploads_in_flight = 0;
  int hand_ins_in_flight = 0;
  int partial_uploads_after_kill = 0;  // upload-*.part found in tmp/ in the crash image
  int uncatalogued_blobs = 0;          // new blobs without a file row (killed between the two commits)
  int unacknowledged_committed = 0;    // hand-ins committed whose 201 never arrived
  int paced_uploads = 0;
  int duplicate_uploads = 0;
  size_t blobs_hashed = 0;
  size_t file_reads = 0;
  size_t hand_in_checks = 0;
};

struct Ledger {
  std::vector<AckedFile> files;
  std::vector<AckedHandIn> hand_ins;
  std::set<std::string> sent_texts;
  std::set<std::string> acked_texts;
  std::map<std::string, std::string> homework;  // id -> title, acknowledged with 201
  std::set<std::string> verified_blobs;         // names already hashed
  std::set<std::string> committed_unacked;      // texts found committed without a 201
};

void ListTmp(const fs::path& tmp, std::vector<std::string>* parts, std::vector<std::string>* others) {
  std::error_code ec;
  for (fs::directory_iterator it(tmp, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    bool part = name.rfind("upload-", 0) == 0 && name.size() > 5 && name.substr(name.size() - 5) == ".part";
    (part ? parts : others)->push_back(name);
  }
}

// Runs `sql` on `db` and calls `row(stmt)` for each row; false after
// recording a failure.
template <typename OnRow>
bool ForEachRow(core::Db& db, const std::string& sql, OnRow row, std::vector<std::string>* failures) {
  auto q = db.Prepare(sql);
  if (!q.ok()) {
    failures->push_back("crash image: " + sql + ": " + q.status().message());
    return false;
  }
  while (true) {
    auto more = q->Step();
    if (!more.ok()) {
      failures->push_back("crash image: " + sql + ": " + more.status().message());
      return false;
    }
    if (!*more) return true;
    row(*q);
  }
}

// The folder as the kill left it, before a restart repairs anything: read-only,
// so the server's next start still finds the WAL as the kill left it.
void CheckCrashImage(const fs::path& dir, Ledger* ledger, Stats* stats, std::vector<std::string>* failures) {
  std::vector<std::string> parts, others;
  ListTmp(dir / "tmp", &parts, &others);
  stats->partial_uploads_after_kill += static_cast<int>(parts.size());

  core::Db::Options ro;
  ro.read_only = true;
  auto opened = core::Db::Open(dir / "relais.db", ro);
  if (!opened.ok()) return failures->push_back("crash image: cannot open the database: " + opened.status().message());
  core::Db& db = **opened;
  std::string answer;
  ForEachRow(
      db, "PRAGMA integrity_check", [&](core::Stmt& q) { answer += (answer.empty() ? "" : "; ") + q.Text(0); },
      failures);
  if (answer != "ok") failures->push_back("crash image: integrity_check says: " + answer);
  ForEachRow(
      db, "PRAGMA foreign_key_check",
      [&](core::Stmt& q) { failures->push_back("crash image: a dangling reference in table " + q.Text(0)); }, failures);

  // Every file row's blob exists with the recorded size; every acknowledged upload has its row.
  std::set<std::string> catalogued, file_ids;
  ForEachRow(
      db, "SELECT id, sha256, size FROM files",
      [&](core::Stmt& q) {
        std::string sha = q.Text(1);
        file_ids.insert(q.Text(0));
        catalogued.insert(sha);
        fs::path blob = dir / "blobs" / sha.substr(0, 2) / sha.substr(2, 2) / sha;
        std::error_code ec;
        uint64_t size = fs::file_size(blob, ec);
        if (ec || size != static_cast<uint64_t>(q.Int(2)))
          failures->push_back("crash image: file " + q.Text(0) + " points to blob " + sha + " which is " +
                              (ec ? "missing" : "of size " + std::to_string(size)) + ", not " +
                              std::to_string(q.Int(2)) + " bytes");
      },
      failures);
  for (const AckedFile& f : ledger->files)
    if (!file_ids.count(f.id))
      failures->push_back("crash image: upload " + f.id + " (round " + std::to_string(f.round) +
                          ") was acknowledged but has no file row");

  // Every acknowledged hand-in version is there with its text; every version was sent by a client.
  std::map<std::pair<std::string, int>, std::string> versions;
  ForEachRow(
      db, "SELECT submission_id, version, text FROM submission_versions",
      [&](core::Stmt& q) {
        std::string text = q.Text(2);
        if (!ledger->sent_texts.count(text))
          failures->push_back("crash image: submission " + q.Text(0) + " version " + std::to_string(q.Int(1)) +
                              " holds a text no client sent");
        versions[{q.Text(0), static_cast<int>(q.Int(1))}] = std::move(text);
      },
      failures);
  for (const AckedHandIn& h : ledger->hand_ins) {
    auto it = versions.find({h.submission_id, h.version});
    if (it == versions.end() || it->second != h.text)
      failures->push_back("crash image: hand-in " + h.submission_id + " version " + std::to_string(h.version) +
                          " (round " + std::to_string(h.round) + ") was acknowledged but is " +
                          (it == versions.end() ? "missing" : "different"));
  }

  // Every blob is complete: its name is the SHA-256 of its bytes. Each is
  // hashed once, the round it appears.
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir / "blobs", ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::string name = it->path().filename().string();
    if (ledger->verified_blobs.count(name)) continue;
    auto bytes = core::ReadFile(it->path());
    if (!bytes.ok() || HexSha256(*bytes) != name) {
      failures->push_back("crash image: blob " + it->path().string() + " does not hold the bytes its name says");
      continue;
    }
    if (!catalogued.count(name)) ++stats->uncatalogued_blobs;
    ledger->verified_blobs.insert(name);
    ++stats->blobs_hashed;
  }
  if (ec) failures->push_back("crash image: cannot list blobs/: " + ec.message());
}

void CheckFile(const ServerProcess& server, const Tokens& tokens, const AckedFile& f, Stats* stats,
               std::vector<std::string>* failures) {
  auto client = server.NewClient();
  auto res = client->Get("/api/v1/files/" + f.id, Bearer(tokens.students[f.student]));
  ++stats->file_reads;
  std::string where =
      "file " + f.id + " (round " + std::to_string(f.round) + ", eleve" + std::to_string(f.student + 1) + ")";
  if (!res) return failures->push_back(where + ": no response: " + httplib::to_string(res.error()));
  if (res->status != 200)
    return failures->push_back(where + " was acknowledged but now answers " + std::to_string(res->status));
  if (res->body.size() != f.size || HexSha256(res->body) != f.sha256)
    failures->push_back(where + " was acknowledged but reads back different bytes (" +
                        std::to_string(res->body.size()) + " of " + std::to_string(f.size) + ")");
}

// Reads a submission back as the teacher: every acknowledged version is there
// with its text and files, versions run 1..current, and each was sent by a client.
void CheckSubmission(const ServerProcess& server, const Tokens& tokens, const std::string& id,
                     const std::vector<const AckedHandIn*>& acked, Ledger* ledger, Stats* stats,
                     std::vector<std::string>* failures) {
  auto client = server.NewClient();
  auto res = client->Get("/api/v1/submissions/" + id, Bearer(tokens.teacher));
  std::string where = "submission " + id + " (round " + std::to_string(acked.front()->round) + ", eleve" +
                      std::to_string(acked.front()->student + 1) + ")";
  if (!res) return failures->push_back(where + ": no response: " + httplib::to_string(res.error()));
  if (res->status != 200)
    return failures->push_back(where + " was acknowledged but now answers " + std::to_string(res->status));
  json j = json::parse(res->body, nullptr, false);
  if (j.is_discarded()) return failures->push_back(where + ": unreadable body");
  std::map<int, const json*> versions;
  for (const json& v : j["versions"]) versions[v.value("version", 0)] = &v;
  int current = j.value("current_version", 0);
  if (versions.empty() || versions.begin()->first != 1 || versions.rbegin()->first != current ||
      static_cast<int>(versions.size()) != current)
    failures->push_back(where + ": versions do not run from 1 to current_version " + std::to_string(current));
  for (const auto& [number, v] : versions) {
    std::string text = v->value("text", "");
    if (!ledger->sent_texts.count(text)) {
      failures->push_back(where + ": version " + std::to_string(number) + " holds a text no client sent");
    } else if (!ledger->acked_texts.count(text)) {
      ledger->committed_unacked.insert(text);
    }
  }
  for (const AckedHandIn* h : acked) {
    ++stats->hand_in_checks;
    auto it = versions.find(h->version);
    if (it == versions.end()) {
      failures->push_back(where + ": version " + std::to_string(h->version) + " was acknowledged but is gone");
      continue;
    }
    std::vector<std::string> files;
    for (const json& f : (*it->second)["files"]) files.push_back(f.value("id", ""));
    if (it->second->value("text", "") != h->text || files != h->file_ids)
      failures->push_back(where + ": version " + std::to_string(h->version) +
                          " was acknowledged but reads back different: " + it->second->dump().substr(0, 300));
  }
}

// Reads back the files and hand-ins of the ledger chosen by `pick_file` and
// `pick_submission` (by index and id).
template <typename PickFile, typename PickSubmission>
void CheckLedger(const ServerProcess& server, const Tokens& tokens, Ledger* ledger, PickFile pick_file,
                 PickSubmission pick_submission, Stats* stats, std::vector<std::string>* failures) {
  for (size_t i = 0; i < ledger->files.size(); ++i)
    if (pick_file(i)) CheckFile(server, tokens, ledger->files[i], stats, failures);
  std::map<std::string, std::vector<const AckedHandIn*>> by_submission;
  for (const AckedHandIn& h : ledger->hand_ins) by_submission[h.submission_id].push_back(&h);
  for (const auto& [id, acked] : by_submission)
    if (pick_submission(id, acked)) CheckSubmission(server, tokens, id, acked, ledger, stats, failures);
}

std::string Describe(const std::vector<std::string>& failures, size_t max = 20) {
  std::string out;
  for (size_t i = 0; i < failures.size() && i < max; ++i) out += "\n  " + failures[i];
  if (failures.size() > max) out += "\n  … and " + std::to_string(failures.size() - max) + " more";
  return out;
}

ServerProcess::Options ServerOptions(const TempDir& dir) {
  ServerProcess::Options o;
  o.data_dir = dir.path() / "data";
  o.log_file = dir.path() / "server.log";
  return o;
}

std::unique_ptr<ServerProcess> StartServer(const TempDir& dir) {
  auto server = ServerProcess::Start(ServerOptions(dir));
  REQUIRE_MESSAGE(server.ok(), server.status().message());
  return std::move(*server);
}

// The random-kill experiment: the state that lives across rounds.
class KillRounds {
 public:
  explicit KillRounds(const Settings& settings)
      : rng_(settings.seed), data_(dir_.path() / "data"), school_(SeedSchool(data_)) {}

  void Start() {
    server_ = StartServer(dir_);
    tokens_ = LogInEveryone(*server_, school_);
  }

  // One round: publish, work, kill at a random moment, check the crash image,
  // restart, read back. Returns false once something failed.
  bool Round(int round) {
    std::string homework_id = PublishHomework(round);
    size_t first_new_file = ledger_.files.size();
    std::set<std::string> new_submissions = WorkUntilKilled(round, homework_id);
    CheckCrashImage(data_, &ledger_, &stats_, &failures_);
    // Restart on the same folder: partial uploads are gone, acknowledged work is there.
    server_ = StartServer(dir_);
    std::vector<std::string> parts, others;
    ListTmp(data_ / "tmp", &parts, &others);
    if (!parts.empty()) Fail(round, "after the restart tmp/ still holds " + parts.front());
    tokens_ = LogInEveryone(*server_, school_);
    // This round's work, and a sample of older work.
    std::set<size_t> files;
    for (size_t i = first_new_file; i < ledger_.files.size(); ++i) files.insert(i);
    for (size_t i = 0; i < kOlderFilesPerRound && first_new_file > 0; ++i)
      files.insert(std::uniform_int_distribution<size_t>(0, first_new_file - 1)(rng_));
    std::vector<std::string> older;
    for (const AckedHandIn& h : ledger_.hand_ins)
      if (!new_submissions.count(h.submission_id)) older.push_back(h.submission_id);
    std::set<std::string> submissions = new_submissions;
    for (size_t i = 0; i < kOlderHandInsPerRound && !older.empty(); ++i)
      submissions.insert(older[std::uniform_int_distribution<size_t>(0, older.size() - 1)(rng_)]);
    CheckLedger(
        *server_, tokens_, &ledger_, [&](size_t i) { return files.count(i) > 0; },
        [&](const std::string& id, const auto&) { return submissions.count(id) > 0; }, &stats_, &failures_);
    stats_.rounds = round;
    return failures_.empty();
  }

  // Everything once more, then a clean stop and a fresh integrity check.
  void Finish() {
    if (failures_.empty()) {
      CheckLedger(
          *server_, tokens_, &ledger_, [](size_t) { return true; },
          [](const std::string&, const auto&) { return true; }, &stats_, &failures_);
      for (const auto& [id, title] : ledger_.homework) {
        auto res = server_->NewClient()->Get("/api/v1/homework/" + id, Bearer(tokens_.teacher));
        if (!res || res->status != 200 || json::parse(res->body, nullptr, false).value("title", "") != title)
          failures_.push_back("homework " + id + " (" + title + ") was acknowledged but does not read back");
      }
    }
    if (Status st = server_->Stop(); !st.ok()) failures_.push_back("clean stop: " + st.message());
    core::SystemClock clock;
    auto reopened = content::School::Open(data_, clock);
    if (!reopened.ok()) {
      failures_.push_back("reopening the school: " + reopened.status().message());
    } else if (Status st = (*reopened)->CheckIntegrity(); !st.ok()) {
      failures_.push_back("final integrity check: " + st.message());
    }
    if (!failures_.empty()) dir_.Keep();
  }

  void PrintSummary(double seconds) const {
    std::set<std::string> submissions;
    for (const auto& h : ledger_.hand_ins) submissions.insert(h.submission_id);
    std::printf(
        "durability: %d rounds in %.1f s; verified %zu acknowledged uploads and %zu acknowledged hand-ins "
        "(%zu submissions, %zu version checks, %zu file reads, %zu blobs hashed)\n"
        "durability: kills landed with uploads in flight in %d rounds (%d uploads) and hand-ins in flight in %d "
        "rounds (%d hand-ins); %d partial uploads and %d uncatalogued blobs in crash images; %zu hand-ins "
        "committed without their 201 arriving; %d slow uploads, %d repeated-bytes uploads\n",
        stats_.rounds, seconds, ledger_.files.size(), ledger_.hand_ins.size(), submissions.size(),
        stats_.hand_in_checks, stats_.file_reads, stats_.blobs_hashed, stats_.kills_mid_upload,
        stats_.uploads_in_flight, stats_.kills_mid_hand_in, stats_.hand_ins_in_flight,
        stats_.partial_uploads_after_kill, stats_.uncatalogued_blobs, ledger_.committed_unacked.size(),
        stats_.paced_uploads, stats_.duplicate_uploads);
    if (!failures_.empty())
      std::printf("durability: data folder kept at %s (server log: server.log)\n", dir_.path().c_str());
    std::fflush(stdout);
  }

  const std::vector<std::string>& failures() const { return failures_; }
  const Ledger& ledger() const { return ledger_; }

 private:
  void Fail(int round, const std::string& what) { failures_.push_back("round " + std::to_string(round) + ": " + what); }

  std::string PublishHomework(int round) {
    std::string title = "Tour " + std::to_string(round);
    json hw = {{"class_id", school_.class_id},
               {"subject", "Mathématiques"},
               {"title", title},
               {"due_at", "2099-06-30"},
               {"published", true}};
    auto res = server_->NewClient()->Post("/api/v1/homework", Bearer(tokens_.teacher), hw.dump(), "application/json");
    REQUIRE_MESSAGE(res, "homework: " << httplib::to_string(res.error()));
    REQUIRE_MESSAGE(res->status == 201, "homework: " << res->status << " " << res->body);
    std::string id = json::parse(res->body).at("id").get<std::string>();
    ledger_.homework[id] = title;
    return id;
  }

  // Runs one client thread per student, kills the server after a random
  // delay, joins the threads and adds what they saw acknowledged to the
  // ledger. Returns the submissions that got a new version.
  std::set<std::string> WorkUntilKilled(int round, const std::string& homework_id) {
    const std::string shared_body = "Devoir commun du tour " + std::to_string(round) + "\n" +
                                    RandomWords(rng_, std::uniform_int_distribution<size_t>(4 << 10, 64 << 10)(rng_));
    std::atomic<bool> kill_sent{false}, stop{false};
    std::vector<std::atomic<int>> phases(kStudents);
    std::vector<ClientLog> logs(kStudents);
    std::vector<std::thread> threads;
    for (size_t s = 0; s < kStudents; ++s) {
      ClientJob job{.server = server_.get(),
                    .token = tokens_.students[s],
                    .login = school_.students[s].login,
                    .homework_id = homework_id,
                    .shared_body = &shared_body,
                    .student = s,
                    .round = round,
                    .seed = rng_(),
                    .kill_sent = &kill_sent,
                    .stop = &stop,
                    .phase = &phases[s],
                    .log = &logs[s]};
      threads.emplace_back(RunClient, job);
    }
    std::uniform_real_distribution<double> log_delay(std::log(kMinKillDelayMs), std::log(kMaxKillDelayMs));
    // The random delay before the kill is the stimulus.
    std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(std::exp(log_delay(rng_)) * 1000)));
    kill_sent = true;
    int uploading = 0, handing_in = 0;
    for (auto& p : phases) {
      int phase = p.load();
      uploading += phase == kUploading;
      handing_in += phase == kHandingIn;
    }
    Status killed = server_->Kill();
    stop = true;
    for (auto& t : threads) t.join();
    if (!killed.ok()) Fail(round, killed.message());
    stats_.uploads_in_flight += uploading;
    stats_.hand_ins_in_flight += handing_in;
    stats_.kills_mid_upload += uploading > 0;
    stats_.kills_mid_hand_in += handing_in > 0;

    std::set<std::string> new_submissions;
    for (ClientLog& log : logs) {
      for (auto& f : log.files) ledger_.files.push_back(std::move(f));
      for (auto& h : log.hand_ins) {
        ledger_.acked_texts.insert(h.text);
        new_submissions.insert(h.submission_id);
        ledger_.hand_ins.push_back(std::move(h));
      }
      ledger_.sent_texts.insert(log.sent_texts.begin(), log.sent_texts.end());
      for (const auto& f : log.failures) Fail(round, f);
      stats_.paced_uploads += log.paced_uploads;
      stats_.duplicate_uploads += log.duplicate_uploads;
    }
    return new_submissions;
  }

  std::mt19937_64 rng_;
  TempDir dir_;
  const fs::path data_;
  const SeededSchool school_;
  std::unique_ptr<ServerProcess> server_;
  Tokens tokens_;
  Ledger ledger_;
  Stats stats_;
  std::vector<std::string> failures_;
};

// --- Tests ---------------------------------------------------------------------------

TEST_CASE("every upload and hand-in acknowledged with 201 survives kill -9 of the server at a random moment") {
  const Settings settings = ReadSettings();
  std::printf("durability: seed %llu, %d rounds (RELAIS_DURABILITY_SEED / RELAIS_DURABILITY_ROUNDS)\n",
              static_cast<unsigned long long>(settings.seed), settings.rounds);
  std::fflush(stdout);
  INFO("replay with RELAIS_DURABILITY_SEED=" << settings.seed);
  const auto started = SteadyClock::now();
  KillRounds run(settings);
  run.Start();
  for (int round = 1; round <= settings.rounds && run.Round(round); ++round) {
  }
  run.Finish();
  run.PrintSummary(std::chrono::duration<double>(SteadyClock::now() - started).count());
  CHECK_MESSAGE(run.failures().empty(), run.failures().size() << " durability failure(s):" << Describe(run.failures()));
  CHECK(!run.ledger().hand_ins.empty());
}

TEST_CASE("an upload cut by kill -9 leaves no partial file and no file record after a restart") {
  TempDir dir;
  const fs::path data = dir.path() / "data";
  const SeededSchool school = SeedSchool(data);
  auto server = StartServer(dir);
  std::string token = LogIn(*server, school.students[0]);

  // Send half of a 256 KB text, then hold the connection open until the kill.
  std::string body = "Devoir coupé\n" + std::string(256 << 10, 'a');
  std::atomic<bool> half_sent{false}, killed{false};
  std::thread uploader([&] {
    auto client = server->NewClient();
    httplib::Headers headers = Bearer(token);
    headers.emplace("X-Filename", "coupe.txt");
    (void)client->Post(
        "/api/v1/files", headers, body.size(),
        [&](size_t offset, size_t length, httplib::DataSink& sink) {
          if (offset >= body.size() / 2) {
            half_sent = true;
            testing::WaitUntil([&] { return killed.load(); }, std::chrono::seconds(5));
            return false;
          }
          return sink.write(body.data() + offset, std::min(length, kPacedChunk));
        },
        "text/plain");
  });
  // Wait until the server has streamed part of the body to tmp/.
  std::vector<std::string> parts, others;
  bool writing = testing::WaitUntil([&] {
    parts.clear();
    others.clear();
    if (half_sent) ListTmp(data / "tmp", &parts, &others);
    std::error_code ec;
    return parts.size() == 1 && fs::file_size(data / "tmp" / parts.front(), ec) > 0 && !ec;
  });
  Status st = server->Kill();
  killed = true;
  uploader.join();
  REQUIRE_MESSAGE(writing, "the server should be writing the upload to tmp/ when it is killed");
  REQUIRE_MESSAGE(st.ok(), st.message());

  server = StartServer(dir);
  parts.clear();
  ListTmp(data / "tmp", &parts, &others);
  CHECK(parts.empty());
  CHECK(others.empty());
  REQUIRE(server->Stop().ok());
  core::SystemClock clock;
  auto reopened = content::School::Open(data, clock);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->CheckIntegrity().ok());
  auto db = (*reopened)->db().Reader();
  auto q = db->Prepare("SELECT count(*) FROM files");
  REQUIRE(q.ok());
  REQUIRE(q->Step().value());
  CHECK(q->Int(0) == 0);
  std::error_code ec;
  size_t blobs = 0;
  for (fs::recursive_directory_iterator it(data / "blobs", ec), end; !ec && it != end; it.increment(ec))
    blobs += it->is_regular_file();
  CHECK(blobs == 0);
}

}  // namespace
}  // namespace relais::box

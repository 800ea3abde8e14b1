// The gateway's HTTP API on loopback: enrolment, signed box requests,
// resumable uploads (cut on purpose), chunks, the ENT's change feed, and two
// stateless gateways sharing one PostgreSQL store.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <thread>

#include "core/crypto.h"
#include "http/event_server.h"
#include "hub/api.h"
#include "hub/auth.h"
#include "hub/ent_publish.h"
#include "hub/hub.h"
#include "sync/chunks.h"
#include "sync/enrolment.h"
#include "sync/envelope.h"
#include "sync/op_codec.h"
#include "tests/hub/box_bundles.h"
#include "tests/support/head_checks.h"
#include "tests/support/pg_fixture.h"
#include "tests/support/raw_http.h"

namespace fs = std::filesystem;
using namespace relais;
using namespace relais::sync;
using namespace relais::hub;
using namespace relais::testing;
using nlohmann::json;

namespace {

constexpr const char* kEntKey = "ent-api-key-0123456789";

struct Dir {
  fs::path path = fs::temp_directory_path() / ("relais-hubapi-" + core::RandomToken(8));
  Dir() { fs::create_directories(path); }
  ~Dir() { fs::remove_all(path); }
};

// One gateway process: a store, the shared identity file, the real HubApi on
// an EventServer at 127.0.0.1 and a kernel-chosen port.
class Gateway {
 public:
  Gateway(const fs::path& data_dir, const std::string& postgres, core::FakeClock& clock) : clock_(clock) {
    REQUIRE(core::InitCrypto().ok());
    config_.data_dir = data_dir;
    config_.hub_postgres = postgres;
    config_.hub_key_file = data_dir / "hub-identity.key";
    if (!postgres.empty() && !fs::exists(config_.hub_key_file))
      REQUIRE(Identity::Generate()->Save(config_.hub_key_file).ok());
    auto store = OpenHubStore(config_);
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    store_ = std::move(store).value();
    auto identity = LoadHubIdentity(config_);
    REQUIRE_MESSAGE(identity.ok(), identity.status().ToString());
    identity_ = std::move(identity).value();
    hub_ = std::make_unique<Hub>(*store_, clock_, config_, *identity_);
    api_ = std::make_unique<hub::HubApi>(*hub_, config_, clock_, kEntKey);
    http_ = std::make_unique<http::EventServer>(
        [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) {
          api_->Dispatch(req, res, reader);
        },
        http::EventServer::Options{});
    auto port = http_->Bind("127.0.0.1", 0);
    REQUIRE(port.ok());
    port_ = *port;
    thread_ = std::thread([this] { http_->Run(); });
  }
  ~Gateway() {
    http_->Stop();
    thread_.join();
  }
  Hub& hub() { return *hub_; }
  HubStore& store() { return *store_; }
  // Read by the API at each request: change it before sending any.
  hub::Config& config() { return config_; }
  int port() const { return port_; }
  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(20, 0);
    return c;
  }

 private:
  core::FakeClock& clock_;
  hub::Config config_;
  std::unique_ptr<HubStore> store_;
  std::unique_ptr<Identity> identity_;
  std::unique_ptr<Hub> hub_;
  std::unique_ptr<hub::HubApi> api_;
  std::unique_ptr<http::EventServer> http_;
  std::thread thread_;
  int port_ = 0;
};

// A box that enrolled with a code and signs its requests.
struct Box {
  std::unique_ptr<Identity> identity = Identity::Generate();
  std::string origin = core::NewUuid();  // its change journal's origin
  Enrolment enrolment;
  std::string id() const { return KeyIdHex(identity->sign_key_id()); }
};

httplib::Headers Signed(const Box& box, const std::string& method, const std::string& target, int64_t time,
                        const std::string& offset = "") {
  httplib::Headers h;
  for (const auto& [k, v] : SignRequest(*box.identity, method, target, time, offset)) h.emplace(k, v);
  if (!offset.empty()) h.emplace("Upload-Offset", offset);
  return h;
}

Box Enrol(Gateway& gw, const std::string& school, int64_t now) {
  auto code = gw.hub().IssueEnrolmentCode(school);
  REQUIRE(code.ok());
  Box box;
  auto request = MakeEnrolmentRequest(*box.identity, code->code, now);
  REQUIRE(request.ok());
  auto res = gw.Client().Post("/hub/v1/enrol", *request, "application/octet-stream");
  REQUIRE(res);
  REQUIRE_MESSAGE(res->status == 200, res->body);
  auto enrolment = AcceptEnrolment(*box.identity, code->code, res->body);
  REQUIRE_MESSAGE(enrolment.ok(), enrolment.status().ToString());
  box.enrolment = *enrolment;
  return box;
}

// A bundle signed by `signer` to the gateway, scoped to `school`, holding
// what `add` writes.
std::string SignedBundle(const Box& signer, const std::string& school, int64_t now,
                         const std::function<void(BundleWriter&)>& add) {
  return testing::SignedBundle(*signer.identity, signer.enrolment, school, now, add);
}

// A bundle from `box` to the gateway holding `n` journal operations (~2 KB each).
std::string BundleFor(const Box& box, const std::string& school, int n, int64_t now) {
  return SignedBundle(box, school, now, [&](BundleWriter& w) { AddSubmissions(w, box.origin, n, now); });
}

std::string CreateUpload(Gateway& gw, const Box& box, size_t length, int64_t now) {
  auto res = gw.Client().Post("/hub/v1/uploads", Signed(box, "POST", "/hub/v1/uploads", now),
                              json{{"length", length}}.dump(), "application/json");
  REQUIRE(res);
  REQUIRE_MESSAGE(res->status == 201, res->body);
  return json::parse(res->body)["id"].get<std::string>();
}

int64_t HeadOffset(Gateway& gw, const Box& box, const std::string& id, int64_t now) {
  std::string target = "/hub/v1/uploads/" + id;
  auto res = gw.Client().Head(target, Signed(box, "HEAD", target, now));
  REQUIRE(res);
  REQUIRE(res->status == 200);
  return std::stoll(res->get_header_value("Upload-Offset"));
}

// Sends `head` (the request line and headers, Content-Length announcing all
// of `bytes`) and the first `send` bytes, then ends the connection: a link
// that drops mid-transfer. Returns once the server has closed its side
// (it has done all it will with what arrived).
void SendCut(int port, const std::string& head, const std::string& bytes, size_t send) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string out = head + bytes.substr(0, send);
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = write(fd, out.data() + done, out.size() - done);
    REQUIRE(n > 0);
    done += static_cast<size_t>(n);
  }
  REQUIRE(shutdown(fd, SHUT_WR) == 0);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
  }
  int err = errno;
  close(fd);
  REQUIRE_MESSAGE((n == 0 || err == ECONNRESET), "the server did not close a connection cut mid-body within 10 s");
}

// A PATCH of an upload, cut after `send` of `bytes`.
void CutPatch(int port, const Box& box, const std::string& id, const std::string& bytes, size_t send, int64_t now) {
  std::string target = "/hub/v1/uploads/" + id;
  std::string head =
      "PATCH " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/offset+octet-stream\r\n";
  for (const auto& [k, v] : Signed(box, "PATCH", target, now, "0")) head += k + ": " + v + "\r\n";
  head += "Content-Length: " + std::to_string(bytes.size()) + "\r\n\r\n";
  SendCut(port, head, bytes, send);
}

// A PDF of about `size` bytes, random after its header.
std::string PdfBytes(size_t size) { return "%PDF-1.7\n" + core::RandomBytes(size); }

httplib::Headers EntBearer() { return {{"Authorization", std::string("Bearer ") + kEntKey}}; }

// POSTs `bytes` as a file the ENT uploads into `school`; `query` follows "?".
httplib::Result EntUpload(Gateway& gw, const std::string& school, const std::string& query, const std::string& bytes,
                          const std::string& type = "application/pdf") {
  return gw.Client().Post("/hub/v1/ent/schools/" + school + "/files?" + query, EntBearer(), bytes, type);
}

// Publishes a teacher account, so that files can belong to it.
void PublishTeacher(Gateway& gw, const std::string& school, const std::string& login) {
  auto published = gw.hub().Publish(
      school, json{{"users", json::array({{{"login", login}, {"role", "teacher"}, {"display_name", login}}})}});
  REQUIRE_MESSAGE(published.ok(), published.status().ToString());
}

}  // namespace

TEST_CASE("a box enrols once with a one-time code, then only its signed, timely requests get in") {
  Dir dir;
  core::FakeClock clock(1790000000);
  Gateway gw(dir.path, "", clock);
  auto school = gw.store().AddSchool("Collège Jean Moulin", clock.Now());
  REQUIRE(school.ok());
  auto code = gw.hub().IssueEnrolmentCode(school->id);
  REQUIRE(code.ok());

  Box box;
  auto request = MakeEnrolmentRequest(*box.identity, code->code, clock.Now());
  REQUIRE(request.ok());
  auto first = gw.Client().Post("/hub/v1/enrol", *request, "application/octet-stream");
  REQUIRE(first);
  REQUIRE_MESSAGE(first->status == 200, first->body);
  auto enrolment = AcceptEnrolment(*box.identity, code->code, first->body);
  REQUIRE(enrolment.ok());
  CHECK(enrolment->certificate.scope == school->id);
  // The code is spent, even for the same box, and a made-up code never worked.
  auto again = gw.Client().Post("/hub/v1/enrol", *request, "application/octet-stream");
  REQUIRE(again);
  CHECK(again->status == 403);
  Box other;
  auto guessed = MakeEnrolmentRequest(*other.identity, "ABCD-EFGH-JKMN-PQRS", clock.Now());
  REQUIRE(guessed.ok());
  auto refused = gw.Client().Post("/hub/v1/enrol", *guessed, "application/octet-stream");
  REQUIRE(refused);
  CHECK(refused->status == 403);
  auto stored = gw.store().GetBox(KeyIdHex(box.identity->sign_key_id()));
  REQUIRE(stored.ok());
  CHECK(stored->school_id == school->id);
  box.enrolment = *enrolment;

  json vector = {{"vector", {{"some-box", 3}}}};
  auto hello = gw.Client().Post("/hub/v1/hello", Signed(box, "POST", "/hub/v1/hello", clock.Now()), vector.dump(),
                                "application/json");
  REQUIRE(hello);
  REQUIRE_MESSAGE(hello->status == 200, hello->body);
  json answer = json::parse(hello->body);
  CHECK(answer["school"] == school->id);
  CHECK(answer["time_s"] == clock.Now());
  CHECK(answer["vector"].is_object());

  // Unsigned, signed by a stranger, signed for another path, or too old: 401.
  auto unsigned_hello = gw.Client().Post("/hub/v1/hello", vector.dump(), "application/json");
  REQUIRE(unsigned_hello);
  CHECK(unsigned_hello->status == 401);
  auto stranger = gw.Client().Post("/hub/v1/hello", Signed(other, "POST", "/hub/v1/hello", clock.Now()), vector.dump(),
                                   "application/json");
  REQUIRE(stranger);
  CHECK(stranger->status == 401);
  auto moved = gw.Client().Post("/hub/v1/hello", Signed(box, "POST", "/hub/v1/uploads", clock.Now()), vector.dump(),
                                "application/json");
  REQUIRE(moved);
  CHECK(moved->status == 401);
  auto stale = gw.Client().Post("/hub/v1/hello", Signed(box, "POST", "/hub/v1/hello", clock.Now() - 3 * 86400),
                                vector.dump(), "application/json");
  REQUIRE(stale);
  CHECK(stale->status == 401);
  CHECK(stale->get_header_value("Relais-Gateway-Time") == std::to_string(clock.Now()));

  // Revoked: refused from now on, and the signed list says so.
  REQUIRE(gw.store().RevokeBox(box.id(), clock.Now()).ok());
  auto revoked = gw.Client().Post("/hub/v1/hello", Signed(box, "POST", "/hub/v1/hello", clock.Now()), vector.dump(),
                                  "application/json");
  REQUIRE(revoked);
  CHECK(revoked->status == 403);
  auto list_bytes = gw.Client().Get("/hub/v1/revocations");
  REQUIRE(list_bytes);
  REQUIRE(list_bytes->status == 200);
  auto list = DecodeRevocationList(list_bytes->body);
  REQUIRE(list.ok());
  TrustStore trust;
  REQUIRE(PinEnrolment(box.enrolment, &trust).ok());
  REQUIRE(trust.UpdateRevocations(*list).ok());
  CHECK(trust.IsRevoked(box.identity->sign_key_id()));
}

TEST_CASE("a bundle upload cut mid-body resumes at the offset the gateway kept, and is verified when complete") {
  Dir dir;
  core::FakeClock clock(1790000000);
  Gateway gw(dir.path, "", clock);
  auto school = gw.store().AddSchool("École du Port", clock.Now());
  REQUIRE(school.ok());
  Box box = Enrol(gw, school->id, clock.Now());
  std::string bundle = BundleFor(box, school->id, 1200, clock.Now());  // ~2.4 MB: several stored pieces
  REQUIRE(bundle.size() > 2'000'000);

  std::string id = CreateUpload(gw, box, bundle.size(), clock.Now());
  CutPatch(gw.port(), box, id, bundle, 1'500'000, clock.Now());
  int64_t kept = HeadOffset(gw, box, id, clock.Now());  // CutPatch waited for the server to close
  CHECK(kept == 1'500'000);

  std::string target = "/hub/v1/uploads/" + id;
  // A stale offset is refused with the right one.
  auto stale = gw.Client().Patch(target, Signed(box, "PATCH", target, clock.Now(), "0"), bundle.substr(0, 10),
                                 "application/offset+octet-stream");
  REQUIRE(stale);
  CHECK(stale->status == 409);
  CHECK(stale->get_header_value("Upload-Offset") == std::to_string(kept));
  // Another box cannot see or write this upload.
  Box other = Enrol(gw, school->id, clock.Now());
  auto foreign = gw.Client().Head(target, Signed(other, "HEAD", target, clock.Now()));
  REQUIRE(foreign);
  CHECK(foreign->status == 404);

  std::string offset = std::to_string(kept);
  auto rest = gw.Client().Patch(target, Signed(box, "PATCH", target, clock.Now(), offset),
                                bundle.substr(static_cast<size_t>(kept)), "application/offset+octet-stream");
  REQUIRE(rest);
  REQUIRE_MESSAGE(rest->status == 200, rest->body);
  json done = json::parse(rest->body);
  CHECK(done["complete"] == true);
  CHECK(done["records"] == 1200);
  CHECK(done["inserted"] == 1200);
  // The ENT sees the hand-ins as rows, in order.
  auto changes = gw.Client().Get("/hub/v1/ent/schools/" + school->id + "/changes?limit=2",
                                 {{"Authorization", std::string("Bearer ") + kEntKey}});
  REQUIRE(changes);
  REQUIRE(changes->status == 200);
  json first = json::parse(changes->body)["changes"][0];
  CHECK(first["table"] == "submissions");
  CHECK(first["op"] == "insert");
  CHECK(first["origin"] == box.origin);
  CHECK(first["seq"] == 1);
  CHECK(first["columns"]["body"].get<std::string>().size() == 3800);

  // A bundle with one flipped byte is refused once complete.
  std::string bad = BundleFor(box, school->id, 3, clock.Now());
  bad[bad.size() / 2] ^= 0x01;
  std::string bad_id = CreateUpload(gw, box, bad.size(), clock.Now());
  std::string bad_target = "/hub/v1/uploads/" + bad_id;
  auto refused = gw.Client().Patch(bad_target, Signed(box, "PATCH", bad_target, clock.Now(), "0"), bad,
                                   "application/offset+octet-stream");
  REQUIRE(refused);
  CHECK(refused->status == 400);
  // A bundle written by another box is not accepted from this one.
  std::string theirs = BundleFor(other, school->id, 2, clock.Now());
  std::string theirs_id = CreateUpload(gw, box, theirs.size(), clock.Now());
  std::string theirs_target = "/hub/v1/uploads/" + theirs_id;
  auto replayed = gw.Client().Patch(theirs_target, Signed(box, "PATCH", theirs_target, clock.Now(), "0"), theirs,
                                    "application/offset+octet-stream");
  REQUIRE(replayed);
  CHECK(replayed->status == 403);
}

TEST_CASE("a file's chunks go up sealed, only for an announced file, come back sealed, and the ENT reads the bytes") {
  Dir dir;
  core::FakeClock clock(1790000000);
  Gateway gw(dir.path, "", clock);
  auto school = gw.store().AddSchool("École", clock.Now());
  auto elsewhere = gw.store().AddSchool("Autre école", clock.Now());
  REQUIRE(school.ok());
  REQUIRE(elsewhere.ok());
  Box box = Enrol(gw, school->id, clock.Now());
  Box stranger = Enrol(gw, elsewhere->id, clock.Now());
  std::string bytes = core::RandomBytes(3 << 20);
  fs::path file = dir.path / "photo.jpg";
  REQUIRE(core::WriteFileAtomic(file, bytes).ok());
  ChunkParams small{64 << 10, 128 << 10, 256 << 10};
  auto m = BuildManifest(file, small);
  REQUIRE(m.ok());
  REQUIRE(m->chunks.size() > 4);
  std::string blob = core::ToHex(m->blob_id);
  auto reader = core::FileReader::Open(file);
  REQUIRE(reader.ok());
  auto target = [&](uint32_t index) {
    return "/hub/v1/chunks/" + ChunkHashHex(m->chunks[index].hash) + "?blob=" + blob +
           "&index=" + std::to_string(index);
  };
  auto put = [&](const Box& who, uint32_t index, const std::string& body) {
    std::string t = target(index);
    auto res = gw.Client().Put(t, Signed(who, "PUT", t, clock.Now()), body, "application/octet-stream");
    REQUIRE(res);
    return res->status;
  };
  auto sealed = [&](uint32_t index) {
    auto s = ReadAndSealChunk(*m, index, **reader);
    REQUIRE(s.ok());
    return *s;
  };
  std::string ent_path = "/hub/v1/ent/schools/" + school->id + "/files/" + blob;
  httplib::Headers bearer = {{"Authorization", std::string("Bearer ") + kEntKey}};

  // Nobody announced the file: its chunks are refused (a box cannot fill the disk with strays).
  CHECK(put(box, 0, sealed(0)) == 404);
  REQUIRE(gw.store().PutManifest(school->id, blob, EncodeManifest(*m), clock.Now()).value());
  // Plaintext, a chunk sealed for another place, a chunk of another school's box: refused.
  CHECK(put(box, 0, bytes.substr(0, m->chunks[0].size)) == 409);
  CHECK(put(box, 1, sealed(0)) == 409);
  CHECK(put(stranger, 0, sealed(0)) == 404);
  CHECK(put(box, 0, sealed(0).substr(0, 100)) == 409);
  {
    std::string t = "/hub/v1/chunks/" + ChunkHashHex(m->chunks[0].hash);
    auto res = gw.Client().Put(t, Signed(box, "PUT", t, clock.Now()), sealed(0), "application/octet-stream");
    REQUIRE(res);
    CHECK(res->status == 400);  // which file and place must be named
  }
  // Until every chunk is there, the ENT is told the bytes are not there yet.
  CHECK(put(box, 0, sealed(0)) == 201);
  auto early = gw.Client().Get(ent_path, bearer);
  REQUIRE(early);
  CHECK(early->status == 404);
  std::vector<std::string> ids;
  for (const ChunkRef& c : m->chunks) ids.push_back(ChunkHashHex(c.hash));
  json ask = {{"ids", ids}};
  auto missing = gw.Client().Post("/hub/v1/chunks/missing", Signed(box, "POST", "/hub/v1/chunks/missing", clock.Now()),
                                  ask.dump(), "application/json");
  REQUIRE(missing);
  REQUIRE(missing->status == 200);
  CHECK(json::parse(missing->body)["missing"].size() == ids.size() - 1);
  for (uint32_t i = 1; i < m->chunks.size(); ++i) CHECK(put(box, i, sealed(i)) == 201);
  missing = gw.Client().Post("/hub/v1/chunks/missing", Signed(box, "POST", "/hub/v1/chunks/missing", clock.Now()),
                             ask.dump(), "application/json");
  REQUIRE(missing);
  CHECK(json::parse(missing->body)["missing"].empty());

  // A chunk comes back sealed under the school's manifest; another school's box gets nothing.
  uint32_t last = static_cast<uint32_t>(m->chunks.size() - 1);
  auto got = gw.Client().Get(target(last), Signed(box, "GET", target(last), clock.Now()));
  REQUIRE(got);
  REQUIRE(got->status == 200);
  auto opened = OpenChunk(*m, last, got->body);
  REQUIRE(opened.ok());
  CHECK(*opened == bytes.substr(m->chunks[last].offset));
  auto theirs = gw.Client().Get(target(last), Signed(stranger, "GET", target(last), clock.Now()));
  REQUIRE(theirs);
  CHECK(theirs->status == 404);

  // The ENT reads the whole file, streamed from the chunks.
  auto whole = gw.Client().Get(ent_path, bearer);
  REQUIRE(whole);
  REQUIRE_MESSAGE(whole->status == 200, whole->body);
  CHECK(whole->get_header_value("Content-Length") == std::to_string(bytes.size()));
  CHECK(whole->body == bytes);
  auto other = gw.Client().Get("/hub/v1/ent/schools/" + elsewhere->id + "/files/" + blob, bearer);
  REQUIRE(other);
  CHECK(other->status == 404);
  auto no_key = gw.Client().Get(ent_path);
  REQUIRE(no_key);
  CHECK(no_key->status == 401);
}

TEST_CASE(
    "the ENT uploads a file in one streamed request: chunks, the school's manifest, one files row; again adds "
    "nothing") {
  Dir dir;
  core::FakeClock clock(1790000000);
  Gateway gw(dir.path, "", clock);
  auto school = gw.store().AddSchool("École", clock.Now());
  REQUIRE(school.ok());
  PublishTeacher(gw, school->id, "prof.durand");
  Box box = Enrol(gw, school->id, clock.Now());
  std::string bytes = PdfBytes(5 << 20);  // several chunks of the box's chunker
  std::string sha = core::ToHex(core::Sha256(bytes));
  auto before = gw.store().FeedHead(school->id);
  REQUIRE(before.ok());

  auto res = EntUpload(gw, school->id, "name=Fractions%20(corrig%C3%A9).pdf&owner=Prof.Durand", bytes);
  REQUIRE(res);
  REQUIRE_MESSAGE(res->status == 201, res->body);
  json file = json::parse(res->body);
  std::string id = file["id"];
  CHECK(id == EntFileId(sha, "Fractions (corrigé).pdf", core::DerivedUuid("user", {"prof.durand"})));
  CHECK(file["sha256"] == sha);
  CHECK(file["size"] == bytes.size());
  CHECK(file["name"] == "Fractions (corrigé).pdf");
  CHECK(file["content_type"] == "application/pdf");
  CHECK(file["owner"] == "prof.durand");
  CHECK(file["cursor"] == *before + 1);

  // One change: the files row, of the gateway's origin, its bytes available.
  auto feed =
      gw.Client().Get("/hub/v1/ent/schools/" + school->id + "/changes?after=" + std::to_string(*before), EntBearer());
  REQUIRE(feed);
  json changes = json::parse(feed->body)["changes"];
  REQUIRE(changes.size() == 1);
  CHECK(changes[0]["origin"] == gw.hub().origin());
  CHECK(changes[0]["table"] == "files");
  CHECK(changes[0]["op"] == "insert");
  CHECK(changes[0]["key"][0] == id);
  CHECK(changes[0]["columns"]["owner_id"] == core::DerivedUuid("user", {"prof.durand"}));
  CHECK(changes[0]["file"]["bytes_available"] == true);
  // The ENT reads it back; a box of the school fetches its chunks sealed under the school's manifest.
  auto back = gw.Client().Get("/hub/v1/ent/schools/" + school->id + "/files/" + sha, EntBearer());
  REQUIRE(back);
  CHECK(back->body == bytes);
  auto m = SchoolManifest(gw.store(), school->id, sha);
  REQUIRE(m.ok());
  REQUIRE(m->chunks.size() >= 3);
  std::string assembled;
  for (uint32_t i = 0; i < m->chunks.size(); ++i) {
    std::string t =
        "/hub/v1/chunks/" + ChunkHashHex(m->chunks[i].hash) + "?blob=" + sha + "&index=" + std::to_string(i);
    auto got = gw.Client().Get(t, Signed(box, "GET", t, clock.Now()));
    REQUIRE(got);
    REQUIRE(got->status == 200);
    auto plain = OpenChunk(*m, i, got->body);
    REQUIRE(plain.ok());
    assembled += *plain;
  }
  CHECK(assembled == bytes);

  // The same upload again: the same id, nothing new in the feed, the manifest kept.
  clock.Advance(60);
  auto again = EntUpload(gw, school->id, "name=Fractions%20(corrig%C3%A9).pdf&owner=prof.durand", bytes);
  REQUIRE(again);
  REQUIRE_MESSAGE(again->status == 200, again->body);
  CHECK(json::parse(again->body)["id"] == id);
  CHECK(json::parse(again->body)["created"] == false);
  CHECK(gw.store().FeedHead(school->id).value() == *before + 1);
  CHECK(gw.store().GetManifest(school->id, sha).value() == EncodeManifest(*m));

  // Publications take it as an attachment and as a course's file resource.
  auto published = gw.hub().Publish(school->id, json::parse(R"({
    "classes": [{"name": "5e B"}],
    "homework": [{"id": "hw-1", "class": "5e B", "subject": "Maths", "title": "Fractions",
                  "due_at": "2026-12-01T08:00:00Z", "attachments": [{"file_id": ")" +
                                                            id + R"("}]}],
    "courses": [{"id": "c-1", "class": "5e B", "title": "Maths", "sections": [{"id": "s-1", "title": "Fractions",
                 "resources": [{"id": "r-1", "kind": "file", "title": "Corrigé", "file_id": ")" +
                                                            id + R"("}]}]}]
  })"));
  REQUIRE_MESSAGE(published.ok(), published.status().ToString());
  CHECK(published->operations > 0);
}

TEST_CASE("an ENT upload of bytes a box already announced keeps the school's manifest and fills its chunks") {
  Dir dir;
  core::FakeClock clock(1790000000);
  Gateway gw(dir.path, "", clock);
  auto school = gw.store().AddSchool("École", clock.Now());
  REQUIRE(school.ok());
  PublishTeacher(gw, school->id, "prof.durand");
  std::string bytes = PdfBytes(3 << 20);
  fs::path path = dir.path / "cours.pdf";
  REQUIRE(core::WriteFileAtomic(path, bytes).ok());
  auto boxs = BuildManifest(path, ChunkParams{});
  REQUIRE(boxs.ok());
  std::string sha = core::ToHex(boxs->blob_id);
  REQUIRE(gw.store().PutManifest(school->id, sha, EncodeManifest(*boxs), clock.Now()).value());
  CHECK_FALSE(MissingChunksOfFile(gw.store(), school->id, sha)->empty());
  auto res = EntUpload(gw, school->id, "name=cours.pdf&owner=prof.durand", bytes);
  REQUIRE(res);
  REQUIRE_MESSAGE(res->status == 201, res->body);
  CHECK(gw.store().GetManifest(school->id, sha).value() == EncodeManifest(*boxs));
  CHECK(MissingChunksOfFile(gw.store(), school->id, sha)->empty());
}

TEST_CASE("bad ENT uploads get their 4xx naming the problem, and the school's feed and manifests stay as they were") {
  Dir dir;
  core::FakeClock clock(1790000000);
  Gateway gw(dir.path, "", clock);
  gw.config().max_upload_bytes = 1 << 20;
  auto school = gw.store().AddSchool("École", clock.Now());
  REQUIRE(school.ok());
  PublishTeacher(gw, school->id, "prof.durand");
  {
    // The positive control: a good upload on the same route shows at once in
    // the feed and the manifests, so the checks below would see one that got in.
    const std::string good = PdfBytes(200 << 10);
    const int64_t before = gw.store().FeedHead(school->id).value();
    auto res = EntUpload(gw, school->id, "name=control.pdf&owner=prof.durand", good);
    REQUIRE(res);
    REQUIRE_MESSAGE(res->status == 201, res->body);
    CHECK(gw.store().FeedHead(school->id).value() == before + 1);
    CHECK(gw.store().GetManifest(school->id, core::ToHex(core::Sha256(good))).ok());
  }
  const int64_t head = gw.store().FeedHead(school->id).value();
  const std::string pdf = PdfBytes(300 << 10);
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + core::RandomBytes(2000);
  auto nothing_visible = [&](const std::string& bytes) {
    CHECK(gw.store().FeedHead(school->id).value() == head);
    auto manifest = gw.store().GetManifest(school->id, core::ToHex(core::Sha256(bytes)));
    CHECK(manifest.status().code() == StatusCode::kNotFound);
  };
  struct Case {
    const char* what;
    std::string school, query, type, body;
    int status;
    const char* says;
  };
  const std::string ok_query = "name=a.pdf&owner=prof.durand";
  const std::vector<Case> cases = {
      {"an unknown school", core::NewUuid(), ok_query, "application/pdf", pdf, 404, "school"},
      {"no name", school->id, "owner=prof.durand", "application/pdf", pdf, 400, "name: is required"},
      {"a path", school->id, "name=..%2Fa.pdf&owner=prof.durand", "application/pdf", pdf, 400, "path separator"},
      {"a Windows path", school->id, "name=C%3A%5Ca.pdf&owner=prof.durand", "application/pdf", pdf, 400,
       "path separator"},
      {"a name too long", school->id, "name=" + std::string(201, 'a') + ".pdf&owner=prof.durand", "application/pdf",
       pdf, 400, "longer than 200"},
      {"a control character", school->id, "name=a%0D.pdf&owner=prof.durand", "application/pdf", pdf, 400,
       "control characters"},
      {"a hidden name", school->id, "name=.a.pdf&owner=prof.durand", "application/pdf", pdf, 400, "\"a.pdf\""},
      {"no owner", school->id, "name=a.pdf", "application/pdf", pdf, 400, "owner: is required"},
      {"an unknown owner", school->id, "name=a.pdf&owner=prof.nobody", "application/pdf", pdf, 400,
       "no account prof.nobody"},
      {"an empty body", school->id, ok_query, "application/pdf", "", 400, "empty"},
      {"bytes that are not the declared type", school->id, ok_query, "application/pdf", png, 415,
       "not application/pdf"},
      {"a type the box refuses", school->id, "name=setup.exe&owner=prof.durand", "application/x-msdownload",
       "MZ" + core::RandomBytes(5000), 415, ""},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    auto res = EntUpload(gw, c.school, c.query, c.body, c.type);
    REQUIRE(res);
    CHECK(res->status == c.status);
    CHECK(json::parse(res->body)["error"]["message"].get<std::string>().find(c.says) != std::string::npos);
    nothing_visible(c.body);
  }
  {
    INFO("over the limit, announced: refused before the body");
    std::string reply = testing::RawExchange(
        gw.port(), "POST /hub/v1/ent/schools/" + school->id + "/files?" + ok_query +
                       " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kEntKey +
                       "\r\nContent-Type: application/pdf\r\nContent-Length: " + std::to_string(50 << 20) + "\r\n\r\n");
    CHECK(reply.rfind("HTTP/1.1 413", 0) == 0);
  }
  {
    INFO("over the limit, found while streaming a chunked body");
    std::string big = PdfBytes((1 << 20) + 1000);
    std::string reply =
        testing::RawExchange(gw.port(), "POST /hub/v1/ent/schools/" + school->id + "/files?" + ok_query +
                                            " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kEntKey +
                                            "\r\nContent-Type: application/pdf\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                            testing::Chunked(big, 64 << 10));
    CHECK(reply.rfind("HTTP/1.1 413", 0) == 0);
    nothing_visible(big);
  }
  {
    INFO("a cut upload: the connection drops after half of the body");
    std::string bytes = PdfBytes(900 << 10);
    std::string head_lines = "POST /hub/v1/ent/schools/" + school->id + "/files?" + ok_query +
                             " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kEntKey +
                             "\r\nContent-Type: application/pdf\r\nContent-Length: " + std::to_string(bytes.size()) +
                             "\r\n\r\n";
    SendCut(gw.port(), head_lines, bytes, bytes.size() / 2);  // returns once the gateway closed the connection
    nothing_visible(bytes);
    // The whole upload then goes through.
    auto whole = EntUpload(gw, school->id, ok_query, bytes);
    REQUIRE(whole);
    CHECK(whole->status == 201);
    CHECK(gw.store().FeedHead(school->id).value() == head + 1);
  }
  auto no_key = gw.Client().Post("/hub/v1/ent/schools/" + school->id + "/files?" + ok_query, pdf, "application/pdf");
  REQUIRE(no_key);
  CHECK(no_key->status == 401);
}

TEST_CASE("the ENT reads a school's changes page by page with its API key, and nothing without it") {
  Dir dir;
  core::FakeClock clock(1790000000);
  Gateway gw(dir.path, "", clock);
  auto school = gw.store().AddSchool("École", clock.Now());
  REQUIRE(school.ok());
  std::vector<HubOp> ops;
  for (int s = 1; s <= 5; ++s) ops.push_back({"box-a", s, s, std::string("rec") + std::to_string(s), 0});
  REQUIRE(gw.store().IngestOps(school->id, ops).ok());
  std::string path = "/hub/v1/ent/schools/" + school->id + "/changes";
  httplib::Headers bearer = {{"Authorization", std::string("Bearer ") + kEntKey}};
  auto page1 = gw.Client().Get(path + "?after=0&limit=3", bearer);
  REQUIRE(page1);
  REQUIRE_MESSAGE(page1->status == 200, page1->body);
  json p1 = json::parse(page1->body);
  CHECK(p1["changes"].size() == 3);
  CHECK(p1["next"] == 3);
  CHECK(p1["more"] == true);
  CHECK(p1["changes"][0]["record_hex"] == core::ToHex("rec1"));
  auto page2 = gw.Client().Get(path + "?after=3&limit=3", bearer);
  REQUIRE(page2);
  json p2 = json::parse(page2->body);
  CHECK(p2["changes"].size() == 2);
  CHECK(p2["next"] == 5);
  CHECK(p2["more"] == false);
  auto bad_cursor = gw.Client().Get(path + "?after=-1", bearer);
  REQUIRE(bad_cursor);
  CHECK(bad_cursor->status == 400);
  for (const httplib::Headers& h : {httplib::Headers{}, httplib::Headers{{"Authorization", "Bearer wrong"}},
                                    httplib::Headers{{"Authorization", kEntKey}}}) {
    auto denied = gw.Client().Get(path, h);
    REQUIRE(denied);
    CHECK(denied->status == 401);
  }
}

TEST_CASE("HEAD is a GET without its body, as on the box: same headers, 404 and 405 with Allow") {
  Dir dir;
  core::FakeClock clock(1790000000);
  Gateway gw(dir.path, "", clock);
  httplib::Client client = gw.Client();
  testing::CheckHeadIsGetWithoutBody(client, "/hub/v1/health", "/hub/v1/enrol", "POST");
  // The upload path has a HEAD route of its own (the offset) beside PATCH.
  auto wrong = client.Get("/hub/v1/uploads/x");
  REQUIRE(wrong);
  CHECK(wrong->status == 405);
  CHECK(wrong->get_header_value("Allow") == "HEAD, PATCH");
}

TEST_CASE("every box route refuses an unsigned request and every ENT route a missing key, before reading a body") {
  Dir dir;
  core::FakeClock clock(1790000000);
  Gateway gw(dir.path, "", clock);
  for (const auto& route : hub::HubApi::Routes()) {
    if (route.access == hub::HubApi::Access::kPublic) continue;
    std::string path = route.pattern;
    for (size_t p; (p = path.find(":id")) != std::string::npos;) path.replace(p, 3, "x");
    httplib::Client client = gw.Client();
    httplib::Result res = std::string(route.method) == "GET"      ? client.Get(path)
                          : std::string(route.method) == "HEAD"   ? client.Head(path)
                          : std::string(route.method) == "PUT"    ? client.Put(path, "{}", "application/json")
                          : std::string(route.method) == "PATCH"  ? client.Patch(path, "{}", "application/json")
                          : std::string(route.method) == "DELETE" ? client.Delete(path)
                                                                  : client.Post(path, "{}", "application/json");
    INFO(route.method << " " << path);
    REQUIRE(res);
    CHECK(res->status == 401);
  }
}

TEST_CASE("two gateways over one PostgreSQL database: a box enrolled on one resumes its upload on the other") {
  REQUIRE(core::InitCrypto().ok());
  auto server = testing::PgServer::Shared();
  REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  auto url = (*server)->NewDatabase();
  REQUIRE(url.ok());
  Dir dir;  // holds the shared key file only: the gateways keep no other state
  core::FakeClock clock(1790000000);
  Gateway one(dir.path, *url, clock);
  Gateway two(dir.path, *url, clock);
  auto school = one.store().AddSchool("Lycée", clock.Now());
  REQUIRE(school.ok());
  Box box = Enrol(one, school->id, clock.Now());
  std::string bundle = BundleFor(box, school->id, 600, clock.Now());
  std::string id = CreateUpload(one, box, bundle.size(), clock.Now());
  CutPatch(one.port(), box, id, bundle, 700'000, clock.Now());
  int64_t kept = HeadOffset(two, box, id, clock.Now());  // CutPatch waited for gateway one to close
  CHECK(kept == 700'000);
  std::string target = "/hub/v1/uploads/" + id;
  std::string offset = std::to_string(kept);
  auto rest = two.Client().Patch(target, Signed(box, "PATCH", target, clock.Now(), offset),
                                 bundle.substr(static_cast<size_t>(kept)), "application/offset+octet-stream");
  REQUIRE(rest);
  REQUIRE_MESSAGE(rest->status == 200, rest->body);
  CHECK(json::parse(rest->body)["records"] == 600);
}

TEST_CASE("a verified bundle's operations land in the school's feed once, however often it is uploaded") {
  Dir dir;
  core::FakeClock clock(1790000000);
  Gateway gw(dir.path, "", clock);
  // Stands for the op-log record format of sync's capture side: "origin seq payload".
  gw.hub().SetOpDecoder([](const Record& r) -> Result<std::optional<HubOp>> {
    if (r.kind != 7) return std::optional<HubOp>();
    size_t a = r.bytes.find(' '), b = r.bytes.find(' ', a + 1);
    if (a == std::string::npos || b == std::string::npos) return Status::Corruption("bad test record");
    return std::optional<HubOp>(
        HubOp{r.bytes.substr(0, a), std::stoll(r.bytes.substr(a + 1, b - a - 1)), 1, r.bytes.substr(b + 1), 0});
  });
  auto school = gw.store().AddSchool("École", clock.Now());
  REQUIRE(school.ok());
  Box box = Enrol(gw, school->id, clock.Now());
  const std::string bundle = SignedBundle(box, school->id, clock.Now(), [&](BundleWriter& w) {
    for (int s = 1; s <= 4; ++s) REQUIRE(w.Add(7, box.id() + " " + std::to_string(s) + " hand-in").ok());
    REQUIRE(w.Add(3, "not an operation").ok());
  });

  for (int round = 0; round < 2; ++round) {
    std::string id = CreateUpload(gw, box, bundle.size(), clock.Now());
    std::string target = "/hub/v1/uploads/" + id;
    auto res = gw.Client().Patch(target, Signed(box, "PATCH", target, clock.Now(), "0"), bundle,
                                 "application/offset+octet-stream");
    REQUIRE(res);
    REQUIRE_MESSAGE(res->status == 200, res->body);
    json out = json::parse(res->body);
    CHECK(out["records"] == 5);
    CHECK(out["inserted"] == (round == 0 ? 4 : 0));
    CHECK(out["duplicates"] == (round == 0 ? 0 : 4));
  }
  auto head = gw.store().FeedHead(school->id);
  REQUIRE(head.ok());
  CHECK(*head == 4);
  auto vector = gw.store().SchoolVector(school->id);
  REQUIRE(vector.ok());
  CHECK(vector->at(box.id()) == 4);
}

namespace {

// A bundle signed by `signer` holding operations seq first..first+n-1 of
// `origin`, dated `ms` (Unix milliseconds).
std::string OpsBundle(const Box& signer, const std::string& school, const std::string& origin, int64_t first, int n,
                      uint64_t ms, int64_t now) {
  return SignedBundle(signer, school, now, [&](BundleWriter& w) {
    for (int i = 0; i < n; ++i) {
      content::Op op;
      op.origin = origin;
      op.seq = first + i;
      op.hlc = content::HlcPack(ms, static_cast<uint64_t>(i));
      op.table = "classes";
      op.key = {core::SqlValue(core::DerivedUuid("class", {origin + std::to_string(first + i)}))};
      op.columns = {{"name", core::SqlValue("c" + std::to_string(first + i))}};
      REQUIRE(w.Add(1, EncodeOp(op)).ok());
    }
  });
}

// Uploads a bundle in one PATCH; returns the verdict.
httplib::Result Upload(Gateway& gw, const Box& box, const std::string& bundle, int64_t now) {
  std::string id = CreateUpload(gw, box, bundle.size(), now);
  std::string target = "/hub/v1/uploads/" + id;
  return gw.Client().Patch(target, Signed(box, "PATCH", target, now, "0"), bundle, "application/offset+octet-stream");
}

}  // namespace

TEST_CASE("a box may relay other origins' operations but not add new ones, nor any of the gateway's origin") {
  for (bool postgres : {false, true}) {
    INFO("postgres: " << postgres);
    Dir dir;
    std::string url;
    if (postgres) {
      auto server = testing::PgServer::Shared();
      REQUIRE_MESSAGE(server.ok(), server.status().ToString());
      auto db = (*server)->NewDatabase();
      REQUIRE(db.ok());
      url = *db;
    }
    core::FakeClock clock(1790000000);
    Gateway gw(dir.path, url, clock);
    auto school = gw.store().AddSchool("École", clock.Now());
    REQUIRE(school.ok());
    Box a = Enrol(gw, school->id, clock.Now());
    Box b = Enrol(gw, school->id, clock.Now());
    uint64_t ms = static_cast<uint64_t>(clock.Now()) * 1000;
    auto first = Upload(gw, a, OpsBundle(a, school->id, a.origin, 1, 3, ms, clock.Now()), clock.Now());
    REQUIRE(first);
    REQUIRE_MESSAGE(first->status == 200, first->body);
    // B relays A's operations (it received them in an answer): accepted, nothing new.
    auto relayed = Upload(gw, b, OpsBundle(b, school->id, a.origin, 1, 3, ms, clock.Now()), clock.Now());
    REQUIRE(relayed);
    REQUIRE_MESSAGE(relayed->status == 200, relayed->body);
    CHECK(json::parse(relayed->body)["duplicates"] == 3);
    // New operations under A's origin from B: refused, nothing stored.
    auto forged = Upload(gw, b, OpsBundle(b, school->id, a.origin, 3, 2, ms, clock.Now()), clock.Now());
    REQUIRE(forged);
    CHECK(forged->status == 403);
    CHECK(forged->body.find("belongs to another box") != std::string::npos);
    // Or under the gateway's own origin.
    auto as_gateway = Upload(gw, a, OpsBundle(a, school->id, gw.hub().origin(), 1, 1, ms, clock.Now()), clock.Now());
    REQUIRE(as_gateway);
    CHECK(as_gateway->status == 403);
    CHECK(as_gateway->body.find("gateway's own origin") != std::string::npos);
    auto head = gw.store().FeedHead(school->id);
    REQUIRE(head.ok());
    CHECK(*head == 3);
    // A carries on with its own origin.
    auto more = Upload(gw, a, OpsBundle(a, school->id, a.origin, 4, 1, ms, clock.Now()), clock.Now());
    REQUIRE(more);
    CHECK(more->status == 200);
  }
}

TEST_CASE("operations dated more than a day ahead of the gateway's clock are refused; a few hours ahead pass") {
  Dir dir;
  core::FakeClock clock(1790000000);
  Gateway gw(dir.path, "", clock);
  auto school = gw.store().AddSchool("École", clock.Now());
  REQUIRE(school.ok());
  Box box = Enrol(gw, school->id, clock.Now());
  uint64_t in_2040 = 2208988800ull * 1000;
  auto refused = Upload(gw, box, OpsBundle(box, school->id, box.origin, 1, 2, in_2040, clock.Now()), clock.Now());
  REQUIRE(refused);
  CHECK(refused->status == 400);
  CHECK(refused->body.find("ahead of the gateway's clock") != std::string::npos);
  CHECK(refused->body.find("2040-01-01") != std::string::npos);
  auto head = gw.store().FeedHead(school->id);
  REQUIRE(head.ok());
  CHECK(*head == 0);
  uint64_t soon = static_cast<uint64_t>(clock.Now() + 6 * 3600) * 1000;
  auto accepted = Upload(gw, box, OpsBundle(box, school->id, box.origin, 1, 2, soon, clock.Now()), clock.Now());
  REQUIRE(accepted);
  CHECK_MESSAGE(accepted->status == 200, accepted->body);
  // The limit is exactly one day.
  CHECK(CheckClocks({HubOp{"o", 1, static_cast<int64_t>(content::HlcPack((clock.Now() + 86400) * 1000, 5)), "", 0}},
                    clock.Now())
            .ok());
  CHECK_FALSE(
      CheckClocks({HubOp{"o", 1, static_cast<int64_t>(content::HlcPack((clock.Now() + 86401) * 1000, 0)), "", 0}},
                  clock.Now())
          .ok());
}

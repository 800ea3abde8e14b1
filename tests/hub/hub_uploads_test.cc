// The resumable-upload protocol at the Hub (hub/uploads.h), without HTTP:
// create, append in pieces, a stale offset, a cut piece and its resumption,
// the bundle ingested once from the stored parts, and stored answers. Every
// case runs on SQLite and on PostgreSQL (tests/support/pg_fixture.h).
#include <doctest/doctest.h>

#include <functional>
#include <random>

#include "core/crypto.h"
#include "hub/hub.h"
#include "hub/uploads.h"
#include "sync/enrolment.h"
#include "tests/hub/box_bundles.h"
#include "tests/support/pg_fixture.h"
#include "tests/support/temp_dir.h"

using namespace relais;
using namespace relais::hub;

namespace {

// A gateway without HTTP: a store of `engine`, an identity, a Hub, a school.
struct Gateway {
  testing::TempDir dir;
  core::FakeClock clock{1790000000};
  hub::Config config;
  std::unique_ptr<HubStore> store;
  std::unique_ptr<sync::Identity> identity = sync::Identity::Generate();
  std::unique_ptr<Hub> hub;
  std::string school;  // one school, made at start

  explicit Gateway(const std::string& engine) {
    config.max_upload_bytes = 8 << 20;
    Result<std::unique_ptr<HubStore>> opened = Status::Internal("no engine");
    if (engine == "sqlite") {
      opened = OpenSqliteHubStore(dir.path);
    } else {
      auto server = testing::PgServer::Shared();
      REQUIRE_MESSAGE(server.ok(), server.status().ToString());
      auto url = (*server)->NewDatabase();
      REQUIRE_MESSAGE(url.ok(), url.status().ToString());
      opened = OpenPostgresHubStore(*url, 4);
    }
    REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
    store = std::move(opened).value();
    hub = std::make_unique<Hub>(*store, clock, config, *identity);
    auto added = store->AddSchool("École du Port", clock.Now());
    REQUIRE(added.ok());
    school = added->id;
  }
};

// An enrolled box: its identity, what the gateway holds of it, and the
// gateway's certificate it seals bundles to.
struct Box {
  std::unique_ptr<sync::Identity> identity = sync::Identity::Generate();
  std::string origin = core::NewUuid();
  sync::Enrolment enrolment;
  HubBox record;
};

Box Enrol(Gateway& gw, const std::string& school) {
  auto code = gw.hub->IssueEnrolmentCode(school);
  REQUIRE(code.ok());
  Box box;
  auto request = sync::MakeEnrolmentRequest(*box.identity, code->code, gw.clock.Now());
  REQUIRE(request.ok());
  auto response = gw.hub->Enrol(*request);
  REQUIRE_MESSAGE(response.ok(), response.status().ToString());
  auto enrolment = sync::AcceptEnrolment(*box.identity, code->code, *response);
  REQUIRE_MESSAGE(enrolment.ok(), enrolment.status().ToString());
  box.enrolment = *enrolment;
  auto record = gw.store->GetBox(sync::KeyIdHex(box.identity->sign_key_id()));
  REQUIRE(record.ok());
  box.record = *record;
  return box;
}

// A bundle from `box` to the gateway holding `n` journal operations (~2 KB each).
std::string BundleFor(const Box& box, const std::string& school, int n, int64_t now) {
  return testing::SignedBundle(*box.identity, box.enrolment, school, now,
                               [&](sync::BundleWriter& w) { testing::AddSubmissions(w, box.origin, n, now); });
}

// A body that yields `bytes` in pieces of `piece` bytes and, when `cut`,
// then ends as a dropped connection does. Counts the pieces taken.
struct Body {
  std::string_view bytes;
  size_t piece = 64 << 10;
  bool cut = false;
  int pieces_taken = 0;

  BodySource Source() {
    return [this](const std::function<bool(std::string_view)>& take) {
      for (size_t at = 0; at < bytes.size(); at += piece) {
        ++pieces_taken;
        if (!take(bytes.substr(at, piece))) return false;
      }
      return !cut;
    };
  }
};

// The sizes of the upload's stored parts, in order.
std::vector<size_t> PartSizes(HubStore& store, const std::string& id) {
  std::vector<size_t> sizes;
  REQUIRE(store
              .ReadUpload(id, 0, kUploadEnd,
                          [&](std::string_view bytes) {
                            sizes.push_back(bytes.size());
                            return Status::Ok();
                          })
              .ok());
  return sizes;
}

template <typename F>
void ForEachEngine(F body) {
  REQUIRE(core::InitCrypto().ok());
  for (const char* engine : {"sqlite", "postgresql"}) {
    INFO("engine: " << std::string(engine));
    Gateway gw(engine);
    body(gw);
  }
}

}  // namespace

TEST_CASE("a bundle appended in pieces is ingested once, when its last byte is stored, and then the upload is gone") {
  ForEachEngine([](Gateway& gw) {
    Box box = Enrol(gw, gw.school);
    std::string bundle = BundleFor(box, gw.school, 1200, gw.clock.Now());  // ~2.4 MB: several parts
    REQUIRE(bundle.size() > 2 * kUploadPieceBytes);
    auto upload = gw.hub->uploads().Create(box.record, static_cast<int64_t>(bundle.size()));
    REQUIRE_MESSAGE(upload.ok(), upload.status().ToString());
    CHECK(upload->offset == 0);

    const size_t split[] = {0, 700'000, 2'000'000, bundle.size()};
    for (int i = 0; i < 3; ++i) {
      Body body{std::string_view(bundle).substr(split[i], split[i + 1] - split[i])};
      UploadAppend appended =
          gw.hub->uploads().Append(box.record, upload->id, static_cast<int64_t>(split[i]), body.Source());
      REQUIRE_MESSAGE(appended.status.ok(), appended.status.ToString());
      CHECK(appended.offset == static_cast<int64_t>(split[i + 1]));
      CHECK(appended.complete == (i == 2));
      if (i < 2) {
        auto found = gw.hub->uploads().Find(box.record, upload->id);
        REQUIRE(found.ok());
        CHECK(found->offset == static_cast<int64_t>(split[i + 1]));
        for (size_t size : PartSizes(*gw.store, upload->id)) CHECK(size <= kUploadPieceBytes);
      } else {
        CHECK(appended.records == 1200);
        CHECK(appended.inserted == 1200);
        CHECK(appended.duplicates == 0);
      }
    }
    auto head = gw.store->FeedHead(gw.school);
    REQUIRE(head.ok());
    CHECK(*head == 1200);

    // Verified, the upload is deleted: a second append finds nothing, and
    // nothing is ingested twice.
    Body again{std::string_view(bundle).substr(0, 10)};
    UploadAppend late =
        gw.hub->uploads().Append(box.record, upload->id, static_cast<int64_t>(bundle.size()), again.Source());
    CHECK(late.status.code() == StatusCode::kNotFound);
    CHECK_FALSE(late.offset.has_value());
    CHECK(again.pieces_taken == 0);
    CHECK(gw.hub->uploads().Find(box.record, upload->id).status().code() == StatusCode::kNotFound);
    CHECK(*gw.store->FeedHead(gw.school) == 1200);
  });
}

TEST_CASE("an append at a stale offset is refused with Conflict before any byte of its body is read") {
  ForEachEngine([](Gateway& gw) {
    Box box = Enrol(gw, gw.school);
    std::string bundle = BundleFor(box, gw.school, 10, gw.clock.Now());
    auto upload = gw.hub->uploads().Create(box.record, static_cast<int64_t>(bundle.size()));
    REQUIRE(upload.ok());
    Body first{std::string_view(bundle).substr(0, 100)};
    REQUIRE(gw.hub->uploads().Append(box.record, upload->id, 0, first.Source()).status.ok());
    CHECK(first.pieces_taken == 1);  // the same body source is read when the offset is right

    for (int64_t stale : {int64_t{0}, int64_t{50}, int64_t{101}}) {
      Body body{std::string_view(bundle).substr(static_cast<size_t>(stale))};
      UploadAppend refused = gw.hub->uploads().Append(box.record, upload->id, stale, body.Source());
      CHECK(refused.status.code() == StatusCode::kConflict);
      CHECK(refused.offset == 100);  // where to resume
      CHECK(body.pieces_taken == 0);
    }
    CHECK(PartSizes(*gw.store, upload->id) == std::vector<size_t>{100});
    CHECK(gw.hub->uploads().Find(box.record, upload->id)->offset == 100);
  });
}

TEST_CASE("a cut append keeps every byte that arrived, and the append resumed at the kept offset completes it") {
  ForEachEngine([](Gateway& gw) {
    Box box = Enrol(gw, gw.school);
    std::string bundle = BundleFor(box, gw.school, 1200, gw.clock.Now());
    auto upload = gw.hub->uploads().Create(box.record, static_cast<int64_t>(bundle.size()));
    REQUIRE(upload.ok());

    // 1.5 MB arrive, then the connection drops: one full part and the rest.
    Body cut{std::string_view(bundle).substr(0, 1'500'000), 100'000, /*cut=*/true};
    UploadAppend kept = gw.hub->uploads().Append(box.record, upload->id, 0, cut.Source());
    CHECK(kept.status.code() == StatusCode::kInvalidArgument);
    CHECK(kept.offset == 1'500'000);
    CHECK_FALSE(kept.complete);
    CHECK(PartSizes(*gw.store, upload->id) == std::vector<size_t>{kUploadPieceBytes, 1'500'000 - kUploadPieceBytes});
    CHECK(gw.hub->uploads().Find(box.record, upload->id)->offset == 1'500'000);

    Body rest{std::string_view(bundle).substr(1'500'000), 333'333};
    UploadAppend done = gw.hub->uploads().Append(box.record, upload->id, 1'500'000, rest.Source());
    REQUIRE_MESSAGE(done.status.ok(), done.status.ToString());
    CHECK(done.complete);
    CHECK(done.offset == static_cast<int64_t>(bundle.size()));
    CHECK(done.records == 1200);
    CHECK(done.inserted == 1200);
  });
}

TEST_CASE("uploads are refused over the limit, past their length, without a body, or to another box") {
  ForEachEngine([](Gateway& gw) {
    Box box = Enrol(gw, gw.school);
    Box other = Enrol(gw, gw.school);
    CHECK(gw.hub->uploads().Create(box.record, 0).status().code() == StatusCode::kInvalidArgument);
    CHECK(gw.hub->uploads().Create(box.record, (8 << 20) + 1).status().code() == StatusCode::kTooLarge);

    auto upload = gw.hub->uploads().Create(box.record, 1000);
    REQUIRE(upload.ok());
    CHECK(gw.hub->uploads().Find(other.record, upload->id).status().code() == StatusCode::kNotFound);
    std::string bytes(1001, 'x');
    Body body{bytes, 300};
    UploadAppend foreign = gw.hub->uploads().Append(other.record, upload->id, 0, body.Source());
    CHECK(foreign.status.code() == StatusCode::kNotFound);
    CHECK(gw.hub->uploads().Append(box.record, upload->id, 0, nullptr).status.code() == StatusCode::kInvalidArgument);
    UploadAppend past = gw.hub->uploads().Append(box.record, upload->id, 0, body.Source());
    CHECK(past.status.code() == StatusCode::kTooLarge);
    CHECK(past.offset == 0);  // the whole request is refused: its bytes in hand are not kept
    CHECK(gw.hub->uploads().Find(box.record, upload->id)->offset == 0);
  });
}

TEST_CASE("a damaged bundle is refused as the sender's fault when complete, nothing is ingested, the upload goes") {
  ForEachEngine([](Gateway& gw) {
    Box box = Enrol(gw, gw.school);
    std::string bad = BundleFor(box, gw.school, 3, gw.clock.Now());
    bad[bad.size() / 2] ^= 0x01;
    auto upload = gw.hub->uploads().Create(box.record, static_cast<int64_t>(bad.size()));
    REQUIRE(upload.ok());
    Body body{bad};
    UploadAppend refused = gw.hub->uploads().Append(box.record, upload->id, 0, body.Source());
    CHECK(refused.status.code() == StatusCode::kInvalidArgument);
    CHECK(refused.status.message().rfind("bundle refused: ", 0) == 0);
    CHECK(refused.complete);
    CHECK(*gw.store->FeedHead(gw.school) == 0);
    CHECK(gw.hub->uploads().Find(box.record, upload->id).status().code() == StatusCode::kNotFound);
  });
}

TEST_CASE("a stored upload reads back through UploadSource at any offset and length, across its parts") {
  ForEachEngine([](Gateway& gw) {
    std::string all = core::RandomBytes(50'000);
    auto u = gw.store->CreateUpload(gw.school, "box-1", "bundle", static_cast<int64_t>(all.size()), 1);
    REQUIRE(u.ok());
    std::mt19937 rng(7);
    for (int64_t at = 0; at < u->length;) {  // parts of uneven sizes
      size_t n = std::min<size_t>(all.size() - static_cast<size_t>(at), 500 + rng() % 7000);
      auto next = gw.store->AppendUpload(u->id, at, std::string_view(all).substr(static_cast<size_t>(at), n), 2);
      REQUIRE(next.ok());
      at = *next;
    }
    u->offset = u->length;
    UploadSource source(*gw.store, *u);
    CHECK(source.size() == all.size());
    std::string got;
    for (int i = 0; i < 300; ++i) {
      uint64_t offset = rng() % all.size();
      size_t n = rng() % std::min<uint64_t>(20'000, all.size() - offset + 1);
      REQUIRE(source.ReadAt(offset, n, &got).ok());
      REQUIRE(got == all.substr(offset, n));
    }
    for (uint64_t at = 0; at < all.size(); at += 4096) {  // in order, as BundleReader reads
      size_t n = std::min<size_t>(4096, all.size() - at);
      REQUIRE(source.ReadAt(at, n, &got).ok());
      REQUIRE(got == all.substr(at, n));
    }
    CHECK(source.ReadAt(all.size() - 1, 2, &got).code() == StatusCode::kCorruption);
    // Parts missing (an upload cut short under the reader): Corruption, not a short read.
    HubUpload longer = *u;
    longer.length += 10;
    UploadSource short_source(*gw.store, longer);
    CHECK(short_source.ReadAt(all.size() - 5, 10, &got).code() == StatusCode::kCorruption);
  });
}

TEST_CASE("a stored answer is its box's alone, reads back by ranges, and is gone once deleted") {
  ForEachEngine([](Gateway& gw) {
    Box box = Enrol(gw, gw.school);
    Box other = Enrol(gw, gw.school);
    auto answer = gw.hub->uploads().StoreAnswer(box.record, {}, {});
    REQUIRE_MESSAGE(answer.ok(), answer.status().ToString());
    CHECK(answer->length > 0);
    CHECK(gw.hub->uploads().FindAnswer(other.record, answer->id).status().code() == StatusCode::kNotFound);
    CHECK(gw.hub->uploads().Find(box.record, answer->id).status().code() == StatusCode::kNotFound);
    auto found = gw.hub->uploads().FindAnswer(box.record, answer->id);
    REQUIRE(found.ok());
    CHECK(found->length == answer->length);
    std::string whole;
    for (int64_t at = 0; at < found->length; at += 100) {
      REQUIRE(gw.hub->uploads()
                  .ReadAnswer(*found, at, at + 100,
                              [&](std::string_view bytes) {
                                whole.append(bytes);
                                return Status::Ok();
                              })
                  .ok());
    }
    CHECK(static_cast<int64_t>(whole.size()) == answer->length);
    CHECK(gw.hub->uploads().DeleteAnswer(other.record, answer->id).code() == StatusCode::kNotFound);
    REQUIRE(gw.hub->uploads().DeleteAnswer(box.record, answer->id).ok());
    CHECK(gw.hub->uploads().FindAnswer(box.record, answer->id).status().code() == StatusCode::kNotFound);
  });
}

// The randomised proof of convergence: two boxes and a gateway-like replica
// make many random changes (homework created, edited, deleted; hand-ins;
// feedback; courses; accounts ended; clocks jumping) and exchange operations
// in random orders, with duplicates and cut transfers. Once everyone has
// everything, the synced tables are identical everywhere.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "tests/support/replica_fixture.h"

namespace relais::sync {
namespace {

using content::Role;
using content::Viewer;

class World {
 public:
  explicit World(uint32_t seed) : rng_(seed) {
    parties_ = {&gateway_, &box_a_, &box_b_};
    for (TestReplica* r : parties_) REQUIRE(r->replica().SetGatewayOrigin(gateway_.origin()).ok());
    auto c = gateway_->accounts().CreateClass(nullptr, "6e A");
    REQUIRE(c.ok());
    class_id_ = c->id;
    teacher_ = gateway_.AddUser("prof", Role::kTeacher, "6e A");
    for (int i = 0; i < 4; ++i)
      students_.push_back(gateway_.AddUser("eleve" + std::to_string(i), Role::kStudent, "6e A"));
  }

  void Step() {
    TestReplica& on = *parties_[Pick(parties_.size())];
    int action = static_cast<int>(Pick(100));
    if (action < 12) return CreateHomework(on);
    if (action < 24) return EditHomework(on);
    if (action < 28) return DeleteHomework(on);
    if (action < 45) return HandIn(on);
    if (action < 55) return Return(on);
    if (action < 58) return EndAccount(on);
    if (action < 63) return Course(on);
    if (action < 70) return MoveClock(on);
    return Exchange(*parties_[Pick(parties_.size())], on);
  }

  // Everyone gets everything, by full pushes in a random order.
  void Settle() {
    for (int round = 0; round < 3; ++round) {
      std::vector<std::pair<TestReplica*, TestReplica*>> pairs;
      for (TestReplica* from : parties_)
        for (TestReplica* to : parties_)
          if (from != to) pairs.emplace_back(from, to);
      std::shuffle(pairs.begin(), pairs.end(), rng_);
      for (auto [from, to] : pairs) last_pending_ = Push(*from, *to).pending;
    }
  }

  std::vector<TestReplica*>& parties() { return parties_; }
  int64_t last_pending() const { return last_pending_; }

 private:
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  // Store errors are part of the game (a homework deleted elsewhere, a work
  // already returned); broken state is not.
  static void Expect(const Status& st) {
    CHECK_MESSAGE((st.ok() || st.code() == StatusCode::kNotFound || st.code() == StatusCode::kConflict ||
                   st.code() == StatusCode::kPermissionDenied),
                  st.ToString());
  }

  std::vector<content::Homework> Visible(TestReplica& on, const Viewer& who) {
    auto list = on->homework().List(who, {});
    REQUIRE_MESSAGE(list.ok(), list.status().ToString());
    return *list;
  }

  void CreateHomework(TestReplica& on) {
    content::HomeworkInput in;
    in.class_id = class_id_;
    in.subject = "Maths";
    in.title = "Devoir " + std::to_string(Pick(1000));
    in.due_at = on.clock().Now() + static_cast<int64_t>(Pick(5)) * 86400 - 86400;
    in.published = Pick(4) != 0;
    if (Pick(2)) {
      auto blob = on->blobs().Put("consignes " + std::to_string(Pick(1000)));
      REQUIRE(blob.ok());
      auto file = on->files().Record(teacher_, *blob, "text/plain", "consignes.txt");
      if (!file.ok()) return Expect(file.status());  // the teacher's account has not reached this box yet
      in.attachments = {file->id};
    }
    Expect(on->homework().Create(teacher_, in).status());
  }
  void EditHomework(TestReplica& on) {
    auto list = Visible(on, teacher_);
    if (list.empty()) return;
    const content::Homework& h = list[Pick(list.size())];
    content::HomeworkPatch patch;
    if (Pick(2)) patch.title = "Modifié " + std::to_string(Pick(1000));
    if (Pick(3) == 0) patch.published = !h.published;
    if (Pick(3) == 0) patch.instructions = "Lire la page " + std::to_string(Pick(300));
    if (Pick(4) == 0) patch.attachments = std::vector<std::string>{};
    Expect(on->homework().Update(teacher_, h.id, patch).status());
  }
  void DeleteHomework(TestReplica& on) {
    auto list = Visible(on, teacher_);
    if (list.empty()) return;
    Expect(on->homework().Delete(teacher_, list[Pick(list.size())].id));
  }
  void HandIn(TestReplica& on) {
    const Viewer& student = students_[Pick(students_.size())];
    auto list = Visible(on, student);
    if (list.empty()) return;
    const content::Homework& h = list[Pick(list.size())];
    Expect(on->submissions().HandIn(student, h.id, "réponse " + std::to_string(Pick(1000)), {}).status());
  }
  void Return(TestReplica& on) {
    auto list = Visible(on, teacher_);
    if (list.empty()) return;
    auto works = on->submissions().ListForHomework(teacher_, list[Pick(list.size())].id);
    if (!works.ok()) return Expect(works.status());
    std::vector<std::string> handed_in;
    for (const auto& w : *works)
      if (w.submission) handed_in.push_back(w.submission->id);
    if (handed_in.empty()) return;
    content::FeedbackInput in;
    in.comment = "Vu " + std::to_string(Pick(100));
    if (Pick(2)) in.grade = static_cast<double>(Pick(41)) / 2;
    Expect(on->submissions().Return(teacher_, handed_in[Pick(handed_in.size())], in).status());
  }
  void EndAccount(TestReplica& on) { Expect(on->accounts().EndAccount(nullptr, students_[Pick(students_.size())].id)); }
  void Course(TestReplica& on) {
    auto courses = on->courses().ListForClass(teacher_, class_id_);
    if (!courses.ok()) return Expect(courses.status());
    if (courses->empty() || Pick(2)) {
      auto c = on->courses().Create(teacher_, class_id_, "Chapitre " + std::to_string(Pick(100)));
      Expect(c.status());
      if (c.ok()) Expect(on->courses().AddSection(teacher_, c->id, "Partie 1", std::nullopt).status());
      return;
    }
    const auto& c = (*courses)[Pick(courses->size())];
    if (Pick(3) == 0) return Expect(on->courses().Delete(teacher_, c.id));
    Expect(on->courses().Rename(teacher_, c.id, "Renommé " + std::to_string(Pick(100))).status());
  }
  void MoveClock(TestReplica& on) {
    // Mostly forward; sometimes a power cut sends the box three days back.
    if (Pick(8) == 0) {
      on.clock().Advance(-3 * 86400);
    } else {
      on.clock().Advance(static_cast<int64_t>(Pick(3600)));
    }
  }
  // A partial transfer: some of what `from` has, shuffled, with duplicates,
  // in several batches, the last ones possibly lost to a cut.
  void Exchange(TestReplica& from, TestReplica& to) {
    if (&from == &to) return;
    auto ops = from.replica().OpsSince(to.Held(), 1 + Pick(60));
    REQUIRE_MESSAGE(ops.ok(), ops.status().ToString());
    std::vector<content::Op> sent = *ops;
    for (size_t i = 0, n = Pick(4); i < n && !ops->empty(); ++i) sent.push_back((*ops)[Pick(ops->size())]);
    std::shuffle(sent.begin(), sent.end(), rng_);
    if (Pick(3) == 0) sent.resize(Pick(sent.size() + 1));  // cut
    for (size_t start = 0; start < sent.size();) {
      size_t n = 1 + Pick(sent.size() - start);
      std::vector<content::Op> batch(sent.begin() + static_cast<std::ptrdiff_t>(start),
                                     sent.begin() + static_cast<std::ptrdiff_t>(start + n));
      auto report = to.replica().Apply(batch);
      REQUIRE_MESSAGE(report.ok(), report.status().ToString());
      start += n;
    }
  }

  std::mt19937 rng_;
  TestReplica gateway_, box_a_{1790000000 + 11}, box_b_{1790000000 - 5};
  std::vector<TestReplica*> parties_;
  std::string class_id_;
  Viewer teacher_;
  std::vector<Viewer> students_;
  int64_t last_pending_ = 0;
};

TEST_CASE("three replicas making random changes and exchanging them in random orders end identical") {
  for (uint32_t seed : {1u, 2u, 3u, 4u, 5u, 6u}) {
    CAPTURE(seed);
    World world(seed);
    for (int i = 0; i < 250; ++i) world.Step();
    world.Settle();
    auto& parties = world.parties();
    std::string gateway = parties[0]->Dump();
    CHECK(parties[1]->Held() == parties[0]->Held());
    CHECK(parties[2]->Held() == parties[0]->Held());
    CHECK(parties[1]->Dump() == gateway);
    CHECK(parties[2]->Dump() == gateway);
    CHECK(world.last_pending() == 0);
    // Something really happened.
    CHECK(gateway.find("submission_versions\t") != std::string::npos);
    for (const char* table : {"feedback\t", "homework_attachments\t", "courses\t"})
      CHECK(gateway.find(table) != std::string::npos);
  }
}

}  // namespace
}  // namespace relais::sync

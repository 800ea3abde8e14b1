// Merging peers' operations: idempotent, atomic, not re-captured, and the
// conflict rules of docs/sync.md.
#include "sync/replica.h"

#include <doctest/doctest.h>

#include "tests/support/replica_fixture.h"

namespace relais::sync {
namespace {

using content::Role;
using content::Viewer;

// A gateway-like replica with a class, a teacher and two students, known to
// both boxes; every party knows the gateway's origin.
struct ThreeParties {
  TestReplica gateway, box_a, box_b{1790000000 + 7};
  Viewer teacher, lea, hugo;
  std::string class_id;

  ThreeParties() {
    for (TestReplica* r : {&gateway, &box_a, &box_b}) REQUIRE(r->replica().SetGatewayOrigin(gateway.origin()).ok());
    auto c = gateway->accounts().CreateClass(nullptr, "6e A");
    REQUIRE(c.ok());
    class_id = c->id;
    teacher = gateway.AddUser("prof", Role::kTeacher, "6e A");
    lea = gateway.AddUser("lea", Role::kStudent, "6e A");
    hugo = gateway.AddUser("hugo", Role::kStudent, "6e A");
    Push(gateway, box_a);
    Push(gateway, box_b);
  }
  std::string NewHomework(TestReplica& on, const std::string& title) {
    content::HomeworkInput in;
    in.class_id = class_id;
    in.subject = "Maths";
    in.title = title;
    in.due_at = on.clock().Now() + 86400;
    in.published = true;
    auto h = on->homework().Create(teacher, in);
    REQUIRE_MESSAGE(h.ok(), h.status().ToString());
    return h->id;
  }
  void Retitle(TestReplica& on, const std::string& id, const std::string& title) {
    content::HomeworkPatch p;
    p.title = title;
    auto h = on->homework().Update(teacher, id, p);
    REQUIRE_MESSAGE(h.ok(), h.status().ToString());
  }
  std::string TitleOn(TestReplica& on, const std::string& id) {
    auto h = on->homework().Get(teacher, id);
    REQUIRE_MESSAGE(h.ok(), h.status().ToString());
    return h->title;
  }
  // Everyone gets everything.
  void SyncAll() {
    for (int round = 0; round < 2; ++round) {
      for (TestReplica* from : {&gateway, &box_a, &box_b})
        for (TestReplica* to : {&gateway, &box_a, &box_b})
          if (from != to) Push(*from, *to);
    }
  }
};

TEST_CASE("a box receives the roster from the gateway and has the same synced tables") {
  ThreeParties p;
  CHECK(p.box_a.Dump() == p.gateway.Dump());
  CHECK(p.box_b.Dump() == p.gateway.Dump());
  auto lea = p.box_a->accounts().CheckPassword("lea", "correct-horse-42");
  CHECK(lea.ok());
}

TEST_CASE("applying the same operations twice changes nothing the second time") {
  ThreeParties p;
  p.NewHomework(p.gateway, "Fractions");
  auto ops = p.gateway.replica().OpsSince(p.box_a.Held(), 1000);
  REQUIRE(ops.ok());
  auto first = p.box_a.replica().Apply(*ops);
  REQUIRE(first.ok());
  CHECK(first->new_ops == 1);
  std::string dump = p.box_a.Dump();
  auto second = p.box_a.replica().Apply(*ops);
  REQUIRE(second.ok());
  CHECK(second->new_ops == 0);
  CHECK(second->rows_written == 0);
  CHECK(p.box_a.Dump() == dump);
  CHECK(p.box_a.Dump() == p.gateway.Dump());
}

TEST_CASE("a batch with one bad operation leaves nothing behind") {
  ThreeParties p;
  p.NewHomework(p.gateway, "Fractions");
  auto ops = p.gateway.replica().OpsSince(p.box_a.Held(), 1000);
  REQUIRE(ops.ok());
  std::string dump = p.box_a.Dump();
  auto held = p.box_a.Held();
  content::Op bad = ops->back();
  bad.seq += 1;
  bad.columns.emplace_back("zzz_no_such_column", int64_t{1});
  ops->push_back(bad);
  auto r = p.box_a.replica().Apply(*ops);
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(p.box_a.Dump() == dump);
  CHECK(p.box_a.Held() == held);
  CHECK(p.box_a.AllOps().size() == p.gateway.AllOps().size() - 1);
}

TEST_CASE("applied operations are kept for forwarding and not captured again") {
  ThreeParties p;
  p.NewHomework(p.box_a, "Fractions");
  int64_t gateway_seq = p.gateway.Held()[p.gateway.origin()];
  Push(p.box_a, p.gateway);
  // The gateway made no change of its own…
  CHECK(p.gateway.Held()[p.gateway.origin()] == gateway_seq);
  // …but forwards box A's operation to box B.
  Push(p.gateway, p.box_b);
  CHECK(p.box_b.Dump() == p.box_a.Dump());
  CHECK(p.box_b.Held()[p.box_a.origin()] == p.box_a.Held()[p.box_a.origin()]);
}

TEST_CASE("an operation that claims this replica's origin but was never made here is refused") {
  ThreeParties p;
  content::Op forged = p.gateway.AllOps().front();
  forged.origin = p.box_a.origin();
  forged.seq = 999;
  CHECK(p.box_a.replica().Apply({forged}).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("a child that arrives before its parent waits, then lands") {
  ThreeParties p;
  std::string id = p.NewHomework(p.gateway, "Fractions");
  auto ops = p.gateway.replica().OpsSince(p.box_a.Held(), 1000);
  REQUIRE(ops.ok());
  REQUIRE(p.box_a->submissions().HandIn(p.lea, id, "x", {}).status().code() == StatusCode::kNotFound);
  // Box B hands in on a homework box A does not know yet.
  Push(p.gateway, p.box_b);
  REQUIRE(p.box_b->submissions().HandIn(p.lea, id, "ma réponse", {}).ok());
  auto report = Push(p.box_b, p.box_a);
  CHECK(report.pending == 0);  // the homework came through box B too
  CHECK(p.box_a.Dump() == p.box_b.Dump());
  // Now only the hand-in, without the homework, to a fresh box.
  TestReplica fresh;
  REQUIRE(fresh.replica().SetGatewayOrigin(p.gateway.origin()).ok());
  std::vector<content::Op> all = p.box_b.AllOps(), children, parents;
  for (const content::Op& op : all)
    (op.table == "submissions" || op.table == "submission_versions" ? children : parents).push_back(op);
  auto first = fresh.replica().Apply(children);
  REQUIRE(first.ok());
  CHECK(first->pending == 2);
  auto second = fresh.replica().Apply(parents);
  REQUIRE(second.ok());
  CHECK(second->pending == 0);
  CHECK(fresh.Dump() == p.box_b.Dump());
}

TEST_CASE("the ENT's edit of a homework wins over a box edit made offline, and the conflict is recorded") {
  ThreeParties p;
  std::string id = p.NewHomework(p.gateway, "Fractions");
  p.SyncAll();
  // Box A is offline; its teacher edits later in time than the ENT does.
  p.Retitle(p.gateway, id, "Fractions (ENT)");
  p.box_a.clock().Advance(3600);
  p.Retitle(p.box_a, id, "Fractions (box)");
  p.SyncAll();
  CHECK(p.TitleOn(p.box_a, id) == "Fractions (ENT)");
  CHECK(p.TitleOn(p.gateway, id) == "Fractions (ENT)");
  CHECK(p.box_a.Dump() == p.gateway.Dump());
  Viewer admin{"", "admin", Role::kAdmin, ""};
  for (TestReplica* r : {&p.gateway, &p.box_a}) {
    auto conflicts = r->replica().OpenConflicts(admin, 100);
    REQUIRE(conflicts.ok());
    bool found = false;
    for (const SyncConflict& c : *conflicts)
      found = found || (c.table == "homework" && c.column == "title" && c.rule == "gateway-wins" &&
                        c.loser_value == "\"Fractions (box)\"" && c.class_id == p.class_id);
    CHECK(found);
  }
  // The class's teacher sees it; a student may not ask.
  auto teacher_view = p.box_a.replica().OpenConflicts(p.teacher, 100);
  REQUIRE(teacher_view.ok());
  CHECK(!teacher_view->empty());
  CHECK(p.box_a.replica().OpenConflicts(p.lea, 100).status().code() == StatusCode::kPermissionDenied);
  // A box edit made after seeing the ENT's wins.
  p.Retitle(p.box_a, id, "Fractions (box, later)");
  p.SyncAll();
  CHECK(p.TitleOn(p.gateway, id) == "Fractions (box, later)");
  CHECK(p.box_a.Dump() == p.gateway.Dump());
}

TEST_CASE("between two boxes the last writer wins, ordered by the hybrid clock") {
  ThreeParties p;
  std::string id = p.NewHomework(p.box_a, "Fractions");
  p.SyncAll();
  p.Retitle(p.box_a, id, "A");
  p.box_b.clock().Advance(60);
  p.Retitle(p.box_b, id, "B");
  p.SyncAll();
  CHECK(p.TitleOn(p.box_a, id) == "B");
  CHECK(p.box_a.Dump() == p.box_b.Dump());
}

TEST_CASE("a box whose clock jumped back three days still orders its edits after those it has seen") {
  ThreeParties p;
  std::string id = p.NewHomework(p.box_b, "Fractions");
  p.SyncAll();
  // Box A lost its time in a power cut: three days in the past.
  p.box_a.clock().Advance(-3 * 86400);
  p.Retitle(p.box_a, id, "Fractions, corrigé");
  p.SyncAll();
  CHECK(p.TitleOn(p.box_b, id) == "Fractions, corrigé");
  CHECK(p.TitleOn(p.gateway, id) == "Fractions, corrigé");
  // And its own edits stay in order.
  p.Retitle(p.box_a, id, "Fractions, corrigé 2");
  p.SyncAll();
  CHECK(p.TitleOn(p.box_b, id) == "Fractions, corrigé 2");
  CHECK(p.box_a.Dump() == p.gateway.Dump());
}

TEST_CASE("hand-ins made on two replicas for the same homework are all kept, numbered alike everywhere") {
  ThreeParties p;
  std::string id = p.NewHomework(p.gateway, "Fractions");
  p.SyncAll();
  REQUIRE(p.box_a->submissions().HandIn(p.lea, id, "sur la box", {}).ok());
  REQUIRE(p.gateway->submissions().HandIn(p.lea, id, "sur l'ENT", {}).ok());
  REQUIRE(p.box_a->submissions().HandIn(p.lea, id, "sur la box, v2", {}).ok());
  p.SyncAll();
  CHECK(p.box_a.Dump() == p.gateway.Dump());
  CHECK(p.box_b.Dump() == p.gateway.Dump());
  auto works = p.gateway->submissions().ListForHomework(p.teacher, id);
  REQUIRE(works.ok());
  const content::Submission* lea = nullptr;
  for (const auto& w : *works)
    if (w.student.user_id == p.lea.id && w.submission) lea = &*w.submission;
  REQUIRE(lea);
  CHECK(lea->versions.size() == 3);
  CHECK(lea->current_version == 3);
  // A further hand-in on the box continues the numbering.
  auto again = p.box_a->submissions().HandIn(p.lea, id, "v4", {});
  REQUIRE(again.ok());
  CHECK(again->current_version == 4);
  p.SyncAll();
  CHECK(p.box_a.Dump() == p.gateway.Dump());
}

TEST_CASE("an account ended on the ENT stays ended, whatever a box changed meanwhile") {
  ThreeParties p;
  REQUIRE(p.gateway->accounts().EndAccount(nullptr, p.hugo.id).ok());
  p.box_a.clock().Advance(600);
  REQUIRE(p.box_a->accounts().SetPassword(nullptr, "hugo", "a-new-password-1").ok());
  p.SyncAll();
  CHECK(p.box_a.Dump() == p.gateway.Dump());
  auto hugo = p.box_a->accounts().GetUser(p.hugo.id);
  REQUIRE(hugo.ok());
  CHECK(hugo->disabled);
  CHECK(p.box_a->accounts().CheckPassword("hugo", "a-new-password-1").status().code() == StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace relais::sync

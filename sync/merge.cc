#include "sync/merge.h"

#include <set>
#include <tuple>

namespace relais::sync {
namespace {

using content::Op;

struct Write {
  const Op* op;
  core::SqlValue value;
};

const Write* Latest(const std::vector<const Write*>& writes) {
  const Write* best = nullptr;
  for (const Write* w : writes)
    if (!best || Later(*w->op, *best->op)) best = w;
  return best;
}

// The latest write of a non-empty text (a password hash), or nullptr.
const Write* LatestSet(const std::vector<Write>& writes) {
  std::vector<const Write*> set;
  for (const Write& w : writes)
    if (std::holds_alternative<std::string>(w.value) && !std::get<std::string>(w.value).empty()) set.push_back(&w);
  return Latest(set);
}

// The winner among the writes of one column (see docs/sync.md).
const Write* Winner(const std::string& table, const std::string& column, const std::vector<Write>& writes,
                    const std::string& gateway_origin, std::string* rule) {
  std::vector<const Write*> candidates;
  for (const Write& w : writes) candidates.push_back(&w);
  *rule = "last-writer-wins";
  if (!gateway_origin.empty() && GatewayWins(table)) {
    std::vector<const Write*> from_gateway;
    for (const Write* w : candidates)
      if (w->op->origin == gateway_origin) from_gateway.push_back(w);
    if (const Write* g = Latest(from_gateway)) {
      // The gateway's latest edit, and box edits made after seeing it.
      std::vector<const Write*> kept{g};
      for (const Write* w : candidates)
        if (w->op->origin != gateway_origin && w->op->base >= g->op->hlc) kept.push_back(w);
      if (kept.size() != candidates.size()) *rule = "gateway-wins";
      candidates = std::move(kept);
    }
  }
  const Write* winner = Latest(candidates);
  if (table == "users" && column == "disabled_at" && std::holds_alternative<std::monostate>(winner->value)) {
    // An account's end wins over a re-opening made without having seen it.
    std::vector<const Write*> ends;
    for (const Write& w : writes)
      if (!std::holds_alternative<std::monostate>(w.value) && winner->op->base < w.op->hlc) ends.push_back(&w);
    if (const Write* end = Latest(ends)) {
      winner = end;
      *rule = "end-wins";
    }
  }
  if (table == "users" && column == "password_hash" && winner->value == core::SqlValue(std::string()))
    // A password wins over none: the ENT's roster creates accounts without
    // one (""), and must not wipe the one a box set, whoever wrote last.
    if (const Write* set = LatestSet(writes)) {
      winner = set;
      *rule = "password-kept";
    }
  return winner;
}

void Resolve(const std::string& table, const std::string& column, const std::vector<Write>& writes,
             const std::string& gateway_origin, RowState& state, ColumnWinner* out) {
  std::string rule;
  const Write* winner = Winner(table, column, writes, gateway_origin, &rule);
  out->op = winner->op;
  out->value = winner->value;
  // A conflict: a write from another origin, with another value, that the
  // winner's origin had not seen when it wrote.
  for (const Write& w : writes) {
    if (&w == winner || w.op->origin == winner->op->origin || w.value == winner->value) continue;
    if (winner->op->base >= w.op->hlc) continue;
    if (Later(*w.op, *winner->op) || w.op->base < winner->op->hlc)
      state.conflicts.push_back({column, rule, winner->op, winner->value, w.op, w.value});
  }
}

}  // namespace

bool Later(const Op& a, const Op& b) { return std::tie(a.hlc, a.origin, a.seq) > std::tie(b.hlc, b.origin, b.seq); }

bool GatewayWins(const std::string& table) {
  static const std::set<std::string> kTables = {"users",    "classes",   "class_members", "courses",
                                                "sections", "resources", "homework",      "homework_attachments"};
  return kTables.count(table) > 0;
}

RowState ResolveRow(const std::string& table, const std::vector<Op>& ops, const std::string& gateway_origin) {
  RowState state;
  std::map<std::string, std::vector<Write>> by_column;
  std::vector<Write> existence;
  for (const Op& op : ops) {
    if (op.kind != Op::Kind::kUpdate) {
      existence.emplace_back();
      existence.back().op = &op;
      existence.back().value.emplace<int64_t>(op.kind == Op::Kind::kInsert ? 1 : 0);
    }
    for (const auto& [name, value] : op.columns) by_column[name].push_back({&op, value});
  }
  if (!existence.empty()) {
    ColumnWinner alive;
    Resolve(table, "(row)", existence, gateway_origin, state, &alive);
    state.alive = std::get<int64_t>(alive.value) != 0;
    state.alive_op = alive.op;
  }
  for (const auto& [name, writes] : by_column)
    Resolve(table, name, writes, gateway_origin, state, &state.columns[name]);
  return state;
}

}  // namespace relais::sync

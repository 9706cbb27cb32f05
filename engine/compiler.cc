#include "engine/compiler.h"

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <queue>

#include "engine/expr/expr.h"
#include "engine/json_text.h"
#include "engine/schema_reader.h"

namespace runbook {

int CompiledRunbook::Find(const std::string& id) const {
  auto it = index_by_id.find(id);
  return it == index_by_id.end() ? -1 : it->second;
}

const std::vector<int>& CompiledRunbook::Order(Block b) const {
  switch (b) {
    case Block::kMain: return main_order;
    case Block::kOnFailure: return on_failure_order;
    case Block::kFinally: return finally_order;
  }
  return main_order;
}

std::vector<int> CompiledRunbook::ExecutionOrder() const {
  std::vector<int> out = main_order;
  out.insert(out.end(), on_failure_order.begin(), on_failure_order.end());
  out.insert(out.end(), finally_order.begin(), finally_order.end());
  return out;
}

namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;

// Records the first cycle found by a depth-first search over "needs" edges.
class CycleFinder : public boost::default_dfs_visitor {
 public:
  CycleFinder(std::vector<int>& parent, std::vector<int>& cycle) : parent_(parent), cycle_(cycle) {}
  void tree_edge(Graph::edge_descriptor e, const Graph& g) {
    parent_[boost::target(e, g)] = static_cast<int>(boost::source(e, g));
  }
  void back_edge(Graph::edge_descriptor e, const Graph& g) {
    if (!cycle_.empty()) return;
    int from = static_cast<int>(boost::source(e, g));
    int to = static_cast<int>(boost::target(e, g));
    // Path to -> ... -> from along tree edges, then back to `to`.
    std::vector<int> path;
    for (int v = from; v != to && v >= 0; v = parent_[v]) path.push_back(v);
    path.push_back(to);
    std::reverse(path.begin(), path.end());
    cycle_ = path;
  }

 private:
  std::vector<int>& parent_;
  std::vector<int>& cycle_;
};

class CompilerImpl {
 public:
  CompilerImpl(CompiledRunbook& out, const StepTypeRegistry& types, Diagnostics& diags)
      : rb_(out), types_(types), diags_(diags) {}

  void Run() {
    CollectSteps();
    ResolveNeeds();
    bool acyclic = true;
    for (Block b : {Block::kMain, Block::kOnFailure, Block::kFinally}) acyclic &= OrderBlock(b);
    if (!acyclic) return;  // upstream checks need a DAG
    NumberOrder();
    CheckSchedules();
    for (auto& st : rb_.steps) CheckStepExpressions(st);
    CheckRunbookExpressions();
  }

 private:
  void CollectSteps() {
    auto add = [&](const std::vector<StepSpec>& list) {
      for (const StepSpec& s : list) {
        CompiledStep cs;
        cs.spec = &s;
        cs.type = types_.Find(s.type);
        cs.block = s.block;
        cs.index = static_cast<int>(rb_.steps.size());
        cs.timeout = s.timeout ? s.timeout : rb_.spec.defaults.timeout;
        cs.retry = s.retry ? *s.retry : rb_.spec.defaults.retry ? *rb_.spec.defaults.retry : RetrySpec{};
        if (!s.if_expr.empty()) {
          cs.condition = s.if_expr;
          cs.condition_is_default = false;
        } else {
          cs.condition = "success()";
        }
        if (cs.type) cs.outputs = cs.type->Outputs(s);
        for (const auto& r : s.outputs) {
          expr::Type t = expr::Type::kString;
          switch (r.type) {
            case OutputType::kNumber:
            case OutputType::kInt: t = expr::Type::kNumber; break;
            case OutputType::kBool: t = expr::Type::kBool; break;
            case OutputType::kJson: t = expr::Type::kAny; break;
            case OutputType::kString: t = expr::Type::kString; break;
          }
          auto same = std::find_if(cs.outputs.begin(), cs.outputs.end(),
                                   [&](const OutputDecl& d) { return d.name == r.name; });
          if (same != cs.outputs.end())
            diags_.Error(r.loc, "step '" + s.id + "': output '" + r.name + "' is already an output of a " + s.type +
                                    " step");
          else
            cs.outputs.push_back({r.name, t});
        }
        auto [it, inserted] = rb_.index_by_id.emplace(s.id, cs.index);
        if (!inserted) {
          const StepSpec* first = rb_.steps[it->second].spec;
          diags_.Error(s.id_loc, "duplicate step id '" + s.id + "' (first defined at line " +
                                     std::to_string(first->id_loc.line) + ")");
        }
        rb_.steps.push_back(std::move(cs));
      }
    };
    size_t total = rb_.spec.steps.size() + rb_.spec.on_failure.size() + rb_.spec.finally_steps.size();
    rb_.steps.reserve(total);
    rb_.index_by_id.reserve(total);
    add(rb_.spec.steps);
    add(rb_.spec.on_failure);
    add(rb_.spec.finally_steps);
  }

  std::vector<std::string> IdsOf(Block b) const {
    std::vector<std::string> ids;
    for (const auto& s : rb_.steps)
      if (s.block == b) ids.push_back(s.id());
    return ids;
  }

  void ResolveNeeds() {
    int previous_main = -1;
    for (auto& st : rb_.steps) {
      const StepSpec& s = *st.spec;
      if (rb_.Find(s.id) != st.index) continue;  // a duplicate; reported
      for (size_t i = 0; i < s.needs.size(); ++i) {
        const std::string& n = s.needs[i];
        const SourceLoc& loc = i < s.needs_locs.size() ? s.needs_locs[i] : s.loc;
        int target = rb_.Find(n);
        if (n == s.id) {
          diags_.Error(loc, "step '" + s.id + "' needs itself");
        } else if (target < 0) {
          diags_.Error(loc, "step '" + s.id + "' needs unknown step '" + n + "'" + DidYouMean(n, IdsOf(st.block)));
        } else if (rb_.steps[target].block != st.block) {
          diags_.Error(loc, "step '" + s.id + "' in '" + BlockName(st.block) + "' cannot need step '" + n + "' in '" +
                                BlockName(rb_.steps[target].block) + "'; " +
                                (st.block == Block::kMain ? "handlers run after the main steps"
                                                          : "every main step has finished when handlers run"));
        } else if (std::find(st.needs.begin(), st.needs.end(), target) != st.needs.end()) {
          diags_.Error(loc, "step '" + s.id + "' lists '" + n + "' twice in 'needs'");
        } else {
          st.needs.push_back(target);
        }
      }
      if (rb_.spec.sequential && st.block == Block::kMain) {
        if (previous_main >= 0 && std::find(st.needs.begin(), st.needs.end(), previous_main) == st.needs.end())
          st.needs.push_back(previous_main);
        previous_main = st.index;
      }
    }
    for (auto& st : rb_.steps)
      for (int n : st.needs) rb_.steps[n].dependents.push_back(st.index);
  }

  // Topological order of one block; reports a cycle and returns false.
  bool OrderBlock(Block b) {
    std::vector<int> members;
    for (const auto& s : rb_.steps)
      if (s.block == b) members.push_back(s.index);
    if (members.empty()) return true;
    const int base = members.front();
    const int n = static_cast<int>(members.size());

    // Cycle detection with Boost.Graph's depth-first search.
    Graph g(n);
    for (int m : members)
      for (int need : rb_.steps[m].needs) boost::add_edge(m - base, need - base, g);
    std::vector<int> parent(n, -1), cycle;
    CycleFinder finder(parent, cycle);
    std::vector<boost::default_color_type> colors(n);
    boost::depth_first_search(g, boost::visitor(finder).color_map(
                                     boost::make_iterator_property_map(colors.begin(), boost::get(boost::vertex_index, g))));
    if (!cycle.empty()) {
      // Start the cycle at its earliest step in the file, for a stable message.
      auto first = std::min_element(cycle.begin(), cycle.end());
      std::rotate(cycle.begin(), first, cycle.end());
      std::string path;
      for (int v : cycle) path += rb_.steps[v + base].id() + " -> ";
      path += rb_.steps[cycle.front() + base].id();
      diags_.Error(rb_.steps[cycle.front() + base].spec->id_loc, "dependency cycle: " + path);
      return false;
    }

    // Kahn's algorithm, taking the earliest ready step in file order, so the
    // plan reads like the YAML wherever the dependencies allow it.
    std::vector<int> missing(n, 0);
    for (int m : members) missing[m - base] = static_cast<int>(rb_.steps[m].needs.size());
    std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
    for (int m : members)
      if (missing[m - base] == 0) ready.push(m);
    std::vector<int>& order = b == Block::kMain ? rb_.main_order : b == Block::kOnFailure ? rb_.on_failure_order
                                                                                         : rb_.finally_order;
    while (!ready.empty()) {
      int m = ready.top();
      ready.pop();
      order.push_back(m);
      for (int d : rb_.steps[m].dependents)
        if (--missing[d - base] == 0) ready.push(d);
    }
    return true;
  }

  // Each step's position in its block's topological order; after OrderBlock.
  void NumberOrder() {
    order_pos_.assign(rb_.steps.size(), 0);
    for (Block b : {Block::kMain, Block::kOnFailure, Block::kFinally}) {
      const std::vector<int>& order = rb_.Order(b);
      for (size_t i = 0; i < order.size(); ++i) order_pos_[order[i]] = static_cast<int>(i);
    }
    seen_.assign(rb_.steps.size(), 0);
  }

  // True if `ancestor` is reachable from `step` through needs. Every step on
  // such a path lies between the two in the block's topological order, so
  // the search never enters a step at or before `ancestor`; without that, a
  // long runbook whose expressions refer to its steps compiles in quadratic
  // time.
  bool IsUpstream(int ancestor, int step) const {
    const std::vector<int>& needs = rb_.steps[step].needs;
    if (std::find(needs.begin(), needs.end(), ancestor) != needs.end()) return true;
    if (rb_.steps[ancestor].block != rb_.steps[step].block) return false;  // needs stay in a block
    const int floor = order_pos_[ancestor];
    if (floor >= order_pos_[step]) return false;
    if (++search_ == 0) {  // wrapped: forget every mark
      std::fill(seen_.begin(), seen_.end(), 0u);
      search_ = 1;
    }
    stack_.clear();
    auto visit = [&](int v) {
      if (order_pos_[v] > floor && seen_[v] != search_) {
        seen_[v] = search_;
        stack_.push_back(v);
      }
    };
    for (int n : needs) visit(n);
    while (!stack_.empty()) {
      int v = stack_.back();
      stack_.pop_back();
      for (int n : rb_.steps[v].needs) {
        if (n == ancestor) return true;
        visit(n);
      }
    }
    return false;
  }

  // Names visible from one place in the runbook.
  class Scope : public expr::Scope {
   public:
    Scope(const CompilerImpl& c, const CompiledStep* step, bool all_steps, bool self_visible, bool steps_visible = true)
        : c_(c), step_(step), all_steps_(all_steps), self_visible_(self_visible), steps_visible_(steps_visible) {}

    Result<expr::Type> Lookup(const std::vector<std::string>& path) const override {
      const RunbookSpec& spec = c_.rb_.spec;
      const std::string& root = path[0];
      if (root == "params") {
        if (path.size() == 1) return expr::Type::kObject;
        const ParamSpec* p = spec.FindParam(path[1]);
        if (!p) {
          std::vector<std::string> names;
          for (const auto& q : spec.params) names.push_back(q.name);
          return Status::NotFound("unknown parameter '" + path[1] + "'" + DidYouMean(path[1], names));
        }
        return Leaf(path, p->type == ParamType::kInt || p->type == ParamType::kNumber ? expr::Type::kNumber
                          : p->type == ParamType::kBool                              ? expr::Type::kBool
                                                                                     : expr::Type::kString);
      }
      if (root == "secrets") {
        if (path.size() == 1) return Status::InvalidArgument("'secrets' must be followed by a secret name");
        if (!spec.FindSecret(path[1])) {
          std::vector<std::string> names;
          for (const auto& s : spec.secrets) names.push_back(s.name);
          return Status::NotFound("unknown secret '" + path[1] + "'" + DidYouMean(path[1], names));
        }
        return Leaf(path, expr::Type::kString);
      }
      if (root == "env") {
        if (path.size() == 1) return expr::Type::kObject;
        std::vector<std::string> names;
        auto add = [&](const std::vector<EnvVar>& vars) {
          for (const auto& v : vars) names.push_back(v.name);
        };
        add(spec.env);
        add(spec.defaults.env);
        if (step_) add(step_->spec->env);
        if (std::find(names.begin(), names.end(), path[1]) == names.end())
          return Status::NotFound("unknown env variable '" + path[1] + "' (declare it under 'env:')" +
                                  DidYouMean(path[1], names));
        return Leaf(path, expr::Type::kString);
      }
      if (root == "run") {
        static const std::vector<std::string> kRun = {"id", "incident", "started_at", "runbook", "trigger", "actor"};
        if (path.size() == 1) return expr::Type::kObject;
        if (std::find(kRun.begin(), kRun.end(), path[1]) == kRun.end())
          return Status::NotFound("unknown run property '" + path[1] + "'" + DidYouMean(path[1], kRun));
        return Leaf(path, expr::Type::kString);
      }
      if (root == "now") return Leaf(path, expr::Type::kString);
      if (root == "steps") return StepLookup(path);
      return Status::NotFound("unknown name '" + root + "'" +
                              DidYouMean(root, {"params", "env", "secrets", "steps", "run", "now"}));
    }

   private:
    // `a.b` on a leaf of a known scalar type is the checker's error to give;
    // return the leaf type only for an exact path.
    static Result<expr::Type> Leaf(const std::vector<std::string>& path, expr::Type t) {
      size_t leaf_len = path[0] == "now" ? 1 : 2;
      if (path.size() > leaf_len) {
        std::string name;
        for (size_t i = 0; i < leaf_len; ++i) name += (i ? "." : "") + path[i];
        return Status::InvalidArgument("'" + name + "' is a " + expr::TypeName(t) + "; it has no field '" +
                                       path[leaf_len] + "'");
      }
      return t;
    }

    Result<expr::Type> StepLookup(const std::vector<std::string>& path) const {
      if (!steps_visible_) return Status::InvalidArgument("step results are not available here");
      if (path.size() == 1) return Status::InvalidArgument("'steps' must be followed by a step id");
      const std::string& id = path[1];
      int target = c_.rb_.Find(id);
      if (target < 0) {
        std::vector<std::string> ids;
        for (const auto& s : c_.rb_.steps) ids.push_back(s.id());
        return Status::NotFound("unknown step '" + id + "'" + DidYouMean(id, ids));
      }
      const CompiledStep& t = c_.rb_.steps[target];
      if (step_ && target == step_->index && !self_visible_)
        return Status::InvalidArgument("step '" + id + "' cannot refer to its own result here");
      if (step_ && target != step_->index && !all_steps_) {
        if (t.block != Block::kMain && t.block != step_->block)
          return Status::InvalidArgument("step '" + id + "' in '" + BlockName(t.block) + "' is not upstream of step '" +
                                         step_->id() + "'");
        bool visible = t.block == Block::kMain && step_->block != Block::kMain ? true
                                                                               : c_.IsUpstream(target, step_->index);
        if (!visible)
          return Status::InvalidArgument("step '" + id + "' is not upstream of step '" + step_->id() +
                                         "'; add it to 'needs'");
      }
      if (path.size() == 2) return expr::Type::kObject;
      const std::string& prop = path[2];
      if (prop == "status" || prop == "exit_code" || prop == "error") {
        if (path.size() > 3)
          return Status::InvalidArgument("'steps." + id + "." + prop + "' has no field '" + path[3] + "'");
        return prop == "exit_code" ? expr::Type::kNumber : expr::Type::kString;
      }
      if (prop != "outputs")
        return Status::NotFound("unknown step property '" + prop + "' (use status, exit_code, error or outputs)");
      if (path.size() == 3) return expr::Type::kObject;
      const std::string& name = path[3];
      std::vector<std::string> names;
      for (const auto& o : t.outputs) {
        names.push_back(o.name);
        if (o.name == name) {
          if (path.size() > 4 && o.type != expr::Type::kAny && o.type != expr::Type::kObject &&
              o.type != expr::Type::kList)
            return Status::InvalidArgument("'steps." + id + ".outputs." + name + "' is a " + expr::TypeName(o.type) +
                                           "; it has no field '" + path[4] + "'");
          return path.size() > 4 ? expr::Type::kAny : o.type;
        }
      }
      std::string list;
      for (size_t i = 0; i < names.size(); ++i) list += (i ? ", " : "") + names[i];
      return Status::NotFound("step '" + id + "' has no output '" + name + "'" +
                              (list.empty() ? std::string(" (it has none)") : " (it has: " + list + ")"));
    }

    const CompilerImpl& c_;
    const CompiledStep* step_;
    bool all_steps_;
    bool self_visible_;
    bool steps_visible_;
  };

  // A condition-like field: a bare expression, or one `${{ }}` around it.
  void CheckCondition(const std::string& text, const SourceLoc& loc, const std::string& what, const Scope& scope,
                      bool status_functions) {
    auto e = expr::ParseCondition(text);
    if (!e.ok()) {
      diags_.Error(loc, what + ": " + e.status().message());
      return;
    }
    auto type = expr::Check(*e, scope, status_functions);
    if (!type.ok()) diags_.Error(loc, what + ": " + type.status().message());
  }

  void CheckTemplate(const std::string& text, const SourceLoc& loc, const std::string& what, const Scope& scope) {
    if (!expr::HasExpression(text)) return;
    auto t = expr::Template::Parse(text);
    if (!t.ok()) {
      diags_.Error(loc, what + ": " + t.status().message());
      return;
    }
    for (const auto& part : t->parts()) {
      if (!part.expr) continue;
      auto type = expr::Check(*part.expr, scope, false);
      if (!type.ok()) diags_.Error(loc, what + ": " + type.status().message());
    }
  }

  void CheckNode(const Node& n, const std::string& what, const Scope& scope) {
    switch (n.kind) {
      case Node::Kind::kScalar: CheckTemplate(n.scalar, n.loc, what, scope); break;
      case Node::Kind::kSequence:
        for (const auto& i : n.items) CheckNode(i, what, scope);
        break;
      case Node::Kind::kMapping:
        for (size_t i = 0; i < n.items.size(); ++i) CheckNode(n.items[i], what, scope);
        break;
      case Node::Kind::kNull: break;
    }
  }

  static bool ReadsSecret(const Node& n) {
    if (n.IsScalar() && expr::HasExpression(n.scalar)) {
      auto t = expr::Template::Parse(n.scalar);
      if (!t.ok()) return false;
      for (const auto& part : t->parts())
        if (part.expr)
          for (const auto& p : part.expr->NamePaths())
            if (p[0] == "secrets") return true;
      return false;
    }
    for (const auto& i : n.items)
      if (ReadsSecret(i)) return true;
    return false;
  }

  void CheckStepExpressions(const CompiledStep& st) {
    const StepSpec& s = *st.spec;
    if (rb_.Find(s.id) != st.index) return;
    std::string ctx = "step '" + s.id + "': ";
    Scope scope(*this, &st, /*all_steps=*/false, /*self_visible=*/false);
    if (!st.condition_is_default) CheckCondition(s.if_expr, s.if_loc, ctx + "'if'", scope, true);
    for (const auto& e : s.env) CheckTemplate(e.value, e.loc, ctx + "env '" + e.name + "'", scope);
    if (s.approval) CheckTemplate(s.approval->prompt, s.approval->loc, ctx + "approval prompt", scope);
    if (s.repeat && !s.repeat->until.empty()) {
      Scope self(*this, &st, false, /*self_visible=*/true);
      CheckCondition(s.repeat->until, s.repeat->until_loc, ctx + "repeat: 'until'", self, false);
    }
    if (!st.type) return;
    for (size_t i = 0; i < s.fields.keys.size(); ++i) {
      const std::string& key = s.fields.keys[i];
      const Node& value = s.fields.items[i];
      const FieldSchema* f = nullptr;
      for (const auto& fs : st.type->fields())
        if (fs.name == key) f = &fs;
      if (!f) continue;
      std::string what = ctx + "'" + key + "'";
      if (s.type == "exec" && key == "argv" && ReadsSecret(value)) {
        diags_.Error(value.loc, what + " must not contain secrets: a command line is visible to every user (ps); "
                                       "pass the secret through 'env' or 'stdin'");
        continue;
      }
      bool condition = (s.type == "check" && key == "assert") || (s.type == "wait" && key == "until");
      if (condition) {
        CheckCondition(value.scalar, value.loc, what, scope, false);
        continue;
      }
      switch (f->kind) {
        case FieldKind::kString:
        case FieldKind::kStringList:
        case FieldKind::kStringMap:
        case FieldKind::kAny:
        case FieldKind::kMapping:
          CheckNode(value, what, scope);
          break;
        default:
          if (value.IsScalar() && expr::HasExpression(value.scalar))
            diags_.Error(value.loc, what + " cannot contain ${{ }}; it must be known before the run");
          break;
      }
    }
  }

  void CheckRunbookExpressions() {
    // Runbook env: params, secrets, run and now; no steps, no env.
    Scope top(*this, nullptr, true, false, /*steps_visible=*/false);
    for (const auto& e : rb_.spec.env) {
      if (!expr::HasExpression(e.value)) continue;
      auto t = expr::Template::Parse(e.value);
      bool self_ref = false;
      if (t.ok())
        for (const auto& part : t->parts())
          if (part.expr)
            for (const auto& p : part.expr->NamePaths()) self_ref |= (p[0] == "env");
      if (self_ref) {
        diags_.Error(e.loc, "env '" + e.name + "': runbook-level env cannot refer to env");
        continue;
      }
      CheckTemplate(e.value, e.loc, "env '" + e.name + "'", top);
    }
    Scope all(*this, nullptr, true, false);
    for (const auto& o : rb_.spec.outputs) CheckTemplate(o.expr, o.loc, "output '" + o.name + "'", all);
  }

  void CheckSchedules() {
    for (const auto& s : rb_.spec.schedule) {
      for (const auto& [key, value] : s.params) {
        std::string k(key);
        const ParamSpec* p = rb_.spec.FindParam(k);
        if (!p) {
          std::vector<std::string> names;
          for (const auto& q : rb_.spec.params) names.push_back(q.name);
          diags_.Error(s.params_loc, "schedule: unknown parameter '" + k + "'" + DidYouMean(k, names));
          continue;
        }
        std::string text = value.is_string() ? std::string(value.get_string()) : JsonText(value);
        auto v = schema::ParamValueFromString(*p, text);
        std::string why = v.ok() ? schema::CheckParamValue(*p, *v) : v.status().message();
        if (!why.empty()) diags_.Error(s.params_loc, "schedule: parameter '" + k + "' " + why);
      }
    }
  }

  CompiledRunbook& rb_;
  const StepTypeRegistry& types_;
  Diagnostics& diags_;
  std::vector<int> order_pos_;
  // IsUpstream's scratch: seen_[v] == search_ when v was reached in the
  // current search.
  mutable std::vector<unsigned> seen_;
  mutable unsigned search_ = 0;
  mutable std::vector<int> stack_;
};

}  // namespace

std::optional<CompiledRunbook> Compile(RunbookSpec spec, const StepTypeRegistry& types, Diagnostics& diags) {
  CompiledRunbook out;
  out.spec = std::move(spec);
  int before = diags.error_count();
  CompilerImpl(out, types, diags).Run();
  if (diags.error_count() > before || diags.has_errors()) return std::nullopt;
  return out;
}

}  // namespace runbook

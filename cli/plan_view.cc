#include "cli/plan_view.h"

#include <openssl/evp.h>

#include <algorithm>
#include <boost/json.hpp>
#include <ostream>

#include "engine/expr/expr.h"
#include "engine/json_text.h"
#include "engine/values.h"

namespace runbook::cli {
namespace {

std::string Sha256Hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string RetryText(const RetrySpec& r) {
  if (r.attempts <= 1) return "";
  std::string s = std::to_string(r.attempts) + " attempts";
  if (r.delay.count() > 0) s += ", delay " + FormatDuration(r.delay);
  if (r.backoff != 1.0) {
    char buf[32];
    snprintf(buf, sizeof buf, "%g", r.backoff);
    s += std::string(", backoff x") + buf;
  }
  if (r.max_delay) s += ", max delay " + FormatDuration(*r.max_delay);
  return s;
}

void CollectBindings(const Node& n, const ValueContext& ctx, std::vector<std::pair<std::string, std::string>>& out) {
  if (n.IsScalar()) {
    if (!expr::HasExpression(n.scalar)) return;
    auto t = expr::Template::Parse(n.scalar);
    if (!t.ok()) return;
    for (const auto& p : t->parts()) {
      if (!p.expr) continue;
      std::string text = p.expr->text();
      text.erase(0, text.find_first_not_of(" \t\n"));
      text.erase(text.find_last_not_of(" \t\n") + 1);
      std::string key = "${{ " + text + " }}";
      bool seen = false;
      for (const auto& b : out) seen |= (b.first == key);
      if (seen) continue;
      auto v = expr::Evaluate(*p.expr, ctx);
      out.emplace_back(key, v.ok() ? JsonText(*v) : "(" + v.status().message() + ")");
    }
    return;
  }
  for (const auto& i : n.items) CollectBindings(i, ctx, out);
}

std::string Field(const Node& f, const char* key) {
  const Node* n = f.Find(key);
  return n && n->IsScalar() ? n->scalar : "";
}

// The first line of a script, and how many more there are.
std::string OneLine(std::string s, size_t max = 100) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  size_t more = 0;
  for (char c : s) more += (c == '\n');
  std::string first = s.substr(0, s.find('\n'));
  if (first.size() > max) first = first.substr(0, max - 3) + "...";
  if (more > 0) first += "  (+" + std::to_string(more) + (more == 1 ? " line)" : " lines)");
  return first;
}

std::string Action(const StepSpec& s, const std::string& default_shell) {
  const Node& f = s.fields;
  if (s.type == "shell") {
    std::string shell = !Field(f, "shell").empty() ? Field(f, "shell") : default_shell.empty() ? "sh" : default_shell;
    return shell + ": " + OneLine(Field(f, "run"));
  }
  if (s.type == "exec") {
    std::string a;
    if (const Node* argv = f.Find("argv"))
      for (const auto& i : argv->items) a += (a.empty() ? "" : " ") + i.scalar;
    return "exec: " + OneLine(a);
  }
  if (s.type == "http") return (Field(f, "method").empty() ? "GET" : Field(f, "method")) + " " + Field(f, "url");
  if (s.type == "sql") return "sql on " + Field(f, "database") + ": " + OneLine(Field(f, "query"));
  if (s.type == "check") {
    if (f.Find("assert")) return "assert " + Field(f, "assert");
    std::string t;
    for (const char* l : {"info", "warn", "critical"})
      if (f.Find(l)) t += std::string(t.empty() ? "" : ", ") + l + " " + Field(f, l);
    return "check " + OneLine(f.Find("value") && f.Find("value")->IsScalar() ? Field(f, "value") : "value") + ": " + t;
  }
  if (s.type == "approval") return "ask for approval: " + OneLine(Field(f, "prompt"));
  if (s.type == "notify") return "notify via " + Field(f, "channel") + ": " + OneLine(Field(f, "message"), 60);
  if (s.type == "wait") return f.Find("duration") ? "wait " + Field(f, "duration") : "wait until " + Field(f, "until");
  if (s.type == "runbook") return "run runbook " + Field(f, "runbook");
  return s.type;
}

bool AllStrings(const boost::json::object& o) {
  for (const auto& [k, v] : o)
    if (!v.is_string()) return false;
  return true;
}

bool MultiLine(const boost::json::value& v) { return v.is_string() && v.get_string().find('\n') != std::string::npos; }

// `text` after "<head>": on the line if it is one line, else as a block
// ("|" and the lines indented by `indent` + 2).
void PrintText(std::ostream& out, const std::string& indent, const std::string& head, std::string s) {
  if (s.find('\n') == std::string::npos) {
    out << head << s << "\n";
    return;
  }
  out << head << "|\n";
  if (s.back() == '\n') s.pop_back();
  size_t start = 0;
  for (size_t nl; (nl = s.find('\n', start)) != std::string::npos; start = nl + 1)
    out << indent << "  " << s.substr(start, nl - start) << "\n";
  out << indent << "  " << s.substr(start) << "\n";
}

// One entry of a step's preview, YAML-like: text as it is (several lines
// as a "|" block), a mapping of texts (headers, thresholds, env) one entry a
// line, a list of texts one of which has several lines (a shell's argv) one
// item a line, anything else as compact JSON.
void PrintPreview(std::ostream& out, const std::string& indent, std::string_view key, const boost::json::value& v) {
  const std::string head = indent + std::string(key) + ": ";
  if (v.is_string()) {
    PrintText(out, indent, head, std::string(v.get_string()));
    return;
  }
  if (v.is_object() && !v.get_object().empty() && AllStrings(v.get_object())) {
    out << indent << key << ":\n";
    for (const auto& [k, item] : v.get_object()) PrintPreview(out, indent + "  ", k, item);
    return;
  }
  if (v.is_array() && std::any_of(v.get_array().begin(), v.get_array().end(), MultiLine) &&
      std::all_of(v.get_array().begin(), v.get_array().end(), [](const auto& i) { return i.is_string(); })) {
    out << indent << key << ":\n";
    for (const auto& item : v.get_array())
      PrintText(out, indent + "  ", indent + "  - ", std::string(item.get_string()));
    return;
  }
  out << head << JsonText(v) << "\n";
}

}  // namespace

PlanView BuildPlanView(const CompiledRunbook& rb, const boost::json::object& params) {
  const RunbookSpec& spec = rb.spec;
  PlanView v;
  v.name = spec.name;
  v.title = spec.title;
  v.description = spec.description;
  v.file = spec.source_path;
  v.source_sha256 = Sha256Hex(spec.source_text);
  for (const auto& p : spec.params) {  // declaration order
    auto it = params.find(p.name);
    if (it != params.end()) v.params[p.name] = it->value();
  }
  for (const auto& s : spec.secrets) v.secrets.push_back(s.name);
  if (spec.timeout) v.timeout = FormatDuration(*spec.timeout);
  if (spec.concurrency)
    v.concurrency = spec.concurrency->group + " (" + ConcurrencyPolicyName(spec.concurrency->policy) + ")";
  for (const auto& s : spec.schedule) v.schedule.push_back(s.cron + (s.timezone.empty() ? "" : " " + s.timezone));

  ValueContext ctx;
  ctx.plan_mode = true;
  ctx.params = params;
  ctx.status_function = [](std::string_view name) -> Result<bool> {
    if (name == "always") return true;
    return Status::FailedPrecondition(std::string(name) + "() is known only at run time");
  };
  for (const auto& s : spec.secrets) ctx.secrets[s.name] = "***";
  for (const auto& e : spec.env) {
    auto t = expr::Template::Parse(e.value);
    auto r = t.ok() ? expr::RenderString(*t, ctx) : Result<std::string>(t.status());
    ctx.env[e.name] = r.ok() ? *r : "(at run time)";
  }

  int order = 0;
  for (int i : rb.ExecutionOrder()) {
    const CompiledStep& cs = rb.steps[i];
    const StepSpec& s = *cs.spec;
    PlanStep p;
    p.order = ++order;
    p.id = s.id;
    p.title = s.title;
    p.type = s.type;
    p.block = BlockName(cs.block);
    for (int n : cs.needs) p.needs.push_back(rb.steps[n].id());
    p.condition = cs.condition;
    if (cs.condition_is_default) {
      p.decision = cs.block == Block::kMain && cs.needs.empty() ? "runs"
                   : cs.block == Block::kMain                   ? "runs when its needs succeed"
                   : cs.block == Block::kOnFailure             ? "runs if the run fails"
                                                                : "runs at the end of every run";
    } else {
      auto e = expr::ParseCondition(s.if_expr);
      auto r = e.ok() ? expr::Evaluate(*e, ctx) : Result<boost::json::value>(e.status());
      if (r.ok())
        p.decision = expr::Truthy(*r) ? "runs (condition is true)" : "skipped (condition is false)";
      else
        p.decision = "decided at run time (" + r.status().message() + ")";
    }
    if (cs.timeout) p.timeout = FormatDuration(*cs.timeout);
    p.retry = RetryText(cs.retry);
    p.approval = s.approval.has_value() || s.type == "approval";
    if (s.approval) p.approvers = s.approval->approvers;
    p.continue_on_error = s.continue_on_error;
    p.action = Action(s, spec.defaults.shell);
    p.fields = s.fields.ToJson();
    if (cs.type)
      if (auto preview = cs.type->Preview(s, spec, ctx)) p.preview = std::move(*preview);
    CollectBindings(s.fields, ctx, p.bindings);
    for (const auto& e : s.env) CollectBindings(Node::Scalar(e.value, e.loc), ctx, p.bindings);
    v.steps.push_back(std::move(p));
  }
  for (const auto& o : spec.outputs) v.outputs.emplace_back(o.name, o.expr);
  return v;
}

boost::json::object PlanToJson(const PlanView& v) {
  boost::json::object o;
  o["plan_version"] = 1;
  o["runbook"] = v.name;
  o["title"] = v.title;
  o["file"] = v.file;
  o["source_sha256"] = v.source_sha256;
  o["params"] = v.params;
  boost::json::array secrets;
  for (const auto& s : v.secrets) secrets.push_back(boost::json::string(s));
  o["secrets"] = secrets;
  o["timeout"] = v.timeout.empty() ? boost::json::value(nullptr) : boost::json::value(v.timeout);
  o["concurrency"] = v.concurrency.empty() ? boost::json::value(nullptr) : boost::json::value(v.concurrency);
  boost::json::array sched;
  for (const auto& s : v.schedule) sched.push_back(boost::json::string(s));
  o["schedule"] = sched;
  boost::json::array steps;
  for (const auto& p : v.steps) {
    boost::json::object s;
    s["order"] = p.order;
    s["id"] = p.id;
    s["title"] = p.title;
    s["type"] = p.type;
    s["block"] = p.block;
    boost::json::array needs;
    for (const auto& n : p.needs) needs.push_back(boost::json::string(n));
    s["needs"] = needs;
    s["if"] = p.condition;
    s["decision"] = p.decision;
    s["timeout"] = p.timeout.empty() ? boost::json::value(nullptr) : boost::json::value(p.timeout);
    s["retry"] = p.retry.empty() ? boost::json::value(nullptr) : boost::json::value(p.retry);
    s["approval"] = p.approval;
    boost::json::array approvers;
    for (const auto& a : p.approvers) approvers.push_back(boost::json::string(a));
    s["approvers"] = approvers;
    s["continue_on_error"] = p.continue_on_error;
    s["action"] = p.action;
    s["fields"] = p.fields;
    s["preview"] = p.preview;
    boost::json::object bindings;
    for (const auto& [k, val] : p.bindings) bindings[k] = val;
    s["bindings"] = bindings;
    steps.push_back(std::move(s));
  }
  o["steps"] = steps;
  boost::json::object outs;
  for (const auto& [k, e] : v.outputs) outs[k] = e;
  o["outputs"] = outs;
  return o;
}

void PrintPlan(const PlanView& v, std::ostream& out) {
  out << "runbook " << v.name << (v.title.empty() ? "" : " — " + v.title) << "\n";
  out << "  file: " << v.file << " (sha256 " << v.source_sha256.substr(0, 12) << ")\n";
  if (!v.schedule.empty()) {
    out << "  schedule:";
    for (const auto& s : v.schedule) out << " [" << s << "]";
    out << "\n";
  }
  if (!v.concurrency.empty()) out << "  concurrency: " << v.concurrency << "\n";
  if (!v.timeout.empty()) out << "  run timeout: " << v.timeout << "\n";
  if (!v.params.empty()) {
    out << "params:\n";
    for (const auto& [k, val] : v.params) out << "  " << std::string(k) << " = " << JsonText(val) << "\n";
  }
  if (!v.secrets.empty()) {
    out << "secrets:";
    for (const auto& s : v.secrets) out << " " << s << "=***";
    out << "\n";
  }
  std::string block;
  for (const auto& p : v.steps) {
    if (p.block != block) {
      block = p.block;
      out << (block == "steps" ? "steps, in execution order:\n" : block + ":\n");
    }
    out << "  " << p.order << ". " << p.id << " [" << p.type << "]" << (p.title.empty() ? "" : " " + p.title) << "\n";
    out << "       " << p.action << "\n";
    if (p.preview.is_object() && !p.preview.get_object().empty()) {
      out << "       preview:\n";
      for (const auto& [k, val] : p.preview.get_object()) PrintPreview(out, "         ", k, val);
    }
    if (!p.needs.empty()) {
      out << "       needs:";
      for (const auto& n : p.needs) out << " " << n;
      out << "\n";
    }
    if (p.condition != "success()") out << "       if: " << p.condition << "\n";
    out << "       -> " << p.decision << "\n";
    if (p.approval) {
      out << "       approval required";
      if (!p.approvers.empty()) {
        out << " from:";
        for (const auto& a : p.approvers) out << " " << a;
      }
      out << "\n";
    }
    if (!p.timeout.empty() || !p.retry.empty() || p.continue_on_error) {
      out << "       ";
      if (!p.timeout.empty()) out << "timeout " << p.timeout << "  ";
      if (!p.retry.empty()) out << "retry " << p.retry << "  ";
      if (p.continue_on_error) out << "continue on error";
      out << "\n";
    }
    for (const auto& [k, val] : p.bindings) out << "       " << k << " = " << val << "\n";
  }
  if (!v.outputs.empty()) {
    out << "outputs:\n";
    for (const auto& [k, e] : v.outputs) out << "  " << k << ": " << e << "\n";
  }
}

void ShowPlan(const CompiledRunbook& rb, const boost::json::object& params, bool json, std::ostream& out) {
  PlanView view = BuildPlanView(rb, params);
  if (json)
    out << JsonText(PlanToJson(view)) << "\n";
  else
    PrintPlan(view, out);
}

}  // namespace runbook::cli

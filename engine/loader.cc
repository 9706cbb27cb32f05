#include "engine/loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <unordered_map>

#include "engine/cron.h"
#include "engine/extract.h"
#include "engine/schema_reader.h"
#include "engine/yaml_reader.h"

namespace runbook {
namespace {

using schema::KindError;

const std::vector<std::string> kTopKeys = {
    "name",   "title",    "description", "category", "tags",     "fail_on",    "params",
    "secrets", "env",     "defaults",    "concurrency", "schedule", "steps",    "on_failure",
    "finally", "outputs", "sequential",  "timeout"};

const std::vector<std::string> kStepCommonKeys = {
    "id",  "title",   "description", "type",   "needs",  "if",     "timeout",
    "retry", "continue_on_error", "approval", "env", "outputs", "repeat", "tags"};

// "a shell", "an http", "an exec", "an approval".
std::string Article(std::string_view type) {
  bool vowel = !type.empty() && std::string_view("aeio").find(type[0]) != std::string_view::npos;
  return (vowel || type == "http" ? "an " : "a ") + std::string(type);
}

bool IsIdChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; }

std::string Stem(const std::string& path) {
  size_t slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  size_t dot = base.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

}  // namespace

void ReadApprovalFields(const Node& node, const std::string& ctx, ApprovalSpec& a, Diagnostics& diags) {
    if (const Node* n = node.Find("prompt")) {
      if (auto v = schema::String(*n, ctx + "'prompt'", diags)) a.prompt = *v;
    }
    if (const Node* n = node.Find("approvers")) {
      if (auto v = schema::StringList(*n, ctx + "'approvers'", diags)) a.approvers = *v;
    }
    if (const Node* n = node.Find("min_approvals")) {
      if (auto v = schema::Int(*n, ctx + "'min_approvals'", diags, 1, 100)) a.min_approvals = static_cast<int>(*v);
    }
    if (const Node* n = node.Find("inputs")) a.inputs = schema::ParamSpecs(*n, ctx, diags);
    if (const Node* n = node.Find("timeout")) a.timeout = schema::Duration(*n, ctx + "'timeout'", diags);
    if (const Node* n = node.Find("on_timeout")) {
      if (auto v = schema::Enum(*n, ctx + "'on_timeout'", {"reject", "approve"}, diags))
        a.on_timeout = *v == "approve" ? OnTimeout::kApprove : OnTimeout::kReject;
    }
    if (!a.approvers.empty() && a.min_approvals > static_cast<int>(a.approvers.size()))
      diags.Error(node.loc, ctx + "'min_approvals' is " + std::to_string(a.min_approvals) + " but only " +
                                std::to_string(a.approvers.size()) +
                                (a.approvers.size() == 1 ? " approver is listed" : " approvers are listed"));
  }


namespace {

class Loader {
 public:
  Loader(const StepTypeRegistry& types, Diagnostics& diags) : types_(types), diags_(diags) {}

  std::optional<RunbookSpec> Load(std::string_view text, const std::string& path) {
    auto file = std::make_shared<const std::string>(path);
    std::optional<Node> root = ReadYaml(text, file, diags_);
    if (!root) return std::nullopt;
    if (!root->IsMapping()) {
      diags_.Error(root->loc, "a runbook must be a YAML mapping (name:, steps:, ...), got " + root->KindName());
      return std::nullopt;
    }
    RunbookSpec spec;
    spec.source_path = path;
    spec.source_text = std::string(text);
    spec.loc = root->loc;
    Top(*root, spec);
    return spec;
  }

 private:
  void Top(const Node& root, RunbookSpec& spec) {
    schema::CheckKeys(root, kTopKeys, "", "key", diags_);
    spec.name = Stem(spec.source_path);
    spec.name_loc = root.loc;
    if (const Node* n = root.Find("name")) {
      spec.name_loc = n->loc;
      if (auto s = schema::String(*n, "'name'", diags_)) {
        spec.name = *s;
        if (!IsValidRunbookName(*s))
          diags_.Error(n->loc, "invalid runbook name '" + *s +
                                   "': use lower-case letters, digits and '-', starting with a letter or digit");
      }
    } else if (!IsValidRunbookName(spec.name)) {
      diags_.Error(root.loc, "the file name '" + spec.name +
                                 "' is not a valid runbook name; rename the file or set 'name:'");
    }
    ReadString(root, "title", spec.title);
    ReadString(root, "description", spec.description);
    ReadString(root, "category", spec.category);
    if (const Node* n = root.Find("tags")) {
      if (auto v = schema::StringList(*n, "'tags'", diags_)) spec.tags = *v;
    }
    if (const Node* n = root.Find("fail_on")) {
      if (auto v = schema::Enum(*n, "'fail_on'", {"never", "warning", "critical"}, diags_))
        spec.fail_on = *v == "never" ? FailOn::kNever : *v == "warning" ? FailOn::kWarning : FailOn::kCritical;
    }
    if (const Node* n = root.Find("params")) spec.params = schema::ParamSpecs(*n, "", diags_);
    if (const Node* n = root.Find("secrets")) Secrets(*n, spec);
    if (const Node* n = root.Find("env")) spec.env = Env(*n, "'env'");
    if (const Node* n = root.Find("defaults")) Defaults(*n, spec.defaults);
    if (const Node* n = root.Find("concurrency")) Concurrency(*n, spec);
    if (const Node* n = root.Find("schedule")) Schedule(*n, spec);
    if (const Node* n = root.Find("sequential")) {
      if (auto b = schema::Bool(*n, "'sequential'", diags_)) spec.sequential = *b;
    }
    if (const Node* n = root.Find("timeout")) spec.timeout = schema::Duration(*n, "'timeout'", diags_);
    if (const Node* n = root.Find("steps")) {
      spec.steps = Steps(*n, Block::kMain);
      if (n->IsSequence() && n->items.empty()) diags_.Error(n->loc, "'steps' is empty; a runbook needs at least one step");
    } else {
      diags_.Error(root.loc, "missing 'steps'");
    }
    if (const Node* n = root.Find("on_failure")) spec.on_failure = Steps(*n, Block::kOnFailure);
    if (const Node* n = root.Find("finally")) spec.finally_steps = Steps(*n, Block::kFinally);
    if (const Node* n = root.Find("outputs")) {
      if (schema::ExpectMapping(*n, "'outputs'", diags_)) {
        for (size_t i = 0; i < n->keys.size(); ++i) {
          RunbookOutput o;
          o.name = n->keys[i];
          o.loc = n->items[i].loc;
          if (auto s = schema::String(n->items[i], "output '" + o.name + "'", diags_)) {
            o.expr = *s;
            spec.outputs.push_back(std::move(o));
          }
        }
      }
    }
  }

  void ReadString(const Node& map, const char* key, std::string& out) {
    if (const Node* n = map.Find(key)) {
      if (auto s = schema::String(*n, std::string("'") + key + "'", diags_)) out = *s;
    }
  }

  void Secrets(const Node& node, RunbookSpec& spec) {
    if (!schema::ExpectMapping(node, "'secrets'", diags_)) return;
    for (size_t i = 0; i < node.keys.size(); ++i) {
      SecretSpec s;
      s.name = node.keys[i];
      s.loc = node.key_locs[i];
      std::string ctx = "secret '" + s.name + "'";
      const Node& d = node.items[i];
      if (!d.IsMapping()) {
        KindError(d, ctx, "a mapping like {env: NAME} or {file: PATH}", diags_);
        continue;
      }
      schema::CheckKeys(d, {"env", "file"}, ctx + ": ", "key", diags_);
      if (const Node* e = d.Find("env")) {
        if (auto v = schema::String(*e, ctx + ": 'env'", diags_)) s.env = *v;
      }
      if (const Node* f = d.Find("file")) {
        if (auto v = schema::String(*f, ctx + ": 'file'", diags_)) s.file = *v;
      }
      if (s.env.empty() == s.file.empty()) {
        diags_.Error(d.loc, ctx + ": give exactly one of 'env' or 'file'");
        continue;
      }
      spec.secrets.push_back(std::move(s));
    }
  }

  std::vector<EnvVar> Env(const Node& node, const std::string& what) {
    std::vector<EnvVar> out;
    if (!schema::ExpectMapping(node, what, diags_)) return out;
    for (size_t i = 0; i < node.keys.size(); ++i) {
      const std::string& k = node.keys[i];
      bool valid = !k.empty() && !isdigit(static_cast<unsigned char>(k[0]));
      for (char c : k) valid &= (isalnum(static_cast<unsigned char>(c)) || c == '_');
      if (!valid) {
        diags_.Error(node.key_locs[i], what + ": invalid environment variable name '" + k + "'");
        continue;
      }
      const Node& v = node.items[i];
      if (!v.IsScalar()) {
        KindError(v, what + ": '" + k + "'", "a string", diags_);
        continue;
      }
      out.push_back(EnvVar{k, v.scalar, v.loc});
    }
    return out;
  }

  std::optional<RetrySpec> Retry(const Node& node, const std::string& prefix) {
    std::string what = prefix + "'retry'";
    if (!schema::ExpectMapping(node, what, diags_)) return std::nullopt;
    schema::CheckKeys(node, {"attempts", "delay", "backoff", "max_delay"}, prefix + "retry: ", "key", diags_);
    RetrySpec r;
    r.loc = node.loc;
    if (const Node* n = node.Find("attempts")) {
      if (auto v = schema::Int(*n, what + ": 'attempts'", diags_, 1, 100)) r.attempts = static_cast<int>(*v);
    }
    if (const Node* n = node.Find("delay")) {
      if (auto v = schema::Duration(*n, what + ": 'delay'", diags_)) r.delay = *v;
    }
    if (const Node* n = node.Find("backoff")) {
      if (auto v = schema::Number(*n, what + ": 'backoff'", diags_)) {
        if (*v < 1)
          diags_.Error(n->loc, what + ": 'backoff' must be at least 1");
        else
          r.backoff = *v;
      }
    }
    if (const Node* n = node.Find("max_delay")) r.max_delay = schema::Duration(*n, what + ": 'max_delay'", diags_);
    return r;
  }

  void Defaults(const Node& node, DefaultsSpec& d) {
    if (!schema::ExpectMapping(node, "'defaults'", diags_)) return;
    schema::CheckKeys(node, {"timeout", "retry", "shell", "env"}, "defaults: ", "key", diags_);
    if (const Node* n = node.Find("timeout")) d.timeout = schema::Duration(*n, "defaults: 'timeout'", diags_);
    if (const Node* n = node.Find("retry")) d.retry = Retry(*n, "defaults: ");
    if (const Node* n = node.Find("shell")) {
      if (auto v = schema::Enum(*n, "defaults: 'shell'", {"sh", "bash"}, diags_)) d.shell = *v;
    }
    if (const Node* n = node.Find("env")) d.env = Env(*n, "defaults: 'env'");
  }

  void Concurrency(const Node& node, RunbookSpec& spec) {
    if (!schema::ExpectMapping(node, "'concurrency'", diags_)) return;
    schema::CheckKeys(node, {"group", "policy"}, "concurrency: ", "key", diags_);
    ConcurrencySpec c;
    c.loc = node.loc;
    if (const Node* n = node.Find("group")) {
      if (auto v = schema::String(*n, "concurrency: 'group'", diags_)) c.group = *v;
    } else {
      c.group = spec.name;
    }
    if (const Node* n = node.Find("policy")) {
      if (auto v = schema::Enum(*n, "concurrency: 'policy'", {"queue", "skip", "fail", "allow"}, diags_)) {
        c.policy = *v == "queue" ? ConcurrencyPolicy::kQueue
                   : *v == "skip" ? ConcurrencyPolicy::kSkip
                   : *v == "fail" ? ConcurrencyPolicy::kFail
                                  : ConcurrencyPolicy::kAllow;
      }
    }
    spec.concurrency = c;
  }

  void Schedule(const Node& node, RunbookSpec& spec) {
    if (!schema::ExpectSequence(node, "'schedule'", diags_)) return;
    for (const Node& t : node.items) {
      if (!schema::ExpectMapping(t, "a schedule entry", diags_)) continue;
      schema::CheckKeys(t, {"cron", "timezone", "params", "catch_up"}, "schedule: ", "key", diags_);
      ScheduleSpec s;
      s.loc = t.loc;
      if (const Node* n = t.Find("cron")) {
        s.cron_loc = n->loc;
        if (auto v = schema::String(*n, "schedule: 'cron'", diags_)) {
          s.cron = *v;
          auto parsed = cron::ParseCron(*v);
          if (!parsed.ok()) diags_.Error(n->loc, "schedule: invalid cron expression '" + *v + "': " + parsed.status().message());
        }
      } else {
        diags_.Error(t.loc, "schedule: missing 'cron'");
      }
      if (const Node* n = t.Find("timezone")) {
        s.timezone_loc = n->loc;
        if (auto v = schema::String(*n, "schedule: 'timezone'", diags_)) {
          s.timezone = *v;
          auto z = cron::LocateZone(*v);
          if (!z.ok()) diags_.Error(n->loc, "schedule: " + z.status().message());
        }
      }
      if (const Node* n = t.Find("params")) {
        s.params_loc = n->loc;
        if (schema::ExpectMapping(*n, "schedule: 'params'", diags_)) s.params = n->ToJson().as_object();
      }
      if (const Node* n = t.Find("catch_up")) {
        if (auto v = schema::Enum(*n, "schedule: 'catch_up'", {"none", "last"}, diags_))
          s.catch_up = *v == "none" ? CatchUp::kNone : CatchUp::kLast;
      }
      spec.schedule.push_back(std::move(s));
    }
  }

  std::vector<StepSpec> Steps(const Node& node, Block block) {
    std::vector<StepSpec> out;
    std::string what = std::string("'") + BlockName(block) + "'";
    if (!schema::ExpectSequence(node, what, diags_)) return out;
    out.reserve(node.items.size());  // a StepSpec is large; growing by doubling would move each several times
    for (const Node& s : node.items) {
      if (!s.IsMapping()) {
        KindError(s, "a step", "a mapping", diags_);
        continue;
      }
      out.push_back(Step(s, block, out.size()));
    }
    return out;
  }

  StepSpec Step(const Node& node, Block block, size_t index) {
    StepSpec st;
    st.loc = node.loc;
    st.id_loc = node.loc;
    st.block = block;
    if (const Node* n = node.Find("id")) {
      st.id_loc = n->loc;
      if (auto v = schema::String(*n, "step 'id'", diags_)) {
        st.id = *v;
        if (!IsValidStepId(*v))
          diags_.Error(n->loc, "invalid step id '" + *v +
                                   "': use lower-case letters, digits, '-' and '_', starting with a letter or digit");
      }
    } else {
      st.id = std::string(block == Block::kMain ? "" : BlockName(block)) + (block == Block::kMain ? "step-" : "-") +
              std::to_string(index + 1);
      diags_.Error(node.loc, "step " + std::to_string(index + 1) + " in '" + BlockName(block) + "' has no 'id'");
    }
    std::string ctx = "step '" + st.id + "': ";

    // The type: explicit, or implied by `run`/`argv`.
    const StepType* type = nullptr;
    if (const Node* n = node.Find("type")) {
      st.type_loc = n->loc;
      if (auto v = schema::String(*n, ctx + "'type'", diags_)) {
        st.type = *v;
        type = types_.Find(*v);
        if (!type) diags_.Error(n->loc, ctx + "unknown type '" + *v + "'" + DidYouMean(*v, types_.Names()));
      }
    } else if (node.Find("run")) {
      st.type = "shell";
      type = types_.Find("shell");
    } else if (node.Find("argv")) {
      st.type = "exec";
      type = types_.Find("exec");
    } else {
      std::string names;
      for (const auto& n : types_.Names()) names += (names.empty() ? "" : ", ") + n;
      diags_.Error(node.loc, ctx + "missing 'type' (one of: " + names + ")");
    }

    // Split keys into common fields and type fields.
    st.fields.kind = Node::Kind::kMapping;
    st.fields.loc = node.loc;
    for (size_t i = 0; i < node.keys.size(); ++i) {
      const std::string& k = node.keys[i];
      bool common = false;
      for (const auto& c : kStepCommonKeys) common |= (c == k);
      if (common) continue;
      st.fields.keys.push_back(k);
      st.fields.key_locs.push_back(node.key_locs[i]);
      st.fields.items.push_back(node.items[i]);
    }

    ReadString(node, "title", st.title);
    ReadString(node, "description", st.description);
    if (const Node* n = node.Find("needs")) {
      if (n->IsScalar()) {  // `needs: a` is accepted as `needs: [a]`
        st.needs.push_back(n->scalar);
        st.needs_locs.push_back(n->loc);
      } else if (auto v = schema::StringList(*n, ctx + "'needs'", diags_)) {
        st.needs = *v;
        for (const auto& item : n->items) st.needs_locs.push_back(item.loc);
      }
    }
    if (const Node* n = node.Find("if")) {
      st.if_loc = n->loc;
      if (n->AsBool()) {
        st.if_expr = n->scalar;
      } else if (auto v = schema::String(*n, ctx + "'if'", diags_)) {
        st.if_expr = *v;
        if (st.if_expr.empty()) diags_.Error(n->loc, ctx + "'if' is empty");
      }
    }
    if (const Node* n = node.Find("timeout")) st.timeout = schema::Duration(*n, ctx + "'timeout'", diags_);
    if (const Node* n = node.Find("retry")) st.retry = Retry(*n, ctx);
    if (const Node* n = node.Find("continue_on_error")) {
      if (auto b = schema::Bool(*n, ctx + "'continue_on_error'", diags_)) st.continue_on_error = *b;
    }
    if (const Node* n = node.Find("approval")) st.approval = Approval(*n, ctx);
    if (const Node* n = node.Find("env")) st.env = Env(*n, ctx + "'env'");
    if (const Node* n = node.Find("outputs")) st.outputs = Outputs(*n, ctx, type);
    if (const Node* n = node.Find("repeat")) st.repeat = Repeat(*n, ctx);
    if (const Node* n = node.Find("tags")) {
      if (auto v = schema::StringList(*n, ctx + "'tags'", diags_)) st.tags = *v;
    }
    if (type) TypeFields(st, *type, ctx);
    return st;
  }

  void TypeFields(const StepSpec& st, const StepType& type, const std::string& ctx) {
    const auto& schema_fields = type.fields();
    std::vector<std::string> names;
    for (const auto& f : schema_fields) names.push_back(f.name);
    bool shape_ok = true;
    for (size_t i = 0; i < st.fields.keys.size(); ++i) {
      const std::string& k = st.fields.keys[i];
      const FieldSchema* f = nullptr;
      for (const auto& fs : schema_fields)
        if (fs.name == k) f = &fs;
      if (!f) {
        shape_ok = false;
        std::string owners;
        for (const auto& tn : types_.Names()) {
          const StepType* other = types_.Find(tn);
          for (const auto& of : other->fields())
            if (of.name == k) owners += (owners.empty() ? "" : ", ") + tn;
        }
        if (!owners.empty()) {
          diags_.Error(st.fields.key_locs[i], ctx + "field '" + k + "' does not belong to " +
                                                  Article(type.name()) + " step (it is a field of: " + owners + ")");
        } else {
          std::vector<std::string> all = names;
          all.insert(all.end(), kStepCommonKeys.begin(), kStepCommonKeys.end());
          diags_.Error(st.fields.key_locs[i], ctx + "unknown field '" + k + "'" + DidYouMean(k, all));
        }
        continue;
      }
      shape_ok &= FieldKindOk(*f, st.fields.items[i], ctx + "'" + k + "'");
    }
    for (const auto& f : schema_fields) {
      if (f.required && !st.fields.Find(f.name)) {
        diags_.Error(st.loc, ctx + "missing required field '" + f.name + "' for " + Article(type.name()) + " step");
        shape_ok = false;
      }
    }
    if (shape_ok) type.Validate(st, diags_);
  }

  bool FieldKindOk(const FieldSchema& f, const Node& v, const std::string& what) {
    Diagnostics local;
    switch (f.kind) {
      case FieldKind::kString:
        schema::String(v, what, local);
        break;
      case FieldKind::kStringList:
        schema::StringList(v, what, local);
        break;
      case FieldKind::kStringMap:
        if (schema::ExpectMapping(v, what, local)) {
          for (size_t i = 0; i < v.items.size(); ++i)
            schema::String(v.items[i], what + ": '" + v.keys[i] + "'", local);
        }
        break;
      case FieldKind::kIntList:
        if (v.IsSequence()) {
          for (const auto& item : v.items) schema::Int(item, what + " entries", local);
        } else {
          schema::Int(v, what, local);
        }
        break;
      case FieldKind::kInt:
        schema::Int(v, what, local);
        break;
      case FieldKind::kBool:
        schema::Bool(v, what, local);
        break;
      case FieldKind::kDuration:
        schema::Duration(v, what, local);
        break;
      case FieldKind::kEnum:
        schema::Enum(v, what, f.choices, local);
        break;
      case FieldKind::kAny:
        break;
      case FieldKind::kMapping:
        schema::ExpectMapping(v, what, local);
        break;
    }
    diags_.Append(local);
    return !local.has_errors();
  }

  std::optional<ApprovalSpec> Approval(const Node& node, const std::string& ctx) {
    ApprovalSpec a;
    a.loc = node.loc;
    if (node.IsScalar()) {
      if (node.scalar == "required" || node.AsBool() == true) return a;
      if (node.AsBool() == false) return std::nullopt;
      diags_.Error(node.loc, ctx + "'approval' must be 'required' or a mapping {approvers: [...], ...}, got '" +
                                 node.scalar + "'");
      return std::nullopt;
    }
    if (!schema::ExpectMapping(node, ctx + "'approval'", diags_)) return std::nullopt;
    schema::CheckKeys(node, {"prompt", "approvers", "min_approvals", "inputs", "timeout", "on_timeout"},
                      ctx + "approval: ", "key", diags_);
    ReadApprovalFields(node, ctx + "approval: ", a, diags_);
    return a;
  }

 private:
  std::vector<OutputRule> Outputs(const Node& node, const std::string& ctx, const StepType* type) {
    std::vector<OutputRule> out;
    if (!schema::ExpectMapping(node, ctx + "'outputs'", diags_)) return out;
    std::vector<std::string> sources = type ? type->TextSources() : std::vector<std::string>{};
    for (size_t i = 0; i < node.keys.size(); ++i) {
      OutputRule r;
      r.name = node.keys[i];
      r.loc = node.key_locs[i];
      std::string oc = ctx + "output '" + r.name + "': ";
      const Node& d = node.items[i];
      if (!d.IsMapping()) {
        KindError(d, ctx + "output '" + r.name + "'", "a mapping like {from: stdout, regex: '...'}", diags_);
        continue;
      }
      schema::CheckKeys(d, {"from", "regex", "group", "json", "type", "default"}, oc, "key", diags_);
      if (const Node* n = d.Find("from")) {
        if (auto v = schema::String(*n, oc + "'from'", diags_)) {
          r.from = *v;
          if (type && !sources.empty()) {
            bool ok = false;
            for (const auto& s : sources) ok |= (s == *v);
            if (!ok) {
              std::string list;
              for (size_t j = 0; j < sources.size(); ++j) list += (j ? ", " : "") + sources[j];
              diags_.Error(n->loc, oc + "'from' must be one of " + list + " for " + Article(type->name()) +
                                       " step, got '" + *v + "'");
            }
          }
        }
      } else if (!sources.empty()) {
        r.from = sources.front();
      } else if (type) {
        diags_.Error(d.loc, oc + Article(type->name()) + " step has no text output to extract from");
      }
      if (const Node* n = d.Find("regex")) {
        if (auto v = schema::String(*n, oc + "'regex'", diags_)) {
          const RegexCheck& re = CheckRegex(*v);
          if (!re.ok) {
            diags_.Error(n->loc, oc + "invalid regex '" + *v + "': " + re.error);
          } else {
            r.regex = *v;
            if (const Node* g = d.Find("group")) {
              if (auto gv = schema::Int(*g, oc + "'group'", diags_, 0)) {
                if (static_cast<size_t>(*gv) > re.mark_count)
                  diags_.Error(g->loc, oc + "'group' " + std::to_string(*gv) + " but the regex has " +
                                           std::to_string(re.mark_count) + " group(s)");
                r.group = static_cast<int>(*gv);
              }
            } else if (re.mark_count == 0) {
              r.group = 0;
            }
          }
        }
      } else if (const Node* g = d.Find("group")) {
        diags_.Error(g->loc, oc + "'group' needs 'regex'");
      }
      if (const Node* n = d.Find("json")) {
        if (auto v = schema::String(*n, oc + "'json'", diags_)) {
          if (!v->empty() && (*v)[0] != '/')
            diags_.Error(n->loc, oc + "'json' must be a JSON pointer starting with '/', got '" + *v + "'");
          else
            r.json_pointer = *v;
        }
      }
      if (const Node* n = d.Find("type")) {
        if (auto v = schema::Enum(*n, oc + "'type'", {"string", "number", "int", "bool", "json"}, diags_))
          r.type = *v == "number" ? OutputType::kNumber
                   : *v == "int"  ? OutputType::kInt
                   : *v == "bool" ? OutputType::kBool
                   : *v == "json" ? OutputType::kJson
                                  : OutputType::kString;
      } else if (r.json_pointer) {
        r.type = OutputType::kJson;
      }
      if (const Node* n = d.Find("default")) r.default_value = n->ToJson();
      out.push_back(std::move(r));
    }
    return out;
  }

  std::optional<RepeatSpec> Repeat(const Node& node, const std::string& ctx) {
    if (!schema::ExpectMapping(node, ctx + "'repeat'", diags_)) return std::nullopt;
    schema::CheckKeys(node, {"until", "every", "max"}, ctx + "repeat: ", "key", diags_);
    RepeatSpec r;
    r.loc = node.loc;
    if (const Node* n = node.Find("until")) {
      r.until_loc = n->loc;
      if (auto v = schema::String(*n, ctx + "repeat: 'until'", diags_)) r.until = *v;
    } else {
      diags_.Error(node.loc, ctx + "repeat: missing 'until'");
    }
    if (const Node* n = node.Find("every")) {
      if (auto v = schema::Duration(*n, ctx + "repeat: 'every'", diags_)) r.every = *v;
    }
    if (const Node* n = node.Find("max")) {
      if (auto v = schema::Duration(*n, ctx + "repeat: 'max'", diags_)) r.max = *v;
    }
    return r;
  }

  // Compiles `pattern` once per distinct pattern (with the engine that will
  // run it, extract.h): compiling a regex costs far more than the rest of a
  // step, and generated or copied runbooks repeat the same few patterns.
  struct RegexCheck {
    bool ok = true;
    size_t mark_count = 0;
    std::string error;  // why it is not a valid regex, when !ok
  };
  const RegexCheck& CheckRegex(const std::string& pattern) {
    auto it = regex_cache_.find(pattern);
    if (it != regex_cache_.end()) return it->second;
    RegexCheck c;
    auto groups = RegexGroups(pattern);
    if (groups.ok()) {
      c.mark_count = *groups;
    } else {
      c.ok = false;
      c.error = groups.status().message();
    }
    return regex_cache_.emplace(pattern, std::move(c)).first->second;
  }

  const StepTypeRegistry& types_;
  Diagnostics& diags_;
  std::unordered_map<std::string, RegexCheck> regex_cache_;
};

}  // namespace

bool IsValidStepId(std::string_view id) {
  if (id.empty() || id.size() > 128 || !((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= '0' && id[0] <= '9')))
    return false;
  for (char c : id)
    if (!IsIdChar(c)) return false;
  return true;
}

bool IsValidRunbookName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9'))) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

std::optional<RunbookSpec> LoadRunbookText(std::string_view text, const std::string& path,
                                           const StepTypeRegistry& types, Diagnostics& diags) {
  return Loader(types, diags).Load(text, path);
}

namespace {

std::string FileKindName(unsigned mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO";
    case S_IFSOCK: return "a socket";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFLNK: return "a symbolic link";
    default: return "of an unknown kind";
  }
}

std::string ErrnoText(int err) {
  std::string s = std::strerror(err);
  // "Permission denied" -> "permission denied", as in the rest of our messages.
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z' && !(s.size() > 1 && s[1] >= 'A' && s[1] <= 'Z'))
    s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

}  // namespace

Status CheckRunbookFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound("no such runbook file: " + path);
    return Status::IoError(path + ": " + ErrnoText(err));
  }
  if (!S_ISREG(st.st_mode))
    return Status::InvalidArgument(path + ": not a regular file (" + FileKindName(st.st_mode) + ")");
  return Status::Ok();
}

std::optional<RunbookSpec> LoadRunbookFile(const std::string& path, const StepTypeRegistry& types,
                                           Diagnostics& diags) {
  auto file = std::make_shared<const std::string>(path);
  auto fail = [&](const std::string& message) {
    diags.Error(SourceLoc{file, 0, 0}, message);
    return std::nullopt;
  };
  // O_NONBLOCK: opening a FIFO with no writer must not wait for one.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return fail("cannot read runbook: " + ErrnoText(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) return fail("cannot read runbook: " + ErrnoText(errno));
  if (!S_ISREG(st.st_mode)) return fail("not a regular file (" + FileKindName(st.st_mode) + ")");
  if (static_cast<unsigned long long>(st.st_size) > kMaxRunbookBytes)
    return fail("runbook file is larger than " + std::to_string(kMaxRunbookBytes >> 20) + " MiB");
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::read(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("cannot read runbook: " + ErrnoText(errno));
    if (n == 0) break;  // it shrank meanwhile
    done += static_cast<size_t>(n);
  }
  text.resize(done);
  return LoadRunbookText(text, path, types, diags);
}

}  // namespace runbook

// `runbook journal export (RUN... | --incident ID | --since T [--until T])
// --format md|html|json|csv [-o FILE] [--tz TZ]`: the post-incident review
// document (SPEC §7, docs/export.md). The report module (report/) collects
// and renders; this file parses the command line, supplies what each step ran
// (from the run's stored runbook source, through the engine's loader), and
// writes to stdout or atomically to a file.
#include <boost/json.hpp>
#include <filesystem>
#include <memory>
#include <ostream>

#include "cli/cli.h"
#include "engine/json_text.h"
#include "engine/loader.h"
#include "journal/path.h"
#include "report/atomic_file.h"
#include "report/export_model.h"
#include "report/render.h"

namespace runbook::cli {
namespace {

struct ExportOptions {
  std::vector<std::string> runs;
  std::string incident, since, until, format, output, tz;
  int excerpt_lines = 10;
  bool no_children = false;
};

std::string Scalar(const Node& fields, const char* key) {
  const Node* n = fields.Find(key);
  if (!n || n->IsNull()) return "";
  if (n->IsScalar()) return n->scalar;
  return JsonText(n->ToJson());
}

// One argv word as a reader would type it.
std::string ShellWord(const std::string& w) {
  if (!w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") ==
                        std::string::npos)
    return w;
  std::string out = "'";
  for (char c : w) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The command or request a step runs, as its runbook writes it (expressions
// unexpanded: their values are the run's parameters and step outputs).
std::string Command(const StepSpec& s) {
  const Node& f = s.fields;
  auto line = [](const std::string& k, const std::string& v) { return v.empty() ? "" : k + ": " + v + "\n"; };
  if (s.type == "shell") return Scalar(f, "run");
  if (s.type == "exec") {
    std::string a;
    if (const Node* argv = f.Find("argv"))
      for (const auto& i : argv->items) a += (a.empty() ? "" : " ") + ShellWord(i.scalar);
    return a;
  }
  if (s.type == "http") {
    std::string method = Scalar(f, "method");
    std::string out = (method.empty() ? "GET" : method) + " " + Scalar(f, "url") + "\n";
    if (const Node* h = f.Find("headers"); h && h->IsMapping())
      for (size_t i = 0; i < h->keys.size(); ++i) out += h->keys[i] + ": " + h->items[i].scalar + "\n";
    if (f.Find("json")) out += "\n" + JsonText(f.Find("json")->ToJson()) + "\n";
    if (f.Find("body")) out += "\n" + Scalar(f, "body") + "\n";
    return out;
  }
  if (s.type == "sql") return "-- database: " + Scalar(f, "database") + "\n" + Scalar(f, "query");
  if (s.type == "runbook") return "runbook " + Scalar(f, "runbook") + (f.Find("params") ? " " + Scalar(f, "params") : "");
  if (s.type == "wait")
    return f.Find("duration") ? "wait " + Scalar(f, "duration") : "wait until " + Scalar(f, "until");
  std::string out;
  for (size_t i = 0; i < f.keys.size(); ++i) out += line(f.keys[i], Scalar(f, f.keys[i].c_str()));
  return out;
}

journal::Block ToJournalBlock(Block b) {
  switch (b) {
    case Block::kMain: return journal::Block::kMain;
    case Block::kOnFailure: return journal::Block::kOnFailure;
    case Block::kFinally: return journal::Block::kFinally;
  }
  return journal::Block::kMain;
}

report::StepDescriber Describer(const StepTypeRegistry& types) {
  return [&types](const journal::RunRecord& run) {
    std::vector<report::StepDefinition> out;
    Diagnostics diags;
    auto spec = LoadRunbookText(run.source_text, run.source_path.empty() ? run.runbook + ".yaml" : run.source_path,
                                types, diags);
    if (!spec) return out;
    for (const auto* list : {&spec->steps, &spec->on_failure, &spec->finally_steps}) {
      for (const StepSpec& s : *list) {
        report::StepDefinition d;
        d.id = s.id;
        d.block = ToJournalBlock(s.block);
        d.title = s.title;
        d.type = s.type;
        d.command = Command(s);
        d.definition_json = JsonText(s.fields.ToJson());
        out.push_back(std::move(d));
      }
    }
    return out;
  };
}

int RunExport(CliEnv& env, const ExportOptions& opt) {
  if (!opt.until.empty() && opt.since.empty()) {
    env.Error("journal export: --until needs --since");
    return kExitUsage;
  }
  int selections = !opt.runs.empty() + !opt.incident.empty() + !opt.since.empty();
  if (selections != 1) {
    env.Error("journal export: say what to export: run ids, --incident ID, or --since TIME (exactly one of them)");
    return kExitUsage;
  }
  std::optional<report::Format> format;
  if (!opt.format.empty()) {
    format = report::ParseFormat(opt.format);
    if (!format) {
      env.Error("journal export: unknown format '" + opt.format + "' (md, html, json or csv)");
      return kExitUsage;
    }
  } else {
    format = opt.output.empty() ? std::nullopt : report::FormatForPath(opt.output);
    if (!format) format = report::Format::kMarkdown;
  }
  auto times = report::TimeRenderer::ForZone(opt.tz);
  if (!times.ok()) {
    env.Error("journal export: " + times.status().message());
    return kExitUsage;
  }
  if (opt.excerpt_lines < 1 || opt.excerpt_lines > 100000) {
    env.Error("journal export: --excerpt-lines must be between 1 and 100000");
    return kExitUsage;
  }
  report::BuildOptions build;
  build.selection.runs = opt.runs;
  build.selection.incident = opt.incident;
  build.selection.with_children = !opt.no_children;
  for (auto [text, field] : {std::pair{&opt.since, &build.selection.since_us}, {&opt.until, &build.selection.until_us}}) {
    if (text->empty()) continue;
    auto t = ParseTimeArg(*text);
    if (!t.ok()) {
      env.Error("journal export: " + t.status().message());
      return kExitUsage;
    }
    *field = *t;
  }
  build.times = *times;
  build.describe = Describer(env.types);
  build.excerpt_lines = opt.excerpt_lines;
  build.generator = std::string("runbook ") + RUNBOOK_VERSION;

  std::string path = env.globals.journal.empty() ? journal::DefaultJournalPath() : env.globals.journal;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    env.Error("journal export: there is no journal at " + path);
    return kExitFailed;
  }
  auto j = env.OpenJournal();
  if (!j) return kExitFailed;
  auto reader = report::EvidenceReader::Open(j->path());
  if (!reader.ok()) {
    env.Error(reader.status().message());
    return kExitFailed;
  }
  auto model = report::BuildExportModel(*j, **reader, build);
  if (!model.ok()) {
    env.Error("journal export: " + model.status().message());
    return model.status().code() == Status::Code::kInvalidArgument ? kExitUsage : kExitFailed;
  }
  auto render = [&](std::ostream& out) { return report::Render(*format, *model, **reader, out); };
  Status s = opt.output.empty() || opt.output == "-" ? render(env.out) : report::WriteFileAtomically(opt.output, render);
  if (!s.ok()) {
    env.Error("journal export: " + s.message());
    return kExitFailed;
  }
  const report::Integrity& x = model->integrity;
  if (!x.verified || !x.ok)
    env.err << "runbook: warning: the journal does not verify ("
            << (x.verified ? std::to_string(x.problem_count) + " problem(s)" : x.error)
            << "); the export's evidence integrity section says so\n";
  if (!opt.output.empty() && opt.output != "-")
    env.err << "runbook: wrote " << opt.output << " (" << model->runs.size() << " runs, " << model->events.count
            << " events)\n";
  return kExitOk;
}

}  // namespace

void RegisterJournalExport(CLI::App& journal_cmd, CliEnv& env) {
  auto opt = std::make_shared<ExportOptions>();
  auto* cmd = journal_cmd.add_subcommand(
      "export", "Post-incident review document: summary, timeline, actions, findings, approvals, notes, outputs");
  cmd->add_option("runs", opt->runs, "Run ids, unique prefixes, or 'last' (their child runs are included)");
  cmd->add_option("--incident", opt->incident, "Every run of this incident");
  cmd->add_option("--since", opt->since, "Runs started since (2h, 7d, or ISO-8601)");
  cmd->add_option("--until", opt->until, "... and before (with --since)");
  cmd->add_option("--format", opt->format, "md, html, json or csv (default: from -o's extension, else md)");
  cmd->add_option("-o,--output", opt->output, "Write to this file (atomically, mode 0600) instead of stdout");
  cmd->add_option("--tz", opt->tz, "Show times in this IANA zone (default UTC)");
  cmd->add_option("--excerpt-lines", opt->excerpt_lines, "Lines kept at each end of an output excerpt (default 10)");
  cmd->add_flag("--no-children", opt->no_children, "Leave out the child runs of the selected runs");
  cmd->callback([&env, opt] { env.exit_code = RunExport(env, *opt); });
}

}  // namespace runbook::cli

// `runbook graph NAME [--format dot|mermaid]`: the DAG for Graphviz or Mermaid.
#include <ostream>

#include "cli/cli.h"

namespace runbook::cli {
namespace {

struct Options {
  std::string name;
  std::string format = "dot";
};

std::string DotEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string MermaidEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"') out += "#quot;";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

std::string Label(const CompiledStep& s) {
  std::string label = s.id() + "\n[" + s.spec->type + "]";
  if (s.spec->approval || s.spec->type == "approval") label += "\napproval";
  return label;
}

void Dot(const CompiledRunbook& rb, std::ostream& out) {
  out << "digraph \"" << DotEscape(rb.spec.name) << "\" {\n"
      << "  rankdir=LR;\n"
      << "  label=\"" << DotEscape(rb.spec.title.empty() ? rb.spec.name : rb.spec.title) << "\";\n"
      << "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef3fb\", fontname=\"Helvetica\"];\n";
  for (Block b : {Block::kMain, Block::kOnFailure, Block::kFinally}) {
    const auto& order = rb.Order(b);
    if (order.empty()) continue;
    std::string indent = "  ";
    if (b != Block::kMain) {
      out << "  subgraph \"cluster_" << BlockName(b) << "\" {\n    label=\"" << BlockName(b)
          << "\";\n    style=dashed;\n";
      indent = "    ";
    }
    for (int i : order) {
      const auto& s = rb.steps[i];
      out << indent << "\"" << s.id() << "\" [label=\"" << DotEscape(Label(s)) << "\"";
      if (s.spec->approval || s.spec->type == "approval") out << ", fillcolor=\"#fff4d6\"";
      out << "];\n";
    }
    if (b != Block::kMain) out << "  }\n";
  }
  for (const auto& s : rb.steps)
    for (int n : s.needs) out << "  \"" << rb.steps[n].id() << "\" -> \"" << s.id() << "\";\n";
  out << "}\n";
}

void Mermaid(const CompiledRunbook& rb, std::ostream& out) {
  out << "flowchart LR\n";
  auto node_id = [](int i) { return "s" + std::to_string(i); };
  for (Block b : {Block::kMain, Block::kOnFailure, Block::kFinally}) {
    const auto& order = rb.Order(b);
    if (order.empty()) continue;
    if (b != Block::kMain) out << "  subgraph " << BlockName(b) << "\n";
    for (int i : order) {
      std::string label = rb.steps[i].id() + " [" + rb.steps[i].spec->type + "]";
      out << "  " << node_id(i) << "[\"" << MermaidEscape(label) << "\"]\n";
    }
    if (b != Block::kMain) out << "  end\n";
  }
  for (const auto& s : rb.steps)
    for (int n : s.needs) out << "  " << node_id(n) << " --> " << node_id(s.index) << "\n";
}

int RunGraph(CliEnv& env, const Options& opt) {
  auto rb = env.LoadCompiled(opt.name);
  if (!rb) return kExitUsage;
  if (opt.format == "mermaid")
    Mermaid(*rb, env.out);
  else
    Dot(*rb, env.out);
  return kExitOk;
}

}  // namespace

void RegisterGraph(CLI::App& app, CliEnv& env) {
  auto opt = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("graph", "Print the DAG for Graphviz (dot) or Mermaid");
  cmd->add_option("name", opt->name, "Runbook name or file")->required();
  cmd->add_option("--format", opt->format, "dot or mermaid")->check(CLI::IsMember({"dot", "mermaid"}));
  cmd->callback([&env, opt] { env.exit_code = RunGraph(env, *opt); });
}

}  // namespace runbook::cli

#include "engine/params.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/schema_reader.h"
#include "engine/yaml_reader.h"

namespace runbook {

bool SplitAssignment(const std::string& text, std::string& key, std::string& value) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  key = text.substr(0, eq);
  value = text.substr(eq + 1);
  return true;
}

namespace {

std::vector<std::string> Names(const RunbookSpec& spec) {
  std::vector<std::string> out;
  for (const auto& p : spec.params) out.push_back(p.name);
  return out;
}

void FromNode(const RunbookSpec& spec, const Node& map, bool strict, const std::string& what,
              boost::json::object& values, Diagnostics& diags) {
  if (!map.IsMapping()) {
    if (!map.IsNull()) schema::KindError(map, what, "a mapping of parameter values", diags);
    return;
  }
  for (size_t i = 0; i < map.keys.size(); ++i) {
    const std::string& k = map.keys[i];
    const ParamSpec* p = spec.FindParam(k);
    if (!p) {
      if (strict)
        diags.Error(map.key_locs[i], "unknown parameter '" + k + "' for runbook '" + spec.name + "'" +
                                         DidYouMean(k, Names(spec)));
      continue;
    }
    if (map.items[i].IsNull()) continue;
    if (auto v = schema::ParamValueFromNode(*p, map.items[i], "parameter '" + k + "'", diags)) values[k] = *v;
  }
}

}  // namespace

boost::json::object ResolveParams(const RunbookSpec& spec, const ParamSources& sources, Diagnostics& diags) {
  boost::json::object values;
  for (const auto& p : spec.params)
    if (p.default_value) values[p.name] = *p.default_value;
  if (sources.site) FromNode(spec, *sources.site, false, "the site profile", values, diags);
  if (sources.param_file) FromNode(spec, *sources.param_file, true, "the parameter file", values, diags);
  SourceLoc cli_loc{std::make_shared<const std::string>("-p"), 0, 0};
  for (const auto& [k, text] : sources.cli) {
    const ParamSpec* p = spec.FindParam(k);
    if (!p) {
      diags.Error(cli_loc, "unknown parameter '" + k + "' for runbook '" + spec.name + "'" + DidYouMean(k, Names(spec)));
      continue;
    }
    auto v = schema::ParamValueFromString(*p, text);
    if (!v.ok()) {
      diags.Error(cli_loc, "parameter '" + k + "' " + v.status().message());
      continue;
    }
    values[k] = std::move(v.value());
  }
  for (const auto& p : spec.params) {
    auto it = values.find(p.name);
    if (it == values.end()) {
      if (p.required) diags.Error(cli_loc, "missing required parameter '" + p.name + "' (give it with -p " + p.name + "=...)");
      continue;
    }
    std::string why = schema::CheckParamValue(p, it->value());
    if (!why.empty()) diags.Error(cli_loc, "parameter '" + p.name + "' " + why);
  }
  return values;
}

std::optional<Node> ReadParamFile(const std::string& path, Diagnostics& diags) {
  auto file = std::make_shared<const std::string>(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diags.Error(SourceLoc{file, 0, 0}, std::string("cannot read: ") + strerror(errno));
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.size() > (4u << 20)) {
    diags.Error(SourceLoc{file, 0, 0}, "parameter file is larger than 4 MiB");
    return std::nullopt;
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    Node empty;
    empty.kind = Node::Kind::kMapping;
    return empty;
  }
  return ReadYaml(text, file, diags);  // JSON is YAML
}

}  // namespace runbook

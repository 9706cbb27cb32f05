// Reads YAML text into a located Node tree (node.h). The only file that
// includes libyaml (yaml.h), the C parser behind PyYAML's CLoader: chosen over
// yaml-cpp, four times slower on our runbooks (docs/performance.md).
//
// Bounded against hostile input: nesting depth, total node count and alias
// expansion are limited, and each limit is reported as an error at the place
// it was hit. Anchors, aliases and merge keys (`<<: *base`) are supported;
// a file holds one document (a second one is an error). Stateless.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/diagnostics.h"
#include "engine/node.h"

namespace runbook {

struct YamlLimits {
  int max_depth = 64;
  size_t max_nodes = 5'000'000;
  size_t max_alias_nodes = 100'000;  // nodes copied by alias expansion
};

// Parses `text` (the contents of `file`). On a syntax error or a limit,
// reports to `diags` with the location and returns nullopt.
std::optional<Node> ReadYaml(std::string_view text, const std::shared_ptr<const std::string>& file,
                             Diagnostics& diags, const YamlLimits& limits = {});

}  // namespace runbook

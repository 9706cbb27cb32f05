#include "engine/catalog.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "engine/loader.h"

namespace runbook {

namespace fs = std::filesystem;

namespace {
std::vector<std::string> SplitColons(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(':', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool IsYamlFile(const fs::path& p) {
  std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml";
}
}  // namespace

Catalog Catalog::FromEnvironment(const std::string& flag, const std::string& share_dir) {
  if (!flag.empty()) return Catalog(SplitColons(flag));
  if (const char* env = std::getenv("RUNBOOK_PATH"); env && *env) return Catalog(SplitColons(env));
  std::vector<std::string> dirs = {"./runbooks"};
  if (!share_dir.empty()) dirs.push_back(share_dir);
  return Catalog(dirs);
}

std::vector<RunbookFile> Catalog::List() const {
  std::map<std::string, std::string> found;
  for (const auto& d : dirs_) {
    std::error_code ec;
    if (!fs::is_directory(d, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(d, ec)) {
      if (e.is_regular_file(ec) && IsYamlFile(e.path())) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) found.emplace(f.stem().string(), f.string());
  }
  std::vector<RunbookFile> out;
  for (auto& [name, path] : found) out.push_back({name, path});
  return out;
}

Result<std::string> Catalog::Resolve(const std::string& arg) const {
  if (IsValidRunbookName(arg)) {
    for (const auto& d : dirs_) {
      for (const char* ext : {".yaml", ".yml"}) {
        std::string p = (fs::path(d) / (arg + ext)).string();
        Status s = CheckRunbookFile(p);
        if (s.ok()) return p;
        if (s.code() != Status::Code::kNotFound) return s;  // there, but not a runbook: say why
      }
    }
    std::string where;
    for (const auto& d : dirs_) where += (where.empty() ? "" : ":") + d;
    std::vector<std::string> names;
    for (const auto& f : List()) names.push_back(f.name);
    return Status::NotFound("no runbook named '" + arg + "' in " + (where.empty() ? "(no directories)" : where) +
                            DidYouMean(arg, names));
  }
  if (!IsYamlFile(fs::path(arg)))
    return Status::InvalidArgument("'" + arg + "' is neither a runbook name ([a-z0-9-]) nor a .yaml/.yml file");
  Status s = CheckRunbookFile(arg);
  if (!s.ok()) return s;
  return arg;
}

}  // namespace runbook

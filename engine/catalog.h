// Finding runbooks: the search path (--runbooks, RUNBOOK_PATH, ./runbooks,
// the installed share directory) and name -> file resolution. A name is a
// runbook name ([a-z0-9-]+) looked up as NAME.yaml / NAME.yml in each
// directory in order; anything else must be an existing .yaml/.yml file, so
// `runbook run ../../etc/passwd` is refused. A path that is there but is not a
// regular file (a FIFO, a directory, a device) is refused with what it is,
// without opening it. Plain value; no I/O until asked.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/status.h"

namespace runbook {

struct RunbookFile {
  std::string name;  // the file's stem
  std::string path;
};

class Catalog {
 public:
  explicit Catalog(std::vector<std::string> dirs) : dirs_(std::move(dirs)) {}

  // `flag`: the --runbooks value (colon-separated) or empty; then
  // $RUNBOOK_PATH; then ./runbooks and `share_dir`.
  static Catalog FromEnvironment(const std::string& flag, const std::string& share_dir);

  // By value on a temporary, so `for (auto& d : env.catalog().dirs())` does
  // not iterate a destroyed vector.
  const std::vector<std::string>& dirs() const& { return dirs_; }
  std::vector<std::string> dirs() && { return std::move(dirs_); }
  // Every .yaml/.yml file of every directory, sorted by name; for a name in
  // several directories, the first directory wins.
  std::vector<RunbookFile> List() const;
  // A runbook name or a path to a .yaml/.yml file -> the file's path.
  // Errors: "no runbook named 'x' in DIRS", "'x' is neither a runbook name
  // ... nor a .yaml/.yml file", and CheckRunbookFile's (engine/loader.h):
  // "no such runbook file: P", "P: not a regular file (a FIFO)", "P: permission denied".
  Result<std::string> Resolve(const std::string& name_or_path) const;

 private:
  std::vector<std::string> dirs_;
};

}  // namespace runbook

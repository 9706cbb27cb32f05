// The runbook model: plain structs produced by the loader (loader.h) from a
// YAML file, each carrying the source location of what it was read from.
//
// Nothing here executes or validates; the loader guarantees the shapes and
// simple value rules, the compiler (compiler.h) the cross-references. The
// type-specific fields of a step stay as a located Node (`fields`), validated
// against the step type's schema (step_type.h) and read by its executor.
// Plain values; owned by whoever loaded them.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/diagnostics.h"
#include "engine/duration.h"
#include "engine/node.h"

namespace runbook {

enum class ParamType { kString, kInt, kNumber, kBool, kEnum, kDuration };
const char* ParamTypeName(ParamType t);

// A typed parameter (also used for approval inputs).
struct ParamSpec {
  std::string name;
  SourceLoc loc;
  ParamType type = ParamType::kString;
  bool required = false;
  std::optional<boost::json::value> default_value;  // already typed and valid
  std::string description;
  std::optional<std::string> pattern;  // ECMAScript regex, whole-value match (string)
  std::vector<std::string> values;     // enum
  std::optional<double> min, max;      // int/number: value; string: length; duration: seconds
};

struct SecretSpec {
  std::string name;
  SourceLoc loc;
  std::string env;   // read from this environment variable, or
  std::string file;  // from this file (trailing newline stripped)
};

struct EnvVar {
  std::string name;
  std::string value;  // may contain ${{ }}
  SourceLoc loc;
};

struct RetrySpec {
  int attempts = 1;
  Millis delay{0};
  double backoff = 1.0;
  std::optional<Millis> max_delay;
  SourceLoc loc;
};

// Re-run a step until `until` (over its own outputs) holds.
struct RepeatSpec {
  std::string until;
  SourceLoc until_loc;
  Millis every{std::chrono::seconds(5)};
  Millis max{std::chrono::minutes(5)};
  SourceLoc loc;
};

enum class OnTimeout { kReject, kApprove };

struct ApprovalSpec {
  std::string prompt;
  std::vector<std::string> approvers;  // empty: anyone
  int min_approvals = 1;
  std::vector<ParamSpec> inputs;
  std::optional<Millis> timeout;
  OnTimeout on_timeout = OnTimeout::kReject;
  SourceLoc loc;
};

enum class OutputType { kString, kNumber, kInt, kBool, kJson };
const char* OutputTypeName(OutputType t);

// outputs: {cpu: {from: stdout, regex: '...', group: 1, type: number}}
struct OutputRule {
  std::string name;
  SourceLoc loc;
  std::string from = "stdout";
  std::optional<std::string> regex;
  int group = 1;
  std::optional<std::string> json_pointer;
  OutputType type = OutputType::kString;
  std::optional<boost::json::value> default_value;  // when nothing matches
};

enum class CatchUp { kNone, kLast };

struct ScheduleSpec {
  std::string cron;
  SourceLoc cron_loc;
  std::string timezone;  // empty: the system's
  SourceLoc timezone_loc;
  boost::json::object params;
  SourceLoc params_loc;
  CatchUp catch_up = CatchUp::kLast;
  SourceLoc loc;
};

enum class ConcurrencyPolicy { kQueue, kSkip, kFail, kAllow };
const char* ConcurrencyPolicyName(ConcurrencyPolicy p);

struct ConcurrencySpec {
  std::string group;
  ConcurrencyPolicy policy = ConcurrencyPolicy::kQueue;
  SourceLoc loc;
};

enum class Block { kMain, kOnFailure, kFinally };
const char* BlockName(Block b);  // "steps", "on_failure", "finally"

struct StepSpec {
  std::string id;
  SourceLoc loc;  // the step's mapping
  SourceLoc id_loc;
  std::string title;
  std::string description;
  std::string type;
  SourceLoc type_loc;
  std::vector<std::string> needs;
  std::vector<SourceLoc> needs_locs;
  std::string if_expr;  // empty: the default, success()
  SourceLoc if_loc;
  std::optional<Millis> timeout;
  std::optional<RetrySpec> retry;
  bool continue_on_error = false;
  std::optional<ApprovalSpec> approval;
  std::vector<EnvVar> env;
  std::vector<OutputRule> outputs;
  std::optional<RepeatSpec> repeat;
  std::vector<std::string> tags;
  Node fields;  // mapping of the type-specific fields, as written
  Block block = Block::kMain;
};

struct DefaultsSpec {
  std::optional<Millis> timeout;
  std::optional<RetrySpec> retry;
  std::string shell;  // empty: sh
  std::vector<EnvVar> env;
};

enum class Level { kOk, kInfo, kWarning, kCritical };
const char* LevelName(Level l);  // ok, info, warning, critical

// fail_on: never | warning | critical
enum class FailOn { kNever, kWarning, kCritical };

struct RunbookOutput {
  std::string name;
  std::string expr;  // a template, usually "${{ ... }}"
  SourceLoc loc;
};

struct RunbookSpec {
  std::string name;
  SourceLoc name_loc;
  std::string title;
  std::string description;
  std::string category;
  std::vector<std::string> tags;
  FailOn fail_on = FailOn::kCritical;
  std::vector<ParamSpec> params;
  std::vector<SecretSpec> secrets;
  std::vector<EnvVar> env;
  DefaultsSpec defaults;
  std::optional<ConcurrencySpec> concurrency;
  std::vector<ScheduleSpec> schedule;
  bool sequential = false;
  std::optional<Millis> timeout;  // the whole run
  std::vector<StepSpec> steps;
  std::vector<StepSpec> on_failure;
  std::vector<StepSpec> finally_steps;
  std::vector<RunbookOutput> outputs;

  std::string source_path;  // as given to the loader
  std::string source_text;  // the file's bytes
  SourceLoc loc;

  const ParamSpec* FindParam(const std::string& n) const;
  const SecretSpec* FindSecret(const std::string& n) const;
};

}  // namespace runbook

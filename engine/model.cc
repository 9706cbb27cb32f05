#include "engine/model.h"

namespace runbook {

const char* ParamTypeName(ParamType t) {
  switch (t) {
    case ParamType::kString: return "string";
    case ParamType::kInt: return "int";
    case ParamType::kNumber: return "number";
    case ParamType::kBool: return "bool";
    case ParamType::kEnum: return "enum";
    case ParamType::kDuration: return "duration";
  }
  return "?";
}

const char* OutputTypeName(OutputType t) {
  switch (t) {
    case OutputType::kString: return "string";
    case OutputType::kNumber: return "number";
    case OutputType::kInt: return "int";
    case OutputType::kBool: return "bool";
    case OutputType::kJson: return "json";
  }
  return "?";
}

const char* ConcurrencyPolicyName(ConcurrencyPolicy p) {
  switch (p) {
    case ConcurrencyPolicy::kQueue: return "queue";
    case ConcurrencyPolicy::kSkip: return "skip";
    case ConcurrencyPolicy::kFail: return "fail";
    case ConcurrencyPolicy::kAllow: return "allow";
  }
  return "?";
}

const char* BlockName(Block b) {
  switch (b) {
    case Block::kMain: return "steps";
    case Block::kOnFailure: return "on_failure";
    case Block::kFinally: return "finally";
  }
  return "?";
}

const char* LevelName(Level l) {
  switch (l) {
    case Level::kOk: return "ok";
    case Level::kInfo: return "info";
    case Level::kWarning: return "warning";
    case Level::kCritical: return "critical";
  }
  return "?";
}

const ParamSpec* RunbookSpec::FindParam(const std::string& n) const {
  for (const auto& p : params)
    if (p.name == n) return &p;
  return nullptr;
}

const SecretSpec* RunbookSpec::FindSecret(const std::string& n) const {
  for (const auto& s : secrets)
    if (s.name == n) return &s;
  return nullptr;
}

}  // namespace runbook

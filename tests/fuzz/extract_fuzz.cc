// libFuzzer target for the output extractors (engine/extract.h): regex with a
// capture group, JSON pointer, type conversion and defaults.
//
// The input is a small header and three NUL-separated parts:
//   byte 0: the output type (string, number, int, bool, json), mod 5;
//   byte 1: flags — 1 regex, 2 JSON pointer, 4 a default, 8 from "body";
//   byte 2: the capture group (mod 4);
//   then    REGEX \0 POINTER \0 TEXT.
// A regex the loader would refuse (RegexGroups fails, or the group is beyond
// its groups) is skipped, as the loader never lets one reach the engine.
// Patterns are cut to 128 bytes and texts to 1 KiB: the matcher's bound is
// about max(N*S^2, min(N^2, 10^7)) states for a text of N bytes and a pattern
// of S states, which for bigger inputs is seconds per input under ASan — too
// slow to fuzz, not a bug (tests/engine/extract_test.cc covers 4 MiB texts).
// ConvertOutput is also fed the text parsed as JSON. Must never crash, hit
// undefined behaviour, throw, leak, recurse without bound or take seconds;
// an extraction error must have a message naming the output.
//
//   mkdir work && build-fuzz/tests/fuzz/extract_fuzz -max_total_time=60 \
//       -dict=tests/fuzz/extract.dict work tests/fuzz/corpus/extract
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/extract.h"

namespace {

using runbook::OutputRule;
using runbook::OutputType;

constexpr OutputType kTypes[] = {OutputType::kString, OutputType::kNumber, OutputType::kInt, OutputType::kBool,
                                 OutputType::kJson};

// The next NUL-terminated part of `rest` (all of it if there is no NUL).
std::string_view Next(std::string_view& rest) {
  size_t nul = rest.find('\0');
  std::string_view part = rest.substr(0, nul);
  rest = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  return part;
}

void CheckError(const runbook::Status& s) {
  if (s.ok()) std::abort();
  if (s.message().rfind("output 'out': ", 0) != 0) std::abort();  // every message names the output
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const OutputType type = kTypes[static_cast<unsigned char>(in[0]) % 5];
  const unsigned flags = static_cast<unsigned char>(in[1]);
  const int group = static_cast<unsigned char>(in[2]) % 4;
  std::string_view rest = in.substr(3);
  std::string_view regex = Next(rest).substr(0, 128);
  std::string_view pointer = Next(rest);
  std::string_view text = rest.substr(0, 1024);

  OutputRule rule;
  rule.name = "out";
  rule.type = type;
  rule.from = (flags & 8) ? "body" : "stdout";
  if (flags & 1) {
    auto groups = runbook::RegexGroups(regex);
    if (!groups.ok()) {
      if (groups.status().message().empty()) std::abort();
      return 0;
    }
    if (static_cast<size_t>(group) > *groups) return 0;
    rule.regex = std::string(regex);
    rule.group = group;
  }
  if (flags & 2) {
    if (!pointer.empty() && pointer[0] != '/') return 0;  // the loader requires a leading '/'
    rule.json_pointer = std::string(pointer);
  }
  if (flags & 4) rule.default_value = boost::json::value("fallback");

  auto v = runbook::ExtractOutput(rule, text);
  if (!v.ok()) {
    CheckError(v.status());
    // With a default, a regex that finds nothing yields the default, never
    // this error. (Compared whole: other messages quote the text, which may
    // itself say "did not match".)
    if (rule.default_value && rule.regex &&
        v.status().message() == "output 'out': regex '" + *rule.regex + "' did not match " + rule.from)
      std::abort();
  }

  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(text, ec);
  if (!ec) {
    auto c = runbook::ConvertOutput("out", type, doc);
    if (!c.ok()) CheckError(c.status());
  }
  return 0;
}

// Tokens of the expression language (private to engine/expr/).
//
// Lex() turns an expression's text into a token vector ending with kEnd, or
// the first lexical error ("unterminated string literal at column 3"). Token
// texts are views into the given text. Pure function, no state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/status.h"

namespace runbook::expr {

struct Token {
  enum class Kind : std::uint8_t {
    kEnd, kIdent, kInt, kDouble, kString,
    kLParen, kRParen, kLBracket, kRBracket, kDot, kComma,
    kNot, kAnd, kOr, kEq, kNe, kLt, kLe, kGt, kGe,
  };
  Kind kind = Kind::kEnd;
  std::uint32_t begin = 0;  // byte offset in the text
  std::uint32_t end = 0;
  std::string_view text;    // as written (a string literal with its quotes)
};

// REQUIRES: text.size() < 4 GiB (the parser enforces a much smaller limit).
Result<std::vector<Token>> Lex(std::string_view text);

// The value of a kString token: quotes removed, '' turned into '.
std::string UnquoteString(std::string_view token_text);

// For messages: "token ')'", "token 'abc...'" or "string literal".
std::string DescribeToken(const Token& t);

}  // namespace runbook::expr

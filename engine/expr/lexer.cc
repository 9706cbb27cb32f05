#include "engine/expr/lexer.h"

#include <cstdio>

namespace runbook::expr {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c) || c == '-'; }

std::string Column(size_t offset) { return " at column " + std::to_string(offset + 1); }

std::string Shorten(std::string_view s) {
  constexpr size_t kMax = 24;
  if (s.size() <= kMax) return std::string(s);
  return std::string(s.substr(0, kMax - 3)) + "...";
}

Status UnexpectedChar(std::string_view text, size_t i) {
  unsigned char c = static_cast<unsigned char>(text[i]);
  std::string hint;
  char next = i + 1 < text.size() ? text[i + 1] : '\0';
  if (c == '=') hint = " (did you mean '=='?)";
  if (c == '&' && next != '&') hint = " (did you mean '&&'?)";
  if (c == '|' && next != '|') hint = " (did you mean '||'?)";
  if (c == '"') hint = " (strings use single quotes)";
  if (c == '-' || c == '+' || c == '*' || c == '/' || c == '%') hint = " (there is no arithmetic)";
  if (c >= 0x20 && c < 0x7f)
    return Status::InvalidArgument("unexpected character '" + std::string(1, static_cast<char>(c)) + "'" +
                                   Column(i) + hint);
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", c);
  return Status::InvalidArgument(std::string("unexpected byte ") + hex + Column(i));
}

// Scans a number starting at `i` ('-' or a digit). Sets `kind` and returns the
// end offset, or an error for a malformed number such as "1e" or "1.2.3".
Result<size_t> ScanNumber(std::string_view text, size_t i, Token::Kind* kind) {
  size_t start = i, n = text.size();
  *kind = Token::Kind::kInt;
  if (text[i] == '-') ++i;
  while (i < n && IsDigit(text[i])) ++i;
  bool bad = false;
  if (i < n && text[i] == '.') {
    *kind = Token::Kind::kDouble;
    ++i;
    if (i >= n || !IsDigit(text[i])) bad = true;
    while (i < n && IsDigit(text[i])) ++i;
  }
  if (!bad && i < n && (text[i] == 'e' || text[i] == 'E')) {
    *kind = Token::Kind::kDouble;
    ++i;
    if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
    if (i >= n || !IsDigit(text[i])) bad = true;
    while (i < n && IsDigit(text[i])) ++i;
  }
  // A number glued to letters or another '.' ("1a", "1.2.3") is one malformed token.
  if (bad || (i < n && (IsIdentChar(text[i]) || text[i] == '.'))) {
    while (i < n && (IsIdentChar(text[i]) || text[i] == '.' || text[i] == '+')) ++i;
    return Status::InvalidArgument("malformed number '" + Shorten(text.substr(start, i - start)) + "'" +
                                   Column(start));
  }
  return i;
}

}  // namespace

Result<std::vector<Token>> Lex(std::string_view text) {
  std::vector<Token> out;
  out.reserve(text.size() / 4 + 2);
  size_t i = 0, n = text.size();
  auto push = [&](Token::Kind k, size_t b, size_t e) {
    out.push_back({k, static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(e), text.substr(b, e - b)});
  };
  while (true) {
    while (i < n && IsSpace(text[i])) ++i;
    if (i >= n) break;
    char c = text[i];
    char next = i + 1 < n ? text[i + 1] : '\0';
    size_t b = i;
    if (IsIdentStart(c)) {
      while (i < n && IsIdentChar(text[i])) ++i;
      push(Token::Kind::kIdent, b, i);
    } else if (IsDigit(c) || (c == '-' && IsDigit(next))) {
      Token::Kind kind;
      auto end = ScanNumber(text, i, &kind);
      if (!end.ok()) return end.status();
      i = *end;
      push(kind, b, i);
    } else if (c == '\'') {
      ++i;
      while (true) {
        if (i >= n) return Status::InvalidArgument("unterminated string literal" + Column(b));
        if (text[i] == '\'') {
          if (i + 1 < n && text[i + 1] == '\'') {
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        ++i;
      }
      push(Token::Kind::kString, b, i);
    } else {
      Token::Kind k;
      size_t len = 1;
      switch (c) {
        case '(': k = Token::Kind::kLParen; break;
        case ')': k = Token::Kind::kRParen; break;
        case '[': k = Token::Kind::kLBracket; break;
        case ']': k = Token::Kind::kRBracket; break;
        case '.': k = Token::Kind::kDot; break;
        case ',': k = Token::Kind::kComma; break;
        case '!':
          if (next == '=') { k = Token::Kind::kNe; len = 2; } else { k = Token::Kind::kNot; }
          break;
        case '<':
          if (next == '=') { k = Token::Kind::kLe; len = 2; } else { k = Token::Kind::kLt; }
          break;
        case '>':
          if (next == '=') { k = Token::Kind::kGe; len = 2; } else { k = Token::Kind::kGt; }
          break;
        case '=':
          if (next != '=') return UnexpectedChar(text, i);
          k = Token::Kind::kEq; len = 2;
          break;
        case '&':
          if (next != '&') return UnexpectedChar(text, i);
          k = Token::Kind::kAnd; len = 2;
          break;
        case '|':
          if (next != '|') return UnexpectedChar(text, i);
          k = Token::Kind::kOr; len = 2;
          break;
        default:
          return UnexpectedChar(text, i);
      }
      i += len;
      push(k, b, i);
    }
  }
  push(Token::Kind::kEnd, n, n);
  return out;
}

std::string UnquoteString(std::string_view t) {
  std::string s;
  if (t.size() < 2) return s;
  t = t.substr(1, t.size() - 2);
  s.reserve(t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    s.push_back(t[i]);
    if (t[i] == '\'') ++i;  // '' -> '
  }
  return s;
}

std::string DescribeToken(const Token& t) {
  if (t.kind == Token::Kind::kString) return "string literal";
  return "token '" + Shorten(t.text) + "'";
}

}  // namespace runbook::expr

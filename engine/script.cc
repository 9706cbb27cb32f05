#include "engine/script.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <deque>

namespace runbook {

namespace {

// Where an expression sits in the shell's grammar.
enum class Spot {
  kWord,            // unquoted, or in a comment
  kDoubleQuoted,    // "..."
  kSingleQuoted,    // '...'
  kAnsiCQuoted,     // bash $'...'
  kHereDoc,         // the body of <<EOF: expanded, never split
  kQuotedHereDoc,   // the body of <<'EOF': refused (nothing is expanded)
  kDelimiter,       // the word after <<: refused (never expanded)
  kArithmetic,      // $(( )), bash (( )): integers only
  kEscaped,         // right after an escaping backslash: refused
};

struct Placement {
  Spot spot = Spot::kWord;
  std::string delimiter;  // kQuotedHereDoc: the here-document's delimiter
};

// Finds the Spot of each expression in a script. The scanner reads `text`,
// the script with each expression replaced by one placeholder byte at
// `marks[i]` (sorted), as the shell's tokenizer would, as far as quoting is
// concerned: a stack of frames (command text, quotes, $( ), `...`, ${ },
// $(( )), here-document bodies) and the here-documents announced on the
// current line, whose bodies start after its newline.
class ShellScanner {
 public:
  ShellScanner(std::string_view text, const std::vector<size_t>& marks, ShellDialect dialect)
      : t_(text), marks_(marks), dialect_(dialect) {}

  std::vector<Placement> Run() {
    out_.assign(marks_.size(), {});
    stack_.push_back(Frame(Kind::kTop));
    while (i_ < t_.size()) {
      switch (stack_.back().kind) {
        case Kind::kTop:
        case Kind::kSubst:
        case Kind::kBacktick: StepCommand(); break;
        case Kind::kDouble: StepDouble(); break;
        case Kind::kSingle:
        case Kind::kAnsiC: StepSingle(); break;
        case Kind::kBrace: StepBrace(); break;
        case Kind::kArith: StepArith(); break;
        case Kind::kHereDoc: StepHereDoc(); break;
      }
    }
    return out_;
  }

 private:
  static constexpr size_t kNone = std::string_view::npos;

  enum class Kind {
    kTop,       // the script: commands
    kSubst,     // $( ... ), <( ... ), >( ... ): commands up to the matching )
    kBacktick,  // ` ... `: commands
    kDouble,    // " ... "
    kSingle,    // ' ... '
    kAnsiC,     // bash $' ... ' (backslash escapes)
    kBrace,     // ${ ... }
    kArith,     // $(( ... )), bash (( ... ))
    kHereDoc,   // a here-document's body, up to its delimiter line
  };
  struct HereDoc {
    std::string delimiter;  // after quote removal
    bool quoted = false;    // any quoting in the word: the body is literal
    bool strip_tabs = false;  // <<-
  };
  struct Frame {
    explicit Frame(Kind k) : kind(k) {}
    Kind kind;
    int depth = 0;            // open ( in command text or arithmetic
    int cases = 0;            // open `case`s in command text: `pattern)` does not close $(
    bool at_command = true;   // the next word is in command position (`case` counts there)
    bool comment = false;     // in a # comment, up to the newline
    size_t word = kNone;      // where the current word began, if one has
    bool line_start = true;   // kHereDoc: at the start of a body line
    HereDoc doc;              // kHereDoc
  };

  size_t MarkAt(size_t i) const {
    auto it = std::lower_bound(marks_.begin(), marks_.end(), i);
    return it != marks_.end() && *it == i ? static_cast<size_t>(it - marks_.begin()) : kNone;
  }
  bool IsMark(size_t i) const { return MarkAt(i) != kNone; }
  bool HasMark(size_t from, size_t to) const {
    auto it = std::lower_bound(marks_.begin(), marks_.end(), from);
    return it != marks_.end() && *it < to;
  }
  void Place(size_t i, Spot spot, const std::string& delimiter = {}) {
    if (size_t m = MarkAt(i); m != kNone) out_[m] = {spot, delimiter};
  }
  // The character `k` places on (the placeholder is never a special one).
  char Next(size_t k) const { return i_ + k < t_.size() ? t_[i_ + k] : '\0'; }
  void Push(Kind kind) { stack_.push_back(Frame(kind)); }
  void Pop() {
    if (stack_.size() > 1) stack_.pop_back();
  }
  void PushHereDoc() {
    Frame f(Kind::kHereDoc);
    f.doc = std::move(pending_.front());
    pending_.pop_front();
    stack_.push_back(std::move(f));
  }

  // At a backslash that quotes the next character: an expression there
  // would lose the quoting of its first character.
  void Escape() {
    if (IsMark(i_ + 1)) Place(i_ + 1, Spot::kEscaped);
    i_ = std::min(i_ + 2, t_.size());
  }

  // At '$': $(( )), $( ), ${ }, bash $' '; anything else is one character.
  void Dollar(bool ansi_c) {
    if (Next(1) == '(' && Next(2) == '(') {
      i_ += 3;
      Push(Kind::kArith);
    } else if (Next(1) == '(') {
      i_ += 2;
      Push(Kind::kSubst);
    } else if (Next(1) == '{') {
      i_ += 2;
      Push(Kind::kBrace);
    } else if (Next(1) == '\'' && ansi_c && dialect_ == ShellDialect::kBash) {
      i_ += 2;
      Push(Kind::kAnsiC);
    } else {
      ++i_;
    }
  }

  static void StartWord(Frame& f, size_t i) {
    if (f.word == kNone) f.word = i;
  }
  // Ends the current word at i_; reserved words keep track of command
  // position and of `case ... esac`.
  void EndWord(Frame& f) {
    if (f.word == kNone) return;
    std::string_view w = t_.substr(f.word, i_ - f.word);
    f.word = kNone;
    if (f.at_command && w == "case") {
      ++f.cases;
      f.at_command = false;
    } else if (f.at_command && w == "esac" && f.cases > 0) {
      --f.cases;
      f.at_command = false;
    } else {
      static constexpr std::string_view kLeadsToCommand[] = {"then", "do",    "else", "elif", "if",
                                                             "while", "until", "!",    "{",    "}", "time"};
      f.at_command = f.at_command && std::find(std::begin(kLeadsToCommand), std::end(kLeadsToCommand), w) !=
                                          std::end(kLeadsToCommand);
    }
  }

  // Command text: the top level, $( ), <( ), `...`.
  void StepCommand() {
    Frame& f = stack_.back();
    const char c = t_[i_];
    if (IsMark(i_)) {
      Place(i_, Spot::kWord);
      if (!f.comment) StartWord(f, i_);
      ++i_;
      return;
    }
    if (f.comment) {
      if (c != '\n') {
        ++i_;
        return;
      }
      f.comment = false;
    }
    switch (c) {
      case '\\':
        StartWord(f, i_);
        Escape();
        return;
      case '\'':
        StartWord(f, i_++);
        Push(Kind::kSingle);
        return;
      case '"':
        StartWord(f, i_++);
        Push(Kind::kDouble);
        return;
      case '`':
        if (f.kind == Kind::kBacktick) {
          EndWord(f);
          ++i_;
          Pop();
          return;
        }
        StartWord(f, i_++);
        Push(Kind::kBacktick);
        return;
      case '$':
        StartWord(f, i_);
        Dollar(true);
        return;
      case '#':
        if (f.word == kNone) f.comment = true;
        ++i_;
        return;
      case '\n':
        EndWord(f);
        f.at_command = true;
        ++i_;
        if (!pending_.empty()) PushHereDoc();
        return;
      case ' ':
      case '\t':
        EndWord(f);
        ++i_;
        return;
      case ';':
      case '&':
      case '|':
        EndWord(f);
        f.at_command = true;
        ++i_;
        return;
      case '(':
        EndWord(f);
        if (dialect_ == ShellDialect::kBash && f.at_command && Next(1) == '(') {
          i_ += 2;
          Push(Kind::kArith);
          return;
        }
        ++f.depth;
        f.at_command = true;
        ++i_;
        return;
      case ')':
        EndWord(f);
        ++i_;
        if (f.depth > 0) {
          --f.depth;
        } else if (f.cases == 0 && f.kind == Kind::kSubst) {
          Pop();
          return;
        }
        f.at_command = true;  // after a subshell, or a case pattern
        return;
      case '<':
        EndWord(f);
        if (Next(1) == '<' && Next(2) == '<') {  // a here-string: one word, not a here-document
          i_ += 3;
        } else if (Next(1) == '<') {
          i_ += 2;
          HereDocOperator();
        } else if (Next(1) == '(') {
          i_ += 2;
          Push(Kind::kSubst);
        } else {
          ++i_;
        }
        return;
      case '>':
        EndWord(f);
        if (Next(1) == '(') {
          i_ += 2;
          Push(Kind::kSubst);
        } else {
          ++i_;
        }
        return;
      default:
        StartWord(f, i_);
        ++i_;
        return;
    }
  }

  // After `<<`: an optional `-`, blanks, then the delimiter word. Any
  // quoting in the word makes the body literal; the word itself is never
  // expanded.
  void HereDocOperator() {
    HereDoc d;
    if (Next(0) == '-') {
      d.strip_tabs = true;
      ++i_;
    }
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t')) ++i_;
    bool any = false;
    auto take = [&](size_t at) {
      if (IsMark(at)) Place(at, Spot::kDelimiter);
      d.delimiter += t_[at];
    };
    while (i_ < t_.size()) {
      const char c = t_[i_];
      if (!IsMark(i_) && std::string_view(" \t\n;&|<>()").find(c) != std::string_view::npos) break;
      any = true;
      if (IsMark(i_)) {
        take(i_++);
      } else if (c == '\\') {
        d.quoted = true;
        if (++i_ < t_.size()) take(i_++);
      } else if (c == '\'') {
        d.quoted = true;
        for (++i_; i_ < t_.size() && (t_[i_] != '\'' || IsMark(i_)); ++i_) take(i_);
        ++i_;
      } else if (c == '"') {
        d.quoted = true;
        for (++i_; i_ < t_.size() && (t_[i_] != '"' || IsMark(i_)); ++i_) {
          if (t_[i_] == '\\' && i_ + 1 < t_.size() && std::string_view("\"\\$`").find(t_[i_ + 1]) != kNone) ++i_;
          take(i_);
        }
        ++i_;
      } else {
        take(i_++);
      }
    }
    i_ = std::min(i_, t_.size());
    if (any) pending_.push_back(std::move(d));
  }

  void StepDouble() {
    if (IsMark(i_)) {
      Place(i_++, Spot::kDoubleQuoted);
      return;
    }
    switch (t_[i_]) {
      case '\\': Escape(); return;
      case '"':
        ++i_;
        Pop();
        return;
      case '`':
        ++i_;
        Push(Kind::kBacktick);
        return;
      case '$': Dollar(false); return;
      default: ++i_; return;
    }
  }

  void StepSingle() {
    const bool ansi_c = stack_.back().kind == Kind::kAnsiC;
    if (IsMark(i_)) {
      Place(i_++, ansi_c ? Spot::kAnsiCQuoted : Spot::kSingleQuoted);
    } else if (t_[i_] == '\'') {
      ++i_;
      Pop();
    } else if (t_[i_] == '\\' && ansi_c) {
      Escape();
    } else {
      ++i_;
    }
  }

  // The quoting a ${ } inherits: from the frame around it.
  Spot BraceSpot() const {
    for (auto it = stack_.rbegin(); it != stack_.rend(); ++it) {
      switch (it->kind) {
        case Kind::kBrace: continue;
        case Kind::kDouble: return Spot::kDoubleQuoted;
        case Kind::kHereDoc: return Spot::kHereDoc;
        case Kind::kArith: return Spot::kArithmetic;
        default: return Spot::kWord;
      }
    }
    return Spot::kWord;
  }

  void StepBrace() {
    const bool quoted = BraceSpot() != Spot::kWord;
    if (IsMark(i_)) {
      Place(i_++, BraceSpot());
      return;
    }
    switch (t_[i_]) {
      case '\\': Escape(); return;
      case '}':
        ++i_;
        Pop();
        return;
      case '"':
        ++i_;
        Push(Kind::kDouble);
        return;
      case '\'':
        ++i_;
        if (!quoted) Push(Kind::kSingle);
        return;
      case '`':
        ++i_;
        Push(Kind::kBacktick);
        return;
      case '$': Dollar(!quoted); return;
      default: ++i_; return;
    }
  }

  void StepArith() {
    Frame& f = stack_.back();
    if (IsMark(i_)) {
      Place(i_++, Spot::kArithmetic);
      return;
    }
    switch (t_[i_]) {
      case '(':
        ++f.depth;
        ++i_;
        return;
      case ')':
        if (f.depth > 0) {
          --f.depth;
          ++i_;
        } else if (Next(1) == ')') {
          i_ += 2;
          Pop();
        } else {
          ++i_;
        }
        return;
      case '\\': Escape(); return;
      case '$': Dollar(false); return;
      case '`':
        ++i_;
        Push(Kind::kBacktick);
        return;
      default: ++i_; return;
    }
  }

  void StepHereDoc() {
    Frame& f = stack_.back();
    if (f.line_start) {
      f.line_start = false;
      size_t eol = std::min(t_.find('\n', i_), t_.size());
      size_t from = i_;
      if (f.doc.strip_tabs)
        while (from < eol && t_[from] == '\t') ++from;
      if (t_.substr(from, eol - from) == f.doc.delimiter && !HasMark(i_, eol)) {
        i_ = std::min(eol + 1, t_.size());
        Pop();
        if (!pending_.empty()) PushHereDoc();
        return;
      }
    }
    const char c = t_[i_];
    if (IsMark(i_)) {
      Place(i_++, f.doc.quoted ? Spot::kQuotedHereDoc : Spot::kHereDoc, f.doc.delimiter);
    } else if (c == '\n') {
      f.line_start = true;
      ++i_;
    } else if (f.doc.quoted) {
      ++i_;
    } else if (c == '\\') {
      Escape();
    } else if (c == '$') {
      Dollar(false);
    } else if (c == '`') {
      ++i_;
      Push(Kind::kBacktick);
    } else {
      ++i_;
    }
  }

  std::string_view t_;
  const std::vector<size_t>& marks_;
  ShellDialect dialect_;
  std::vector<Placement> out_;
  std::vector<Frame> stack_;
  std::deque<HereDoc> pending_;  // announced on the current line, bodies not yet read
  size_t i_ = 0;
};

// A script's expressions and where each sits.
struct Layout {
  expr::Template t;
  std::vector<Placement> places;  // one per expression, in order
  std::vector<int> lines;         // the script line each is on (1-based)
};

// "'${{ params.v }}' (line 3 of the script)"; the expression as written.
std::string Where(const expr::Expression& e, int line) {
  return "'${{" + e.text() + "}}' (line " + std::to_string(line) + " of the script)";
}

Result<Layout> Lay(const std::string& script, ShellDialect dialect) {
  auto t = expr::Template::Parse(script);
  if (!t.ok()) return t.status();
  std::string text;
  std::vector<size_t> marks;
  for (const auto& part : t->parts()) {
    text += part.literal;
    if (!part.expr) continue;
    marks.push_back(text.size());
    text += '\x01';
  }
  Layout out{std::move(*t), ShellScanner(text, marks, dialect).Run(), {}};
  int line = 1;
  size_t from = 0;
  for (size_t m : marks) {
    line += static_cast<int>(std::count(text.begin() + static_cast<std::ptrdiff_t>(from),
                                        text.begin() + static_cast<std::ptrdiff_t>(m), '\n'));
    from = m;
    out.lines.push_back(line);
  }
  size_t k = 0;
  for (const auto& part : out.t.parts()) {
    if (!part.expr) continue;
    const Placement& p = out.places[k];
    const std::string where = Where(*part.expr, out.lines[k++]);
    switch (p.spot) {
      case Spot::kQuotedHereDoc:
        return Status::InvalidArgument(where + " is in a here-document with a quoted delimiter (<<'" + p.delimiter +
                                       "'), where the shell expands nothing; write the delimiter unquoted (<<" +
                                       p.delimiter + ") to have the value there");
      case Spot::kDelimiter:
        return Status::InvalidArgument(where + " cannot be a here-document's delimiter: the shell never expands it");
      case Spot::kEscaped:
        return Status::InvalidArgument(where + " follows a backslash that would escape its quoting; remove the "
                                               "backslash (write '\\\\' for a literal one)");
      default: break;
    }
  }
  return out;
}

std::string Reference(Spot spot, const std::string& var) {
  switch (spot) {
    case Spot::kWord: return "\"${" + var + "}\"";
    case Spot::kSingleQuoted: return "'\"${" + var + "}\"'";
    case Spot::kAnsiCQuoted: return "'\"${" + var + "}\"$'";
    default: return "${" + var + "}";  // double quotes, here-document, arithmetic
  }
}

std::string VarName(size_t k) { return "RUNBOOK_EXPR_" + std::to_string(k + 1); }

std::string Assemble(const Layout& layout) {
  std::string out;
  size_t k = 0;
  for (const auto& part : layout.t.parts()) {
    out += part.literal;
    if (!part.expr) continue;
    out += Reference(layout.places[k].spot, VarName(k));
    ++k;
  }
  return out;
}

// Shell arithmetic evaluates a variable's text as an expression (bash runs
// the $( ) of `a[$(cmd)]`): only a plain integer is data there.
bool IsInteger(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

Result<std::string> ScriptText(const std::string& script, ShellDialect dialect) {
  if (!expr::HasExpression(script)) return script;
  auto layout = Lay(script, dialect);
  if (!layout.ok()) return layout.status();
  return Assemble(*layout);
}

Result<BoundScript> BindScript(const std::string& script, const expr::Context& ctx, ShellDialect dialect) {
  BoundScript out;
  if (!expr::HasExpression(script)) {
    out.text = script;
    return out;
  }
  auto layout = Lay(script, dialect);
  if (!layout.ok()) return layout.status();
  size_t k = 0;
  for (const auto& part : layout->t.parts()) {
    if (!part.expr) continue;
    auto v = expr::Evaluate(*part.expr, ctx);
    if (!v.ok()) return Status::InvalidArgument("in '${{ " + part.expr->text() + " }}': " + v.status().message());
    std::string value = expr::ToDisplayString(*v);
    if (layout->places[k].spot == Spot::kArithmetic && !IsInteger(value))
      return Status::InvalidArgument(Where(*part.expr, layout->lines[k]) +
                                     " is in shell arithmetic, where only an integer is safe, and its value is "
                                     "not one");
    out.env[VarName(k)] = std::move(value);
    ++k;
  }
  out.text = Assemble(*layout);
  return out;
}

Result<std::string> RenderText(const std::string& text, const expr::Context& ctx) {
  if (!expr::HasExpression(text)) return text;
  auto t = expr::Template::Parse(text);
  if (!t.ok()) return t.status();
  return expr::RenderString(*t, ctx);
}

Result<boost::json::value> RenderJson(const boost::json::value& v, const expr::Context& ctx) {
  if (v.is_string()) {
    std::string s(v.get_string());
    if (!expr::HasExpression(s)) return v;
    auto t = expr::Template::Parse(s);
    if (!t.ok()) return t.status();
    return expr::RenderValue(*t, ctx);
  }
  if (v.is_array()) {
    boost::json::array out;
    for (const auto& item : v.get_array()) {
      auto r = RenderJson(item, ctx);
      if (!r.ok()) return r.status();
      out.push_back(std::move(*r));
    }
    return boost::json::value(std::move(out));
  }
  if (v.is_object()) {
    boost::json::object out;
    for (const auto& [key, item] : v.get_object()) {
      auto k = RenderText(std::string(key), ctx);
      if (!k.ok()) return k.status();
      auto r = RenderJson(item, ctx);
      if (!r.ok()) return r.status();
      out[*k] = std::move(*r);
    }
    return boost::json::value(std::move(out));
  }
  return v;
}

}  // namespace runbook

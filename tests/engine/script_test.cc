// Values reach scripts as environment variables, never as shell text: the
// reference to each is quoted for where it sits (quotes, comments, $( ),
// here-documents, arithmetic), checked both as text and by running the
// result in real `sh` (dash) and `bash` with a value built to break out.
#include "engine/script.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string_view>

#include "engine/values.h"

extern char** environ;

namespace runbook {
namespace {

ValueContext Ctx() {
  ValueContext c;
  c.params["ip"] = "x\"; touch /tmp/pwned; echo \"";
  c.params["n"] = 3;
  return c;
}

TEST(BindScript, UnquotedExpressionBecomesAQuotedVariable) {
  auto b = BindScript("ufw deny from ${{ params.ip }}", Ctx());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->text, "ufw deny from \"${RUNBOOK_EXPR_1}\"");
  EXPECT_EQ(b->env.at("RUNBOOK_EXPR_1"), "x\"; touch /tmp/pwned; echo \"");
}

TEST(BindScript, InsideDoubleQuotesTheVariableIsBare) {
  auto b = BindScript("ufw deny from \"${{ params.ip }}\" # n=${{ params.n }}", Ctx());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->text, "ufw deny from \"${RUNBOOK_EXPR_1}\" # n=\"${RUNBOOK_EXPR_2}\"");
  EXPECT_EQ(b->env.at("RUNBOOK_EXPR_2"), "3");
}

TEST(BindScript, InsideSingleQuotesTheQuoteIsClosedAndReopened) {
  auto b = BindScript("echo 'ip=${{ params.ip }}.'", Ctx());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->text, "echo 'ip='\"${RUNBOOK_EXPR_1}\"'.'");
}

TEST(BindScript, EscapedQuotesDoNotConfuseTheScanner) {
  auto b = BindScript("echo \"a\\\"b\" ${{ params.n }}", Ctx());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->text, "echo \"a\\\"b\" \"${RUNBOOK_EXPR_1}\"");
}

TEST(BindScript, EvaluationErrorsNameTheExpression) {
  auto b = BindScript("echo ${{ int('abc') }}", Ctx());
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("int('abc')"), std::string::npos) << b.status().message();
}

// --- Where the scanner places an expression, as text ------------------------------

std::string Text(const std::string& script, ShellDialect dialect = ShellDialect::kSh) {
  auto t = ScriptText(script, dialect);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : "";
}

TEST(ScriptText, QuotesInAHereDocumentBodyAreLiteralSoALaterValueStaysQuoted) {
  EXPECT_EQ(Text("cat <<EOF\nsay \"hi\nEOF\nrm ${{ params.n }}"),
            "cat <<EOF\nsay \"hi\nEOF\nrm \"${RUNBOOK_EXPR_1}\"");
  EXPECT_EQ(Text("cat <<EOF\nit's\nEOF\nrm ${{ params.n }}"), "cat <<EOF\nit's\nEOF\nrm \"${RUNBOOK_EXPR_1}\"");
}

TEST(ScriptText, InAnUnquotedHereDocumentBodyTheVariableIsBare) {
  EXPECT_EQ(Text("cat <<EOF\nv: \"${{ params.n }}\" '${{ params.n }}'\nEOF\n"),
            "cat <<EOF\nv: \"${RUNBOOK_EXPR_1}\" '${RUNBOOK_EXPR_2}'\nEOF\n");
}

TEST(ScriptText, TheDelimiterLineEndsTheBodyOnlyWhenItIsExactlyTheWord) {
  // " EOF", "EOF x" and "EOFX" are body lines; with <<- leading tabs go.
  EXPECT_EQ(Text("cat <<EOF\n EOF\nEOF x\nEOFX\n\"\nEOF\necho ${{ params.n }}"),
            "cat <<EOF\n EOF\nEOF x\nEOFX\n\"\nEOF\necho \"${RUNBOOK_EXPR_1}\"");
  EXPECT_EQ(Text("cat <<-EOF\n\t\"${{ params.n }}\n\t\tEOF\necho ${{ params.n }}"),
            "cat <<-EOF\n\t\"${RUNBOOK_EXPR_1}\n\t\tEOF\necho \"${RUNBOOK_EXPR_2}\"");
  // Without the '-', a tab-indented delimiter does not end the body.
  EXPECT_EQ(Text("cat <<EOF\n\tEOF\n${{ params.n }}\nEOF\n"), "cat <<EOF\n\tEOF\n${RUNBOOK_EXPR_1}\nEOF\n");
}

TEST(ScriptText, SeveralHereDocumentsOnOneLineAreReadInTurn) {
  EXPECT_EQ(Text("cat <<A; cat <<'B' >f\na ${{ params.n }} \"\nA\nb \"'\nB\necho ${{ params.n }}"),
            "cat <<A; cat <<'B' >f\na ${RUNBOOK_EXPR_1} \"\nA\nb \"'\nB\necho \"${RUNBOOK_EXPR_2}\"");
}

TEST(ScriptText, NotHereDocumentsHereStringsShiftsQuotesAndComments) {
  EXPECT_EQ(Text("cat <<< \"x\" ${{ params.n }}", ShellDialect::kBash),
            "cat <<< \"x\" \"${RUNBOOK_EXPR_1}\"");
  EXPECT_EQ(Text("echo $(( 1 << 2 ))\n\"\necho ${{ params.n }}\""),
            "echo $(( 1 << 2 ))\n\"\necho ${RUNBOOK_EXPR_1}\"");
  EXPECT_EQ(Text("echo \"<<EOF\" '<<EOF' # <<EOF\necho ${{ params.n }}"),
            "echo \"<<EOF\" '<<EOF' # <<EOF\necho \"${RUNBOOK_EXPR_1}\"");
  EXPECT_EQ(Text("echo \\<<EOF ${{ params.n }}"), "echo \\<<EOF \"${RUNBOOK_EXPR_1}\"");
}

TEST(ScriptText, CommandSubstitutionsOpenAFreshQuotingContext) {
  EXPECT_EQ(Text("echo \"$(echo \"${{ params.n }}\")\" \"`echo ${{ params.n }}`\""),
            "echo \"$(echo \"${RUNBOOK_EXPR_1}\")\" \"`echo \"${RUNBOOK_EXPR_2}\"`\"");
  EXPECT_EQ(Text("x=\"$(cat <<EOF\nit's \"${{ params.n }}\nEOF\n)\"; echo ${{ params.n }}"),
            "x=\"$(cat <<EOF\nit's \"${RUNBOOK_EXPR_1}\nEOF\n)\"; echo \"${RUNBOOK_EXPR_2}\"");
  // A case pattern's ')' does not end the substitution.
  EXPECT_EQ(Text("echo \"$(case a in a) echo ${{ params.n }};; esac)\" ${{ params.n }}"),
            "echo \"$(case a in a) echo \"${RUNBOOK_EXPR_1}\";; esac)\" \"${RUNBOOK_EXPR_2}\"");
  EXPECT_EQ(Text("echo \"${x:-${{ params.n }}}\" ${x:-${{ params.n }}}"),
            "echo \"${x:-${RUNBOOK_EXPR_1}}\" ${x:-\"${RUNBOOK_EXPR_2}\"}");
}

TEST(ScriptText, ACommentStartsOnlyAtTheStartOfAWord) {
  EXPECT_EQ(Text("echo a#\"b\" ${{ params.n }}"), "echo a#\"b\" \"${RUNBOOK_EXPR_1}\"");
  EXPECT_EQ(Text("echo $# \"${{ params.n }}\""), "echo $# \"${RUNBOOK_EXPR_1}\"");
  EXPECT_EQ(Text("echo;#\"\necho ${{ params.n }}"), "echo;#\"\necho \"${RUNBOOK_EXPR_1}\"");
}

TEST(ScriptText, BashAnsiCStringsAndArithmeticCommands) {
  EXPECT_EQ(Text("echo $'it\\'s ${{ params.n }}\\n'", ShellDialect::kBash),
            "echo $'it\\'s '\"${RUNBOOK_EXPR_1}\"$'\\n'");
  EXPECT_EQ(Text("(( ${{ params.n }} > 2 ))", ShellDialect::kBash), "(( ${RUNBOOK_EXPR_1} > 2 ))");
  // In sh, (( is two subshells.
  EXPECT_EQ(Text("((echo ${{ params.n }}))"), "((echo \"${RUNBOOK_EXPR_1}\"))");
}

// --- Refusals ---------------------------------------------------------------------------

std::string Refusal(const std::string& script) {
  auto t = ScriptText(script);
  EXPECT_FALSE(t.ok()) << "accepted as: " << (t.ok() ? *t : "");
  return t.ok() ? "" : t.status().message();
}

TEST(ScriptText, AnExpressionInAQuotedHereDocumentIsRefusedWithItsLine) {
  const std::string expected =
      "'${{ params.n }}' (line 3 of the script) is in a here-document with a quoted delimiter (<<'EOF'), where the "
      "shell expands nothing; write the delimiter unquoted (<<EOF) to have the value there";
  EXPECT_EQ(Refusal("echo\ncat <<'EOF'\nv=${{ params.n }}\nEOF\n"), expected);
  EXPECT_EQ(Refusal("echo\ncat <<\"EOF\"\nv=${{ params.n }}\nEOF\n"), expected);
  EXPECT_EQ(Refusal("echo\ncat <<\\EOF\nv=${{ params.n }}\nEOF\n"), expected);
  EXPECT_EQ(Refusal("echo\ncat <<-E\"O\"F\n\tv=${{ params.n }}\n\tEOF\n"), expected);
}

TEST(ScriptText, AnExpressionAsADelimiterOrAfterAnEscapingBackslashIsRefused) {
  EXPECT_EQ(Refusal("cat <<${{ params.n }}\nx\n"),
            "'${{ params.n }}' (line 1 of the script) cannot be a here-document's delimiter: the shell never "
            "expands it");
  EXPECT_EQ(Refusal("echo \\${{ params.n }}"),
            "'${{ params.n }}' (line 1 of the script) follows a backslash that would escape its quoting; remove the "
            "backslash (write '\\\\' for a literal one)");
  EXPECT_FALSE(ScriptText("echo \"\\${{ params.n }}\"").ok());
  EXPECT_FALSE(ScriptText("cat <<EOF\n\\${{ params.n }}\nEOF").ok());
  // An escaped backslash is fine; so is one inside single quotes.
  EXPECT_EQ(Text("echo \\\\${{ params.n }} '\\${{ params.n }}'"),
            "echo \\\\\"${RUNBOOK_EXPR_1}\" '\\'\"${RUNBOOK_EXPR_2}\"''");
}

TEST(BindScript, AValueInShellArithmeticMustBeAnInteger) {
  ValueContext c = Ctx();
  c.params["i"] = "a[$(touch /tmp/pwned)]";
  auto ok = BindScript("echo $(( ${{ params.n }} + 1 ))", c);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->text, "echo $(( ${RUNBOOK_EXPR_1} + 1 ))");
  auto bad = BindScript("echo\necho $(( ${{ params.i }} + 1 ))", c);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "'${{ params.i }}' (line 2 of the script) is in shell arithmetic, where only an integer is safe, and "
            "its value is not one");
  EXPECT_FALSE(BindScript("(( ${{ params.i }} ))", c, ShellDialect::kBash).ok());
}

// --- Run by real shells -------------------------------------------------------------------

// Runs `shell -e -c text` with the bound values in its environment; stdout.
std::string RunShell(const char* shell, const BoundScript& b) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  for (const auto& [k, v] : b.env) env.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string sh = shell, e = "-e", c = "-c", text = b.text;
  char* argv[] = {sh.data(), e.data(), c.data(), text.data(), nullptr};
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, shell, &fa, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; rc == 0 && (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  if (rc == 0) ::waitpid(pid, &status, 0);
  EXPECT_EQ(rc, 0) << "cannot start " << shell;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << shell << " failed on:\n" << b.text;
  return out;
}

class ShellRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("script_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    marker_ = (dir_ / "pwned").string();
    // Quotes of both kinds, $( ), backticks, a glob, a variable, a
    // backslash, and lines that are the here-documents' delimiters.
    value_ = "a  b * \"q\" 'x' $(touch " + marker_ + ") `touch " + marker_ + "` \\ $HOME\nEOF\n\tEOF\nlast";
    ctx_.params["v"] = value_;
    ctx_.params["n"] = 3;
  }
  void TearDown() override {
    EXPECT_FALSE(std::filesystem::exists(marker_)) << "a value was executed";
    std::filesystem::remove_all(dir_);
  }
  // `script` run by sh and bash prints `expected`, with $V standing for the value.
  void Expect(const std::string& script, std::string expected, bool bash_only = false) {
    for (size_t at; (at = expected.find("$V")) != std::string::npos;) expected.replace(at, 2, value_);
    for (ShellDialect d : {ShellDialect::kSh, ShellDialect::kBash}) {
      if (bash_only && d == ShellDialect::kSh) continue;
      const char* shell = d == ShellDialect::kBash ? "bash" : "sh";
      SCOPED_TRACE(std::string(shell) + ": " + script);
      auto b = BindScript(script, ctx_, d);
      ASSERT_TRUE(b.ok()) << b.status().message();
      EXPECT_EQ(RunShell(shell, *b), expected) << b->text;
    }
  }

  std::filesystem::path dir_;
  std::string marker_, value_;
  ValueContext ctx_;
};

TEST_F(ShellRun, AValueArrivesExactInEveryQuotingContext) {
  Expect("printf '[%s]\\n' ${{ params.v }} \"<${{ params.v }}>\" '<${{ params.v }}>'", "[$V]\n[<$V>]\n[<$V>]\n");
  Expect("printf '[%s]\\n' ${x:-${{ params.v }}} \"${x:-${{ params.v }}}\"", "[$V]\n[$V]\n");
  Expect("printf '[%s]\\n' \"$(printf '%s' \"${{ params.v }}\")\"", "[$V]\n");
  Expect("x=`printf '%s' ${{ params.v }}`; printf '[%s]\\n' \"$x\"", "[$V]\n");
  Expect("printf '[%s]\\n' \"$(case a in a) printf '%s' ${{ params.v }};; esac)\"", "[$V]\n");
  Expect("# a comment with ${{ params.v }} and a \"\nprintf '[%s]\\n' ${{ params.v }}", "[$V]\n");
  Expect("printf '[%s]\\n' \\\\${{ params.v }}", "[\\$V]\n");
  Expect("printf '[%s]\\n' $'<${{ params.v }}>\\x41'", "[<$V>A]\n", true);
  Expect("cat <<< ${{ params.v }}", "$V\n", true);
}

TEST_F(ShellRun, HereDocumentsNeitherUnquoteALaterValueNorAlterOneInside) {
  Expect("cat <<EOF\nsay \"hi\nEOF\nprintf '[%s]\\n' ${{ params.v }}", "say \"hi\n[$V]\n");
  Expect("cat <<EOF\nvalue: ${{ params.v }} \"${{ params.v }}\"\nEOF\n", "value: $V \"$V\"\n");
  Expect("cat <<-EOF\n\tv=${{ params.v }}\n\tEOF\nprintf '[%s]\\n' ${{ params.v }}", "v=$V\n[$V]\n");
  Expect("cat <<A; cat <<'B'\na ${{ params.v }}\nA\nb \"it's\nB\nprintf '[%s]\\n' ${{ params.v }}",
         "a $V\nb \"it's\n[$V]\n");
  Expect("x=\"$(cat <<EOF\n<${{ params.v }}>\nEOF\n)\"\nprintf '[%s]\\n' \"$x\"", "[<$V>]\n");
  Expect("cat <<EOF\n$(printf '%s' \"${{ params.v }}\")\nEOF\n", "$V\n");
  Expect("printf '[%s]\\n' $(( 1 << 2 )) ${{ params.v }}", "[4]\n[$V]\n");
  Expect("echo \"<<EOF\" # <<EOF\nprintf '[%s]\\n' ${{ params.v }}", "<<EOF\n[$V]\n");
}

TEST_F(ShellRun, AnIntegerInArithmeticIsComputed) {
  Expect("echo $(( ${{ params.n }} * 2 ))", "6\n");
  Expect("(( ${{ params.n }} > 2 )) && echo big", "big\n", true);
}

// Scripts mixing quotes, here-documents, substitutions and comments at
// random: each prints the same with the hostile value as with a plain word
// (then replaced by the value), so nothing split, globbed or ran it.
TEST_F(ShellRun, RandomMixesOfQuotingAndHereDocumentsPassTheValueIntact) {
  const std::vector<std::string> frags = {
      "printf '[%s]\\n' ${{ params.v }}",
      "printf '[%s]\\n' \"${{ params.v }}\"",
      "printf '[%s]\\n' '${{ params.v }}'",
      "cat <<EOF\nbody \"it's ${{ params.v }}\nEOF",
      "cat <<'EOF'\nbody \"it's\nEOF",
      "cat <<-X\n\t\"q ${{ params.v }}\n\tX",
      ": \"$(echo \"a\" 'b')\"",
      "# comment \" ' <<EOF",
      "echo $(( 1 << 2 ))",
      "x=\"$(cat <<E\n'${{ params.v }}\"\nE\n)\"; printf '[%s]\\n' \"$x\"",
      "case a in a) printf '[%s]\\n' \"${{ params.v }}\";; esac",
      "printf '[%s]\\n' \"$(case a in (a) printf %s ${{ params.v }};; esac)\"",
      "printf '[%s]\\n' ${u:-${{ params.v }}}",
      "cat <<A; cat <<\"B\"\n${{ params.v }}\"\nA\n'\nB",
      "x=`printf %s ${{ params.v }}`; printf '[%s]\\n' \"$x\"",
      "printf '<%s>' \"a\\\"b\" ${{ params.v }}; echo",
      "f() { printf '[%s]\\n' \"$@\"; }; f ${{ params.v }} \"x${{ params.v }}\"",
      "printf '[%s]\\n' \"${{ params.v }}\"'${{ params.v }}'${{ params.v }}",
  };
  std::mt19937 rng(42);
  for (int round = 0; round < 150; ++round) {
    std::string script;
    int n = 2 + static_cast<int>(rng() % 4);
    for (int k = 0; k < n; ++k) script += frags[rng() % frags.size()] + "\n";
    for (ShellDialect d : {ShellDialect::kSh, ShellDialect::kBash}) {
      const char* shell = d == ShellDialect::kBash ? "bash" : "sh";
      SCOPED_TRACE(std::string(shell) + ":\n" + script);
      ValueContext plain;
      plain.params["v"] = "PLAIN";
      auto b1 = BindScript(script, plain, d);
      auto b2 = BindScript(script, ctx_, d);
      ASSERT_TRUE(b1.ok() && b2.ok());
      std::string want = RunShell(shell, *b1);
      for (size_t at; (at = want.find("PLAIN")) != std::string::npos;) want.replace(at, 5, value_);
      ASSERT_EQ(RunShell(shell, *b2), want) << b2->text;
    }
  }
}

}  // namespace
}  // namespace runbook

// Acceptance (issue #8, hostile input): a parameter value built to break out
// of quoting (quotes, $(...), backticks, newlines, globs, a trailing
// backslash) reaches every place an expression can appear — run (quoted,
// bare, single-quoted, bash), env (step and runbook), stdin, exec argv, http
// query/header/json/body, sql args, notify message (log and command), a check
// value and message, a condition, the run's outputs — and is never executed
// and arrives byte for byte, here-documents included; a script too long for
// one argument runs; paths that are not runbooks are refused, and odd ones
// (FIFO, directory, device, unreadable) say what is wrong; YAML
// bombs and huge files end in a clear error within a time and memory bound;
// the journal refuses a symbolic link; journal, its side files, locks and
// exports are created 0600 whatever the umask.
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "tests/cli/cli_test_util.h"
#include "tests/fakes/http_test_server.h"

namespace runbook::clitest {
namespace {

using std::chrono::seconds;
using std::chrono::steady_clock;

std::string RunIdOf(const Outcome& o) {
  auto summary = ParseJson(o.out, "run --json");
  return summary ? JsonString(*summary, "run_id") : "";
}

size_t RunCount(CliSandbox& box) {
  Outcome o = box.Run({"--json", "runs"});
  auto list = ParseJson(o.out, "runs --json");
  return list && list->is_array() ? list->as_array().size() : 0;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

// --- Values never become code ----------------------------------------------------

TEST(CliHostileInput, AHostileParameterIsInertAndExactInEveryPlaceAnExpressionCanAppear) {
  CliSandbox box;
  std::string error;
  auto server = fakes::HttpTestServer::Start(box.dir(), &error);
  ASSERT_TRUE(server) << error;
  std::string db = box.Path("app.db");
  {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(h, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(h);
  }
  const std::string m = box.Path("pwned");
  const std::string w = "x\"; touch " + m + "; echo \" '; touch " + m + "; echo ' $(touch " + m + ") `touch " + m +
                        "` ${HOME} $RUNBOOK_RUN_ID * ? ; touch " + m + " | touch " + m + " && touch " + m + " \\";
  const std::string v = w + "\nline 2 \"$(touch " + m + ")\" '\n`touch " + m + "`\n\\";
  std::string rb = box.WriteRunbook("hostile", R"(name: hostile
params:
  v: {type: string, required: true}
  w: {type: string, required: true}
env:
  TOP: "${{ params.v }}"
steps:
  - {id: run-quoted, run: "printf '%s' \"${{ params.v }}\""}
  - {id: run-bare, run: "printf '%s' ${{ params.v }}"}
  - {id: run-single, run: "printf '%s' '${{ params.v }}'"}
  - {id: run-bash, shell: bash, run: "printf '%s' \"${{ params.v }}\""}
  - {id: run-comment, run: "printf '%s' \"${{ params.v }}\" # it's ${{ params.v }}"}
  - {id: env-step, env: {V: "${{ params.v }}"}, run: "printf '%s' \"$V\""}
  - {id: env-runbook, run: "printf '%s' \"$TOP\""}
  - {id: stdin, stdin: "${{ params.v }}", run: cat}
  - {id: argv, type: exec, argv: [printf, '%s', "${{ params.v }}"]}
  - id: http
    type: http
    method: POST
    url: )" + server->base() + R"(/echo
    query: {q: "${{ params.v }}"}
    headers: {X-V: "${{ params.w }}"}
    json: {v: "${{ params.v }}"}
  - {id: http-body, type: http, method: PUT, url: )" + server->base() + R"(/echo, body: "${{ params.v }}"}
  - id: sql
    type: sql
    database: )" + db + R"(
    query: SELECT ? AS v
    args: ["${{ params.v }}"]
  - {id: notify-log, type: notify, channel: log, message: "${{ params.v }}"}
  - id: notify-command
    type: notify
    channel: command
    command: [sh, -c, 'cat > "$1"', sh, )" + box.Path("notified") + R"(]
    message: "${{ params.v }}"
  - id: check
    type: check
    value: "${{ params.v }}"
    info: "!= 'never'"
    message: "got ${{ params.v }}"
  - {id: cond, if: "${{ contains(params.v, '$(touch') }}", run: printf yes}
outputs:
  v: "${{ params.v }}"
)");
  Outcome o = box.Run({"--json", "run", rb, "-p", "v=" + v, "-p", "w=" + w});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  EXPECT_FALSE(FileExists(m)) << "the value ran as shell code";
  std::string run_id = RunIdOf(o);

  for (const char* id : {"run-quoted", "run-bare", "run-single", "run-bash", "run-comment", "env-step", "env-runbook",
                         "stdin", "argv", "notify-command"}) {
    SCOPED_TRACE(id);
    if (std::string(id) == "notify-command")
      EXPECT_EQ(ReadFile(box.Path("notified")), v);
    else
      EXPECT_EQ(box.RawLogs(run_id, id), v);
  }
  EXPECT_EQ(box.RawLogs(run_id, "notify-log"), v + "\n");
  EXPECT_EQ(box.RawLogs(run_id, "cond"), "yes");

  // The two http steps run in parallel: find each request by its method.
  auto requests = server->Requests();
  ASSERT_EQ(requests.size(), 2u);
  const boost::json::value* post = nullptr;
  const boost::json::value* put = nullptr;
  for (const auto& r : requests) (JsonString(r, "method") == "POST" ? post : put) = &r;
  ASSERT_TRUE(post && put);
  EXPECT_EQ(PercentDecode(JsonString(*post, "query")), "q=" + v);
  EXPECT_EQ(JsonString(post->at("headers"), "x-v"), w);
  auto body = ParseJson(JsonString(*post, "body"), "the JSON body");
  ASSERT_TRUE(body);
  EXPECT_EQ(JsonString(*body, "v"), v);
  EXPECT_EQ(JsonString(*put, "body"), v);

  boost::json::value show = box.ShowJson(run_id);
  const boost::json::object* sql = FindStep(show, "sql");
  ASSERT_NE(sql, nullptr);
  EXPECT_EQ(JsonString(sql->at("outputs").at("rows").at(0), "v"), v) << boost::json::serialize(*sql);
  const auto& findings = show.at("findings").as_array();
  ASSERT_EQ(findings.size(), 1u) << boost::json::serialize(show.at("findings"));
  EXPECT_EQ(JsonString(findings[0], "message"), "got " + v);
  EXPECT_EQ(JsonString(show.at("outputs"), "v"), v);
  EXPECT_EQ(JsonString(show.at("params"), "v"), v);
}

// Inside a here-document quotes are literal: a body line `say "hi` must not
// make the scanner believe a later value is in double quotes (it would be
// substituted bare and split into words), and a value in an unquoted body
// arrives without quotes around it.
TEST(CliHostileInput, HereDocumentsNeitherUnquoteALaterValueNorAlterOneInside) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("heredoc", R"(name: heredoc
params:
  v: {type: string, required: true}
steps:
  - id: after-quote
    run: |
      cat <<EOF
      say "hi
      EOF
      printf '[%s]\n' ${{ params.v }}
  - id: inside
    run: |
      cat <<EOF
      value: ${{ params.v }}
      EOF
)");
  Outcome o = box.Run({"--json", "run", rb, "-p", "v=a b *"});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  std::string run_id = RunIdOf(o);
  EXPECT_EQ(box.RawLogs(run_id, "after-quote"), "say \"hi\n[a b *]\n");
  EXPECT_EQ(box.RawLogs(run_id, "inside"), "value: a b *\n");
}

// In a here-document with a quoted delimiter the shell expands nothing, so
// an expression there could only arrive as `${RUNBOOK_EXPR_1}`: refused when
// the runbook is loaded, with the step and the script's line.
TEST(CliHostileInput, AnExpressionInAQuotedHereDocumentIsRefusedAtLoadWithItsPlace) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("quoted", R"(name: quoted
params:
  v: {type: string, default: x}
steps:
  - id: conf
    run: |
      cat > out.conf <<'EOF'
      $literal ${{ params.v }}
      EOF
)");
  for (const char* cmd : {"validate", "run"}) {
    SCOPED_TRACE(cmd);
    Outcome o = box.Run({cmd, rb});
    EXPECT_EQ(o.exit_code, 2) << o.Describe();
    EXPECT_NE(o.err.find("quoted.yaml:6:10: error: step 'conf': 'run': '${{ params.v }}' (line 2 of the script) is "
                         "in a here-document with a quoted delimiter (<<'EOF'), where the shell expands nothing; "
                         "write the delimiter unquoted (<<EOF) to have the value there"),
              std::string::npos)
        << o.Describe();
  }
  EXPECT_EQ(RunCount(box), 0u);
}

// A script over Linux's 128 KiB limit for one argument (MAX_ARG_STRLEN) runs
// from a private temporary file with the same shell options; the file holds
// no value and is gone after the step. `plan` shows the script.
TEST(CliHostileInput, AScriptTooLongForOneArgumentRunsFromAPrivateFileRemovedAfterwards) {
  CliSandbox box;
  const std::string tmp = box.Path("tmp");
  std::filesystem::create_directories(tmp);
  box.SetEnv("TMPDIR", tmp);
  std::string script = "v=${{ params.v }}\n"
                       "stat -c 'mode %a' \"$0\"\n"
                       "case $- in *e*) echo errexit;; esac\n"
                       "if grep -qF -- \"$v\" \"$0\"; then echo 'the value is in the file'; fi\n";
  std::string expected = "mode 600\nerrexit\n";
  for (int i = 0; i < 6000; ++i) {
    script += "echo line " + std::to_string(i) + " " + std::string(40, 'x') + "\n";
    expected += "line " + std::to_string(i) + " " + std::string(40, 'x') + "\n";
  }
  script += "printf 'v=[%s]\\n' \"$v\"\n";
  ASSERT_GT(script.size(), 300u * 1024);
  std::string indented;
  for (size_t start = 0, nl; (nl = script.find('\n', start)) != std::string::npos; start = nl + 1)
    indented += "      " + script.substr(start, nl - start + 1);
  std::string rb = box.WriteRunbook("long", "name: long\nparams:\n  v: {type: string}\nsteps:\n"
                                            "  - id: sh\n    run: |\n" + indented +
                                            "  - id: bash\n    shell: bash\n    run: |\n"
                                            "      [ -o pipefail ] && echo pipefail\n" + indented);
  const std::string value = "a \"secret\" $(touch pwned) value";
  Outcome o = box.Run({"--json", "run", rb, "-p", "v=" + value}, seconds(120));
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  std::string run_id = RunIdOf(o);
  EXPECT_EQ(box.RawLogs(run_id, "sh"), expected + "v=[" + value + "]\n");
  EXPECT_EQ(box.RawLogs(run_id, "bash"), "pipefail\n" + expected + "v=[" + value + "]\n");
  EXPECT_TRUE(std::filesystem::is_empty(tmp)) << "the script files were not removed";

  Outcome plan = box.Run({"--json", "plan", rb, "-p", "v=x"});
  ASSERT_EQ(plan.exit_code, 0) << plan.Describe();
  auto json = ParseJson(plan.out, "plan --json");
  ASSERT_TRUE(json);
  const auto& preview = json->at("steps").at(0).at("preview");
  EXPECT_EQ(boost::json::serialize(preview.at("argv")), R"(["sh","-e","$TMPDIR/runbook-script-XXXXXX"])");
  std::string shown = JsonString(preview, "script");
  EXPECT_EQ(shown.substr(0, 22), "v=\"${RUNBOOK_EXPR_1}\"\n");
  EXPECT_NE(shown.find("echo line 5999 "), std::string::npos);
  Outcome dry = box.Run({"run", "--dry-run", rb, "-p", "v=x"});
  EXPECT_EQ(dry.exit_code, 0) << dry.Describe();
  EXPECT_NE(dry.out.find("echo line 5999 "), std::string::npos) << dry.Describe();

  // No place for the file: the step fails and says why.
  box.SetEnv("TMPDIR", box.Path("missing"));
  Outcome nowhere = box.Run({"--json", "run", rb, "-p", "v=x"}, seconds(120));
  EXPECT_EQ(nowhere.exit_code, 1) << nowhere.Describe();
  boost::json::value show = box.ShowJson(RunIdOf(nowhere));
  const auto* step = FindStep(show, "sh");
  ASSERT_TRUE(step);
  EXPECT_EQ(JsonString(*step, "error"), "cannot write the script to a temporary file in " + box.Path("missing") +
                                            ": create: No such file or directory");
}

// --- Paths, bombs and sizes ---------------------------------------------------------

TEST(CliHostileInput, RunRefusesPathsThatAreNotRunbooksAndJournalsNothing) {
  CliSandbox box;
  for (const char* path : {"../../etc/passwd", "/etc/passwd", "../../../../../../etc/shadow", "/dev/zero"}) {
    SCOPED_TRACE(path);
    Outcome o = box.Run({"run", path});
    EXPECT_EQ(o.exit_code, 2) << o.Describe();
    EXPECT_NE(o.err.find("is neither a runbook name"), std::string::npos) << o.Describe();
  }
  EXPECT_EQ(RunCount(box), 0u);
}

// A runbook path that is there but is not a regular file is refused with
// what it is — never read (a FIFO without a writer would hang the command),
// never "no such runbook file" — by file and by name; `list` passes over it.
TEST(CliHostileInput, PathsThatAreNotRegularFilesAreRefusedWithWhatTheyAre) {
  CliSandbox box;
  const std::string odd = box.Path("odd");
  std::filesystem::create_directories(odd + "/dir.yaml");
  ASSERT_EQ(::mkfifo((odd + "/fifo.yaml").c_str(), 0600), 0);
  std::filesystem::create_symlink("/dev/zero", odd + "/zero.yaml");
  struct Case {
    const char* name;
    const char* what;
  };
  for (const Case& c : {Case{"fifo", "a FIFO"}, Case{"dir", "a directory"}, Case{"zero", "a character device"}}) {
    const std::string path = odd + "/" + c.name + ".yaml";
    const std::vector<std::vector<std::string>> commands = {
        {"validate", path}, {"run", path}, {"plan", path}, {"--runbooks", odd, "run", c.name}};
    for (const auto& args : commands) {
      SCOPED_TRACE(args[0] + " " + path);
      Outcome o = box.Run(args, seconds(30));
      EXPECT_FALSE(o.timed_out);
      EXPECT_EQ(o.exit_code, 2) << o.Describe();
      EXPECT_NE(o.err.find("runbook: error: " + path + ": not a regular file (" + c.what + ")"), std::string::npos)
          << o.Describe();
    }
  }
  Outcome missing = box.Run({"validate", odd + "/missing.yaml"});
  EXPECT_EQ(missing.exit_code, 2) << missing.Describe();
  EXPECT_NE(missing.err.find("no such runbook file: " + odd + "/missing.yaml"), std::string::npos)
      << missing.Describe();
  Outcome list = box.Run({"--runbooks", odd, "list"}, seconds(30));
  EXPECT_FALSE(list.timed_out);
  EXPECT_EQ(list.exit_code, 0) << list.Describe();
  EXPECT_NE(list.err.find("no runbooks found in " + odd), std::string::npos) << list.Describe();
  EXPECT_EQ(RunCount(box), 0u);
}

// An unreadable runbook, or one in a directory that cannot be searched: the
// reason, not "no such runbook file". Root reads everything, so as root the
// binary runs without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH (setpriv).
TEST(CliHostileInput, UnreadableRunbooksSayPermissionDenied) {
  CliSandbox box;
  std::string file = box.WriteRunbook("secret", "name: secret\nsteps:\n  - {id: a, run: echo a}\n");
  ASSERT_EQ(::chmod(file.c_str(), 0), 0);
  const std::string locked = box.Path("locked");
  std::filesystem::create_directories(locked);
  { std::ofstream(locked + "/inside.yaml") << "name: inside\nsteps:\n  - {id: a, run: echo a}\n"; }
  ASSERT_EQ(::chmod(locked.c_str(), 0), 0);
  if (::geteuid() == 0 && ::access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "root, and no setpriv";
  auto validate = [&](const std::string& path) {
    std::vector<std::string> argv;
    if (::geteuid() == 0)
      argv = {"/usr/bin/setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", RUNBOOK_BINARY, "validate",
              path};
    else
      argv = {RUNBOOK_BINARY, "validate", path};
    auto p = RunbookProcess::Spawn(argv, {"PATH=/usr/bin:/bin", "NO_COLOR=1", "RUNBOOK_JOURNAL=" + box.Path("j.db")},
                                   box.Path("unreadable.out"), box.Path("unreadable.err"));
    return p->Wait(seconds(30));
  };
  Outcome o = validate(file);
  ::chmod(locked.c_str(), 0700);
  if (o.err.find("setpriv") != std::string::npos) GTEST_SKIP() << "cannot drop capabilities: " << o.Describe();
  EXPECT_EQ(o.exit_code, 2) << o.Describe();
  EXPECT_NE(o.err.find(file + ": error: cannot read runbook: permission denied"), std::string::npos) << o.Describe();
  ASSERT_EQ(::chmod(locked.c_str(), 0), 0);
  o = validate(locked + "/inside.yaml");
  ::chmod(locked.c_str(), 0700);
  EXPECT_EQ(o.exit_code, 2) << o.Describe();
  EXPECT_NE(o.err.find("runbook: error: " + locked + "/inside.yaml: permission denied"), std::string::npos)
      << o.Describe();
}

struct Bomb {
  const char* name;
  std::string yaml;
  const char* message;  // the diagnostic, after "FILE:LINE:COL: error: "
};

std::vector<Bomb> Bombs() {
  std::vector<Bomb> out;
  // Billion laughs: 9 levels of 10 aliases, 10^9 strings once expanded.
  std::string laughs = "name: laughs\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  std::string prev = "a";
  for (char c = 'b'; c <= 'i'; ++c) {
    laughs += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) laughs += (i ? ", *" : "*") + prev;
    laughs += "]\n";
    prev = std::string(1, c);
  }
  laughs += "steps:\n  - {id: a, run: echo a}\n";
  out.push_back({"laughs", laughs, "YAML alias expansion exceeds 100000 nodes (an alias bomb?)"});
  // The same through merge keys.
  std::string merge = "name: merge\nbase: &m0 {k0: 1, k1: 1, k2: 1, k3: 1, k4: 1, k5: 1, k6: 1, k7: 1, k8: 1, k9: 1}\n";
  for (int lvl = 1; lvl <= 8; ++lvl) {
    merge += "l" + std::to_string(lvl) + ": &m" + std::to_string(lvl) + " {";
    for (int i = 0; i < 10; ++i)
      merge += (i ? ", " : "") + std::string("k") + std::to_string(i) + ": {<<: *m" + std::to_string(lvl - 1) + "}";
    merge += "}\n";
  }
  out.push_back({"merge", merge, "YAML alias expansion exceeds 100000 nodes (an alias bomb?)"});
  const int n = 10000;
  out.push_back({"flow", "name: flow\nx: " + std::string(n, '[') + std::string(n, ']') + "\n",
                 "YAML nesting deeper than 64 levels"});
  out.push_back(
      {"unclosed", "name: unclosed\nx: " + std::string(100000, '[') + "\n", "YAML nesting deeper than 64 levels"});
  std::string block = "name: block\nx:\n";
  for (int i = 1; i < n; ++i) block += std::string(static_cast<size_t>(i % 2000 + 1), ' ') + "k:\n";
  out.push_back({"block", block, "YAML nesting deeper than 64 levels"});
  return out;
}

TEST(CliHostileInput, YamlBombsEndInAClearErrorWithinTimeAndMemoryBounds) {
  CliSandbox box;
  for (const Bomb& bomb : Bombs()) {
    SCOPED_TRACE(bomb.name);
    std::string path = box.WriteRunbook(bomb.name, bomb.yaml);
    auto start = steady_clock::now();
    Outcome o = box.Run({"validate", path}, seconds(120));
    auto took = std::chrono::duration_cast<seconds>(steady_clock::now() - start);
    EXPECT_FALSE(o.timed_out);
    EXPECT_EQ(o.exit_code, 2) << o.Describe();
    EXPECT_NE(o.err.find(std::string(bomb.name) + ".yaml:"), std::string::npos) << o.Describe();
    EXPECT_NE(o.err.find(std::string("error: ") + bomb.message), std::string::npos) << o.Describe();
    EXPECT_LT(took.count(), 30) << "generous: a bounded parse takes well under a second";
    EXPECT_LT(o.max_rss_kb, 512 * 1024) << "peak RSS " << o.max_rss_kb << " KiB";
    Outcome r = box.Run({"run", path}, seconds(120));
    EXPECT_EQ(r.exit_code, 2) << r.Describe();
  }
  EXPECT_EQ(RunCount(box), 0u);
}

TEST(CliHostileInput, HugeRunbookFilesAreRefusedOrLoadedWithinBounds) {
  CliSandbox box;
  // Peak RSS of validating a small runbook: the binary's own (much larger
  // under ASan), against which the big files are measured.
  Outcome small = box.Run({"validate", box.WriteRunbook("small", "name: small\nsteps:\n  - {id: a, run: echo a}\n")});
  ASSERT_EQ(small.exit_code, 0) << small.Describe();
  const long baseline_kb = small.max_rss_kb;
  // Over the 64 MiB limit (sparse: costs no disk): refused before reading.
  std::string sparse = box.Path("sparse.yaml");
  { std::ofstream(sparse) << "name: sparse\n"; }
  std::filesystem::resize_file(sparse, 70u << 20);
  Outcome o = box.Run({"validate", sparse}, seconds(60));
  EXPECT_EQ(o.exit_code, 2) << o.Describe();
  EXPECT_NE(o.err.find("sparse.yaml: error: runbook file is larger than 64 MiB"), std::string::npos) << o.Describe();
  EXPECT_LT(o.max_rss_kb, baseline_kb + 48 * 1024)
      << "the oversized file was read (peak " << o.max_rss_kb << " KiB, baseline " << baseline_kb << " KiB)";

  // 50 MB under the limit (a long comment and a long string): loads.
  std::string big = "name: big\n";
  std::string line = "# " + std::string(97, 'x') + "\n";
  for (int i = 0; i < 250000; ++i) big += line;
  big += "description: \"" + std::string(25u << 20, 'y') + "\"\nsteps:\n  - {id: a, run: echo a}\n";
  std::string path = box.WriteRunbook("big", big);
  big.clear();
  big.shrink_to_fit();
  Outcome v = box.Run({"validate", path}, seconds(240));
  EXPECT_FALSE(v.timed_out);
  EXPECT_EQ(v.exit_code, 0) << v.Describe();
  EXPECT_LT(v.max_rss_kb, baseline_kb + 1024 * 1024) << "peak RSS " << v.max_rss_kb << " KiB for a 50 MB file";
}

// --- The journal's file ----------------------------------------------------------

TEST(CliHostileInput, JournalPathThatIsASymbolicLinkIsRefusedAndItsTargetUntouched) {
  CliSandbox box;
  std::string target = box.WriteFile("someone-elses-file", "precious\n");
  ASSERT_EQ(::chown(target.c_str(), 65534, 65534) == 0 || geteuid() != 0, true);
  std::string link = box.Path("journal-link.db");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  std::string rb =
      box.WriteRunbook("quick", "name: quick\nsteps:\n  - {id: a, run: touch " + box.Path("a.ran") + "}\n");
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--journal", link, "run", rb},
                                               {"--journal", link, "runs"}}) {
    Outcome o = box.Run(args);
    EXPECT_NE(o.exit_code, 0) << o.Describe();
    EXPECT_NE(o.err.find("journal path is a symbolic link: " + link), std::string::npos) << o.Describe();
  }
  EXPECT_EQ(ReadFile(target), "precious\n");
  EXPECT_FALSE(FileExists(box.Path("a.ran")));
  EXPECT_FALSE(FileExists(target + "-wal"));

  // A real journal whose -wal (or -shm) someone replaced by a link to their
  // victim: SQLite opens those with O_NOFOLLOW too, so the run is refused
  // and the victim stays as it was.
  ASSERT_EQ(box.Run({"runs"}).exit_code, 0);
  for (const char* side : {"-wal", "-shm"}) {
    SCOPED_TRACE(side);
    std::string planted = box.journal_path() + side;
    std::filesystem::remove(box.journal_path() + "-wal");
    std::filesystem::remove(box.journal_path() + "-shm");
    ASSERT_EQ(::symlink(target.c_str(), planted.c_str()), 0);
    Outcome o = box.Run({"run", rb});
    EXPECT_NE(o.exit_code, 0) << o.Describe();
    EXPECT_NE(o.err.find(box.journal_path()), std::string::npos) << o.Describe();
    EXPECT_EQ(ReadFile(target), "precious\n");
    EXPECT_FALSE(FileExists(box.Path("a.ran")));
    std::filesystem::remove(planted);
  }
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 07777;
  return st.st_mode & 07777;
}

TEST(CliHostileInput, JournalSideFilesLocksArchivesAndExportsAreOwnerOnlyEvenWithUmaskZero) {
  CliSandbox box;
  std::string journal = box.Path("state/deep/journal.db");
  std::string rb = box.WriteRunbook("grouped", "name: grouped\nconcurrency: {group: db}\n"
                                               "steps:\n  - {id: a, run: echo a}\n");
  mode_t old = ::umask(0);
  Outcome run = box.Run({"--journal", journal, "--json", "run", rb});
  Outcome exported = box.Run({"--journal", journal, "journal", "export", "last", "-o", box.Path("review.md")});
  Outcome pruned = box.Run({"--journal", journal, "journal", "prune", "--older-than", "0s", "--archive",
                            box.Path("archive.db")});
  ::umask(old);
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(exported.exit_code, 0) << exported.Describe();
  EXPECT_EQ(pruned.exit_code, 0) << pruned.Describe();

  EXPECT_EQ(ModeOf(box.Path("state")), 0700u);
  EXPECT_EQ(ModeOf(box.Path("state/deep")), 0700u);
  EXPECT_EQ(ModeOf(journal), 0600u);
  for (const char* side : {"-wal", "-shm"}) {
    if (FileExists(journal + side)) {
      EXPECT_EQ(ModeOf(journal + side), 0600u) << side;
    }
  }
  EXPECT_EQ(ModeOf(journal + ".locks/db.lock"), 0600u);
  EXPECT_EQ(ModeOf(box.Path("review.md")), 0600u);
  EXPECT_EQ(ModeOf(box.Path("archive.db")), 0600u);
}

// A parameter's `pattern:` runs on the bounded regex engine: a long value or
// a deeply nested pattern is an answer or a clear error, never a crash.
TEST(CliHostileInput, LongValuesAndDeepPatternsDoNotCrashParameterChecks) {
  CliSandbox box;
  std::string rb = box.WriteRunbook("pat", R"(name: pat
params:
  v: {type: string, pattern: '^[a-z]*$'}
steps:
  - id: len
    run: printf '%s' "${#RUNBOOK_PARAM_v}"
)");
  Outcome o = box.Run({"--json", "run", rb, "-p", "v=" + std::string(100000, 'a')});
  ASSERT_EQ(o.exit_code, 0) << o.Describe();
  auto summary = ParseJson(o.out, "run --json");
  ASSERT_TRUE(summary);
  EXPECT_EQ(box.RawLogs(JsonString(*summary, "run_id"), "len"), "100000");
  o = box.Run({"run", rb, "-p", "v=" + std::string(100000, 'a') + "B"});
  EXPECT_EQ(o.exit_code, 2) << o.Describe();
  EXPECT_NE(o.err.find("does not match pattern '^[a-z]*$'"), std::string::npos) << o.err.substr(0, 300);
  std::string deep = std::string(30000, '(') + "a" + std::string(30000, ')');
  std::string bad = box.WriteRunbook("deep", "name: deep\nparams:\n  v: {type: string, pattern: '" + deep +
                                                 "'}\nsteps:\n  - id: a\n    run: 'true'\n");
  o = box.Run({"validate", bad});
  EXPECT_TRUE(o.exit_code == 0 || o.exit_code == 2) << "no crash: " << o.Describe().substr(0, 300);
}

}  // namespace
}  // namespace runbook::clitest

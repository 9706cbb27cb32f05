// The incident runbooks (security-incident, data-corruption, system-failure,
// each starting from emergency-response as a child run) run end to end
// against the test environment, non-interactively: each run stops at its
// approvals (exit 3), the test approves or rejects them with `runbook
// approve` and continues with `runbook resume`, as an on-call engineer
// would. The fixture's state, the recorded commands, the backups and the
// database show what the runbooks really did.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/runbooks/runbooks_env.h"

namespace runbook::runbooktest {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

struct Decision {
  bool approve = true;
  std::vector<std::string> inputs;  // "k=v"
};

class IncidentTest : public RunbooksTest {
 protected:
  // Approves or rejects, per `decisions` (by step id), every approval run
  // `run` and its child runs wait for, and resumes, until the run ends
  // (`o` is the outcome of the command that started it). An approval without
  // a decision fails the test. Returns the last command's outcome.
  clitest::Outcome Drive(const std::string& run, clitest::Outcome o,
                         const std::map<std::string, Decision>& decisions) {
    std::set<std::string> done;  // run/step
    for (int round = 0; round < 10 && o.exit_code == 3; ++round) {
      int decided = 0;
      for (const std::string& r : RunAndChildren(run)) {
        boost::json::value show = sandbox_.ShowJson(r);
        if (!show.is_object()) continue;
        for (const auto& step : show.at("steps").as_array()) {
          if (clitest::JsonString(step, "status") != "waiting") continue;
          std::string id = clitest::JsonString(step, "id");
          if (id == "emergency") continue;  // waits for its child run
          if (!done.insert(r + "/" + id).second) continue;  // decided, not yet resumed past it
          auto it = decisions.find(id);
          if (it == decisions.end()) {
            ADD_FAILURE() << "unexpected approval: step " << id << " of run " << r;
            continue;
          }
          std::vector<std::string> approve = {"approve", r, id, "--as", "oncall"};
          if (!it->second.approve) approve.push_back("--reject");
          for (const auto& kv : it->second.inputs) approve.insert(approve.end(), {"--input", kv});
          clitest::Outcome a = sandbox_.Run(approve);
          EXPECT_EQ(a.exit_code, 0) << "approve " << id << ": " << a.Describe();
          ++decided;
          decided_.push_back(id);
        }
      }
      if (decided == 0) {
        ADD_FAILURE() << "run " << run << " waits but no step waits for a decision: " << o.Describe();
        break;
      }
      o = sandbox_.Run({"resume", run}, std::chrono::milliseconds(120000));
      EXPECT_FALSE(o.timed_out) << "runbook resume " << run << " did not end within 120 s: " << o.Describe();
    }
    EXPECT_NE(o.exit_code, 3) << "still waiting after 10 rounds: " << o.Describe();
    return o;
  }

  // `runbook run NAME ARGS...`: its outcome, and the run id in *run.
  clitest::Outcome Start(const std::string& name, const std::vector<std::string>& args, std::string* run) {
    std::vector<std::string> argv = {"run", name};
    argv.insert(argv.end(), args.begin(), args.end());
    clitest::Outcome o = sandbox_.Run(argv, std::chrono::milliseconds(120000));
    *run = RunIdFrom(o);
    EXPECT_FALSE(run->empty()) << "runbook run " << name << ": " << o.Describe();
    return o;
  }

  // The run and the runs it started (runbook steps), from `runbook runs`.
  std::vector<std::string> RunAndChildren(const std::string& run) {
    std::vector<std::string> out = {run};
    clitest::Outcome o = sandbox_.Run({"--json", "runs", "--limit", "100"});
    auto v = clitest::ParseJson(o.out, "runs --json");
    if (!v || !v->is_array()) return out;
    for (const auto& r : v->get_array())
      if (clitest::JsonString(r, "parent_run") == run) out.push_back(clitest::JsonString(r, "id"));
    return out;
  }

  boost::json::value ChildShow(const std::string& run) {
    std::vector<std::string> runs = RunAndChildren(run);
    if (runs.size() < 2) {
      ADD_FAILURE() << "run " << run << " started no child run";
      return nullptr;
    }
    return sandbox_.ShowJson(runs[1]);
  }

  // The files of backup_dir whose name starts with `prefix`.
  std::vector<std::string> Backups(const std::string& prefix) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(site().backup_dir))
      if (e.path().filename().string().starts_with(prefix)) out.push_back(e.path().string());
    return out;
  }

  std::vector<std::string> decided_;  // the steps decided, in order
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// --- security-incident -------------------------------------------------------------

TEST_F(IncidentTest, SecurityIncidentStopsAtApprovalsThenContainsInvestigatesAndBacksUp) {
  Site& s = site();
  WebFixture& web = s.StartWeb();
  s.WriteProfile();
  s.FakeCommand("ufw", "Rule added\n");
  s.FakeCommand("systemctl");
  s.Append(s.app_home + "/scripts/setup/generate_env_secrets.py",
           "import sys\nopen('" + s.dir + "/secrets-regenerated', 'w').write(' '.join(sys.argv[1:]))\n");
  std::string cmds;
  for (int i = 0; i < 5; ++i) cmds += "SET " + s.session_prefix + ":session:s" + std::to_string(i) + " u EX 3600\n";
  cmds += "SET " + s.session_prefix + ":cache:keep 1\n";
  env_->RedisPipe(cmds);
  s.Append(s.security_log, LogEntry("2025-03-10", "03:00:00", "WARNING", "FAILED_LOGIN user=admin1 ip=203.0.113.7", "security"));

  // The run stops at the assessment (in the child run) and the block;
  // nothing is activated before the assessment.
  std::string run;
  clitest::Outcome first = Start("security-incident", {"-p", "attacker_ip=203.0.113.7"}, &run);
  ASSERT_EQ(first.exit_code, 3) << first.Describe();
  EXPECT_EQ(StepStatus(ChildShow(run), "assess"), "waiting");
  EXPECT_EQ(StepStatus(sandbox_.ShowJson(run), "block-attacker"), "waiting");
  EXPECT_EQ(web.State().at("is_active"), boost::json::value(false));

  // Approve everything but the isolation (closing ports 80 and 443, stopping nginx).
  clitest::Outcome o = Drive(run, first,
                             {{"assess", {true, {"severity=critical", "scope=web application"}}},
                              {"block-attacker", {}},
                              {"block-web-ports", {false, {}}},
                              {"stop-nginx", {false, {}}},
                              {"expire-sessions", {}},
                              {"reset-admin-passwords", {true, {"note=reset through the admin UI"}}},
                              {"regenerate-secrets", {}},
                              {"platform-credentials", {}}});
  boost::json::value show = sandbox_.ShowJson(run);
  EXPECT_EQ(o.exit_code, 0) << o.Describe();
  EXPECT_EQ(clitest::JsonString(show, "status"), "succeeded");
  EXPECT_THAT(decided_, Contains("block-web-ports"));

  // Emergency maintenance through the real API, with the seed's body.
  boost::json::value state = web.State();
  EXPECT_EQ(state.at("is_active"), boost::json::value(true));
  EXPECT_EQ(clitest::JsonString(state, "mode"), "emergency");
  EXPECT_EQ(clitest::JsonString(state, "reason"), "EMERGENCY: Security incident - system under attack");
  EXPECT_EQ(state.at("terminate_jobs"), boost::json::value(true));
  EXPECT_EQ(Number(&state.at("grace_period")), 30);
  // Containment: the address is blocked, ports 80/443 are not (rejected).
  std::vector<std::string> calls = s.Calls();
  EXPECT_THAT(calls, Contains("ufw deny from 203.0.113.7"));
  EXPECT_THAT(calls, Not(Contains(HasSubstr("port 80"))));
  EXPECT_THAT(calls, Not(Contains(HasSubstr("systemctl stop nginx"))));
  EXPECT_EQ(Number(Output(show, "sessions_expired")), 5);
  EXPECT_EQ(env_->Redis({"--scan", "--pattern", s.session_prefix + ":session:*"}), "");
  EXPECT_THAT(env_->Redis({"GET", s.session_prefix + ":cache:keep"}), HasSubstr("1"));
  EXPECT_EQ(Number(Output(show, "recent_sessions")), 7);  // fixtures/vedfolnir.sql
  EXPECT_EQ(*Output(show, "attacker_blocked"), boost::json::value(true));
  EXPECT_EQ(ReadFile(s.dir + "/secrets-regenerated"), "--force");
  // The team was told, with the assessed severity.
  EXPECT_THAT(calls, Contains("sendmail -t -i"));

  // The backups exist, and the SQL dump restores into a scratch database.
  std::vector<std::string> dumps = Backups("emergency_");
  ASSERT_EQ(dumps.size(), 1u);
  EXPECT_EQ(Backups("redis_emergency_").size(), 1u);
  EXPECT_EQ(Backups("app_emergency_").size(), 1u);
  EXPECT_EQ(Backups("logs_emergency_").size(), 1u);
  EXPECT_EQ(Backups("processes_emergency_").size(), 1u);
  EXPECT_EQ(Backups("security_analysis_").size(), 1u);
  std::string scratch = s.database + "_r";
  env_->Sql("", "CREATE DATABASE `" + scratch + "`");
  Finished restore = RunProgram({"mysql", "--no-defaults", "-u", "root", "--socket=" + env_->Var("RUNBOOK_TEST_MYSQL_SOCKET"),
                                 scratch},
                                ReadFile(dumps[0]), {"MYSQL_PWD=" + env_->Var("RUNBOOK_TEST_MYSQL_ROOT_PASSWORD")});
  EXPECT_EQ(restore.exit_code, 0) << restore.Describe();
  EXPECT_EQ(env_->Sql(scratch, "SELECT COUNT(*) FROM users"), "40\n");
  EXPECT_EQ(env_->Sql(scratch, "SELECT COUNT(*) FROM images"), "600\n");
  env_->DropDatabase(scratch);

  // The post-incident export reads as the incident's timeline.
  clitest::Outcome md = sandbox_.Run({"journal", "export", run, "--format", "md"});
  EXPECT_EQ(md.exit_code, 0) << md.Describe();
  EXPECT_THAT(md.out, HasSubstr("security-incident"));
  EXPECT_THAT(md.out, HasSubstr("emergency-response"));
  EXPECT_THAT(md.out, HasSubstr("activate-emergency"));
  EXPECT_THAT(md.out, HasSubstr("oncall"));
}

// A rejected approval is a decision: resuming the run for a later approval
// must not ask for it again (nor run the step).
// A rejected step keeps its rejection on resume: it is not asked for again.
TEST_F(IncidentTest, SecurityIncidentDoesNotAskAgainForARejectedBlock) {
  Site& s = site();
  s.StartWeb();
  s.WriteProfile();
  s.FakeCommand("ufw");
  s.Append(s.app_home + "/scripts/setup/generate_env_secrets.py", "pass\n");
  std::string run;
  clitest::Outcome o = Start("security-incident", {"-p", "attacker_ip=198.51.100.23", "-p", "isolate=false"}, &run);
  ASSERT_EQ(o.exit_code, 3) << o.Describe();
  o = Drive(run, o,
            {{"assess", {true, {"severity=high"}}},
             {"block-attacker", {false, {}}},
             {"expire-sessions", {}},
             {"reset-admin-passwords", {}},
             {"regenerate-secrets", {}},
             {"platform-credentials", {}}});
  boost::json::value show = sandbox_.ShowJson(run);
  EXPECT_THAT(site().Calls(), Not(Contains(HasSubstr("ufw deny"))));
  EXPECT_EQ(*Output(show, "attacker_blocked"), boost::json::value(false));
  EXPECT_EQ(StepStatus(show, "regenerate-secrets"), "succeeded");
}

// Approval prompts show the values they name (the run's reason), not the
// expression text.
TEST_F(IncidentTest, ApprovalPromptsShowRenderedValues) {
  Site& s = site();
  s.StartWeb();
  s.WriteProfile();
  std::string run;
  clitest::Outcome o = Start("emergency-response", {"-p", "reason=disk array degraded"}, &run);
  ASSERT_EQ(o.exit_code, 3) << o.Describe();
  std::string out = o.out + o.err;
  EXPECT_THAT(out, HasSubstr("Emergency: disk array degraded."));
  EXPECT_THAT(out, Not(HasSubstr("${{")));
}

// Redis's LASTSAVE counts whole seconds. A backup whose save ends within the
// second the previous save ended must still see it end (it once waited five
// minutes for LASTSAVE to move), and the file must hold the write made just
// before it, not the previous save. The previous save is taken at the start
// of a second, so the backup's save lands in that second.
TEST_F(IncidentTest, RedisBackupEndsWithinTheSecondOfThePreviousSaveAndHoldsTheLatestWrite) {
  Site& s = site();
  s.StartWeb();
  s.WriteProfile();
  std::string run;
  clitest::Outcome o = Start("emergency-response", {"-p", "reason=redis backup test"}, &run);
  ASSERT_EQ(o.exit_code, 3) << o.Describe();
  clitest::Outcome a =
      sandbox_.Run({"approve", run, "assess", "--as", "oncall", "--input", "severity=medium"});
  ASSERT_EQ(a.exit_code, 0) << a.Describe();
  for (int round = 0; round < 2; ++round) {
    auto now = std::chrono::system_clock::now();
    std::this_thread::sleep_until(std::chrono::ceil<std::chrono::seconds>(now));
    // SAVE is refused while another test's background save runs.
    Finished save;
    for (int i = 0; i < 200; ++i) {
      save = RunProgram({"redis-cli", "-e", "-h", "127.0.0.1", "-p", std::to_string(env_->redis_port()), "SAVE"});
      if (save.exit_code == 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(save.exit_code, 0) << save.Describe();
    std::string marker = "rbmark" + std::to_string(::getpid() % 100000) + "r" + std::to_string(round);
    env_->Redis({"SET", s.session_prefix + ":backup-marker", marker});
    clitest::Outcome r = round == 0 ? sandbox_.Run({"resume", run}, std::chrono::milliseconds(120000))
                                    : sandbox_.Run({"resume", run, "--from", "backup-redis"},
                                                   std::chrono::milliseconds(120000));
    ASSERT_EQ(r.exit_code, 0) << "round " << round << ": " << r.Describe();
    boost::json::value show = sandbox_.ShowJson(run);
    EXPECT_EQ(StepStatus(show, "backup-redis"), "succeeded");
    std::string file = clitest::JsonString(show.at("outputs"), "redis_backup");
    ASSERT_FALSE(file.empty()) << "round " << round;
    EXPECT_THAT(ReadFile(file), HasSubstr(marker)) << "round " << round << ": " << file;
  }
}

// --- data-corruption ---------------------------------------------------------------

class DataCorruptionTest : public IncidentTest {
 protected:
  // Yesterday's backups of the intact database (two; the newer one is
  // taken), then the "corruption": users and posts deleted.
  void Prepare() {
    Site& s = site();
    s.StartWeb();
    s.WriteProfile();
    Finished dump = RunProgram({"mysqldump", "--no-defaults", "-u", "root",
                                "--socket=" + env_->Var("RUNBOOK_TEST_MYSQL_SOCKET"), s.database},
                               "", {"MYSQL_PWD=" + env_->Var("RUNBOOK_TEST_MYSQL_ROOT_PASSWORD")});
    ASSERT_EQ(dump.exit_code, 0) << dump.Describe();
    newest_ = s.backup_dir + "/vedfolnir_20250309_020000.sql";
    s.Append(s.backup_dir + "/vedfolnir_20250309_010000.sql", "SELECT 'the older backup';\n");
    AgeFile(s.backup_dir + "/vedfolnir_20250309_010000.sql", 2, 2);
    s.Append(newest_, dump.out);
    env_->Sql(s.database, "DELETE FROM users WHERE id > 30; DELETE FROM posts WHERE id > 100;");
  }
  std::string newest_;
};

TEST_F(DataCorruptionTest, RestoreApprovedBringsBackTheNewestBackupOfTheDay) {
  Prepare();
  std::string run;
  clitest::Outcome o = Start("data-corruption", {"-p", "restore_date=2025-03-09"}, &run);
  ASSERT_EQ(o.exit_code, 3) << o.Describe();
  o = Drive(run, o,
            {{"assess", {true, {"severity=high", "scope=users and posts"}}},
             {"choose-recovery", {true, {"option=restore"}}},
             {"restore-backup", {}}});
  EXPECT_EQ(o.exit_code, 0) << o.Describe();
  boost::json::value show = sandbox_.ShowJson(run);
  EXPECT_EQ(Number(Output(show, "users_before")), 30);
  EXPECT_EQ(Number(Output(show, "posts_before")), 100);
  EXPECT_EQ(Number(Output(show, "users_after")), 40);
  EXPECT_EQ(Number(Output(show, "posts_after")), 300);
  EXPECT_EQ(Number(Output(show, "damaged_tables")), 0);
  EXPECT_EQ(clitest::JsonString(show.at("outputs"), "restored_from"), newest_);
  EXPECT_EQ(env_->Sql(site().database, "SELECT COUNT(*) FROM images"), "600\n");
  EXPECT_EQ(StepStatus(show, "repair-tables"), "skipped");
  // The emergency backup was taken before the restore: the damaged state.
  std::vector<std::string> dumps = Backups("emergency_");
  ASSERT_EQ(dumps.size(), 1u);
  EXPECT_THAT(ReadFile(dumps[0]), Not(HasSubstr("'user40@example.org'")));
  EXPECT_THAT(ReadFile(dumps[0]), HasSubstr("'user30@example.org'"));
}

TEST_F(DataCorruptionTest, RestoreRejectedLeavesTheDatabaseAsItWas) {
  Prepare();
  std::string run;
  clitest::Outcome o = Start("data-corruption", {"-p", "restore_date=2025-03-09"}, &run);
  ASSERT_EQ(o.exit_code, 3) << o.Describe();
  o = Drive(run, o,
            {{"assess", {true, {"severity=high"}}},
             {"choose-recovery", {true, {"option=restore"}}},
             {"restore-backup", {false, {}}}});
  boost::json::value show = sandbox_.ShowJson(run);
  EXPECT_NE(StepStatus(show, "restore-backup"), "succeeded");
  EXPECT_EQ(Number(Output(show, "users_after")), 30);
  EXPECT_EQ(env_->Sql(site().database, "SELECT COUNT(*) FROM users"), "30\n");
  EXPECT_THAT(decided_, Contains("restore-backup"));
}

TEST_F(DataCorruptionTest, RepairChosenRunsRepairTableAndValidates) {
  Prepare();
  std::string run;
  clitest::Outcome o = Start("data-corruption", {"-p", "restore_date=2025-03-09"}, &run);
  ASSERT_EQ(o.exit_code, 3) << o.Describe();
  o = Drive(run, o, {{"assess", {true, {"severity=medium"}}}, {"choose-recovery", {true, {"option=repair"}}}});
  EXPECT_EQ(o.exit_code, 0) << o.Describe();
  boost::json::value show = sandbox_.ShowJson(run);
  EXPECT_EQ(StepStatus(show, "repair-tables"), "succeeded");
  EXPECT_EQ(StepStatus(show, "restore-backup"), "skipped");
  EXPECT_EQ(Number(Output(show, "users_after")), 30);
  EXPECT_THAT(sandbox_.RawLogs(run, "repair-tables"), HasSubstr("repair"));
}

// --- system-failure ----------------------------------------------------------------

class SystemFailureTest : public IncidentTest {
 protected:
  void Prepare(const std::map<std::string, std::string>& profile) {
    Site& s = site();
    s.StartWeb();
    std::map<std::string, std::string> p = profile;
    p["iostat_samples"] = "1";
    s.WriteProfile(p);
    for (const char* c : {"systemctl", "journalctl", "shutdown"}) s.FakeCommand(c);
  }
};

TEST_F(SystemFailureTest, RestartsTheFailedServiceAfterApprovalAndSkipsTheReboot) {
  // MySQL "down": nothing listens where the site says it is.
  Prepare({{"mysql_port", "9"}});
  std::string run;
  clitest::Outcome o = Start("system-failure", {}, &run);
  ASSERT_EQ(o.exit_code, 3) << o.Describe();
  o = Drive(run, o, {{"assess", {true, {"severity=critical"}}}, {"restart-mysql", {}}});
  boost::json::value show = sandbox_.ShowJson(run);
  EXPECT_EQ(*Output(show, "mysql_ok"), boost::json::value(false));
  EXPECT_EQ(*Output(show, "redis_ok"), boost::json::value(true));
  EXPECT_EQ(*Output(show, "app_ok"), boost::json::value(true));
  EXPECT_EQ(*Output(show, "rebooted"), boost::json::value(false));
  EXPECT_EQ(*Output(show, "healthy"), boost::json::value(true));
  std::vector<std::string> calls = site().Calls();
  EXPECT_THAT(calls, Contains("systemctl restart mysql"));
  EXPECT_THAT(calls, Not(Contains("systemctl restart redis")));
  EXPECT_THAT(calls, Contains("systemctl status --no-pager vedfolnir mysql redis nginx"));
  EXPECT_THAT(calls, Contains("journalctl --no-pager -u mysql -n 50"));
  EXPECT_THAT(calls, Not(Contains(HasSubstr("shutdown"))));
  EXPECT_EQ(StepStatus(show, "reboot"), "skipped");
  // The child run's database backup failed (MySQL is down); recovery went on.
  EXPECT_EQ(StepStatus(ChildShow(run), "backup-mysql"), "failed");
}

TEST_F(SystemFailureTest, RebootsWhenStillUnhealthyAndVerifiesAfterTheMachineIsBack) {
  Prepare({});
  // Unhealthy until the reboot has been scheduled.
  Site& s = site();
  std::ofstream(s.health_script) << "#!/bin/sh\ngrep -q 'shutdown -r' '" << s.dir
                                 << "/calls.log' 2>/dev/null && echo OK && exit 0\necho 'Redis: FAILED'; exit 1\n";
  std::string run;
  clitest::Outcome o = Start("system-failure", {}, &run);
  ASSERT_EQ(o.exit_code, 3) << o.Describe();
  o = Drive(run, o, {{"assess", {true, {"severity=critical"}}}, {"reboot", {}}, {"after-reboot", {}}});
  EXPECT_EQ(o.exit_code, 0) << o.Describe();
  boost::json::value show = sandbox_.ShowJson(run);
  EXPECT_EQ(*Output(show, "rebooted"), boost::json::value(true));
  EXPECT_EQ(*Output(show, "healthy"), boost::json::value(true));
  EXPECT_EQ(StepStatus(show, "verify-after-reboot"), "succeeded");
  EXPECT_THAT(s.Calls(), Contains("shutdown -r +1 runbook system-failure: reboot for system recovery"));
}

TEST_F(SystemFailureTest, RebootRejectedLeavesTheMachineUpAndTheRunUnhealthy) {
  Prepare({});
  Site& s = site();
  std::ofstream(s.health_script) << "#!/bin/sh\necho 'Application: FAILED'; exit 1\n";
  std::string run;
  clitest::Outcome o = Start("system-failure", {}, &run);
  ASSERT_EQ(o.exit_code, 3) << o.Describe();
  o = Drive(run, o, {{"assess", {true, {"severity=high"}}}, {"reboot", {false, {}}}});
  boost::json::value show = sandbox_.ShowJson(run);
  EXPECT_EQ(*Output(show, "rebooted"), boost::json::value(false));
  EXPECT_EQ(*Output(show, "healthy"), boost::json::value(false));
  EXPECT_THAT(s.Calls(), Not(Contains(HasSubstr("shutdown"))));
  EXPECT_NE(StepStatus(show, "verify-after-reboot"), "succeeded");
}

}  // namespace
}  // namespace runbook::runbooktest

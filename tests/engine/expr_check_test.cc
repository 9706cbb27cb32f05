// The static checker: names through a Scope, operator and function types,
// status functions only in conditions. Every message is compared verbatim.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "engine/expr/expr.h"

namespace runbook::expr {
namespace {

// Compile-time knowledge of a small runbook, as the compiler would give it.
class FakeScope : public Scope {
 public:
  Result<Type> Lookup(const std::vector<std::string>& path) const override {
    std::string key;
    for (const auto& p : path) key += (key.empty() ? "" : ".") + p;
    lookups.push_back(key);
    auto it = types_.find(key);
    if (it != types_.end()) return it->second;
    if (path.size() > 1 && path[0] == "steps" && path[1] == "later")
      return Status::InvalidArgument("step 'later' is not upstream of step 'me'");
    return Status::InvalidArgument("no such value '" + key + "'");
  }

  mutable std::vector<std::string> lookups;

 private:
  std::map<std::string, Type> types_ = {
      {"params.name", Type::kString},      {"params.count", Type::kNumber},
      {"params.flag", Type::kBool},        {"params.tags", Type::kList},
      {"params.meta", Type::kObject},      {"params.nothing", Type::kNull},
      {"steps.df.outputs.use", Type::kNumber}, {"steps.df.status", Type::kString},
      {"steps.df.outputs.rows", Type::kList},  {"steps.df.outputs.data", Type::kAny},
      {"env.HOME", Type::kString},         {"secrets.TOKEN", Type::kString},
      {"run.started_at", Type::kString},   {"now", Type::kString},
      {"inputs.ok", Type::kBool},          {"env.MY-VAR", Type::kString},
  };
};

Result<Type> CheckText(std::string_view text, bool in_condition = false) {
  auto e = Expression::Parse(text);
  if (!e.ok()) return Status::InvalidArgument("parse: " + e.status().message());
  FakeScope scope;
  return Check(*e, scope, in_condition);
}

std::string TypeOrError(std::string_view text, bool in_condition = false) {
  auto t = CheckText(text, in_condition);
  return t.ok() ? TypeName(*t) : "error: " + t.status().message();
}

struct Case {
  const char* text;
  const char* want;  // a type name, or "error: message"
};

void ExpectAll(const std::vector<Case>& cases, bool in_condition = false) {
  for (const auto& c : cases) EXPECT_EQ(TypeOrError(c.text, in_condition), c.want) << c.text;
}

TEST(ExprCheckTest, GivesTheTypeOfNamesFromTheScope) {
  ExpectAll({
      {"params.name", "string"},
      {"params.count", "number"},
      {"params.flag", "bool"},
      {"params.tags", "list"},
      {"params.meta", "object"},
      {"params.nothing", "null"},
      {"steps.df.outputs.data", "any"},
      {"now", "string"},
      {"env['MY-VAR']", "string"},
      {"(params.name)", "string"},
  });
}

TEST(ExprCheckTest, GivesTheTypeOfLiteralsAndOperators) {
  ExpectAll({
      {"'x'", "string"},
      {"1", "number"},
      {"1.5", "number"},
      {"true", "bool"},
      {"null", "null"},
      {"!params.name", "bool"},
      {"params.name && params.count", "bool"},
      {"params.tags || params.meta", "bool"},
      {"params.count > 5", "bool"},
      {"steps.df.outputs.use > 90 && steps.df.status == 'succeeded'", "bool"},
  });
}

TEST(ExprCheckTest, AsksTheScopeForTheWholeLeadingChain) {
  auto e = Expression::Parse("steps.df.outputs.rows[0].x == params['name']");
  ASSERT_TRUE(e.ok());
  FakeScope scope;
  ASSERT_TRUE(Check(*e, scope, false).ok());
  EXPECT_EQ(scope.lookups, (std::vector<std::string>{"steps.df.outputs.rows", "params.name"}));
}

TEST(ExprCheckTest, RejectsUnknownNamesWithASuggestion) {
  ExpectAll({
      {"foo", "error: unknown name 'foo'"},
      {"parms.x", "error: unknown name 'parms' (did you mean 'params'?)"},
      {"step.df.status", "error: unknown name 'step' (did you mean 'steps'?)"},
      {"!(foo)", "error: unknown name 'foo'"},
      {"params.flag && envv.HOME", "error: unknown name 'envv' (did you mean 'env'?)"},
      {"length", "error: 'length' is a function; call it as length()"},
      {"success", "error: 'success' is a function; call it as success()"},
  });
}

TEST(ExprCheckTest, PassesTheScopesMessageThrough) {
  ExpectAll({
      {"steps.later.status", "error: step 'later' is not upstream of step 'me'"},
      {"params.missing == 1", "error: no such value 'params.missing'"},
      {"params.meta['a']", "error: no such value 'params.meta.a'"},
  });
}

TEST(ExprCheckTest, ChecksMembersAndIndexesBeyondTheChain) {
  ExpectAll({
      {"steps.df.outputs.rows[0]", "any"},
      {"steps.df.outputs.rows[0].x", "any"},
      {"steps.df.outputs.rows[params.count]", "any"},
      {"steps.df.outputs.data[0]", "any"},
      {"steps.df.outputs.data[params.name]", "any"},
      {"steps.df.outputs.data[steps.df.outputs.data]", "any"},
      {"params.meta[params.name]", "any"},
      {"json(params.name).a.b", "any"},
      {"json(params.name)[0]", "any"},
      {"trim(params.name).x", "error: 'trim(params.name)' is a string; it has no field 'x'"},
      {"lines(params.name).x", "error: 'lines(params.name)' is a list; it has no field 'x'"},
      {"length(params.tags).x", "error: 'length(params.tags)' is a number; it has no field 'x'"},
      {"(params.flag == true).x", "error: 'params.flag == true' is a bool; it has no field 'x'"},
      {"null.x", "error: 'null' is null; it has no field 'x'"},
      {"params.tags[true]", "error: 'params.tags' is a list; index it with a number, got bool"},
      {"params.tags[params.name]", "error: 'params.tags' is a list; index it with a number, got string"},
      {"params.meta[1]", "error: 'params.meta' is an object; index it with a string, got number"},
      {"params.count[0]", "error: 'params.count' is a number; it cannot be indexed"},
      {"params.name[params.count]", "error: 'params.name' is a string; it cannot be indexed"},
      {"steps.df.outputs.data[true]", "error: an index must be a number or a string, got bool"},
      {"steps.df.outputs.data[params.tags]", "error: an index must be a number or a string, got list"},
      {"steps.df.outputs.rows[0][foo]", "error: unknown name 'foo'"},
  });
}

TEST(ExprCheckTest, QuotesLongSubexpressionsShortened) {
  EXPECT_EQ(TypeOrError("string(params.name == 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa').x"),
            "error: 'string(params.name == 'aaaaaaaaaaaaaa...' is a string; it has no field 'x'");
}

TEST(ExprCheckTest, EqualityNeedsComparableTypesWhenBothAreKnown) {
  ExpectAll({
      {"params.name == 'x'", "bool"},
      {"params.count != 1.5", "bool"},
      {"params.count == null", "bool"},
      {"null == params.tags", "bool"},
      {"params.nothing == 1", "bool"},
      {"steps.df.outputs.data == 1", "bool"},
      {"'x' == steps.df.outputs.data", "bool"},
      {"params.tags == params.tags", "bool"},
      {"params.count == 'x'",
       "error: '==' compares number with string; convert one with string() or number()"},
      {"params.flag != 1", "error: '!=' compares bool with number; convert one with string() or number()"},
      {"'true' == params.flag", "error: '==' compares string with bool; convert one with string() or number()"},
      {"params.tags == params.meta", "error: '==' compares list with object"},
      {"params.tags == 'a'", "error: '==' compares list with string"},
  });
}

TEST(ExprCheckTest, OrderingNeedsTwoNumbersOrTwoStrings) {
  ExpectAll({
      {"params.count < 5", "bool"},
      {"params.name >= 'm'", "bool"},
      {"now > run.started_at", "bool"},
      {"steps.df.outputs.data <= 'a'", "bool"},
      {"1 > steps.df.outputs.data", "bool"},
      {"params.name < 5", "error: '<' needs two numbers or two strings, got string and number"},
      {"params.flag > true", "error: '>' needs two numbers or two strings, got bool and bool"},
      {"params.tags <= steps.df.outputs.data", "error: '<=' needs two numbers or two strings, got list and any"},
      {"null >= 1", "error: '>=' needs two numbers or two strings, got null and number"},
  });
}

TEST(ExprCheckTest, GivesTheResultTypeOfEachFunction) {
  ExpectAll({
      {"contains(params.name, 'a')", "bool"},
      {"contains(params.tags, 1)", "bool"},
      {"starts_with(params.name, 'a')", "bool"},
      {"ends_with(params.name, 'a')", "bool"},
      {"format_time(now, '%Y')", "string"},
      {"format_time(1700000000, '%Y', 'Europe/Berlin')", "string"},
      {"format_time(now, '%Y', 'UTC')", "string"},
      {"format_time(now, '%Y', 'local')", "string"},
      {"format_time(now, '%Y', params.name)", "string"},
      {"int(params.name)", "number"},
      {"number(params.flag)", "number"},
      {"string(params.tags)", "string"},
      {"trim(params.name)", "string"},
      {"lines(params.name)", "list"},
      {"json(params.name)", "any"},
      {"length(params.meta)", "number"},
      {"join(params.tags, ',')", "string"},
      {"to_json(params.meta)", "string"},
      {"int(steps.df.outputs.data)", "number"},
  });
}

TEST(ExprCheckTest, ReportsUnknownFunctionsArityAndArgumentTypes) {
  ExpectAll({
      {"lenght(params.name)", "error: unknown function 'lenght' (did you mean 'length'?)"},
      {"startswith(params.name, 'a')", "error: unknown function 'startswith' (did you mean 'starts_with'?)"},
      {"frobnicate(1)", "error: unknown function 'frobnicate'"},
      {"params(1)", "error: unknown function 'params'"},
      {"length()", "error: length() takes 1 argument, got 0"},
      {"contains('a')", "error: contains() takes 2 arguments, got 1"},
      {"format_time(now)", "error: format_time() takes 2 or 3 arguments, got 1"},
      {"format_time(now, '%Y', 'UTC', 1)", "error: format_time() takes 2 or 3 arguments, got 4"},
      {"trim(params.count)", "error: argument 1 of trim() must be a string, got number"},
      {"contains(params.count, 1)", "error: argument 1 of contains() must be a string or a list, got number"},
      {"contains(params.name, 1)", "error: argument 2 of contains() must be a string, got number"},
      {"int(params.tags)", "error: argument 1 of int() must be a number, a string or a bool, got list"},
      {"number(null)", "error: argument 1 of number() must be a number, a string or a bool, got null"},
      {"join(params.tags, 1)", "error: argument 2 of join() must be a string, got number"},
      {"join(params.name, ',')", "error: argument 1 of join() must be a list, got string"},
      {"length(params.count)", "error: argument 1 of length() must be a string, a list or an object, got number"},
      {"format_time(params.flag, '%Y')", "error: argument 1 of format_time() must be a number or a string, got bool"},
      {"format_time(now, 5)", "error: argument 2 of format_time() must be a string, got number"},
      {"format_time(now, '%Y', 'Mars/Olympus')", "error: format_time() unknown time zone 'Mars/Olympus'"},
      {"starts_with(params.tags, 'a')", "error: argument 1 of starts_with() must be a string, got list"},
      {"ends_with('a', params.flag)", "error: argument 2 of ends_with() must be a string, got bool"},
      {"lines(1)", "error: argument 1 of lines() must be a string, got number"},
      {"json(params.meta)", "error: argument 1 of json() must be a string, got object"},
      {"trim(foo)", "error: unknown name 'foo'"},
  });
}

TEST(ExprCheckTest, AllowsStatusFunctionsOnlyInConditions) {
  ExpectAll({
      {"success()", "error: success() is only allowed in 'if'"},
      {"failure()", "error: failure() is only allowed in 'if'"},
      {"params.flag && always()", "error: always() is only allowed in 'if'"},
      {"string(cancelled())", "error: cancelled() is only allowed in 'if'"},
  });
  ExpectAll(
      {
          {"success()", "bool"},
          {"failure() || cancelled()", "bool"},
          {"always() && steps.df.outputs.use > 90", "bool"},
          {"success(1)", "error: success() takes no arguments, got 1"},
          {"lenght(1)", "error: unknown function 'lenght' (did you mean 'length'?)"},
      },
      /*in_condition=*/true);
}

}  // namespace
}  // namespace runbook::expr

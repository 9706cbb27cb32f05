// `sql`: a query against a SQLite database file, arguments bound as
// parameters (never spliced into the SQL text). The schema is read by the
// loader and the compiler. The executor renders the fields on the run's
// io_context thread, runs the query on a worker thread of its own
// (steps/sql_query.h) and resumes on the io_context when it is done; a
// cancel (run cancelled, step timeout) interrupts the query.
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <memory>
#include <thread>

#include "engine/executor.h"
#include "engine/expr/expr.h"
#include "engine/schema_reader.h"
#include "engine/script.h"
#include "steps/registry.h"
#include "steps/sql_query.h"

namespace runbook::steps {
namespace {

class SqlType : public StepType {
 public:
  std::string_view name() const override { return "sql"; }
  const std::vector<FieldSchema>& fields() const override {
    static const std::vector<FieldSchema> f = {
        {"database", FieldKind::kString, true, {}},
        {"query", FieldKind::kString, true, {}},
        {"args", FieldKind::kAny, false, {}},
        {"mode", FieldKind::kEnum, false, {"read", "write"}},
        {"expect", FieldKind::kMapping, false, {}},
    };
    return f;
  }
  void Validate(const StepSpec& step, Diagnostics& diags) const override {
    std::string ctx = "step '" + step.id + "': ";
    if (const Node* a = step.fields.Find("args")) {
      if (!a->IsSequence() && !a->IsMapping())
        schema::KindError(*a, ctx + "'args'", "a list (for ?) or a mapping (for :name)", diags);
    }
    if (const Node* q = step.fields.Find("query")) {
      if (expr::HasExpression(q->scalar))
        diags.Error(q->loc, ctx + "'query' must not contain ${{ }}; pass values through 'args' (bound, never spliced)");
    }
    if (const Node* e = step.fields.Find("expect")) {
      schema::CheckKeys(*e, {"rows"}, ctx + "expect: ", "key", diags);
      if (const Node* r = e->Find("rows")) {
        auto t = schema::ThresholdField(*r, ctx + "expect: 'rows'", diags);
        if (t && t->text) diags.Error(r->loc, ctx + "expect: 'rows' compares the number of rows with a number, like \"> 0\"");
      }
    }
  }
  std::vector<OutputDecl> Outputs(const StepSpec&) const override {
    return {{"rows", expr::Type::kList}, {"row_count", expr::Type::kNumber}};
  }
  // The database, the query as written and the values bound to it.
  std::optional<boost::json::object> Preview(const StepSpec& step, const RunbookSpec&,
                                             const ValueContext& values) const override {
    const Node& f = step.fields;
    boost::json::object p;
    p["database"] = PreviewText(f.Find("database")->scalar, values).text;
    p["mode"] = f.Find("mode") ? f.Find("mode")->scalar : "read";
    p["query"] = f.Find("query")->scalar;
    if (const Node* a = f.Find("args")) p["args"] = PreviewJson(a->ToJson(), values);
    return p;
  }
};

// --- Executor ---------------------------------------------------------------

namespace asio = boost::asio;

// Rows written to the step's output (the journal); all of them are in `rows`.
constexpr size_t kRowsShown = 100;

StepOutcome Failed(std::string error) { return StepOutcome{StepStatus::kFailed, std::nullopt, {}, std::move(error)}; }

// One `args` value: a templated scalar keeps its expression's type (a number
// stays a number); a plain scalar reads with the YAML core schema; a list or
// mapping becomes JSON (bound as its text).
Result<boost::json::value> RenderArg(const Node& n, const ValueContext& values) {
  switch (n.kind) {
    case Node::Kind::kNull: return boost::json::value(nullptr);
    case Node::Kind::kScalar: {
      if (!expr::HasExpression(n.scalar)) return n.ToJson();
      auto t = expr::Template::Parse(n.scalar);
      if (!t.ok()) return t.status();
      return expr::RenderValue(*t, values);
    }
    case Node::Kind::kSequence: {
      boost::json::array a;
      for (const auto& item : n.items) {
        auto v = RenderArg(item, values);
        if (!v.ok()) return v.status();
        a.push_back(std::move(*v));
      }
      return boost::json::value(std::move(a));
    }
    case Node::Kind::kMapping: {
      boost::json::object o;
      for (size_t i = 0; i < n.items.size(); ++i) {
        auto v = RenderArg(n.items[i], values);
        if (!v.ok()) return v.status();
        o[n.keys[i]] = std::move(*v);
      }
      return boost::json::value(std::move(o));
    }
  }
  return boost::json::value(nullptr);
}

Result<sql::Query> BuildQuery(const StepContext& ctx) {
  const Node& f = ctx.fields();
  sql::Query q;
  auto db = RenderText(f.Find("database")->scalar, *ctx.values);
  if (!db.ok()) return Status::InvalidArgument("'database': " + db.status().message());
  q.database = *db;
  q.text = f.Find("query")->scalar;
  if (const Node* m = f.Find("mode")) q.mode = m->scalar == "write" ? sql::Mode::kWrite : sql::Mode::kRead;
  if (const Node* a = f.Find("args")) {
    if (a->IsSequence()) {
      q.args = sql::Query::Args::kList;
      for (size_t i = 0; i < a->items.size(); ++i) {
        auto v = RenderArg(a->items[i], *ctx.values);
        if (!v.ok()) return Status::InvalidArgument("'args' item " + std::to_string(i + 1) + ": " + v.status().message());
        q.positional.push_back(std::move(*v));
      }
    } else if (a->IsMapping()) {
      q.args = sql::Query::Args::kMapping;
      for (size_t i = 0; i < a->items.size(); ++i) {
        auto v = RenderArg(a->items[i], *ctx.values);
        if (!v.ok()) return Status::InvalidArgument("'args' '" + a->keys[i] + "': " + v.status().message());
        q.named.emplace_back(a->keys[i], std::move(*v));
      }
    }
  }
  return q;
}

// "" when `count` meets `expect: {rows: ...}` (or there is none), else why not.
std::string CheckExpectedRows(const Node& fields, size_t count) {
  const Node* e = fields.Find("expect");
  const Node* rows = e ? e->Find("rows") : nullptr;
  if (!rows) return "";
  auto t = schema::ParseThreshold(rows->scalar);
  if (!t || t->text) return "expect: 'rows' must be a comparison with a number, like \"> 0\"";
  const double n = static_cast<double>(count);
  bool ok = t->op == ">"    ? n > t->number
            : t->op == ">=" ? n >= t->number
            : t->op == "<"  ? n < t->number
            : t->op == "<=" ? n <= t->number
            : t->op == "==" ? n == t->number
                            : n != t->number;
  if (ok) return "";
  std::string operand = t->number == std::floor(t->number) && std::abs(t->number) < 1e15
                            ? std::to_string(static_cast<long long>(t->number))
                            : expr::ToDisplayString(boost::json::value(t->number));
  return "expected rows " + t->op + " " + operand + ", got " + std::to_string(count);
}

// Runs the query on a thread of its own and completes with its result on the
// handler's executor (the run's io_context). The io_context counts the query
// as outstanding work until then.
template <class Token>
auto AsyncRunQuery(asio::any_io_executor io, sql::Query query, std::shared_ptr<sql::QueryInterrupt> interrupt,
                   Token&& token) {
  return asio::async_initiate<Token, void(sql::QueryResult)>(
      [io](auto handler, sql::Query q, std::shared_ptr<sql::QueryInterrupt> interrupt) {
        using Handler = decltype(handler);
        auto h = std::make_shared<Handler>(std::move(handler));
        auto complete = [io, h](sql::QueryResult r) {
          auto ex = asio::get_associated_executor(*h, io);
          asio::post(ex, [h, r = std::move(r)]() mutable { std::move(*h)(std::move(r)); });
        };
        auto work = asio::make_work_guard(io);
        try {
          std::thread([q = std::move(q), interrupt, complete, work = std::move(work)]() mutable {
            sql::QueryResult r = sql::RunQuery(q, *interrupt);
            complete(std::move(r));
            work.reset();
          }).detach();
        } catch (const std::exception& e) {  // std::system_error: no thread for us
          sql::QueryResult r;
          r.status = Status::Internal(std::string("cannot start the query thread: ") + e.what());
          complete(std::move(r));
        }
      },
      token, std::move(query), std::move(interrupt));
}

class SqlExecutor : public StepExecutor {
 public:
  asio::awaitable<StepOutcome> Execute(StepContext& ctx) override {
    auto query = BuildQuery(ctx);
    if (!query.ok()) co_return CouldNotStart(query.status().message());
    // The cancel signal may outlive this attempt: it shares the interrupt.
    auto interrupt = std::make_shared<sql::QueryInterrupt>();
    if (ctx.cancel) ctx.cancel->Connect([interrupt] { interrupt->Cancel(); });
    sql::QueryResult r = co_await AsyncRunQuery(ctx.io, std::move(*query), interrupt, asio::use_awaitable);
    if (r.status.code() == Status::Code::kCancelled)
      co_return StepOutcome{StepStatus::kCancelled, std::nullopt, {}, "cancelled"};
    if (!r.status.ok()) co_return Failed(r.status.message());
    co_await ctx.output->Write(OutputStream::kStdout, sql::FormatTable(r, kRowsShown));
    StepOutcome outcome;
    const size_t count = r.rows.size();
    outcome.outputs["rows"] = std::move(r.rows);
    outcome.outputs["row_count"] = static_cast<int64_t>(count);
    if (std::string unmet = CheckExpectedRows(ctx.fields(), count); !unmet.empty()) {
      outcome.status = StepStatus::kFailed;
      outcome.error = std::move(unmet);
    }
    co_return outcome;
  }
};

}  // namespace

std::unique_ptr<StepType> MakeSqlType() { return std::make_unique<SqlType>(); }
std::unique_ptr<StepExecutor> MakeSqlExecutor() { return std::make_unique<SqlExecutor>(); }

}  // namespace runbook::steps

#include "engine/expr/expr.h"

namespace runbook::expr {

Result<Expression> ParseCondition(std::string_view text) {
  std::string body(text);
  if (HasExpression(text)) {
    auto t = Template::Parse(text);
    if (!t.ok()) return t.status();
    if (!t->IsSingleExpression())
      return Status::InvalidArgument("must be a single expression, e.g. ${{ steps.x.status == 'failed' }}");
    body = t->parts()[0].expr->text();
  }
  size_t b = body.find_first_not_of(" \t\r\n"), e = body.find_last_not_of(" \t\r\n");
  return Expression::Parse(b == std::string::npos ? body : body.substr(b, e - b + 1));
}

}  // namespace runbook::expr

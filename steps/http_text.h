// What the `http` step and the `notify` webhook share about HTTP beyond the
// exchange itself (http_client.h): rendering a URL template, the header
// names and values a request may carry, credentials redacted from what is
// journaled or previewed, and the text that journals one exchange.
// Stateless functions; Asio-free.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/expr/expr.h"
#include "engine/status.h"
#include "engine/step_type.h"
#include "steps/http_client.h"

namespace runbook::steps {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// ASCII case-insensitive equality (header names).
bool HeaderNameEquals(std::string_view a, std::string_view b);
bool HasHeader(const HttpHeaders& headers, std::string_view name);
// An RFC 9110 token: letters, digits and !#$%&'*+-.^_`|~.
bool ValidHeaderName(std::string_view name);
// Refuses what would end the header line or confuse a server:
// "header 'X' contains a line break", "header 'X' contains a control character".
Status CheckHeaderValue(const std::string& name, const std::string& value);

// A header value as journaled and previewed: credentials never shown,
// declared secrets or not. Authorization and Proxy-Authorization keep their
// scheme ("Bearer ***"), Cookie and Set-Cookie read "***"; others as given.
std::string RedactedHeaderValue(std::string_view name, const std::string& value);

// Renders a `url:` template so that a value stays a value: an expression in
// the path or the query is percent-encoded for where it lands (http_url.h).
Result<std::string> RenderUrlTemplate(const std::string& text, const expr::Context& values);
// The same for `runbook plan` (PreviewText, step_type.h): known values
// encoded alike, secrets "***", run-time values as written.
PreviewString PreviewUrlTemplate(const std::string& text, const ValueContext& values);

// "> METHOD URL", "> Name: value" per header (redacted), then the first
// 4 KiB of the body (and "[... N more bytes]").
std::string DescribeRequest(const HttpRequest& req);
// "< STATUS REASON", "< Name: value" per header (redacted), the first 4 KiB
// of the body.
std::string DescribeResponse(const HttpResponse& res);

}  // namespace runbook::steps

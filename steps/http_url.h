// URLs for the `http` step: a small parser for absolute http(s) URLs, the
// resolution of a redirect's Location against the URL it came from, and
// percent-encoding so that a value put into a URL stays one value
// (SPEC.md §4, "values never become syntax"). Asio-free, stateless; used by
// steps/http.cc and steps/http_client.cc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/status.h"

namespace runbook::steps {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // as written, lower-cased; an IPv6 literal without brackets
  bool ipv6 = false;   // host is an IPv6 literal
  uint16_t port = 0;   // explicit or the scheme's default
  std::string target;  // path (at least "/") and "?query" if any; no fragment

  bool https() const { return scheme == "https"; }
  bool DefaultPort() const { return port == (https() ? 443 : 80); }
  // "host", "host:8080", "[::1]:8080": the Host header.
  std::string Authority() const;
  // "scheme://authority" + target.
  std::string ToString() const;
  // Same scheme, host and port.
  bool SameOrigin(const Url& other) const;
};

// Parses an absolute http:// or https:// URL. Refuses user:password@ (say
// it in a header instead), control characters and blanks anywhere (they
// would end the request line), and a bad port. The fragment is dropped.
// Bytes a server would not accept in a target ('"', '<', '>', '\\', '^',
// '`', '{', '|', '}' and non-ASCII) are percent-encoded.
// Errors: "invalid URL 'x': <why>".
Result<Url> ParseUrl(std::string_view text);

// A redirect target: absolute ("https://h/x"), scheme-relative ("//h/x"),
// absolute-path ("/x") or relative ("x", resolved against the directory of
// base's path).
Result<Url> ResolveLocation(const Url& base, std::string_view location);

// Percent-encodes every byte except the unreserved ones (A-Z a-z 0-9 - . _ ~):
// for query keys and values.
std::string PercentEncode(std::string_view s);

// How an expression's value is encoded where it lands in a `url:` template.
enum class UrlPart { kAuthority, kPath, kQuery };
// Percent-encodes the bytes that would change the URL's structure at `part`:
// in the path '?', '#', '%' and anything not printable ASCII ('/' stays, so
// a value may hold a sub-path); in the query also '&', '=', '+' and ';'.
// In the authority (scheme, host, port; typically a base URL from env) the
// value is used as written.
std::string EncodeUrlValue(std::string_view value, UrlPart part);
// Where a value appended to `so_far` (the URL text rendered up to there)
// would land.
UrlPart UrlPartAt(std::string_view so_far);

// Appends "k=v" pairs (both percent-encoded) to `target` with '?' or '&'.
std::string AppendQuery(std::string target, const std::vector<std::pair<std::string, std::string>>& query);

}  // namespace runbook::steps

#include "steps/http_url.h"

#include <cctype>

namespace runbook::steps {
namespace {

const char kHex[] = "0123456789ABCDEF";

void AppendEncoded(std::string& out, unsigned char c) {
  out += '%';
  out += kHex[c >> 4];
  out += kHex[c & 15];
}

bool Unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

// Bytes that may not appear in a request target as they are.
bool NeedsEncodingInTarget(unsigned char c) {
  return c <= 0x20 || c >= 0x7f || std::string_view("\"<>\\^`{|}").find(static_cast<char>(c)) != std::string_view::npos;
}

Status Invalid(std::string_view text, const std::string& why) {
  return Status::InvalidArgument("invalid URL '" + std::string(text) + "': " + why);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string Url::Authority() const {
  std::string h = ipv6 ? "[" + host + "]" : host;
  if (!DefaultPort()) h += ":" + std::to_string(port);
  return h;
}

std::string Url::ToString() const { return scheme + "://" + Authority() + target; }

bool Url::SameOrigin(const Url& other) const {
  return scheme == other.scheme && host == other.host && port == other.port;
}

Result<Url> ParseUrl(std::string_view text) {
  for (unsigned char c : text)
    if (c <= 0x20 || c == 0x7f) return Invalid(text, "it contains a blank or a control character");
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) return Invalid(text, "it must start with http:// or https://");
  Url url;
  url.scheme = Lower(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https")
    return Invalid(text, "scheme '" + url.scheme + "' is not supported (http or https)");
  std::string_view rest = text.substr(sep + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (authority.find('@') != std::string_view::npos)
    return Invalid(text, "credentials in the URL are not supported; send them in a header");
  std::string_view port_text;
  if (authority.starts_with('[')) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Invalid(text, "unterminated '[' in the host");
    std::string_view h = authority.substr(1, close - 1);
    if (h.empty()) return Invalid(text, "empty IPv6 address");
    for (unsigned char c : h)
      if (!std::isxdigit(c) && c != ':' && c != '.') return Invalid(text, "bad IPv6 address '" + std::string(h) + "'");
    url.host = Lower(h);
    url.ipv6 = true;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Invalid(text, "unexpected text after ']'");
      port_text = after.substr(1);
      if (port_text.empty()) return Invalid(text, "empty port");
    }
  } else {
    size_t colon = authority.rfind(':');
    std::string_view h = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return Invalid(text, "empty port");
    }
    if (h.empty()) return Invalid(text, "no host");
    for (unsigned char c : h)
      if (!std::isalnum(c) && c != '-' && c != '.' && c != '_')
        return Invalid(text, "bad character '" + std::string(1, static_cast<char>(c)) + "' in the host");
    url.host = Lower(h);
  }
  if (port_text.empty()) {
    url.port = url.https() ? 443 : 80;
  } else {
    long port = 0;
    for (unsigned char c : port_text) {
      if (!std::isdigit(c) || port > 65535) return Invalid(text, "bad port '" + std::string(port_text) + "'");
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) return Invalid(text, "bad port '" + std::string(port_text) + "'");
    url.port = static_cast<uint16_t>(port);
  }
  rest = rest.substr(0, rest.find('#'));
  if (rest.empty() || rest[0] == '?') url.target = "/";
  for (unsigned char c : rest) {
    if (NeedsEncodingInTarget(c)) {
      AppendEncoded(url.target, c);
    } else {
      url.target += static_cast<char>(c);
    }
  }
  return url;
}

Result<Url> ResolveLocation(const Url& base, std::string_view location) {
  if (location.find("://") != std::string_view::npos) {
    size_t first_special = location.find_first_of("/?#");
    if (first_special != std::string_view::npos && first_special > location.find("://")) return ParseUrl(location);
  }
  if (location.starts_with("//")) return ParseUrl(base.scheme + ":" + std::string(location));
  std::string prefix = base.scheme + "://" + base.Authority();
  if (location.starts_with('/')) return ParseUrl(prefix + std::string(location));
  std::string path = base.target.substr(0, base.target.find('?'));
  std::string dir = path.substr(0, path.rfind('/') + 1);
  if (location.starts_with('?')) return ParseUrl(prefix + path + std::string(location));
  return ParseUrl(prefix + dir + std::string(location));
}

std::string PercentEncode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (Unreserved(c)) {
      out += static_cast<char>(c);
    } else {
      AppendEncoded(out, c);
    }
  }
  return out;
}

std::string EncodeUrlValue(std::string_view value, UrlPart part) {
  if (part == UrlPart::kAuthority) return std::string(value);
  std::string_view structural = part == UrlPart::kPath ? "?#%" : "?#%&=+;";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    if (NeedsEncodingInTarget(c) || structural.find(static_cast<char>(c)) != std::string_view::npos) {
      AppendEncoded(out, c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

UrlPart UrlPartAt(std::string_view so_far) {
  size_t sep = so_far.find("://");
  if (sep == std::string_view::npos) return UrlPart::kAuthority;
  std::string_view rest = so_far.substr(sep + 3);
  size_t start = rest.find_first_of("/?#");
  if (start == std::string_view::npos) return UrlPart::kAuthority;
  return rest.find_first_of("?#", start) == std::string_view::npos ? UrlPart::kPath : UrlPart::kQuery;
}

std::string AppendQuery(std::string target, const std::vector<std::pair<std::string, std::string>>& query) {
  for (const auto& [k, v] : query) {
    target += target.find('?') == std::string::npos ? '?' : '&';
    target += PercentEncode(k);
    target += '=';
    target += PercentEncode(v);
  }
  return target;
}

}  // namespace runbook::steps

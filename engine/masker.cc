#include "engine/masker.h"

#include <algorithm>

namespace runbook {

std::string Base64(std::string_view data) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(data[i]) << 16) | (static_cast<unsigned char>(data[i + 1]) << 8) |
                 static_cast<unsigned char>(data[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == data.size()) {
    unsigned v = static_cast<unsigned char>(data[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    unsigned v = (static_cast<unsigned char>(data[i]) << 16) | (static_cast<unsigned char>(data[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string UrlEncode(std::string_view data) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : data) {
    unsigned char u = static_cast<unsigned char>(c);
    if (isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

Masker::Masker(const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    if (s.size() < kMinLength) continue;
    patterns_.push_back(s);
    // base64 of the secret itself, and without padding (as embedded in a
    // longer base64 text such as "user:secret" it differs, but the common
    // case is the secret encoded alone).
    std::string b64 = Base64(s);
    patterns_.push_back(b64);
    while (!b64.empty() && b64.back() == '=') b64.pop_back();
    patterns_.push_back(b64);
    patterns_.push_back(UrlEncode(s));
  }
  std::sort(patterns_.begin(), patterns_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  patterns_.erase(std::unique(patterns_.begin(), patterns_.end()), patterns_.end());
  for (const auto& p : patterns_) max_length_ = std::max(max_length_, p.size());
}

std::string Masker::Mask(std::string_view text) const {
  std::string out(text);
  for (const auto& p : patterns_) {
    size_t pos = 0;
    while ((pos = out.find(p, pos)) != std::string::npos) {
      out.replace(pos, p.size(), "***");
      pos += 3;
    }
  }
  return out;
}

std::string StreamMasker::Push(std::string_view data) {
  if (masker_.empty()) return std::string(data);
  pending_.append(data);
  std::string masked = masker_.Mask(pending_);
  size_t keep = std::min(masked.size(), masker_.max_length() - 1);
  pending_ = masked.substr(masked.size() - keep);
  masked.resize(masked.size() - keep);
  return masked;
}

std::string StreamMasker::Finish() {
  std::string out = masker_.Mask(pending_);
  pending_.clear();
  return out;
}

}  // namespace runbook

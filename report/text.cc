#include "report/text.h"

namespace runbook::report {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the UTF-8 sequence `lead` starts, 0 if it cannot start one.
int SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

// Whether `c` may follow `lead` as the second byte (rules out overlong forms,
// surrogates and code points above U+10FFFF; later bytes are 80..BF).
bool ValidSecond(unsigned char lead, unsigned char c) {
  if (lead == 0xE0) return c >= 0xA0 && c <= 0xBF;
  if (lead == 0xED) return c >= 0x80 && c <= 0x9F;
  if (lead == 0xF0) return c >= 0x90 && c <= 0xBF;
  if (lead == 0xF4) return c >= 0x80 && c <= 0x8F;
  return c >= 0x80 && c <= 0xBF;
}

void AppendCodePoint(unsigned cp, std::string& out) {
  // Only used for U+2400..U+2421 (three bytes).
  out += static_cast<char>(0xE0 | (cp >> 12));
  out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out += static_cast<char>(0x80 | (cp & 0x3F));
}

}  // namespace

void Utf8Sanitizer::Emit(std::string_view ch, std::string& out) {
  if (controls_ == ControlChars::kPicture) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (ch != "\n") AppendCodePoint(0x240D, out);  // a lone CR stays visible
    }
    if (ch.size() == 1) {
      unsigned char c = static_cast<unsigned char>(ch[0]);
      if (c == '\r') {
        pending_cr_ = true;
        return;
      }
      if (c < 0x20 && c != '\t' && c != '\n') {
        AppendCodePoint(0x2400 + c, out);
        return;
      }
      if (c == 0x7F) {
        AppendCodePoint(0x2421, out);
        return;
      }
    }
  }
  out.append(ch);
}

void Utf8Sanitizer::Feed(std::string_view bytes, std::string& out) {
  size_t i = 0;
  // Complete a character held back from the previous chunk.
  while (!pending_.empty() && i < bytes.size()) {
    unsigned char lead = static_cast<unsigned char>(pending_[0]);
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    bool ok = pending_.size() == 1 ? ValidSecond(lead, c) : (c >= 0x80 && c <= 0xBF);
    if (!ok) {
      valid_ = false;
      pending_.clear();
      Emit(kReplacement, out);
      break;  // re-read bytes[i] as a fresh start
    }
    pending_ += static_cast<char>(c);
    ++i;
    if (static_cast<int>(pending_.size()) == SequenceLength(lead)) {
      Emit(pending_, out);
      pending_.clear();
    }
  }
  while (i < bytes.size()) {
    unsigned char lead = static_cast<unsigned char>(bytes[i]);
    int len = SequenceLength(lead);
    if (len == 1) {
      Emit(bytes.substr(i, 1), out);
      ++i;
      continue;
    }
    if (len == 0) {
      valid_ = false;
      Emit(kReplacement, out);
      ++i;
      continue;
    }
    size_t have = 1;
    bool ok = true;
    while (static_cast<int>(have) < len && i + have < bytes.size()) {
      unsigned char c = static_cast<unsigned char>(bytes[i + have]);
      if (have == 1 ? !ValidSecond(lead, c) : !(c >= 0x80 && c <= 0xBF)) {
        ok = false;
        break;
      }
      ++have;
    }
    if (!ok) {
      valid_ = false;
      Emit(kReplacement, out);
      i += have;  // the bad byte itself starts over
      continue;
    }
    if (static_cast<int>(have) < len) {  // runs past the end of this chunk
      pending_.assign(bytes.substr(i, have));
      return;
    }
    Emit(bytes.substr(i, have), out);
    i += have;
  }
}

void Utf8Sanitizer::Finish(std::string& out) {
  if (!pending_.empty()) {
    valid_ = false;
    pending_.clear();
    Emit(kReplacement, out);
  }
  if (pending_cr_) {
    pending_cr_ = false;
    AppendCodePoint(0x240D, out);
  }
}

std::string Sanitize(std::string_view bytes, ControlChars controls) {
  Utf8Sanitizer s(controls);
  std::string out;
  out.reserve(bytes.size());
  s.Feed(bytes, out);
  s.Finish(out);
  return out;
}

bool IsValidUtf8(std::string_view bytes) {
  Utf8Sanitizer s(ControlChars::kKeep);
  std::string sink;
  s.Feed(bytes, sink);
  s.Finish(sink);
  return s.valid();
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string CsvField(std::string_view text) {
  bool quote = !text.empty() && (text.front() == ' ' || text.back() == ' ');
  for (char c : text) quote |= (c == ',' || c == '"' || c == '\r' || c == '\n');
  if (!quote) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

void Base64Encoder::Feed(std::string_view bytes, std::string& out) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (char ch : bytes) {
    held_[held_count_++] = static_cast<unsigned char>(ch);
    if (held_count_ < 3) continue;
    unsigned v = (held_[0] << 16) | (held_[1] << 8) | held_[2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
    held_count_ = 0;
  }
}

void Base64Encoder::Finish(std::string& out) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (held_count_ == 0) return;
  unsigned v = (held_[0] << 16) | (held_count_ > 1 ? held_[1] << 8 : 0);
  out += kAlphabet[(v >> 18) & 63];
  out += kAlphabet[(v >> 12) & 63];
  out += held_count_ > 1 ? kAlphabet[(v >> 6) & 63] : '=';
  out += '=';
  held_count_ = 0;
}

std::string Truncate(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "\xE2\x80\xA6";
}

}  // namespace runbook::report

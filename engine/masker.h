// Masker: replaces secret values — and their base64 and URL-encoded forms —
// by "***" in any text about to be journaled, logged or printed. Streams keep
// a short tail back between chunks (StreamMasker) so that a secret split
// across two chunks is still caught. Immutable after construction (Masker);
// StreamMasker is single-threaded, one per output stream.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace runbook {

class Masker {
 public:
  Masker() = default;
  // Secrets shorter than kMinLength are not masked (they would mask ordinary
  // text everywhere); the runner warns about them.
  static constexpr size_t kMinLength = 3;
  explicit Masker(const std::vector<std::string>& secrets);

  std::string Mask(std::string_view text) const;
  bool empty() const { return patterns_.empty(); }
  // Longest pattern, in bytes (the tail a stream must keep back).
  size_t max_length() const { return max_length_; }

 private:
  std::vector<std::string> patterns_;  // longest first
  size_t max_length_ = 0;
};

class StreamMasker {
 public:
  explicit StreamMasker(const Masker& masker) : masker_(masker) {}
  // Masked text that is safe to emit now; keeps a tail that might be the
  // start of a secret.
  std::string Push(std::string_view data);
  // The rest, at the end of the stream.
  std::string Finish();

 private:
  const Masker& masker_;
  std::string pending_;
};

std::string Base64(std::string_view data);
std::string UrlEncode(std::string_view data);

}  // namespace runbook

// SHA-256 through OpenSSL's low-level SHA256_* functions: Sha256Hex for a whole string (the
// runbook source's content hash) and Sha256 for incremental use (the engine
// hashes each captured stream as its chunks go by). Thread-compatible: one
// Sha256 object per stream.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace runbook::journal {

// Lowercase hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void Update(std::string_view bytes);
  // Lowercase hex digest of everything given so far. Does not disturb the
  // running state: more Update() calls may follow.
  std::string HexDigest() const;

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace runbook::journal

#include "journal/sha256.h"

// OpenSSL's low-level SHA-256 (deprecated in 3.0, still shipped): the EVP
// interface fetches the implementation through the provider machinery, and
// the first fetch initialises all of libcrypto (reads openssl.cnf, registers
// every algorithm's names) — 6 M instructions, a quarter of a one-step run.
// The low-level functions use the same assembly without any of that.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

namespace runbook::journal {

namespace {

std::string Hex(const unsigned char* p, unsigned n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned i = 0; i < n; ++i) {
    out += kHex[p[i] >> 4];
    out += kHex[p[i] & 0xf];
  }
  return out;
}

}  // namespace

struct Sha256::Ctx {
  SHA256_CTX c;
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) { SHA256_Init(&ctx_->c); }
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Update(std::string_view bytes) { SHA256_Update(&ctx_->c, bytes.data(), bytes.size()); }

std::string Sha256::HexDigest() const {
  SHA256_CTX copy = ctx_->c;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_Final(digest, &copy);
  return Hex(digest, SHA256_DIGEST_LENGTH);
}

std::string Sha256Hex(std::string_view bytes) {
  // Not SHA256(): in OpenSSL 3 the one-shot function goes through EVP.
  SHA256_CTX c;
  SHA256_Init(&c);
  SHA256_Update(&c, bytes.data(), bytes.size());
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_Final(digest, &c);
  return Hex(digest, SHA256_DIGEST_LENGTH);
}

}  // namespace runbook::journal

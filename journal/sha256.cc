#include "journal/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

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

// EVP failures only happen on allocation failure or a broken OpenSSL build.
void Check(int ok) {
  if (ok != 1) std::abort();
}

}  // namespace

struct Sha256::Ctx {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  if (!ctx_->md) std::abort();
  Check(EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr));
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Update(std::string_view bytes) {
  Check(EVP_DigestUpdate(ctx_->md, bytes.data(), bytes.size()));
}

std::string Sha256::HexDigest() const {
  EVP_MD_CTX* copy = EVP_MD_CTX_new();
  if (!copy) std::abort();
  Check(EVP_MD_CTX_copy_ex(copy, ctx_->md));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  Check(EVP_DigestFinal_ex(copy, digest, &n));
  EVP_MD_CTX_free(copy);
  return Hex(digest, n);
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  Check(EVP_Digest(bytes.data(), bytes.size(), digest, &n, EVP_sha256(), nullptr));
  return Hex(digest, n);
}

}  // namespace runbook::journal

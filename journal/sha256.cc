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

// Fetched once: EVP_sha256() makes OpenSSL 3 look the implementation up on
// every use, which costs more than hashing a journal event. EVP_MD objects
// may be shared between threads.
const EVP_MD* Md() {
  static const EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched ? static_cast<const EVP_MD*>(fetched) : EVP_sha256();
  }();
  return md;
}

}  // namespace

struct Sha256::Ctx {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  if (!ctx_->md) std::abort();
  Check(EVP_DigestInit_ex(ctx_->md, Md(), nullptr));
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
  // One context per thread, reused: the journal's writer hashes every event.
  struct Reused {
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    ~Reused() { EVP_MD_CTX_free(md); }
  };
  thread_local Reused ctx;
  if (!ctx.md) std::abort();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  Check(EVP_DigestInit_ex(ctx.md, Md(), nullptr));
  Check(EVP_DigestUpdate(ctx.md, bytes.data(), bytes.size()));
  Check(EVP_DigestFinal_ex(ctx.md, digest, &n));
  return Hex(digest, n);
}

}  // namespace runbook::journal

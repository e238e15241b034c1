#include "train/checkpoint/sha256.h"

#include <openssl/evp.h>

#include <memory>

#include "core/file_io.h"

namespace mone::train {
namespace {

// An EVP digest context; OpenSSL failures here mean a broken library, i.e. a mone bug to CHECK.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    MONE_CHECK(ctx_ != nullptr && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1)
        << "OpenSSL could not start a SHA-256 digest";
  }
  void update(const void* data, size_t nbytes) {
    MONE_CHECK(EVP_DigestUpdate(ctx_.get(), data, nbytes) == 1) << "EVP_DigestUpdate failed";
  }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    MONE_CHECK(EVP_DigestFinal_ex(ctx_.get(), digest, &len) == 1) << "EVP_DigestFinal_ex failed";
    static const char kHex[] = "0123456789abcdef";
    std::string out(2 * len, '0');
    for (unsigned int i = 0; i < len; ++i) {
      out[2 * i] = kHex[digest[i] >> 4];
      out[2 * i + 1] = kHex[digest[i] & 15];
    }
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  Sha256 sha;
  sha.update(bytes.data(), bytes.size());
  return sha.hex();
}

StatusOr<std::string> sha256_hex_file(const std::string& path) {
  Sha256 sha;
  MONE_RETURN_IF_ERROR(read_file_chunks(
      path, [&](std::string_view chunk) { sha.update(chunk.data(), chunk.size()); }));
  return sha.hex();
}

}  // namespace mone::train

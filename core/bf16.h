// The bf16 element type, in its own header because CUDA code includes it too: plain C++17, no
// other mone header (core/dtype.h names it as DType::kBF16).
// Shape letters: none.
#pragma once

#include <cstdint>
#include <cstring>

namespace mone {

// bfloat16: the top 16 bits of an IEEE float32. Conversion rounds to nearest even.
struct bf16 {
  uint16_t bits = 0;
  bf16() = default;
  explicit bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) {  // NaN stays a quiet NaN
      bits = static_cast<uint16_t>((u >> 16) | 0x40);
    } else {
      u += 0x7fffu + ((u >> 16) & 1u);
      bits = static_cast<uint16_t>(u >> 16);
    }
  }
  explicit operator float() const {
    uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};

}  // namespace mone

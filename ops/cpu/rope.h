// CPU kernels for ops/rope.h (rotary position embedding, rotate-half form).
//
// Shape letters: B batch, T sequence, H heads, hd head dim (even), P = T positions in the table.
// Contiguous inputs.
#pragma once

#include <cstdint>
#include <vector>

namespace mone::ops::cpu {

// The rotation table, in double: cos[t·hd/2 + i] = cos((offset + t) · theta^(-2i/hd)), sin alike.
struct RopeTable {
  std::vector<double> cos, sin;
};
RopeTable rope_table(int64_t t, int64_t hd, int64_t position_offset, double theta);

// y [B, T, H, hd] = x rotated pairwise: for each pair (i, i + hd/2) at position t and angle θ,
//   y_i = x_i cos θ - x_{i+hd/2} sin θ,   y_{i+hd/2} = x_{i+hd/2} cos θ + x_i sin θ.
// inverse = true rotates by -θ (the backward, since a rotation's transpose is its inverse).
// y may alias x.
template <typename T>
void rope_rotate(T* y, const T* x, const RopeTable& table, int64_t b, int64_t t, int64_t h, int64_t hd, bool inverse);

}  // namespace mone::ops::cpu

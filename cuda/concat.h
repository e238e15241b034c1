// CUDA launcher for ops/concat.h: each part is copied into its column block of the output as one
// strided 2-D copy (cudaMemcpy2DAsync: no kernel of ours). Any dtype: sizes are in bytes.
// Shape letters: outer = the product of the dims before the concat dim; a part's row is its
// size(dim) · inner elements, the output's row the sum over parts.
#pragma once

#include <cstdint>

#include "cuda/launch.h"

namespace mone::cuda {

// dst[o · dst_row_bytes + b] = src[o · src_row_bytes + b] for o < outer, b < src_row_bytes:
// one part into the output, dst pointing at the part's first column.
cudaError_t concat_part(void* dst, int64_t dst_row_bytes, const void* src, int64_t src_row_bytes, int64_t outer,
                        cudaStream_t stream);

}  // namespace mone::cuda

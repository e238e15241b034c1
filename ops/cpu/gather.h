// CPU kernels for ops/gather.h. Shape letters: r the shared rank, `dim` the indexed dim.
// Contiguous tensors; `data` is x for gather and out for scatter_add; index (i64, validated)
// and out/src share index_shape.
#pragma once

#include <cstdint>
#include <vector>

namespace mone::ops::cpu {

// out[p] = x[the position of p with its dim coordinate replaced by index[p]].
template <typename T>
void gather_forward(const T* x, const std::vector<int64_t>& x_shape, int64_t dim, const int64_t* index,
                    const std::vector<int64_t>& index_shape, T* out);

// out = 0, then out[the position of p with its dim coordinate replaced by index[p]] += src[p].
template <typename T>
void scatter_add_forward(const T* src, const int64_t* index, const std::vector<int64_t>& index_shape, int64_t dim,
                         const std::vector<int64_t>& out_shape, T* out);

}  // namespace mone::ops::cpu

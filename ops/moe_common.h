// Argument checks shared by the MoE and MoNE op families (router, moe_dispatch, grouped_matmul,
// mone_ffn, moe_losses), on top of ops/common.h.
//
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept.
#pragma once

#include "core/tensor.h"
#include "ops/common.h"

namespace mone::ops {

// A float tensor with exactly `dims` dimensions.
Status check_float_dims(const char* op, const Tensor& t, int64_t dims, const char* name);

// A defined tensor with `shape` and the dtype and device of `like`.
Status check_like(const char* op, const Tensor& t, const Shape& shape, const Tensor& like, const char* name);

// An optional gradient (undefined means "no gradient from this path"); when defined it must have
// `shape` and the dtype and device of `like`.
Status check_optional(const char* op, const Tensor& t, const Shape& shape, const Tensor& like, const char* name);

// Every element of an i32 or i64 index tensor lies in [0, limit); the error names the first
// offending element (its flat position and value).
Status check_ids_in_range(const char* op, const Tensor& ids, int64_t limit, const char* name);

// Segment offsets [E + 1] i64 with 0 = offsets[0] <= ... <= offsets[E] = rows.
Status check_offsets(const char* op, const Tensor& offsets, int64_t e, int64_t rows);

// A contiguous copy of an optional tensor (undefined stays undefined).
inline Tensor contiguous_or_undefined(const Tensor& t) { return t.defined() ? t.contiguous() : Tensor(); }

// data<T>() of a contiguous optional tensor, or nullptr when undefined.
template <typename T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace mone::ops

#include "ops/concat.h"

#include <cstring>

#include "cuda/concat.h"
#include "cuda/runtime.h"
#include "cuda/status.h"
#include "ops/common.h"

namespace mone::ops {

StatusOr<Tensor> concat(const std::vector<Tensor>& parts_in, int64_t dim) {
  std::vector<Tensor> parts;
  for (const auto& p : parts_in) {
    if (p.defined()) parts.push_back(p.contiguous());
  }
  if (parts.empty()) return absl::InvalidArgumentError("concat: no defined inputs");
  const Tensor& first = parts[0];
  if (dim < 0) dim += first.dim();
  if (dim < 0 || dim >= first.dim()) {
    return absl::InvalidArgumentError(absl::StrCat("concat: dim out of range for ", first.describe()));
  }
  Shape out_shape = first.shape();
  out_shape[dim] = 0;
  for (const auto& p : parts) {
    Shape a = p.shape(), b = first.shape();
    if (p.dim() != first.dim() || p.dtype() != first.dtype() || p.device() != first.device()) {
      return absl::InvalidArgumentError(absl::StrCat("concat: ", p.describe(), " does not match ", first.describe()));
    }
    a[dim] = b[dim] = 0;
    if (a != b) {
      return absl::InvalidArgumentError(absl::StrCat("concat along dim ", dim, ": ", p.describe(), " does not match ",
                                                     first.describe()));
    }
    out_shape[dim] += p.size(dim);
  }
  MONE_ASSIGN_OR_RETURN(Tensor out, new_tensor(out_shape, first.dtype(), first.device()));
  // View every tensor as [outer, size(dim) * inner] and copy row blocks.
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < dim; ++i) outer *= out_shape[i];
  for (int64_t i = dim + 1; i < first.dim(); ++i) inner *= out_shape[i];
  const size_t es = dtype_size(first.dtype());
  const int64_t out_row = out_shape[dim] * inner;
  int64_t col = 0;
  for (const auto& p : parts) {
    const int64_t row = p.size(dim) * inner;
    char* dst = static_cast<char*>(out.raw_data()) + col * es;
    switch (first.device().type) {
      case DeviceType::kCPU:
        for (int64_t o = 0; o < outer; ++o) {
          std::memcpy(dst + o * out_row * es, static_cast<const char*>(p.raw_data()) + o * row * es, row * es);
        }
        break;
      case DeviceType::kCUDA:
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::concat_part(dst, out_row * es, p.raw_data(), row * es, outer, cuda::current_stream()), "concat"));
        break;
    }
    col += row;
  }
  return out;
}

StatusOr<std::vector<Tensor>> concat_backward(const Tensor& grad_out, int64_t dim, const std::vector<int64_t>& sizes) {
  std::vector<Tensor> grads;
  int64_t start = 0;
  for (int64_t s : sizes) {
    MONE_ASSIGN_OR_RETURN(Tensor g, grad_out.slice(dim, start, start + s));
    grads.push_back(g.contiguous());
    start += s;
  }
  if (dim < 0) dim += grad_out.dim();
  if (start != grad_out.size(dim)) {
    return absl::InvalidArgumentError(absl::StrCat("concat_backward: sizes sum to ", start, ", grad is ",
                                                   grad_out.describe()));
  }
  return grads;
}

}  // namespace mone::ops

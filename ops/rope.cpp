// RoPE forward and backward: checks, then the CPU rotation or cuda/rope.h. Shape letters: B, T,
// H, hd.
#include "ops/rope.h"

#include <cmath>

#include "cuda/rope.h"
#include "cuda/runtime.h"
#include "cuda/status.h"
#include "ops/common.h"
#include "ops/cpu/rope.h"
#include "ops/cuda_dispatch.h"

namespace mone::ops {

namespace {

StatusOr<Tensor> rotate(const char* op, const Tensor& x_in, int64_t position_offset, double theta, bool inverse) {
  MONE_RETURN_IF_ERROR(check_float(op, x_in, "x"));
  MONE_RETURN_IF_ERROR(check_dim(op, x_in, 4, "x [B, T, H, hd]"));
  if (x_in.size(3) % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": head dim must be even to rotate pairs (i, i + hd/2): x [B, T, H, hd] is ", x_in.describe()));
  }
  if (position_offset < 0) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": position_offset must be >= 0, got ", position_offset));
  }
  if (!(theta > 0.0) || !std::isfinite(theta)) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": theta must be positive and finite, got ", theta));
  }
  const Tensor x = x_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor y, new_tensor(x.shape(), x.dtype(), x.device()));
  if (y.numel() == 0) return y;
  const int64_t b = x.size(0), t = x.size(1), h = x.size(2), hd = x.size(3);
  switch (x.device().type) {
    case DeviceType::kCPU: {
      const cpu::RopeTable table = cpu::rope_table(t, hd, position_offset, theta);
      MONE_DISPATCH_FLOAT(x.dtype(), op, {
        cpu::rope_rotate<scalar_t>(y.data<scalar_t>(), x.data<scalar_t>(), table, b, t, h, hd, inverse);
      });
      return y;
    }
    case DeviceType::kCUDA: {
      MONE_ASSIGN_OR_RETURN(Tensor table, new_tensor({2, t, hd / 2}, DType::kF32, x.device()));
      MONE_DISPATCH_CUDA_FLOAT(x.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            cuda::rope_rotate<scalar_t>(y.data<scalar_t>(), x.data<scalar_t>(), b, t, h, hd, position_offset, theta,
                                        inverse, table.data<float>(), cuda::current_stream()),
            op));
      });
      return y;
    }
  }
  return y;
}

}  // namespace

StatusOr<Tensor> rope(const Tensor& x, int64_t position_offset, double theta) {
  return rotate("rope", x, position_offset, theta, /*inverse=*/false);
}

StatusOr<Tensor> rope_backward(const Tensor& grad_y, int64_t position_offset, double theta) {
  return rotate("rope_backward", grad_y, position_offset, theta, /*inverse=*/true);
}

}  // namespace mone::ops

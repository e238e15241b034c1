// Definitions and contracts: ops/cuda_dispatch.h.
#include "ops/cuda_dispatch.h"

#include "ops/common.h"

namespace mone::ops {

StatusOr<Tensor> cuda_workspace(size_t bytes, Device device) {
  return new_tensor({static_cast<int64_t>((bytes + 7) / 8)}, DType::kI64, device);
}

}  // namespace mone::ops

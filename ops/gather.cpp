#include "ops/gather.h"

#include "cuda/gather.h"
#include "cuda/runtime.h"
#include "cuda/status.h"
#include "ops/common.h"
#include "ops/common.h"
#include "ops/cpu/gather.h"
#include "ops/cuda_dispatch.h"

namespace mone::ops {

namespace {

// index: i32/i64 on `device`, of data_shape's rank (>= 1), no larger than data_shape except along
// dim, with values in [0, data_shape[dim]). Returns dim in [0, rank).
StatusOr<int64_t> check_index(const char* op, const Shape& data_shape, const char* data_name, int64_t dim,
                              const Tensor& index, Device device) {
  MONE_RETURN_IF_ERROR(check_index_dtype(op, index, "index"));
  const int64_t rank = static_cast<int64_t>(data_shape.size());
  const std::string shapes =
      absl::StrCat(data_name, " is ", shape_string(data_shape), ", index is ", index.describe());
  if (index.device() != device) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": index must be on ", device.to_string(), "; ", shapes));
  }
  if (rank < 1 || index.dim() != rank) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": index and ", data_name, " need one rank >= 1; ", shapes));
  }
  MONE_ASSIGN_OR_RETURN(dim, normalize_dim(op, dim, rank));
  for (int64_t d = 0; d < rank; ++d) {
    if (d != dim && index.size(d) > data_shape[d]) {
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": index is larger than ", data_name, " in dim ", d, " (dim is ", dim, "); ", shapes));
    }
  }
  MONE_RETURN_IF_ERROR(check_indices(op, index, "index",
                                     {data_shape[dim], nullptr, {}, "", absl::StrCat("along dim ", dim, "; ", shapes)}));
  return dim;
}

// What the CUDA kernels take: rank <= kGatherMaxRank and fewer than 2^31 index elements.
Status check_cuda_index(const char* op, const Tensor& index) {
  if (index.dim() > cuda::kGatherMaxRank || index.numel() > INT32_MAX) {
    return absl::UnimplementedError(absl::StrCat(op, ": index ", index.describe(), " has rank above ",
                                                 cuda::kGatherMaxRank, " or 2^31 elements or more, above what the ",
                                                 "CUDA kernels take"));
  }
  return absl::OkStatus();
}

StatusOr<Tensor> gather_impl(const char* op, const Tensor& x_in, int64_t dim, const Tensor& index) {
  MONE_RETURN_IF_ERROR(check_float(op, x_in, "x"));
  MONE_ASSIGN_OR_RETURN(dim, check_index(op, x_in.shape(), "x", dim, index, x_in.device()));
  const Tensor x = x_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor out, new_tensor(index.shape(), x.dtype(), x.device()));
  if (out.numel() == 0) return out;
  switch (x.device().type) {
    case DeviceType::kCPU: {
      const Tensor idx = index_as_i64(index);
      MONE_DISPATCH_FLOAT(x.dtype(), op, {
        cpu::gather_forward<scalar_t>(x.data<scalar_t>(), x.shape(), dim, idx.data<int64_t>(), idx.shape(),
                                      out.data<scalar_t>());
      });
      return out;
    }
    case DeviceType::kCUDA: {
      MONE_RETURN_IF_ERROR(check_cuda_index(op, index));
      const Tensor idx = index.contiguous();
      const cuda::GatherGeometry geometry = cuda::gather_geometry(idx.shape(), x.shape(), dim);
      MONE_DISPATCH_CUDA_FLOAT(x.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(with_index_data(idx,
                                                             [&](auto* ids) {
                                                               return cuda::gather_forward(
                                                                   out.data<scalar_t>(), x.data<scalar_t>(), ids,
                                                                   idx.numel(), geometry, cuda::current_stream());
                                                             }),
                                             op));
      });
      return out;
    }
  }
  return out;
}

StatusOr<Tensor> scatter_add_impl(const char* op, const Shape& base_shape, int64_t dim, const Tensor& index,
                                  const Tensor& src_in, const char* src_name) {
  MONE_RETURN_IF_ERROR(check_float(op, src_in, src_name));
  MONE_ASSIGN_OR_RETURN(dim, check_index(op, base_shape, "base", dim, index, src_in.device()));
  if (index.shape() != src_in.shape()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ", src_name, " must have index's shape; ",
                                                   describe_args({{src_name, &src_in}, {"index", &index}})));
  }
  const Tensor src = src_in.contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor out, new_tensor(base_shape, src.dtype(), src.device()));
  if (out.numel() == 0) return out;
  switch (src.device().type) {
    case DeviceType::kCPU: {
      const Tensor idx = index_as_i64(index);
      MONE_DISPATCH_FLOAT(src.dtype(), op, {
        cpu::scatter_add_forward<scalar_t>(src.data<scalar_t>(), idx.data<int64_t>(), idx.shape(), dim, base_shape,
                                           out.data<scalar_t>());
      });
      return out;
    }
    case DeviceType::kCUDA: {
      MONE_RETURN_IF_ERROR(check_cuda_index(op, index));
      const Tensor idx = index.contiguous();
      const cuda::GatherGeometry geometry = cuda::gather_geometry(idx.shape(), base_shape, dim);
      size_t bytes = 0;
      MONE_RETURN_IF_ERROR(cuda::to_status(cuda::scatter_add_workspace(idx.numel(), &bytes), op));
      MONE_ASSIGN_OR_RETURN(Tensor workspace, cuda_workspace(bytes, src.device()));
      MONE_DISPATCH_CUDA_FLOAT(src.dtype(), op, {
        MONE_RETURN_IF_ERROR(cuda::to_status(
            with_index_data(idx,
                            [&](auto* ids) {
                              return cuda::scatter_add_forward(out.data<scalar_t>(), out.numel(),
                                                               src.data<scalar_t>(), ids, idx.numel(), geometry,
                                                               workspace.raw_data(), bytes, cuda::current_stream());
                            }),
            op));
      });
      return out;
    }
  }
  return out;
}

}  // namespace

StatusOr<Tensor> gather(const Tensor& x, int64_t dim, const Tensor& index) {
  return gather_impl("gather", x, dim, index);
}

StatusOr<Tensor> scatter_add(const Shape& base_shape, int64_t dim, const Tensor& index, const Tensor& src) {
  return scatter_add_impl("scatter_add", base_shape, dim, index, src, "src");
}

StatusOr<Tensor> gather_backward(const Tensor& grad_out, const Shape& x_shape, int64_t dim, const Tensor& index) {
  return scatter_add_impl("gather_backward", x_shape, dim, index, grad_out, "grad_out");
}

StatusOr<Tensor> scatter_add_backward(const Tensor& grad_out, int64_t dim, const Tensor& index) {
  return gather_impl("scatter_add_backward", grad_out, dim, index);
}

}  // namespace mone::ops

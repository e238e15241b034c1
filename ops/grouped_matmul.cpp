// Definitions and contracts: ops/grouped_matmul.h.
// Shape letters: N tokens, d model width, E experts, K experts per token, D expert width,
//   K_N neurons kept.
#include "ops/grouped_matmul.h"

#include "ops/cpu/grouped_matmul.h"
#include "ops/moe_common.h"

namespace mone::ops {

namespace {

// Checks x_perm, offsets and the experts' weights; returns contiguous weights, one [O, I] per expert.
StatusOr<std::vector<Tensor>> check_grouped(const char* op, const Tensor& x, const std::vector<Tensor>& w,
                                            const Tensor& offsets) {
  MONE_RETURN_IF_ERROR(check_float_dims(op, x, 2, "x_perm"));
  if (w.empty()) return absl::InvalidArgumentError(absl::StrCat(op, ": no expert weights (E = 0)"));
  MONE_RETURN_IF_ERROR(check_float_dims(op, w[0], 2, "w[0]"));
  const Shape shape = w[0].shape();
  std::vector<Tensor> out;
  for (size_t j = 0; j < w.size(); ++j) {
    const std::string name = absl::StrCat("w[", j, "]");
    MONE_RETURN_IF_ERROR(check_shape(op, w[j], shape, name.c_str()));
    MONE_RETURN_IF_ERROR(check_same(op, {{"x_perm", &x}, {name.c_str(), &w[j]}}));
    out.push_back(w[j].contiguous());
  }
  if (shape[1] != x.size(1)) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": expert weights [O, I] do not match x_perm [R, I]: ",
                                                   describe_args({{"x_perm", &x}, {"w[0]", &w[0]}})));
  }
  MONE_RETURN_IF_ERROR(check_offsets(op, offsets, static_cast<int64_t>(w.size()), x.size(0)));
  return out;
}

// [E, O, I] -> E views [O, I].
StatusOr<std::vector<Tensor>> unstack(const char* op, const Tensor& w) {
  MONE_RETURN_IF_ERROR(check_float_dims(op, w, 3, "w"));
  std::vector<Tensor> parts;
  for (int64_t j = 0; j < w.size(0); ++j) {
    MONE_ASSIGN_OR_RETURN(Tensor s, w.slice(0, j, j + 1));
    MONE_ASSIGN_OR_RETURN(Tensor v, s.reshape({w.size(1), w.size(2)}));
    parts.push_back(std::move(v));
  }
  return parts;
}

template <typename T>
std::vector<const T*> pointers(const std::vector<Tensor>& ts) {
  std::vector<const T*> p;
  for (const auto& t : ts) p.push_back(t.data<T>());
  return p;
}

template <typename T>
std::vector<T*> mutable_pointers(const std::vector<Tensor>& ts) {
  std::vector<T*> p;
  for (const auto& t : ts) p.push_back(t.data<T>());
  return p;
}

StatusOr<Tensor> forward_impl(const char* op, const Tensor& x_in, const std::vector<Tensor>& w_in,
                              const Tensor& offsets_in) {
  MONE_ASSIGN_OR_RETURN(std::vector<Tensor> w, check_grouped(op, x_in, w_in, offsets_in));
  const Tensor x = x_in.contiguous(), offsets = offsets_in.contiguous();
  const int64_t e = static_cast<int64_t>(w.size()), out_f = w[0].size(0), in_f = w[0].size(1);
  MONE_ASSIGN_OR_RETURN(Tensor y, new_tensor({x.size(0), out_f}, x.dtype(), x.device()));
  switch (x.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(x.dtype(), op, {
        cpu::grouped_matmul_forward<scalar_t>(x.data<scalar_t>(), pointers<scalar_t>(w).data(),
                                              offsets.data<int64_t>(), e, in_f, out_f, y.data<scalar_t>());
      });
      return y;
    case DeviceType::kCUDA:
      return unsupported_device(op, x.device());
  }
  return y;
}

// grad_w: E preallocated [O, I] outputs (views into one stacked tensor, or separate tensors).
Status backward_impl(const char* op, const Tensor& grad_in, const Tensor& x_in, const std::vector<Tensor>& w_in,
                     const Tensor& offsets_in, const Tensor& grad_x, const std::vector<Tensor>& grad_w) {
  MONE_ASSIGN_OR_RETURN(std::vector<Tensor> w, check_grouped(op, x_in, w_in, offsets_in));
  MONE_RETURN_IF_ERROR(check_same(op, {{"grad_y", &grad_in}, {"x_perm", &x_in}}));
  MONE_RETURN_IF_ERROR(check_shape(op, grad_in, {x_in.size(0), w[0].size(0)}, "grad_y"));
  const Tensor grad = grad_in.contiguous(), x = x_in.contiguous(), offsets = offsets_in.contiguous();
  const int64_t e = static_cast<int64_t>(w.size()), out_f = w[0].size(0), in_f = w[0].size(1);
  switch (x.device().type) {
    case DeviceType::kCPU:
      MONE_DISPATCH_FLOAT(x.dtype(), op, {
        cpu::grouped_matmul_backward<scalar_t>(grad.data<scalar_t>(), x.data<scalar_t>(),
                                               pointers<scalar_t>(w).data(), offsets.data<int64_t>(), e, in_f,
                                               out_f, grad_x.data<scalar_t>(),
                                               mutable_pointers<scalar_t>(grad_w).data());
      });
      return absl::OkStatus();
    case DeviceType::kCUDA:
      return unsupported_device(op, x.device());
  }
  return absl::OkStatus();
}

}  // namespace

StatusOr<Tensor> grouped_matmul(const Tensor& x_perm, const Tensor& w, const Tensor& offsets) {
  MONE_ASSIGN_OR_RETURN(std::vector<Tensor> parts, unstack("grouped_matmul", w));
  return forward_impl("grouped_matmul", x_perm, parts, offsets);
}

StatusOr<Tensor> grouped_matmul(const Tensor& x_perm, const std::vector<Tensor>& w, const Tensor& offsets) {
  return forward_impl("grouped_matmul", x_perm, w, offsets);
}

StatusOr<GroupedMatmulGrads> grouped_matmul_backward(const Tensor& grad_y, const Tensor& x_perm, const Tensor& w,
                                                     const Tensor& offsets) {
  constexpr const char* op = "grouped_matmul_backward";
  MONE_ASSIGN_OR_RETURN(std::vector<Tensor> parts, unstack(op, w));
  MONE_RETURN_IF_ERROR(check_float_dims(op, x_perm, 2, "x_perm"));
  GroupedMatmulGrads g;
  MONE_ASSIGN_OR_RETURN(g.grad_x, new_tensor(x_perm.shape(), x_perm.dtype(), x_perm.device()));
  MONE_ASSIGN_OR_RETURN(g.grad_w, new_tensor(w.shape(), w.dtype(), w.device()));
  MONE_ASSIGN_OR_RETURN(std::vector<Tensor> grad_parts, unstack(op, g.grad_w));
  MONE_RETURN_IF_ERROR(backward_impl(op, grad_y, x_perm, parts, offsets, g.grad_x, grad_parts));
  return g;
}

StatusOr<GroupedMatmulListGrads> grouped_matmul_backward(const Tensor& grad_y, const Tensor& x_perm,
                                                         const std::vector<Tensor>& w, const Tensor& offsets) {
  constexpr const char* op = "grouped_matmul_backward";
  MONE_RETURN_IF_ERROR(check_float_dims(op, x_perm, 2, "x_perm"));
  GroupedMatmulListGrads g;
  MONE_ASSIGN_OR_RETURN(g.grad_x, new_tensor(x_perm.shape(), x_perm.dtype(), x_perm.device()));
  for (const Tensor& wj : w) {
    MONE_ASSIGN_OR_RETURN(Tensor gw, new_tensor(wj.shape(), wj.dtype(), wj.device()));
    g.grad_w.push_back(std::move(gw));
  }
  MONE_RETURN_IF_ERROR(backward_impl(op, grad_y, x_perm, w, offsets, g.grad_x, g.grad_w));
  return g;
}

}  // namespace mone::ops

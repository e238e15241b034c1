#include "core/tensor.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_join.h"
#include "core/cuda_memory.h"

namespace mone {

std::string shape_string(const Shape& s) { return absl::StrCat("[", absl::StrJoin(s, ", "), "]"); }

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Shape contiguous_strides(const Shape& s) {
  Shape strides(s.size());
  int64_t st = 1;
  for (int64_t i = static_cast<int64_t>(s.size()) - 1; i >= 0; --i) {
    strides[i] = st;
    st *= std::max<int64_t>(s[i], 1);
  }
  return strides;
}

Tensor::Tensor(std::shared_ptr<Storage> storage, Shape shape, Shape strides, int64_t offset, DType dtype)
    : storage_(std::move(storage)),
      shape_(std::move(shape)),
      strides_(std::move(strides)),
      offset_(offset),
      dtype_(dtype),
      device_(storage_->device()) {}

StatusOr<Tensor> Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape) {
    if (d < 0) return absl::InvalidArgumentError(absl::StrCat("negative dimension in shape ", shape_string(shape)));
  }
  MONE_ASSIGN_OR_RETURN(auto storage, Storage::allocate(shape_numel(shape) * dtype_size(dtype), device));
  return Tensor(std::move(storage), shape, contiguous_strides(shape), 0, dtype);
}

Tensor Tensor::empty_cpu(const Shape& shape, DType dtype) {
  return value_or_die(empty(shape, dtype, Device::cpu()), "Tensor::empty_cpu");
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) { return full(shape, 0.0, dtype); }

Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty_cpu(shape, dtype);
  t.fill_(value);
  return t;
}

StatusOr<Tensor> Tensor::zeros_like(const Tensor& like) {
  if (like.device().is_cpu()) return zeros(like.shape(), like.dtype());
  MONE_ASSIGN_OR_RETURN(Tensor z, empty(like.shape(), like.dtype(), like.device()));
  MONE_RETURN_IF_ERROR(cuda_memory::fill_zero(z.raw_data(), z.nbytes(), like.device().index));
  return z;
}

int64_t Tensor::size(int64_t d) const {
  if (d < 0) d += dim();
  MONE_CHECK(d >= 0 && d < dim()) << "size(" << d << ") of " << describe();
  return shape_[d];
}

bool Tensor::is_contiguous() const {
  if (numel() == 0) return true;  // an empty view has nothing to lay out
  int64_t expected = 1;
  for (int64_t i = dim() - 1; i >= 0; --i) {
    if (shape_[i] == 1) continue;
    if (strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

std::string Tensor::describe() const {
  if (!defined()) return "undefined";
  return absl::StrCat(dtype_name(dtype_), shape_string(shape_), " ", device_.to_string());
}

namespace {

// Calls f(element offset in storage units, linear index) for every element of a strided view.
template <typename F>
void for_each_offset(const Shape& shape, const Shape& strides, int64_t offset, F&& f) {
  const int64_t n = shape_numel(shape);
  const int64_t nd = static_cast<int64_t>(shape.size());
  std::vector<int64_t> idx(nd, 0);
  int64_t off = offset;
  for (int64_t i = 0; i < n; ++i) {
    f(off, i);
    for (int64_t d = nd - 1; d >= 0; --d) {
      if (++idx[d] < shape[d]) {
        off += strides[d];
        break;
      }
      off -= strides[d] * (shape[d] - 1);
      idx[d] = 0;
    }
  }
}

double load(const void* base, DType t, int64_t i) {
  switch (t) {
    case DType::kF32: return static_cast<const float*>(base)[i];
    case DType::kF64: return static_cast<const double*>(base)[i];
    case DType::kBF16: return static_cast<float>(static_cast<const bf16*>(base)[i]);
    case DType::kI32: return static_cast<const int32_t*>(base)[i];
    case DType::kI64: return static_cast<double>(static_cast<const int64_t*>(base)[i]);
  }
  return 0;
}

void store(void* base, DType t, int64_t i, double v) {
  switch (t) {
    case DType::kF32: static_cast<float*>(base)[i] = static_cast<float>(v); break;
    case DType::kF64: static_cast<double*>(base)[i] = v; break;
    case DType::kBF16: static_cast<bf16*>(base)[i] = bf16(static_cast<float>(v)); break;
    case DType::kI32: static_cast<int32_t*>(base)[i] = static_cast<int32_t>(v); break;
    case DType::kI64: static_cast<int64_t*>(base)[i] = static_cast<int64_t>(v); break;
  }
}

// Copies a strided CPU view of one dtype into a dense CPU buffer of another.
void copy_strided_cpu(const Tensor& src, void* dst, DType dst_dtype) {
  const size_t es = dtype_size(src.dtype());
  const char* base = static_cast<const char*>(src.storage()->data());
  if (src.dtype() == dst_dtype) {
    const Shape& shape = src.shape();
    if (!shape.empty() && src.strides().back() == 1) {  // rows of the last dimension: one memcpy each
      const int64_t row = shape.back() * static_cast<int64_t>(es);
      const Shape outer(shape.begin(), shape.end() - 1), outer_strides(src.strides().begin(), src.strides().end() - 1);
      for_each_offset(outer, outer_strides, src.offset(), [&](int64_t off, int64_t i) {
        std::memcpy(static_cast<char*>(dst) + i * row, base + off * static_cast<int64_t>(es), static_cast<size_t>(row));
      });
      return;
    }
    for_each_offset(src.shape(), src.strides(), src.offset(), [&](int64_t off, int64_t i) {
      std::memcpy(static_cast<char*>(dst) + i * es, base + off * es, es);
    });
    return;
  }
  for_each_offset(src.shape(), src.strides(), src.offset(), [&](int64_t off, int64_t i) {
    store(dst, dst_dtype, i, load(base, src.dtype(), off));
  });
}

// Writes the view `src` into the dense tensor `dst` of the same shape and device, converting the
// dtype: the CPU loop, or the strided copy kernel of core/cuda_copy.h on CUDA.
Status copy_strided_same_device(const Tensor& src, const Tensor& dst) {
  if (dst.device().is_cpu()) {
    copy_strided_cpu(src, dst.raw_data(), dst.dtype());
    return absl::OkStatus();
  }
  if (src.is_contiguous() && src.dtype() == dst.dtype()) {
    return copy_bytes(dst.raw_data(), dst.device(), src.raw_data(), src.device(), src.nbytes());
  }
  return cuda_memory::convert_strided(dst.raw_data(), dst.dtype(), src.raw_data(), src.dtype(), src.shape(),
                                      src.strides(), src.device().index);
}

}  // namespace

double read_as_double(const Tensor& t, int64_t i) {
  MONE_CHECK(t.device().is_cpu()) << "read_as_double on " << t.describe();
  if (t.is_contiguous()) return load(t.raw_data(), t.dtype(), i);
  // Walk to element i of the strided view.
  int64_t off = t.offset();
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    off += (i % t.shape()[d]) * t.strides()[d];
    i /= t.shape()[d];
  }
  return load(t.storage()->data(), t.dtype(), off);
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out = value_or_die(empty(shape_, dtype_, device_), "Tensor::clone");
  MONE_CHECK_OK(copy_strided_same_device(*this, out));
  return out;
}

StatusOr<Tensor> Tensor::reshape(const Shape& shape) const {
  Shape s = shape;
  int64_t infer = -1, known = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      if (infer >= 0) return absl::InvalidArgumentError(absl::StrCat("reshape ", describe(), " to ", shape_string(shape), ": two -1 dimensions"));
      infer = static_cast<int64_t>(i);
    } else if (s[i] < 0) {
      return absl::InvalidArgumentError(absl::StrCat("reshape ", describe(), " to ", shape_string(shape), ": negative dimension"));
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel() % known != 0) {
      return absl::InvalidArgumentError(absl::StrCat("reshape ", describe(), " to ", shape_string(shape), ": cannot infer -1"));
    }
    s[infer] = numel() / known;
  }
  if (shape_numel(s) != numel()) {
    return absl::InvalidArgumentError(absl::StrCat("reshape ", describe(), " to ", shape_string(shape), ": ",
                                                   numel(), " elements do not fit"));
  }
  Tensor base = contiguous();
  return Tensor(base.storage_, s, contiguous_strides(s), base.offset_, dtype_);
}

StatusOr<Tensor> Tensor::transpose(int64_t a, int64_t b) const {
  if (a < 0) a += dim();
  if (b < 0) b += dim();
  if (a < 0 || b < 0 || a >= dim() || b >= dim()) {
    return absl::InvalidArgumentError(absl::StrCat("transpose(", a, ", ", b, ") of ", describe()));
  }
  Tensor t = *this;
  std::swap(t.shape_[a], t.shape_[b]);
  std::swap(t.strides_[a], t.strides_[b]);
  return t;
}

StatusOr<Tensor> Tensor::slice(int64_t d, int64_t start, int64_t end) const {
  if (d < 0) d += dim();
  if (d < 0 || d >= dim() || start < 0 || end < start || end > shape_[d]) {
    return absl::InvalidArgumentError(absl::StrCat("slice(dim ", d, ", ", start, ":", end, ") of ", describe()));
  }
  Tensor t = *this;
  t.shape_[d] = end - start;
  t.offset_ += start * strides_[d];
  return t;
}

StatusOr<Tensor> Tensor::to(Device device) const {
  if (device == device_) return *this;
  Tensor src = contiguous();
  MONE_ASSIGN_OR_RETURN(Tensor out, empty(shape_, dtype_, device));
  MONE_RETURN_IF_ERROR(copy_bytes(out.raw_data(), device, src.raw_data(), device_, nbytes()));
  return out;
}

StatusOr<Tensor> Tensor::to(DType dtype) const {
  if (dtype == dtype_) return *this;
  MONE_ASSIGN_OR_RETURN(Tensor out, empty(shape_, dtype, device_));
  MONE_RETURN_IF_ERROR(copy_strided_same_device(*this, out));
  return out;
}

Status Tensor::copy_from(const Tensor& src) const {
  if (src.shape() != shape_) {
    return absl::InvalidArgumentError(absl::StrCat("copy_from: ", src.describe(), " into ", describe()));
  }
  if (!is_contiguous()) {
    return absl::UnimplementedError(absl::StrCat("copy_from: ", src.describe(), " into the strided view ", describe()));
  }
  // Across devices, the values travel in their own dtype and are converted on arrival.
  Tensor s = src;
  if (src.device() != device_) {
    MONE_ASSIGN_OR_RETURN(s, src.to(device_));
  }
  MONE_RETURN_IF_ERROR(copy_strided_same_device(s, *this));
  bump_version();
  return absl::OkStatus();
}

void Tensor::fill_(double value) const {
  MONE_CHECK(device_.is_cpu()) << "fill_ on " << describe();
  char* base = static_cast<char*>(storage_->data());
  const size_t es = dtype_size(dtype_);
  if (is_contiguous()) {
    // One element's bytes, then copies of what is already filled, doubling (or one memset for zeros).
    unsigned char element[8] = {};
    store(element, dtype_, 0, value);
    char* p = base + offset_ * static_cast<int64_t>(es);
    const int64_t n = numel();
    if (std::all_of(element, element + es, [](unsigned char b) { return b == 0; })) {
      std::memset(p, 0, static_cast<size_t>(n) * es);
    } else if (n > 0) {
      std::memcpy(p, element, es);
      for (int64_t done = 1; done < n;) {
        const int64_t chunk = std::min(done, n - done);
        std::memcpy(p + done * static_cast<int64_t>(es), p, static_cast<size_t>(chunk) * es);
        done += chunk;
      }
    }
  } else {
    for_each_offset(shape_, strides_, offset_,
                    [&](int64_t off, int64_t) { store(base + off * es, dtype_, 0, value); });
  }
  bump_version();
}

double Tensor::item() const {
  MONE_CHECK_EQ(numel(), 1) << describe();
  return read_as_double(*this, 0);
}

}  // namespace mone

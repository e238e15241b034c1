// Tensor: a view (shape, strides, offset, dtype) over shared, reference-counted Storage.
//
// Views are free: reshape of a contiguous tensor, transpose and slice share the storage.
// contiguous() copies only when the view is not already dense row-major (on CUDA with the strided
// copy kernel of core/cuda_copy.h). Element access on the
// CPU goes through data<T>(), which checks the dtype.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"
#include "core/storage.h"

namespace mone {

using Shape = std::vector<int64_t>;

std::string shape_string(const Shape& s);  // "[2, 3, 4]"
int64_t shape_numel(const Shape& s);
Shape contiguous_strides(const Shape& s);

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() is false

  // ---- creation (CPU unless a device is given) ----
  static StatusOr<Tensor> empty(const Shape& shape, DType dtype, Device device = Device::cpu());
  static Tensor empty_cpu(const Shape& shape, DType dtype);  // CHECKs allocation (internal use)
  static Tensor zeros(const Shape& shape, DType dtype = DType::kF32);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::kF32);
  // Copies `values` into a new CPU tensor of the given shape (numel must match).
  template <typename T>
  static StatusOr<Tensor> from_vector(const std::vector<T>& values, const Shape& shape);
  template <typename T>
  static Tensor scalar(T value);
  // Zeros with the same shape, dtype and device as `like`.
  static StatusOr<Tensor> zeros_like(const Tensor& like);

  // ---- metadata ----
  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int64_t offset() const { return offset_; }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return shape_numel(shape_); }
  bool is_contiguous() const;
  size_t nbytes() const { return numel() * dtype_size(dtype_); }
  std::string describe() const;  // "f32[2, 3] cpu"

  // ---- data (the view's first element) ----
  template <typename T>
  T* data() const {
    MONE_CHECK(dtype_of<T>() == dtype_) << "data<" << dtype_name(dtype_of<T>()) << ">() on a "
                                        << describe() << " tensor";
    return reinterpret_cast<T*>(raw_data());
  }
  void* raw_data() const {
    return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(dtype_size(dtype_));
  }
  const std::shared_ptr<Storage>& storage() const { return storage_; }

  // ---- views and copies ----
  // A dense row-major tensor with the same values (this tensor itself when already contiguous).
  Tensor contiguous() const;
  // Same values, new shape; one dimension may be -1. Copies when the view is not contiguous.
  StatusOr<Tensor> reshape(const Shape& shape) const;
  StatusOr<Tensor> transpose(int64_t a, int64_t b) const;
  // Elements [start, end) along `dim` (a view).
  StatusOr<Tensor> slice(int64_t dim, int64_t start, int64_t end) const;
  StatusOr<Tensor> to(Device device) const;
  // Any dtype to any other, on the tensor's own device (CUDA through core/cuda_copy.h's kernel);
  // values pass through double, bf16 rounds to nearest even.
  StatusOr<Tensor> to(DType dtype) const;
  Tensor clone() const;                    // a contiguous copy on the same device

  // ---- in-place writes (each bumps the storage version; a Tensor is a handle, so these are const) ----
  // Same shape, any dtype and device; `this` must be dense (src may be any view).
  Status copy_from(const Tensor& src) const;
  void fill_(double value) const;       // CPU only
  void bump_version() const { storage_->bump_version(); }
  uint64_t version() const { return storage_->version(); }

  // ---- CPU reads, for tests and logging ----
  template <typename T>
  std::vector<T> to_vector() const;     // converts from any CPU dtype
  double item() const;                  // a one-element tensor's value as double

 private:
  Tensor(std::shared_ptr<Storage> storage, Shape shape, Shape strides, int64_t offset, DType dtype);

  std::shared_ptr<Storage> storage_;
  Shape shape_;
  Shape strides_;
  int64_t offset_ = 0;
  DType dtype_ = DType::kF32;
  Device device_;
};

// Reads element i (row-major over the view's shape) of any CPU tensor as double.
double read_as_double(const Tensor& t, int64_t i);

// ---- template definitions ----
template <typename T>
StatusOr<Tensor> Tensor::from_vector(const std::vector<T>& values, const Shape& shape) {
  if (shape_numel(shape) != static_cast<int64_t>(values.size())) {
    return absl::InvalidArgumentError(absl::StrCat("from_vector: ", values.size(),
                                                   " values do not fill shape ", shape_string(shape)));
  }
  Tensor t = empty_cpu(shape, dtype_of<T>());
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}

template <typename T>
Tensor Tensor::scalar(T value) {
  Tensor t = empty_cpu({}, dtype_of<T>());
  *t.data<T>() = value;
  return t;
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  std::vector<T> out(numel());
  for (int64_t i = 0; i < numel(); ++i) out[i] = static_cast<T>(read_as_double(*this, i));
  return out;
}

// to_vector of a tensor on any device: one on a GPU is copied to the host first (a synchronising
// device-to-host copy). For tools that read what a model computed (research/); the training path
// reads nothing back.
template <typename T>
StatusOr<std::vector<T>> host_vector(const Tensor& t) {
  if (t.device().is_cpu()) return t.to_vector<T>();
  MONE_ASSIGN_OR_RETURN(const Tensor host, t.to(Device::cpu()));
  return host.to_vector<T>();
}

}  // namespace mone

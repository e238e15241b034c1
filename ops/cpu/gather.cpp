#include "ops/cpu/gather.h"

#include <algorithm>

namespace mone::ops::cpu {

namespace {

std::vector<int64_t> row_major_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t s = 1;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

// Walks the index tensor as fibers along `dim`: a fiber fixes every coordinate but dim, and its
// J = index_shape[dim] elements all address one line of the data tensor. Distinct fibers address
// disjoint lines, so a scatter parallelised over fibers has no two threads writing one element.
struct FiberWalk {
  std::vector<int64_t> index_shape, index_strides, data_strides;
  int64_t dim, fibers, J;

  FiberWalk(const std::vector<int64_t>& index_shape_, const std::vector<int64_t>& data_shape, int64_t dim_)
      : index_shape(index_shape_),
        index_strides(row_major_strides(index_shape_)),
        data_strides(row_major_strides(data_shape)),
        dim(dim_),
        J(index_shape_[dim_]) {
    int64_t n = 1;
    for (int64_t s : index_shape) n *= s;
    fibers = J == 0 ? 0 : n / J;
  }

  // Offsets of fiber f's first element in the index tensor and of its line in the data tensor.
  void base(int64_t f, int64_t& index_base, int64_t& data_base) const {
    index_base = data_base = 0;
    for (int64_t d = static_cast<int64_t>(index_shape.size()) - 1; d >= 0; --d) {
      if (d == dim) continue;
      const int64_t c = f % index_shape[d];
      f /= index_shape[d];
      index_base += c * index_strides[d];
      data_base += c * data_strides[d];
    }
  }
};

// Calls visit(p, q) for every index position p, with q the data offset it addresses: p's
// coordinates with the one along dim replaced by index[p]. Parallel over fibers; within a fiber
// in order of j, so a scatter sums each data element on one thread in a fixed order.
template <typename Visit>
void for_each_indexed(const FiberWalk& w, const int64_t* index, Visit visit) {
#pragma omp parallel for schedule(static) if (w.fibers * w.J > 32768)
  for (int64_t f = 0; f < w.fibers; ++f) {
    int64_t ib, db;
    w.base(f, ib, db);
    for (int64_t j = 0; j < w.J; ++j) {
      const int64_t p = ib + j * w.index_strides[w.dim];
      visit(p, db + index[p] * w.data_strides[w.dim]);
    }
  }
}

}  // namespace

template <typename T>
void gather_forward(const T* x, const std::vector<int64_t>& x_shape, int64_t dim, const int64_t* index,
                    const std::vector<int64_t>& index_shape, T* out) {
  for_each_indexed(FiberWalk(index_shape, x_shape, dim), index, [&](int64_t p, int64_t q) { out[p] = x[q]; });
}

template <typename T>
void scatter_add_forward(const T* src, const int64_t* index, const std::vector<int64_t>& index_shape, int64_t dim,
                         const std::vector<int64_t>& out_shape, T* out) {
  int64_t n = 1;
  for (int64_t s : out_shape) n *= s;
  std::fill(out, out + n, T(0));
  for_each_indexed(FiberWalk(index_shape, out_shape, dim), index, [&](int64_t p, int64_t q) { out[q] += src[p]; });
}

#define MONE_INSTANTIATE(T)                                                                                  \
  template void gather_forward<T>(const T*, const std::vector<int64_t>&, int64_t, const int64_t*,            \
                                  const std::vector<int64_t>&, T*);                                          \
  template void scatter_add_forward<T>(const T*, const int64_t*, const std::vector<int64_t>&, int64_t,       \
                                       const std::vector<int64_t>&, T*);
MONE_INSTANTIATE(float)
MONE_INSTANTIATE(double)
#undef MONE_INSTANTIATE

}  // namespace mone::ops::cpu

#include "train/machine.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace mone::train {

void set_num_threads(int64_t threads) {
  if (threads <= 0) return;
  omp_set_num_threads(static_cast<int>(threads));
  openblas_set_num_threads(static_cast<int>(threads));
}

int num_threads() { return omp_get_max_threads(); }

double measure_peak_flops(int runs) {
  constexpr int n = 512;
  std::vector<float> a(n * n), b(n * n), c(n * n);
  for (int i = 0; i < n * n; ++i) {  // any finite values: the timing does not depend on them
    a[i] = static_cast<float>((i % 7) - 3) * 0.01f;
    b[i] = static_cast<float>((i % 5) - 2) * 0.01f;
  }
  auto gemm = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f,
                c.data(), n);
  };
  gemm();  // warm-up: page in the buffers, start the thread pool
  double best = 1e30;
  for (int r = 0; r < std::max(1, runs); ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    gemm();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, s);
  }
  return 2.0 * n * n * n / std::max(best, 1e-9);
}

}  // namespace mone::train

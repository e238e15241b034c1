#include "train/machine.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "core/storage.h"
#include "cuda/blas.h"
#include "cuda/runtime.h"
#include "dist/communicator.h"

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

StatusOr<PeakFlops> measure_peak_flops(Device device, DType compute) {
  if (device.is_cpu()) return PeakFlops{measure_peak_flops(), "measured sgemm 512^3"};
  constexpr int64_t n = 8192;
  MONE_ASSIGN_OR_RETURN(const double flops, cuda::measure_gemm_peak_flops(compute, device.index, n));
  return PeakFlops{flops, absl::StrCat("measured cuBLAS ", dtype_name(compute),
                                       compute == DType::kF32 && cuda::allow_tf32() ? " (TF32)" : "", " ", n, "^3")};
}

StatusOr<Device> parse_device(const std::string& name) {
  if (name == "cpu") return Device::cpu();
  if (name != "cuda") {
    return absl::InvalidArgumentError(absl::StrCat("device \"", name, "\": expected \"cpu\" or \"cuda\""));
  }
  if (cuda_device_count() == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("device \"cuda\": no GPU is visible here (", cuda::describe_devices(), "); use --device cpu"));
  }
  return Device::cuda(dist::local_rank() % cuda_device_count());
}

DType compute_dtype(proto::TrainSpec::Precision precision) {
  return precision == proto::TrainSpec::BF16 ? DType::kBF16 : DType::kF32;
}

StatusOr<proto::TrainSpec::Precision> parse_precision(const std::string& name) {
  if (name == "f32") return proto::TrainSpec::F32;
  if (name == "bf16") return proto::TrainSpec::BF16;
  return absl::InvalidArgumentError(absl::StrCat("precision \"", name, "\": expected \"f32\" or \"bf16\""));
}

}  // namespace mone::train

// The machine the trainer runs on: how many threads it uses, and what its peak FLOP/s is (the
// denominator of MFU).
#pragma once

#include <cstdint>
#include <string>

#include "core/dtype.h"
#include "core/status.h"
#include "proto/train.pb.h"

namespace mone::train {

// OpenMP threads (ours) and OpenBLAS threads (GEMM). threads <= 0 leaves the defaults (every core).
void set_num_threads(int64_t threads);
int num_threads();  // what OpenMP uses now

// Peak f32 FLOP/s as measured here: the best of `runs` cblas_sgemm calls multiplying two
// 512×512 matrices (2·512³ FLOPs each), after one warm-up call, on the current thread count.
// This is what the BLAS actually achieves on this machine, not the vendor's number, so MFU
// says how close training comes to the machine's own GEMM speed. Takes a few milliseconds.
double measure_peak_flops(int runs = 5);

// The MFU denominator for a model computing in `compute` on `device`: the sgemm peak above on the
// CPU; on CUDA the cuBLAS GEMM peak of the compute dtype (bf16, or f32 without TF32 unless the
// thread allows it), measured by cuda::measure_gemm_peak_flops (8192³, a few milliseconds).
struct PeakFlops {
  double flops = 0;
  std::string how;  // for the log line: "measured sgemm 512^3", "measured cuBLAS bf16 8192^3"
};
StatusOr<PeakFlops> measure_peak_flops(Device device, DType compute);

// The device a TrainSpec or a --device flag names: "cpu", or "cuda": the GPU of index
// dist::local_rank() mod (visible GPUs), so the first GPU for one process and one GPU per rank
// under mpirun (the GPU the rank's NCCL communicator uses). "cuda" without a visible GPU is an
// error that says so (and why: no driver, or a build without CUDA).
StatusOr<Device> parse_device(const std::string& name);

// The compute dtype of a TrainSpec precision: F32 -> f32, BF16 -> bf16 (over f32 masters).
DType compute_dtype(proto::TrainSpec::Precision precision);
// "f32" or "bf16", the --precision flag's values, as a TrainSpec precision; anything else is an error.
StatusOr<proto::TrainSpec::Precision> parse_precision(const std::string& name);

}  // namespace mone::train

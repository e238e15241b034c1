// All-reduce (sum, in place, f32) of one flat buffer through the communicator, by buffer size:
// median time over the ranks' synchronised runs, algorithmic bandwidth (bytes / time) and bus
// bandwidth (algbw · 2(R−1)/R, what each rank moves in a ring; NCCL's nccl-tests convention).
//   mpirun -np 2 build/bin/mone_bench_comm              # MPI, CPU buffers
//   build/bin/mone_bench_comm --backend nccl             # NCCL on one GPU (scripts/gpu_check.sh)
// Without mpirun and with the default backend it is one process: nothing to measure.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "dist/communicator.h"

using namespace mone;

int main(int argc, char** argv) {
  dist::Backend backend = dist::Backend::kAuto;
  int runs = 20;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--backend" && i + 1 < argc) {
      const std::string b = argv[++i];
      backend = b == "nccl" ? dist::Backend::kNccl : b == "mpi" ? dist::Backend::kMpi : dist::Backend::kAuto;
    } else if (a == "--runs" && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: mone_bench_comm [--backend auto|mpi|nccl] [--runs 20]\n");
      return 2;
    }
  }
  auto opened = dist::open_communicator(backend);
  if (!opened.ok()) {
    std::printf("mone_bench_comm: skipped: %s\n", std::string(opened.status().message()).c_str());
    return 0;  // a backend this build or machine lacks is not a failure of the benchmark
  }
  dist::Communicator& comm = **opened;
  const int R = comm.world_size();
  const bool root = comm.rank() == 0;
  const Device device = comm.backend() == "NCCL" ? Device::cuda() : Device::cpu();
  if (root) {
    std::printf("# all_reduce_sum, f32, %s, %d rank(s), median of %d runs\n", comm.backend().c_str(), R, runs);
    bench::print_machine_line();
    if (R == 1 && comm.backend() != "NCCL") {
      std::printf("one process: nothing to measure (start it with mpirun -np 2)\n");
      return 0;
    }
    std::printf("\n| size | median ms | algbw GB/s | busbw GB/s |\n|---:|---:|---:|---:|\n");
  }
  for (int64_t kib : {4, 64, 1024, 16384, 65536}) {
    const int64_t n = kib * 1024 / 4;
    auto buffer = Tensor::zeros({n}).to(device);
    if (!buffer.ok()) {
      std::printf("mone_bench_comm: %s\n", std::string(buffer.status().message()).c_str());
      return 1;
    }
    std::vector<double> times;
    for (int run = -2; run < runs; ++run) {  // two warm-ups
      Status status = comm.barrier();
      const double t = bench::seconds([&] {
        if (status.ok()) status = comm.all_reduce_sum(*buffer);
      });
      if (!status.ok()) {
        std::printf("mone_bench_comm: %s\n", std::string(status.message()).c_str());
        comm.abort(1);
      }
      if (run >= 0) times.push_back(t);
    }
    const double s = bench::median(times), bytes = static_cast<double>(n) * 4;
    if (root) {
      std::printf("| %lld KiB | %.3f | %.2f | %.2f |\n", static_cast<long long>(kib), s * 1e3, bytes / s / 1e9,
                  bytes / s / 1e9 * 2.0 * (R - 1) / R);
    }
  }
  return 0;
}

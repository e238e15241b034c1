// The NCCL communicator with one rank (one GPU): every collective goes through NCCL's stream and
// the polling with a timeout, and leaves the data as it is; a started all-reduce is waited for.
// Without NCCL or without a GPU, opening it is a clear error, checked here.
#include <doctest/doctest.h>

#include "core/rng.h"
#include "dist/communicator.h"
#include "dist/data_parallel.h"
#include "ops/elementwise.h"

using namespace mone;

TEST_SUITE("cuda") {

TEST_CASE("nccl: one rank: all-reduce, broadcast, barrier, all-to-all and a bucketed average on the GPU") {
  auto opened = dist::open_communicator(dist::Backend::kNccl);
  if (!dist::built_with_nccl()) {
    MESSAGE("built without NCCL: only checking the error");
    REQUIRE_FALSE(opened.ok());
    CHECK(std::string(opened.status().message()).find("built without NCCL") != std::string::npos);
    return;
  }
  if (cuda_device_count() == 0) {
    MESSAGE("no GPU visible: only checking the error");
    REQUIRE_FALSE(opened.ok());
    CHECK(std::string(opened.status().message()).find("no CUDA device") != std::string::npos);
    return;
  }
  REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
  dist::Communicator& comm = **opened;
  CHECK(comm.backend() == "NCCL");
  CHECK(comm.world_size() == 1);
  Generator gen(3);
  for (DType dtype : {DType::kF32, DType::kBF16}) {
    Tensor x = value_or_die(randn({1000}, DType::kF32, gen).to(dtype));
    Tensor gx = value_or_die(x.to(Device::cuda()));
    REQUIRE(comm.all_reduce_sum(gx).ok());
    REQUIRE(comm.broadcast(gx, 0).ok());
    CHECK(value_or_die(gx.to(Device::cpu())).to_vector<double>() == x.to_vector<double>());
  }
  REQUIRE(comm.barrier().ok());
  Tensor send = value_or_die(Tensor::from_vector(std::vector<float>{1, 2, 3, 4}, {1, 4}));
  Tensor gs = value_or_die(send.to(Device::cuda())), gr = value_or_die(Tensor::zeros({1, 4}).to(Device::cuda()));
  REQUIRE(comm.all_to_all(gs, gr).ok());
  CHECK(value_or_die(gr.to(Device::cpu())).to_vector<float>() == send.to_vector<float>());
  // A started all-reduce, on a buffer a kernel has just written, holds the sum once waited for and
  // then polls as done. With one rank the sum is the buffer itself, so this checks the start /
  // poll / wait path; whether NCCL's stream waits for the writing kernel shows only with 2 ranks.
  {
    Tensor x = value_or_die(randn({1 << 16}, DType::kF32, gen).to(Device::cuda()));
    Tensor doubled = value_or_die(ops::scale(x, 2.0));
    auto pending = comm.start_all_reduce_sum(doubled);
    REQUIRE_MESSAGE(pending.ok(), pending.status().ToString());
    REQUIRE((*pending)->wait().ok());
    CHECK(value_or_die((*pending)->poll()));
    const std::vector<double> host = value_or_die(x.to(Device::cpu())).to_vector<double>();
    const std::vector<double> sum = value_or_die(doubled.to(Device::cpu())).to_vector<double>();
    bool same = true;
    for (size_t i = 0; i < host.size(); ++i) same = same && sum[i] == 2 * host[i];
    CHECK(same);
  }
  // CPU tensors belong to MPI.
  CHECK(std::string(comm.all_reduce_sum(Tensor::zeros({2})).message()).find("wrong device") != std::string::npos);
}

}  // TEST_SUITE

// The single-process communicator (what `mone train` uses without mpirun) and the errors every
// backend shares; opening a backend this build lacks, or NCCL without a GPU, is a clear error.
#include <doctest/doctest.h>
#include <stdlib.h>

#include "dist/communicator.h"
#include "tests/data/data_test_util.h"

namespace mone::dist {
namespace {

using train::testing::error_mentions;

TEST_SUITE("unit") {
  TEST_CASE("single process: rank 0 of 1, every collective leaves the data as it is") {
    auto comm = single_process_communicator();
    CHECK(comm->rank() == 0);
    CHECK(comm->world_size() == 1);
    CHECK(comm->backend() == "single process");
    Tensor t = *Tensor::from_vector(std::vector<float>{1.5f, -2.0f, 3.25f}, {3});
    REQUIRE(comm->all_reduce_sum(t).ok());
    REQUIRE(comm->broadcast(t, 0).ok());
    REQUIRE(comm->barrier().ok());
    CHECK(t.to_vector<float>() == std::vector<float>{1.5f, -2.0f, 3.25f});
    Tensor send = *Tensor::from_vector(std::vector<int64_t>{7, 8}, {1, 2}), recv = Tensor::zeros({1, 2}, DType::kI64);
    REQUIRE(comm->all_to_all(send, recv).ok());
    CHECK(recv.to_vector<int64_t>() == std::vector<int64_t>{7, 8});
  }

  TEST_CASE("collective arguments are checked the same way by every backend") {
    auto comm = single_process_communicator();
    CHECK(error_mentions(comm->broadcast(Tensor::zeros({2}), 1), {"broadcast", "root 1", "not a rank of 1"}));
    CHECK(error_mentions(comm->all_reduce_sum(Tensor()), {"all_reduce_sum", "undefined"}));
    Tensor wide = Tensor::zeros({2, 3});
    CHECK(error_mentions(comm->all_reduce_sum(*wide.transpose(0, 1)), {"all_reduce_sum", "not contiguous"}));
    CHECK(error_mentions(comm->all_to_all(Tensor::zeros({2, 2}), Tensor::zeros({2, 2})),
                         {"all_to_all", "first dimension of 1"}));
    CHECK(error_mentions(comm->all_to_all(Tensor::zeros({1, 2}), Tensor::zeros({1, 3})), {"all_to_all", "differ"}));
    CHECK(error_mentions(check_buffer("all_reduce_sum", Tensor::zeros({2}), false), {"wrong device", "CUDA tensors only"}));
  }

  TEST_CASE("outside mpirun, kAuto is one process; a missing backend says what to install") {
    CHECK_FALSE(launched_by_mpi());  // ctest does not run under mpirun
    auto automatic = open_communicator(Backend::kAuto);
    REQUIRE(automatic.ok());
    CHECK((*automatic)->world_size() == 1);
    CHECK((*automatic)->backend() == "single process");
    if (!built_with_mpi()) {
      CHECK(error_mentions(open_communicator(Backend::kMpi).status(), {"built without MPI", "libopenmpi-dev"}));
    }
    if (!built_with_nccl()) {
      CHECK(error_mentions(open_communicator(Backend::kNccl).status(), {"built without NCCL"}));
    }
  }

  TEST_CASE("the backend follows the launcher and the tensors' device; the local rank picks the GPU") {
    // The launcher's environment, as mpirun sets it for its second process on a machine, then
    // taken away again (ctest itself runs outside mpirun).
    CHECK(backend_for(false) == Backend::kAuto);
    CHECK(backend_for(true) == Backend::kAuto);  // one process on CUDA: nothing to talk to
    CHECK(local_rank() == 0);
    ::setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
    ::setenv("OMPI_COMM_WORLD_LOCAL_RANK", "1", 1);
    CHECK(launched_by_mpi());
    CHECK(backend_for(false) == Backend::kAuto);  // kAuto opens MPI under a launcher
    CHECK(backend_for(true) == Backend::kNccl);
    CHECK(local_rank() == 1);
    ::setenv("OMPI_COMM_WORLD_LOCAL_RANK", "one", 1);  // unreadable: the first GPU, never a crash
    CHECK(local_rank() == 0);
    ::setenv("OMPI_COMM_WORLD_LOCAL_RANK", "-3", 1);
    CHECK(local_rank() == 0);
    ::unsetenv("OMPI_COMM_WORLD_LOCAL_RANK");
    ::setenv("SLURM_LOCALID", "3", 1);
    CHECK(local_rank() == 3);
    ::unsetenv("SLURM_LOCALID");
    ::unsetenv("OMPI_COMM_WORLD_SIZE");
    CHECK_FALSE(launched_by_mpi());
    CHECK(backend_for(true) == Backend::kAuto);
  }

  TEST_CASE("the timeout is the communicator's own setting") {
    auto comm = single_process_communicator();
    CHECK(comm->timeout_s() == 600);
    comm->set_timeout_s(2.5);
    CHECK(comm->timeout_s() == 2.5);
  }
}

}  // namespace
}  // namespace mone::dist

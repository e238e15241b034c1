#include "dist/communicator.h"

#include <cstdlib>

#include "dist/mpi_communicator.h"
#include "dist/nccl_communicator.h"

namespace mone::dist {
namespace {

class Completed final : public PendingCollective {
 public:
  StatusOr<bool> poll() override { return true; }
  Status wait() override { return absl::OkStatus(); }
};

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  std::string backend() const override { return "single process"; }
  // Any device: the sum over one rank is the buffer itself.
  Status all_reduce_sum(const Tensor& buffer) override {
    return check_buffer("all_reduce_sum", buffer, buffer.device().is_cpu());
  }
  Status broadcast(const Tensor& buffer, int root) override {
    MONE_RETURN_IF_ERROR(check_buffer("broadcast", buffer, buffer.device().is_cpu()));
    return check_root("broadcast", root, 1);
  }
  Status barrier() override { return absl::OkStatus(); }
  Status all_to_all(const Tensor& send, const Tensor& recv) override {
    MONE_RETURN_IF_ERROR(check_all_to_all(send, recv, 1, send.device().is_cpu()));
    return recv.copy_from(send);
  }
  [[noreturn]] void abort(int exit_code) override { std::exit(exit_code); }
};

}  // namespace

StatusOr<std::unique_ptr<PendingCollective>> Communicator::start_all_reduce_sum(const Tensor& buffer) {
  MONE_RETURN_IF_ERROR(all_reduce_sum(buffer));
  return std::unique_ptr<PendingCollective>(std::make_unique<Completed>());
}

std::unique_ptr<Communicator> single_process_communicator() { return std::make_unique<SingleProcess>(); }

int local_rank() {
  for (const char* var : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"}) {
    const char* v = std::getenv(var);
    if (v == nullptr) continue;
    char* end = nullptr;
    const long r = std::strtol(v, &end, 10);
    return end != v && *end == '\0' && r >= 0 && r < (1 << 20) ? static_cast<int>(r) : 0;
  }
  return 0;
}

Backend backend_for(bool cuda_tensors) {
  return cuda_tensors && launched_by_mpi() ? Backend::kNccl : Backend::kAuto;
}

bool launched_by_mpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) {
    if (std::getenv(var) != nullptr) return true;
  }
  return false;
}

StatusOr<std::unique_ptr<Communicator>> open_communicator(Backend backend) {
  switch (backend) {
    case Backend::kSingleProcess:
      return single_process_communicator();
    case Backend::kMpi:
      return open_mpi_communicator();
    case Backend::kAuto:
      if (!launched_by_mpi()) return single_process_communicator();
      if (!built_with_mpi()) {
        return absl::FailedPreconditionError(
            "this process was started by an MPI launcher (mpirun), but mone was built without MPI: "
            "install libopenmpi-dev and openmpi-bin (scripts/setup.sh does) and rebuild with -DMONE_MPI=ON");
      }
      return open_mpi_communicator();
    case Backend::kNccl: {
      MONE_ASSIGN_OR_RETURN(std::unique_ptr<Communicator> bootstrap, open_communicator(Backend::kAuto));
      return open_nccl_communicator(std::move(bootstrap));
    }
  }
  return absl::InvalidArgumentError("open_communicator: unknown backend");
}

Status check_buffer(const char* op, const Tensor& t, bool cpu) {
  if (!t.defined()) return absl::InvalidArgumentError(absl::StrCat(op, ": undefined tensor"));
  if (!t.is_contiguous()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": ", t.describe(), " is not contiguous"));
  }
  if (t.device().is_cpu() != cpu) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": ", t.describe(), " is on the wrong device for this backend (", cpu ? "CPU" : "CUDA",
                     " tensors only)"));
  }
  return absl::OkStatus();
}

Status check_root(const char* op, int root, int world_size) {
  if (root >= 0 && root < world_size) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(op, ": root ", root, " is not a rank of ", world_size));
}

Status check_all_to_all(const Tensor& send, const Tensor& recv, int world_size, bool cpu) {
  MONE_RETURN_IF_ERROR(check_buffer("all_to_all (send)", send, cpu));
  MONE_RETURN_IF_ERROR(check_buffer("all_to_all (recv)", recv, cpu));
  if (send.shape() != recv.shape() || send.dtype() != recv.dtype() || send.device() != recv.device()) {
    return absl::InvalidArgumentError(
        absl::StrCat("all_to_all: send ", send.describe(), " and recv ", recv.describe(), " differ"));
  }
  if (send.dim() < 1 || send.size(0) != world_size) {
    return absl::InvalidArgumentError(absl::StrCat("all_to_all: ", send.describe(), " needs a first dimension of ",
                                                   world_size, " (one row per rank)"));
  }
  return absl::OkStatus();
}

}  // namespace mone::dist

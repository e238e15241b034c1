// The NCCL backend of dist/communicator.h: CUDA tensors, one GPU per rank.
//
// Rank r uses GPU (local rank mod visible GPUs); the local rank comes from the launcher
// (OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID, SLURM_LOCALID), 0 without one. Rank 0 draws the
// NCCL unique id and broadcasts it over the bootstrap communicator (MPI under mpirun; the
// single-process one for a world of one), then every rank joins with ncclCommInitRankConfig.
// The communicator is non-blocking (config.blocking = 0): every call, initialisation included,
// is polled with ncclCommGetAsyncError and cudaStreamQuery until it completes, fails, or
// timeout_s() passes; then the NCCL communicator is aborted (ncclCommAbort) and the call returns
// DeadlineExceeded. Collectives run on the communicator's own stream and are complete (the
// stream synchronised) when a call returns. NCCL has no all-to-all: it is R grouped send/recv
// pairs. barrier() synchronises the stream, then the bootstrap communicator.
#pragma once

#include <memory>

#include "dist/communicator.h"

namespace mone::dist {

// Built without NCCL (no CUDA, or nccl.h / libnccl not found at configure time):
// FailedPrecondition "built without NCCL ...". No GPU visible: FailedPrecondition too.
StatusOr<std::unique_ptr<Communicator>> open_nccl_communicator(std::unique_ptr<Communicator> bootstrap);

}  // namespace mone::dist

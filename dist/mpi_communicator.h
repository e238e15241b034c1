// The MPI backend of dist/communicator.h: CPU tensors, one rank per process started by mpirun.
//
// MPI starts (MPI_Init_thread, MPI_THREAD_FUNNELED: only the main thread calls MPI; OpenMP and
// OpenBLAS threads never do) with the first communicator and is finalised with the last. Each
// communicator works on its own duplicate of MPI_COMM_WORLD whose error handler returns errors
// (MPI_ERRORS_RETURN), so a failed call becomes a Status naming the call and MPI's message.
// Every collective is issued non-blocking (MPI_Iallreduce, MPI_Ibcast, MPI_Ibarrier,
// MPI_Ialltoall) and polled with MPI_Test until it completes or timeout_s() passes: a rank that
// died or hangs turns into a DeadlineExceeded error instead of a hang.
#pragma once

#include <memory>

#include "dist/communicator.h"

namespace mone::dist {

// Built without MPI: FailedPrecondition "built without MPI ...".
StatusOr<std::unique_ptr<Communicator>> open_mpi_communicator();

}  // namespace mone::dist

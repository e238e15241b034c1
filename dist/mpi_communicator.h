// The MPI backend of dist/communicator.h: CPU tensors, one rank per process started by mpirun.
//
// MPI starts (MPI_Init_thread, MPI_THREAD_FUNNELED: only the main thread calls MPI; OpenMP and
// OpenBLAS threads never do) with the first communicator and is finalised with the last. Each
// communicator works on its own duplicate of MPI_COMM_WORLD whose error handler returns errors
// (MPI_ERRORS_RETURN), so a failed call becomes a Status naming the call and MPI's message.
// Collectives are MPI's blocking ones (MPI_Allreduce, MPI_Bcast, MPI_Barrier, MPI_Alltoall: with
// Debian's OpenMPI 4.1 they are about twice as fast as the non-blocking ones on 1-64 MiB between
// two local ranks, measured), each under a Watchdog (dist/watchdog.h): one that outlasts
// timeout_s() ends this rank with a message naming the rank, the call and the timeout, and mpirun
// then ends the others, so a rank that died or hangs never leaves the job hanging.
#pragma once

#include <memory>

#include "dist/communicator.h"

namespace mone::dist {

// Built without MPI: FailedPrecondition "built without MPI ...".
StatusOr<std::unique_ptr<Communicator>> open_mpi_communicator();

}  // namespace mone::dist

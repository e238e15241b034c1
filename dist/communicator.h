// Collective communication between the processes of one job (docs/DISTRIBUTED.md): who this
// process is, how many there are, and the collectives that data parallelism (and, later, expert
// parallelism) needs. No networking of our own: the engines the field trusts do the work.
//
//   backend          tensors  started by                        file
//   single process   any      `mone ...`                         dist/communicator.cpp
//   MPI              CPU      `mpirun -np N mone ...`           dist/mpi_communicator.cpp
//   NCCL             CUDA     `mpirun -np N mone ...` (id sent   dist/nccl_communicator.cpp
//                             over MPI) or one process alone
//
// The contract, as in MPI: every rank calls every collective, in the same order, with tensors of
// the same shape and dtype (and the same root). Buffers are contiguous tensors on the backend's
// device and are written in place. A collective that has not finished after timeout_s() (another
// rank died or hangs) does not hang: MPI's watchdog ends the rank with a message naming it, the
// call and the timeout (dist/mpi_communicator.h); NCCL aborts its communicator and returns
// DeadlineExceeded. Any failed collective leaves the job unusable (a collective cannot be taken
// back): the caller prints the Status, naming the rank ("mone train (MPI rank 1 of 2): ..."; the
// messages here name the backend and the call, not the rank) and calls abort(), which ends every
// rank of the job.
//
// Shape letters: R ranks (world_size). all_to_all's buffers are [R, ...]: row r goes to rank r.
#pragma once

#include <memory>
#include <string>

#include "core/tensor.h"

namespace mone::dist {

// A collective that has started and may still be running (Communicator::start_all_reduce_sum).
// Its buffer must stay alive and untouched until wait() returns. Destroying one that was not
// waited for waits for it (the buffer's memory may not be freed under a running collective).
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  // Lets the backend move the collective on without blocking (MPI advances non-blocking
  // collectives only inside MPI calls); true once it has completed. Errors as for wait().
  virtual StatusOr<bool> poll() = 0;
  // Returns once the collective has completed and its result is in the buffer, or fails as the
  // blocking collective would (timeout_s() included).
  virtual Status wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // "single process", "MPI" or "NCCL", for messages.
  virtual std::string backend() const = 0;
  // Whether a started collective (start_all_reduce_sum) runs while the caller computes: NCCL's,
  // on their own stream. MPI's advance only inside MPI calls; the single process's finish at once.
  virtual bool runs_in_background() const { return false; }

  // buffer = Σ over ranks of every rank's buffer (elementwise). f32, f64, i32, i64; bf16 on NCCL.
  virtual Status all_reduce_sum(const Tensor& buffer) = 0;
  // The same sum, started without waiting for it: the caller computes on while it runs and calls
  // wait() before reading the buffer. Every rank starts its collectives in the same order. MPI
  // runs MPI_Iallreduce; NCCL queues the all-reduce on its own stream, after the work already
  // queued on the calling thread's stream (which may still be writing the buffer). This default
  // (the single process) runs all_reduce_sum at once and returns a completed collective.
  virtual StatusOr<std::unique_ptr<PendingCollective>> start_all_reduce_sum(const Tensor& buffer);
  // buffer = rank root's buffer, on every rank.
  virtual Status broadcast(const Tensor& buffer, int root) = 0;
  // Returns once every rank has called it.
  virtual Status barrier() = 0;
  // send, recv: [R, ...], same shape and dtype; recv[r] = rank r's send[rank()].
  virtual Status all_to_all(const Tensor& send, const Tensor& recv) = 0;

  // Ends this process and, where the backend can, every other rank of the job (MPI_Abort), after
  // a failure on this rank that leaves the others waiting in a collective. Never returns.
  [[noreturn]] virtual void abort(int exit_code) = 0;

  // Seconds a collective may take before it fails with DeadlineExceeded (> 0). Default 600.
  double timeout_s() const { return timeout_s_; }
  void set_timeout_s(double seconds) { timeout_s_ = seconds; }

 private:
  double timeout_s_ = 600;
};

enum class Backend {
  kAuto,           // MPI when a launcher started this process (below), else single process
  kSingleProcess,  // world of one, whatever the environment says
  kMpi,            // CPU tensors over MPI
  kNccl,           // CUDA tensors over NCCL; its unique id goes out over kAuto's communicator
};

// Opens a communicator of the given backend. Errors: a backend this binary was built without
// ("built without MPI" / "built without NCCL", with what to install), MPI that fails to start, no
// GPU for NCCL. MPI is started at most once per process and finalised when its last communicator
// is destroyed.
StatusOr<std::unique_ptr<Communicator>> open_communicator(Backend backend = Backend::kAuto);

// True when an MPI launcher (OpenMPI's mpirun, MPICH's hydra, Slurm with PMI/PMIx) started this
// process: one of OMPI_COMM_WORLD_SIZE, PMI_SIZE, PMIX_RANK is set.
bool launched_by_mpi();
// This rank's index among the ranks on its machine, from the launcher's environment
// (OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID, SLURM_LOCALID); 0 without one or when unreadable.
// Rank r uses GPU local_rank() mod (visible GPUs), for the model and for NCCL alike.
int local_rank();
// The backend for tensors on the CPU or on CUDA: under an MPI launcher CUDA tensors go over NCCL
// (bootstrapped over MPI), CPU tensors over MPI; outside one, a single process (kAuto).
Backend backend_for(bool cuda_tensors);
bool built_with_mpi();
bool built_with_nccl();

// The single-process backend: rank 0 of 1; every collective checks its arguments and leaves the
// buffer as it is (the sum over one rank is the buffer).
std::unique_ptr<Communicator> single_process_communicator();

// ---- for the backends: argument checks every backend shares ----
// `op` names the collective in messages ("all_reduce_sum"). The tensor must be defined and
// contiguous, on a CPU (cpu = true) or CUDA device.
Status check_buffer(const char* op, const Tensor& t, bool cpu);
Status check_root(const char* op, int root, int world_size);
// send and recv: same shape, dtype and device, dim >= 1 with size(0) == world_size.
Status check_all_to_all(const Tensor& send, const Tensor& recv, int world_size, bool cpu);

}  // namespace mone::dist

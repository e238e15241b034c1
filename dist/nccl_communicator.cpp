#include "dist/nccl_communicator.h"

#if defined(MONE_WITH_NCCL)

#include <cuda_runtime.h>
#include <nccl.h>
#include <sched.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "cuda/runtime.h"

namespace mone::dist {
namespace {

using Clock = std::chrono::steady_clock;

StatusOr<ncclDataType_t> nccl_type(DType dtype) {
  switch (dtype) {
    case DType::kF32: return ncclFloat32;
    case DType::kF64: return ncclFloat64;
    case DType::kBF16: return ncclBfloat16;
    case DType::kI32: return ncclInt32;
    case DType::kI64: return ncclInt64;
  }
  return absl::InvalidArgumentError("NCCL: unsupported dtype");
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(std::unique_ptr<Communicator> bootstrap, int device)
      : bootstrap_(std::move(bootstrap)), device_(device) {
    set_timeout_s(bootstrap_->timeout_s());
  }
  ~NcclCommunicator() override {
    if (comm_ != nullptr) {
      if (broken_) {
        ncclCommAbort(comm_);
      } else {
        ncclCommFinalize(comm_);
        (void)settle("finalize");
        ncclCommDestroy(comm_);
      }
    }
    if (ready_ != nullptr) cudaEventDestroy(ready_);
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
  }

  int rank() const override { return bootstrap_->rank(); }
  int world_size() const override { return bootstrap_->world_size(); }
  std::string backend() const override { return "NCCL"; }
  bool runs_in_background() const override { return true; }

  // Joins the NCCL communicator: id from rank 0 over the bootstrap, then a non-blocking init.
  Status init() {
    MONE_RETURN_IF_ERROR(cuda(cudaSetDevice(device_), "cudaSetDevice"));
    MONE_RETURN_IF_ERROR(cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate"));
    ncclUniqueId id;
    static_assert(sizeof(id) % sizeof(int32_t) == 0);
    Tensor id_bytes = Tensor::zeros({static_cast<int64_t>(sizeof(id) / sizeof(int32_t))}, DType::kI32);
    if (rank() == 0) {
      MONE_RETURN_IF_ERROR(nccl(ncclGetUniqueId(&id), "ncclGetUniqueId"));
      std::memcpy(id_bytes.raw_data(), &id, sizeof(id));
    }
    MONE_RETURN_IF_ERROR(bootstrap_->broadcast(id_bytes, 0));
    std::memcpy(&id, id_bytes.raw_data(), sizeof(id));
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    const ncclResult_t rc = ncclCommInitRankConfig(&comm_, world_size(), id, rank(), &config);
    if (rc != ncclSuccess && rc != ncclInProgress) return nccl(rc, "ncclCommInitRankConfig");
    return settle("ncclCommInitRankConfig");
  }

  Status all_reduce_sum(const Tensor& buffer) override {
    const std::string op = absl::StrCat("all_reduce_sum of ", buffer.describe());
    MONE_RETURN_IF_ERROR(enqueue_all_reduce(buffer, op));
    return finish(buffer, op);
  }

  StatusOr<std::unique_ptr<PendingCollective>> start_all_reduce_sum(const Tensor& buffer) override {
    auto pending = std::make_unique<Pending>(*this, buffer, absl::StrCat("all_reduce_sum of ", buffer.describe()));
    MONE_RETURN_IF_ERROR(cuda(cudaEventCreateWithFlags(&pending->event, cudaEventDisableTiming), "cudaEventCreate"));
    MONE_RETURN_IF_ERROR(enqueue_all_reduce(buffer, pending->op));
    MONE_RETURN_IF_ERROR(cuda(cudaEventRecord(pending->event, stream_), pending->op));
    return std::unique_ptr<PendingCollective>(std::move(pending));
  }

  Status broadcast(const Tensor& buffer, int root) override {
    MONE_RETURN_IF_ERROR(check_buffer("broadcast", buffer, false));
    MONE_RETURN_IF_ERROR(check_root("broadcast", root, world_size()));
    MONE_ASSIGN_OR_RETURN(ncclDataType_t type, nccl_type(buffer.dtype()));
    const std::string op = absl::StrCat("broadcast of ", buffer.describe());
    MONE_RETURN_IF_ERROR(after_callers_work(op));
    MONE_RETURN_IF_ERROR(enqueue(ncclBroadcast(buffer.raw_data(), buffer.raw_data(), buffer.numel(), type, root,
                                               comm_, stream_), op));
    return finish(buffer, op);
  }

  Status barrier() override {
    MONE_RETURN_IF_ERROR(wait_stream("barrier"));
    return bootstrap_->barrier();
  }

  Status all_to_all(const Tensor& send, const Tensor& recv) override {
    MONE_RETURN_IF_ERROR(check_all_to_all(send, recv, world_size(), false));
    MONE_ASSIGN_OR_RETURN(ncclDataType_t type, nccl_type(send.dtype()));
    const std::string op = absl::StrCat("all_to_all of ", send.describe());
    const int64_t per_rank = send.numel() / world_size();
    const size_t bytes = static_cast<size_t>(per_rank) * dtype_size(send.dtype());
    char* s = static_cast<char*>(send.raw_data());
    char* r = static_cast<char*>(recv.raw_data());
    MONE_RETURN_IF_ERROR(after_callers_work(op));
    MONE_RETURN_IF_ERROR(enqueue(ncclGroupStart(), op));
    for (int peer = 0; peer < world_size(); ++peer) {
      MONE_RETURN_IF_ERROR(enqueue(ncclSend(s + peer * bytes, per_rank, type, peer, comm_, stream_), op));
      MONE_RETURN_IF_ERROR(enqueue(ncclRecv(r + peer * bytes, per_rank, type, peer, comm_, stream_), op));
    }
    MONE_RETURN_IF_ERROR(enqueue(ncclGroupEnd(), op));
    return finish(recv, op);
  }

  [[noreturn]] void abort(int exit_code) override {
    if (comm_ != nullptr) ncclCommAbort(comm_);
    comm_ = nullptr;
    bootstrap_->abort(exit_code);
    std::_Exit(exit_code);  // not reached: the bootstrap's abort ends the process
  }

 private:
  // A queued all-reduce: the event recorded on the NCCL stream after it.
  struct Pending final : PendingCollective {
    Pending(NcclCommunicator& c, Tensor b, std::string o) : comm(c), buffer(std::move(b)), op(std::move(o)) {}
    ~Pending() override {
      if (!done && event != nullptr) (void)wait();
      if (event != nullptr) cudaEventDestroy(event);
    }
    StatusOr<bool> poll() override {
      if (done) return true;
      const cudaError_t q = cudaEventQuery(event);
      if (q != cudaSuccess && q != cudaErrorNotReady) return comm.cuda(q, op);
      MONE_RETURN_IF_ERROR(comm.in_progress(op).status());
      if (q == cudaSuccess) {
        done = true;
        buffer.bump_version();
      }
      return done;
    }
    Status wait() override {
      return comm.poll_until(op, [this] { return poll(); });
    }

    NcclCommunicator& comm;
    Tensor buffer;
    std::string op;
    cudaEvent_t event = nullptr;
    bool done = false;
  };

  // The NCCL stream does not order with the caller's (it is a non-blocking stream, and the caller
  // may be on its own): it waits here for the work queued so far on the calling thread's stream,
  // which may still be writing the buffer (the bucket's packing copies).
  Status after_callers_work(const std::string& what) {
    if (ready_ == nullptr) {
      MONE_RETURN_IF_ERROR(cuda(cudaEventCreateWithFlags(&ready_, cudaEventDisableTiming), "cudaEventCreate"));
    }
    MONE_RETURN_IF_ERROR(cuda(cudaEventRecord(ready_, cuda::current_stream()), what));
    return cuda(cudaStreamWaitEvent(stream_, ready_, 0), what);
  }
  Status enqueue_all_reduce(const Tensor& buffer, const std::string& op) {
    MONE_RETURN_IF_ERROR(check_buffer("all_reduce_sum", buffer, false));
    MONE_ASSIGN_OR_RETURN(ncclDataType_t type, nccl_type(buffer.dtype()));
    MONE_RETURN_IF_ERROR(after_callers_work(op));
    return enqueue(
        ncclAllReduce(buffer.raw_data(), buffer.raw_data(), buffer.numel(), type, ncclSum, comm_, stream_), op);
  }

  Status cuda(cudaError_t rc, const std::string& what) const {
    if (rc == cudaSuccess) return absl::OkStatus();
    return absl::InternalError(absl::StrCat(backend(), " ", what, " failed: ", cudaGetErrorString(rc)));
  }
  Status nccl(ncclResult_t rc, const std::string& what) {
    if (rc == ncclSuccess) return absl::OkStatus();
    broken_ = true;
    return absl::InternalError(absl::StrCat(backend(), " ", what, " failed: ", ncclGetErrorString(rc), " (",
                                            comm_ != nullptr ? ncclGetLastError(comm_) : "", ")"));
  }
  Status deadline_passed(const std::string& what) {
    broken_ = true;
    return absl::DeadlineExceededError(absl::StrCat(
        backend(), " ", what, " did not complete within ", timeout_s(),
        " s (collective_timeout_s): another rank died, hangs, or is that much slower; stopping the job"));
  }
  // A call of a non-blocking communicator returns ncclSuccess or ncclInProgress once queued.
  Status enqueue(ncclResult_t rc, const std::string& what) {
    if (rc == ncclSuccess || rc == ncclInProgress) return absl::OkStatus();
    return nccl(rc, what);
  }
  // Calls poll() (StatusOr<bool>: done yet?) until it is done or fails, or collective_timeout_s
  // passes: the one waiting loop of this communicator.
  template <typename Poll>
  Status poll_until(const std::string& what, Poll poll) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s());
    for (;;) {
      MONE_ASSIGN_OR_RETURN(const bool finished, poll());
      if (finished) return absl::OkStatus();
      if (Clock::now() > deadline) return deadline_passed(what);
      sched_yield();
    }
  }
  // The communicator's asynchronous state: its error if it has one, else whether a call is still
  // in progress.
  StatusOr<bool> in_progress(const std::string& what) {
    ncclResult_t state = ncclSuccess;
    MONE_RETURN_IF_ERROR(nccl(ncclCommGetAsyncError(comm_, &state), what));
    if (state == ncclInProgress) return true;
    MONE_RETURN_IF_ERROR(nccl(state, what));
    return false;
  }
  // Polls the communicator's asynchronous state until no call is in progress.
  Status settle(const std::string& what) {
    return poll_until(what, [&]() -> StatusOr<bool> {
      MONE_ASSIGN_OR_RETURN(const bool busy, in_progress(what));
      return !busy;
    });
  }
  // Polls the stream until its work is done, watching the communicator for errors.
  Status wait_stream(const std::string& what) {
    return poll_until(what, [&]() -> StatusOr<bool> {
      const cudaError_t q = cudaStreamQuery(stream_);
      if (q == cudaSuccess) return true;
      if (q != cudaErrorNotReady) return cuda(q, what);
      MONE_RETURN_IF_ERROR(in_progress(what).status());
      return false;
    });
  }
  Status finish(const Tensor& written, const std::string& what) {
    MONE_RETURN_IF_ERROR(settle(what));
    MONE_RETURN_IF_ERROR(wait_stream(what));
    written.bump_version();
    return absl::OkStatus();
  }

  std::unique_ptr<Communicator> bootstrap_;
  int device_ = 0;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t ready_ = nullptr;  // recorded on the caller's stream (after_callers_work)
  ncclComm_t comm_ = nullptr;
  bool broken_ = false;  // a failed or timed-out call: abort instead of finalising
};

}  // namespace

bool built_with_nccl() { return true; }

StatusOr<std::unique_ptr<Communicator>> open_nccl_communicator(std::unique_ptr<Communicator> bootstrap) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    return absl::FailedPreconditionError("NCCL communicator: no CUDA device is visible");
  }
  auto comm = std::make_unique<NcclCommunicator>(std::move(bootstrap), local_rank() % devices);
  MONE_RETURN_IF_ERROR(comm->init());
  return std::unique_ptr<Communicator>(std::move(comm));
}

}  // namespace mone::dist

#else  // built without NCCL

namespace mone::dist {

bool built_with_nccl() { return false; }

StatusOr<std::unique_ptr<Communicator>> open_nccl_communicator(std::unique_ptr<Communicator>) {
  return absl::FailedPreconditionError(
      "mone was built without NCCL: it needs the CUDA backend and nccl.h / libnccl (the CUDA toolkit's, or "
      "Debian's libnccl-dev); rebuild with -DMONE_CUDA=ON -DMONE_NCCL=ON");
}

}  // namespace mone::dist

#endif

#include "dist/mpi_communicator.h"

#include "dist/watchdog.h"

#if defined(MONE_WITH_MPI)

#include <mpi.h>

#include <climits>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace mone::dist {
namespace {

// MPI starts once per process and stops with its last communicator; it cannot start again.
std::mutex g_mpi_mutex;
int g_live_communicators = 0;
bool g_we_started_mpi = false;

std::string mpi_error(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) return absl::StrCat("MPI error ", code);
  return std::string(text, len);
}

// MPI's element type for `dtype`. Sums need an arithmetic type: MPI has no bf16.
StatusOr<MPI_Datatype> mpi_type(const char* op, DType dtype, bool summed) {
  switch (dtype) {
    case DType::kF32: return MPI_FLOAT;
    case DType::kF64: return MPI_DOUBLE;
    case DType::kI32: return MPI_INT32_T;
    case DType::kI64: return MPI_INT64_T;
    case DType::kBF16:
      if (!summed) return MPI_UINT16_T;  // moved as bits
      return absl::InvalidArgumentError(absl::StrCat(op, ": MPI cannot sum bf16; reduce in f32"));
  }
  return absl::InvalidArgumentError(absl::StrCat(op, ": unsupported dtype"));
}

// MPI counts are ints: long buffers go in pieces of at most this many elements.
constexpr int64_t kMaxCount = int64_t{1} << 30;

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm comm) : comm_(comm) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  ~MpiCommunicator() override {
    std::lock_guard<std::mutex> lock(g_mpi_mutex);
    MPI_Comm_free(&comm_);
    if (--g_live_communicators == 0 && g_we_started_mpi) MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int world_size() const override { return size_; }
  std::string backend() const override { return "MPI"; }

  Status all_reduce_sum(const Tensor& buffer) override {
    MONE_RETURN_IF_ERROR(check_buffer("all_reduce_sum", buffer, true));
    MONE_ASSIGN_OR_RETURN(MPI_Datatype type, mpi_type("all_reduce_sum", buffer.dtype(), true));
    return in_pieces(buffer, "all_reduce_sum", [&](void* p, int n) {
      return MPI_Allreduce(MPI_IN_PLACE, p, n, type, MPI_SUM, comm_);
    });
  }

  StatusOr<std::unique_ptr<PendingCollective>> start_all_reduce_sum(const Tensor& buffer) override {
    MONE_RETURN_IF_ERROR(check_buffer("all_reduce_sum", buffer, true));
    MONE_ASSIGN_OR_RETURN(MPI_Datatype type, mpi_type("all_reduce_sum", buffer.dtype(), true));
    auto pending = std::make_unique<Pending>(*this, buffer, absl::StrCat("all_reduce_sum of ", buffer.describe()));
    char* base = static_cast<char*>(buffer.raw_data());
    const size_t element = dtype_size(buffer.dtype());
    for (int64_t first = 0; first < buffer.numel(); first += kMaxCount) {
      const int n = static_cast<int>(std::min(kMaxCount, buffer.numel() - first));
      MPI_Request request;
      const int rc = MPI_Iallreduce(MPI_IN_PLACE, base + first * element, n, type, MPI_SUM, comm_, &request);
      if (rc != MPI_SUCCESS) return failed(pending->op, rc);
      pending->requests.push_back(request);
    }
    return std::unique_ptr<PendingCollective>(std::move(pending));
  }

  Status broadcast(const Tensor& buffer, int root) override {
    MONE_RETURN_IF_ERROR(check_buffer("broadcast", buffer, true));
    MONE_RETURN_IF_ERROR(check_root("broadcast", root, size_));
    MONE_ASSIGN_OR_RETURN(MPI_Datatype type, mpi_type("broadcast", buffer.dtype(), false));
    return in_pieces(buffer, "broadcast", [&](void* p, int n) { return MPI_Bcast(p, n, type, root, comm_); });
  }

  Status barrier() override { return guarded("barrier", [&] { return MPI_Barrier(comm_); }); }

  Status all_to_all(const Tensor& send, const Tensor& recv) override {
    MONE_RETURN_IF_ERROR(check_all_to_all(send, recv, size_, true));
    MONE_ASSIGN_OR_RETURN(MPI_Datatype type, mpi_type("all_to_all", send.dtype(), false));
    const int64_t per_rank = send.numel() / size_;
    if (per_rank > INT_MAX) {
      return absl::InvalidArgumentError(absl::StrCat("all_to_all: ", per_rank, " elements per rank exceed MPI's int count"));
    }
    const int n = static_cast<int>(per_rank);
    MONE_RETURN_IF_ERROR(guarded(absl::StrCat("all_to_all of ", send.describe()), [&] {
      return MPI_Alltoall(send.raw_data(), n, type, recv.raw_data(), n, type, comm_);
    }));
    recv.bump_version();
    return absl::OkStatus();
  }

  [[noreturn]] void abort(int exit_code) override {
    MPI_Abort(comm_, exit_code);
    std::_Exit(exit_code);  // MPI_Abort does not return; this is in case it did
  }

 private:
  // A non-blocking all-reduce: MPI_Iallreduce's requests, one per piece of the buffer.
  struct Pending final : PendingCollective {
    Pending(MpiCommunicator& c, Tensor b, std::string o) : comm(c), buffer(std::move(b)), op(std::move(o)) {}
    ~Pending() override {
      if (!done) (void)wait();
    }
    StatusOr<bool> poll() override {
      if (done) return true;
      int flag = 0;
      const int rc = MPI_Testall(static_cast<int>(requests.size()), requests.data(), &flag, MPI_STATUSES_IGNORE);
      if (rc != MPI_SUCCESS) return comm.failed(op, rc);
      if (flag) complete();
      return done;
    }
    Status wait() override {
      if (done) return absl::OkStatus();
      MONE_RETURN_IF_ERROR(comm.guarded(op, [&] {
        return MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE);
      }));
      complete();
      return absl::OkStatus();
    }
    void complete() {
      done = true;
      buffer.bump_version();
    }

    MpiCommunicator& comm;
    Tensor buffer;
    std::string op;
    std::vector<MPI_Request> requests;
    bool done = false;
  };

  Status failed(const std::string& op, int rc) const {
    return absl::InternalError(absl::StrCat(backend(), " ", op, " failed: ", mpi_error(rc),
                                            " (another rank may have died)"));
  }

  // Runs the blocking MPI call `run` under the watchdog; an MPI error becomes a Status naming `op`
  // (the collective and its buffer).
  template <typename Run>
  Status guarded(const std::string& op, Run run) {
    watchdog_.arm(absl::StrCat("MPI rank ", rank_, " of ", size_, ": ", op), timeout_s());
    const int rc = run();
    watchdog_.disarm();
    if (rc == MPI_SUCCESS) return absl::OkStatus();
    return failed(op, rc);
  }

  // Runs `run(pointer, count)` on consecutive pieces of at most kMaxCount elements.
  template <typename Run>
  Status in_pieces(const Tensor& buffer, const char* name, Run run) {
    const std::string op = absl::StrCat(name, " of ", buffer.describe());
    char* base = static_cast<char*>(buffer.raw_data());
    const size_t element = dtype_size(buffer.dtype());
    for (int64_t first = 0; first < buffer.numel(); first += kMaxCount) {
      const int n = static_cast<int>(std::min(kMaxCount, buffer.numel() - first));
      MONE_RETURN_IF_ERROR(guarded(op, [&] { return run(base + first * element, n); }));
    }
    buffer.bump_version();
    return absl::OkStatus();
  }

  MPI_Comm comm_;
  Watchdog watchdog_;
  int rank_ = 0, size_ = 1;
};

}  // namespace

bool built_with_mpi() { return true; }

StatusOr<std::unique_ptr<Communicator>> open_mpi_communicator() {
  std::lock_guard<std::mutex> lock(g_mpi_mutex);
  int finalized = 0, initialized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return absl::FailedPreconditionError("MPI was finalized in this process; it cannot start again");
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    const int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return absl::UnavailableError(absl::StrCat("MPI_Init_thread failed: ", mpi_error(rc)));
    g_we_started_mpi = true;
  }
  MPI_Comm comm;
  int rc = MPI_Comm_dup(MPI_COMM_WORLD, &comm);
  if (rc == MPI_SUCCESS) rc = MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
  if (rc != MPI_SUCCESS) return absl::UnavailableError(absl::StrCat("MPI_Comm_dup failed: ", mpi_error(rc)));
  ++g_live_communicators;
  return std::unique_ptr<Communicator>(new MpiCommunicator(comm));
}

}  // namespace mone::dist

#else  // built without MPI

namespace mone::dist {

bool built_with_mpi() { return false; }

StatusOr<std::unique_ptr<Communicator>> open_mpi_communicator() {
  return absl::FailedPreconditionError(
      "mone was built without MPI: install libopenmpi-dev and openmpi-bin (scripts/setup.sh does) and rebuild "
      "with -DMONE_MPI=ON");
}

}  // namespace mone::dist

#endif

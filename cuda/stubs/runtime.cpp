// Built without CUDA: stands in for cuda/runtime.cpp.
#include "cuda/runtime.h"

namespace mone::cuda {

namespace {
Status no_cuda(const char* what) {
  return absl::FailedPreconditionError(absl::StrCat(what, ": mone was built without CUDA (configure with -DMONE_CUDA=ON)"));
}
}  // namespace

bool built_with_cuda() { return false; }
std::string describe_devices() { return "built without CUDA"; }
StatusOr<DeviceInfo> device_info(int) { return no_cuda("device_info"); }
Status set_device(int) { return no_cuda("set_device"); }
Status synchronize(cudaStream_t, const char* op) { return no_cuda(op); }
StatusOr<Stream> Stream::create(int) { return no_cuda("Stream::create"); }
Stream& Stream::operator=(Stream&& other) noexcept {
  stream_ = other.stream_;
  other.stream_ = nullptr;
  return *this;
}
Stream::~Stream() = default;
cudaStream_t current_stream() { return nullptr; }
cudaError_t memset_zero(void*, size_t, cudaStream_t) { return cudaErrorNoDevice; }
StreamGuard::StreamGuard(cudaStream_t) : previous_(nullptr) {}
StreamGuard::~StreamGuard() = default;

}  // namespace mone::cuda

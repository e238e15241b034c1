// Built without CUDA: stands in for cuda/runtime.cpp.
#include "cuda/runtime.h"

namespace mone::cuda {

bool built_with_cuda() { return false; }
std::string describe_devices() { return "built without CUDA"; }
cudaStream_t current_stream() { return nullptr; }
StreamGuard::StreamGuard(cudaStream_t) : previous_(nullptr) {}
StreamGuard::~StreamGuard() = default;

}  // namespace mone::cuda

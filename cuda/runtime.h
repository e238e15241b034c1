// The CUDA runtime as mone sees it: which devices there are, and per-device handles.
// Plain C++ header: ops/ includes it without nvcc. Built without CUDA, it reports no devices.
#pragma once

#include <string>

namespace mone::cuda {

// True when this binary was built with the CUDA backend.
bool built_with_cuda();
// One line per visible GPU ("cuda:0 NVIDIA H100 80GB HBM3, sm_90, 79.1 GiB"), or why there is none.
std::string describe_devices();

}  // namespace mone::cuda

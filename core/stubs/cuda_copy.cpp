// Built without CUDA: stands in for core/cuda_copy.cu. Nothing to define: its only callers,
// core/cuda_memory.cpp and core/cuda_random.cpp, are replaced by their own stubs.

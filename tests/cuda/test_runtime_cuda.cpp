// The CUDA runtime (cuda/runtime.h) and the caching allocator (core/cuda_memory.h): devices,
// streams, reuse of freed blocks, and the byte counts reported in metrics.jsonl.
#include <doctest/doctest.h>

#include "core/cuda_memory.h"
#include "cuda/runtime.h"
#include "ops/elementwise.h"
#include "tests/cuda/cuda_test_util.h"

using namespace mone;
using namespace mone::cuda_test;

TEST_SUITE("cuda") {

TEST_CASE("cuda: the runtime names the build and the devices") {
  CHECK(cuda::built_with_cuda() == (cuda::describe_devices() != "built without CUDA"));
  if (skip_without_gpu()) {
    CHECK_FALSE(cuda::device_info(0).ok());
    return;
  }
  const cuda::DeviceInfo info = value_or_die(cuda::device_info(0));
  CHECK_FALSE(info.name.empty());
  CHECK(info.multiprocessors > 0);
  CHECK(cuda::describe_devices().find(info.name) != std::string::npos);
  CHECK_FALSE(cuda::device_info(cuda_device_count()).ok());  // one past the last: a Status
}

TEST_CASE("cuda: the caching allocator reuses a freed block and counts current and peak bytes") {
  if (skip_without_gpu()) return;
  cuda_memory::reset_peak(0);
  const cuda_memory::MemoryStats before = cuda_memory::memory_stats(0);
  void* first = nullptr;
  {
    // 3 MiB + 1 byte: the 2 MiB size classes round it to 4 MiB.
    const Tensor t = value_or_die(Tensor::empty({3 * 1048576 + 1}, DType::kBF16, Device::cuda()));
    first = t.raw_data();
    const cuda_memory::MemoryStats during = cuda_memory::memory_stats(0);
    CHECK(during.current_bytes == before.current_bytes + 8 * 1048576);  // 6 MiB + 2 bytes of bf16 -> 8 MiB
    CHECK(during.peak_bytes >= during.current_bytes);
  }
  const cuda_memory::MemoryStats after = cuda_memory::memory_stats(0);
  CHECK(after.current_bytes == before.current_bytes);
  CHECK(after.peak_bytes == before.current_bytes + 8 * 1048576);
  CHECK(after.cached_bytes >= 8 * 1048576);
  // The same size class comes back from the cache: the same block.
  const Tensor again = value_or_die(Tensor::empty({3 * 1048576 + 5}, DType::kBF16, Device::cuda()));
  CHECK(again.raw_data() == first);
  // A device that does not exist: a Status, not a crash.
  CHECK_FALSE(Tensor::empty({4}, DType::kF32, Device::cuda(cuda_device_count())).ok());
}

TEST_CASE("cuda: ops launch on the thread's current stream, which a StreamGuard sets") {
  if (skip_without_gpu()) return;
  CHECK(cuda::current_stream() == nullptr);
  cuda::Stream stream = value_or_die(cuda::Stream::create(0));
  const Tensor a = random({1000}, 4), b = random({1000}, 5);
  {
    cuda::StreamGuard guard(stream.get());
    CHECK(cuda::current_stream() == stream.get());
    const Tensor sum = value_or_die(ops::add(to_gpu(a), to_gpu(b)));
    CHECK(cuda::synchronize(stream.get(), "add").ok());
    check_close("add (stream)", sum, value_or_die(ops::add(a, b)), 0.0);
  }
  CHECK(cuda::current_stream() == nullptr);
}

}  // TEST_SUITE

// The host caching allocator: freed blocks of a size class come back, small blocks do not stay,
// and the statistics follow.
#include <doctest/doctest.h>

#include <cstdint>

#include "core/cpu_memory.h"

using namespace mone;

TEST_SUITE("unit") {

TEST_CASE("cpu_memory: a released block is handed out again for any size of its class") {
  cpu_memory::empty_cache();
  const cpu_memory::Stats before = cpu_memory::stats();
  void* a = cpu_memory::allocate(100'000);
  REQUIRE(a != nullptr);
  CHECK(reinterpret_cast<uintptr_t>(a) % cpu_memory::kAlignment == 0);
  CHECK(cpu_memory::stats().in_use >= before.in_use + 100'000);
  cpu_memory::release(a, 100'000);
  CHECK(cpu_memory::stats().cached >= 100'000);
  // 100,000 and 98,400 bytes share a class (multiples of 8 KiB between 64 and 128 KiB): the same block.
  void* b = cpu_memory::allocate(98'400);
  CHECK(b == a);
  CHECK(cpu_memory::stats().cached == before.cached);
  // Another class: a fresh block.
  void* c = cpu_memory::allocate(200'000);
  CHECK(c != a);
  cpu_memory::release(b, 98'400);
  cpu_memory::release(c, 200'000);
  CHECK(cpu_memory::stats().in_use == before.in_use);
  CHECK(cpu_memory::stats().peak >= before.in_use + 100'000 + 200'000);
  cpu_memory::empty_cache();
  CHECK(cpu_memory::stats().cached == 0);
}

TEST_CASE("cpu_memory: Scratch gives an aligned array back to the cache when it goes out of scope") {
  cpu_memory::empty_cache();
  const size_t in_use = cpu_memory::stats().in_use;
  float* p = nullptr;
  {
    cpu_memory::Scratch<float> s(40'000);
    p = s.data();
    for (int64_t i = 0; i < s.size(); ++i) s[i] = static_cast<float>(i);
    CHECK(s[39'999] == 39'999.0f);
    CHECK(cpu_memory::stats().in_use >= in_use + 160'000);
  }
  CHECK(cpu_memory::stats().in_use == in_use);
  cpu_memory::Scratch<float> again(40'000);
  CHECK(again.data() == p);
}

}  // TEST_SUITE

// What the CPU running mone can do, asked once at run time: the build targets any x86-64, and
// the kernels with AVX2 + FMA code (ops/cpu/gathered.cpp, ops/cpu/vec_exp.h's users) take it only
// where this says yes, keeping their portable loops elsewhere.
#pragma once

namespace mone::ops::cpu {

// AVX2 and FMA3 together (every x86-64 CPU since about 2013 has both or neither).
inline bool has_avx2_fma() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

}  // namespace mone::ops::cpu

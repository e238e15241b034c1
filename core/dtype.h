// Element types and devices. The dtype is chosen at run time, so one binary tests f32, f64, bf16.
// Plain C++17 (no Abseil): cuda/*.cu include it for DType and bf16 in launcher signatures.
#pragma once

#include <cstdint>
#include <string>

#include "core/bf16.h"

namespace mone {

enum class DType : uint8_t { kF32, kF64, kBF16, kI32, kI64 };

size_t dtype_size(DType t);
const char* dtype_name(DType t);
bool is_floating(DType t);

// Maps a C++ element type to its DType: dtype_of<float>() == DType::kF32.
template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::kF32; }
template <> constexpr DType dtype_of<double>() { return DType::kF64; }
template <> constexpr DType dtype_of<bf16>() { return DType::kBF16; }
template <> constexpr DType dtype_of<int32_t>() { return DType::kI32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::kI64; }

enum class DeviceType : uint8_t { kCPU, kCUDA };

struct Device {
  DeviceType type = DeviceType::kCPU;
  int index = 0;
  static Device cpu() { return {DeviceType::kCPU, 0}; }
  static Device cuda(int i = 0) { return {DeviceType::kCUDA, i}; }
  bool is_cpu() const { return type == DeviceType::kCPU; }
  bool is_cuda() const { return type == DeviceType::kCUDA; }
  // Written out (not `= default`) so the header stays C++17: the .cu files include it.
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string to_string() const;
};

}  // namespace mone

#include "core/dtype.h"

#include "absl/strings/str_cat.h"

namespace mone {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kF32: return 4;
    case DType::kF64: return 8;
    case DType::kBF16: return 2;
    case DType::kI32: return 4;
    case DType::kI64: return 8;
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "f32";
    case DType::kF64: return "f64";
    case DType::kBF16: return "bf16";
    case DType::kI32: return "i32";
    case DType::kI64: return "i64";
  }
  return "?";
}

bool is_floating(DType t) { return t == DType::kF32 || t == DType::kF64 || t == DType::kBF16; }

DType accumulation_dtype(DType t) { return t == DType::kBF16 ? DType::kF32 : t; }

std::string Device::to_string() const {
  return is_cpu() ? std::string("cpu") : absl::StrCat("cuda:", index);
}

}  // namespace mone

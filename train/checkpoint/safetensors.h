// safetensors: Hugging Face's tensor file format, read and written by our own code.
//
// Layout (all integers little-endian):
//   bytes [0, 8)        N, a u64: the length of the JSON header
//   bytes [8, 8 + N)    the header, UTF-8 JSON, padded with spaces to a multiple of 8:
//                         {"__metadata__": {"k": "v", ...},        (optional, strings only)
//                          "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [b, e]}, ...}
//   bytes [8 + N, end)  the data buffer; tensor `name` is bytes [b, e) of it, row-major.
// The tensors must tile the buffer exactly: sorted by offset, each begins where the previous one
// ends, the last ends at the end of the file, and e - b == numel * dtype size.
//
// The writer follows the reference serialiser byte for byte (compact JSON, "__metadata__" first,
// keys "dtype", "shape", "data_offsets"), except that tensors keep the caller's order instead of
// being sorted by dtype and name. The reader applies every check of the reference reader.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/tensor.h"

namespace mone::train {

// The header is refused above this size, as in the reference implementation.
inline constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

struct SafetensorsFile {
  std::vector<std::string> names;         // in file (data offset) order
  std::map<std::string, Tensor> tensors;  // contiguous CPU tensors
  std::map<std::string, std::string> metadata;
  // The dtype each tensor has in the file ("F32", "BF16", "F16", ...): F16 tensors are read
  // into F32 (exactly: every half is a float), since mone has no f16 element type.
  std::map<std::string, std::string> stored_dtypes;
};

// Writes `tensors` contiguously in the given order (CUDA tensors are copied to the CPU one at a
// time) through write_file_atomic: a failure never leaves a partial file at `path`.
// Names must be unique, non-empty and not "__metadata__".
Status write_safetensors(const std::string& path,
                         const std::vector<std::pair<std::string, Tensor>>& tensors,
                         const std::map<std::string, std::string>& metadata = {});

// Reads and validates a whole file; every error names the file and the tensor or field.
// Supported dtypes: F32, F64, BF16, I32, I64, and F16 read as F32 (other valid safetensors dtypes
// are a clear error).
StatusOr<SafetensorsFile> read_safetensors(const std::string& path);

// "F32" <-> DType::kF32 etc.
const char* safetensors_dtype_name(DType dtype);

}  // namespace mone::train

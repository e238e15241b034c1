// read_safetensors: every check of the reference reader (huggingface/safetensors
// SafeTensors::read_metadata and Metadata::validate), each with its own message, then one pread
// per tensor straight into its storage (no second copy of the file in memory).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>

#include "core/file_io.h"
#include "train/checkpoint/json_file.h"
#include "train/checkpoint/safetensors.h"

namespace mone::train {
namespace {

using Json = nlohmann::json;

// One header entry, checked on its own (the layout of all entries is checked afterwards).
struct Entry {
  std::string name;
  DType dtype;         // of the tensor in memory
  bool f16 = false;    // stored as IEEE half (2 bytes), read into an F32 tensor
  Shape shape;
  uint64_t begin;
  uint64_t end;
};

// IEEE 754 half -> float, exactly (every half is a float): sign, 5-bit exponent (bias 15),
// 10-bit mantissa; exponent 0 holds zeros and subnormals, 31 infinities and NaNs.
float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  uint32_t bits;
  if (exponent == 0x1fu) {  // inf or NaN (the payload kept)
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {  // normal: rebias 15 -> 127
    bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {  // ±0
    bits = sign;
  } else {  // subnormal m·2^-24: shift the leading 1 into the implicit bit
    int shift = 0;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      ++shift;
    }
    bits = sign | ((113u - static_cast<uint32_t>(shift)) << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Closes the descriptor on every return path.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Reads exactly nbytes at `offset`; a short read means the file shrank while we read it.
Status pread_exact(int fd, void* dst, uint64_t nbytes, uint64_t offset, const std::string& path) {
  char* p = static_cast<char*>(dst);
  while (nbytes > 0) {
    ssize_t n = ::pread(fd, p, nbytes, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status(errno, "read", path);
    if (n == 0) {
      return absl::DataLossError(absl::StrCat(path, ": unexpected end of file at byte ", offset));
    }
    p += n;
    nbytes -= static_cast<uint64_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

// The entry's dtype: one of mone's, or F16 (read as F32).
Status parse_dtype(const Json& value, Entry& e) {
  if (!value.is_string()) return absl::InvalidArgumentError("\"dtype\" must be a string");
  const std::string& s = value.get_ref<const std::string&>();
  for (DType d : {DType::kF32, DType::kF64, DType::kBF16, DType::kI32, DType::kI64}) {
    if (s == safetensors_dtype_name(d)) {
      e.dtype = d;
      return absl::OkStatus();
    }
  }
  if (s == "F16") {
    e.dtype = DType::kF32;
    e.f16 = true;
    return absl::OkStatus();
  }
  // Valid in the format, but mone has no such element type.
  static const std::array<const char*, 14> kOtherKnown = {
      "BOOL", "U8",  "I8",  "F8_E5M2", "F8_E4M3", "F8_E8M0", "I16",
      "U16",  "U32", "U64", "C64",     "F4",      "F6_E2M3", "F6_E3M2"};
  if (std::find(kOtherKnown.begin(), kOtherKnown.end(), s) != kOtherKnown.end()) {
    return absl::UnimplementedError(
        absl::StrCat("dtype ", s, " is not supported by mone (F32, F64, BF16, F16, I32, I64 are)"));
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown dtype \"", s, "\""));
}

// A non-negative integer that fits an int64 (JSON numbers >= 0 parse as unsigned).
bool is_size(const Json& v) {
  return v.is_number_unsigned() &&
         v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
}

// Checks one tensor entry against the dtype table and the data buffer size; a Status whose
// message is the problem only (the caller adds file and tensor name).
Status parse_entry(const Json& value, uint64_t buffer_bytes, Entry& e) {
  if (!value.is_object()) {
    return absl::InvalidArgumentError(
        "expected an object with \"dtype\", \"shape\" and \"data_offsets\"");
  }
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!value.contains(field)) {
      return absl::InvalidArgumentError(absl::StrCat("missing field \"", field, "\""));
    }
  }
  MONE_RETURN_IF_ERROR(parse_dtype(value["dtype"], e));

  const Json& shape = value["shape"];
  if (!shape.is_array() || !std::all_of(shape.begin(), shape.end(), is_size)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"shape\" must be a list of non-negative integers, got ", shape.dump()));
  }
  for (const Json& d : shape) e.shape.push_back(d.get<int64_t>());

  const Json& offsets = value["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"data_offsets\" must be two non-negative integers [begin, end], got ", offsets.dump()));
  }
  e.begin = offsets[0].get<uint64_t>();
  e.end = offsets[1].get<uint64_t>();
  if (e.begin > e.end) {
    return absl::InvalidArgumentError(
        absl::StrCat("data_offsets [", e.begin, ", ", e.end, "] end before they begin"));
  }

  // numel * element size, refusing overflow as the reference does.
  uint64_t nbytes = e.f16 ? 2 : dtype_size(e.dtype);
  for (int64_t d : e.shape) {
    if (__builtin_mul_overflow(nbytes, static_cast<uint64_t>(d), &nbytes)) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape ", shape_string(e.shape), " overflows 64-bit byte counts"));
    }
  }
  if (e.end - e.begin != nbytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "data_offsets [", e.begin, ", ", e.end, "] hold ", e.end - e.begin, " bytes but ",
        e.f16 ? "F16" : safetensors_dtype_name(e.dtype), " ", shape_string(e.shape), " needs ", nbytes));
  }
  if (e.end > buffer_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("data_offsets [", e.begin, ", ", e.end,
                                                   "] run past the end of the ", buffer_bytes,
                                                   "-byte data buffer"));
  }
  return absl::OkStatus();
}

Status parse_metadata(const Json& value, std::map<std::string, std::string>& out) {
  if (!value.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"__metadata__\" must be an object of strings, got ", value.type_name()));
  }
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"__metadata__\" must map strings to strings, but \"", key, "\" is a ", v.type_name()));
    }
    out[key] = v.get<std::string>();
  }
  return absl::OkStatus();
}

// The tensors, sorted by offset, must tile [0, buffer_bytes) with no hole and no overlap.
Status check_coverage(const std::vector<Entry>& sorted, uint64_t buffer_bytes) {
  uint64_t expected = 0;
  const std::string* previous = nullptr;
  for (const Entry& e : sorted) {
    if (e.begin > expected) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor \"", e.name, "\" starts at byte ", e.begin,
                       " of the data buffer, leaving bytes [", expected, ", ", e.begin,
                       ") unused: tensors must cover the buffer without holes"));
    }
    if (e.begin < expected) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor \"", e.name, "\" (data_offsets [", e.begin, ", ", e.end,
                       "]) overlaps tensor \"", *previous, "\" which ends at byte ", expected));
    }
    expected = e.end;
    previous = &e.name;
  }
  if (expected != buffer_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("the tensors cover ", expected,
                                                   " bytes but the data buffer holds ",
                                                   buffer_bytes, " (trailing bytes)"));
  }
  return absl::OkStatus();
}

// Prefixes a status message with the file (and tensor), keeping its code.
Status in_file(const Status& s, const std::string& path, const std::string& tensor = "") {
  if (s.ok()) return s;
  std::string where = tensor.empty() ? path : absl::StrCat(path, ": tensor \"", tensor, "\"");
  return Status(s.code(), absl::StrCat(where, ": ", s.message()));
}

}  // namespace

StatusOr<SafetensorsFile> read_safetensors(const std::string& path) {
  auto bad = [&](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", parts...));
  };
  Fd file;
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file.fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": file does not exist"));
    return errno_status(errno, "open", path);
  }
  struct stat st;
  if (::fstat(file.fd, &st) != 0) return errno_status(errno, "stat", path);
  if (!S_ISREG(st.st_mode)) return bad("not a regular file");
  const uint64_t file_bytes = static_cast<uint64_t>(st.st_size);

  // 1. The header length.
  if (file_bytes < 8) {
    return bad("file is ", file_bytes, " bytes, too short for the 8-byte header length");
  }
  uint64_t n = 0;
  MONE_RETURN_IF_ERROR(pread_exact(file.fd, &n, 8, 0, path));
  if (n > kSafetensorsMaxHeaderBytes) {
    return bad("header length ", n, " exceeds the limit of ", kSafetensorsMaxHeaderBytes, " bytes");
  }
  if (n > file_bytes - 8) {
    return bad("header length ", n, " runs past the end of the file (", file_bytes, " bytes)");
  }

  // 2. The header: UTF-8 JSON, an object, no duplicate keys.
  std::string text(n, '\0');
  MONE_RETURN_IF_ERROR(pread_exact(file.fd, text.data(), n, 8, path));
  if (text.empty() || text[0] != '{') return bad("header must be a JSON object starting with '{'");
  std::vector<std::string> keys;  // in header order
  MONE_ASSIGN_OR_RETURN(Json header, parse_json_text(text, absl::StrCat(path, " header"), &keys));
  if (!header.is_object()) return bad("header is not a JSON object");

  // 3. Each entry on its own, then the layout of all of them.
  const uint64_t buffer_bytes = file_bytes - 8 - n;
  SafetensorsFile out;
  std::vector<Entry> entries;
  for (const std::string& key : keys) {
    const Json& value = header.at(key);
    if (key == "__metadata__") {
      MONE_RETURN_IF_ERROR(in_file(parse_metadata(value, out.metadata), path));
      continue;
    }
    Entry e{key, DType::kF32, false, {}, 0, 0};
    Status s = parse_entry(value, buffer_bytes, e);
    if (!s.ok()) return in_file(s, path, key);
    entries.push_back(std::move(e));
  }
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::pair(a.begin, a.end) < std::pair(b.begin, b.end);
  });
  MONE_RETURN_IF_ERROR(in_file(check_coverage(entries, buffer_bytes), path));

  // 4. The data, one read per tensor.
  for (const Entry& e : entries) {
    MONE_ASSIGN_OR_RETURN(Tensor t, Tensor::empty(e.shape, e.dtype));
    if (e.f16) {  // the halves, then each widened into its float
      std::vector<uint16_t> halves(static_cast<size_t>(t.numel()));
      MONE_RETURN_IF_ERROR(pread_exact(file.fd, halves.data(), e.end - e.begin, 8 + n + e.begin, path));
      float* dst = t.data<float>();
      for (size_t i = 0; i < halves.size(); ++i) dst[i] = half_to_float(halves[i]);
    } else {
      MONE_RETURN_IF_ERROR(pread_exact(file.fd, t.raw_data(), e.end - e.begin, 8 + n + e.begin, path));
    }
    out.names.push_back(e.name);
    out.stored_dtypes.emplace(e.name, e.f16 ? "F16" : safetensors_dtype_name(e.dtype));
    out.tensors.emplace(e.name, std::move(t));
  }
  return out;
}

}  // namespace mone::train

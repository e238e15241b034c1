// write_safetensors: the header as the reference serialiser writes it, then the tensors' bytes.
#include <bit>
#include <set>

#include "absl/strings/str_join.h"
#include "core/file_io.h"
#include "train/checkpoint/json_file.h"
#include "train/checkpoint/safetensors.h"

namespace mone::train {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian data; mone writes its memory as is");

const char* safetensors_dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "F32";
    case DType::kF64: return "F64";
    case DType::kBF16: return "BF16";
    case DType::kI32: return "I32";
    case DType::kI64: return "I64";
  }
  MONE_CHECK(false) << "unhandled dtype " << static_cast<int>(dtype);
  return "";
}

namespace {

// The compact header text
// {"__metadata__":{...},"name":{"dtype":..,"shape":..,"data_offsets":..},..} in the caller's order,
// data offsets counted from the start of the data buffer; built entry by entry (an ordered_json
// object would insert in linear time). Also checks names and tensors.
StatusOr<std::string> build_header(const std::string& path,
                                   const std::vector<std::pair<std::string, Tensor>>& tensors,
                                   const std::map<std::string, std::string>& metadata) {
  auto bad = [&](const std::string& name, const std::string& problem) {
    return absl::InvalidArgumentError(
        absl::StrCat("write_safetensors ", path, ": tensor \"", name, "\": ", problem));
  };
  std::vector<std::string> entries;
  if (!metadata.empty()) {
    MONE_ASSIGN_OR_RETURN(std::string m, dump_json(nlohmann::json(metadata), -1, path));
    entries.push_back(absl::StrCat("\"__metadata__\":", m));
  }
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name.empty()) return bad(name, "the name is empty");
    if (name == "__metadata__") return bad(name, "the name is reserved for file metadata");
    if (!seen.insert(name).second) return bad(name, "the name appears twice");
    if (!t.defined()) return bad(name, "the tensor is undefined");
    if (!t.device().is_cpu() && !t.is_contiguous()) {
      return bad(name, absl::StrCat("a strided ", t.describe(), " view: make it contiguous first"));
    }
    nlohmann::ordered_json info = nlohmann::ordered_json::object();
    info["dtype"] = safetensors_dtype_name(t.dtype());
    info["shape"] = t.shape();
    info["data_offsets"] = nlohmann::ordered_json::array({offset, offset + t.nbytes()});
    offset += t.nbytes();
    MONE_ASSIGN_OR_RETURN(std::string key, dump_json(nlohmann::json(name), -1, path));
    MONE_ASSIGN_OR_RETURN(std::string value, dump_json(info, -1, path));
    entries.push_back(absl::StrCat(key, ":", value));
  }
  return absl::StrCat("{", absl::StrJoin(entries, ","), "}");
}

// One tensor's bytes, row-major, copied to the CPU / made contiguous only when needed.
Status write_tensor_bytes(FileSink& sink, const Tensor& t) {
  Tensor host = t;
  if (!host.device().is_cpu()) {
    MONE_ASSIGN_OR_RETURN(host, t.to(Device::cpu()));
  }
  host = host.contiguous();
  return sink.write(host.raw_data(), host.nbytes());
}

}  // namespace

Status write_safetensors(const std::string& path,
                         const std::vector<std::pair<std::string, Tensor>>& tensors,
                         const std::map<std::string, std::string>& metadata) {
  MONE_ASSIGN_OR_RETURN(std::string text, build_header(path, tensors, metadata));
  // Pad with spaces so the data buffer starts 8-byte aligned (8 + N is a multiple of 8).
  text.append((8 - text.size() % 8) % 8, ' ');

  return write_file_atomic(path, [&](FileSink& sink) -> Status {
    uint64_t n = text.size();  // little-endian, as static_asserted above
    MONE_RETURN_IF_ERROR(sink.write(&n, sizeof(n)));
    MONE_RETURN_IF_ERROR(sink.write(text));
    for (const auto& [name, t] : tensors) MONE_RETURN_IF_ERROR(write_tensor_bytes(sink, t));
    return absl::OkStatus();
  });
}

}  // namespace mone::train

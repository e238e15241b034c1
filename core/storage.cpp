#include "core/storage.h"

#include <cstdlib>
#include <cstring>

#include "core/cpu_memory.h"
#include "core/cuda_memory.h"

namespace mone {

StatusOr<std::shared_ptr<Storage>> Storage::allocate(size_t nbytes, Device device) {
  void* data = nullptr;
  if (device.is_cpu()) {
    data = cpu_memory::allocate(nbytes);
    if (data == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat("out of CPU memory allocating ", nbytes, " bytes"));
    }
  } else {
    MONE_ASSIGN_OR_RETURN(data, cuda_memory::allocate(nbytes, device.index));
  }
  return std::shared_ptr<Storage>(new Storage(data, nbytes, device));
}

Storage::~Storage() {
  if (device_.is_cpu()) {
    cpu_memory::release(data_, nbytes_);
  } else {
    cuda_memory::release(data_, nbytes_, device_.index);
  }
}

Status copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes) {
  if (nbytes == 0) return absl::OkStatus();
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, nbytes);
    return absl::OkStatus();
  }
  return cuda_memory::copy(dst, dst_device.is_cuda(), src, src_device.is_cuda(), nbytes);
}

int cuda_device_count() { return cuda_memory::device_count(); }

}  // namespace mone

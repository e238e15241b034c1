// SHA-256 (OpenSSL EVP) as lowercase hex, for checkpoint manifests.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace mone::train {

// sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
std::string sha256_hex(std::string_view bytes);

// Streams the file in 1 MiB chunks; errors name the file.
StatusOr<std::string> sha256_hex_file(const std::string& path);

}  // namespace mone::train

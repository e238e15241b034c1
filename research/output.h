// Where the research commands put their files: one output directory (mkdir -p), each file written
// atomically (core/file_io.h), so a crash never leaves half a JSON or SVG behind.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace mone::research {

// Writes dir/name atomically, creating dir first when missing; returns the path written.
StatusOr<std::string> write_output(const std::string& dir, const std::string& name, std::string_view contents);

// "%.6g" for tables and CSV.
std::string fmt(double v);

// a / b as a double, 0 when b is 0 (a share of nothing).
inline double ratio(int64_t a, int64_t b) { return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : 0.0; }

}  // namespace mone::research

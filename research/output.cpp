#include "research/output.h"

#include <cstdio>

#include "core/file_io.h"

namespace mone::research {

StatusOr<std::string> write_output(const std::string& dir, const std::string& name, std::string_view contents) {
  MONE_RETURN_IF_ERROR(make_directories(dir));
  const std::string path = join_path(dir, name);
  MONE_RETURN_IF_ERROR(write_string_atomic(path, contents));
  return path;
}

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace mone::research

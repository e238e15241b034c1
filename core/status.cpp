#include "core/status.h"

#include <cstdio>
#include <cstdlib>

namespace mone::internal {

void check_failed(const char* file, int line, const std::string& message) {
  std::fprintf(stderr, "%s:%d: %s\n(this is a bug in mone; please report it)\n", file, line,
               message.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace mone::internal

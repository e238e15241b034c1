// Substring checks for test output (C++20's std::string has no contains yet).
#pragma once

#include <string_view>

namespace mone_testing {

inline bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

}  // namespace mone_testing

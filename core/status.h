// Status helpers on Abseil, and the CHECK macro for mone's own invariants.
//
// Anything a user can reach (files, specs, flags, shapes from a config) returns absl::Status or
// absl::StatusOr<T>; MONE_RETURN_IF_ERROR and MONE_ASSIGN_OR_RETURN pass failures up.
// MONE_CHECK* abort with file:line and the compared values: a failing CHECK is a bug in mone.
#pragma once

#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace mone {

using absl::Status;
using absl::StatusOr;

namespace internal {
// Prints "file:line: CHECK failed: <expr> <detail>" to stderr and aborts.
[[noreturn]] void check_failed(const char* file, int line, const std::string& message);

// Streams the detail of a failed CHECK; aborts in its destructor.
class CheckMessage {
 public:
  CheckMessage(const char* file, int line, std::string head) : file_(file), line_(line) {
    stream_ << head;
  }
  [[noreturn]] ~CheckMessage() { check_failed(file_, line_, stream_.str()); }
  template <typename T>
  CheckMessage& operator<<(const T& value) {
    stream_ << value;
    return *this;
  }

 private:
  const char* file_;
  int line_;
  std::ostringstream stream_;
};

// Swallows the stream in the passing branch of MONE_CHECK so `<< ...` always compiles.
struct Voidify {
  void operator&(const CheckMessage&) {}
};
}  // namespace internal

}  // namespace mone

#define MONE_STATUS_CONCAT_INNER(a, b) a##b
#define MONE_STATUS_CONCAT(a, b) MONE_STATUS_CONCAT_INNER(a, b)

// Returns the status from the enclosing function if `expr` is not OK.
#define MONE_RETURN_IF_ERROR(expr)                  \
  do {                                              \
    ::absl::Status mone_status_ = (expr);           \
    if (!mone_status_.ok()) return mone_status_;    \
  } while (0)

// MONE_ASSIGN_OR_RETURN(auto x, f()): declares x from a StatusOr, or returns its error.
#define MONE_ASSIGN_OR_RETURN(lhs, expr) \
  MONE_ASSIGN_OR_RETURN_IMPL(MONE_STATUS_CONCAT(mone_statusor_, __LINE__), lhs, expr)
#define MONE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

// MONE_CHECK(cond) << "context"; aborts with file:line when cond is false.
#define MONE_CHECK(cond)                    \
  (cond) ? (void)0                          \
         : ::mone::internal::Voidify() &    \
               ::mone::internal::CheckMessage(__FILE__, __LINE__, "CHECK failed: " #cond " ")

#define MONE_CHECK_OP(a, op, b)                                                              \
  ((a)op(b)) ? (void)0                                                                       \
             : ::mone::internal::Voidify() &                                                 \
                   ::mone::internal::CheckMessage(__FILE__, __LINE__,                        \
                                                  "CHECK failed: " #a " " #op " " #b " ")    \
                       << "(" << (a) << " vs " << (b) << ") "
#define MONE_CHECK_EQ(a, b) MONE_CHECK_OP(a, ==, b)
#define MONE_CHECK_NE(a, b) MONE_CHECK_OP(a, !=, b)
#define MONE_CHECK_LT(a, b) MONE_CHECK_OP(a, <, b)
#define MONE_CHECK_LE(a, b) MONE_CHECK_OP(a, <=, b)
#define MONE_CHECK_GT(a, b) MONE_CHECK_OP(a, >, b)
#define MONE_CHECK_GE(a, b) MONE_CHECK_OP(a, >=, b)

// Unwraps a StatusOr inside mone's own code and tests, where failure is a bug.
#define MONE_CHECK_OK(expr) MONE_CHECK_OK_IMPL(MONE_STATUS_CONCAT(mone_checkok_, __LINE__), expr)
#define MONE_CHECK_OK_IMPL(tmp, expr)                          \
  do {                                                         \
    ::absl::Status tmp = ::mone::internal::to_status(expr);    \
    MONE_CHECK(tmp.ok()) << tmp.message();                     \
  } while (0)

namespace mone::internal {
inline absl::Status to_status(const absl::Status& s) { return s; }
template <typename T>
absl::Status to_status(const absl::StatusOr<T>& s) {
  return s.status();
}
}  // namespace mone::internal

namespace mone {
// value_or_die(f()): the value of a StatusOr that cannot fail unless mone has a bug.
template <typename T>
T value_or_die(absl::StatusOr<T> s, const char* what = "") {
  if (!s.ok()) internal::check_failed("value_or_die", 0, absl::StrCat(what, " ", s.status().ToString()));
  return std::move(s).value();
}
}  // namespace mone

// Check macros. One generator, LLCB_CHECK_STATUS, makes the checks for every C library boundary
// (LAPACK info codes here; CUDA, cuBLAS, NCCL and MPI status codes in their own layers):
//
//   LLCB_CHECK_STATUS(call, ok, describe, Exception)
//     evaluates `call` once; if the status differs from `ok`, throws Exception with
//     "<call text> failed at file:line: <describe(status)>".
//
//   LLCB_CHECK(cond, message)    invariant of llcbench itself; throws InternalError.
//   LLCB_REQUIRE(cond, message)  validation of user input; throws UsageError with `message`.
#pragma once

#include <string>

#include "lib/core/error.hpp"

namespace llcb::detail {

inline std::string where(const char* file, int line) {
  return std::string(file) + ":" + std::to_string(line);
}

}  // namespace llcb::detail

#define LLCB_CHECK_STATUS(call, ok, describe, Exception)                                    \
  do {                                                                                      \
    const auto llcb_status_ = (call);                                                       \
    if (llcb_status_ != (ok)) {                                                             \
      throw Exception(std::string(#call) + " failed at " +                                  \
                      ::llcb::detail::where(__FILE__, __LINE__) + ": " + describe(llcb_status_)); \
    }                                                                                       \
  } while (0)

#define LLCB_CHECK(cond, message)                                                       \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      throw ::llcb::InternalError(std::string(message) + " (" #cond ") at " +           \
                                  ::llcb::detail::where(__FILE__, __LINE__));           \
    }                                                                                   \
  } while (0)

#define LLCB_REQUIRE(cond, message)                      \
  do {                                                   \
    if (!(cond)) throw ::llcb::UsageError(message);      \
  } while (0)

// CUDA status checks: a failing call throws naming the call, the place and CUDA's own
// description of the error. Unlike the other libraries' checks (LLCB_CHECK_STATUS,
// lib/core/check.hpp) the exception depends on the status, since CUDA errors come in two kinds:
//   - sticky ones (is_sticky: the context is corrupt, every later call fails the same way) throw
//     DeviceLostError, which ends a sweep's worker rather than fail every later job;
//   - the others (out of memory, a bad argument) are cleared from the runtime's last error before
//     RuntimeError is thrown, so that the next job's first launch check does not report them.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "lib/core/check.hpp"

namespace llcb::cuda {

inline std::string describe_cuda(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}

// Errors after which the process cannot use the device again (driver_types.h: "the process ...
// must be terminated and relaunched", "inconsistent state").
constexpr bool is_sticky(cudaError_t e) {
  switch (e) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorLaunchTimeout:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorAssert:
    case cudaErrorECCUncorrectable:
    case cudaErrorMpsClientTerminated:
    case cudaErrorUnknown:
#if CUDART_VERSION >= 13000  // newer codes (all present in CUDA 13)
    case cudaErrorContained:
    case cudaErrorTensorMemoryLeak:
    case cudaErrorExternalDevice:
#endif
      return true;
    default:
      return false;
  }
}

[[noreturn]] inline void throw_cuda_error(cudaError_t e, const std::string& what) {
  const std::string message = what + ": " + describe_cuda(e);
  // Not sticky itself, but a sticky error may be pending from earlier asynchronous work: that
  // one decides (and clearing the last error returns it).
  const cudaError_t pending = is_sticky(e) ? e : cudaGetLastError();
  if (is_sticky(e) || is_sticky(pending)) {
    throw DeviceLostError(message + (is_sticky(e) ? "" : " (and earlier: " + describe_cuda(pending) + ")") +
                          " (the device can run nothing more in this process: the sweep stops, and a "
                          "resume runs the unfinished jobs again)");
  }
  throw RuntimeError(message);
}

}  // namespace llcb::cuda

#define LLCB_CUDA_CHECK(call)                                                                  \
  do {                                                                                         \
    const cudaError_t llcb_cuda_status_ = (call);                                              \
    if (llcb_cuda_status_ != cudaSuccess) {                                                    \
      ::llcb::cuda::throw_cuda_error(llcb_cuda_status_, std::string(#call) + " failed at " +   \
                                                            ::llcb::detail::where(__FILE__, __LINE__)); \
    }                                                                                          \
  } while (0)

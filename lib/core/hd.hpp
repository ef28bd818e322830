// Host/device annotation for code that is compiled both by the C++ compiler (CPU backend, tests)
// and by nvcc (CUDA kernels). Header-only code written once with LLCB_HD runs identically on both.
#pragma once

#if defined(__CUDACC__)
#define LLCB_HD __host__ __device__
#else
#define LLCB_HD
#endif

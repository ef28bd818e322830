// The hardware floor the CPU backend is measured against: achieved sgemm GFLOP/s of OpenBLAS on a
// square n x n x n product (2 n^3 flops each) with the given thread count, and the copy
// bandwidth of `mib` MiB arrays (bytes read + written per second) over the same threads. One
// warm-up run is excluded; runs repeat until `seconds` have passed.
#pragma once

namespace llcb::backend::cpu {

double measure_sgemm_gflops(int n, int threads, double seconds);
double measure_copy_gbs(int mib, int threads, double seconds);

}  // namespace llcb::backend::cpu

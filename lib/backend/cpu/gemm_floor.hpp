// The hardware floor the CPU backend is measured against: achieved sgemm GFLOP/s of OpenBLAS on a
// square n x n x n product (2 n^3 flops each), with the given thread count. One warm-up product
// is excluded; products repeat until `seconds` have passed.
#pragma once

namespace llcb::backend::cpu {

double measure_sgemm_gflops(int n, int threads, double seconds);

}  // namespace llcb::backend::cpu

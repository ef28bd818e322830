// RAII owners of the CUDA and cuBLAS objects of the CUDA backend, and its row-major GEMMs. Host
// code that includes the CUDA headers: only lib/backend/cuda includes it. Every call is checked
// (LLCB_CUDA_CHECK, LLCB_CUBLAS_CHECK); destructors release without throwing.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "lib/backend/cuda/check.cuh"

namespace llcb::cuda {

inline std::string describe_cublas(cublasStatus_t s) { return cublasGetStatusString(s); }

}  // namespace llcb::cuda

#define LLCB_CUBLAS_CHECK(call) \
  LLCB_CHECK_STATUS(call, CUBLAS_STATUS_SUCCESS, ::llcb::cuda::describe_cublas, ::llcb::RuntimeError)

namespace llcb::cuda {

struct StreamHandle {
  cudaStream_t s = nullptr;
  StreamHandle() { LLCB_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking)); }
  ~StreamHandle() { cudaStreamDestroy(s); }
  StreamHandle(const StreamHandle&) = delete;
  StreamHandle& operator=(const StreamHandle&) = delete;
};

struct CublasHandle {
  cublasHandle_t h = nullptr;
  CublasHandle() { LLCB_CUBLAS_CHECK(cublasCreate(&h)); }
  ~CublasHandle() { cublasDestroy(h); }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
};

struct GraphHandle {
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  GraphHandle() = default;
  ~GraphHandle() {
    if (exec) cudaGraphExecDestroy(exec);
    if (graph) cudaGraphDestroy(graph);
  }
  GraphHandle(const GraphHandle&) = delete;
  GraphHandle& operator=(const GraphHandle&) = delete;
};

struct EventHandle {
  cudaEvent_t e = nullptr;
  // cudaEventDefault records times; cudaEventDisableTiming makes a lighter event for ordering.
  explicit EventHandle(unsigned flags = cudaEventDefault) {
    LLCB_CUDA_CHECK(cudaEventCreateWithFlags(&e, flags));
  }
  ~EventHandle() { cudaEventDestroy(e); }
  EventHandle(const EventHandle&) = delete;
  EventHandle& operator=(const EventHandle&) = delete;
};

template <class T>
struct PinnedBuffer {
  T* p = nullptr;
  explicit PinnedBuffer(std::size_t n) { LLCB_CUDA_CHECK(cudaMallocHost(&p, n * sizeof(T))); }
  ~PinnedBuffer() { cudaFreeHost(p); }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
};

// C = op(A) op(B) for row-major operands (the CPU model's convention, lib/backend/cpu): cuBLAS is
// column-major, so it computes C^T = op(B)^T op(A)^T on the same memory.
inline void gemm(cublasHandle_t h, bool trans_a, bool trans_b, std::int64_t m, std::int64_t n,
                 std::int64_t k, const float* a, std::int64_t lda, const float* b,
                 std::int64_t ldb, float* c, std::int64_t ldc) {
  const float one = 1.0f, zero = 0.0f;
  LLCB_CUBLAS_CHECK(cublasSgemm(h, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n),
                                static_cast<int>(m), static_cast<int>(k), &one, b,
                                static_cast<int>(ldb), a, static_cast<int>(lda), &zero, c,
                                static_cast<int>(ldc)));
}

}  // namespace llcb::cuda

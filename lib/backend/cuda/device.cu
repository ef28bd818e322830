#include <cstdio>
#include <string>

#include "lib/backend/cuda/check.cuh"
#include "lib/backend/cuda/device.hpp"

namespace llcb::cuda {

int device_count(std::string* why) {
  int count = 0;  // left untouched by cudaGetDeviceCount when there is no driver
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear it so later calls are not confused by it
    if (why) *why = "cudaGetDeviceCount: " + describe_cuda(e);
    return 0;
  }
  if (why) *why = count == 0 ? "cudaGetDeviceCount: 0 devices" : "";
  return count;
}

void set_device(int device) { LLCB_CUDA_CHECK(cudaSetDevice(device)); }

namespace {
__global__ void probe_kernel() {}
}  // namespace

void require_kernels() {
  cudaFuncAttributes attributes{};
  const cudaError_t e = cudaFuncGetAttributes(&attributes, probe_kernel);
  if (e == cudaSuccess) return;
  cudaGetLastError();  // not sticky; clear it
  int device = 0;
  LLCB_CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp p{};
  LLCB_CUDA_CHECK(cudaGetDeviceProperties(&p, device));
  const std::string cc = std::to_string(p.major) + std::to_string(p.minor);
  throw UsageError(std::string("backend 'cuda': this build has no kernels for GPU ") +
                   std::to_string(device) + " (" + p.name + ", compute capability " +
                   std::to_string(p.major) + "." + std::to_string(p.minor) +
                   "; built for " LLCB_CUDA_ARCHITECTURES "): rebuild with "
                   "-DCMAKE_CUDA_ARCHITECTURES=" + cc + " (" + describe_cuda(e) + ")");
}

void* device_alloc(std::size_t bytes) {
  void* ptr = nullptr;
  if (bytes == 0) return ptr;
  const cudaError_t e = cudaMalloc(&ptr, bytes);
  if (e == cudaSuccess) return ptr;
  std::size_t free = 0, total = 0;
  const bool known = !is_sticky(e) && cudaMemGetInfo(&free, &total) == cudaSuccess;
  const auto mib = [](std::size_t b) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(b) / (1024.0 * 1024.0));
    return std::string(buf);
  };
  throw_cuda_error(e, "cudaMalloc of " + std::to_string(bytes) + " bytes (" + mib(bytes) + ") failed" +
                          (known ? "; the device has " + mib(free) + " free of " + mib(total) : std::string()));
}

void device_free(void* ptr) noexcept {
  if (ptr) cudaFree(ptr);
}

void copy_to_host(void* dst, const void* src, std::size_t bytes) {
  if (bytes > 0) LLCB_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}

void copy_to_device(void* dst, const void* src, std::size_t bytes) {
  if (bytes > 0) LLCB_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}

}  // namespace llcb::cuda

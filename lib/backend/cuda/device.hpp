// CUDA devices and device memory, behind a header that needs no CUDA headers (so host code and
// tests include it freely). All functions throw RuntimeError on a CUDA failure.
//
//   device_count(why)    visible devices; 0 when there is no driver or no device (never throws);
//                        `why`, when given, gets what cudaGetDeviceCount said when it is 0.
//   require_kernels()    UsageError when this build holds no kernels that run on the current
//                        device (it was built for other compute capabilities), naming the fix.
//   DeviceBuffer<T>      RAII device allocation of `size` elements (move-only); copies are
//                        synchronous (cudaMemcpy) and check sizes.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace llcb::cuda {

int device_count(std::string* why = nullptr);
void set_device(int device);
void require_kernels();

void* device_alloc(std::size_t bytes);
void device_free(void* ptr) noexcept;
void copy_to_host(void* dst, const void* src, std::size_t bytes);
void copy_to_device(void* dst, const void* src, std::size_t bytes);

template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t size)
      : ptr_(static_cast<T*>(device_alloc(size * sizeof(T)))), size_(size) {}
  ~DeviceBuffer() { device_free(ptr_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept
      : ptr_(std::exchange(o.ptr_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      device_free(ptr_);
      ptr_ = std::exchange(o.ptr_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }

  T* data() { return ptr_; }
  const T* data() const { return ptr_; }
  std::size_t size() const { return size_; }

  std::vector<T> to_host() const {
    std::vector<T> out(size_);
    copy_to_host(out.data(), ptr_, size_ * sizeof(T));
    return out;
  }

 private:
  T* ptr_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace llcb::cuda

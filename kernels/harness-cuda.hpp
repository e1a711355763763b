// The shared harness, CUDA half: device facts, buffers, L2 flush, event timing, and the one
// dispatch on KernelId. Host code includes this (no kernels in here).
#pragma once
#include <cuda_runtime_api.h>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "attn.hpp"

namespace attnlab::kernels {

// Every CUDA call is checked; the message names the call site. Exit code 0 proves nothing.
struct CudaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
void cuda_check(cudaError_t e, const char* what, const char* file, int line);
#define ATTN_CUDA(call) ::attnlab::kernels::cuda_check((call), #call, __FILE__, __LINE__)

// True when a CUDA device can be used; otherwise `why` says what is missing. Without a driver,
// cudaGetDeviceCount returns cudaErrorInsufficientDriver, not cudaErrorNoDevice: any error or a
// count of 0 means "no CUDA device".
bool cuda_device_usable(std::string& why);

struct DeviceFacts {
  std::string name;
  int cc_major = 0, cc_minor = 0;
  int sm_count = 0;
  long long l2_bytes = 0;
  long long memory_bytes = 0;
  long long smem_per_block_optin = 0;
  std::string driver_version;  // kernel module version from /proc/driver/nvidia/version, "" if absent
  std::string cuda_driver;     // "13.0"
  std::string cuda_runtime;    // "13.0"
};
DeviceFacts device_facts();
DeviceCaps device_caps(const DeviceFacts& f);

// A device allocation that frees itself.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& o) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* get() const { return ptr_; }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// Times `launch` with CUDA events: `warmup` untimed calls, then `repeats` timed ones. Before each
// timed call a buffer twice the L2's size is overwritten (outside the events) so that every repeat
// starts from a cold L2, as the first call of a real model layer would.
// flush_by_read: evict by READING the buffer instead (a kernel that sums it). A memset leaves the
// L2 full of dirty lines (~L2-size bytes) that the timed kernel then pays to write back to DRAM:
// noise for a compute-bound forward, but for a decode step that reads 67 MB it is +50 MB of
// traffic (measured: see kernels/attn-decode.cu). Memory-bound kernels time with this on.
struct TimingOptions {
  int warmup = 2;
  int repeats = 10;
  bool flush_l2 = true;
  bool flush_by_read = false;
};
std::vector<double> time_launches(const std::function<void(cudaStream_t)>& launch, const TimingOptions& opt,
                                  long long l2_bytes, cudaStream_t stream);

}  // namespace attnlab::kernels

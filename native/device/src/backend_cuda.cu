// The CUDA backend: device memory from the CUDA runtime, the kernel library's ops
// (kernels_ops.h, kernels_scan_ops.h, kernels_perception_ops.h) compiled as CUDA kernels, one thread block per
// block of the grid, one thread per item.
//
// Preemption (as REEF does it): every launch gets a flag in mapped pinned host memory; each
// block checks it on entry and returns at once when it is set. The device thread running the
// launch waits on an event and sets the flag when the scheduler asks to kill the launch;
// blocks already running finish, the rest return, and the scheduler relaunches the instance
// from scratch later (only idempotent or saved instances are ever killed). Blocks that ran
// are counted on the device, so the scheduler learns whether the launch completed.
//
// Streams: per device thread and priority, created with cudaStreamCreateWithPriority
// (higher xauto priority -> numerically lower, more urgent CUDA priority, log-compressed into
// the device's range). Copies: synchronous ones go through a copy stream and wait for it (so a
// later launch on any stream sees them); the asynchronous ones the checkpoint engine uses are
// queued on the same copy stream and fenced with copy_fence().
#include <cuda_runtime.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "backend.h"
#include "kernels_ops.h"
#include "kernels_perception_ops.h"
#include "kernels_apps_ops.h"

namespace xdev {
namespace {

struct Control {
  int kill;
  unsigned int done;
};

template <typename Op>
__global__ void op_kernel(Args a, int64_t items, int64_t per, uint32_t first, volatile int* kill, unsigned int* done) {
  if (*kill) return;  // killed: this block never starts
  const int64_t b = int64_t(blockIdx.x) + int64_t(first);
  const int64_t s = b * per, e = ops::imin(items, s + per);
  for (int64_t i = s + threadIdx.x; i < e; i += blockDim.x) Op::item(a, i);
  __syncthreads();
  if (threadIdx.x == 0) atomicAdd(done, 1u);
}

using LaunchFn = cudaError_t (*)(const Args&, uint32_t first, uint32_t count, cudaStream_t, Control* ctl);

template <typename Op>
cudaError_t launch_op(const Args& a, uint32_t first, uint32_t count, cudaStream_t s, Control* ctl) {
  const int64_t per = Op::per(a);
  if (count == 0) return cudaSuccess;
  if (per <= 0) {
    ctl->done += count;  // blocks without items: nothing to run
    return cudaSuccess;
  }
  const unsigned threads = unsigned(per < 256 ? per : 256);
  op_kernel<Op><<<count, threads, 0, s>>>(a, Op::items(a), per, first, &ctl->kill, &ctl->done);
  return cudaGetLastError();
}

struct Entry {
  const char* name;
  LaunchFn fn;
  bool serial;
};

#define OP(name, Op) {name, launch_op<ops::Op>, ops::Op::serial}
const Entry kTable[] = {
    OP("saxpy", Saxpy), OP("add", Add), OP("add_inplace", AddInplace), OP("scale", Scale), OP("scale_inplace", ScaleInplace),
    OP("clamp", Clamp), OP("clamp_inplace", ClampInplace), OP("copy", Copy), OP("resize_bilinear", Resize),
    OP("normalize", Normalize), OP("gemm", Gemm), OP("reduce_sum", ReduceSum), OP("histogram", Histogram),
    OP("voxel_scatter", VoxelScatter), OP("point_transform", Transform), OP("prefix_sum", PrefixSum), OP("gather", Gather),
    OP("scatter", Scatter), OP("rng_uniform", RngUniform), OP("below_signal", BelowSignal),
    // perception
    OP("merge_pass", MergePass), OP("segment_heads", SegmentHeads), OP("scatter_u32", ScatterU32), OP("scan_blocks", ScanBlocks),
    OP("scan_sums", ScanSums), OP("scan_apply", ScanApply), OP("compact_f32", CompactF32), OP("count_diff", CountDiff),
    OP("voxel_keys", VoxelKeys), OP("voxel_mean", VoxelMean), OP("ransac_planes", RansacPlanes), OP("ransac_count", RansacCount),
    OP("ransac_best", RansacBest), OP("ground_keep", GroundKeep), OP("cell_keys", CellKeys), OP("cc_pass", CcPass),
    OP("label_keys", LabelKeys), OP("cluster_stats", ClusterStats), OP("hm_init", HmInit), OP("hm_pass", HmPass),
    OP("hm_regions", HmRegions), OP("yolo_decode", YoloDecode), OP("preprocess", Preprocess),
    XDEV_APPS_OPS,  // kernels_apps_ops.h
};
#undef OP

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) std::fprintf(stderr, "[xauto device] cuda: %s: %s\n", what, cudaGetErrorString(e));
}

class CudaBackend final : public Backend {
 public:
  CudaBackend() {
    check(cudaStreamCreateWithFlags(&copy_, cudaStreamNonBlocking), "copy stream");
    check(cudaDeviceGetStreamPriorityRange(&least_, &greatest_), "stream priority range");
  }
  const char* name() const override { return "cuda"; }

  uint8_t* alloc(size_t bytes) override {
    void* p = nullptr;
    size_t rounded = bytes == 0 ? 64 : (bytes + 63) / 64 * 64;
    if (cudaMalloc(&p, rounded) != cudaSuccess) return nullptr;
    check(cudaMemsetAsync(p, 0, rounded, copy_), "memset");
    check(cudaStreamSynchronize(copy_), "memset sync");
    return static_cast<uint8_t*>(p);
  }
  void release(uint8_t* p) override { check(cudaFree(p), "free"); }
  void to_device(uint8_t* dst, const uint8_t* src, size_t n) override { sync_copy(dst, src, n, cudaMemcpyHostToDevice); }
  void to_host(uint8_t* dst, const uint8_t* src, size_t n) override { sync_copy(dst, src, n, cudaMemcpyDeviceToHost); }
  void copy(uint8_t* dst, const uint8_t* src, size_t n) override { sync_copy(dst, src, n, cudaMemcpyDeviceToDevice); }
  void to_host_async(uint8_t* dst, const uint8_t* src, size_t n) override {
    check(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToHost, copy_), "async copy to host");
  }
  void to_device_async(uint8_t* dst, const uint8_t* src, size_t n) override {
    check(cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, copy_), "async copy to device");
  }
  void copy_fence() override { check(cudaStreamSynchronize(copy_), "copy fence"); }

  void run_block(const KernelDesc& k, const Args& a, uint32_t block) override {
    const Entry* e = entry(k);
    if (!e) return;
    Control* ctl = control();
    cudaStream_t s = stream(0);
    check(e->fn(a, block, 1, s, ctl), k.name.c_str());
    check(cudaStreamSynchronize(s), "block sync");
  }

  uint32_t run(const KernelDesc& k, const Args& a, uint32_t grid, int priority, const std::atomic<bool>& kill) override {
    const Entry* e = entry(k);
    if (!e || grid == 0) return grid;
    Control* ctl = control();
    cudaStream_t s = stream(priority);
    if (e->serial) {
      // Each block continues from the previous one's output: one block per launch, in order.
      uint32_t b = 0;
      for (; b < grid && !kill.load(std::memory_order_relaxed); ++b) {
        check(e->fn(a, b, 1, s, ctl), k.name.c_str());
        check(cudaStreamSynchronize(s), "serial block sync");
      }
      return b;
    }
    check(e->fn(a, 0, grid, s, ctl), k.name.c_str());
    cudaEvent_t ev = event();
    check(cudaEventRecord(ev, s), "event record");
    bool flagged = false;
    for (int spins = 0; cudaEventQuery(ev) == cudaErrorNotReady; ++spins) {
      if (!flagged && kill.load(std::memory_order_relaxed)) {
        reinterpret_cast<volatile int*>(&ctl->kill)[0] = 1;
        flagged = true;
      }
      if (spins < 64) std::this_thread::yield();
      else std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
    const uint32_t done = reinterpret_cast<volatile unsigned int*>(&ctl->done)[0];
    return done < grid ? done : grid;
  }

  // The reference runs on the host: each buffer argument's extent is staged through host
  // memory (arguments aliasing one another are not supported on this path).
  void run_reference(const KernelDesc& k, const Args& a) override {
    Args h = a;
    std::vector<std::vector<uint8_t>> staged(k.params.size());
    for (size_t i = 0; i < k.params.size(); ++i) {
      const ParamSpec& p = k.params[i];
      if (!p.is_buffer) continue;
      const uint64_t bytes = extent(p, a);
      staged[i].resize(bytes + 1);
      if (bytes) to_host(staged[i].data(), a.ptr[i], bytes);
      h.ptr[i] = staged[i].data();
    }
    k.reference(h);
    for (size_t i = 0; i < k.params.size(); ++i) {
      const ParamSpec& p = k.params[i];
      if (p.is_buffer && p.access != kIn && extent(p, a)) to_device(a.ptr[i], staged[i].data(), extent(p, a));
    }
  }

 private:
  static uint64_t term(const Term& t, const Args& a) { return t.param < 0 ? t.value : uint64_t(a.s[t.param]); }
  static uint64_t extent(const ParamSpec& p, const Args& a) {
    uint64_t count = 1;
    for (const Term& t : p.count) count *= term(t, a);
    return count == 0 ? 0 : ((count - 1) * term(p.stride, a) + 1) * p.elem;
  }

  void sync_copy(uint8_t* dst, const uint8_t* src, size_t n, cudaMemcpyKind kind) {
    if (n == 0) return;
    std::lock_guard<std::mutex> lk(copy_m_);
    check(cudaMemcpyAsync(dst, src, n, kind, copy_), "copy");
    check(cudaStreamSynchronize(copy_), "copy sync");
  }

  const Entry* entry(const KernelDesc& k) {
    std::lock_guard<std::mutex> lk(m_);
    auto it = by_desc_.find(&k);
    if (it != by_desc_.end()) return it->second;
    const Entry* found = nullptr;
    for (const Entry& e : kTable)
      if (k.name == e.name) found = &e;
    if (!found) std::fprintf(stderr, "[xauto device] cuda: kernel '%s' has no CUDA version\n", k.name.c_str());
    by_desc_[&k] = found;
    return found;
  }

  // Per device thread: its launch control block (mapped pinned memory), reset per launch.
  Control* control() {
    thread_local Control* ctl = nullptr;
    if (!ctl) {
      void* p = nullptr;
      check(cudaHostAlloc(&p, sizeof(Control), cudaHostAllocMapped), "control block");
      ctl = static_cast<Control*>(p);
    }
    ctl->kill = 0;
    ctl->done = 0;
    return ctl;
  }

  cudaEvent_t event() {
    thread_local cudaEvent_t ev = nullptr;
    if (!ev) check(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming), "event");
    return ev;
  }

  cudaStream_t stream(int priority) {
    thread_local std::map<int, cudaStream_t> streams;
    auto it = streams.find(priority);
    if (it != streams.end()) return it->second;
    // Order kept, range compressed: 0 -> least urgent, each doubling of the priority one
    // level more urgent (critical-path stages, 1000 and up, get the most urgent level).
    const int steps = priority <= 0 ? 0 : int(std::log2(double(priority) + 1.0));
    int p = least_ - steps;
    p = p < greatest_ ? greatest_ : p;
    cudaStream_t s = nullptr;
    check(cudaStreamCreateWithPriority(&s, cudaStreamNonBlocking, p), "stream");
    streams[priority] = s;
    return s;
  }

  cudaStream_t copy_ = nullptr;
  int least_ = 0, greatest_ = 0;
  std::mutex m_, copy_m_;
  std::unordered_map<const KernelDesc*, const Entry*> by_desc_;
};

}  // namespace

Backend* cuda_backend(std::string* why) {
  static CudaBackend* backend = nullptr;
  static std::string note;
  static bool tried = false;
  if (!tried) {
    tried = true;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
      note = std::string("no CUDA device: ") + cudaGetErrorString(e);
    } else if (n == 0) {
      note = "no CUDA device found";
    } else {
      cudaDeviceProp prop;
      std::memset(&prop, 0, sizeof prop);
      check(cudaGetDeviceProperties(&prop, 0), "device properties");
      char buf[256];
      std::snprintf(buf, sizeof buf, "%s, sm_%d%d, %.0f GiB", prop.name, prop.major, prop.minor, double(prop.totalGlobalMem) / (1u << 30));
      note = buf;
      backend = new CudaBackend();
    }
  }
  *why = note;
  return backend;
}

}  // namespace xdev

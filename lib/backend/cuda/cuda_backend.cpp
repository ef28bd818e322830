#include "lib/backend/cuda/cuda_backend.hpp"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>

#include "lib/backend/cuda/check.cuh"
#include "lib/backend/cuda/data_kernels.hpp"
#include "lib/backend/cuda/device.hpp"
#include "lib/backend/cuda/step_kernels.hpp"
#include "lib/backend/cuda/update_kernel.hpp"
#include "lib/core/log.hpp"
#include "lib/estimator/estimator.hpp"
#include "lib/samplers/registry.hpp"

#define LLCB_CUBLAS_CHECK(call) \
  LLCB_CHECK_STATUS(call, CUBLAS_STATUS_SUCCESS, ::llcb::backend::describe_cublas, ::llcb::RuntimeError)

namespace llcb::backend {
namespace {

using cuda::DeviceBuffer;

std::string describe_cublas(cublasStatus_t s) { return cublasGetStatusString(s); }

constexpr std::int64_t kRingLen = 1024;         // device ring of per-step records
constexpr double kRoundTripSeconds = 0.25;      // target time between host waits
constexpr double kGroupTimeoutSeconds = 300;    // a chain group's round trip that takes longer
                                                // means a member died or hangs
constexpr std::size_t kCublasWorkspace = 32u << 20;      // fixed, so graph capture never allocates

// RAII owners of the CUDA and cuBLAS handles of one backend.
struct Stream {
  cudaStream_t s = nullptr;
  Stream() { LLCB_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking)); }
  ~Stream() { cudaStreamDestroy(s); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
};

struct Cublas {
  cublasHandle_t h = nullptr;
  Cublas() { LLCB_CUBLAS_CHECK(cublasCreate(&h)); }
  ~Cublas() { cublasDestroy(h); }
  Cublas(const Cublas&) = delete;
  Cublas& operator=(const Cublas&) = delete;
};

struct Graph {
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  Graph() = default;
  ~Graph() {
    if (exec) cudaGraphExecDestroy(exec);
    if (graph) cudaGraphDestroy(graph);
  }
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
};

struct PinnedDoubles {
  double* p = nullptr;
  explicit PinnedDoubles(std::size_t n) { LLCB_CUDA_CHECK(cudaMallocHost(&p, n * sizeof(double))); }
  ~PinnedDoubles() { cudaFreeHost(p); }
  PinnedDoubles(const PinnedDoubles&) = delete;
  PinnedDoubles& operator=(const PinnedDoubles&) = delete;
};

// C = op(A) op(B) for row-major operands (the CPU model's convention, lib/backend/cpu): cuBLAS is
// column-major, so it computes C^T = op(B)^T op(A)^T on the same memory.
void gemm(cublasHandle_t h, bool trans_a, bool trans_b, std::int64_t m, std::int64_t n,
          std::int64_t k, const float* a, std::int64_t lda, const float* b, std::int64_t ldb,
          float* c, std::int64_t ldc) {
  const float one = 1.0f, zero = 0.0f;
  LLCB_CUBLAS_CHECK(cublasSgemm(h, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n),
                                static_cast<int>(m), static_cast<int>(k), &one, b,
                                static_cast<int>(ldb), a, static_cast<int>(lda), &zero, c,
                                static_cast<int>(ldc)));
}

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(const BackendOptions& o) : stop_(o.stop) {
    const int count = cuda::device_count();
    if (count == 0) {
      throw UsageError("backend 'cuda': no usable CUDA device (no driver, or none visible)");
    }
    device_ = o.device >= 0 ? o.device : o.local_rank % count;
    if (device_ >= count) {
      throw UsageError("backend 'cuda': device " + std::to_string(device_) + " requested, " +
                       std::to_string(count) + " visible");
    }
    if (o.precision != "fp32" && o.precision != "tf32") {
      throw UsageError("precision '" + o.precision + "': expected fp32 or tf32");
    }
    cuda::set_device(device_);
    stream_ = std::make_unique<Stream>();
    cublas_ = std::make_unique<Cublas>();
    workspace_ = DeviceBuffer<char>(kCublasWorkspace);
    LLCB_CUBLAS_CHECK(cublasSetStream(cublas_->h, stream_->s));
    LLCB_CUBLAS_CHECK(cublasSetWorkspace(cublas_->h, workspace_.data(), kCublasWorkspace));
    LLCB_CUBLAS_CHECK(cublasSetMathMode(
        cublas_->h, o.precision == "tf32" ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    cudaDeviceProp prop{};
    LLCB_CUDA_CHECK(cudaGetDeviceProperties(&prop, device_));
    device_name_ = prop.name;
    log::info("cuda backend: device {} ({}), {} GEMMs", device_, device_name_, o.precision);
  }

  std::string name() const override { return "cuda"; }
  std::string hardware() const override { return "GPU " + std::to_string(device_) + " (" + device_name_ + ")"; }
  HardwareFloor measure_floor(int n, int copy_mib, double seconds) override;

  std::vector<estimator::ChainResult> run(const dln::Problem& problem, const DataSpec& data,
                                          std::span<const ChainSpec> chains,
                                          const TraceListener* listener,
                                          ChainGroup* group) override {
    if (group && group->size() == 1) group = nullptr;
    if (group && !group->device_sums()) {
      throw UsageError("chain groups on the cuda backend need NCCL (this build has none)");
    }
    for (const auto& spec : chains) validate(spec, problem);
    cuda::set_device(device_);
    const TeacherData teacher = teacher_data(problem);
    const double loss_center = loss_at_teacher(problem, data);
    std::vector<estimator::ChainResult> results;
    for (const auto& spec : chains) {
      results.push_back(samplers::dispatch(spec.sampler.kind, [&](auto rule) {
        return run_chain<decltype(rule)>(problem, data, teacher, loss_center, spec, listener,
                                         results.size(), group);
      }));
      if (results.back().interrupted) break;
    }
    return results;
  }

 private:
  template <class Rule>
  estimator::ChainResult run_chain(const dln::Problem& problem, const DataSpec& data,
                                   const TeacherData& teacher, double loss_center,
                                   const ChainSpec& spec, const TraceListener* listener,
                                   std::size_t chain_index, ChainGroup* group);

  const std::atomic<bool>* stop_;
  int device_ = 0;
  std::string device_name_;
  std::unique_ptr<Stream> stream_;
  std::unique_ptr<Cublas> cublas_;
  DeviceBuffer<char> workspace_;
};

struct Event {
  cudaEvent_t e = nullptr;
  Event() { LLCB_CUDA_CHECK(cudaEventCreate(&e)); }
  ~Event() { cudaEventDestroy(e); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
};

// Seconds per run of `launch` on `stream`: one untimed run, then batches of runs timed with
// events until about `seconds` have passed.
template <class F>
double seconds_per_run(cudaStream_t stream, double seconds, F&& launch) {
  Event begin, end;
  launch();
  LLCB_CUDA_CHECK(cudaStreamSynchronize(stream));
  int reps = 0, batch = 1;
  double elapsed = 0;
  while (elapsed < seconds) {
    LLCB_CUDA_CHECK(cudaEventRecord(begin.e, stream));
    for (int i = 0; i < batch; ++i) launch();
    LLCB_CUDA_CHECK(cudaEventRecord(end.e, stream));
    LLCB_CUDA_CHECK(cudaEventSynchronize(end.e));
    float ms = 0;
    LLCB_CUDA_CHECK(cudaEventElapsedTime(&ms, begin.e, end.e));
    elapsed += ms / 1e3;
    reps += batch;
    batch *= 2;
  }
  return elapsed / reps;
}

HardwareFloor CudaBackend::measure_floor(int n, int copy_mib, double seconds) {
  cuda::set_device(device_);
  HardwareFloor f;
  if (n > 0) {
    const auto size = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
    DeviceBuffer<float> a(size), b(size), c(size);
    LLCB_CUDA_CHECK(cudaMemsetAsync(a.data(), 0, size * sizeof(float), stream_->s));
    LLCB_CUDA_CHECK(cudaMemsetAsync(b.data(), 0, size * sizeof(float), stream_->s));
    const double s = seconds_per_run(stream_->s, seconds, [&] {
      gemm(cublas_->h, false, false, n, n, n, a.data(), n, b.data(), n, c.data(), n);
    });
    f.sgemm_gflops = 2.0 * n * static_cast<double>(n) * n / s / 1e9;
  }
  if (copy_mib > 0) {
    const std::size_t bytes = static_cast<std::size_t>(copy_mib) << 20;
    DeviceBuffer<char> a(bytes), b(bytes);
    const double s = seconds_per_run(stream_->s, seconds, [&] {
      LLCB_CUDA_CHECK(cudaMemcpyAsync(b.data(), a.data(), bytes, cudaMemcpyDeviceToDevice, stream_->s));
    });
    f.bandwidth_gbs = 2.0 * static_cast<double>(bytes) / s / 1e9;  // read + write
  }
  return f;
}

// Device memory of one chain and the launches of one step.
template <class Rule>
struct ChainOnDevice {
  const dln::Problem& problem;
  const ChainSpec& spec;
  float sigma;
  ChainGroup* group;  // null, or a group with device sums (NCCL)
  std::vector<std::int64_t> widths, offsets;
  // B: the step's minibatch; this process computes rows [first, first + b) of it (all B alone).
  std::int64_t d = 0, batch = 0, first = 0, b = 0, hmax = 0;
  DeviceBuffer<float> w, grad, center, product, s0, s1, targets, g_a, g_b;
  std::vector<DeviceBuffer<float>> acts;  // A_0 = X .. A_M
  DeviceBuffer<std::uint64_t> idx;
  DeviceBuffer<double> loss_partial, update_partial, ring;
  DeviceBuffer<cuda::DeviceChain<Rule>> chain;

  ChainOnDevice(const dln::Problem& p, const ChainSpec& s, const TeacherData& teacher, float sig,
                ChainGroup* g)
      : problem(p), spec(s), sigma(sig), group(g), widths(p.widths), batch(s.batch_size) {
    const RowShare rows = group ? group_rows(batch, group->rank(), group->size()) : RowShare{0, batch};
    first = rows.first;
    b = rows.count;
    for (std::size_t l = 0; l + 1 < widths.size(); ++l) {
      offsets.push_back(d);
      d += widths[l] * widths[l + 1];
    }
    for (auto h : widths) hmax = std::max(hmax, h);
    const auto n = static_cast<std::size_t>(d);
    w = DeviceBuffer<float>(n);
    grad = DeviceBuffer<float>(n);
    center = DeviceBuffer<float>(n);
    product = DeviceBuffer<float>(teacher.product.size());
    s0 = DeviceBuffer<float>(Rule::kStates > 0 ? n : 0);
    s1 = DeviceBuffer<float>(Rule::kStates > 1 ? n : 0);
    for (auto h : widths) acts.emplace_back(static_cast<std::size_t>(b * h));
    targets = DeviceBuffer<float>(static_cast<std::size_t>(b * widths.back()));
    g_a = DeviceBuffer<float>(static_cast<std::size_t>(b * hmax));
    g_b = DeviceBuffer<float>(static_cast<std::size_t>(b * hmax));
    idx = DeviceBuffer<std::uint64_t>(static_cast<std::size_t>(batch));
    loss_partial = DeviceBuffer<double>(static_cast<std::size_t>(cuda::residual_blocks(b * widths.back())));
    update_partial = DeviceBuffer<double>(static_cast<std::size_t>(4 * cuda::update_blocks(d)));
    ring = DeviceBuffer<double>(static_cast<std::size_t>(4 * kRingLen));
    chain = DeviceBuffer<cuda::DeviceChain<Rule>>(1);

    cuda::copy_to_device(center.data(), teacher.center.data(), n * sizeof(float));
    cuda::copy_to_device(w.data(), teacher.center.data(), n * sizeof(float));
    cuda::copy_to_device(product.data(), teacher.product.data(), teacher.product.size() * sizeof(float));
    for (int q = 0; q < Rule::kStates; ++q) {
      const std::vector<float> init(n, Rule::initial_state(spec.sampler, q));
      cuda::copy_to_device(q == 0 ? s0.data() : s1.data(), init.data(), n * sizeof(float));
    }
    cuda::DeviceChain<Rule> start;
    start.t = 0;
    start.scalars = samplers::initial_scalars(spec.sampler);
    start.k = Rule::coeffs(spec.sampler, 1, start.scalars);
    cuda::copy_to_device(chain.data(), &start, sizeof start);
    // The uploads above ran on the default stream, which a non-blocking stream does not wait
    // for (and a pageable cudaMemcpy may return before its DMA lands): finish them first.
    LLCB_CUDA_CHECK(cudaDeviceSynchronize());
  }

  // One step, as the CPU backend runs it (lib/backend/cpu/dln_model.cpp), on `stream`.
  void launch_step(cublasHandle_t h, cudaStream_t stream) {
    const std::size_t m = widths.size() - 1;
    const std::int64_t h_in = widths.front(), h_out = widths.back();
    const std::int64_t* t = &chain.data()->t;  // DeviceChain's first member, read by the kernels
    cuda::minibatch_on_device(static_cast<std::uint64_t>(problem.n), batch, spec.chain_seed,
                              spec.sampling, t, idx.data(), stream);
    const std::uint64_t* my_idx = idx.data() + first;
    cuda::inputs_on_device(problem.seed, my_idx, b, h_in, acts[0].data(), stream);
    gemm(h, false, true, b, h_out, h_in, acts[0].data(), h_in, product.data(), h_in,
         targets.data(), h_out);
    if (sigma != 0) {
      cuda::target_noise_on_device(problem.seed, my_idx, b, h_out, sigma, targets.data(), stream);
    }
    for (std::size_t s = 0; s < m; ++s) {
      gemm(h, false, true, b, widths[s + 1], widths[s], acts[s].data(), widths[s],
           w.data() + offsets[s], widths[s], acts[s + 1].data(), widths[s + 1]);
    }
    const std::int64_t count = b * h_out;                                  // this share
    const double normaliser = static_cast<double>(batch) * static_cast<double>(h_out);  // all B rows
    cuda::residual_on_device(acts[m].data(), targets.data(), g_a.data(), count,
                             static_cast<float>(2.0 / normaliser), loss_partial.data(), stream);
    float* g = g_a.data();
    float* g_next = g_b.data();
    for (std::size_t s = m; s-- > 0;) {
      gemm(h, true, false, widths[s + 1], widths[s], b, g, widths[s + 1], acts[s].data(),
           widths[s], grad.data() + offsets[s], widths[s]);
      if (s > 0) {
        gemm(h, false, false, b, widths[s], widths[s + 1], g, widths[s + 1],
             w.data() + offsets[s], widths[s], g_next, widths[s]);
        std::swap(g, g_next);
      }
    }
    if (group) {  // the members' partial gradients and loss sums, added up (NCCL)
      group->sum_device(grad.data(), static_cast<std::size_t>(d), stream);
      group->sum_device(loss_partial.data(), static_cast<std::size_t>(cuda::residual_blocks(count)), stream);
    }
    cuda::update_on_device<Rule>(&chain.data()->k, t, w.data(), grad.data(), center.data(),
                                 s0.data(), s1.data(), d, spec.chain_seed, update_partial.data(),
                                 stream);
    cuda::step_end_on_device<Rule>(chain.data(), loss_partial.data(),
                                   cuda::residual_blocks(count), normaliser,
                                   update_partial.data(), cuda::update_blocks(d), spec.sampler, d,
                                   ring.data(), kRingLen, stream);
  }
};

template <class Rule>
estimator::ChainResult CudaBackend::run_chain(const dln::Problem& problem, const DataSpec& data,
                                              const TeacherData& teacher, double loss_center,
                                              const ChainSpec& spec,
                                              const TraceListener* listener,
                                              std::size_t chain_index, ChainGroup* group) {
  ChainOnDevice<Rule> dev(problem, spec, teacher, static_cast<float>(data.target_sigma), group);

  estimator::ChainEstimator est(estimator_config(spec, dev.d, loss_center));
  TraceFeed feed(listener, chain_index);

  // Capture one step; every replay advances the device-side step counter.
  Graph graph;
  LLCB_CUDA_CHECK(cudaStreamBeginCapture(stream_->s, cudaStreamCaptureModeThreadLocal));
  try {
    dev.launch_step(cublas_->h, stream_->s);
  } catch (...) {
    cudaStreamEndCapture(stream_->s, &graph.graph);
    throw;
  }
  LLCB_CUDA_CHECK(cudaStreamEndCapture(stream_->s, &graph.graph));
  LLCB_CUDA_CHECK(cudaGraphInstantiate(&graph.exec, graph.graph, 0));

  PinnedDoubles host_ring(4 * kRingLen);
  DeviceBuffer<unsigned long long> checksum(group ? 1 : 0);
  const auto start = std::chrono::steady_clock::now();
  bool interrupted = false, ended = false;
  // Steps per host round trip: starts small and adapts so that a round trip takes about
  // kRoundTripSeconds (the stop flag and the live trace are served at that pace), never more
  // than the ring holds and never across the ring's end (slots stay contiguous).
  std::int64_t per_trip = 16;
  // In a group, the members agree before each round trip on its length (member 0's) and on a stop
  // request (anyone's), and after it on whether the chain ended and on a checksum of the
  // parameters, so that they run the same steps and leave together.
  for (std::int64_t first = 0; first < spec.steps && !ended;) {
    bool stop_now = stop_ && stop_->load(std::memory_order_relaxed);
    std::int64_t want = per_trip;
    if (group) {
      double shared[2] = {stop_now ? 1.0 : 0.0, group->rank() == 0 ? static_cast<double>(per_trip) : 0.0};
      group->sum(shared, 2);
      stop_now = shared[0] > 0;
      want = static_cast<std::int64_t>(shared[1]);
    }
    if (stop_now) {
      interrupted = true;
      break;
    }
    const std::int64_t slot0 = first % kRingLen;
    const std::int64_t n = std::min({want, kRingLen - slot0, spec.steps - first});
    const auto trip_start = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < n; ++i) LLCB_CUDA_CHECK(cudaGraphLaunch(graph.exec, stream_->s));
    LLCB_CUDA_CHECK(cudaMemcpyAsync(host_ring.p, dev.ring.data() + 4 * slot0,
                                    static_cast<std::size_t>(4 * n) * sizeof(double),
                                    cudaMemcpyDeviceToHost, stream_->s));
    if (group) {
      group->wait_device(stream_->s, kGroupTimeoutSeconds);
    } else {
      LLCB_CUDA_CHECK(cudaStreamSynchronize(stream_->s));
    }
    for (std::int64_t i = 0; i < n; ++i) {
      const double* slot = host_ring.p + 4 * i;  // loss, drift^2, noise^2, ||w - w*||^2
      const std::int64_t t = first + i;
      if (!est.observe_loss(t, slot[0]) || !est.observe_step(t, slot[3], slot[1], slot[2])) {
        ended = true;
        break;
      }
    }
    feed.offer(est.loss_trace());
    if (group) {
      if (group->rank() == 1 && spec.test_drift_at_step >= first && spec.test_drift_at_step < first + n) {
        float w0 = 0;  // injected fault: perturb one parameter of member 1
        LLCB_CUDA_CHECK(cudaMemcpyAsync(&w0, dev.w.data(), sizeof w0, cudaMemcpyDeviceToHost, stream_->s));
        LLCB_CUDA_CHECK(cudaStreamSynchronize(stream_->s));
        w0 += 1e-3f;
        LLCB_CUDA_CHECK(cudaMemcpyAsync(dev.w.data(), &w0, sizeof w0, cudaMemcpyHostToDevice, stream_->s));
      }
      unsigned long long sum = 0;
      cuda::checksum_on_device(dev.w.data(), dev.d, checksum.data(), stream_->s);
      LLCB_CUDA_CHECK(cudaMemcpyAsync(&sum, checksum.data(), sizeof sum, cudaMemcpyDeviceToHost, stream_->s));
      LLCB_CUDA_CHECK(cudaStreamSynchronize(stream_->s));
      if (!group->agree(sum)) {
        throw RuntimeError("chain group members drifted apart by step " + std::to_string(first + n - 1) +
                           " (their parameter checksums differ)");
      }
      double any_ended = ended ? 1.0 : 0.0;
      group->sum(&any_ended, 1);
      ended = any_ended > 0;
    }
    first += n;
    const double trip =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - trip_start).count();
    if (trip < kRoundTripSeconds / 2) per_trip = std::min(per_trip * 2, kRingLen);
    if (trip > kRoundTripSeconds * 2) per_trip = std::max<std::int64_t>(per_trip / 2, 1);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  estimator::ChainResult result = est.finish(seconds);
  result.interrupted = interrupted;
  log::debug("cuda chain: {} steps in {:.3f} s ({:.1f} steps/s), lambda_hat {}", result.steps_run,
             result.seconds, result.steps_per_second, result.lambda_hat);
  return result;
}

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(const BackendOptions& options) {
  return std::make_unique<CudaBackend>(options);
}

}  // namespace llcb::backend

#include "lib/backend/cuda/cuda_backend.hpp"

#include <algorithm>
#include <chrono>

#include "lib/backend/cuda/chain_batch.hpp"
#include "lib/backend/cuda/cuda_handles.hpp"
#include "lib/backend/cuda/device.hpp"
#include "lib/backend/cuda/step_kernels.hpp"
#include "lib/core/log.hpp"
#include "lib/estimator/estimator.hpp"
#include "lib/samplers/registry.hpp"

namespace llcb::backend {
namespace {

using cuda::DeviceBuffer;

constexpr std::int64_t kRingLen = 1024;         // device ring of per-step records, per chain
constexpr double kRoundTripSeconds = 0.25;      // target time between host waits
constexpr double kGroupTimeoutSeconds = 300;    // a chain group's round trip that takes longer
                                                // means a member died or hangs
constexpr std::size_t kCublasWorkspace = 32u << 20;  // fixed, so graph capture never allocates

// Seconds per run of `launch` on `stream`: one untimed run, then batches of runs timed with
// events until about `seconds` have passed.
template <class F>
double seconds_per_run(cudaStream_t stream, double seconds, F&& launch) {
  cuda::EventHandle begin, end;
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

// Chains that can advance together: one sampler, batch size, sampling mode and length.
bool batchable(const ChainSpec& a, const ChainSpec& b) {
  return a.sampler.kind == b.sampler.kind && a.batch_size == b.batch_size &&
         a.sampling == b.sampling && a.steps == b.steps;
}

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(const BackendOptions& o)
      : stop_(o.stop), graphs_(o.graphs), precision_(o.precision) {
    std::string why;
    const int count = cuda::device_count(&why);
    if (count == 0) {  // why: e.g. cudaErrorInsufficientDriver, a driver older than this toolkit
      throw UsageError("backend 'cuda': no usable CUDA device (" + why + ")");
    }
    device_ = o.device >= 0 ? o.device : o.local_rank % count;
    if (device_ >= count) {
      throw UsageError("backend 'cuda': device " + std::to_string(device_) + " requested, " +
                       std::to_string(count) + " visible");
    }
    if (o.precision != "fp32" && o.precision != "tf32") {
      throw UsageError("precision '" + o.precision + "': expected fp32 or tf32");
    }
    if (o.gemm_lanes < 1 || o.gemm_lanes > static_cast<int>(cuda::kMaxLanes)) {
      throw UsageError("gemm lanes " + std::to_string(o.gemm_lanes) + ": expected 1 to " +
                       std::to_string(cuda::kMaxLanes));
    }
    cuda::set_device(device_);
    cuda::require_kernels();
    // Lane 0 is the main stream; every lane has its own handle and workspace, set up alike.
    for (int l = 0; l < o.gemm_lanes; ++l) {
      lane_streams_.push_back(std::make_unique<cuda::StreamHandle>());
      lane_handles_.push_back(std::make_unique<cuda::CublasHandle>());
      workspaces_.emplace_back(kCublasWorkspace);
      const cublasHandle_t h = lane_handles_.back()->h;
      LLCB_CUBLAS_CHECK(cublasSetStream(h, lane_streams_.back()->s));
      LLCB_CUBLAS_CHECK(cublasSetWorkspace(h, workspaces_.back().data(), kCublasWorkspace));
      LLCB_CUBLAS_CHECK(cublasSetMathMode(
          h, o.precision == "tf32" ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
      lanes_.streams.push_back(lane_streams_.back()->s);
      lanes_.handles.push_back(h);
    }
    stream_ = lanes_.streams.front();
    cublas_ = lanes_.handles.front();
    cudaDeviceProp prop{};
    LLCB_CUDA_CHECK(cudaGetDeviceProperties(&prop, device_));
    device_name_ = prop.name;
    log::info("cuda backend: device {} ({}), {} GEMMs", device_, device_name_, o.precision);
  }

  std::string name() const override { return "cuda"; }
  std::string hardware() const override {
    return "GPU " + std::to_string(device_) + " (" + device_name_ + ")";
  }
  std::string precision() const override { return precision_; }
  std::int64_t graph_replays() const override { return graph_replays_; }
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
    prepared_.prepare(problem, data);
    std::vector<estimator::ChainResult> results;
    // Consecutive batchable chains advance together; the results keep the chains' order.
    for (std::size_t first = 0; first < chains.size();) {
      std::size_t end = first + 1;
      while (end < chains.size() && batchable(chains[first], chains[end])) ++end;
      const auto batch = chains.subspan(first, end - first);
      auto out = samplers::dispatch(batch.front().sampler.kind, [&](auto rule) {
        return run_batch<decltype(rule)>(problem, data, batch, listener, first, group);
      });
      const bool interrupted = out.front().interrupted;
      for (auto& r : out) results.push_back(std::move(r));
      if (interrupted) break;
      first = end;
    }
    return results;
  }

 private:
  template <class Rule>
  std::vector<estimator::ChainResult> run_batch(const dln::Problem& problem, const DataSpec& data,
                                                std::span<const ChainSpec> specs,
                                                const TraceListener* listener,
                                                std::size_t first_index, ChainGroup* group);
  // One step of `dev` captured and instantiated; null (with a warning, once a backend) if the
  // capture failed, with the streams out of capture mode.
  template <class Rule>
  std::unique_ptr<cuda::GraphHandle> capture_step(cuda::ChainBatch<Rule>& dev);

  const std::atomic<bool>* stop_;
  bool graphs_ = true;
  bool capture_warned_ = false;
  std::int64_t graph_replays_ = 0;
  std::string precision_;
  int device_ = 0;
  std::string device_name_;
  std::vector<std::unique_ptr<cuda::StreamHandle>> lane_streams_;
  std::vector<std::unique_ptr<cuda::CublasHandle>> lane_handles_;
  std::vector<DeviceBuffer<char>> workspaces_;
  cuda::GemmLanes lanes_;
  cudaStream_t stream_ = nullptr;     // lane 0: the stream everything else runs on
  cublasHandle_t cublas_ = nullptr;   // lane 0's handle
  PreparedProblem prepared_;
};

HardwareFloor CudaBackend::measure_floor(int n, int copy_mib, double seconds) {
  cuda::set_device(device_);
  HardwareFloor f;
  if (n > 0) {
    const auto size = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
    DeviceBuffer<float> a(size), b(size), c(size);
    LLCB_CUDA_CHECK(cudaMemsetAsync(a.data(), 0, size * sizeof(float), stream_));
    LLCB_CUDA_CHECK(cudaMemsetAsync(b.data(), 0, size * sizeof(float), stream_));
    const double s = seconds_per_run(stream_, seconds, [&] {
      cuda::gemm(cublas_, false, false, n, n, n, a.data(), n, b.data(), n, c.data(), n);
    });
    f.sgemm_gflops = 2.0 * n * static_cast<double>(n) * n / s / 1e9;
  }
  if (copy_mib > 0) {
    const std::size_t bytes = static_cast<std::size_t>(copy_mib) << 20;
    DeviceBuffer<char> a(bytes), b(bytes);
    const double s = seconds_per_run(stream_, seconds, [&] {
      LLCB_CUDA_CHECK(cudaMemcpyAsync(b.data(), a.data(), bytes, cudaMemcpyDeviceToDevice, stream_));
    });
    f.bandwidth_gbs = 2.0 * static_cast<double>(bytes) / s / 1e9;  // read + write
  }
  return f;
}

template <class Rule>
std::unique_ptr<cuda::GraphHandle> CudaBackend::capture_step(cuda::ChainBatch<Rule>& dev) {
  auto graph = std::make_unique<cuda::GraphHandle>();
  std::string failure;
  LLCB_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
  try {
    dev.launch_step(lanes_);
  } catch (const DeviceLostError&) {
    (void)cudaStreamEndCapture(stream_, &graph->graph);
    throw;  // not a capture problem: the device is gone
  } catch (const std::exception& e) {
    failure = e.what();
  }
  const cudaError_t ended = cudaStreamEndCapture(stream_, &graph->graph);
  if (failure.empty() && ended != cudaSuccess) failure = cudaGetErrorString(ended);
  if (failure.empty()) {
    const cudaError_t made = cudaGraphInstantiate(&graph->exec, graph->graph, 0);
    if (made != cudaSuccess) failure = cudaGetErrorString(made);
  }
  if (failure.empty()) return graph;
  (void)cudaGetLastError();  // a failed capture leaves no sticky error; clear the last one
  for (cudaStream_t s : lanes_.streams) {
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    LLCB_CUDA_CHECK(cudaStreamIsCapturing(s, &status));
    if (status != cudaStreamCaptureStatusNone) {
      throw RuntimeError("cuda: a stream stayed in capture mode after a failed capture: " + failure);
    }
  }
  if (!capture_warned_) {
    log::warn("cuda: capturing a step as a graph failed ({}); launching each step's kernels "
              "directly (same results; set sweep.cuda_graphs = off to skip the attempt)", failure);
    capture_warned_ = true;
  }
  return nullptr;  // whatever the capture made is released with `graph`
}

template <class Rule>
std::vector<estimator::ChainResult> CudaBackend::run_batch(const dln::Problem& problem,
                                                           const DataSpec& data,
                                                           std::span<const ChainSpec> specs,
                                                           const TraceListener* listener,
                                                           std::size_t first_index,
                                                           ChainGroup* group) {
  // The path through the network is the whole minibatch's, whatever share of it this rank has.
  cuda::ChainBatch<Rule> dev(problem, specs, prepared_.teacher(), static_cast<float>(data.target_sigma),
                             group, kRingLen,
                             gradient_cut(problem.widths, specs.front().batch_size, data.narrowest_gradient));
  const std::size_t c = specs.size();
  const std::int64_t steps = specs.front().steps;
  std::vector<estimator::ChainEstimator> est;
  std::vector<TraceFeed> feeds;
  for (std::size_t i = 0; i < c; ++i) {
    est.emplace_back(estimator_config(specs[i], dev.d(), prepared_.loss_center()));
    feeds.emplace_back(listener, first_index + i);
  }

  // The first step launches its kernels directly: it loads the kernels and lets cuBLAS set
  // itself up outside any capture. Then one step is captured as a graph, and every replay
  // advances the device-side step counters. Without graphs, or if the capture fails (logged
  // once; the direct launches are the same work in the same order, so the bits are the same),
  // each step launches its kernels directly.
  std::unique_ptr<cuda::GraphHandle> graph;
  bool stepped = false, use_graph = graphs_;
  const auto step = [&] {
    if (use_graph && stepped && !graph) {
      graph = capture_step(dev);
      use_graph = graph != nullptr;
    }
    if (graph) {
      LLCB_CUDA_CHECK(cudaGraphLaunch(graph->exec, stream_));
      ++graph_replays_;
    } else {
      dev.launch_step(lanes_);
      stepped = true;
    }
  };

  cuda::PinnedBuffer<double> host_ring(c * 4 * kRingLen);
  DeviceBuffer<unsigned long long> checksum(group ? 1 : 0);
  std::vector<char> ended(c, 0);
  const auto all_ended = [&] { return std::all_of(ended.begin(), ended.end(), [](char e) { return e != 0; }); };
  const auto start = std::chrono::steady_clock::now();
  bool interrupted = false;
  // Steps per host round trip: starts small and adapts so that a round trip takes about
  // kRoundTripSeconds (the stop flag and the live trace are served at that pace), never more
  // than the ring holds and never across the ring's end (slots stay contiguous). In a group, the
  // members agree before each round trip on its length (member 0's) and on a stop request
  // (anyone's), and after it on which chains ended and on a checksum of the parameters, so that
  // they run the same steps and leave together.
  std::int64_t per_trip = 16;
  for (std::int64_t first = 0; first < steps && !all_ended();) {
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
    const auto ended_before = std::count(ended.begin(), ended.end(), 1);
    const std::int64_t slot0 = first % kRingLen;
    const std::int64_t n = std::min({want, kRingLen - slot0, steps - first});
    const auto trip_start = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < n; ++i) step();
    // Chain k's records of this trip land at host_ring + k * 4n.
    LLCB_CUDA_CHECK(cudaMemcpy2DAsync(host_ring.p, static_cast<std::size_t>(4 * n) * sizeof(double),
                                      dev.ring() + 4 * slot0, static_cast<std::size_t>(4 * kRingLen) * sizeof(double),
                                      static_cast<std::size_t>(4 * n) * sizeof(double), c,
                                      cudaMemcpyDeviceToHost, stream_));
    if (group) {
      group->wait_device(stream_, kGroupTimeoutSeconds);
    } else {
      LLCB_CUDA_CHECK(cudaStreamSynchronize(stream_));
    }
    for (std::size_t k = 0; k < c; ++k) {
      for (std::int64_t i = 0; i < n && !ended[k]; ++i) {
        const double* slot = host_ring.p + 4 * (static_cast<std::int64_t>(k) * n + i);
        const std::int64_t t = first + i;  // slot: loss, drift^2, noise^2, ||w - w*||^2
        if (!est[k].observe_loss(t, slot[0]) || !est[k].observe_step(t, slot[3], slot[1], slot[2])) {
          ended[k] = 1;
        }
      }
      feeds[k].offer(est[k].loss_trace());
    }
    if (group) {
      const std::int64_t last = first + n - 1;
      if (group->rank() == 1 && specs.front().test_drift_at_step >= first &&
          specs.front().test_drift_at_step <= last) {
        float w0 = 0;  // injected fault: perturb one parameter of member 1
        LLCB_CUDA_CHECK(cudaMemcpyAsync(&w0, dev.parameters(), sizeof w0, cudaMemcpyDeviceToHost, stream_));
        LLCB_CUDA_CHECK(cudaStreamSynchronize(stream_));
        w0 += 1e-3f;
        LLCB_CUDA_CHECK(cudaMemcpyAsync(dev.parameters(), &w0, sizeof w0, cudaMemcpyHostToDevice, stream_));
      }
      unsigned long long sum = 0;
      cuda::checksum_on_device(dev.parameters(), dev.chains() * dev.layout().params, checksum.data(), stream_);
      LLCB_CUDA_CHECK(cudaMemcpyAsync(&sum, checksum.data(), sizeof sum, cudaMemcpyDeviceToHost, stream_));
      LLCB_CUDA_CHECK(cudaStreamSynchronize(stream_));
      if (!group->agree(sum)) {
        throw RuntimeError("chain group members drifted apart by step " + std::to_string(last) +
                           " (their parameter checksums differ)");
      }
      std::vector<double> any(ended.begin(), ended.end());
      group->sum(any.data(), any.size());
      for (std::size_t k = 0; k < c; ++k) ended[k] = any[k] > 0;
    }
    // Chains that ended this round trip drop out of the GEMMs (a new capture holds that).
    if (std::count(ended.begin(), ended.end(), 1) > ended_before && !all_ended()) {
      std::vector<char> active(c);
      for (std::size_t k = 0; k < c; ++k) active[k] = ended[k] ? 0 : 1;
      dev.set_active(active);
      LLCB_CUDA_CHECK(cudaStreamSynchronize(stream_));  // the old graph has finished
      graph.reset();
    }
    first += n;
    const double trip =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - trip_start).count();
    if (trip < kRoundTripSeconds / 2) per_trip = std::min(per_trip * 2, kRingLen);
    if (trip > kRoundTripSeconds * 2) per_trip = std::max<std::int64_t>(per_trip / 2, 1);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<estimator::ChainResult> results;
  for (std::size_t k = 0; k < c; ++k) {
    results.push_back(est[k].finish(seconds));
    results.back().interrupted = interrupted;
    log::debug("cuda chain {} of {}: {} steps in {:.3f} s, lambda_hat {}", k + 1, c,
               results.back().steps_run, seconds, results.back().lambda_hat);
  }
  return results;
}

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(const BackendOptions& options) {
  return std::make_unique<CudaBackend>(options);
}

}  // namespace llcb::backend

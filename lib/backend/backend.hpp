// The backend interface. Its unit of work is a whole chain, or a batch of chains of one problem:
// never a single operation, so that a backend (CPU, CUDA) owns its inner loop completely.
//
// Contract for every backend:
//   - run() returns one ChainResult per ChainSpec, in order; a chain is a pure function of
//     (problem, spec): the same inputs give the same trace bit for bit on the same backend,
//     whatever the thread count, rank or placement.
//   - the minibatch of step t and the injected noise follow lib/dln/dataset.hpp and
//     lib/core/streams.hpp, so every backend sees the same data and noise.
//   - invalid specs throw UsageError before any chain runs (see validate()).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "lib/backend/gradient_plan.hpp"
#include "lib/dln/dataset.hpp"
#include "lib/dln/linalg.hpp"
#include "lib/dln/problem.hpp"
#include "lib/estimator/chain_result.hpp"
#include "lib/estimator/estimator.hpp"
#include "lib/estimator/estimator.hpp"
#include "lib/samplers/config.hpp"

namespace llcb::backend {

struct ChainSpec {
  samplers::SamplerConfig sampler;
  std::int64_t steps = 50'000;
  std::int64_t burn_in = 45'000;  // losses of steps t >= burn_in are kept
  std::int64_t batch_size = 500;
  std::uint64_t chain_seed = 1;
  dln::Sampling sampling = dln::Sampling::kWithoutReplacement;
  double divergence_factor = 100;
  double estimate_bound_factor = estimator::kEstimateBoundFactor;  // diverged above this * d/2
  double stationarity_tolerance = 0.1;
  std::int64_t diag_every = 0;    // 0: max(1, steps / 1000)
  // Chain groups only (ChainGroup below): steps between parameter-checksum comparisons.
  std::int64_t drift_check_every = 100;
  // Test only: member 1 of a group perturbs one parameter after this step (-1: never), so that
  // the drift check has something to find.
  std::int64_t test_drift_at_step = -1;
};

// The data-generating setting of a problem beyond the teacher: target noise sigma (default 0),
// and how a step computes its targets X P^T (docs/performance.md, "Targets through the
// teacher's rank"): through the teacher product P (Hout x H1), or through its rank-r factors,
// (X F_in^T) F_out^T, which is fewer flops where r (H1 + Hout) < H1 Hout (elsewhere the product
// is used anyway). The two differ in rounding only; a store records which one its jobs used
// (chain.targets). Likewise how a step computes its loss and gradient: layer by layer, or through
// the network's narrowest width where that is fewer flops (gradient_plan.hpp; chain.gradient),
// and how the CPU backend sums over the batch: whole, or in two halves (gradient_plan.hpp;
// chain.batch_sums; the CUDA backend sums the batch through cuBLAS whatever this says).
struct DataSpec {
  double target_sigma = 0;
  bool factored_targets = false;
  bool narrowest_gradient = false;
  bool batch_halves = false;
};

// "factored" -> true, "product" -> false (DataSpec::factored_targets); UsageError naming `what`
// otherwise.
bool parse_targets(const std::string& text, const std::string& what);

// Throws UsageError for steps < 1, burn_in outside [0, steps), batch_size outside [1, n],
// an invalid sampler configuration (samplers::validate), divergence_factor <= 0,
// estimate_bound_factor <= 0, or diag_every < 0.
void validate(const ChainSpec& spec, const dln::Problem& problem);

// Receives the loss trace while chains run (live progress, heartbeats): about every
// interval_seconds, the losses of steps [first_step, first_step + n) of chain `chain` (its index
// in the run() call) that were not sent before. Called from the thread that called run().
struct TraceListener {
  double interval_seconds = 1.0;
  std::function<void(std::size_t chain, std::int64_t first_step, const float* losses, std::size_t n)>
      on_losses;
};

// Passes a chain's newly recorded losses to a listener about every interval_seconds (backends call
// offer() after recording losses; it does nothing without a listener).
class TraceFeed {
 public:
  TraceFeed(const TraceListener* listener, std::size_t chain);
  void offer(const std::vector<float>& trace);

 private:
  const TraceListener* listener_;
  std::size_t chain_;
  std::size_t sent_ = 0;  // losses already passed on
  double last_ = 0;       // steady-clock seconds of the last send (or of construction)
};

// The fp32 teacher of a problem as every backend uses it: w* flat, laid out like the student
// (layer s a row-major H_{s+1} x H_s block), and the target map P = W*_M ... W*_1 (row-major
// H_{M+1} x H_1), both rounded from the double teacher. With `factored` (and only where it saves
// flops) also P's factors P = F_out F_in (teacher_factors), rounded to fp32; rank is their inner
// size r, or 0 when the targets go through the product.
struct TeacherData {
  std::vector<float> center;
  std::vector<float> product;
  std::vector<float> factor_in, factor_out;
  std::int64_t rank = 0;
};
TeacherData teacher_data(const dln::Problem& problem, bool factored = false);

// P = F_out F_in exactly, split at the teacher's narrowest point: an inner width H_j (F_out =
// W_M..W_j, F_in = W_{j-1}..W_1) or a layer whose rank-reduction cut keeps k rows or columns
// (the cut's factors), whichever is smallest (r = the product's rank where one layer or width
// sets it, as in every class); in double, by the project's own GEMMs (dln::chain_product), so the
// bits depend neither on the thread count nor on a LAPACK build.
struct TeacherFactors {
  dln::MatrixD out, in;  // H_{M+1} x r and r x H_1
  std::int64_t rank = 0;
};
TeacherFactors teacher_factors(const dln::Problem& problem);

// The inner size r of the factors a step's targets go through (teacher_data's rank), from the
// architecture alone, without a product: 0 unless `factored` and r (H_1 + H_{M+1}) < H_1 H_{M+1}.
std::int64_t targets_rank(const dln::Problem& problem, bool factored);

// The teacher and L_n(w*) of the last problem a backend ran, kept between run() calls: a worker
// running many jobs of one problem prepares it once. prepare() recomputes them only when the
// problem (class, seed, teacher mode, rank, n) or the target noise changed.
class PreparedProblem {
 public:
  void prepare(const dln::Problem& problem, const DataSpec& data);
  const TeacherData& teacher() const { return teacher_; }
  double loss_center() const { return loss_center_; }

 private:
  std::string key_;
  TeacherData teacher_;
  double loss_center_ = 0;
};

// The estimator settings of a chain of d parameters whose L_n(w*) is loss_center.
estimator::EstimatorConfig estimator_config(const ChainSpec& spec, std::int64_t d,
                                            double loss_center);

// The members of a chain group: G processes that run one chain together, data-parallel over the
// minibatch (ranks_per_chain = G, design.md "Shape"). Member r computes the loss and gradient of
// its rows of the step's minibatch (group_rows), the group sums them, and every member applies
// the identical update with the identical noise, so parameters stay identical without being
// sent. Implemented in mpi/ (MPI for host memory, NCCL for device memory); lib/ sees only this.
class ChainGroup {
 public:
  virtual ~ChainGroup() = default;
  virtual int rank() const = 0;  // 0 .. size() - 1; member 0 reports the job
  virtual int size() const = 0;
  // Element-wise sums over the members of host arrays, in place. Every member receives the same
  // bits (the partial arrays are added in member order), whatever the transport does.
  virtual void sum(float* data, std::size_t n) = 0;
  virtual void sum(double* data, std::size_t n) = 0;
  // True on every member when every member passed the same value (the drift check).
  virtual bool agree(std::uint64_t value) = 0;

  // GPU memory (the CUDA backend): whether this group can sum device arrays at all (NCCL).
  virtual bool device_sums() const { return false; }
  // Sums of device arrays, enqueued on `stream` (a cudaStream_t; may be captured in a CUDA
  // graph); every member gets the same bits. Only where device_sums(); otherwise they throw.
  virtual void sum_device(float* data, std::size_t n, void* stream);
  virtual void sum_device(double* data, std::size_t n, void* stream);
  // Waits until `stream` is idle, polling the transport for asynchronous errors: throws
  // RuntimeError when it reports one, or after timeout_seconds (a member died or hangs), rather
  // than hang. Only where device_sums().
  virtual void wait_device(void* stream, double timeout_seconds);
};

// Rows [first, first + count) of a batch of `batch` rows that member `rank` of `size` computes:
// contiguous shares, the first batch % size members one row more.
struct RowShare {
  std::int64_t first = 0, count = 0;
};
RowShare group_rows(std::int64_t batch, int rank, int size);

// What the hardware under a backend allows, measured on it: sgemm on a square n x n x n product
// (2 n^3 flops) and the memory bandwidth of a large copy (bytes read + written per second).
struct HardwareFloor {
  double sgemm_gflops = 0;
  double bandwidth_gbs = 0;
};

// The floor at a step's own shapes (`bench`, docs/performance.md): the step's GEMMs alone (its
// shapes, transposes and thread split) and the update's memory traffic alone, in milliseconds;
// NaN where a backend does not measure them. Apart from it, the step's random draws alone (the
// noise of every parameter and the minibatch's inputs): work, not traffic, that every step does.
struct ShapeFloor {
  double gemm_ms = std::numeric_limits<double>::quiet_NaN();
  double update_ms = std::numeric_limits<double>::quiet_NaN();
  double draws_ms = std::numeric_limits<double>::quiet_NaN();
  double total_ms() const { return gemm_ms + update_ms; }
  double with_draws_ms() const { return total_ms() + draws_ms; }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // Measures the floor with an n x n x n sgemm and a copy of `copy_mib` MiB, each repeated for
  // about `seconds` after one untimed warm-up (n = 0 skips the sgemm).
  virtual HardwareFloor measure_floor(int n, int copy_mib, double seconds) = 0;
  // Measures the ShapeFloor of a step of `problem` (its targets as `data` says) at `batch_size`
  // with sampler `kind`, each part
  // repeated for about `seconds`.
  virtual ShapeFloor measure_shape_floor(const dln::Problem& /*problem*/, const DataSpec& /*data*/,
                                         std::int64_t /*batch_size*/, samplers::SamplerKind /*kind*/,
                                         double /*seconds*/) {
    return {};
  }
  // A short description of the hardware (CPU threads, GPU name).
  virtual std::string hardware() const = 0;
  // The precision its GEMMs compute in: "fp32" (the CPU backend, and CUDA by default) or "tf32".
  virtual std::string precision() const { return "fp32"; }
  // Steps replayed as CUDA graphs since the backend was made (0 where there are none: the CPU,
  // graphs off, or every capture failed and the steps were launched directly).
  virtual std::int64_t graph_replays() const { return 0; }
  // With a group of size > 1, every member calls run() with the same arguments and gets the same
  // results; a group whose members drifted apart throws RuntimeError on every member.
  virtual std::vector<estimator::ChainResult> run(const dln::Problem& problem, const DataSpec& data,
                                                  std::span<const ChainSpec> chains,
                                                  const TraceListener* listener = nullptr,
                                                  ChainGroup* group = nullptr) = 0;
};

struct BackendOptions {
  std::string name = "cpu";
  int threads = 0;  // CPU threads; 0: every hardware thread
  // CUDA device: -1 picks local_rank modulo the visible devices (docs/cluster.md); >= 0 names one.
  int device = -1;
  int local_rank = 0;  // this process's node-local rank (0 without MPI)
  // CUDA GEMM precision: "fp32" (default) or "tf32" (tensor cores, 10-bit mantissa inputs).
  std::string precision = "fp32";
  // CUDA: replay each step as a captured graph (default), or launch its kernels one by one (the
  // same results; a fallback and a check).
  bool graphs = true;
  // CUDA: concurrent streams ("lanes", 1..8) that batched chains' GEMMs are spread over. A
  // performance setting only: a chain's GEMMs are the same whatever its lane.
  int gemm_lanes = 8;
  // When set and true, running chains stop at the next step and come back with
  // interrupted = true (a signal handler in the app sets it; lib/ reads no globals).
  const std::atomic<bool>* stop = nullptr;
};

// "cpu" (always) or a backend this build has; throws UsageError naming the available ones.
std::unique_ptr<Backend> make_backend(const BackendOptions& options);
std::vector<std::string> available_backends();
// UsageError naming the available backends unless this build has `name`.
void check_available(const std::string& name);

// L_n(w*): exactly 0 when sigma = 0; otherwise the mean squared target noise over the whole
// dataset (n * H_out draws, computed once per problem).
double loss_at_teacher(const dln::Problem& problem, const DataSpec& data);

// Bytes the fused sampler update moves per step for d parameters: read w, g, w* and write w
// (16 bytes a parameter), plus a read and a write of each state array (8 bytes each).
double update_bytes_per_step(samplers::SamplerKind kind, std::int64_t d);

// The time floor of one step in seconds: GEMM flops at the sgemm rate plus the update's bytes at
// the bandwidth (the two cannot overlap: the update needs the finished gradient).
double step_floor_seconds(const dln::Problem& problem, std::int64_t batch_size,
                          samplers::SamplerKind kind, const HardwareFloor& floor, std::int64_t targets_rank = 0,
                          std::int64_t cut = -1);

// Floating-point operations of one step of a chain at batch size B, the figure `bench` reports:
// the loss and gradient through cut (gradient_flops; -1, layer by layer: forward 2 d B, weight
// gradients 2 d B, input gradients 2 B (d - H_1 H_2)), and the targets, 2 B H_1 H_{M+1}, or
// 2 B r (H_1 + H_{M+1}) through factors of inner size r (targets_rank > 0: TeacherData::rank).
double flops_per_step(const dln::Problem& problem, std::int64_t batch_size, std::int64_t targets_rank = 0,
                      std::int64_t cut = -1);

}  // namespace llcb::backend

// The CUDA backend against the CPU oracle (the conformance test: the same job on both backends),
// plus its own determinism, divergence handling and device selection. Every test that needs a
// GPU skips cleanly when none is visible; the no-device error is checked exactly then.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "lib/backend/backend.hpp"
#include "lib/backend/cuda/check.cuh"
#include "lib/backend/cuda/device.hpp"
#include "lib/core/error.hpp"
#include "lib/samplers/registry.hpp"

namespace llcb::backend {
namespace {

// d = 60*50 + 50*40 = 5000 parameters: several update blocks, several residual blocks.
dln::Problem problem() { return dln::problem_from_architecture({60, 50, 40}, 5, 3, 100'000); }

ChainSpec spec(samplers::SamplerKind kind, std::int64_t steps) {
  ChainSpec s;
  s.sampler.kind = kind;
  // Step sizes inside each sampler's working range on this problem (docs/samplers.md).
  s.sampler.step_size = kind == samplers::SamplerKind::kSgld ? 1e-7 : 1e-9;
  s.sampler.nbeta = 100'000 / std::log(100'000.0);
  s.steps = steps;
  s.burn_in = steps / 2;
  s.batch_size = 200;
  return s;
}

// n chains of one sampler with seeds first_seed, first_seed + 1, ...
std::vector<ChainSpec> chains_of(samplers::SamplerKind kind, std::int64_t steps, std::uint64_t first_seed,
                                 int n) {
  std::vector<ChainSpec> specs;
  for (int i = 0; i < n; ++i) {
    specs.push_back(spec(kind, steps));
    specs.back().chain_seed = first_seed + static_cast<std::uint64_t>(i);
  }
  return specs;
}

estimator::ChainResult run_on(const std::string& name, const ChainSpec& s, DataSpec data = {}) {
  BackendOptions o;
  o.name = name;
  o.threads = 2;
  return make_backend(o)->run(problem(), data, std::span(&s, 1)).front();
}

constexpr samplers::SamplerKind kAll[] = {
    samplers::SamplerKind::kSgld, samplers::SamplerKind::kRmspropSgld,
    samplers::SamplerKind::kAdamSgld, samplers::SamplerKind::kSghmc,
    samplers::SamplerKind::kSgnht};

TEST(CudaBackend, WithoutAUsableDeviceIsAUsageError) {
  BackendOptions o;
  o.name = "cuda";
  if (cuda::device_count() == 0) {
    // The message says what the runtime said (no driver, a driver too old for this toolkit, ...).
    try {
      make_backend(o);
      ADD_FAILURE() << "no exception";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("no usable CUDA device (cudaGetDeviceCount: "), std::string::npos)
          << e.what();
    }
  } else {
    o.device = cuda::device_count();  // one past the last
    EXPECT_THROW(make_backend(o), UsageError);
  }
}

// Host side, no device needed: sticky errors end the worker (DeviceLostError), the others are
// job failures (RuntimeError) whose error is cleared from the runtime first.
TEST(CudaErrors, StickyErrorsAreALostDeviceAndTheOthersAJobFailure) {
  for (const cudaError_t e : {cudaErrorIllegalAddress, cudaErrorLaunchFailure, cudaErrorMisalignedAddress,
                              cudaErrorIllegalInstruction, cudaErrorAssert}) {
    EXPECT_TRUE(cuda::is_sticky(e)) << cudaGetErrorName(e);
    EXPECT_THROW(cuda::throw_cuda_error(e, "a kernel"), DeviceLostError) << cudaGetErrorName(e);
  }
  for (const cudaError_t e : {cudaErrorMemoryAllocation, cudaErrorInvalidValue, cudaErrorInvalidConfiguration}) {
    EXPECT_FALSE(cuda::is_sticky(e)) << cudaGetErrorName(e);
    try {
      cuda::throw_cuda_error(e, "cudaMalloc of 12 bytes (0.0 MiB) failed");
      ADD_FAILURE() << "no exception";
    } catch (const DeviceLostError&) {
      ADD_FAILURE() << cudaGetErrorName(e) << " is not sticky";
    } catch (const RuntimeError& err) {
      EXPECT_NE(std::string(err.what()).find(cudaGetErrorName(e)), std::string::npos) << err.what();
    }
  }
}

// The conformance test. Same data, same noise (identical Philox addresses); the arithmetic
// differs in summation order (cuBLAS vs OpenBLAS blocking, device reductions) and FMA
// contraction, i.e. relative differences of order 1e-6 per step that the chain carries along.
// Over the first 1000 steps the losses must agree to 1e-3 relative (the bar of the design; the
// worst case is reported as a test property), and the estimates within 5%: far
// inside the chain-to-chain spread of lambda_hat (tens of percent on this problem).
TEST(Conformance, CudaTracesFollowTheCpuOracle) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  for (auto kind : kAll) {
    const ChainSpec s = spec(kind, 4000);
    const auto cpu = run_on("cpu", s);
    const auto gpu = run_on("cuda", s);
    const std::string name = samplers::sampler_info(kind).name;
    ASSERT_EQ(gpu.loss_trace.size(), cpu.loss_trace.size()) << name;
    double worst = 0;
    for (std::size_t t = 1; t < 1000; ++t) {  // t = 0 is rounding noise around 0 on both
      const double diff = std::abs(static_cast<double>(gpu.loss_trace[t]) - cpu.loss_trace[t]);
      worst = std::max(worst, diff / std::abs(static_cast<double>(cpu.loss_trace[t])));
    }
    EXPECT_LT(worst, 1e-3) << name;
    RecordProperty(name + "_worst_rel_diff", std::to_string(worst));
    EXPECT_LT(gpu.loss_trace[0], 1e-9) << name;
    EXPECT_FALSE(gpu.diverged) << name;
    EXPECT_NEAR(gpu.lambda_hat, cpu.lambda_hat, 0.05 * std::abs(cpu.lambda_hat)) << name;
  }
}

// Several chains in one run() call: consecutive chains of one sampler advance together (batched
// GEMMs, one update launch), a chain of another sampler in between splits the batch. Each chain
// must still follow its own CPU chain, in the order given.
TEST(Conformance, BatchedChainsFollowTheCpuOracleEachOnItsOwn) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  std::vector<ChainSpec> specs;
  for (int i = 0; i < 4; ++i) {
    ChainSpec s = spec(i == 2 ? samplers::SamplerKind::kSghmc : samplers::SamplerKind::kSgld, 1500);
    s.chain_seed = 10 + static_cast<std::uint64_t>(i);
    if (i == 1) s.sampler.step_size *= 2;
    specs.push_back(s);
  }
  BackendOptions o;
  o.name = "cuda";
  const auto gpu = make_backend(o)->run(problem(), {}, specs);
  ASSERT_EQ(gpu.size(), specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const auto cpu = run_on("cpu", specs[i]);
    double worst = 0;
    for (std::size_t t = 1; t < 1000; ++t) {
      const double diff = std::abs(static_cast<double>(gpu[i].loss_trace[t]) - cpu.loss_trace[t]);
      worst = std::max(worst, diff / std::abs(static_cast<double>(cpu.loss_trace[t])));
    }
    EXPECT_LT(worst, 1e-3) << "chain " << i;
  }
}

// A chain's bits do not depend on the chains that share its batch (its GEMMs are the ones it
// runs alone; the batched kernels treat each chain independently): the contract that lets the
// scheduler bundle jobs.
TEST(CudaBackend, AChainInABatchIsBitIdenticalToTheChainAlone) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  const std::vector<ChainSpec> specs = chains_of(samplers::SamplerKind::kAdamSgld, 1200, 20, 5);
  BackendOptions o;
  o.name = "cuda";
  auto be = make_backend(o);
  const auto batched = be->run(problem(), {}, specs);
  for (std::size_t i : {0u, 3u}) {
    const auto alone = be->run(problem(), {}, std::span(&specs[i], 1)).front();
    EXPECT_EQ(batched[i].loss_trace, alone.loss_trace) << "chain " << i;
    EXPECT_EQ(batched[i].lambda_hat, alone.lambda_hat) << "chain " << i;
  }
}

// The same on a problem of odd d and odd batch (every chain offset odd before chain_layout.hpp
// padded them), with more chains than lanes (chain k on lane k % 3) and in both precisions.
TEST(CudaBackend, AChainInABatchIsTheChainAloneAtOddShapesAndLanesThatWrap) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  const dln::Problem odd = dln::problem_from_architecture({61, 47, 34}, 5, 3, 100'000);  // d = 4465
  std::vector<ChainSpec> specs = chains_of(samplers::SamplerKind::kSghmc, 600, 70, 7);
  for (auto& s : specs) s.batch_size = 199;
  for (const char* precision : {"fp32", "tf32"}) {
    BackendOptions o;
    o.name = "cuda";
    o.gemm_lanes = 3;
    o.precision = precision;
    auto be = make_backend(o);
    const auto batched = be->run(odd, {}, specs);
    for (std::size_t i : {1u, 4u, 6u}) {  // lanes 1, 1 and 0, and slots whose offsets were odd
      const auto alone = be->run(odd, {}, std::span(&specs[i], 1)).front();
      EXPECT_EQ(batched[i].loss_trace, alone.loss_trace) << precision << " chain " << i;
      EXPECT_EQ(batched[i].lambda_hat, alone.lambda_hat) << precision << " chain " << i;
      EXPECT_FALSE(alone.diverged) << precision << " chain " << i;
    }
  }
}

// A chain that diverges leaves the batch's GEMMs (the step is captured anew without it); the
// others go on bit for bit as alone, and the diverged chain reports what it reports alone.
TEST(CudaBackend, ADivergedChainLeavesTheBatchWithoutChangingTheOthers) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  std::vector<ChainSpec> specs = chains_of(samplers::SamplerKind::kSgld, 3000, 40, 4);
  specs[1].sampler.step_size = 1.0;  // diverges within a few steps
  for (bool graphs : {true, false}) {
    BackendOptions o;
    o.name = "cuda";
    o.graphs = graphs;
    auto be = make_backend(o);
    const auto batched = be->run(problem(), {}, specs);
    ASSERT_TRUE(batched[1].diverged);
    for (std::size_t i = 0; i < specs.size(); ++i) {
      const auto alone = be->run(problem(), {}, std::span(&specs[i], 1)).front();
      EXPECT_EQ(batched[i].loss_trace, alone.loss_trace) << "chain " << i << " graphs " << graphs;
      EXPECT_EQ(batched[i].diverged, alone.diverged) << "chain " << i;
      EXPECT_EQ(batched[i].divergence_step, alone.divergence_step) << "chain " << i;
      if (i != 1) {
        EXPECT_EQ(batched[i].lambda_hat, alone.lambda_hat) << "chain " << i;
      }
    }
  }
}

// Replaying the captured graph and launching the same kernels one by one are the same work in
// the same order: the same bits (and a fallback if capture ever fails on some platform).
TEST(CudaBackend, GraphsOnAndOffGiveTheSameBits) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  const std::vector<ChainSpec> specs = chains_of(samplers::SamplerKind::kSgnht, 700, 30, 3);
  std::vector<std::vector<estimator::ChainResult>> out;
  for (bool graphs : {true, false}) {
    BackendOptions o;
    o.name = "cuda";
    o.graphs = graphs;
    auto be = make_backend(o);
    out.push_back(be->run(problem(), {}, specs));
    // A failed capture only warns and launches directly: without this the test could compare
    // direct launches with direct launches. At most every step but the first (launched directly
    // before the capture) is a replay.
    if (graphs) {
      EXPECT_GT(be->graph_replays(), 0) << "graphs were asked for and no step was replayed";
      EXPECT_LE(be->graph_replays(), 699);
    } else {
      EXPECT_EQ(be->graph_replays(), 0);
    }
  }
  for (std::size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(out[0][i].loss_trace, out[1][i].loss_trace) << "chain " << i;
  }
}

TEST(Conformance, TargetNoiseIsTheSameOnBothBackends) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  const ChainSpec s = spec(samplers::SamplerKind::kSgld, 50);
  const auto cpu = run_on("cpu", s, DataSpec{0.5});
  const auto gpu = run_on("cuda", s, DataSpec{0.5});
  for (std::size_t t = 0; t < 50; ++t) {
    EXPECT_NEAR(gpu.loss_trace[t], cpu.loss_trace[t], 1e-4 * cpu.loss_trace[t]) << t;
  }
}

// Targets through the teacher's factors (chain.targets = factored, a sweep's default): the batch
// computes them through its gradient buffer (chain_batch.cpp), the CPU in DlnModel. Both round
// the same fp32 factors through two GEMMs; the tolerance is that of the product path above.
TEST(Conformance, FactoredTargetsAreTheSameOnBothBackends) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  ASSERT_GT(targets_rank(problem(), true), 0) << "the test problem would not use its factors";
  const ChainSpec s = spec(samplers::SamplerKind::kSgld, 50);
  DataSpec factored;
  factored.factored_targets = true;
  const auto cpu = run_on("cpu", s, factored);
  const auto gpu = run_on("cuda", s, factored);
  for (std::size_t t = 0; t < 50; ++t) {
    EXPECT_NEAR(gpu.loss_trace[t], cpu.loss_trace[t], 1e-4 * cpu.loss_trace[t]) << t;
  }
}

// Through the narrowest width (chain.gradient = narrowest, a sweep's default) on networks cut at
// the output, at an inner width and at the input: both backends run lib/backend/cut_pass.hpp's
// GEMMs, each with its own GEMM, so they agree as the layer-by-layer path does (the tolerance of
// the product path above), and each agrees with its own layer-by-layer path likewise.
TEST(Conformance, TheNarrowestWidthPathIsTheSameOnBothBackends) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  const ChainSpec s = spec(samplers::SamplerKind::kSgld, 50);
  const std::vector<std::pair<std::vector<std::int64_t>, std::int64_t>> nets = {
      {{60, 50, 40, 20}, 3}, {{60, 20, 50, 40}, 1}, {{20, 60, 50}, 0}};  // widths, the cut they take
  for (const auto& [widths, cut] : nets) {
    const dln::Problem p = dln::problem_from_architecture(widths, 5, 3, 100'000);
    ASSERT_EQ(gradient_cut(widths, s.batch_size, true), cut);
    DataSpec narrowest, layered;
    narrowest.narrowest_gradient = true;
    const auto on = [&](const std::string& name, const DataSpec& data) {
      BackendOptions o;
      o.name = name;
      o.threads = 2;
      return make_backend(o)->run(p, data, std::span(&s, 1)).front();
    };
    const auto cpu = on("cpu", narrowest), gpu = on("cuda", narrowest), gpu_layered = on("cuda", layered);
    for (std::size_t t = 0; t < 50; ++t) {
      EXPECT_NEAR(gpu.loss_trace[t], cpu.loss_trace[t], 1e-4 * cpu.loss_trace[t]) << t;
      EXPECT_NEAR(gpu.loss_trace[t], gpu_layered.loss_trace[t], 1e-4 * cpu.loss_trace[t]) << t;
    }
  }
}

TEST(CudaBackend, SameJobGivesTheSameTraceBitForBit) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  for (auto kind : {samplers::SamplerKind::kSgld, samplers::SamplerKind::kSgnht}) {
    // 2500 steps: many host round trips, across the 1024-step ring's end, the last one partial.
    const ChainSpec s = spec(kind, 2500);
    const auto a = run_on("cuda", s);
    const auto b = run_on("cuda", s);
    EXPECT_EQ(a.loss_trace, b.loss_trace);
    EXPECT_EQ(a.distance_trace, b.distance_trace);
    EXPECT_EQ(a.lambda_hat, b.lambda_hat);
  }
}

TEST(CudaBackend, AbsurdStepSizeDivergesCleanly) {
  if (cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  for (auto kind : {samplers::SamplerKind::kSgld, samplers::SamplerKind::kSghmc}) {
    ChainSpec s = spec(kind, 3000);
    s.sampler.step_size = 1.0;
    const auto gpu = run_on("cuda", s);
    const auto cpu = run_on("cpu", s);
    EXPECT_TRUE(gpu.diverged);
    EXPECT_TRUE(std::isnan(gpu.lambda_hat));
    EXPECT_LT(gpu.divergence_step, 3000);
    EXPECT_EQ(gpu.steps_run, gpu.divergence_step);  // steps past it are discarded
    EXPECT_EQ(gpu.reason, cpu.reason);
  }
}

}  // namespace
}  // namespace llcb::backend

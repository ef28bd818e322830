#include "lib/backend/cpu/cpu_backend.hpp"

#include <cblas.h>
#include <omp.h>

#include <chrono>
#include <optional>

#include "lib/backend/cpu/dln_model.hpp"
#include "lib/backend/cpu/gemm_floor.hpp"
#include "lib/backend/cpu/side_update.hpp"
#include "lib/backend/cpu/update_pass.hpp"
#include "lib/core/error.hpp"
#include "lib/core/hash.hpp"
#include "lib/core/philox_blocks.hpp"
#include "lib/dln/architecture.hpp"
#include "lib/dln/linalg.hpp"
#include "lib/core/log.hpp"
#include "lib/estimator/estimator.hpp"
#include "lib/samplers/registry.hpp"

namespace llcb::backend {
namespace {

// A fingerprint of the parameters' bits (the drift check of chain groups).
std::uint64_t checksum(const std::vector<float>& w) {
  return fnv1a64(std::string_view(reinterpret_cast<const char*>(w.data()), w.size() * sizeof(float)));
}

estimator::ChainResult run_chain(const dln::Problem& problem, const DataSpec& data,
                                 const TeacherData& teacher, double loss_center,
                                 const ChainSpec& spec, const std::atomic<bool>* stop,
                                 const TraceListener* listener, std::size_t chain_index,
                                 ChainGroup* group) {
  // In a group this process computes its rows of each minibatch; alone, all of them.
  const RowShare rows = group ? group_rows(spec.batch_size, group->rank(), group->size())
                              : RowShare{0, spec.batch_size};
  // The path through the network is the whole minibatch's, whatever share of it this process has.
  cpu::DlnModel model(problem.widths, rows.count, spec.batch_size,
                      gradient_cut(problem.widths, spec.batch_size, data.narrowest_gradient), data.batch_halves);
  const std::int64_t d = model.d();
  const std::int64_t b = spec.batch_size;
  const std::int64_t h_in = problem.widths.front();
  const std::int64_t h_out = problem.widths.back();
  const samplers::SamplerConfig& sc = spec.sampler;

  std::vector<float> w = teacher.center;
  std::vector<float> grad(static_cast<std::size_t>(d));
  // Where the sides of the cut run apart, the update runs in the backward pass's sides
  // (side_update.hpp); elsewhere in a pass of its own, each chunk where its gradient was written.
  // In a group the members' gradients are summed between the two, so there it has its own pass.
  std::optional<cpu::SideUpdate> side_update;
  std::vector<int> owners;
  if (!group && model.sides_apart(omp_get_max_threads())) {
    side_update.emplace(d, model.below_cut());
  } else {
    owners = model.update_owners(grad.data(), omp_get_max_threads());
  }
  std::vector<std::vector<float>> state;
  std::vector<float*> state_ptrs;
  samplers::dispatch(sc.kind, [&](auto rule) {
    using Rule = decltype(rule);
    for (int q = 0; q < Rule::kStates; ++q) {
      state.emplace_back(static_cast<std::size_t>(d), Rule::initial_state(sc, q));
    }
  });
  for (auto& s : state) state_ptrs.push_back(s.data());
  samplers::ChainScalars scalars = samplers::initial_scalars(sc);

  estimator::ChainEstimator est(estimator_config(spec, d, loss_center));

  const dln::MinibatchStream batches(static_cast<std::uint64_t>(problem.n), b, spec.chain_seed,
                                     spec.sampling);
  std::vector<std::uint64_t> idx(static_cast<std::size_t>(b));
  const std::uint64_t* my_idx = idx.data() + rows.first;
  const auto sigma = static_cast<float>(data.target_sigma);

  const auto start = std::chrono::steady_clock::now();
  TraceFeed feed(listener, chain_index);
  bool interrupted = false;
  bool ended_here = false;  // a group member whose chain ended (see below)
  for (std::int64_t t = 0; t < spec.steps; ++t) {
    const bool stop_here = stop && stop->load(std::memory_order_relaxed);
    if (stop_here && !group) {
      interrupted = true;
      break;
    }
    batches.fill(t, idx.data());
    dln::sample_inputs_host(problem.seed, my_idx, rows.count, h_in, model.inputs());
    model.compute_targets(teacher);
    if (sigma != 0) {
      float* y = model.targets();
#pragma omp parallel for schedule(static)
      for (std::int64_t r = 0; r < rows.count; ++r) {
        dln::add_target_noise(problem.seed, my_idx[r], h_out, sigma, y + r * h_out);
      }
    }
    double loss = 0;
    // side_update: this step's update is made with its gradient, before the loss is observed; a
    // chain that ends at this step then leaves updated parameters that nothing reads.
    cpu::PassTotals side_totals;
    if (side_update) {
      samplers::dispatch(sc.kind, [&](auto rule) {
        using Rule = decltype(rule);
        const auto chunk = cpu::update_chunks<Rule>(Rule::coeffs(sc, t + 1, scalars), w.data(), grad.data(),
                                                    teacher.center.data(), state_ptrs.data(), spec.chain_seed, t);
        loss = model.loss_and_gradient(w.data(), grad.data(),
                                       [&](int side, bool at_once) { side_update->after_side(side, at_once, chunk); });
        side_totals = side_update->finish(chunk);
      });
    } else {
      loss = model.loss_and_gradient(w.data(), grad.data());
    }
    if (group) {
      // One sum carries the loss, the members' stop requests and whether a member's chain ended
      // at the previous step, so that all members leave the loop at the same step.
      double shared[3] = {loss, stop_here ? 1.0 : 0.0, ended_here ? 1.0 : 0.0};
      group->sum(shared, 3);
      if (shared[2] > 0) break;
      if (shared[1] > 0) {
        interrupted = true;
        break;
      }
      group->sum(grad.data(), grad.size());
      loss = shared[0];
    }
    const bool alive = est.observe_loss(t, loss);
    feed.offer(est.loss_trace());
    if (!alive) break;

    const bool ok = samplers::dispatch(sc.kind, [&](auto rule) {
      using Rule = decltype(rule);
      const cpu::PassTotals tot =
          side_update ? side_totals
                      : cpu::update_pass<Rule>(Rule::coeffs(sc, t + 1, scalars), w.data(), grad.data(),
                                               teacher.center.data(), state_ptrs.data(), d, spec.chain_seed, t,
                                               owners);
      Rule::after_step(scalars, tot.step, sc, d);
      return est.observe_step(t, tot.distance2, tot.step.drift2, tot.step.noise2);
    });
    if (group) {
      if (t == spec.test_drift_at_step && group->rank() == 1) w[0] += 1e-3f;  // injected fault
      if ((t + 1) % spec.drift_check_every == 0 && !group->agree(checksum(w))) {
        throw RuntimeError("chain group members drifted apart by step " + std::to_string(t) +
                           " (their parameter checksums differ)");
      }
    }
    if (!ok) {
      // Identical members end together; one that drifted must not leave the others waiting in
      // the next sum, so a member tells the group at the next step and they leave together.
      if (!group) break;
      ended_here = true;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  estimator::ChainResult result = est.finish(seconds);
  result.interrupted = interrupted;
  return result;
}

}  // namespace

HardwareFloor CpuBackend::measure_floor(int n, int copy_mib, double seconds) {
  HardwareFloor f;
  if (n > 0) f.sgemm_gflops = cpu::measure_sgemm_gflops(n, threads_, seconds);
  if (copy_mib > 0) f.bandwidth_gbs = cpu::measure_copy_gbs(copy_mib, threads_, seconds);
  return f;
}

ShapeFloor CpuBackend::measure_shape_floor(const dln::Problem& problem, const DataSpec& data, std::int64_t batch_size,
                                           samplers::SamplerKind kind, double seconds) {
  ShapeFloor f;
  prepared_.prepare(problem, data);
  f.gemm_ms = cpu::measure_step_gemms_ms(problem.widths, prepared_.teacher(), batch_size,
                                         gradient_cut(problem.widths, batch_size, data.narrowest_gradient),
                                         data.batch_halves, threads_, seconds);
  f.update_ms = cpu::measure_update_traffic_ms(dln::parameter_count(problem.widths),
                                               samplers::sampler_info(kind).states, threads_, seconds);
  f.draws_ms = cpu::measure_draws_ms(dln::parameter_count(problem.widths), batch_size, problem.widths.front(),
                                     threads_, seconds);
  return f;
}

int CpuBackend::team() const { return dln::openmp_team(threads_); }

CpuBackend::Schedule CpuBackend::schedule(const dln::Problem& problem, const DataSpec& data,
                                          std::int64_t batch_size) const {
  const int n = team();
  if (n < 2) return Schedule::kOneThread;
  const std::int64_t cut = gradient_cut(problem.widths, batch_size, data.narrowest_gradient);
  return n == 2 && cpu::DlnModel::sides_balance(problem.widths, batch_size, cut) ? Schedule::kSidesApart
                                                                                  : Schedule::kSpread;
}

namespace {

struct ScheduleText {
  const char* name;
  const char* description;
};

ScheduleText schedule_text(CpuBackend::Schedule s) {
  switch (s) {
    case CpuBackend::Schedule::kOneThread:
      return {"one_thread", "the whole step in one thread"};
    case CpuBackend::Schedule::kSidesApart:
      return {"sides_apart", "the two sides of the cut apart, one a thread, the update in the side below's wait"};
    case CpuBackend::Schedule::kSpread:
      return {"spread",
              "each product's blocks spread over the threads, the update's chunks where their gradient was written"};
  }
  return {"?", "?"};
}

}  // namespace

const char* CpuBackend::schedule_name(Schedule s) { return schedule_text(s).name; }
const char* CpuBackend::schedule_description(Schedule s) { return schedule_text(s).description; }

cpu::Handoff CpuBackend::measure_handoff(int mib, double seconds) const {
  if (threads_ < 2) return {};
  return cpu::measure_handoff(mib, threads_, seconds);
}

// Declared here too: cblas.h may be another vendor's header, while the library is always OpenBLAS.
extern "C" char* openblas_get_corename(void);

// The OpenBLAS kernel set matters as much as the thread count: on an AVX-512 CPU, OpenBLAS's own
// choice (SkylakeX) runs sgemm about twice as fast as the AVX2 set (Haswell) that the environment
// variable OPENBLAS_CORETYPE can force (docs/performance.md).
std::string CpuBackend::hardware() const {
  return std::to_string(threads_) + " CPU threads, OpenBLAS " + openblas_get_corename() + " kernels, random draws " +
         draw_path_name(draw_path());
}

CpuBackend::CpuBackend(int threads, const std::atomic<bool>* stop)
    : threads_(threads > 0 ? threads : omp_get_num_procs()), stop_(stop) {}

std::vector<estimator::ChainResult> CpuBackend::run(const dln::Problem& problem,
                                                    const DataSpec& data,
                                                    std::span<const ChainSpec> chains,
                                                    const TraceListener* listener,
                                                    ChainGroup* group) {
  for (const auto& spec : chains) validate(spec, problem);
  dln::set_blas_threads(team());  // OpenMP's threads too
  prepared_.prepare(problem, data);
  const TeacherData& teacher = prepared_.teacher();
  const double loss_center = prepared_.loss_center();
  std::vector<estimator::ChainResult> results;
  results.reserve(chains.size());
  for (const auto& spec : chains) {
    results.push_back(
        run_chain(problem, data, teacher, loss_center, spec, stop_, listener, results.size(), group));
    if (results.back().interrupted) break;
    const auto& r = results.back();
    log::debug("cpu chain: {} steps in {:.3f} s ({:.1f} steps/s), lambda_hat {}", r.steps_run,
               r.seconds, r.steps_per_second, r.lambda_hat);
  }
  return results;
}

}  // namespace llcb::backend

// The CPU backend, the reference every other backend is checked against: fp32 parameters and
// GEMMs through OpenBLAS, loss sums in double, OpenMP threads for data, noise and updates.
// Deterministic regardless of the thread count: every reduction is over fixed-size chunks whose
// partial sums are added in order (the tests compare 1 and 2 threads bit for bit).
// Chains of one run() call execute one after another, each using every configured thread.
// The fp32 teacher, the target map and L_n(w*) of the last problem are kept between run() calls,
// so a worker running many jobs of one problem prepares it once.
#pragma once

#include "lib/backend/backend.hpp"
#include "lib/backend/cpu/gemm_floor.hpp"

namespace llcb::backend {

class CpuBackend final : public Backend {
 public:
  // threads <= 0: every hardware thread; stop: see BackendOptions.
  explicit CpuBackend(int threads, const std::atomic<bool>* stop = nullptr);
  std::string name() const override { return "cpu"; }
  std::vector<estimator::ChainResult> run(const dln::Problem& problem, const DataSpec& data,
                                          std::span<const ChainSpec> chains,
                                          const TraceListener* listener = nullptr,
                                          ChainGroup* group = nullptr) override;
  HardwareFloor measure_floor(int n, int copy_mib, double seconds) override;
  ShapeFloor measure_shape_floor(const dln::Problem& problem, const DataSpec& data, std::int64_t batch_size,
                                 samplers::SamplerKind kind, double seconds) override;
  std::string hardware() const override;
  // The core-to-core handoff over this backend's threads (cpu::measure_handoff, lib/backend/cpu/
  // gemm_floor.hpp) for about `seconds`; NaN with one thread, where nothing is handed over, and
  // where OpenMP gives a team of one.
  cpu::Handoff measure_handoff(int mib, double seconds) const;
  int threads() const { return threads_; }
  // The threads a chain runs on: threads(), held to what OpenMP allows (OMP_THREAD_LIMIT).
  int team() const;

  // How a chain of this problem and batch shares this backend's threads (dln_model.hpp): on one
  // thread, all of it; on two where the sides of the cut balance (DlnModel::sides_balance), each
  // side in its own thread, the update in the side below's wait (side_update.hpp); otherwise
  // each product's blocks spread over the threads, the update's chunks where their gradient was
  // written. Chains of a group always update in a pass of their own.
  enum class Schedule { kOneThread, kSidesApart, kSpread };
  Schedule schedule(const dln::Problem& problem, const DataSpec& data, std::int64_t batch_size) const;
  static const char* schedule_name(Schedule s);         // one_thread, sides_apart, spread
  static const char* schedule_description(Schedule s);  // a phrase for people

 private:
  int threads_;
  const std::atomic<bool>* stop_;
  PreparedProblem prepared_;
};

}  // namespace llcb::backend

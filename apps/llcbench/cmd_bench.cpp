// llcbench bench: steps/s and achieved GFLOP/s of chains on one problem, next to the floor of the
// hardware under the backend (its sgemm rate and copy bandwidth, measured in the same run) and
// the step time they allow, and the floor at the step's own shapes (its GEMMs alone, its update's
// memory traffic alone, measured after each timed run; with the step's random draws alone
// beside it; docs/performance.md), and on several CPU threads the core-to-core handoff after each
// run. Warm-up steps are excluded; the chain's
// lambda_hat is checked finite in the same run so a broken build cannot report a fast number.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <iostream>

#include "apps/llcbench/chain_options.hpp"
#include "lib/backend/cpu/cpu_backend.hpp"
#include "lib/core/error.hpp"
#include "lib/core/json.hpp"
#include "lib/core/median.hpp"
#include "lib/core/parse.hpp"
#include "lib/core/philox_blocks.hpp"
#include "lib/samplers/registry.hpp"

namespace llcb::cli {

int cmd_bench(const std::vector<std::string>& args) {
  return guarded("bench", [&] {
    po::options_description desc("options");
    add_problem_options(desc);
    add_backend_options(desc);
    desc.add_options()("sampler", po::value<std::string>()->default_value("sgld"), "sampler to time")(
        "steps", po::value<std::string>()->default_value("200"), "timed steps")(
        "warmup", po::value<std::string>()->default_value("20"), "untimed warm-up steps")(
        "repeats", po::value<std::string>()->default_value("3"),
        "timed chains; the median and the best are reported")(
        "batch-size", po::value<std::string>()->default_value("500"), "minibatch size")(
        "chains", po::value<std::string>()->default_value("1"),
        "chains per run call (seeds 1..C): the CUDA backend advances them together")(
        "gemm-size", po::value<std::string>()->default_value("2048"),
        "n of the n x n x n sgemm that measures the floor (0: skip)")(
        "copy-mib", po::value<std::string>()->default_value("256"),
        "MiB of the copy that measures the bandwidth (0: skip)")(
        "handoff-mib", po::value<std::string>()->default_value("4"),
        "CPU, 2 or more threads: MiB of the array that measures the core-to-core handoff after each run "
        "(0: skip)")(
        "targets", po::value<std::string>()->default_value("factored"),
        "targets through the teacher's rank-r factors (factored) or its product (product)")(
        "gradient", po::value<std::string>()->default_value("narrowest"),
        "loss and gradient through the narrowest width (narrowest) or layer by layer (layered)")(
        "batch-sums", po::value<std::string>()->default_value("halves"),
        "cpu backend: sum the batch's gradient in two halves, one a thread (halves), or whole (whole)")(
        "no-shape-floor", po::bool_switch(),
        "skip the floor at the step's own shapes (its GEMMs alone, its update's memory traffic alone) "
        "and the step's random draws alone")(
        "json", po::bool_switch(), "print one JSON object instead of text");
    add_common_options(desc);
    po::variables_map vm;
    if (!parse(args, desc, "usage: llcbench bench (--class C --seed N | --widths ... --rank R) [options]",
               vm)) {
      return 0;
    }
    const dln::Problem problem = resolve_problem(vm);
    auto be = resolve_backend(vm);
    backend::ChainSpec spec;
    spec.sampler.kind = samplers::find_sampler(vm["sampler"].as<std::string>()).kind;
    const double n = static_cast<double>(problem.n);
    spec.sampler.nbeta = n / std::log(n);
    spec.sampler.step_size = 1e-9;  // small enough never to diverge on any class
    spec.batch_size = parse_int(vm["batch-size"].as<std::string>(), "--batch-size", 1, problem.n);
    const std::int64_t steps = parse_int(vm["steps"].as<std::string>(), "--steps", 2, 100'000'000);
    const std::int64_t warmup = parse_int(vm["warmup"].as<std::string>(), "--warmup", 1, 100'000'000);
    const auto repeats = parse_int(vm["repeats"].as<std::string>(), "--repeats", 1, 1000);
    const int gemm = static_cast<int>(parse_int(vm["gemm-size"].as<std::string>(), "--gemm-size", 0, 16384));
    const int copy_mib = static_cast<int>(parse_int(vm["copy-mib"].as<std::string>(), "--copy-mib", 0, 65536));
    const int handoff_mib = static_cast<int>(parse_int(vm["handoff-mib"].as<std::string>(), "--handoff-mib", 0, 4096));

    const auto chains = parse_int(vm["chains"].as<std::string>(), "--chains", 1, 4096);
    spec.steps = warmup;
    spec.burn_in = 0;
    std::vector<backend::ChainSpec> specs(static_cast<std::size_t>(chains), spec);
    for (std::size_t i = 0; i < specs.size(); ++i) specs[i].chain_seed = i + 1;
    backend::DataSpec data;
    data.factored_targets = backend::parse_targets(vm["targets"].as<std::string>(), "--targets");
    data.narrowest_gradient = backend::parse_gradient(vm["gradient"].as<std::string>(), "--gradient");
    data.batch_halves = backend::parse_batch_sums(vm["batch-sums"].as<std::string>(), "--batch-sums");
    be->run(problem, data, specs);
    for (auto& s : specs) s.steps = steps;
    std::vector<double> rates, aggregate;  // steps/s of chain 1; chain-steps/s of the whole call
    // The shape floor is measured after each timed run (after its handoff), so that each run is
    // compared with a floor taken on the machine as it was then (a shared machine's speed
    // drifts): the ratios reported are the medians of these paired ratios.
    const bool shape_on = !vm["no-shape-floor"].as<bool>();
    std::vector<backend::ShapeFloor> floors;  // one a timed run, measured after it
    std::vector<double> run_ms;               // each run's ms/step
    // The core-to-core handoff, measured right after each run (before its shape floor): a shared
    // machine's can fall tenfold for seconds at a time, and a step on several threads slows with
    // it (docs/performance.md, "Two cores").
    auto* cpu = dynamic_cast<backend::CpuBackend*>(be.get());
    const int threads = cpu ? cpu->threads() : 0;
    const bool handoff_on = handoff_mib > 0 && threads > 1;
    std::vector<double> across, own;  // GB/s, one a timed run
    for (std::int64_t i = 0; i < repeats; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto out = be->run(problem, data, specs);
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      for (const auto& r : out) {
        if (r.diverged || !std::isfinite(r.lambda_hat)) {
          throw RuntimeError("a benchmark chain diverged; its timing would be meaningless");
        }
      }
      rates.push_back(out.front().steps_per_second);
      aggregate.push_back(static_cast<double>(chains * steps) / wall);
      if (handoff_on) {
        const backend::cpu::Handoff h = cpu->measure_handoff(handoff_mib, 0.2);
        across.push_back(h.across_gbs);
        own.push_back(h.own_gbs);
      }
      if (shape_on) {
        floors.push_back(be->measure_shape_floor(problem, data, spec.batch_size, spec.sampler.kind, 0.3));
        run_ms.push_back(1e3 / out.front().steps_per_second);
      }
    }
    std::sort(aggregate.begin(), aggregate.end());
    const double chain_steps = aggregate[aggregate.size() / 2];
    std::sort(rates.begin(), rates.end());
    const double median = rates[rates.size() / 2];
    const double best = rates.back();
    // The targets' share of the flops follows the data path (factors where they are fewer).
    const std::int64_t targets_rank = backend::targets_rank(problem, data.factored_targets);
    const std::int64_t cut = backend::gradient_cut(problem.widths, spec.batch_size, data.narrowest_gradient);
    const auto schedule = cpu ? cpu->schedule(problem, data, spec.batch_size) : backend::CpuBackend::Schedule::kOneThread;
    const double flops = backend::flops_per_step(problem, spec.batch_size, targets_rank, cut);
    const double gflops = flops * median / 1e9;
    const double handoff_gbs = llcb::median(across), handoff_own_gbs = llcb::median(own);  // NaN: not measured
    const backend::HardwareFloor hw = be->measure_floor(gemm, copy_mib, 1.0);
    const double floor = hw.sgemm_gflops;
    const double step_ms = 1e3 / median;
    // The step floor needs both measurements (--gemm-size 0 or --copy-mib 0 skips one): NaN, and
    // null in the JSON, where one was skipped, like every other figure not measured.
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double floor_ms = floor > 0 && hw.bandwidth_gbs > 0
                                ? 1e3 * backend::step_floor_seconds(problem, spec.batch_size, spec.sampler.kind, hw, targets_rank, cut)
                                : nan;
    // Medians over the runs of a figure of each run's floor (and its ms/step); NaN where not
    // measured: --no-shape-floor, or a backend without it.
    const auto over_runs = [&](auto figure) {
      std::vector<double> v;
      for (std::size_t i = 0; i < floors.size(); ++i) v.push_back(figure(floors[i], run_ms[i]));
      return llcb::median(v);
    };
    using F = const backend::ShapeFloor&;
    const double shape_gemm_ms = over_runs([](F f, double) { return f.gemm_ms; });
    const double shape_update_ms = over_runs([](F f, double) { return f.update_ms; });
    const double shape_draws_ms = over_runs([](F f, double) { return f.draws_ms; });
    const double shape_ms = over_runs([](F f, double) { return f.total_ms(); });
    const double shape_with_draws_ms = over_runs([](F f, double) { return f.with_draws_ms(); });
    const double of_shape_floor = over_runs([](F f, double ms) { return ms / f.total_ms(); });
    const double of_shape_with_draws = over_runs([](F f, double ms) { return ms / f.with_draws_ms(); });
    constexpr double kPaperSteps = 50'000;  // the published chain length (benchmark.md)
    // With several chains per call, the throughput of the call (wall clock, setup included).
    const double chains_per_hour = 3600.0 * (chains > 1 ? chain_steps : median) / kPaperSteps;
    const std::string& sampler = samplers::sampler_info(spec.sampler.kind).name;
    if (vm["json"].as<bool>()) {
      JsonWriter w;
      w.begin_object();
      w.field("backend", be->name());
      w.field("threads", threads);
      w.field("class", problem.class_name);
      w.field("seed", static_cast<std::int64_t>(problem.seed));
      w.field("teacher", std::string(dln::to_string(problem.teacher)));
      w.array("widths", problem.widths);
      w.field("d", problem.truth.d);
      w.field("batch_size", spec.batch_size);
      w.field("targets", std::string(data.factored_targets ? "factored" : "product"));
      w.field("gradient", std::string(backend::gradient_name(data.narrowest_gradient)));
      w.field("gradient_cut", cut);
      if (cpu) w.field("batch_sums", std::string(backend::batch_sums_name(data.batch_halves)));
      if (cpu) w.field("schedule", std::string(backend::CpuBackend::schedule_name(schedule)));
      if (cpu) w.field("random_draws", std::string(draw_path_name(draw_path())));
      w.field("sampler", sampler);
      w.field("steps", steps);
      w.field("repeats", repeats);
      w.field("steps_per_second", median);
      w.field("steps_per_second_best", best);
      w.field("flops_per_step", flops);
      w.field("gflops", gflops);
      w.field("gflops_best", flops * best / 1e9);
      w.field("sgemm_gflops", floor > 0 ? floor : nan);
      w.field("fraction_of_sgemm", floor > 0 ? gflops / floor : nan);
      w.field("bandwidth_gbs", hw.bandwidth_gbs > 0 ? hw.bandwidth_gbs : nan);
      w.field("handoff_gbs", handoff_gbs);
      w.field("handoff_own_gbs", handoff_own_gbs);
      w.field("ms_per_step", step_ms);
      w.field("floor_ms_per_step", floor_ms);
      w.field("shape_gemm_ms", shape_gemm_ms);
      w.field("shape_update_ms", shape_update_ms);
      w.field("shape_floor_ms_per_step", shape_ms);
      w.field("of_shape_floor", of_shape_floor);
      w.field("shape_draws_ms", shape_draws_ms);
      w.field("shape_floor_with_draws_ms", shape_with_draws_ms);
      w.field("of_shape_floor_with_draws", of_shape_with_draws);
      w.field("chains", static_cast<std::int64_t>(chains));
      w.field("chain_steps_per_second", chain_steps);
      w.field("chains_per_hour", chains_per_hour);
      w.field("hardware", be->hardware());
      w.field("graph_replays", be->graph_replays());
      w.end_object();
      std::cout << w.str() << "\n";
      return 0;
    }
    std::cout << "problem: " << problem.class_name << " seed " << problem.seed << " ("
              << dln::to_string(problem.teacher) << " teacher), widths "
              << join_ints(problem.widths) << ", d " << problem.truth.d << "\n"
              << "chain: " << sampler << ", batch " << spec.batch_size << ", " << steps
              << " timed steps after " << warmup << " warm-up, backend " << be->name() << " ("
              << be->hardware() << ")\n"
              << "data path: targets " << (targets_rank > 0 ? "through the teacher's rank-" + std::to_string(targets_rank) + " factors" : std::string("through the teacher's product"))
              << ", loss and gradient "
              << (cut >= 0 ? "through width " + std::to_string(problem.widths[static_cast<std::size_t>(cut)]) +
                                 " (index " + std::to_string(cut) + " of the widths)"
                           : std::string("layer by layer"))
              << (cpu ? data.batch_halves ? ", the batch summed in halves" : ", the batch summed whole" : "")
              << "\n"
              << (cpu ? std::string("threads: ") + backend::CpuBackend::schedule_description(schedule) + "\n" : "")
              << "steps/s: " << median << " median of " << repeats << " (best " << best << ")\n"
              << "GFLOP/s: " << gflops << " median (" << flops / 1e6 << " MFLOP a step)\n"
              << "ms/step: " << step_ms << "; 50,000-step chains per hour: " << chains_per_hour
              << (chains > 1 ? " (" + std::to_string(chains) + " chains a call, " +
                                   std::to_string(chain_steps) + " chain-steps/s)"
                             : std::string())
              << "\n";
    if (floor > 0) {
      std::cout << "sgemm floor: " << floor << " GFLOP/s (" << gemm << "^3); achieved "
                << 100.0 * gflops / floor << "% of it\n";
    } else {
      std::cout << "sgemm floor: not measured (--gemm-size 0)\n";
    }
    if (hw.bandwidth_gbs > 0) {
      std::cout << "copy bandwidth: " << hw.bandwidth_gbs << " GB/s\n";
    } else {
      std::cout << "copy bandwidth: not measured (--copy-mib 0)\n";
    }
    if (be->name() == "cuda") {
      std::cout << "graphs: " << be->graph_replays() << " steps replayed as CUDA graphs"
                << (be->graph_replays() == 0 ? " (each step launched directly)" : "") << "\n";
    }
    if (std::isfinite(floor_ms)) {
      std::cout << "step floor: " << floor_ms << " ms (GEMMs at the sgemm rate + update bytes at the "
                   "bandwidth); achieved " << step_ms / floor_ms << "x of it\n";
    } else {
      std::cout << "step floor: not computed (it needs the sgemm rate and the bandwidth)\n";
    }
    if (std::isfinite(shape_ms)) {
      const std::string paired = repeats == 1 ? " (the run against the floor measured after it)"
                                              : " (median of " + std::to_string(repeats) +
                                                    " runs, each against the floor measured after it)";
      std::cout << "shape floor: " << shape_ms << " ms (the step's GEMMs alone " << shape_gemm_ms
                << " ms, " << flops / shape_gemm_ms / 1e6 << " GFLOP/s; its update's memory traffic alone "
                << shape_update_ms << " ms); achieved " << of_shape_floor << "x of it" << paired << "\n";
      if (std::isfinite(shape_with_draws_ms)) {
        std::cout << "shape floor with the draws: " << shape_with_draws_ms << " ms (adds the step's random draws alone, "
                  << shape_draws_ms << " ms: the noise of " << problem.truth.d << " parameters and the inputs of "
                  << spec.batch_size << " rows); achieved " << of_shape_with_draws << "x of it\n";
      }
    } else {
      std::cout << "shape floor: not measured" << (vm["no-shape-floor"].as<bool>() ? " (--no-shape-floor)" : " on this backend")
                << "\n";
    }
    if (std::isfinite(handoff_gbs) && std::isfinite(handoff_own_gbs)) {
      std::cout << "core-to-core handoff: " << handoff_gbs << " GB/s (each thread writes its share of a " << handoff_mib
                << " MiB array, then reads the next thread's; " << handoff_own_gbs
                << " GB/s where it reads back its own; the array's bytes over the time to write and read them, "
                   "medians over the runs, each measured right after it)\n";
    } else {
      std::cout << "core-to-core handoff: not measured ("
                << (!cpu                ? "not a CPU backend"
                    : threads < 2       ? "one thread"
                    : handoff_mib == 0  ? "--handoff-mib 0"
                                        : "OpenMP gave the threads a team of one")
                << ")\n";
    }
    return 0;
  });
}

}  // namespace llcb::cli

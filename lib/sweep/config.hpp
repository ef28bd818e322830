// Sweep configuration: INI files read with Boost.Program_options, overridden by `--set key=value`.
//
// Every key is registered (config_keys()); an unknown key, a malformed value or an empty grid is a
// UsageError naming the key. The effective configuration is the canonical map of every key to its
// value (file, then overrides, then defaults), which defines the config hash and is what resume
// compares. configs/README.md documents every key; `keys` below is the authoritative list.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lib/backend/backend.hpp"
#include "lib/estimator/calibration.hpp"

namespace llcb::sweep {

struct KeySpec {
  KeySpec(std::string name_, std::string default_, std::string help_, bool identity_ = true, std::string legacy_ = "")
      : name(std::move(name_)), default_value(std::move(default_)), help(std::move(help_)), identity(identity_),
        legacy(std::move(legacy_)) {}
  std::string name;           // "section.key"
  std::string default_value;  // "" = unset
  std::string help;
  bool identity = true;       // part of the config hash (false: execution settings like threads)
  // The value that stores written before the key existed ran with, where it is not the default
  // (chain.targets: their targets went through the product); "" = the default.
  std::string legacy;
};
const std::vector<KeySpec>& config_keys();

struct SamplerGrid {
  std::string name;                     // registry name
  samplers::SamplerConfig constants;    // kind and constants; step_size and nbeta unset
  std::vector<double> step_sizes;       // ascending, distinct; empty when calibrated
  bool calibrated = false;              // SAMPLER.step_sizes = calibrate (docs/calibration.md)
};

// How samplers whose grid is `calibrate` are calibrated on each problem ([calibrate] keys,
// docs/calibration.md "In a sweep"): `chains` chains of `steps` steps at each step size of `grid`,
// the rule, and the slots run afterwards: the chosen step size and `neighbours` grid points on
// either side of it (slot -neighbours .. +neighbours).
struct CalibrationSettings {
  std::string grid_text;                // START:STOP:PER_DECADE as configured
  std::vector<double> grid;             // ascending
  std::int64_t per_decade = 2;
  std::int64_t steps = 0, burn_in = 0, chains = 0, neighbours = 1;
  estimator::CalibrationRule rule;
};

struct SweepConfig {
  std::string name;
  std::uint64_t seed = 1;               // sweep seed: chain seeds derive from it
  std::string backend = "cpu";
  int threads = 0;
  int device = -1;                      // CUDA device; -1: node-local rank modulo visible ones
  std::int64_t bundle = 1;              // jobs of one problem and sampler run together
  bool cuda_graphs = true;              // CUDA steps replayed as graphs
  std::string precision = "fp32";       // CUDA GEMM precision (fp32 or tf32)
  double heartbeat_timeout = 600;       // seconds of silence after which rank 0 aborts a run
  double chunk_seconds = 1;             // interval of live trace chunks (and heartbeats)
  // problems
  std::string model_class;
  std::int64_t problem_count = 0;
  std::uint64_t first_problem_seed = 1;
  dln::TeacherMode teacher = dln::TeacherMode::kPaper;  // paper or minimal (docs/truth.md)
  std::int64_t n = 0;                   // 0: the class default
  double target_sigma = 0;
  bool factored_targets = true;         // chain.targets (backend::DataSpec)
  bool narrowest_gradient = true;       // chain.gradient (backend::DataSpec)
  bool batch_halves = true;             // chain.batch_sums (backend::DataSpec)
  // chains
  std::int64_t steps = 0, burn_in = 0, batch_size = 0, chains_per_job = 1;
  double gamma = 1, nbeta = 0;          // nbeta 0: n / ln n of each problem
  dln::Sampling sampling = dln::Sampling::kWithoutReplacement;
  std::int64_t trace_every = 1;         // keep every k-th loss in the store
  std::int64_t diag_every = 0;
  double divergence_factor = 100, estimate_bound_factor = estimator::kEstimateBoundFactor;
  std::vector<SamplerGrid> samplers;
  std::vector<std::string> unused_samplers;  // samplers whose section sets keys but sweep.samplers omits (checked)
  CalibrationSettings calibration;      // used by the samplers whose grid is `calibrate`
  bool calibrates() const {
    for (const auto& s : samplers) {
      if (s.calibrated) return true;
    }
    return false;
  }
  std::vector<std::int64_t> ranks_per_chain = {1};  // a grid axis: G ranks run one chain
  std::int64_t drift_check_every = 100;  // chain groups: steps between checksum comparisons
  std::int64_t fail_job = -1;           // test only: the grid index of a job made to fail
  double test_write_pause = 0;          // test only: seconds the store pauses inside each job write
  std::int64_t drift_at_step = -1;      // test only: a group member perturbs w after this step

  std::map<std::string, std::string> canonical;  // every key -> effective value
  std::string text;                              // the file as given, plus the overrides
  std::string source;                            // the file as given
  std::vector<std::string> overrides;            // the --set overrides, in order
  std::set<std::string> given;                   // keys the file or an override set
  std::string hash;                              // fnv1a64 of the identity keys, hex
};

// Reads and validates a config file; overrides are "section.key=value" strings.
SweepConfig load_config(const std::string& path, const std::vector<std::string>& overrides);
// The same from text (tests, and reading a config back from a store). as_stored: a store's own
// config, read under the rules of the versions that may have written it (a sampler's section
// that sweep.samplers omits goes unchecked, and SGNHT's diffusion may be 0), so that no store an
// earlier version made becomes impossible to repair.
SweepConfig parse_config(const std::string& text, const std::vector<std::string>& overrides,
                         const std::string& origin = "config", bool as_stored = false);

// Identity keys whose effective values differ between two canonical maps, "key: 'a' -> 'b'"
// each; empty when the configs match. A key missing from `stored` (a store written before the
// key existed) counts as its legacy value, or its default.
std::vector<std::string> config_differences(const std::map<std::string, std::string>& stored,
                                            const std::map<std::string, std::string>& now);

// The config whose canonical map this is (a store's, read back to repair it): every set key,
// written as an INI file and parsed, a key the map lacks at its legacy value. UsageError for a
// key or value this version does not accept.
SweepConfig config_from_canonical(const std::map<std::string, std::string>& canonical);

// The --set overrides that continue a store written before some keys existed: "key=legacy" for
// each key with a legacy value that `stored` lacks and `config` does not set itself (a resumed
// sweep then runs the store's pending jobs the way its finished ones ran); none when `stored` is
// empty (no store yet).
std::vector<std::string> legacy_overrides(const SweepConfig& config, const std::map<std::string, std::string>& stored);

// The data path of a config's jobs: target noise, targets and gradient (backend::DataSpec).
backend::DataSpec data_spec(const SweepConfig& config);

// The canonical map as the store keeps it ("key=value" lines, sorted), and back.
std::string format_canonical(const std::map<std::string, std::string>& canonical);
std::map<std::string, std::string> parse_canonical(const std::string& text);

}  // namespace llcb::sweep

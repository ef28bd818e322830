#include "lib/sweep/config.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "lib/core/error.hpp"
#include "lib/core/log_grid.hpp"
#include "lib/core/hash.hpp"
#include "lib/core/parse.hpp"
#include "lib/dln/model_class.hpp"
#include "lib/samplers/registry.hpp"

namespace llcb::sweep {
namespace {

namespace po = boost::program_options;

constexpr std::int64_t kMaxInt = std::numeric_limits<std::int64_t>::max() / 4;

std::vector<KeySpec> build_keys() {
  std::vector<KeySpec> k = {
      {"sweep.name", "sweep", "a label for the sweep"},
      {"sweep.seed", "1", "sweep seed; every chain seed derives from it and the job"},
      {"sweep.samplers", "", "samplers to run, comma-separated (each needs a [sampler] grid)"},
      {"sweep.backend", "cpu", "backend: cpu (cuda where built)"},
      {"sweep.threads", "0", "CPU threads per process, 0 = all", false},
      {"sweep.device", "-1", "CUDA device; -1 = node-local rank modulo visible devices", false},
      {"sweep.bundle", "1", "jobs of one problem and sampler a worker runs together", false},
      {"sweep.cuda_graphs", "on", "cuda backend: replay steps as CUDA graphs (on) or not (off)", false},
      {"sweep.heartbeat_timeout", "600", "seconds a worker may stay silent under MPI", false},
      {"sweep.chunk_seconds", "1", "seconds between live trace chunks of a running chain", false},
      {"problems.class", "", "model class: tiny, 1K, 100K, 1M, 10M, 100M, 1B or custom:LMIN,LMAX,HMIN,HMAX"},
      {"problems.count", "1", "number of problems"},
      {"problems.first_seed", "1", "problem seeds are first_seed .. first_seed + count - 1"},
      {"problems.n", "0", "dataset size; 0 = the class default"},
      {"problems.target_sigma", "0", "target noise standard deviation"},
      {"problems.teacher", "paper", "teacher mode: paper (the published draw) or minimal (every layer of the product's rank)"},
      {"chain.steps", "50000", "chain length T"},
      {"chain.burn_in", "", "steps t >= burn_in are kept; unset = burn_in_fraction * T"},
      {"chain.burn_in_fraction", "0.9", "burn-in as a fraction of T when burn_in is unset"},
      {"chain.batch_size", "500", "minibatch size"},
      {"chain.precision", "fp32", "GEMM precision on the cuda backend: fp32 or tf32"},
      {"chain.targets", "factored", "targets through the teacher's rank-r factors (factored) or its product (product)",
       true, "product"},
      {"chain.gradient", "narrowest", "loss and gradient through the network's narrowest width where that is fewer flops (narrowest) or layer by layer (layered)",
       true, "layered"},
      {"chain.batch_sums", "halves", "cpu backend: sum the batch's gradient in two halves, one a thread (halves), or whole (whole)",
       true, "whole"},
      {"chain.ranks_per_chain", "1", "ranks that run one chain together, comma-separated values form a grid axis"},
      {"chain.drift_check_every", "100", "chain groups: steps between parameter checksum comparisons", false},
      {"chain.gamma", "1", "localisation strength"},
      {"chain.nbeta", "", "n * beta; unset = n / ln n of each problem"},
      {"chain.chains", "1", "chains per job (their estimates are averaged)"},
      {"chain.sampling", "without_replacement", "without_replacement or with_replacement"},
      {"chain.trace_every", "1", "keep every k-th loss of the trace in the store"},
      {"chain.diag_every", "0", "diagnostic decimation in steps; 0 = steps / 1000"},
      {"chain.divergence_factor", "100", "diverged when nbeta (L - L*) exceeds this times d/2"},
      {"chain.estimate_bound_factor", "2", "diverged when lambda_hat exceeds this times d/2"},
      {"calibrate.grid", "1e-10:1e-4:2", "samplers whose step_sizes = calibrate: the step sizes tried, START:STOP:PER_DECADE"},
      {"calibrate.steps", "10000", "calibration: steps of each calibration chain"},
      {"calibrate.burn_in_fraction", "0.5", "calibration: burn-in as a fraction of calibrate.steps"},
      {"calibrate.chains", "4", "calibration: chains at each step size"},
      {"calibrate.neighbours", "1", "calibration: grid points run on either side of the chosen step size"},
      {"calibrate.tolerance", "0.3", "calibration rule: plateau tolerance (docs/calibration.md)"},
      {"calibrate.max_drifting", "1", "calibration rule: largest fraction of a sound step size's chains that drift"},
      {"calibrate.pick", "middle", "calibration rule: middle or upper step size of the plateau"},
      {"test.fail_job", "", "test only: grid index of a job that fails with an injected fault"},
      {"test.write_pause", "0", "test only: seconds the store pauses inside each job write (widens the window for kills)", false},
      {"test.drift_at_step", "", "test only: member 1 of every chain group perturbs a parameter after this step"},
  };
  for (const auto& s : samplers::all_samplers()) {
    const std::string p = s.name + ".";
    k.push_back({p + "step_sizes", "", "explicit step sizes, comma-separated, or calibrate (per problem)"});
    k.push_back({p + "step_start", "", "log-spaced grid: first step size"});
    k.push_back({p + "step_stop", "", "log-spaced grid: last step size (inclusive)"});
    k.push_back({p + "per_decade", "", "log-spaced grid: points per decade"});
    if (s.kind == samplers::SamplerKind::kRmspropSgld || s.kind == samplers::SamplerKind::kAdamSgld) {
      k.push_back({p + "preset", "paper", "paper or devinterp constants"});
      if (s.kind == samplers::SamplerKind::kAdamSgld) k.push_back({p + "beta1", "", "first-moment decay"});
      k.push_back({p + "beta2", "", "second-moment decay (overrides the preset)"});
      k.push_back({p + "alpha", "", "added to sqrt(v) (overrides the preset)"});
      k.push_back({p + "v0", "", "initial second moment (overrides the preset)"});
      k.push_back({p + "bias_correction", "", "on or off (overrides the preset)"});
    }
    if (s.kind == samplers::SamplerKind::kSghmc) k.push_back({p + "friction", "0.01", "friction alpha"});
    if (s.kind == samplers::SamplerKind::kSgnht) k.push_back({p + "diffusion", "0.01", "diffusion A"});
  }
  return k;
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  const auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(trim(item));
  if (const std::string t = trim(text); !t.empty() && t.back() == ',') out.emplace_back();  // "a," has an empty last item
  return out;
}

// Typed access to the canonical map with messages that name the key.
class Values {
 public:
  explicit Values(const std::map<std::string, std::string>& m) : m_(m) {}
  const std::string& str(const std::string& key) const { return m_.at(key); }
  bool set(const std::string& key) const { return !m_.at(key).empty(); }
  const std::string& required(const std::string& key) const {
    if (!set(key)) throw UsageError("config key " + key + " is required");
    return str(key);
  }
  std::int64_t integer(const std::string& key, std::int64_t lo, std::int64_t hi) const {
    return parse_int(required(key), key, lo, hi);
  }
  double real(const std::string& key, double lo, double hi) const {
    return parse_double(required(key), key, lo, hi);
  }

 private:
  const std::map<std::string, std::string>& m_;
};

std::vector<double> step_grid(const Values& v, const std::string& s) {
  const std::string p = s + ".";
  std::vector<double> steps;
  const bool explicit_list = v.set(p + "step_sizes");
  if (explicit_list && v.str(p + "step_sizes") == "calibrate") {
    if (v.set(p + "step_start") || v.set(p + "step_stop") || v.set(p + "per_decade")) {
      throw UsageError("sampler " + s + ": " + p + "step_sizes = calibrate takes its grid from calibrate.grid, "
                       "not " + p + "step_start/step_stop/per_decade");
    }
    return {};
  }
  const bool log_spaced = v.set(p + "step_start") || v.set(p + "step_stop") || v.set(p + "per_decade");
  if (explicit_list == log_spaced) {
    throw UsageError("sampler " + s + " needs exactly one grid: " + p + "step_sizes, or " + p +
                     "step_start, " + p + "step_stop and " + p + "per_decade");
  }
  const double tiny = std::numeric_limits<double>::min();
  if (explicit_list) {
    for (const auto& item : split_list(v.str(p + "step_sizes"))) {
      steps.push_back(parse_double(item, p + "step_sizes", tiny, kHuge));
    }
  } else {
    const double start = v.real(p + "step_start", tiny, kHuge);
    const double stop = v.real(p + "step_stop", tiny, kHuge);
    const std::int64_t per = v.integer(p + "per_decade", 1, 1000);
    if (stop < start) throw UsageError(p + "step_stop is below " + p + "step_start");
    steps = log_grid(start, stop, per);
  }
  std::sort(steps.begin(), steps.end());
  if (std::adjacent_find(steps.begin(), steps.end()) != steps.end()) {
    throw UsageError(p + "step_sizes lists a step size twice");
  }
  if (steps.empty()) throw UsageError("sampler " + s + " has an empty step-size grid");
  return steps;
}

samplers::SamplerConfig sampler_constants(const Values& v, const samplers::SamplerInfo& info) {
  samplers::SamplerConfig c;
  c.kind = info.kind;
  const std::string p = info.name + ".";
  if (info.kind == samplers::SamplerKind::kRmspropSgld || info.kind == samplers::SamplerKind::kAdamSgld) {
    samplers::apply_rmsprop_preset(c, v.str(p + "preset"));
    if (info.kind == samplers::SamplerKind::kAdamSgld && v.set(p + "beta1")) c.beta1 = v.real(p + "beta1", 0, 1);
    if (v.set(p + "beta2")) c.beta2 = v.real(p + "beta2", 0, 1);
    if (v.set(p + "alpha")) c.alpha = v.real(p + "alpha", 0, kHuge);
    if (v.set(p + "v0")) c.v0 = v.real(p + "v0", 0, kHuge);
    if (v.set(p + "bias_correction")) c.bias_correction = parse_bool(v.str(p + "bias_correction"), p + "bias_correction");
  }
  if (info.kind == samplers::SamplerKind::kSghmc) c.friction = v.real(p + "friction", 0, 1);
  if (info.kind == samplers::SamplerKind::kSgnht) c.diffusion = v.real(p + "diffusion", 0, kHuge);
  return c;
}

// A sampler's error, naming its section where the message does not name its key already.
UsageError in_section(const std::string& sampler, const UsageError& e) {
  const std::string what = e.what();
  return UsageError(what.find(sampler + ".") != std::string::npos ? what : "[" + sampler + "] " + what);
}

SweepConfig interpret(std::map<std::string, std::string> canonical, std::string text, bool as_stored) {
  SweepConfig c;
  const Values v(canonical);
  c.name = v.str("sweep.name");
  c.seed = static_cast<std::uint64_t>(v.integer("sweep.seed", 0, kMaxInt));
  c.backend = v.required("sweep.backend");
  // A backend this build lacks is refused where one is made (backend::check_available), so that
  // a CPU-only build still reads, repairs and reduces a store that a CUDA build made.
  if (c.backend != "cpu" && c.backend != "cuda") {
    throw UsageError("sweep.backend: '" + c.backend + "' is not a backend (cpu or cuda)");
  }
  c.threads = static_cast<int>(v.integer("sweep.threads", 0, 4096));
  c.device = static_cast<int>(v.integer("sweep.device", -1, 4096));
  c.bundle = v.integer("sweep.bundle", 1, 4096);
  c.cuda_graphs = parse_bool(v.str("sweep.cuda_graphs"), "sweep.cuda_graphs");
  c.precision = v.required("chain.precision");
  if (c.precision != "fp32" && c.precision != "tf32") {
    throw UsageError("chain.precision is '" + c.precision + "', expected fp32 or tf32");
  }
  c.heartbeat_timeout = v.real("sweep.heartbeat_timeout", 1, kHuge);
  c.chunk_seconds = v.real("sweep.chunk_seconds", 0.01, kHuge);
  if (c.chunk_seconds * 2 > c.heartbeat_timeout) {
    throw UsageError("sweep.chunk_seconds must be at most half of sweep.heartbeat_timeout");
  }
  c.model_class = dln::model_class(v.required("problems.class")).name;
  c.problem_count = v.integer("problems.count", 1, 10'000'000);
  c.first_problem_seed = static_cast<std::uint64_t>(v.integer("problems.first_seed", 0, kMaxInt));
  c.n = v.integer("problems.n", 0, kMaxInt);
  if (c.n == 1) throw UsageError("problems.n must be 0 (class default) or >= 2");
  c.target_sigma = v.real("problems.target_sigma", 0, kHuge);
  c.factored_targets = backend::parse_targets(v.required("chain.targets"), "chain.targets");
  c.narrowest_gradient = backend::parse_gradient(v.required("chain.gradient"), "chain.gradient");
  c.batch_halves = backend::parse_batch_sums(v.required("chain.batch_sums"), "chain.batch_sums");
  c.teacher = dln::parse_teacher_mode(v.required("problems.teacher"), "problems.teacher");
  if (c.teacher == dln::TeacherMode::kFirstLayer) {
    throw UsageError("problems.teacher: first-layer is for --widths/--rank problems; a sweep's "
                     "model class draws paper or minimal teachers");
  }
  c.steps = v.integer("chain.steps", 1, kMaxInt);
  if (v.set("chain.burn_in")) {
    c.burn_in = v.integer("chain.burn_in", 0, kMaxInt);
  } else {
    const double f = v.real("chain.burn_in_fraction", 0, 1);
    c.burn_in = static_cast<std::int64_t>(f * static_cast<double>(c.steps));
  }
  if (c.burn_in >= c.steps) {
    throw UsageError(v.set("chain.burn_in")
                         ? "chain.burn_in is " + std::to_string(c.burn_in) + ", expected below chain.steps = " +
                               std::to_string(c.steps)
                         : "chain.burn_in_fraction leaves no kept step (burn-in " + std::to_string(c.burn_in) +
                               " of chain.steps = " + std::to_string(c.steps) + ")");
  }
  c.batch_size = v.integer("chain.batch_size", 1, kMaxInt);
  c.gamma = v.real("chain.gamma", 0, kHuge);
  c.nbeta = v.set("chain.nbeta") ? v.real("chain.nbeta", std::numeric_limits<double>::min(), kHuge) : 0.0;
  c.chains_per_job = v.integer("chain.chains", 1, 1'000'000);
  c.sampling = dln::parse_sampling(v.str("chain.sampling"), "chain.sampling");
  c.trace_every = v.integer("chain.trace_every", 1, kMaxInt);
  c.diag_every = v.integer("chain.diag_every", 0, kMaxInt);
  c.divergence_factor = v.real("chain.divergence_factor", std::numeric_limits<double>::min(), kHuge);
  c.estimate_bound_factor = v.real("chain.estimate_bound_factor", std::numeric_limits<double>::min(), kHuge);

  if (v.set("test.fail_job")) c.fail_job = v.integer("test.fail_job", 0, kMaxInt);
  c.test_write_pause = v.real("test.write_pause", 0, 60);
  if (v.set("test.drift_at_step")) c.drift_at_step = v.integer("test.drift_at_step", 0, kMaxInt);
  c.drift_check_every = v.integer("chain.drift_check_every", 1, kMaxInt);
  {
    std::set<std::int64_t> seen_g;
    c.ranks_per_chain.clear();
    for (const auto& item : split_list(v.required("chain.ranks_per_chain"))) {
      const std::int64_t g = parse_int(item, "chain.ranks_per_chain", 1, 4096);
      if (!seen_g.insert(g).second) throw UsageError("chain.ranks_per_chain lists " + item + " twice");
      c.ranks_per_chain.push_back(g);
    }
    if (*seen_g.rbegin() > c.batch_size) {
      throw UsageError("chain.ranks_per_chain = " + std::to_string(*seen_g.rbegin()) +
                       " exceeds chain.batch_size: every member needs at least one row");
    }
  }
  {
    CalibrationSettings& k = c.calibration;
    k.grid_text = v.required("calibrate.grid");
    k.grid = parse_log_grid(k.grid_text, "calibrate.grid", k.per_decade);
    k.steps = v.integer("calibrate.steps", 2, kMaxInt);
    k.burn_in = static_cast<std::int64_t>(v.real("calibrate.burn_in_fraction", 0, 1) * static_cast<double>(k.steps));
    if (k.burn_in >= k.steps) throw UsageError("calibrate.burn_in_fraction leaves no kept step");
    k.chains = v.integer("calibrate.chains", 1, 64);
    k.neighbours = v.integer("calibrate.neighbours", 0, 10);
    k.rule.plateau_tolerance = v.real("calibrate.tolerance", 0, 10);
    k.rule.max_nonstationary = v.real("calibrate.max_drifting", 0, 1);
    k.rule.pick = v.required("calibrate.pick");
    estimator::validate(k.rule);
  }
  const auto names = split_list(v.required("sweep.samplers"));
  std::set<std::string> seen;
  for (const auto& name : names) {
    if (name.empty()) throw UsageError("sweep.samplers has an empty item");
    if (!seen.insert(name).second) throw UsageError("sweep.samplers lists " + name + " twice");
    const samplers::SamplerInfo& info = samplers::find_sampler(name);
    SamplerGrid g{name, sampler_constants(v, info), step_grid(v, name)};
    g.calibrated = g.step_sizes.empty();
    g.constants.step_size = g.calibrated ? c.calibration.grid.front() : g.step_sizes.front();
    g.constants.nbeta = 1;  // placeholder for validation; each job sets its own
    g.constants.gamma = c.gamma;
    try {
      samplers::SamplerConfig rules = g.constants;
      if (as_stored && rules.diffusion == 0) rules.diffusion = 1;  // earlier builds allowed 0
      samplers::validate(rules);
    } catch (const UsageError& e) {
      throw in_section(name, e);
    }
    c.samplers.push_back(std::move(g));
  }
  // A sampler's section that sweep.samplers omits is checked all the same (a malformed value in it
  // is an error, as anywhere), and listed in unused_samplers for the sweep to warn about.
  for (const auto& info : samplers::all_samplers()) {
    if (as_stored || seen.count(info.name)) continue;
    const std::string p = info.name + ".";
    bool used = false, grid = false;
    for (const auto& key : config_keys()) {
      if (key.name.rfind(p, 0) != 0 || canonical.at(key.name) == key.default_value) continue;
      used = true;
      for (const char* g : {"step_sizes", "step_start", "step_stop", "per_decade"}) grid = grid || key.name == p + g;
    }
    if (!used) continue;
    try {
      samplers::SamplerConfig k = sampler_constants(v, info);
      const std::vector<double> steps = grid ? step_grid(v, info.name) : std::vector<double>{};
      k.step_size = steps.empty() ? 1e-6 : steps.front();  // a placeholder where it calibrates
      k.nbeta = 1;
      k.gamma = c.gamma;
      samplers::validate(k);
    } catch (const UsageError& e) {
      throw in_section(info.name, e);
    }
    c.unused_samplers.push_back(info.name);
  }

  if (c.calibrates()) {
    // One calibration's traces travel in one MPI message and one journal record.
    const double floats = static_cast<double>((c.calibration.steps + c.trace_every - 1) / c.trace_every) *
                          static_cast<double>(c.calibration.grid.size()) * static_cast<double>(c.calibration.chains);
    if (floats > 1e8) {
      throw UsageError("a calibration's traces would hold " + std::to_string(static_cast<long long>(floats)) +
                       " losses (calibrate.steps / chain.trace_every x grid points x calibrate.chains; at most "
                       "100000000): raise chain.trace_every or shorten the calibration");
    }
  }
  std::string identity;
  for (const auto& key : config_keys()) {
    if (key.identity) identity += key.name + "=" + canonical.at(key.name) + "\n";
  }
  c.hash = hex64(fnv1a64(identity));
  c.canonical = std::move(canonical);
  c.text = std::move(text);
  return c;
}

}  // namespace

const std::vector<KeySpec>& config_keys() {
  static const std::vector<KeySpec> keys = build_keys();
  return keys;
}

SweepConfig parse_config(const std::string& text, const std::vector<std::string>& overrides,
                         const std::string& origin, bool as_stored) {
  po::options_description desc;
  std::map<std::string, std::string> canonical;
  for (const auto& k : config_keys()) {
    desc.add_options()(k.name.c_str(), po::value<std::string>(), k.help.c_str());
    canonical[k.name] = k.default_value;
  }
  std::istringstream in(text);
  po::parsed_options parsed(&desc);
  try {
    parsed = po::parse_config_file(in, desc, false);
  } catch (const po::error& e) {
    throw UsageError(origin + ": " + e.what());
  }
  std::set<std::string> given;  // keys the file or an override sets
  for (const auto& opt : parsed.options) {
    if (!given.insert(opt.string_key).second) throw UsageError(origin + ": key " + opt.string_key + " is given twice");
    canonical[opt.string_key] = opt.value.empty() ? "" : trim(opt.value.front());
  }
  std::string full = text;
  for (const auto& o : overrides) {
    const auto eq = o.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError("--set '" + o + "': expected section.key=value");
    const std::string key = trim(o.substr(0, eq));
    if (!canonical.count(key)) throw UsageError("--set: unknown config key '" + key + "'");
    canonical[key] = trim(o.substr(eq + 1));
    given.insert(key);
    full += "\n# --set " + o;
  }
  SweepConfig c = interpret(std::move(canonical), std::move(full), as_stored);
  c.source = text;
  c.overrides = overrides;
  c.given = std::move(given);
  return c;
}

SweepConfig load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw UsageError("cannot read config file '" + path + "': it is a directory");
  std::ifstream in(path);
  if (!in) throw UsageError("cannot read config file '" + path + "': " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), overrides, path);
}

namespace {

// A value as a resume compares it: numbers by value (1e-7 and 1.0e-07 alike), the step sizes,
// which are sorted anyway, in any order, and class names, which are matched ignoring case, in
// lower case.
std::string comparable(const std::string& key, const std::string& value) {
  std::vector<std::string> items = split_list(value);
  std::vector<std::pair<double, std::string>> numbers;  // each item's value and its text as compared
  for (const auto& item : items) {
    const std::size_t digits = !item.empty() && (item[0] == '+' || item[0] == '-') ? 1 : 0;
    if (item.size() > digits && item.find_first_not_of("0123456789", digits) == std::string::npos) {
      // An integer (a seed may exceed a double's precision): its digits without leading zeros.
      const std::size_t first = std::min(item.find_first_not_of('0', digits), item.size() - 1);
      const std::string sign = item[0] == '-' && item.substr(first) != "0" ? "-" : "";
      numbers.emplace_back(std::strtod(item.c_str(), nullptr), sign + item.substr(first));
      continue;
    }
    char* end = nullptr;
    const double x = item.empty() ? 0 : std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0' || !std::isfinite(x)) break;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.17g", x);
    numbers.emplace_back(x, buf);
  }
  // (Not sweep.samplers: calibrations are stored in the order of the samplers that calibrate.)
  const bool unordered = key.size() > 11 && key.ends_with(".step_sizes");
  if (numbers.size() == items.size() && !items.empty()) {
    if (unordered) std::sort(numbers.begin(), numbers.end());
    for (std::size_t i = 0; i < items.size(); ++i) items[i] = numbers[i].second;
  } else if (unordered) {
    std::sort(items.begin(), items.end());
  }
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  if (key == "problems.class") {
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  }
  return out;
}

}  // namespace

std::vector<std::string> config_differences(const std::map<std::string, std::string>& stored,
                                            const std::map<std::string, std::string>& now) {
  std::vector<std::string> out;
  for (const auto& key : config_keys()) {
    if (!key.identity) continue;
    // A store written before a key existed ran with that key's default.
    const auto it = stored.find(key.name);
    const std::string a = it != stored.end() ? it->second : !key.legacy.empty() ? key.legacy : key.default_value;
    const std::string& b = now.at(key.name);
    if (a != b && comparable(key.name, a) != comparable(key.name, b)) out.push_back(key.name + ": '" + a + "' -> '" + b + "'");
  }
  return out;
}

backend::DataSpec data_spec(const SweepConfig& config) {
  return backend::DataSpec{config.target_sigma, config.factored_targets, config.narrowest_gradient,
                           config.batch_halves};
}

std::vector<std::string> legacy_overrides(const SweepConfig& config, const std::map<std::string, std::string>& stored) {
  std::vector<std::string> out;
  if (stored.empty()) return out;  // no store yet: a new store, of this version
  for (const auto& key : config_keys()) {
    if (!key.legacy.empty() && !stored.count(key.name) && !config.given.count(key.name)) {
      out.push_back(key.name + "=" + key.legacy);
    }
  }
  return out;
}

SweepConfig config_from_canonical(const std::map<std::string, std::string>& stored) {
  std::map<std::string, std::string> canonical = stored;
  for (const auto& key : config_keys()) {
    if (!key.legacy.empty() && !canonical.count(key.name)) canonical[key.name] = key.legacy;
  }
  std::map<std::string, std::string> sections;
  for (auto [key, value] : canonical) {
    const auto dot = key.find('.');
    // Earlier builds read a list ending in a comma as the list without it.
    while (!value.empty() && (value.back() == ',' || value.back() == ' ' || value.back() == '\t')) value.pop_back();
    if (dot == std::string::npos || value.empty()) continue;
    sections[key.substr(0, dot)] += key.substr(dot + 1) + " = " + value + "\n";
  }
  std::string text;
  for (const auto& [section, lines] : sections) text += "[" + section + "]\n" + lines;
  return parse_config(text, {}, "the store's config", true);
}

std::map<std::string, std::string> parse_canonical(const std::string& text) {
  std::map<std::string, std::string> m;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) m[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return m;
}

std::string format_canonical(const std::map<std::string, std::string>& canonical) {
  std::string out;
  for (const auto& [k, v] : canonical) out += k + "=" + v + "\n";
  return out;
}

}  // namespace llcb::sweep

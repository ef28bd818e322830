#include "lib/reduce/reduce.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

#include "lib/core/median.hpp"

namespace llcb::reduce {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using llcb::median;

double mean(const std::vector<double>& v) {
  if (v.empty()) return kNaN;
  double s = 0;
  for (const double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double sample_sd(const std::vector<double>& v) {
  if (v.size() < 2) return kNaN;
  const double m = mean(v);
  double ss = 0;
  for (const double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

// The order of the rows of one (class, sampler, step, G): the pooled row first.
int status_order(const std::string& s) {
  if (s == "all") return 0;
  if (s == "exact") return 1;
  if (s == "above") return 2;
  if (s == "global") return 3;
  return 4;
}

// The columns summarize() reads, with the optional ones filled in for older stores.
struct Columns {
  const std::vector<std::string>& cls;
  const std::vector<std::string>& sampler;
  const std::vector<double>& step;
  const std::vector<std::string>& status;
  const std::vector<double>& est;
  const std::vector<double>& truth;
  const std::vector<std::int64_t>& diverged;
  const std::vector<double>& speed;
  std::vector<std::int64_t> ranks;
  std::vector<std::string> truth_status, teacher, slot;
  std::vector<double> lower;
  bool has_status;
};

Columns read_columns(const store::Table& jobs) {
  Columns c{jobs.get<std::string>("class"),
            jobs.get<std::string>("sampler"),
            jobs.get<double>("step_size"),
            jobs.get<std::string>("status"),
            jobs.get<double>("lambda_hat"),
            jobs.get<double>("lambda_true"),
            jobs.get<std::int64_t>("diverged"),
            jobs.get<double>("steps_per_second"),
            {}, {}, {}, {}, {}, jobs.find("truth_status") != nullptr};
  const std::size_t n = jobs.rows();
  // Stores written before chain groups, truth statuses and teacher modes existed: every job ran
  // with G = 1 and a paper teacher, and Aoyagi's value is the only truth they recorded.
  c.ranks = jobs.find("ranks_per_chain") ? jobs.get<std::int64_t>("ranks_per_chain")
                                         : std::vector<std::int64_t>(n, 1);
  c.truth_status = c.has_status ? jobs.get<std::string>("truth_status") : std::vector<std::string>(n);
  c.teacher = jobs.find("teacher") ? jobs.get<std::string>("teacher") : std::vector<std::string>(n, "paper");
  c.lower = jobs.find("lambda_lower") ? jobs.get<double>("lambda_lower") : c.truth;
  c.slot = jobs.find("slot") ? jobs.get<std::string>("slot") : std::vector<std::string>(n);
  return c;
}

// The fraction of pairs with different truths whose estimates are in the same strict order.
double order_preservation(const Columns& c, const std::vector<std::size_t>& done,
                          const std::vector<double>& truth) {
  std::int64_t pairs = 0, concordant = 0;
  for (std::size_t a = 0; a < done.size(); ++a) {
    for (std::size_t b = a + 1; b < done.size(); ++b) {
      const std::size_t i = done[a], j = done[b];
      if (truth[i] == truth[j]) continue;
      ++pairs;
      const bool ok = !c.diverged[i] && !c.diverged[j] && std::isfinite(c.est[i]) && std::isfinite(c.est[j]);
      if (ok && (c.est[i] - c.est[j]) * (truth[i] - truth[j]) > 0) ++concordant;
    }
  }
  return pairs ? static_cast<double>(concordant) / static_cast<double>(pairs) : kNaN;
}

}  // namespace

store::Table summarize(const store::Table& jobs) {
  const Columns c = read_columns(jobs);
  // A calibrated slot groups its jobs whatever step size each problem's calibration chose.
  // Slots sort below, at and above the chosen step size, after the fixed step sizes.
  using Key = std::tuple<std::string, std::string, std::int64_t, std::string, double, std::int64_t, int, std::string>;
  std::map<Key, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < jobs.rows(); ++i) {
    const std::string& slot = c.slot[i];
    const double step = slot.empty() ? c.step[i] : 0.0;
    const std::int64_t order = slot.empty() ? std::numeric_limits<std::int64_t>::min()
                               : slot.size() > 10 ? std::stoll(slot.substr(10)) : 0;  // "calibrated+k"
    groups[{c.cls[i], c.sampler[i], order, slot, step, c.ranks[i], 0, "all"}].push_back(i);
    if (c.has_status) {
      const std::string& s = c.truth_status[i];
      groups[{c.cls[i], c.sampler[i], order, slot, step, c.ranks[i], status_order(s), s}].push_back(i);
    }
  }
  bool calibrated = false;
  for (const auto& s : c.slot) calibrated |= !s.empty();

  std::vector<std::string> g_class, g_sampler, g_status, g_teacher, g_slot;
  std::vector<double> g_step, g_mean, g_std, g_median, g_mean_lower, g_div, g_order, g_order_lower, g_speed;
  std::vector<std::int64_t> g_count, g_converged, g_pending, g_failed, g_ranks;
  for (const auto& [key, rows] : groups) {
    std::vector<std::size_t> done;
    std::int64_t pending = 0, failed = 0, n_div = 0;
    for (const std::size_t r : rows) {
      if (c.status[r] == "done") {
        done.push_back(r);
        n_div += c.diverged[r] != 0;
      } else {
        ++pending;
        failed += c.status[r] == "failed";
      }
    }
    std::vector<double> rel, rel_lower;
    double speed_sum = 0;
    for (const std::size_t r : done) {
      speed_sum += c.speed[r];
      if (!c.diverged[r] && std::isfinite(c.est[r]) && c.truth[r] != 0 && c.lower[r] != 0) {
        rel.push_back((c.est[r] - c.truth[r]) / c.truth[r]);
        rel_lower.push_back((c.est[r] - c.lower[r]) / c.lower[r]);
      }
    }
    g_class.push_back(std::get<0>(key));
    g_sampler.push_back(std::get<1>(key));
    g_slot.push_back(std::get<3>(key));
    if (std::get<3>(key).empty()) {
      g_step.push_back(std::get<4>(key));
    } else {  // the median step size the slot's jobs ran with, on the log scale of the grid:
      std::vector<double> steps;  // the middle one, or the geometric mean of the two middle ones
      for (const std::size_t r : rows) {
        if (std::isfinite(c.step[r])) steps.push_back(c.step[r]);
      }
      std::sort(steps.begin(), steps.end());
      const std::size_t m = steps.size() / 2;
      g_step.push_back(steps.empty() ? kNaN : steps.size() % 2 ? steps[m] : std::sqrt(steps[m - 1] * steps[m]));
    }
    g_ranks.push_back(std::get<5>(key));
    g_status.push_back(std::get<7>(key));
    g_teacher.push_back(c.teacher[rows.front()]);
    g_count.push_back(static_cast<std::int64_t>(done.size()));
    g_converged.push_back(static_cast<std::int64_t>(rel.size()));
    g_mean.push_back(mean(rel));
    g_std.push_back(sample_sd(rel));
    g_median.push_back(median(rel));
    g_mean_lower.push_back(mean(rel_lower));
    g_div.push_back(done.empty() ? kNaN : static_cast<double>(n_div) / static_cast<double>(done.size()));
    g_order.push_back(order_preservation(c, done, c.truth));
    g_order_lower.push_back(order_preservation(c, done, c.lower));
    g_speed.push_back(done.empty() ? kNaN : speed_sum / static_cast<double>(done.size()));
    g_pending.push_back(pending);
    g_failed.push_back(failed);
  }
  store::Table t;
  t.columns = {{"class", g_class},
               {"sampler", g_sampler},
               {"step_size", g_step},
               {"truth_status", g_status},
               {"count", g_count},
               {"converged", g_converged},
               {"mean_rel_error", g_mean},
               {"std_rel_error", g_std},
               {"median_rel_error", g_median},
               {"mean_rel_error_lower", g_mean_lower},
               {"divergence_fraction", g_div},
               {"order_preservation", g_order},
               {"order_preservation_lower", g_order_lower},
               {"mean_steps_per_second", g_speed},
               {"pending", g_pending},
               {"failed", g_failed},
               {"ranks_per_chain", g_ranks},
               {"teacher", g_teacher}};
  if (calibrated) t.columns.insert(t.columns.begin() + 2, {"slot", g_slot});  // after sampler
  return t;
}

}  // namespace llcb::reduce

#include "lib/reduce/reduce.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

namespace llcb::reduce {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double median(std::vector<double> v) {
  if (v.empty()) return kNaN;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

}  // namespace

store::Table summarize(const store::Table& jobs) {
  const auto& cls = jobs.get<std::string>("class");
  const auto& sampler = jobs.get<std::string>("sampler");
  const auto& step = jobs.get<double>("step_size");
  const auto& status = jobs.get<std::string>("status");
  const auto& est = jobs.get<double>("lambda_hat");
  const auto& truth = jobs.get<double>("lambda_true");
  const auto& diverged = jobs.get<std::int64_t>("diverged");
  const auto& speed = jobs.get<double>("steps_per_second");
  // Stores written before chain groups existed have no ranks_per_chain column: all ran G = 1.
  const std::vector<std::int64_t> ones(jobs.rows(), 1);
  const auto& ranks = jobs.find("ranks_per_chain") ? jobs.get<std::int64_t>("ranks_per_chain") : ones;

  std::map<std::tuple<std::string, std::string, double, std::int64_t>, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < jobs.rows(); ++i) groups[{cls[i], sampler[i], step[i], ranks[i]}].push_back(i);

  std::vector<std::string> g_class, g_sampler;
  std::vector<double> g_step, g_mean, g_std, g_median, g_div, g_order, g_speed;
  std::vector<std::int64_t> g_count, g_converged, g_pending, g_failed, g_ranks;
  for (const auto& [key, rows] : groups) {
    std::vector<std::size_t> done;
    std::int64_t pending = 0, failed = 0, n_div = 0;
    for (const std::size_t r : rows) {
      if (status[r] == "done") {
        done.push_back(r);
        n_div += diverged[r] != 0;
      } else {
        ++pending;
        failed += status[r] == "failed";
      }
    }
    std::vector<double> rel;
    double speed_sum = 0;
    for (const std::size_t r : done) {
      speed_sum += speed[r];
      if (!diverged[r] && std::isfinite(est[r]) && truth[r] != 0) rel.push_back((est[r] - truth[r]) / truth[r]);
    }
    double mean = kNaN, sd = kNaN;
    if (!rel.empty()) {
      double s = 0;
      for (double x : rel) s += x;
      mean = s / static_cast<double>(rel.size());
      if (rel.size() > 1) {
        double ss = 0;
        for (double x : rel) ss += (x - mean) * (x - mean);
        sd = std::sqrt(ss / static_cast<double>(rel.size() - 1));
      }
    }
    std::int64_t pairs = 0, concordant = 0;
    for (std::size_t a = 0; a < done.size(); ++a) {
      for (std::size_t b = a + 1; b < done.size(); ++b) {
        const std::size_t i = done[a], j = done[b];
        if (truth[i] == truth[j]) continue;
        ++pairs;
        const bool ok = !diverged[i] && !diverged[j] && std::isfinite(est[i]) && std::isfinite(est[j]);
        if (ok && (est[i] - est[j]) * (truth[i] - truth[j]) > 0) ++concordant;
      }
    }
    g_class.push_back(std::get<0>(key));
    g_sampler.push_back(std::get<1>(key));
    g_step.push_back(std::get<2>(key));
    g_ranks.push_back(std::get<3>(key));
    g_count.push_back(static_cast<std::int64_t>(done.size()));
    g_converged.push_back(static_cast<std::int64_t>(rel.size()));
    g_mean.push_back(mean);
    g_std.push_back(sd);
    g_median.push_back(median(rel));
    g_div.push_back(done.empty() ? kNaN : static_cast<double>(n_div) / static_cast<double>(done.size()));
    g_order.push_back(pairs ? static_cast<double>(concordant) / static_cast<double>(pairs) : kNaN);
    g_speed.push_back(done.empty() ? kNaN : speed_sum / static_cast<double>(done.size()));
    g_pending.push_back(pending);
    g_failed.push_back(failed);
  }
  store::Table t;
  t.columns = {{"class", g_class},
               {"sampler", g_sampler},
               {"step_size", g_step},
               {"count", g_count},
               {"converged", g_converged},
               {"mean_rel_error", g_mean},
               {"std_rel_error", g_std},
               {"median_rel_error", g_median},
               {"divergence_fraction", g_div},
               {"order_preservation", g_order},
               {"mean_steps_per_second", g_speed},
               {"pending", g_pending},
               {"failed", g_failed},
               {"ranks_per_chain", g_ranks}};
  return t;
}

}  // namespace llcb::reduce

#include "lib/dln/problem.hpp"

#include <algorithm>
#include <cmath>
#include <exception>

#include "lib/core/error.hpp"
#include "lib/core/parse.hpp"
#include "lib/core/random.hpp"

namespace llcb::dln {

namespace {

// Cuts layer s to rank k (leading rows or columns kept), or leaves it whole when k is its full
// rank.
LayerCut cut_to(const std::vector<std::int64_t>& widths, std::size_t s, std::int64_t k) {
  const std::int64_t h_in = widths[s], h_out = widths[s + 1];
  if (k >= std::min(h_in, h_out)) return LayerCut{};
  return LayerCut{true, k, h_out <= h_in};
}

// Moves the teacher to the minimal stratum: every layer cut to the product rank.
void make_minimal(Problem& p) {
  for (std::size_t s = 0; s < p.cuts.size(); ++s) {
    if (p.layer_rank(s) > p.rank) p.cuts[s] = cut_to(p.widths, s, p.rank);
  }
}

// Checks the numerical product rank of a teacher built to have rank `want`.
void check_rank(Problem& p, std::int64_t want) {
  p.rank = teacher_product_rank(p);
  if (p.rank != want) {
    throw RuntimeError("the teacher drawn from seed " + std::to_string(p.seed) + " has product rank " +
                       std::to_string(p.rank) + ", not " + std::to_string(want) +
                       "; try another seed");
  }
}

void certify(Problem& p) {
  std::vector<std::int64_t> layer_ranks;
  for (std::size_t s = 0; s < p.cuts.size(); ++s) layer_ranks.push_back(p.layer_rank(s));
  const bool numerical = *std::max_element(p.widths.begin(), p.widths.end()) <= kNumericalRankWidth;
  PartialRanks partial =
      numerical ? numerical_partial_ranks(p.widths, [&](std::size_t s) { return teacher_layer(p, s); })
                : generic_partial_ranks(p.widths, layer_ranks);
  p.local = local_truth(p.widths, p.rank, layer_ranks, std::move(partial), p.truth.lambda);
  p.local.numerical_ranks = numerical;
}

}  // namespace

const char* to_string(TeacherMode mode) {
  switch (mode) {
    case TeacherMode::kPaper: return "paper";
    case TeacherMode::kFirstLayer: return "first-layer";
    case TeacherMode::kMinimal: return "minimal";
  }
  return "unknown";
}

TeacherMode parse_teacher_mode(const std::string& name, const std::string& what) {
  for (const TeacherMode m : {TeacherMode::kPaper, TeacherMode::kFirstLayer, TeacherMode::kMinimal}) {
    if (name == to_string(m)) return m;
  }
  throw UsageError(what + ": unknown teacher mode '" + name +
                   "' (expected paper or minimal for a model class, first-layer or minimal with "
                   "--widths)");
}

std::int64_t Problem::layer_rank(std::size_t s) const {
  const std::int64_t full = std::min(widths[s], widths[s + 1]);
  return cuts[s].cut ? cuts[s].k : full;
}

Problem draw_problem(const ModelClass& model, std::uint64_t seed, TeacherMode teacher,
                     LocalTruthMode local) {
  if (teacher == TeacherMode::kFirstLayer) {
    throw UsageError("teacher mode first-layer is for --widths/--rank problems; a model class "
                     "draws paper or minimal teachers");
  }
  Problem p;
  p.teacher = teacher;
  p.class_name = model.name;
  p.seed = seed;
  p.n = model.default_n;

  const PhiloxBlock depth = draw_block(seed, Stream::kArch, 0);
  const std::int64_t m =
      uniform_int(join64(depth.v[0], depth.v[1]), model.layers_min, model.layers_max);
  for (std::int64_t j = 0; j <= m; ++j) {
    const PhiloxBlock b = draw_block(seed, Stream::kArch, static_cast<std::uint64_t>(j) + 1);
    p.widths.push_back(uniform_int(join64(b.v[0], b.v[1]), model.width_min, model.width_max));
  }
  for (std::int64_t s = 0; s < m; ++s) {
    const PhiloxBlock b = draw_block(seed, Stream::kRankCut, static_cast<std::uint64_t>(s));
    const std::int64_t h_in = p.widths[s], h_out = p.widths[s + 1];
    LayerCut cut;
    cut.cut = u01d(b.v[0], b.v[1]) < 0.5;
    if (cut.cut) {
      cut.k = uniform_int(join64(b.v[2], b.v[3]), 0, std::min(h_in, h_out) - 1);
      cut.rows = h_out <= h_in;
    }
    p.cuts.push_back(cut);
  }
  p.rank = teacher_product_rank(p);
  p.truth = true_llc(p.widths, p.rank);
  if (teacher == TeacherMode::kMinimal) {
    make_minimal(p);
    check_rank(p, p.rank);
  }
  if (local == LocalTruthMode::kCompute) certify(p);
  return p;
}

std::vector<Problem> draw_problems(const ModelClass& model, const std::vector<std::uint64_t>& seeds,
                                   TeacherMode teacher) {
  std::vector<Problem> all(seeds.size());
  std::vector<std::exception_ptr> errors(seeds.size());
  const bool parallel = model.width_max <= kNumericalRankWidth;
#pragma omp parallel for schedule(dynamic, 1) if (parallel)
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    try {
      all[i] = draw_problem(model, seeds[i], teacher);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  }
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  return all;
}

std::vector<std::int64_t> architecture_layer_ranks(const std::vector<std::int64_t>& widths,
                                                   std::int64_t rank, TeacherMode teacher) {
  if (teacher == TeacherMode::kPaper) {
    throw UsageError("teacher mode paper draws rank cuts for a model class; with --widths/--rank "
                     "use first-layer (the default) or minimal");
  }
  std::vector<std::int64_t> ranks;
  for (std::size_t s = 0; s + 1 < widths.size(); ++s) {
    const std::int64_t full = std::min(widths[s], widths[s + 1]);
    ranks.push_back(teacher == TeacherMode::kMinimal || s == 0 ? std::min(rank, full) : full);
  }
  return ranks;
}

MatrixD teacher_layer(const Problem& problem, std::size_t s) {
  const std::int64_t h_in = problem.widths[s];
  const std::int64_t h_out = problem.widths[s + 1];
  MatrixD w(h_out, h_in);
  const double sd = std::sqrt(2.0 / static_cast<double>(h_in + h_out));
  const auto count = static_cast<std::uint64_t>(h_in * h_out);
  for (std::uint64_t pair = 0; pair * 2 < count; ++pair) {
    const Normal2d z =
        normal2d(draw_block(problem.seed, Stream::kTeacher, pair, static_cast<std::uint32_t>(s)));
    w.a[2 * pair] = sd * z.z0;
    if (2 * pair + 1 < count) w.a[2 * pair + 1] = sd * z.z1;
  }
  const LayerCut& cut = problem.cuts[s];
  if (cut.cut) {
    for (std::int64_t i = 0; i < h_out; ++i) {
      for (std::int64_t j = 0; j < h_in; ++j) {
        if ((cut.rows ? i : j) >= cut.k) w.at(i, j) = 0.0;
      }
    }
  }
  return w;
}

MatrixD teacher_product(const Problem& problem) {
  return chain_product(problem.widths, [&](std::size_t s) { return teacher_layer(problem, s); });
}

std::int64_t teacher_product_rank(const Problem& problem) {
  return numerical_rank(teacher_product(problem));
}

Problem problem_from_architecture(const std::vector<std::int64_t>& widths, std::int64_t rank,
                                  std::uint64_t seed, std::int64_t n, TeacherMode teacher) {
  Problem p;
  p.truth = true_llc(widths, rank);  // validates widths and rank
  p.class_name = "widths:" + join_ints(widths);
  p.seed = seed;
  p.widths = widths;
  p.n = n;
  p.teacher = teacher;
  const std::vector<std::int64_t> ranks = architecture_layer_ranks(widths, rank, teacher);
  for (std::size_t s = 0; s < ranks.size(); ++s) p.cuts.push_back(cut_to(widths, s, ranks[s]));
  check_rank(p, rank);
  certify(p);
  return p;
}

}  // namespace llcb::dln

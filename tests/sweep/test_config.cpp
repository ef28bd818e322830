// Sweep configs: parsing, defaults, overrides, grids, job ids, and every class of bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "lib/core/error.hpp"
#include "lib/core/hash.hpp"
#include "lib/sweep/grid.hpp"
#include "lib/sweep/session.hpp"

namespace llcb::sweep {
namespace {

const char* kBase = R"(
[sweep]
samplers = sgld, sghmc
seed = 7
[problems]
class = tiny
count = 3
[chain]
steps = 1000
[sgld]
step_sizes = 1e-6, 1e-7
[sghmc]
step_start = 1e-9
step_stop = 1e-7
per_decade = 3
)";

std::string usage_error(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    parse_config(text, overrides);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "<no UsageError>";
}

TEST(Config, ParsesValuesAndDefaults) {
  const SweepConfig c = parse_config(kBase, {});
  EXPECT_EQ(c.seed, 7u);
  EXPECT_EQ(c.model_class, "tiny");
  EXPECT_EQ(c.problem_count, 3);
  EXPECT_EQ(c.steps, 1000);
  EXPECT_EQ(c.burn_in, 900);  // default burn-in fraction 0.9
  EXPECT_EQ(c.batch_size, 500);
  EXPECT_EQ(c.chains_per_job, 1);
  ASSERT_EQ(c.samplers.size(), 2u);
  EXPECT_EQ(c.samplers[0].step_sizes, (std::vector<double>{1e-7, 1e-6}));  // sorted
  ASSERT_EQ(c.samplers[1].step_sizes.size(), 7u);                            // 2 decades x 3 + 1
  EXPECT_DOUBLE_EQ(c.samplers[1].step_sizes.front(), 1e-9);
  EXPECT_NEAR(c.samplers[1].step_sizes.back(), 1e-7, 1e-21);
  EXPECT_EQ(c.samplers[1].constants.friction, 0.01);
  EXPECT_EQ(c.canonical.at("chain.batch_size"), "500");
}

TEST(Config, OverridesReplaceValuesAndChangeTheHash) {
  const SweepConfig a = parse_config(kBase, {});
  const SweepConfig b = parse_config(kBase, {"chain.steps=2000", "sghmc.friction = 0.05"});
  EXPECT_EQ(b.steps, 2000);
  EXPECT_EQ(b.samplers[1].constants.friction, 0.05);
  EXPECT_NE(a.hash, b.hash);
  const auto diff = config_differences(a.canonical, b.canonical);
  ASSERT_EQ(diff.size(), 2u);
  EXPECT_NE(diff[0].find("chain.steps: '1000' -> '2000'"), std::string::npos);
  EXPECT_EQ(parse_canonical(format_canonical(b.canonical)), b.canonical);
  // Execution settings are not part of the identity.
  EXPECT_EQ(parse_config(kBase, {"sweep.threads=2"}).hash, a.hash);
}

// A resume compares what the values mean, not how they were written: numbers by value, step
// sizes in any order, the class in any case; integers exactly (seeds beyond a double's precision
// still differ).
TEST(Config, EquivalentSpellingsAreTheSameConfig) {
  const SweepConfig a = parse_config(kBase, {});
  for (const char* same : {"sgld.step_sizes=1e-07,1.0e-6", "sgld.step_sizes = 1e-7 , 1e-6", "problems.class=TINY",
                           "sweep.samplers=sgld,sghmc", "sweep.seed=007", "chain.steps=1000"}) {
    EXPECT_TRUE(config_differences(a.canonical, parse_config(kBase, {same}).canonical).empty()) << same;
  }
  // The samplers' order is not free: calibrations are stored in it.
  for (const char* other : {"sgld.step_sizes=1e-7,2e-6", "sgld.step_sizes=1e-7", "sweep.seed=8", "chain.steps=1001",
                            "sweep.samplers=sghmc,sgld"}) {
    EXPECT_EQ(config_differences(a.canonical, parse_config(kBase, {other}).canonical).size(), 1u) << other;
  }
  const SweepConfig big = parse_config(kBase, {"sweep.seed=9007199254740993"});
  EXPECT_EQ(config_differences(big.canonical, parse_config(kBase, {"sweep.seed=9007199254740992"}).canonical).size(), 1u);
}

// A store's own config is read under the rules it was written with: what earlier builds accepted
// (a list ending in a comma, an unused sampler's section, SGNHT's diffusion 0) still repairs,
// while the same in a config file or --set is refused.
TEST(Config, AStoresConfigIsReadUnderTheRulesItWasWrittenWith) {
  std::map<std::string, std::string> stored = parse_config(kBase, {}).canonical;
  stored["sgld.step_sizes"] = "1e-6, 1e-7,";
  stored["sgnht.diffusion"] = "0";
  stored["sgnht.step_sizes"] = "banana";
  const SweepConfig back = config_from_canonical(stored);
  EXPECT_EQ(back.samplers[0].step_sizes, (std::vector<double>{1e-7, 1e-6}));
  EXPECT_TRUE(back.unused_samplers.empty());
  EXPECT_NE(usage_error(kBase, {"sgld.step_sizes=1e-6, 1e-7,"}).find("sgld.step_sizes"), std::string::npos);
  stored = parse_config(kBase, {"sweep.samplers=sgld, sgnht", "sgnht.step_sizes=1e-8"}).canonical;
  stored["sgnht.diffusion"] = "0";
  EXPECT_EQ(config_from_canonical(stored).samplers[1].constants.diffusion, 0.0);
  EXPECT_NE(usage_error(kBase, {"sweep.samplers=sgld, sgnht", "sgnht.step_sizes=1e-8", "sgnht.diffusion=0"})
                .find("diffusion is 0"),
            std::string::npos);
}

TEST(Config, GridIsTheProductWithExpensiveAxesOutermost) {
  const SweepConfig c = parse_config(kBase, {});
  const auto jobs = make_grid(c);
  ASSERT_EQ(jobs.size(), 3u * (2 + 7));
  EXPECT_EQ(jobs[0].problem_index, 0);
  EXPECT_EQ(jobs[8].problem_index, 0);
  EXPECT_EQ(jobs[9].problem_index, 1);
  std::set<std::string> ids;
  for (const auto& j : jobs) ids.insert(j.id);
  EXPECT_EQ(ids.size(), jobs.size());
}

TEST(Config, BundlesTakeJobsOfOneProblemAndSamplerInListOrder) {
  const SweepConfig c = parse_config(kBase, {"chain.ranks_per_chain=1,2"});
  const auto jobs = make_grid(c);
  std::vector<const Job*> todo;
  for (const auto& j : jobs) todo.push_back(&j);
  // Grid per problem: sgld (2 step sizes) then sghmc (7), each step size with G = 1 and G = 2:
  // 18 jobs. Job 24 is problem 1's sghmc at its second step size with G = 1.
  const std::size_t first = 18 + 2 * 2 + 2;
  ASSERT_EQ(todo[first]->ranks_per_chain, 1);
  const auto picked = bundle_of(todo, first, 3);
  ASSERT_EQ(picked.size(), 3u);
  EXPECT_EQ(picked[0], first);
  for (std::size_t i : picked) {
    EXPECT_EQ(todo[i]->problem_index, todo[first]->problem_index);
    EXPECT_EQ(todo[i]->sampler_index, todo[first]->sampler_index);
    EXPECT_EQ(todo[i]->ranks_per_chain, 1);
  }
  EXPECT_EQ(bundle_of(todo, first, 1), std::vector<std::size_t>{first});
  EXPECT_EQ(bundle_of(todo, first + 1, 3), std::vector<std::size_t>{first + 1});  // a G = 2 job runs alone
}

TEST(Config, JobIdsAreStableAndIndependentOfKeyOrder) {
  const char* reordered = R"(
[sghmc]
per_decade = 3
step_stop = 1e-7
step_start = 1e-9
[chain]
steps = 1000
[problems]
count = 3
class = tiny
[sgld]
step_sizes = 1e-7,1e-6
[sweep]
seed = 7
samplers = sgld, sghmc
)";
  const auto a = make_grid(parse_config(kBase, {}));
  const auto b = make_grid(parse_config(reordered, {}));
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].id, b[i].id);
  // Pinned: the id of a job is part of every store; changing the recipe must be deliberate. The
  // product and layered paths' ids are those of every store written before factored targets.
  const std::vector<std::string> earlier = {"chain.targets=product", "chain.gradient=layered",
                                            "chain.batch_sums=whole"};
  EXPECT_EQ(make_grid(parse_config(kBase, earlier))[0].id, std::string("1053815d4d9b1f1b"));
  EXPECT_EQ(a[0].id, std::string(hex64(fnv1a64(make_grid(parse_config(kBase, earlier))[0].description +
                                               ";targets=factored;gradient=narrowest;sums=halves"))));
  EXPECT_NE(chain_seed(parse_config(kBase, {}), a[0], 0), chain_seed(parse_config(kBase, {}), a[0], 1));
}

TEST(Config, AMinimalTeacherSweepHasJobsOfItsOwn) {
  const SweepConfig paper = parse_config(kBase, {});
  const SweepConfig minimal = parse_config(kBase, {"problems.teacher=minimal"});
  EXPECT_EQ(minimal.teacher, dln::TeacherMode::kMinimal);
  const auto a = make_grid(paper);
  const auto b = make_grid(minimal);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_NE(a[i].id, b[i].id);
    EXPECT_EQ(b[i].chain_key, a[i].chain_key + ";teacher=minimal");
    EXPECT_NE(chain_seed(paper, a[i], 0), chain_seed(minimal, b[i], 0));
  }
  EXPECT_EQ(make_problem(minimal, 0).local.status, dln::TruthStatus::kExact);
  EXPECT_EQ(make_problem(minimal, 0).truth.lambda, make_problem(paper, 0).truth.lambda);
  const auto diff = config_differences(paper.canonical, minimal.canonical);
  ASSERT_EQ(diff.size(), 1u);
  EXPECT_EQ(diff[0], "problems.teacher: 'paper' -> 'minimal'");
  EXPECT_NE(usage_error(kBase, {"problems.teacher=first-layer"}).find("first-layer is for --widths"),
            std::string::npos);
  EXPECT_NE(usage_error(kBase, {"problems.teacher=smallest"}).find("unknown teacher mode 'smallest'"),
            std::string::npos);
}

TEST(Config, TheEstimateBoundIsPartOfAJobsIdButNotOfItsChain) {
  const SweepConfig now =
      parse_config(kBase, {"chain.targets=product", "chain.gradient=layered", "chain.batch_sums=whole"});
  const SweepConfig before = parse_config(kBase, {"chain.estimate_bound_factor=1", "chain.targets=product",
                                                  "chain.gradient=layered", "chain.batch_sums=whole"});
  EXPECT_EQ(now.estimate_bound_factor, 2);
  const auto a = make_grid(now);
  const auto b = make_grid(before);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_NE(a[i].id, b[i].id);  // a different verdict: a different job
    EXPECT_EQ(chain_seed(now, a[i], 0), chain_seed(before, b[i], 0));  // the very same chain
  }
  // Under the bound of earlier versions a job has the id those versions gave it, and its chain
  // key is the description they hashed for its chain seed (pinned: changing it changes every
  // chain of every sweep).
  EXPECT_EQ(b[0].id, std::string("b9c5b59efa774d20"));
  EXPECT_EQ(b[0].chain_key, b[0].description);
  EXPECT_EQ(chain_seed(before, b[0], 0), 8665538306985398236ULL);
  const auto diff = config_differences(before.canonical, now.canonical);
  ASSERT_EQ(diff.size(), 1u);
  EXPECT_EQ(diff[0], "chain.estimate_bound_factor: '1' -> '2'");
}

TEST(Config, AJobsRowCombinesItsChains) {
  // Two chains of one job: its row has their mean estimate, the mean raw estimate, and the
  // standard error of a mean of independent chains, sqrt(se_1^2 + se_2^2) / 2.
  const SweepConfig c = parse_config(kBase, {"chain.chains=2", "chain.batch_size=50", "sweep.threads=1"});
  const auto jobs = make_grid(c);
  const dln::Problem p = make_problem(c, 0);
  backend::BackendOptions bo;
  bo.threads = 1;
  const auto be = backend::make_backend(bo);
  const auto chains = be->run(p, data_spec(c), chain_specs(c, jobs[0], p));
  const auto out = run_jobs(c, {&jobs[0]}, p, *be);
  ASSERT_EQ(chains.size(), 2u);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_FALSE(chains[0].diverged || chains[1].diverged);
  const store::JobResult& r = out[0].result;
  EXPECT_EQ(r.status, "done");
  EXPECT_DOUBLE_EQ(r.lambda_hat, (chains[0].lambda_hat + chains[1].lambda_hat) / 2);
  EXPECT_DOUBLE_EQ(r.raw_estimate, (chains[0].raw_estimate + chains[1].raw_estimate) / 2);
  EXPECT_DOUBLE_EQ(r.estimate_se, std::sqrt(chains[0].estimate_se * chains[0].estimate_se +
                                            chains[1].estimate_se * chains[1].estimate_se) / 2);
  const double truth = p.truth.lambda.to_double();
  EXPECT_DOUBLE_EQ(r.rel_error, (r.lambda_hat - truth) / truth);
  EXPECT_TRUE(std::isfinite(r.estimate_se));
}

TEST(Config, StoresWrittenBeforeFactoredTargetsContinueThroughTheProduct) {
  // (Those stores went layer by layer and summed the batch whole too: the next tests.)
  const SweepConfig factored = parse_config(kBase, {"chain.gradient=layered", "chain.batch_sums=whole"});
  const SweepConfig product =
      parse_config(kBase, {"chain.targets=product", "chain.gradient=layered", "chain.batch_sums=whole"});
  EXPECT_TRUE(factored.factored_targets);
  EXPECT_FALSE(product.factored_targets);
  // The same chains (seeds), other ids: the targets differ in rounding.
  const auto a = make_grid(factored), b = make_grid(product);
  EXPECT_NE(a[0].id, b[0].id);
  EXPECT_EQ(a[0].chain_key, b[0].chain_key);
  EXPECT_EQ(a[0].description, b[0].description + ";targets=factored");
  // A store of an earlier version has no chain.targets: it ran the product.
  std::map<std::string, std::string> old = product.canonical;
  old.erase("chain.targets");
  EXPECT_TRUE(config_differences(old, product.canonical).empty());
  ASSERT_EQ(config_differences(old, factored.canonical).size(), 1u);
  EXPECT_EQ(config_differences(old, factored.canonical)[0], "chain.targets: 'product' -> 'factored'");
  EXPECT_EQ(legacy_overrides(factored, old), std::vector<std::string>{"chain.targets=product"});
  EXPECT_TRUE(legacy_overrides(factored, factored.canonical).empty());  // a store that has the key
  EXPECT_TRUE(legacy_overrides(factored, {}).empty());  // no store yet (--resume of a new path)
  EXPECT_TRUE(legacy_overrides(product, old).empty());  // a config that sets it keeps its choice
  EXPECT_FALSE(config_from_canonical(old).factored_targets);
  EXPECT_EQ(make_grid(config_from_canonical(old))[0].id, b[0].id);
  EXPECT_NE(usage_error(kBase, {"chain.targets=svd"}).find("chain.targets is 'svd', expected factored or product"),
            std::string::npos);
}

TEST(Config, StoresWrittenBeforeTheNarrowestGradientContinueLayerByLayer) {
  // (Those stores summed the batch whole: the next test.)
  const SweepConfig narrowest = parse_config(kBase, {"chain.batch_sums=whole"});
  const SweepConfig layered = parse_config(kBase, {"chain.gradient=layered", "chain.batch_sums=whole"});
  EXPECT_TRUE(narrowest.narrowest_gradient);
  EXPECT_FALSE(layered.narrowest_gradient);
  EXPECT_TRUE(data_spec(narrowest).narrowest_gradient);
  EXPECT_FALSE(data_spec(layered).narrowest_gradient);
  // The same chains (seeds), other ids: the gradients differ in rounding.
  const auto a = make_grid(narrowest), b = make_grid(layered);
  EXPECT_NE(a[0].id, b[0].id);
  EXPECT_EQ(a[0].chain_key, b[0].chain_key);
  EXPECT_EQ(chain_seed(narrowest, a[0], 0), chain_seed(layered, b[0], 0));
  EXPECT_EQ(a[0].description, b[0].description + ";gradient=narrowest");
  // A store of the version before has chain.targets but no chain.gradient: it went layer by layer.
  std::map<std::string, std::string> before = layered.canonical;
  before.erase("chain.gradient");
  EXPECT_TRUE(config_differences(before, layered.canonical).empty());
  EXPECT_EQ(legacy_overrides(narrowest, before), std::vector<std::string>{"chain.gradient=layered"});
  EXPECT_EQ(make_grid(config_from_canonical(before))[0].id, b[0].id);
  // One of the version before that has neither key continues with both earlier paths (and, a
  // config that leaves chain.batch_sums unset, the whole sum: the next test).
  before.erase("chain.targets");
  before.erase("chain.batch_sums");
  EXPECT_EQ(legacy_overrides(narrowest, before),
            (std::vector<std::string>{"chain.targets=product", "chain.gradient=layered"}));
  EXPECT_EQ(legacy_overrides(parse_config(kBase, {}), before),
            (std::vector<std::string>{"chain.targets=product", "chain.gradient=layered", "chain.batch_sums=whole"}));
  EXPECT_EQ(make_grid(config_from_canonical(before))[0].id, std::string("1053815d4d9b1f1b"));
  EXPECT_NE(usage_error(kBase, {"chain.gradient=fast"}).find("chain.gradient is 'fast', expected narrowest or layered"),
            std::string::npos);
}

TEST(Config, StoresWrittenBeforeSumsInBatchHalvesContinueWithTheWholeSum) {
  const SweepConfig halves = parse_config(kBase, {});
  const SweepConfig whole = parse_config(kBase, {"chain.batch_sums=whole"});
  EXPECT_TRUE(halves.batch_halves);
  EXPECT_FALSE(whole.batch_halves);
  EXPECT_TRUE(data_spec(halves).batch_halves);
  EXPECT_FALSE(data_spec(whole).batch_halves);
  // The same chains (seeds), other ids: the sums differ in rounding.
  const auto a = make_grid(halves), b = make_grid(whole);
  EXPECT_NE(a[0].id, b[0].id);
  EXPECT_EQ(a[0].chain_key, b[0].chain_key);
  EXPECT_EQ(chain_seed(halves, a[0], 0), chain_seed(whole, b[0], 0));
  EXPECT_EQ(a[0].description, b[0].description + ";sums=halves");
  // A store of the version before has chain.gradient but no chain.batch_sums: it summed whole.
  std::map<std::string, std::string> before = whole.canonical;
  before.erase("chain.batch_sums");
  EXPECT_TRUE(config_differences(before, whole.canonical).empty());
  EXPECT_EQ(config_differences(before, halves.canonical),
            std::vector<std::string>{"chain.batch_sums: 'whole' -> 'halves'"});
  EXPECT_EQ(legacy_overrides(halves, before), std::vector<std::string>{"chain.batch_sums=whole"});
  EXPECT_TRUE(legacy_overrides(whole, before).empty());  // a config that sets it keeps its choice
  EXPECT_EQ(make_grid(config_from_canonical(before))[0].id, b[0].id);
  EXPECT_NE(usage_error(kBase, {"chain.batch_sums=quarters"}).find("chain.batch_sums is 'quarters', expected halves or whole"),
            std::string::npos);
}

TEST(Config, BadInputIsAOneLineUsageErrorNamingTheKey) {
  EXPECT_NE(usage_error(std::string(kBase) + "[chain]\nbogus = 1\n").find("bogus"), std::string::npos);
  EXPECT_NE(usage_error(std::string(kBase) + "[nosection]\nx = 1\n").find("nosection.x"), std::string::npos);
  EXPECT_NE(usage_error(kBase, {"chain.steps=abc"}).find("chain.steps"), std::string::npos);
  EXPECT_NE(usage_error(kBase, {"chain.steps=-5"}).find("chain.steps"), std::string::npos);
  EXPECT_NE(usage_error(kBase, {"chain.burn_in=1000"}).find("chain.burn_in"), std::string::npos);
  // A section of a sampler that sweep.samplers omits is checked as if it were listed, and named
  // as unused; untouched sections are not.
  EXPECT_TRUE(parse_config(kBase, {}).unused_samplers.empty());
  EXPECT_EQ(parse_config(kBase, {"sgnht.diffusion=0.02"}).unused_samplers, std::vector<std::string>{"sgnht"});
  EXPECT_NE(usage_error(kBase, {"sgnht.step_sizes=banana"}).find("sgnht.step_sizes: 'banana'"), std::string::npos);
  EXPECT_NE(usage_error(kBase, {"sgnht.diffusion=0"}).find("[sgnht] diffusion is 0"), std::string::npos);
  EXPECT_NE(usage_error(kBase, {"rmsprop_sgld.preset=foo"}).find("unknown RMSProp preset 'foo'"), std::string::npos);
  // A trailing comma leaves an empty item, refused like any other.
  EXPECT_NE(usage_error(kBase, {"sweep.samplers=sgld,"}).find("sweep.samplers has an empty item"), std::string::npos);
  EXPECT_NE(usage_error(kBase, {"sgld.step_sizes=1e-7,"}).find("sgld.step_sizes"), std::string::npos);
  // A listed sampler's constant names its section.
  EXPECT_NE(usage_error(kBase, {"sghmc.friction=0"}).find("[sghmc] friction is 0"), std::string::npos);
  // A fraction that keeps no step names the fraction, the key that was set.
  EXPECT_NE(usage_error(kBase, {"chain.burn_in_fraction=1"}).find("chain.burn_in_fraction leaves no kept step"),
            std::string::npos);
  EXPECT_NE(usage_error(kBase, {"problems.class=huge"}).find("unknown model class"), std::string::npos);
  EXPECT_NE(usage_error(kBase, {"sweep.samplers=sgld, langevin"}).find("unknown sampler 'langevin'"),
            std::string::npos);
  EXPECT_NE(usage_error(kBase, {"sweep.samplers="}).find("sweep.samplers is required"), std::string::npos);
  EXPECT_NE(usage_error(kBase, {"sweep.samplers=sgld,sgld"}).find("twice"), std::string::npos);
  EXPECT_NE(usage_error(kBase, {"sgld.step_sizes="}).find("exactly one grid"), std::string::npos);
  EXPECT_NE(usage_error(kBase, {"sgld.step_start=1e-7"}).find("exactly one grid"), std::string::npos);
  EXPECT_NE(usage_error(kBase, {"sgld.step_sizes=1e-7,0"}).find("sgld.step_sizes"), std::string::npos);
  EXPECT_NE(usage_error(kBase, {"sgld.step_sizes=1e-7,1e-7"}).find("twice"), std::string::npos);
  EXPECT_NE(usage_error(kBase, {"sghmc.step_stop=1e-10"}).find("below"), std::string::npos);
  EXPECT_NE(usage_error(kBase, {"sghmc.friction=3"}).find("sghmc.friction"), std::string::npos);
  EXPECT_NE(usage_error(kBase, {"nokey"}).find("expected section.key=value"), std::string::npos);
  EXPECT_NE(usage_error(kBase, {"chain.nope=1"}).find("unknown config key 'chain.nope'"), std::string::npos);
  EXPECT_NE(usage_error(std::string(kBase) + "[chain]\nsteps = 5\n").find("twice"), std::string::npos);
  EXPECT_NE(usage_error("[sweep]\nsamplers = sgld\n[sgld]\nstep_sizes = 1e-7\n").find("problems.class"),
            std::string::npos);
  EXPECT_THROW(load_config("/nonexistent/config.ini", {}), UsageError);
}

TEST(Config, BatchLargerThanNIsRefusedBeforeAnythingRuns) {
  const SweepConfig c = parse_config(kBase, {"problems.n=100"});
  const auto jobs = make_grid(c);
  EXPECT_THROW(chain_specs(c, jobs[0], make_problem(c, 0)), UsageError);
}

}  // namespace
}  // namespace llcb::sweep

namespace llcb::sweep {
namespace {

TEST(Config, ShippedConfigsParseAndEveryKeyIsDocumented) {
  for (const char* name : {"demo.ini", "paper-100k.ini", "paper-1m.ini", "paper-10m.ini", "paper-100m.ini"}) {
    const SweepConfig c = load_config(std::string(LLCB_CONFIGS_DIR) + "/" + name, {});
    EXPECT_EQ(c.samplers.size(), 5u) << name;
    EXPECT_FALSE(make_grid(c).empty()) << name;
  }
  const SweepConfig paper = load_config(std::string(LLCB_CONFIGS_DIR) + "/paper-100k.ini", {});
  EXPECT_EQ(paper.steps, 50000);
  EXPECT_EQ(paper.burn_in, 45000);
  EXPECT_EQ(paper.problem_count, 100);
  EXPECT_EQ(paper.n, 1'000'000);
  std::ifstream in(std::string(LLCB_CONFIGS_DIR) + "/README.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string readme = ss.str();
  for (const auto& key : config_keys()) {
    const std::string bare = key.name.substr(key.name.find('.') + 1);
    EXPECT_NE(readme.find("`" + bare + "`"), std::string::npos) << key.name << " is not documented";
  }
}

}  // namespace
}  // namespace llcb::sweep

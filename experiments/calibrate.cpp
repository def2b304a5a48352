// History matching (docs/calibration.md): the engine's likelihood counter and the
// importance-sampling posterior with its Monte Carlo error. Histories and the [calibrate] table
// are read in experiments/calibrate_table.cpp.
#include "experiments/calibrate.hpp"

#include "agents/params.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/error.hpp"
#include "engine/rng.hpp"
#include "experiments/session.hpp"
#include "experiments/trace_where.hpp"

#include <fmt/format.h>
#include <boost/random/gamma_distribution.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <numeric>

namespace wedge::experiments {

using agents::TugOfWar;

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// ---- the posterior ------------------------------------------------------------------------------

constexpr double SQRT_2PI = 2.5066282746310002;

double phi(double z) { return std::exp(-0.5 * z * z) / SQRT_2PI; }
double Phi(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

/// A key's coordinate in [0, 1] and, for integer and boolean keys, its levels.
struct Axis {
  PriorKey key;
  std::vector<double> levels;  ///< discrete keys: each value's coordinate
  bool discrete() const { return key.kind != PriorKey::Kind::real; }
  double unit(double v) const {
    return key.kind == PriorKey::Kind::boolean ? v : (v - key.min) / (key.max - key.min);
  }
  double value(double x) const {
    if (key.kind == PriorKey::Kind::boolean) return x >= 0.5 ? 1.0 : 0.0;
    const double v = key.min + x * (key.max - key.min);
    return key.kind == PriorKey::Kind::integer ? std::round(v)
                                               : std::min(key.max, std::max(key.min, v));
  }
};

Axis make_axis(const PriorKey& k) {
  Axis a{k, {}};
  if (k.kind == PriorKey::Kind::boolean) a.levels = {0.0, 1.0};
  if (k.kind == PriorKey::Kind::integer) {
    for (double v = std::ceil(k.min); v <= std::floor(k.max); v += 1.0)
      a.levels.push_back(a.unit(v));
  }
  return a;
}

/// A refinement stage's proposal: a defensive mixture of the prior (share alpha) and Gaussian
/// kernels (truncated to [0, 1]; discrete keys: normalised over their levels) around the current
/// points, weighted by their posterior weights (Hesterberg 1995; West 1993).
struct Proposal {
  double alpha = 1.0;
  std::vector<double> sigma;                 ///< per key, in unit coordinates
  std::vector<std::vector<double>> centres;  ///< [component][key]
  std::vector<double> pi;                    ///< component weights (sum 1)
  std::vector<std::vector<double>> norm;     ///< [component][key]: the kernel's normaliser

  /// The kernel of key k around c at x, relative to the prior (density on [0, 1], or mass 1/m).
  static double kernel(const Axis& axis, double sigma, double c, double x, double norm) {
    const double z = (x - c) / sigma;
    if (axis.discrete()) return phi(z) / norm * static_cast<double>(axis.levels.size());
    return phi(z) / sigma / norm;
  }
  static double normaliser(const Axis& axis, double sigma, double c) {
    if (axis.discrete()) {
      double sum = 0.0;
      for (double l : axis.levels) sum += phi((l - c) / sigma);
      return sum;
    }
    return Phi((1.0 - c) / sigma) - Phi(-c / sigma);
  }
  void prepare(const std::vector<Axis>& axes) {
    norm.assign(centres.size(), std::vector<double>(axes.size()));
    for (std::size_t j = 0; j < centres.size(); ++j) {
      for (std::size_t k = 0; k < axes.size(); ++k)
        norm[j][k] = normaliser(axes[k], sigma[k], centres[j][k]);
    }
  }
  /// q(x) / prior(x).
  double ratio(const std::vector<Axis>& axes, const std::vector<double>& x) const {
    double mix = 0.0;
    for (std::size_t j = 0; j < centres.size(); ++j) {
      double k = pi[j];
      for (std::size_t d = 0; d < axes.size() && k > 0.0; ++d)
        k *= kernel(axes[d], sigma[d], centres[j][d], x[d], norm[j][d]);
      mix += k;
    }
    return alpha + (1.0 - alpha) * mix;
  }
  /// One draw, in unit coordinates.
  std::vector<double> draw(const std::vector<Axis>& axes, engine::Stream& rng) const {
    std::vector<double> x(axes.size());
    if (rng.uniform() < alpha || centres.empty()) {
      for (std::size_t k = 0; k < axes.size(); ++k) {
        const double u = rng.uniform();
        x[k] = axes[k].discrete()
                   ? axes[k].levels[std::min(
                         axes[k].levels.size() - 1,
                         static_cast<std::size_t>(u * static_cast<double>(axes[k].levels.size())))]
                   : u;
      }
      return x;
    }
    const double u = rng.uniform();
    std::size_t j = 0;
    for (double acc = pi[0]; acc <= u && j + 1 < pi.size(); acc += pi[++j]) {
    }
    for (std::size_t k = 0; k < axes.size(); ++k) {
      const double c = centres[j][k], s = sigma[k];
      if (axes[k].discrete()) {
        double r = rng.uniform() * norm[j][k];
        std::size_t l = 0;
        for (; l + 1 < axes[k].levels.size(); ++l) {
          r -= phi((axes[k].levels[l] - c) / s);
          if (r < 0.0) break;
        }
        x[k] = axes[k].levels[l];
        continue;
      }
      // Truncated normal by rejection (c lies in [0, 1] and sigma <= 0.5: at least ~1/3 accepted).
      for (int attempt = 0;; ++attempt) {
        const double u1 = rng.uniform(), u2 = rng.uniform();
        const double z = std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(2.0 * M_PI * u2);
        const double v = c + s * z;
        if ((v >= 0.0 && v <= 1.0) || attempt > 100000) {
          x[k] = std::min(1.0, std::max(0.0, v));
          break;
        }
      }
    }
    return x;
  }
};

/// Normalised weights L_i / r_i (zero where L_i is 0); false if every L_i is 0.
bool normalise(const std::vector<double>& likelihood, const std::vector<double>& ratio,
               std::vector<double>& w) {
  w.resize(likelihood.size());
  double total = 0.0;
  for (std::size_t i = 0; i < w.size(); ++i) total += (w[i] = likelihood[i] / ratio[i]);
  if (!(total > 0.0)) return false;
  for (auto& x : w) x /= total;
  return true;
}

double kish(const std::vector<double>& w) {
  double s2 = 0.0;
  for (double x : w) s2 += x * x;
  return s2 > 0.0 ? 1.0 / s2 : 0.0;
}

/// The weighted quantile (inverse of the weighted empirical distribution) of values[order[...]].
double weighted_quantile(const std::vector<double>& values, const std::vector<std::size_t>& order,
                         const std::vector<double>& w, double q) {
  double acc = 0.0;
  for (std::size_t i : order) {
    acc += w[i];
    if (acc >= q - 1e-12) return values[i];
  }
  return values[order.back()];
}

/// 5% and 95% of a sample (linear interpolation between order statistics).
std::pair<double, double> band(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  const auto at = [&](double q) {
    const double pos = q * static_cast<double>(x.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos));
    const auto hi = std::min(lo + 1, x.size() - 1);
    return x[lo] + (pos - static_cast<double>(lo)) * (x[hi] - x[lo]);
  };
  return {at(0.05), at(0.95)};
}

/// Whether two histories can never hold in the same run (some field is restricted to disjoint
/// sets): then the counts of all histories and of "none" are multinomial.
bool disjoint(const History& a, const History& b) {
  for (const auto& x : a.conditions) {
    for (const auto& y : b.conditions) {
      if (x.categorical != y.categorical || x.index != y.index) continue;
      if (x.categorical) {
        bool overlap = false;
        for (std::size_t c = 0; c < x.allowed.size(); ++c)
          overlap = overlap || (x.allowed[c] && y.allowed[c]);
        if (!overlap) return true;
      } else if (x.max < y.min || y.max < x.min) {
        return true;
      }
    }
  }
  return false;
}

/// The summaries of one set of likelihoods (the estimates, or one redraw).
struct Summary {
  double evidence = 0.0, ess = 0.0;
  std::vector<double> mean, sd;
  std::vector<std::vector<double>> quantiles;  ///< [key][q]
  bool valid = false;
};

Summary summarise(const std::vector<double>& likelihood, const std::vector<double>& ratio,
                  const std::vector<std::vector<double>>& values,
                  const std::vector<std::vector<std::size_t>>& order, std::vector<double>& w) {
  Summary s;
  double evidence = 0.0;
  for (std::size_t i = 0; i < likelihood.size(); ++i) evidence += likelihood[i] / ratio[i];
  s.evidence = evidence / static_cast<double>(likelihood.size());
  if (!normalise(likelihood, ratio, w)) return s;
  s.valid = true;
  s.ess = kish(w);
  for (std::size_t k = 0; k < values.size(); ++k) {
    double m = 0.0;
    for (std::size_t i = 0; i < w.size(); ++i) m += w[i] * values[k][i];
    double v = 0.0;
    for (std::size_t i = 0; i < w.size(); ++i) v += w[i] * (values[k][i] - m) * (values[k][i] - m);
    s.mean.push_back(m);
    s.sd.push_back(std::sqrt(v));
    std::vector<double> q;
    for (double p : CalibrationResult::QUANTILES)
      q.push_back(weighted_quantile(values[k], order[k], w, p));
    s.quantiles.push_back(std::move(q));
  }
  return s;
}

/// Records per design point and history: counts the matching runs as they stream past.
struct MatchCounter final : RecordSink {
  const std::vector<History>& histories;
  std::vector<std::uint64_t>& matches;
  std::vector<std::uint64_t>& runs;
  MatchCounter(const std::vector<History>& h, std::vector<std::uint64_t>& m,
               std::vector<std::uint64_t>& r)
      : histories(h), matches(m), runs(r) {}
  void consume(std::span<const engine::Block> blocks, std::span<const agents::RunRecord> records,
               std::span<const engine::Summary>) override {
    std::uint16_t cats[engine::MAX_FIELDS];
    double values[engine::MAX_FIELDS];
    const std::size_t h = histories.size();
    std::size_t i = 0;
    for (const auto& b : blocks) {
      runs[b.point] += b.count;
      for (std::uint32_t k = 0; k < b.count; ++k, ++i) {
        TugOfWar::observe(records[i], cats, values);
        for (std::size_t j = 0; j < h; ++j)
          matches[b.point * h + j] += histories[j].matches(cats, values) ? 1u : 0u;
      }
    }
  }
};

}  // namespace

void check_possible(const Experiment& e, const std::vector<History>& histories) {
  // The scenario of the prior most open to every outcome: each swept key that the model's
  // structural limits read (impossible_category) at its largest value under the prior.
  agents::Scenario widest = e.base;
  std::vector<std::string> widened;  // the keys set to their prior's largest value
  for (const auto& sk : e.sweep.keys) {
    const auto info = agents::find_parameter(widest, sk.key);
    if (!info) continue;
    if (!read_by_impossible_category(sk.key)) continue;
    double top = sk.has_range ? sk.max : -std::numeric_limits<double>::infinity();
    for (double v : sk.values) top = std::max(top, v);
    if (sk.key.ends_with(".min_islands")) top = top >= 4.0 ? 4.0 : top >= 2.0 ? 2.0 : 0.0;
    if (info->type == agents::ParamType::integer) top = std::floor(top);
    if (std::isfinite(top) && info->in_range(top)) {
      info->set(widest, top);
      widened.push_back(sk.key);
    }
  }
  const auto layout = engine::FieldLayout::from(agents::TugOfWar::fields());
  for (const auto& h : histories) {
    for (const auto& c : h.conditions) {
      std::string why;
      if (c.categorical) {
        bool possible = false;
        for (std::size_t k = 0; k < c.allowed.size() && !possible; ++k) {
          if (!c.allowed[k]) continue;
          const auto reason = impossible_category(widest, c.index, k);
          if (reason.empty())
            possible = true;
          else if (why.empty())
            why = reason;
        }
        if (possible) why.clear();
      } else if (layout.continuous[c.index].name == "alignment" && (c.max < 0.0 || c.min > 1.0)) {
        why = "alignment lies in [0, 1]";
      } else if (layout.continuous[c.index].name == "reward_total" && c.max < 0.0) {
        why = "reward_total is a sum of rewards, never below 0";
      }
      if (!why.empty()) {
        const bool prior = std::any_of(widened.begin(), widened.end(), [&](const std::string& k) {
          return why.find(k) != std::string::npos ||
                 (k.ends_with(".min_islands") && why.find("islands") != std::string::npos);
        });
        throw ConfigError(
            fmt::format("{}: {}: no run can end so: {}{}; no run can match this history", c.where,
                        c.text, why, prior ? " (at the widest point of the prior)" : ""));
      }
    }
  }
}

std::vector<PriorKey> prior_keys(const Experiment& e) {
  const std::string where = e.source.empty() ? std::string("the experiment") : e.source;
  if (e.sweep.design == Design::single || e.sweep.keys.empty()) {
    throw ConfigError(fmt::format(
        "{}: calibrate needs a [sweep] whose keys have min and max (the uniform prior), "
        "e.g. [sweep.keys] \"dulles.tact\" = {{ min = 0, max = 1 }}",
        where));
  }
  std::vector<PriorKey> keys;
  for (const auto& sk : e.sweep.keys) {
    if (!sk.has_range) {
      throw ConfigError(fmt::format(
          "{}: sweep key \"{}\" has a list of values; calibrate needs {{ min = ..., max = ... }} "
          "(the uniform prior)",
          where, sk.key));
    }
    const auto& info = agents::require_parameter(sk.key);
    PriorKey k;
    k.key = sk.key;
    k.min = sk.min;
    k.max = sk.max;
    k.kind = info.type == agents::ParamType::boolean   ? PriorKey::Kind::boolean
             : info.type == agents::ParamType::integer ? PriorKey::Kind::integer
                                                       : PriorKey::Kind::real;
    if (k.kind == PriorKey::Kind::boolean) {
      k.min = 0.0;
      k.max = 1.0;
    } else if (!(k.min < k.max)) {
      throw ConfigError(fmt::format("{}: sweep key \"{}\": min = max = {}: nothing to calibrate",
                                    where, sk.key, k.min));
    } else if (k.kind == PriorKey::Kind::integer && std::floor(k.max) - std::ceil(k.min) < 1.0) {
      throw ConfigError(fmt::format("{}: sweep key \"{}\": [{}, {}] holds fewer than two integers",
                                    where, sk.key, k.min, k.max));
    }
    keys.push_back(k);
  }
  return keys;
}

LikelihoodCounter model_counter(const std::vector<History>& histories, unsigned threads,
                                const engine::CancelToken* cancel, bool quiet) {
  return [histories, threads, cancel, quiet, stage_number = 0](
             const Experiment& stage, std::vector<std::uint64_t>& matches,
             std::vector<std::uint64_t>& runs) mutable {
    matches.assign(stage.points.size() * histories.size(), 0);
    runs.assign(stage.points.size(), 0);
    MatchCounter counter(histories, matches, runs);
    SessionOptions options;
    options.threads = threads;
    Session session(stage, options);
    engine::Progress progress(stage.points.size() * stage.run.runs, quiet);
    progress.set_label(
        fmt::format("stage {} ({}): ", ++stage_number, counted(stage.points.size(), "point")));
    const auto result = session.execute({cancel, &counter, &progress});
    progress.finish();
    return !result.interrupted;
  };
}

CalibrationResult calibrate(const Experiment& e, const CalibrationSettings& settings,
                            const LikelihoodCounter& count,
                            const std::function<void(std::uint32_t, std::uint64_t)>& on_stage) {
  const auto start = std::chrono::steady_clock::now();
  CalibrationResult out;
  out.source = e.source;
  out.seed = e.run.seed;
  out.settings = settings;
  out.keys = prior_keys(e);
  if (settings.histories.empty()) throw ConfigError("calibrate: no history to match");
  check_possible(e, settings.histories);
  std::vector<Axis> axes;
  for (const auto& k : out.keys) axes.push_back(make_axis(k));
  const std::size_t d = axes.size(), h = settings.histories.size();

  std::vector<std::vector<double>> unit;  // [point][key]
  std::vector<double> likelihood;
  std::vector<Proposal> proposals;  // stage s >= 1's proposal, at s - 1
  std::vector<std::uint64_t> stage_points;
  std::vector<double> ratio, w;

  const auto likelihood_of = [&](const std::vector<std::uint64_t>& k, std::uint64_t n) {
    double log_l = 0.0;
    for (std::size_t j = 0; j < h; ++j) {
      if (k[j] == 0) return 0.0;
      log_l += static_cast<double>(settings.histories[j].count) *
               std::log(static_cast<double>(k[j]) / static_cast<double>(n));
    }
    return std::exp(log_l);
  };
  // r_mix(x) = sum over stages of (N_s / N) q_s(x) / prior(x), with q_0 = prior.
  const auto mixture_ratios = [&]() {
    std::vector<double> r(unit.size());
    const auto total = static_cast<double>(unit.size());
    for (std::size_t i = 0; i < unit.size(); ++i) {
      double mix = static_cast<double>(stage_points[0]) / total;
      for (std::size_t s = 1; s < stage_points.size(); ++s) {
        mix += static_cast<double>(stage_points[s]) / total * proposals[s - 1].ratio(axes, unit[i]);
      }
      r[i] = mix;
    }
    return r;
  };

  const std::uint64_t stages = 1 + settings.refine;
  for (std::uint32_t stage = 0; stage < stages; ++stage) {
    Experiment se = e;
    se.run.precision.reset();
    se.run.runs = settings.runs;
    se.sweep = Sweep{};
    if (stage == 0) {
      se.sweep.design = settings.design;
      se.sweep.points = settings.points;
      for (const auto& k : out.keys) {
        SweepKey sk;
        sk.key = k.key;
        sk.min = k.min;
        sk.max = k.max;
        sk.has_range = true;
        se.sweep.keys.push_back(sk);
      }
    } else {
      // The next points from the current posterior: kernels around the weighted points.
      se.run.seed =
          splitmix64(e.run.seed + stage) >> 1;  // a seed of its own (TOML integers are signed)
      Proposal q;
      q.alpha = settings.defensive;
      std::vector<double> mean(d, 0.0), sd(d, 0.0);
      for (std::size_t i = 0; i < unit.size(); ++i) {
        for (std::size_t k = 0; k < d; ++k) mean[k] += w[i] * unit[i][k];
      }
      for (std::size_t i = 0; i < unit.size(); ++i) {
        for (std::size_t k = 0; k < d; ++k)
          sd[k] += w[i] * (unit[i][k] - mean[k]) * (unit[i][k] - mean[k]);
      }
      const double ess = std::max(1.0, kish(w));
      const auto dd = static_cast<double>(d);
      // Silverman's rule for a product Gaussian kernel, on the effective sample size.
      const double hfactor =
          std::pow(4.0 / (dd + 2.0), 1.0 / (dd + 4.0)) * std::pow(ess, -1.0 / (dd + 4.0));
      const double spacing = 0.5 * std::pow(static_cast<double>(unit.size()), -1.0 / dd);
      for (std::size_t k = 0; k < d; ++k) {
        double floor = spacing;
        if (axes[k].discrete())
          floor = std::max(floor, 0.5 / static_cast<double>(axes[k].levels.size() - 1));
        q.sigma.push_back(std::min(0.5, hfactor * std::max(std::sqrt(sd[k]), floor)));
      }
      for (std::size_t i = 0; i < unit.size(); ++i) {
        if (w[i] <= 0.0) continue;
        q.centres.push_back(unit[i]);
        q.pi.push_back(w[i]);
      }
      q.prepare(axes);
      engine::Stream rng(engine::StreamKey{e.run.seed, 0xFFFFFFFFu, 0}, 0x43410000u + stage);
      const std::uint64_t n = settings.refine_points > 0 ? settings.refine_points : settings.points;
      se.sweep.design = Design::list;
      for (const auto& k : out.keys) {
        SweepKey sk;
        sk.key = k.key;
        se.sweep.keys.push_back(sk);
      }
      for (std::uint64_t p = 0; p < n; ++p) {
        const auto x = q.draw(axes, rng);
        for (std::size_t k = 0; k < d; ++k) se.sweep.keys[k].values.push_back(axes[k].value(x[k]));
      }
      proposals.push_back(std::move(q));
    }
    resolve_design(se);
    if (on_stage) on_stage(stage, se.points.size());
    std::vector<std::uint64_t> matches, runs;
    if (!count(se, matches, runs)) {
      out.interrupted = true;
      return out;
    }
    for (std::size_t p = 0; p < se.points.size(); ++p) {
      CalibrationPoint cp;
      cp.stage = stage;
      cp.values = se.values[p];
      cp.runs = runs[p];
      cp.matches.assign(matches.begin() + static_cast<std::ptrdiff_t>(p * h),
                        matches.begin() + static_cast<std::ptrdiff_t>((p + 1) * h));
      cp.likelihood = likelihood_of(cp.matches, cp.runs);
      std::vector<double> x(d);
      for (std::size_t k = 0; k < d; ++k) x[k] = axes[k].unit(cp.values[k]);
      unit.push_back(std::move(x));
      likelihood.push_back(cp.likelihood);
      out.runs_total += cp.runs;
      out.points.push_back(std::move(cp));
    }
    stage_points.push_back(se.points.size());
    ratio = mixture_ratios();
    if (!normalise(likelihood, ratio, w)) break;  // nothing matched: no posterior to refine
  }

  // The estimates, and every summary again for redrawn likelihoods (the Monte Carlo error).
  const std::size_t n = out.points.size();
  std::vector<std::vector<double>> values(d, std::vector<double>(n));
  std::vector<std::vector<std::size_t>> order(d);
  for (std::size_t k = 0; k < d; ++k) {
    for (std::size_t i = 0; i < n; ++i) values[k][i] = out.points[i].values[k];
    order[k].resize(n);
    std::iota(order[k].begin(), order[k].end(), 0);
    std::stable_sort(order[k].begin(), order[k].end(),
                     [&](std::size_t a, std::size_t b) { return values[k][a] < values[k][b]; });
  }
  const Summary estimate = summarise(likelihood, ratio, values, order, w);
  for (std::size_t i = 0; i < n; ++i) {
    auto& p = out.points[i];
    p.proposal = ratio[i];
    p.weight = estimate.valid ? w[i] : 0.0;
    double rel = 0.0;
    for (std::size_t j = 0; j < h; ++j) {
      const double pj = static_cast<double>(p.matches[j]) / static_cast<double>(p.runs);
      const double m = static_cast<double>(settings.histories[j].count);
      if (pj > 0.0) rel += m * m * (1.0 - pj) / (static_cast<double>(p.runs) * pj);
    }
    p.se = p.likelihood * std::sqrt(rel);
    out.zero_points += p.likelihood == 0.0 ? 1 : 0;
  }
  bool multinomial = true;
  for (std::size_t a = 0; a < h; ++a) {
    for (std::size_t b = a + 1; b < h; ++b)
      multinomial = multinomial && disjoint(settings.histories[a], settings.histories[b]);
  }
  engine::Stream rng(engine::StreamKey{e.run.seed, 0xFFFFFFFFu, 1}, 0x43420000u);
  std::vector<Summary> redrawn;
  std::vector<std::vector<double>> point_draws(n);
  std::vector<double> lb(n), wb;
  for (std::uint64_t b = 0; b < settings.draws; ++b) {
    for (std::size_t i = 0; i < n; ++i) {
      const auto& p = out.points[i];
      // Each count's Jeffreys posterior: Beta(k + 1/2, n - k + 1/2); for disjoint histories the
      // Dirichlet of the multinomial cells (the histories and "none of them").
      std::vector<double> g(h);
      double sum = 0.0, rest_k = static_cast<double>(p.runs);
      for (std::size_t j = 0; j < h; ++j) {
        g[j] =
            boost::random::gamma_distribution<double>(static_cast<double>(p.matches[j]) + 0.5)(rng);
        sum += g[j];
        rest_k -= static_cast<double>(p.matches[j]);
      }
      double log_l = 0.0;
      if (multinomial) {
        sum += boost::random::gamma_distribution<double>(std::max(0.0, rest_k) + 0.5)(rng);
        for (std::size_t j = 0; j < h; ++j)
          log_l += static_cast<double>(settings.histories[j].count) * std::log(g[j] / sum);
      } else {
        for (std::size_t j = 0; j < h; ++j) {
          const double other = boost::random::gamma_distribution<double>(
              static_cast<double>(p.runs - p.matches[j]) + 0.5)(rng);
          log_l +=
              static_cast<double>(settings.histories[j].count) * std::log(g[j] / (g[j] + other));
        }
      }
      lb[i] = std::exp(log_l);
      point_draws[i].push_back(lb[i]);
    }
    redrawn.push_back(summarise(lb, ratio, values, order, wb));
  }
  for (std::size_t i = 0; i < n; ++i) {
    std::tie(out.points[i].mc_low, out.points[i].mc_high) = band(point_draws[i]);
  }
  const auto with_band = [&](double value, auto get) {
    std::vector<double> x;
    for (const auto& s : redrawn) {
      if (s.valid) x.push_back(get(s));
    }
    Estimate est{value, value, value};
    if (!x.empty()) std::tie(est.mc_low, est.mc_high) = band(std::move(x));
    return est;
  };
  {
    std::vector<double> x;
    for (const auto& s : redrawn) x.push_back(s.evidence);
    out.evidence.value = estimate.evidence;
    std::tie(out.evidence.mc_low, out.evidence.mc_high) = band(std::move(x));
  }
  if (estimate.valid) {
    out.ess = with_band(estimate.ess, [](const Summary& s) { return s.ess; });
    for (std::size_t k = 0; k < d; ++k) {
      KeyPosterior kp;
      kp.mean = with_band(estimate.mean[k], [k](const Summary& s) { return s.mean[k]; });
      kp.sd = with_band(estimate.sd[k], [k](const Summary& s) { return s.sd[k]; });
      for (std::size_t q = 0; q < std::size(CalibrationResult::QUANTILES); ++q) {
        kp.quantiles.push_back(with_band(estimate.quantiles[k][q],
                                         [k, q](const Summary& s) { return s.quantiles[k][q]; }));
      }
      // The marginal: one bin per value of a discrete key (up to 40 values), else 20 bins.
      const auto& axis = axes[k];
      if (axis.discrete() && axis.levels.size() <= 40) {
        for (double l : axis.levels) kp.edges.push_back(axis.value(l) - 0.5);
        kp.edges.push_back(axis.value(axis.levels.back()) + 0.5);
      } else {
        for (int b = 0; b <= 20; ++b)
          kp.edges.push_back(axis.key.min + (axis.key.max - axis.key.min) * b / 20.0);
      }
      kp.histogram.assign(kp.edges.size() - 1, 0.0);
      for (std::size_t i = 0; i < n; ++i) {
        const auto at =
            std::upper_bound(kp.edges.begin(), kp.edges.end(), values[k][i]) - kp.edges.begin() - 1;
        const auto bin = static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(
            at, 0, static_cast<std::ptrdiff_t>(kp.histogram.size()) - 1));
        kp.histogram[bin] += w[i];
      }
      out.posterior.push_back(std::move(kp));
    }
  }
  std::vector<std::size_t> best(n);
  std::iota(best.begin(), best.end(), 0);
  std::stable_sort(best.begin(), best.end(),
                   [&](std::size_t a, std::size_t b) { return likelihood[a] > likelihood[b]; });
  best.resize(std::min<std::size_t>(n, settings.top));
  out.best = std::move(best);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace wedge::experiments

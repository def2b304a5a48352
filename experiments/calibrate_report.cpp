#include "experiments/calibrate_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace wedge::experiments {

namespace {

/// A JSON number (shortest round-trip form), or null for a non-finite value.
std::string num(double v) { return std::isfinite(v) ? fmt::format("{}", v) : std::string("null"); }

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<int>(c));
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string estimate_json(const Estimate& e) {
  return fmt::format("{{\"value\": {}, \"mc_low\": {}, \"mc_high\": {}}}", num(e.value),
                     num(e.mc_low), num(e.mc_high));
}

const char* kind_name(PriorKey::Kind k) {
  return k == PriorKey::Kind::real ? "real" : k == PriorKey::Kind::integer ? "integer" : "boolean";
}

std::string value_text(const PriorKey& k, double v) {
  if (k.kind == PriorKey::Kind::boolean) return v != 0.0 ? "true" : "false";
  if (k.kind == PriorKey::Kind::integer) return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{:.4g}", v);
}

/// The marginal as a row of eighth-blocks, highest bin full.
std::string sparkline(const std::vector<double>& histogram) {
  static const char* const BLOCKS[] = {" ",      "\u2581", "\u2582", "\u2583", "\u2584",
                                       "\u2585", "\u2586", "\u2587", "\u2588"};
  const double top =
      histogram.empty() ? 0.0 : *std::max_element(histogram.begin(), histogram.end());
  std::string out;
  for (double v : histogram) {
    const int level = top > 0.0 ? static_cast<int>(std::ceil(8.0 * v / top - 1e-9)) : 0;
    out += BLOCKS[std::clamp(level, 0, 8)];
  }
  return out;
}

std::string thousands(std::uint64_t v) {
  std::string digits = std::to_string(v), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

void print_calibration(std::FILE* out, const CalibrationResult& r) {
  const auto& s = r.settings;
  fmt::print(out, "calibrate {} (seed {})\n",
             r.source.empty() ? std::string("<experiment>") : r.source, r.seed);
  for (const auto& h : s.histories) {
    fmt::print(out, "history{}: {}\n",
               h.count > 1 ? fmt::format(" (observed {} times)", h.count) : "", h.text());
  }
  fmt::print(out, "prior: uniform on");
  for (std::size_t k = 0; k < r.keys.size(); ++k) {
    const auto& key = r.keys[k];
    fmt::print(out, "{} {} {}", k ? "," : "", key.key,
               key.kind == PriorKey::Kind::boolean
                   ? std::string("{false, true}")
                   : fmt::format("[{}, {}]{}", value_text(key, key.min), value_text(key, key.max),
                                 key.kind == PriorKey::Kind::integer ? " (integers)" : ""));
  }
  fmt::print(out, "\n");
  std::uint64_t first = 0, later = 0;
  for (const auto& p : r.points) (p.stage == 0 ? first : later) += 1;
  fmt::print(
      out, "design: {}, {} points x {} runs{}; {} runs in {:.1f} s\n", design_name(s.design), first,
      thousands(s.runs),
      s.refine > 0
          ? fmt::format(
                "; {} refinement stage(s), {} points from a kernel mixture around the weighted "
                "points ({:.0f}% prior)",
                s.refine, later, 100.0 * s.defensive)
          : std::string(),
      thousands(r.runs_total), r.seconds);
  if (r.interrupted) {
    fmt::print(out, "interrupted: no posterior\n");
    return;
  }
  const std::string mc =
      fmt::format("90% Monte Carlo interval over {} redraws of the likelihoods", s.draws);
  const bool several = s.histories.size() > 1 || s.histories.front().count > 1;
  fmt::print(out, "{} under the prior: {:.4g} (MC {:.4g} to {:.4g})\n",
             several ? "P(every observed history) (the evidence)" : "P(history)", r.evidence.value,
             r.evidence.mc_low, r.evidence.mc_high);
  if (r.posterior.empty()) {
    fmt::print(
        out,
        "no design point produced the history in any of its runs: no posterior (raise --runs or "
        "--points, or loosen the history)\n");
    return;
  }
  fmt::print(out,
             "effective sample size (Kish): {:.1f} of {} points (MC {:.1f} to {:.1f}); {} point(s) "
             "never produced "
             "the history\n\n",
             r.ess.value, r.points.size(), r.ess.mc_low, r.ess.mc_high, r.zero_points);
  fmt::print(out, "posterior (importance weights prior x likelihood / proposal; [a, b]: {})\n", mc);
  std::size_t width = 3;
  for (const auto& k : r.keys) width = std::max(width, k.key.size());
  fmt::print(out, "{:<{}}  {:<26} {:>9} {:>9} {:>9}  {:<26} {:>9} {:>9}  {}\n", "key", width,
             "mean", "sd", "5%", "25%", "median", "75%", "95%", "marginal");
  for (std::size_t k = 0; k < r.keys.size(); ++k) {
    const auto& p = r.posterior[k];
    const auto with = [](const Estimate& e) {
      return fmt::format("{:.4g} [{:.4g}, {:.4g}]", e.value, e.mc_low, e.mc_high);
    };
    fmt::print(out, "{:<{}}  {:<26} {:>9.4g} {:>9.4g} {:>9.4g}  {:<26} {:>9.4g} {:>9.4g}  |{}|\n",
               r.keys[k].key, width, with(p.mean), p.sd.value, p.quantiles[0].value,
               p.quantiles[1].value, with(p.quantiles[2]), p.quantiles[3].value,
               p.quantiles[4].value, sparkline(p.histogram));
  }
  fmt::print(out, "\nmost likely points (likelihood k/n with its binomial standard error)\n");
  fmt::print(out, "{:>4} {:>6} {:>5}  {:<30}", "rank", "point", "stage", "likelihood");
  for (const auto& k : r.keys)
    fmt::print(out, " {:>{}}", k.key, std::max<std::size_t>(8, k.key.size()));
  fmt::print(out, "\n");
  for (std::size_t i = 0; i < r.best.size(); ++i) {
    const auto& p = r.points[r.best[i]];
    std::string counts;
    for (std::size_t j = 0; j < p.matches.size(); ++j) {
      if (j > 0) counts += '+';  // appended, not "+" + string: GCC 12 warns (-Wrestrict) on that
      counts += std::to_string(p.matches[j]);
    }
    const std::string l =
        p.matches.size() == 1
            ? fmt::format("{:.4g} ± {:.2g} ({}/{})", p.likelihood, p.se, counts, p.runs)
            : fmt::format("{:.4g} ± {:.2g} (k {} of {})", p.likelihood, p.se, counts, p.runs);
    fmt::print(out, "{:>4} {:>6} {:>5}  {:<30}", i + 1, r.best[i], p.stage, l);
    for (std::size_t k = 0; k < r.keys.size(); ++k) {
      fmt::print(out, " {:>{}}", value_text(r.keys[k], p.values[k]),
                 std::max<std::size_t>(8, r.keys[k].key.size()));
    }
    fmt::print(out, "\n");
  }
}

std::string calibration_json(const CalibrationResult& r) {
  const auto& s = r.settings;
  std::string out = fmt::format(
      "{{\"experiment\": {}, \"seed\": {}, \"design\": \"{}\", \"points\": {}, \"runs\": {}, "
      "\"refine\": {}, "
      "\"refine_points\": {}, \"defensive\": {}, \"draws\": {}, \"interrupted\": {}, "
      "\"runs_total\": {}, "
      "\"seconds\": {}, \"histories\": [",
      quoted(r.source), r.seed, design_name(s.design), s.points, s.runs, s.refine,
      s.refine_points > 0 ? s.refine_points : s.points, num(s.defensive), s.draws, r.interrupted,
      r.runs_total, num(r.seconds));
  for (std::size_t j = 0; j < s.histories.size(); ++j) {
    out += fmt::format("{}{{\"history\": {}, \"count\": {}}}", j ? ", " : "",
                       quoted(s.histories[j].text()), s.histories[j].count);
  }
  out += "], \"keys\": [";
  for (std::size_t k = 0; k < r.keys.size(); ++k) {
    out += fmt::format("{}{{\"key\": {}, \"kind\": \"{}\", \"min\": {}, \"max\": {}}}",
                       k ? ", " : "", quoted(r.keys[k].key), kind_name(r.keys[k].kind),
                       num(r.keys[k].min), num(r.keys[k].max));
  }
  out += fmt::format("], \"evidence\": {}, \"ess\": {}, \"zero_points\": {}, \"quantiles\": [",
                     estimate_json(r.evidence), estimate_json(r.ess), r.zero_points);
  for (std::size_t q = 0; q < std::size(CalibrationResult::QUANTILES); ++q) {
    out += (q ? ", " : "") + num(CalibrationResult::QUANTILES[q]);
  }
  out += "], \"posterior\": [";
  for (std::size_t k = 0; k < r.posterior.size(); ++k) {
    const auto& p = r.posterior[k];
    out += fmt::format("{}{{\"key\": {}, \"mean\": {}, \"sd\": {}, \"quantiles\": [", k ? ", " : "",
                       quoted(r.keys[k].key), estimate_json(p.mean), estimate_json(p.sd));
    for (std::size_t q = 0; q < p.quantiles.size(); ++q)
      out += (q ? ", " : "") + estimate_json(p.quantiles[q]);
    out += "], \"edges\": [";
    for (std::size_t b = 0; b < p.edges.size(); ++b) out += (b ? ", " : "") + num(p.edges[b]);
    out += "], \"histogram\": [";
    for (std::size_t b = 0; b < p.histogram.size(); ++b)
      out += (b ? ", " : "") + num(p.histogram[b]);
    out += "]}";
  }
  out += "], \"best\": [";
  for (std::size_t i = 0; i < r.best.size(); ++i)
    out += (i ? ", " : "") + std::to_string(r.best[i]);
  out += "], \"design_points\": [";
  for (std::size_t i = 0; i < r.points.size(); ++i) {
    const auto& p = r.points[i];
    out += fmt::format("{}{{\"stage\": {}, \"values\": [", i ? ", " : "", p.stage);
    for (std::size_t k = 0; k < p.values.size(); ++k) out += (k ? ", " : "") + num(p.values[k]);
    out += fmt::format("], \"runs\": {}, \"matches\": [", p.runs);
    for (std::size_t j = 0; j < p.matches.size(); ++j)
      out += (j ? ", " : "") + std::to_string(p.matches[j]);
    out += fmt::format(
        "], \"likelihood\": {}, \"se\": {}, \"mc_low\": {}, \"mc_high\": {}, \"proposal\": {}, "
        "\"weight\": {}}}",
        num(p.likelihood), num(p.se), num(p.mc_low), num(p.mc_high), num(p.proposal),
        num(p.weight));
  }
  out += "]}\n";
  return out;
}

}  // namespace wedge::experiments

#include "experiments/report.hpp"

#include "agents/params.hpp"
#include "agents/tug_of_war.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace wedge::experiments {

using agents::TugOfWar;

std::size_t categories_shown(const Experiment& experiment, std::size_t field) {
  std::size_t shown = 0;
  for (const auto& s : experiment.points) {
    shown = std::max(shown, TugOfWar::categories_in_use(s, field));
  }
  return shown;
}

namespace {

// Field names and category names are plain ASCII identifiers; numbers never need escaping.
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string number(double v) { return fmt::format("{}", v); }

/// Median of a categorical field whose categories are numbers, from its counts.
std::string median_label(const engine::Summary& s, std::size_t field) {
  const auto counts = s.counts(field);
  const std::uint64_t half = (s.runs() + 1) / 2;
  std::uint64_t seen = 0;
  for (std::size_t c = 0; c < counts.size(); ++c) {
    seen += counts[c];
    if (seen >= half && half > 0) return s.layout().categorical[field].categories[c];
  }
  return "-";
}

}  // namespace

std::string results_json(const Experiment& experiment,
                         const std::vector<engine::Summary>& summaries) {
  std::string out = fmt::format("{{\"seed\": {}, \"points\": [", experiment.run.seed);
  for (std::size_t p = 0; p < summaries.size(); ++p) {
    const auto& s = summaries[p];
    const auto& layout = s.layout();
    if (p > 0) out += ", ";
    out += fmt::format("{{\"index\": {}, \"params\": {{", p);
    for (std::size_t k = 0; k < experiment.swept_keys.size(); ++k) {
      const auto& info = agents::require_parameter(experiment.swept_keys[k]);
      const double v = experiment.values[p][k];
      const std::string text = agents::format_value(info, v);
      out += fmt::format("{}{}: {}", k > 0 ? ", " : "", quoted(info.key),
                         info.type == agents::ParamType::real ? number(v) : text);
    }
    out += fmt::format("}}, \"runs\": {}, \"counts\": {{", s.runs());
    for (std::size_t f = 0; f < layout.categorical.size(); ++f) {
      const auto& spec = layout.categorical[f];
      const auto counts = s.counts(f);
      out += fmt::format("{}{}: {{", f > 0 ? ", " : "", quoted(spec.name));
      const std::size_t shown = categories_shown(experiment, f);
      for (std::size_t c = 0; c < shown; ++c) {
        out += fmt::format("{}{}: {}", c > 0 ? ", " : "", quoted(spec.categories[c]), counts[c]);
      }
      out += "}";
    }
    out += "}, \"stats\": {";
    for (std::size_t j = 0; j < layout.continuous.size(); ++j) {
      const auto& st = s.continuous(j);
      out += fmt::format("{}{}: {{\"mean\": {}, \"sd\": {}, \"min\": {}, \"max\": {}}}",
                         j > 0 ? ", " : "", quoted(layout.continuous[j].name), number(st.mean()),
                         number(st.sd()), number(st.min()), number(st.max()));
    }
    out += "}}";
  }
  out += "]}\n";
  return out;
}

namespace {

double share(const engine::Summary& s, std::string_view field, std::string_view category) {
  const int f = s.categorical_index(field);
  if (f < 0 || s.runs() == 0) return 0.0;
  const auto& cats = s.layout().categorical[static_cast<std::size_t>(f)].categories;
  const auto it = std::find(cats.begin(), cats.end(), category);
  if (it == cats.end()) return 0.0;
  return static_cast<double>(s.counts(static_cast<std::size_t>(f))[static_cast<std::size_t>(it - cats.begin())]) /
         static_cast<double>(s.runs());
}

/// One line per design point: the headline probabilities.
void print_sweep_table(std::FILE* out, const Experiment& experiment,
                       const std::vector<engine::Summary>& summaries) {
  fmt::print(out, "{} design, {} points, seed {}{}\n", design_name(experiment.sweep.design),
             summaries.size(), experiment.run.seed, experiment.run.crn ? ", common random numbers" : "");
  std::string header = fmt::format("{:>6}", "point");
  for (const auto& k : experiment.swept_keys) header += fmt::format(" {:>{}}", k, std::max<std::size_t>(k.size(), 8));
  header += fmt::format(" {:>10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}", "runs", "treaty", "decl", "none",
                        "intact", "rupture", "okinawa");
  fmt::print(out, "{}\n", header);
  for (std::size_t p = 0; p < summaries.size(); ++p) {
    const auto& s = summaries[p];
    std::string line = fmt::format("{:>6}", p);
    for (std::size_t k = 0; k < experiment.swept_keys.size(); ++k) {
      const auto& info = agents::require_parameter(experiment.swept_keys[k]);
      const double v = experiment.values[p][k];
      const std::string text = info.type == agents::ParamType::real ? fmt::format("{:.6g}", v)
                                                                    : agents::format_value(info, v);
      line += fmt::format(" {:>{}}", text, std::max<std::size_t>(info.key.size(), 8));
    }
    line += fmt::format(" {:>10} {:>8.4f} {:>8.4f} {:>8.4f} {:>8.4f} {:>8.4f} {:>8.4f}", s.runs(),
                        share(s, "format", "treaty"), share(s, "format", "declaration"),
                        share(s, "format", "none"), share(s, "alliance", "intact"),
                        share(s, "alliance", "rupture_neutral") + share(s, "alliance", "rupture_realign"),
                        share(s, "okinawa", "us_claim"));
    fmt::print(out, "{}\n", line);
  }
  fmt::print(out, "(probabilities; okinawa = P(US claims Okinawa); `--json` gives every count)\n");
}

}  // namespace

void print_table(std::FILE* out, const Experiment& experiment,
                 const std::vector<engine::Summary>& summaries) {
  if (summaries.size() > 1) {
    print_sweep_table(out, experiment, summaries);
    return;
  }
  static constexpr std::string_view SHOWN[] = {"format", "end_reason", "alliance", "okinawa",
                                               "islands_promised", "islands_transferred"};
  for (std::size_t p = 0; p < summaries.size(); ++p) {
    const auto& s = summaries[p];
    std::string header = fmt::format("design point {}", p);
    for (std::size_t k = 0; k < experiment.swept_keys.size(); ++k) {
      const auto& info = agents::require_parameter(experiment.swept_keys[k]);
      header += fmt::format("{} {} = {}", k == 0 ? ":" : ",", info.key,
                            agents::format_value(info, experiment.values[p][k]));
    }
    fmt::print(out, "{}{} ({} runs, seed {}{})\n", p > 0 ? "\n" : "", header, s.runs(),
               experiment.run.seed, experiment.run.crn ? ", common random numbers" : "");
    fmt::print(out, "  {:<20} {:<16} {:>12} {:>9}   {}\n", "outcome", "category", "runs", "p",
               "95% Wilson interval");
    for (std::string_view name : SHOWN) {
      const int f = s.categorical_index(name);
      if (f < 0) continue;
      const auto& spec = s.layout().categorical[static_cast<std::size_t>(f)];
      const auto counts = s.counts(static_cast<std::size_t>(f));
      for (std::size_t c = 0; c < spec.categories.size(); ++c) {
        const double prob =
            s.runs() > 0 ? static_cast<double>(counts[c]) / static_cast<double>(s.runs()) : 0.0;
        const auto ci = engine::wilson(counts[c], s.runs());
        fmt::print(out, "  {:<20} {:<16} {:>12} {:>9.4f}   [{:.4f}, {:.4f}]\n",
                   c == 0 ? spec.name : "", spec.categories[c], counts[c], prob, ci.low, ci.high);
      }
    }
    const int threat = s.categorical_index("threat_round");
    if (threat >= 0 && s.runs() > 0) {
      const auto counts = s.counts(static_cast<std::size_t>(threat));
      const std::uint64_t issued = s.runs() - counts[0];
      const auto ci = engine::wilson(issued, s.runs());
      fmt::print(out, "  {:<20} {:<16} {:>12} {:>9.4f}   [{:.4f}, {:.4f}]\n", "okinawa threat",
                 "issued", issued, static_cast<double>(issued) / static_cast<double>(s.runs()),
                 ci.low, ci.high);
    }
    const int rounds = s.categorical_index("rounds");
    if (rounds >= 0) {
      fmt::print(out, "  {:<20} {}\n", "median rounds",
                 median_label(s, static_cast<std::size_t>(rounds)));
    }
    for (std::size_t j = 0; j < s.layout().continuous.size(); ++j) {
      const auto& st = s.continuous(j);
      fmt::print(out, "  {:<20} mean {:.4f}  sd {:.4f}  min {:.4f}  max {:.4f}\n",
                 s.layout().continuous[j].name, st.mean(), st.sd(), st.min(), st.max());
    }
  }
}

}  // namespace wedge::experiments

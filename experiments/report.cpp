#include "experiments/report.hpp"

#include "agents/params.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <iterator>

namespace wedge::experiments {

using agents::TugOfWar;
using Json = nlohmann::ordered_json;

std::size_t categories_shown(const Experiment& experiment, std::size_t field) {
  const std::size_t all = TugOfWar::fields()[field].categories.size();
  std::size_t shown = 0;
  for (const auto& s : experiment.points) {
    shown = std::max(shown, TugOfWar::categories_in_use(s, field));
    if (shown >= all) break;  // no point shows more
  }
  return shown;
}

namespace {

void append_number(std::string& out, double x);

std::string escaped(const std::string& s) {
  return Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);
}

void append_json(std::string& out, const Json& v) {
  switch (v.type()) {
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ", ";
        first = false;
        out += escaped(it.key());
        out += ": ";
        append_json(out, it.value());
      }
      out += '}';
      return;
    }
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v) {
        if (!first) out += ", ";
        first = false;
        append_json(out, item);
      }
      out += ']';
      return;
    }
    case Json::value_t::string:
      out += v.dump(-1, ' ', false, Json::error_handler_t::replace);
      return;
    case Json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::number_integer:
      fmt::format_to(std::back_inserter(out), "{}", v.get<std::int64_t>());
      return;
    case Json::value_t::number_unsigned:
      fmt::format_to(std::back_inserter(out), "{}", v.get<std::uint64_t>());
      return;
    case Json::value_t::number_float:
      append_number(out, v.get<double>());
      return;
    default:
      out += "null";
      return;
  }
}

/// A swept key's value as JSON: a number for real keys, an integer or a boolean otherwise.
Json param_value(const agents::ParamInfo& info, double v) {
  switch (info.type) {
    case agents::ParamType::boolean:
      return v != 0.0;
    case agents::ParamType::integer:
      return static_cast<std::int64_t>(v);
    case agents::ParamType::real:
      break;
  }
  return v;
}

/// Thrown by an output when it was asked to stop in the middle of a piece.
struct StoppedWriting {};

void append_number(std::string& out, double x) {
  if (std::isfinite(x)) {
    fmt::format_to(std::back_inserter(out), "{}", x);
  } else {
    out += "null";
  }
}

/// Writes the results document through `emit`, one piece per point. Every name is escaped by
/// nlohmann::json once per document; each point's piece is then assembled directly, which keeps
/// the document linear in points x categories (ordered_json's member lookup is linear, and a
/// tree per point would cost ~0.5 ms a point).
template <class Emit>
void results_document(const Experiment& experiment, const std::vector<engine::Summary>& summaries,
                      const JsonOptions& options, Emit&& emit) {
  Json head = options.head.is_object() ? options.head : Json::object();
  head["seed"] = experiment.run.seed;
  std::string text = json_text(head);
  text.pop_back();  // the closing brace: the points follow
  text += ", \"points\": [";
  emit(text);
  if (summaries.empty()) {
    emit(std::string("]}\n"));
    return;
  }
  const auto& layout = summaries.front().layout();
  // Which categories each field shows depends on every point (round fields stop at the largest
  // negotiation.rounds): computed once, not per point and field.
  std::vector<std::size_t> shown(layout.categorical.size());
  std::vector<std::string> field_names, continuous_names;
  std::vector<std::vector<std::string>> category_names(layout.categorical.size());
  for (std::size_t f = 0; f < shown.size(); ++f) {
    shown[f] = categories_shown(experiment, f);
    field_names.push_back(escaped(layout.categorical[f].name));
    for (std::size_t c = 0; c < shown[f]; ++c)
      category_names[f].push_back(escaped(layout.categorical[f].categories[c]));
  }
  for (const auto& spec : layout.continuous) continuous_names.push_back(escaped(spec.name));
  std::vector<agents::ParamInfo> infos;
  std::vector<std::string> key_names;
  for (const auto& key : experiment.swept_keys) {
    infos.push_back(agents::require_parameter(experiment.base, key));
    key_names.push_back(escaped(key));
  }
  std::string piece;
  for (std::size_t p = 0; p < summaries.size(); ++p) {
    if (options.should_stop && options.should_stop()) {
      throw Interrupted(
          fmt::format("interrupted while writing the JSON document, after {} of {} points", p,
                      summaries.size()));
    }
    const auto& s = summaries[p];
    piece.clear();
    fmt::format_to(std::back_inserter(piece), "{}{{\"index\": {}, \"params\": {{",
                   p > 0 ? ", " : "", p);
    for (std::size_t k = 0; k < infos.size(); ++k) {
      piece += k > 0 ? ", " : "";
      piece += key_names[k];
      piece += ": ";
      append_json(piece, param_value(infos[k], experiment.values[p][k]));
    }
    fmt::format_to(std::back_inserter(piece), "}}, \"runs\": {}, \"counts\": {{", s.runs());
    for (std::size_t f = 0; f < shown.size(); ++f) {
      const auto counts = s.counts(f);
      piece += f > 0 ? ", " : "";
      piece += field_names[f];
      piece += ": {";
      for (std::size_t c = 0; c < shown[f]; ++c) {
        piece += c > 0 ? ", " : "";
        piece += category_names[f][c];
        fmt::format_to(std::back_inserter(piece), ": {}", counts[c]);
      }
      piece += '}';
    }
    piece += "}, \"stats\": {";
    for (std::size_t j = 0; j < continuous_names.size(); ++j) {
      const auto& st = s.continuous(j);
      piece += j > 0 ? ", " : "";
      piece += continuous_names[j];
      piece += ": {\"mean\": ";
      append_number(piece, st.mean());
      piece += ", \"sd\": ";
      append_number(piece, st.sd());
      piece += ", \"min\": ";
      append_number(piece, st.min());
      piece += ", \"max\": ";
      append_number(piece, st.max());
      piece += '}';
    }
    piece += "}}";
    if (p + 1 == summaries.size()) piece += "]}\n";
    try {
      emit(piece);
    } catch (const StoppedWriting&) {
      throw Interrupted(
          fmt::format("interrupted while writing the JSON document, after {} of {} points", p,
                      summaries.size()));
    }
  }
}

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

std::string json_text(const Json& value) {
  std::string out;
  append_json(out, value);
  return out;
}

void write_results_json(std::FILE* out, const Experiment& experiment,
                        const std::vector<engine::Summary>& summaries, const JsonOptions& options) {
  results_document(experiment, summaries, options, [&](const std::string& piece) {
    std::size_t done = 0;
    while (done < piece.size()) {
      done += std::fwrite(piece.data() + done, 1, piece.size() - done, out);
      if (done == piece.size()) break;
      // A signal (SIGINT while the reader is slow) interrupts a blocked write: stop if asked to,
      // else write the rest.
      if (errno != EINTR)
        throw OutputError(fmt::format("cannot write the JSON document: {}", std::strerror(errno)));
      std::clearerr(out);
      if (options.should_stop && options.should_stop()) throw StoppedWriting{};
    }
  });
}

std::string results_json(const Experiment& experiment,
                         const std::vector<engine::Summary>& summaries,
                         const JsonOptions& options) {
  std::string out;
  results_document(experiment, summaries, options,
                   [&out](const std::string& piece) { out += piece; });
  return out;
}

std::string params_json() { return params_json(agents::Scenario{}); }

std::string params_json(const agents::Scenario& scenario) {
  std::string out = "[";
  const auto params = agents::parameters(scenario);
  const agents::Scenario defaults;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    const char* type = p.type == agents::ParamType::real      ? "real"
                       : p.type == agents::ParamType::integer ? "integer"
                                                              : "boolean";
    Json entry;
    entry["key"] = p.key;
    entry["section"] = p.section;
    entry["type"] = type;
    const auto default_info = agents::find_parameter(defaults, p.key);
    entry["default"] = default_info ? param_value(p, default_info->get(defaults)) : Json(nullptr);
    const auto bound = [&p](double v) {
      if (!std::isfinite(v)) return Json(nullptr);
      return p.type == agents::ParamType::real ? Json(v) : Json(static_cast<std::int64_t>(v));
    };
    entry["min"] = bound(p.min);
    entry["max"] = bound(p.max);
    entry["min_exclusive"] = p.min_exclusive;
    entry["range"] = p.range_text();
    entry["meaning"] = p.meaning;
    entry["value"] = param_value(p, p.get(scenario));
    if (p.section.starts_with("japan.factions.")) {
      const std::string id = p.section.substr(std::string_view("japan.factions.").size());
      const std::size_t slot = agents::faction_slot(scenario, id).value();
      entry["faction"] = id;
      entry["faction_name"] = std::string(scenario.japan.labels.name_of(slot));
      entry["softens"] = scenario.japan.factions.softens == static_cast<int>(slot);
    }
    if (i > 0) out += ",\n ";
    append_json(out, entry);
  }
  return out + "]\n";
}

void print_params(std::FILE* out, const agents::Scenario& scenario) {
  const auto& f = scenario.japan.factions;
  fmt::print(out, "{} faction{}:", f.count, f.count == 1 ? "" : "s");
  for (std::size_t i = 0; i < f.count; ++i) {
    fmt::print(out, "{} {}", i ? "," : "", scenario.japan.labels.id_of(i));
  }
  fmt::print(out, "; softening under Shigemitsu: {}\n",
             f.softens >= 0
                 ? std::string(scenario.japan.labels.id_of(static_cast<std::size_t>(f.softens)))
                 : std::string("none"));
  std::string section;
  for (const auto& p : agents::parameters(scenario)) {
    if (p.section != section) {
      section = p.section;
      std::string about;
      if (section.starts_with("japan.factions.")) {
        const auto slot = agents::faction_slot(
                              scenario, section.substr(std::string_view("japan.factions.").size()))
                              .value();
        about = std::string(scenario.japan.labels.name_of(slot));
        if (f.softens == static_cast<int>(slot))
          about += (about.empty() ? "" : "; ") + std::string("softens under Shigemitsu");
      }
      fmt::print(out, "[{}]{}\n", section, about.empty() ? "" : "  " + about);
    }
    fmt::print(out, "  {:<40} {:>6}  {:<22} {}\n", p.key, agents::format_value(p, p.get(scenario)),
               p.range_text(), p.meaning);
  }
}

namespace {

/// Where one category's count sits in summaries of `s`'s layout: its field's index (-1 if the
/// layout has no such field or category) and the category's index in that field.
struct CategoryAt {
  int field = -1;
  std::size_t category = 0;
};

CategoryAt category_at(const engine::Summary& s, std::string_view field,
                       std::string_view category) {
  const int f = s.categorical_index(field);
  if (f < 0) return {};
  const auto& cats = s.layout().categorical[static_cast<std::size_t>(f)].categories;
  const auto it = std::find(cats.begin(), cats.end(), category);
  if (it == cats.end()) return {};
  return {f, static_cast<std::size_t>(it - cats.begin())};
}

/// The share of `s`'s runs in the category `at` (0 without runs or without the category).
double share(const engine::Summary& s, CategoryAt at) {
  if (at.field < 0 || s.runs() == 0) return 0.0;
  return static_cast<double>(s.counts(static_cast<std::size_t>(at.field))[at.category]) /
         static_cast<double>(s.runs());
}

/// Appends " " and `v` as "{:>8.4f}" writes it: fixed, 4 decimals, right-aligned in 8. By
/// std::to_chars, which like fmt gives the exactly rounded decimal of the double (ties to even:
/// 1/32 is 0.0312), in about half fmt's time: the sweep table writes six a point.
void append_probability(fmt::memory_buffer& out, double v) {
  char text[400];  // the widest fixed double with 4 decimals is 314 characters
  const auto [end, ec] = std::to_chars(text, text + sizeof text, v, std::chars_format::fixed, 4);
  const auto length = static_cast<std::size_t>(end - text);
  out.push_back(' ');
  for (std::size_t i = length; i < 8; ++i) out.push_back(' ');
  out.append(text, end);
}

/// Appends `text[0, end)` right-aligned in `width` (as fmt's "{:>{width}}": nothing cut).
void append_right(fmt::memory_buffer& out, const char* text, const char* end, std::size_t width) {
  for (std::size_t i = static_cast<std::size_t>(end - text); i < width; ++i) out.push_back(' ');
  out.append(text, end);
}

/// Appends `v` as fmt's "{:>{width}}" writes an unsigned integer, by std::to_chars.
void append_count(fmt::memory_buffer& out, std::uint64_t v, std::size_t width) {
  char text[24];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, v);
  append_right(out, text, end, width);
}

/// Appends `v` as "{:>{width}.6g}" writes it: 6 significant digits, %g's choice of fixed or
/// exponent ("1e-05", "1.23457e+06") and no trailing zeros, right-aligned in `width`. By
/// std::to_chars with general format and precision 6, which is defined as printf's "%.6g" (as
/// fmt's "{:.6g}" is): the same exactly rounded digits, in a fraction of fmt's instructions.
void append_general6(fmt::memory_buffer& out, double v, std::size_t width) {
  char text[32];  // "%.6g" writes at most 13 characters ("-1.23457e-308")
  const auto [end, ec] = std::to_chars(text, text + sizeof text, v, std::chars_format::general, 6);
  append_right(out, text, end, width);
}

/// One line per design point: the headline probabilities. Every lookup by name (the swept keys'
/// parameters, the categories' places) is done once, not per point, and the lines are formatted
/// into one buffer written in large pieces: a 4,096-point table cost ~17,000 instructions a
/// line, serially after the runs.
void print_sweep_table(std::FILE* out, const Experiment& experiment,
                       const std::vector<engine::Summary>& summaries) {
  fmt::print(out, "{} design, {}, seed {}{}\n", design_name(experiment.sweep.design),
             counted(summaries.size(), "point"), experiment.run.seed,
             experiment.run.crn ? ", common random numbers" : "");
  std::string header = fmt::format("{:>6}", "point");
  for (const auto& k : experiment.swept_keys)
    header += fmt::format(" {:>{}}", k, std::max<std::size_t>(k.size(), 8));
  header += fmt::format(" {:>10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}", "runs", "treaty", "decl",
                        "none", "intact", "rupture", "okinawa");
  fmt::print(out, "{}\n", header);
  std::vector<agents::ParamInfo> infos;
  for (const auto& k : experiment.swept_keys)
    infos.push_back(agents::require_parameter(experiment.base, k));
  const engine::Summary& first = summaries.front();  // size() > 1 here
  const CategoryAt treaty = category_at(first, "format", "treaty");
  const CategoryAt declaration = category_at(first, "format", "declaration");
  const CategoryAt none = category_at(first, "format", "none");
  const CategoryAt intact = category_at(first, "alliance", "intact");
  const CategoryAt neutral = category_at(first, "alliance", "rupture_neutral");
  const CategoryAt realign = category_at(first, "alliance", "rupture_realign");
  const CategoryAt us_claim = category_at(first, "okinawa", "us_claim");
  fmt::memory_buffer lines;
  const auto flush = [&] {
    std::fwrite(lines.data(), 1, lines.size(), out);
    lines.clear();
  };
  for (std::size_t p = 0; p < summaries.size(); ++p) {
    const auto& s = summaries[p];
    // As "{:>6}", then " {:>{width}.6g}" (a real) or " {:>{width}}" per swept key, " {:>10}".
    append_count(lines, p, 6);
    for (std::size_t k = 0; k < infos.size(); ++k) {
      const auto& info = infos[k];
      const double v = experiment.values[p][k];
      const std::size_t width = std::max<std::size_t>(info.key.size(), 8);
      lines.push_back(' ');
      if (info.type == agents::ParamType::real) {
        append_general6(lines, v, width);
      } else {
        fmt::format_to(std::back_inserter(lines), "{:>{}}", agents::format_value(info, v), width);
      }
    }
    lines.push_back(' ');
    append_count(lines, s.runs(), 10);
    for (const double v :
         {share(s, treaty), share(s, declaration), share(s, none), share(s, intact),
          share(s, neutral) + share(s, realign), share(s, us_claim)}) {
      append_probability(lines, v);
    }
    lines.push_back('\n');
    if (lines.size() >= (1u << 16)) flush();
  }
  flush();
  fmt::print(out, "(probabilities; okinawa = P(US claims Okinawa); `--json` gives every count)\n");
}

}  // namespace

void print_table(std::FILE* out, const Experiment& experiment,
                 const std::vector<engine::Summary>& summaries) {
  if (summaries.size() > 1) {
    print_sweep_table(out, experiment, summaries);
    return;
  }
  static constexpr std::string_view SHOWN[] = {
      "format", "end_reason", "alliance", "okinawa", "islands_promised", "islands_transferred"};
  for (std::size_t p = 0; p < summaries.size(); ++p) {
    const auto& s = summaries[p];
    std::string header = fmt::format("design point {}", p);
    for (std::size_t k = 0; k < experiment.swept_keys.size(); ++k) {
      const auto info = agents::require_parameter(experiment.base, experiment.swept_keys[k]);
      header += fmt::format("{} {} = {}", k == 0 ? ":" : ",", info.key,
                            agents::format_value(info, experiment.values[p][k]));
    }
    fmt::print(out, "{}{} ({}, seed {}{})\n", p > 0 ? "\n" : "", header, counted(s.runs(), "run"),
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

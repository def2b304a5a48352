// The [calibrate] table and histories (docs/calibration.md): parsing a history, reading the table
// of an experiment file, the settings with their overrides. Needs neither the engine's runner nor
// HDF5 (only the record's field table, agents/tug_of_war.cpp), so the loader's check of the table
// is the same code in `wedge`, in the Python module and in the fuzz targets (tests/fuzz).
#include "experiments/calibrate_table.hpp"

#include "agents/params.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/error.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>

namespace wedge::experiments {

using agents::TugOfWar;

namespace {

const engine::FieldLayout& record_layout() {
  static const engine::FieldLayout layout = engine::FieldLayout::from(TugOfWar::fields());
  return layout;
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto at = s.find(sep, start);
    out.push_back(
        trim(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start)));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

template <class List>
std::string joined(const List& list, const char* sep = ", ") {
  std::string out;
  for (const auto& c : list) out += (out.empty() ? "" : sep) + std::string(c);
  return out;
}

std::optional<double> number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

/// What an element of a history says, before it is checked against the record's fields.
struct ConditionSpec {
  std::string field;
  enum class Op { any_of, none_of, range } op = Op::any_of;
  std::vector<std::string> values;  ///< any_of, none_of: category labels
  std::optional<double> low, high;  ///< range
};

std::string format_number(double v) { return fmt::format("{}", v); }

Condition make_condition(const ConditionSpec& spec, const std::string& where) {
  const auto& layout = record_layout();
  Condition c;
  c.field = spec.field;
  c.where = where;
  std::vector<std::string> names;
  for (const auto& f : layout.categorical) names.push_back(f.name);
  for (const auto& f : layout.continuous) names.push_back(f.name);
  const auto found = std::find(names.begin(), names.end(), spec.field);
  if (found == names.end()) {
    std::string nearest;
    std::size_t best = std::numeric_limits<std::size_t>::max();
    for (const auto& n : names) {
      const std::size_t d = agents::edit_distance(spec.field, n);
      if (d < best) best = d, nearest = n;
    }
    throw ConfigError(fmt::format("{}: unknown outcome field '{}' (did you mean '{}'? valid: {})",
                                  where, spec.field, nearest, joined(names)));
  }
  const auto position = static_cast<std::size_t>(found - names.begin());
  c.categorical = position < layout.categorical.size();
  c.index = c.categorical ? position : position - layout.categorical.size();
  const std::string range_text = fmt::format("{}..{}", spec.low ? format_number(*spec.low) : "",
                                             spec.high ? format_number(*spec.high) : "");
  if (!c.categorical) {
    if (spec.op != ConditionSpec::Op::range) {
      throw ConfigError(fmt::format(
          "{}: {} is continuous: give a range, e.g. {}=0.45..1 (or {{ min = 0.45, max = 1 }})",
          where, spec.field, spec.field));
    }
    c.min = spec.low.value_or(-std::numeric_limits<double>::infinity());
    c.max = spec.high.value_or(std::numeric_limits<double>::infinity());
    if (c.min > c.max)
      throw ConfigError(
          fmt::format("{}: {} = {}: the range is empty", where, spec.field, range_text));
    c.text = fmt::format("{} = {}", spec.field, range_text);
    return c;
  }
  const auto& categories = layout.categorical[c.index].categories;
  c.allowed.assign(categories.size(), false);
  if (spec.op == ConditionSpec::Op::range) {
    std::vector<double> numbers;
    for (const auto& label : categories) {
      const auto v = number(label);
      if (!v) {
        throw ConfigError(
            fmt::format("{}: {} has named categories ({}): a range applies to numbered ones", where,
                        spec.field, joined(categories)));
      }
      numbers.push_back(*v);
    }
    bool any = false;
    for (std::size_t k = 0; k < numbers.size(); ++k) {
      c.allowed[k] =
          (!spec.low || numbers[k] >= *spec.low) && (!spec.high || numbers[k] <= *spec.high);
      any = any || c.allowed[k];
    }
    if (!any)
      throw ConfigError(
          fmt::format("{}: {} = {}: no category lies in the range", where, spec.field, range_text));
    c.text = fmt::format("{} = {}", spec.field, range_text);
    return c;
  }
  for (const auto& v : spec.values) {
    const auto at = std::find(categories.begin(), categories.end(), v);
    if (at == categories.end()) {
      const std::string valid =
          categories.size() > 12 ? fmt::format("{} ... {}", categories.front(), categories.back())
                                 : joined(categories);
      throw ConfigError(
          fmt::format("{}: {} has no category '{}' (valid: {})", where, spec.field, v, valid));
    }
    c.allowed[static_cast<std::size_t>(at - categories.begin())] = true;
  }
  if (spec.op == ConditionSpec::Op::none_of) c.allowed.flip();
  if (std::none_of(c.allowed.begin(), c.allowed.end(), [](bool b) { return b; })) {
    throw ConfigError(fmt::format("{}: {} excludes every category", where, spec.field));
  }
  c.text = fmt::format("{} {} {}", spec.field, spec.op == ConditionSpec::Op::none_of ? "!=" : "=",
                       joined(spec.values, " | "));
  return c;
}

/// "lo..hi" with either bound optional, as numbers.
bool parse_range(const std::string& value, ConditionSpec& spec, const std::string& where) {
  const auto dots = value.find("..");
  if (dots == std::string::npos) return false;
  const std::string lo = trim(value.substr(0, dots)), hi = trim(value.substr(dots + 2));
  spec.op = ConditionSpec::Op::range;
  if (!lo.empty()) {
    spec.low = number(lo);
    if (!spec.low)
      throw ConfigError(
          fmt::format("{}: {}={}: '{}' is not a number", where, spec.field, value, lo));
  }
  if (!hi.empty()) {
    spec.high = number(hi);
    if (!spec.high)
      throw ConfigError(
          fmt::format("{}: {}={}: '{}' is not a number", where, spec.field, value, hi));
  }
  if (!spec.low && !spec.high)
    throw ConfigError(fmt::format("{}: {}={}: give at least one bound", where, spec.field, value));
  return true;
}

// ---- the [calibrate] table --------------------------------------------------------------------

constexpr std::string_view CALIBRATE_KEYS[] = {
    "history", "design", "points", "runs", "refine", "refine_points", "defensive", "draws", "top"};

/// A table's entries in the order of the file (toml++ iterates keys sorted), so that histories
/// read as written and errors come in line order.
std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(
    const toml::table& table) {
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (auto&& [k, node] : table) entries.emplace_back(&k, &node);
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const auto& x = a.first->source().begin;
    const auto& y = b.first->source().begin;
    return x.line != y.line ? x.line < y.line : x.column < y.column;
  });
  return entries;
}

struct TableReader {
  std::string name;
  [[noreturn]] void fail(const toml::node& node, const std::string& what) const {
    const auto& at = node.source().begin;
    throw ConfigError(fmt::format("{}:{}:{}: {}", name, at.line, at.column, what));
  }
  std::uint64_t integer(const toml::node& node, const std::string& key, std::uint64_t lo,
                        std::uint64_t hi) const {
    const auto v = node.value<std::int64_t>();
    if (!node.is_integer() || !v || *v < 0 || static_cast<std::uint64_t>(*v) < lo ||
        static_cast<std::uint64_t>(*v) > hi) {
      fail(node, fmt::format("calibrate.{}: must be an integer in [{}, {}]", key, lo, hi));
    }
    return static_cast<std::uint64_t>(*v);
  }
  double real(const toml::node& node, const std::string& key, double lo, double hi) const {
    const auto v = node.value<double>();
    if (!(node.is_floating_point() || node.is_integer()) || !v || !(*v >= lo && *v <= hi)) {
      fail(node, fmt::format("calibrate.{}: must be a number in [{}, {}]", key, lo, hi));
    }
    return *v;
  }
  /// A category label from a TOML value: a string, an integer, or a boolean (0/1 fields).
  std::string label(const toml::node& node, const std::string& field) const {
    if (const auto s = node.value_exact<std::string>()) return *s;
    if (const auto i = node.value_exact<std::int64_t>()) return std::to_string(*i);
    if (const auto b = node.value_exact<bool>()) return *b ? "1" : "0";
    // A number: make_condition says whether the field has it (continuous fields ask for a range).
    if (const auto x = node.value_exact<double>()) return format_number(*x);
    fail(node, fmt::format("calibrate.history.{}: a category is a string or an integer", field));
  }
  History history(const toml::table& table) const {
    History h;
    if (table.empty())
      fail(table, "calibrate.history: an empty history matches every run; give at least one field");
    for (const auto& [key_ptr, node_ptr] : in_file_order(table)) {  // the history reads as written
      const toml::key& k = *key_ptr;
      const toml::node& node = *node_ptr;
      ConditionSpec spec;
      spec.field = std::string(k.str());
      const std::string where = fmt::format("{}:{}:{}: calibrate.history", name,
                                            k.source().begin.line, k.source().begin.column);
      if (const auto* list = node.as_array()) {
        for (auto&& item : *list) spec.values.push_back(label(item, spec.field));
        if (spec.values.empty())
          fail(node, fmt::format("calibrate.history.{}: the list is empty", spec.field));
      } else if (const auto* inner = node.as_table()) {
        for (auto&& [ik, inode] : *inner) {
          const std::string key(ik.str());
          if (key == "not") {
            spec.op = ConditionSpec::Op::none_of;
            if (const auto* l = inode.as_array()) {
              for (auto&& item : *l) spec.values.push_back(label(item, spec.field));
            } else {
              spec.values.push_back(label(inode, spec.field));
            }
          } else if (key == "min" || key == "max") {
            spec.op = ConditionSpec::Op::range;
            const auto v = inode.value<double>();
            if (!v || !std::isfinite(*v))
              fail(inode,
                   fmt::format("calibrate.history.{}.{}: must be a number", spec.field, key));
            (key == "min" ? spec.low : spec.high) = *v;
          } else {
            fail(inode,
                 fmt::format("calibrate.history.{}: unknown field '{}' (valid: not, min, max)",
                             spec.field, key));
          }
        }
        const bool mixed = !spec.values.empty() && (spec.low || spec.high);
        if (mixed || (spec.values.empty() && !spec.low && !spec.high)) {
          fail(node,
               fmt::format("calibrate.history.{}: give either `not` or `min`/`max`", spec.field));
        }
      } else {
        spec.values.push_back(label(node, spec.field));
      }
      h.conditions.push_back(make_condition(spec, where));
    }
    return h;
  }
};

toml::table parse_toml(const std::string& file, const std::string& text, const std::string& name) {
  try {
    return file.empty() ? toml::parse(text, name) : toml::parse_file(file);
  } catch (const toml::parse_error& err) {
    throw ConfigError(fmt::format("{}:{}:{}: invalid TOML: {}", name, err.source().begin.line,
                                  err.source().begin.column, err.description()));
  }
}

/// Refuses two conditions on one field that cannot hold in the same run
/// ("format=declaration,format=treaty"): no run could match the history.
void check_joint(const History& h) {
  for (std::size_t i = 0; i < h.conditions.size(); ++i) {
    for (std::size_t j = i + 1; j < h.conditions.size(); ++j) {
      const auto& a = h.conditions[i];
      const auto& b = h.conditions[j];
      if (a.categorical != b.categorical || a.index != b.index) continue;
      bool both = false;
      if (a.categorical) {
        for (std::size_t c = 0; c < a.allowed.size(); ++c)
          both = both || (a.allowed[c] && b.allowed[c]);
      } else {
        both = std::max(a.min, b.min) <= std::min(a.max, b.max);
      }
      if (!both) {
        throw ConfigError(fmt::format(
            "{}: '{}' and '{}' cannot hold in the same run (no value of {} satisfies both): no "
            "run can match this history",
            a.where, a.text, b.text, a.field));
      }
    }
  }
}

}  // namespace

std::string History::text() const {
  std::vector<std::string> parts;
  for (const auto& c : conditions) parts.push_back(c.text);
  return joined(parts);
}

History parse_history(std::string_view text, const std::string& where) {
  History h;
  const auto items = split(text, ',');
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    if (item.empty())
      throw ConfigError(fmt::format("{}: '{}': an empty element (two commas?)", where, text));
    if (std::find(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(i), item) !=
        items.begin() + static_cast<std::ptrdiff_t>(i)) {
      throw ConfigError(fmt::format("{}: '{}': '{}' is given twice; give each condition once",
                                    where, text, item));
    }
    ConditionSpec spec;
    const auto ne = item.find("!=");
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      throw ConfigError(
          fmt::format("{}: '{}': expected field=value, field!=value or field=lo..hi", where, item));
    }
    const bool negated = ne != std::string::npos && ne + 1 == eq;
    spec.field = trim(item.substr(0, negated ? ne : eq));
    const std::string value = trim(item.substr(eq + 1));
    if (spec.field.empty() || value.empty()) {
      throw ConfigError(
          fmt::format("{}: '{}': expected field=value, field!=value or field=lo..hi", where, item));
    }
    if (!negated && parse_range(value, spec, where)) {
      h.conditions.push_back(make_condition(spec, where));
      continue;
    }
    spec.op = negated ? ConditionSpec::Op::none_of : ConditionSpec::Op::any_of;
    spec.values = split(value, '|');
    for (std::size_t k = 0; k < spec.values.size(); ++k) {
      const auto& v = spec.values[k];
      if (v.empty()) throw ConfigError(fmt::format("{}: '{}': an empty alternative", where, item));
      if (std::find(spec.values.begin(), spec.values.begin() + static_cast<std::ptrdiff_t>(k), v) !=
          spec.values.begin() + static_cast<std::ptrdiff_t>(k)) {
        throw ConfigError(
            fmt::format("{}: '{}': the alternative '{}' is given twice", where, item, v));
      }
    }
    h.conditions.push_back(make_condition(spec, where));
  }
  check_joint(h);
  return h;
}

History history_1956() {
  return parse_history(
      "format=declaration,islands_promised=2,islands_transferred=0,okinawa=residual,"
      "threat_round!=0,alliance=intact",
      "the 1956 history");
}

bool read_calibration_table(const toml::table& table, const std::string& source,
                            CalibrationSettings& s) {
  const TableReader r{source};
  bool file_history = false;
  for (const auto& [key_ptr, value_ptr] : in_file_order(table)) {
    const toml::node& v = *value_ptr;
    const std::string key(key_ptr->str());
    if (key == "history") {
      if (const auto* t = v.as_table()) {
        s.histories.push_back(r.history(*t));
      } else if (const auto* list = v.as_array()) {
        for (auto&& item : *list) {
          if (!item.is_table())
            r.fail(item,
                   "calibrate.history: each observed history is a table ([[calibrate.history]])");
          s.histories.push_back(r.history(*item.as_table()));
        }
        if (s.histories.empty()) r.fail(v, "calibrate.history: no history given");
      } else {
        r.fail(v,
               "calibrate.history: a table of outcome fields ([calibrate.history]) or an array of "
               "them");
      }
      file_history = true;
    } else if (key == "design") {
      const auto d = v.value_exact<std::string>();
      if (!d || (*d != "sobol" && *d != "lhs"))
        r.fail(v, "calibrate.design: must be \"sobol\" or \"lhs\"");
      s.design = *d == "lhs" ? Design::lhs : Design::sobol;
    } else if (key == "points") {
      s.points = r.integer(v, key, 2, 100'000);
    } else if (key == "runs") {
      s.runs = r.integer(v, key, 1, 10'000'000);
    } else if (key == "refine") {
      s.refine = r.integer(v, key, 0, 10);
    } else if (key == "refine_points") {
      s.refine_points = r.integer(v, key, 2, 100'000);
    } else if (key == "defensive") {
      s.defensive = r.real(v, key, 0.01, 1.0);
    } else if (key == "draws") {
      s.draws = r.integer(v, key, 20, 100'000);
    } else if (key == "top") {
      s.top = r.integer(v, key, 1, 1000);
    } else {
      std::string nearest;
      std::size_t best = std::numeric_limits<std::size_t>::max();
      for (auto c : CALIBRATE_KEYS) {
        const std::size_t d = agents::edit_distance(key, c);
        if (d < best) best = d, nearest = std::string(c);
      }
      r.fail(v, fmt::format("unknown key '{}' in [calibrate] (did you mean '{}'? valid: {})", key,
                            nearest, joined(CALIBRATE_KEYS)));
    }
  }
  return file_history;
}

CalibrationSettings calibration_settings(const std::string& file, const std::string& text,
                                         const std::string& name,
                                         const CalibrationOverrides& overrides) {
  CalibrationSettings s;
  const std::string source = file.empty() ? name : file;
  bool file_history = false;
  if (!file.empty() || !text.empty()) {
    const toml::table root = parse_toml(file, text, source);
    if (const toml::node* node = root.get("calibrate")) {
      const auto* table = node->as_table();
      if (table == nullptr)
        TableReader{source}.fail(*node, "'calibrate' must be a table ([calibrate])");
      file_history = read_calibration_table(*table, source, s);
    }
  }
  // Errors name the setting as the caller wrote it: --refine-points 1 on the command line,
  // refine_points = 1 in Python.
  const bool python = overrides.caller == CalibrationOverrides::Caller::python;
  const auto named = [python](std::string_view setting, const std::string& value) {
    if (python) return fmt::format("{} = {}", setting, value);
    std::string flag(setting);
    std::replace(flag.begin(), flag.end(), '_', '-');
    return fmt::format("--{} {}", flag, value);
  };
  const auto check = [&](const IntegerRange& range, std::uint64_t v) {
    if (v < range.min || v > range.max)
      throw ConfigError(fmt::format("{}: must be {}", named(range.name, fmt::format("{}", v)),
                                    range_text(range)));
    return v;
  };
  if (!overrides.histories.empty()) {
    s.histories.clear();
    for (const auto& h : overrides.histories)
      s.histories.push_back(parse_history(h, python ? "history" : "--history"));
  } else if (!file_history) {
    s.histories.push_back(history_1956());
  }
  if (overrides.design) {
    if (*overrides.design != "sobol" && *overrides.design != "lhs") {
      throw ConfigError(
          fmt::format("{}: must be sobol or lhs",
                      named("design", python ? fmt::format("'{}'", display_text(*overrides.design))
                                             : display_text(*overrides.design))));
    }
    s.design = *overrides.design == "lhs" ? Design::lhs : Design::sobol;
  }
  if (overrides.points) s.points = check(CALIBRATE_POINTS_RANGE, *overrides.points);
  if (overrides.runs) s.runs = check(CALIBRATE_RUNS_RANGE, *overrides.runs);
  if (overrides.refine) s.refine = check(CALIBRATE_REFINE_RANGE, *overrides.refine);
  if (overrides.refine_points)
    s.refine_points = check(CALIBRATE_REFINE_POINTS_RANGE, *overrides.refine_points);
  if (overrides.draws) s.draws = check(CALIBRATE_DRAWS_RANGE, *overrides.draws);
  if (overrides.top) s.top = check(CALIBRATE_TOP_RANGE, *overrides.top);
  if (overrides.defensive) {
    const auto& range = CALIBRATE_DEFENSIVE_RANGE;
    if (!(*overrides.defensive >= range.min && *overrides.defensive <= range.max)) {
      throw ConfigError(fmt::format("{}: must be {}",
                                    named(range.name, fmt::format("{}", *overrides.defensive)),
                                    range_text(range)));
    }
    s.defensive = *overrides.defensive;
  }
  // Settings of the refinement stages would do nothing without one (as idle flags elsewhere).
  if (s.refine == 0) {
    for (const auto& [given, setting] :
         {std::pair{overrides.refine_points.has_value(), "refine_points"},
          std::pair{overrides.defensive.has_value(), "defensive"}}) {
      if (!given) continue;
      std::string flag = python ? std::string(setting) : "--" + std::string(setting);
      if (!python) std::replace(flag.begin(), flag.end(), '_', '-');
      throw ConfigError(fmt::format(
          "{} applies to the refinement stages, and there are none (refine is 0): {} or drop {}",
          flag, python ? "set refine=N" : "add --refine N", flag));
    }
  }
  // Identical observations count as one history observed several times.
  std::vector<History> merged;
  for (auto& h : s.histories) {
    const auto same = std::find_if(merged.begin(), merged.end(),
                                   [&](const History& m) { return m.text() == h.text(); });
    if (same != merged.end()) {
      same->count += h.count;
    } else {
      merged.push_back(std::move(h));
    }
  }
  s.histories = std::move(merged);
  return s;
}

}  // namespace wedge::experiments

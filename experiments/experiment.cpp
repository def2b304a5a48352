#include "experiments/experiment.hpp"

#include "agents/params.hpp"
#include "engine/error.hpp"
#include "engine/memory.hpp"
#include "engine/runner.hpp"
#include "experiments/designs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace wedge::experiments {

static_assert(RUNS_RANGE.max == engine::MAX_REPLICATES);
static_assert(SEED_RANGE.max == static_cast<std::uint64_t>(INT64_MAX));

namespace {

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string shown(std::string_view text) { return display_text(text); }

}  // namespace

std::string range_text(const IntegerRange& range) {
  return fmt::format("an integer in [{}, {}]", range.min, range.max);
}

std::string range_text(const RealRange& range) {
  return fmt::format("a number in [{}, {}]", range.min, range.max);
}

std::optional<double> decimal(std::string_view s) {
  double v = 0.0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || end != s.data() + s.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // Too large in magnitude, or too small: strtod tells which (it reads what from_chars read).
    const double x = std::strtod(std::string(s).c_str(), nullptr);
    return std::isinf(x) ? x : 0.0 * x;
  }
  if (ec != std::errc{}) return std::nullopt;
  return v;
}

std::string integer_problem(std::string_view raw, const IntegerRange& range) {
  const std::string_view text = trimmed(raw);
  if (text.empty()) return fmt::format("the value is empty; must be {}", range_text(range));
  const bool digits = !text.empty() && std::all_of(text.begin(), text.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; });
  if (digits) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc{} && end == text.data() + text.size() && v >= range.min && v <= range.max)
      return "";
    return fmt::format("{} is out of range; must be {}", shown(text), range_text(range));
  }
  const bool negative =
      text.size() > 1 && text[0] == '-' &&
      std::all_of(text.begin() + 1, text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (negative)
    return fmt::format("{} is out of range; must be {}", shown(text), range_text(range));
  if (decimal(text))
    return fmt::format("{} is not an integer; must be {}", shown(text), range_text(range));
  return fmt::format("'{}' is not a number; must be {}", shown(text), range_text(range));
}

std::string real_problem(std::string_view raw, const RealRange& range) {
  const std::string_view text = trimmed(raw);
  if (text.empty()) return fmt::format("the value is empty; must be {}", range_text(range));
  const auto v = decimal(text);
  if (!v) return fmt::format("'{}' is not a number; must be {}", shown(text), range_text(range));
  if (std::isnan(*v))
    return fmt::format("{} is not a number; must be {}", shown(text), range_text(range));
  if (!(*v >= range.min && *v <= range.max)) {
    return fmt::format("{} is out of range; must be {}", shown(text), range_text(range));
  }
  return "";
}

std::uint64_t parse_integer(std::string_view text, const IntegerRange& range) {
  if (auto problem = integer_problem(text, range); !problem.empty()) {
    throw ConfigError(fmt::format("{}: {}", range.name, problem));
  }
  std::uint64_t v = 0;
  const std::string_view t = trimmed(text);
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

double parse_real(std::string_view text, const RealRange& range) {
  if (auto problem = real_problem(text, range); !problem.empty()) {
    throw ConfigError(fmt::format("{}: {}", range.name, problem));
  }
  return *decimal(trimmed(text));
}

namespace {
void check_integer(std::uint64_t v, const IntegerRange& range) {
  if (v < range.min || v > range.max) {
    throw ConfigError(fmt::format("{} = {}: must be {}", range.name, v, range_text(range)));
  }
}
}  // namespace

void check_run_settings(const RunSettings& run) {
  check_integer(run.runs, RUNS_RANGE);
  check_integer(run.seed, SEED_RANGE);
  check_integer(run.max_runs, MAX_RUNS_RANGE);
  if (run.precision &&
      !(*run.precision >= PRECISION_RANGE.min && *run.precision <= PRECISION_RANGE.max)) {
    throw ConfigError(fmt::format("{} = {}: must be {}", PRECISION_RANGE.name, *run.precision,
                                  range_text(PRECISION_RANGE)));
  }
}

void check_threads(std::uint64_t threads) { check_integer(threads, THREADS_RANGE); }

std::string display_text(std::string_view text, std::size_t max_chars) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t len = c < 0x80           ? 1
                            : (c >> 5) == 0x6  ? 2
                            : (c >> 4) == 0xE  ? 3
                            : (c >> 3) == 0x1E ? 4
                                               : 0;
    bool valid = len > 0 && i + len <= text.size();
    for (std::size_t k = 1; valid && k < len; ++k)
      valid = (static_cast<unsigned char>(text[i + k]) >> 6) == 0x2;
    if (valid && len == 1 && (c < 0x20 || c == 0x7F || c == '\\')) valid = false;
    if (valid && len == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) <= 0x9F)
      valid = false;  // a C1 control (U+0080-U+009F): escaped byte by byte
    std::string piece = valid ? std::string(text.substr(i, len)) : fmt::format("\\x{:02x}", c);
    if (out.size() + piece.size() > max_chars && i + (valid ? len : 1) < text.size())
      return out + "...";
    out += piece;
    i += valid ? len : 1;
  }
  return out;
}

std::optional<std::string> control_character(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F)
      return fmt::format("U+{:04X} at byte {}", static_cast<unsigned>(c), i + 1);
    // C1 controls are U+0080-U+009F: in UTF-8, 0xC2 followed by 0x80-0x9F.
    if (c == 0xC2 && i + 1 < text.size()) {
      const auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9F)
        return fmt::format("U+{:04X} at byte {}", static_cast<unsigned>(next), i + 1);
    }
  }
  return std::nullopt;
}

const char* design_name(Design d) {
  switch (d) {
    case Design::single:
      return "single";
    case Design::grid:
      return "grid";
    case Design::lhs:
      return "lhs";
    case Design::sobol:
      return "sobol";
    case Design::saltelli:
      return "saltelli";
    case Design::list:
      return "list";
  }
  return "?";
}

std::uint64_t design_points(const Experiment& e) {
  const Sweep& sw = e.sweep;
  std::uint64_t total = 1;
  switch (sw.design) {
    case Design::single:
      return 1;
    case Design::grid:
      for (const auto& sk : sw.keys) {
        total *= std::max<std::uint64_t>(sk.values.size(), 1);
        if (total > MAX_DESIGN_POINTS) {
          throw ConfigError(
              fmt::format("{}: the grid has more than {} points", e.source, MAX_DESIGN_POINTS));
        }
      }
      return total;
    case Design::list:
      return sw.keys.empty() ? 0 : sw.keys.front().values.size();
    case Design::lhs:
    case Design::sobol:
    case Design::saltelli: {
      const std::uint64_t per = sw.design == Design::saltelli ? sw.keys.size() + 2 : 1;
      if (sw.points > MAX_DESIGN_POINTS / per) {
        throw ConfigError(fmt::format("{}: the {} design has {} points; at most {}", e.source,
                                      design_name(sw.design), sw.points * per, MAX_DESIGN_POINTS));
      }
      return sw.points * per;
    }
  }
  return total;
}

namespace {

/// The warning for a Sobol or Saltelli design whose (base) points are not a power of two.
std::string power_of_two_warning(const Sweep& sw) {
  const std::uint64_t n = sw.points;
  if (n == 0 || std::has_single_bit(n)) return "";
  const std::uint64_t lower = std::bit_floor(n);
  return fmt::format(
      "{} design: points = {} is not a power of two; Sobol points are balanced only "
      "in powers of two, so {} or {} would be better{}",
      design_name(sw.design), n, lower, lower * 2,
      sw.design == Design::saltelli ? " (base points)" : "");
}

}  // namespace

void resolve_design(Experiment& e) {
  e.swept_keys.clear();
  e.points.clear();
  e.values.clear();
  e.warnings.clear();
  const Sweep& sw = e.sweep;
  const std::size_t d = sw.keys.size();
  for (const auto& sk : sw.keys) e.swept_keys.push_back(sk.key);
  const std::uint64_t count = design_points(e);
  std::vector<std::vector<double>> rows;
  rows.reserve(count);
  std::vector<agents::ParamInfo> infos;  // the keys of the base scenario (its factions' included)
  for (std::size_t k = 0; k < d; ++k)
    infos.push_back(agents::require_parameter(e.base, sw.keys[k].key));
  switch (sw.design) {
    case Design::single:
      rows.emplace_back();
      break;
    case Design::grid:
      for (std::uint64_t i = 0; i < count; ++i) {
        std::vector<double> row(d);
        std::uint64_t rest = i;
        for (std::size_t k = d; k-- > 0;) {  // the last key varies fastest
          row[k] = sw.keys[k].values[rest % sw.keys[k].values.size()];
          rest /= sw.keys[k].values.size();
        }
        rows.push_back(std::move(row));
      }
      break;
    case Design::list:
      for (std::size_t i = 0; i < count; ++i) {
        std::vector<double> row(d);
        for (std::size_t k = 0; k < d; ++k) row[k] = sw.keys[k].values[i];
        rows.push_back(std::move(row));
      }
      break;
    case Design::lhs:
    case Design::sobol:
    case Design::saltelli: {
      if (sw.design != Design::lhs) {
        if (auto w = power_of_two_warning(sw); !w.empty()) e.warnings.push_back(std::move(w));
      }
      const auto u = sw.design == Design::lhs     ? latin_hypercube(sw.points, d, e.run.seed)
                     : sw.design == Design::sobol ? sobol_points(sw.points, d, e.run.seed)
                                                  : saltelli_points(sw.points, d, e.run.seed);
      for (std::size_t i = 0; i < u.size() / d; ++i) {
        std::vector<double> row(d);
        for (std::size_t k = 0; k < d; ++k) {
          row[k] = map_unit(infos[k], sw.keys[k].min, sw.keys[k].max, u[i * d + k]);
        }
        rows.push_back(std::move(row));
      }
      break;
    }
  }
  // One scenario per point (~2.7 KB: 11 MB for 4,096 points), first touched here, serially: on
  // huge pages where the kernel gives them (a page fault per 2 MiB, not per 4 KiB), all of the
  // array's (DesignPoints' allocator).
  e.points.reserve(rows.size());
  e.values.reserve(rows.size());
  for (std::size_t p = 0; p < rows.size(); ++p) {
    // Made in place (a scenario is ~2.7 KB: one copy per point, not two).
    agents::Scenario& s = e.points.emplace_back(e.base);
    for (std::size_t k = 0; k < d; ++k) infos[k].set(s, rows[p][k]);
    try {
      s.validate();
    } catch (const ConfigError& err) {
      e.points.pop_back();  // the points before it, as before
      std::string where;
      for (std::size_t k = 0; k < d; ++k) {
        where += fmt::format("{}{} = {}", k ? ", " : "", sw.keys[k].key,
                             agents::format_value(infos[k], rows[p][k]));
      }
      throw ConfigError(
          fmt::format("{}{}{}: {}", e.source.empty() ? "" : e.source + ": ",
                      rows.size() > 1 ? fmt::format("design point {}", p) : std::string("scenario"),
                      where.empty() ? "" : " (" + where + ")", err.what()));
    }
    e.values.push_back(std::move(rows[p]));
  }
}

std::string byte_text(std::uint64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (bytes >= 1'000'000'000'000ull) return fmt::format("{:.1f} TB", b / 1e12);
  if (bytes >= 1'000'000'000) return fmt::format("{:.1f} GB", b / 1e9);
  if (bytes >= 1'000'000) return fmt::format("{:.1f} MB", b / 1e6);
  if (bytes >= 1'000) return fmt::format("{:.1f} KB", b / 1e3);
  return fmt::format("{} bytes", bytes);
}

}  // namespace wedge::experiments

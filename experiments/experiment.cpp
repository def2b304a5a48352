#include "experiments/experiment.hpp"

#include "agents/params.hpp"
#include "engine/error.hpp"
#include "experiments/designs.hpp"

#include <fmt/format.h>

namespace wedge::experiments {

const char* design_name(Design d) {
  switch (d) {
    case Design::single: return "single";
    case Design::grid: return "grid";
    case Design::lhs: return "lhs";
    case Design::sobol: return "sobol";
    case Design::saltelli: return "saltelli";
    case Design::list: return "list";
  }
  return "?";
}

void resolve_design(Experiment& e) {
  e.swept_keys.clear();
  e.points.clear();
  e.values.clear();
  const Sweep& sw = e.sweep;
  const std::size_t d = sw.keys.size();
  for (const auto& sk : sw.keys) e.swept_keys.push_back(sk.key);
  std::vector<std::vector<double>> rows;
  switch (sw.design) {
    case Design::single:
      rows.emplace_back();
      break;
    case Design::grid: {
      std::uint64_t total = 1;
      for (const auto& sk : sw.keys) {
        total *= sk.values.size();
        if (total > MAX_DESIGN_POINTS) {
          throw ConfigError(fmt::format("{}: the grid has more than {} points", e.source, MAX_DESIGN_POINTS));
        }
      }
      for (std::uint64_t i = 0; i < total; ++i) {
        std::vector<double> row(d);
        std::uint64_t rest = i;
        for (std::size_t k = d; k-- > 0;) {  // the last key varies fastest
          row[k] = sw.keys[k].values[rest % sw.keys[k].values.size()];
          rest /= sw.keys[k].values.size();
        }
        rows.push_back(std::move(row));
      }
      break;
    }
    case Design::list:
      for (std::size_t i = 0; i < sw.keys.front().values.size(); ++i) {
        std::vector<double> row(d);
        for (std::size_t k = 0; k < d; ++k) row[k] = sw.keys[k].values[i];
        rows.push_back(std::move(row));
      }
      break;
    case Design::lhs:
    case Design::sobol:
    case Design::saltelli: {
      const std::uint64_t n = sw.design == Design::saltelli ? sw.points * (d + 2) : sw.points;
      if (n > MAX_DESIGN_POINTS) {
        throw ConfigError(fmt::format("{}: the {} design has {} points; at most {}", e.source,
                                      design_name(sw.design), n, MAX_DESIGN_POINTS));
      }
      const auto u = sw.design == Design::lhs     ? latin_hypercube(sw.points, d, e.run.seed)
                     : sw.design == Design::sobol ? sobol_points(sw.points, d)
                                                  : saltelli_points(sw.points, d);
      for (std::size_t i = 0; i < u.size() / d; ++i) {
        std::vector<double> row(d);
        for (std::size_t k = 0; k < d; ++k) {
          const auto& info = agents::require_parameter(sw.keys[k].key);
          row[k] = map_unit(info, sw.keys[k].min, sw.keys[k].max, u[i * d + k]);
        }
        rows.push_back(std::move(row));
      }
      break;
    }
  }
  if (rows.size() > 0xFFFFFFFEull) throw ConfigError(fmt::format("{}: too many design points", e.source));
  for (std::size_t p = 0; p < rows.size(); ++p) {
    agents::Scenario s = e.base;
    for (std::size_t k = 0; k < d; ++k) agents::require_parameter(sw.keys[k].key).set(s, rows[p][k]);
    try {
      s.validate();
    } catch (const ConfigError& err) {
      std::string where;
      for (std::size_t k = 0; k < d; ++k) {
        where += fmt::format("{}{} = {}", k ? ", " : "", sw.keys[k].key,
                             agents::format_value(agents::require_parameter(sw.keys[k].key), rows[p][k]));
      }
      throw ConfigError(fmt::format("{}{}{}: {}", e.source.empty() ? "" : e.source + ": ",
                                    rows.size() > 1 ? fmt::format("design point {}", p) : std::string("scenario"),
                                    where.empty() ? "" : " (" + where + ")", err.what()));
    }
    e.points.push_back(s);
    e.values.push_back(std::move(rows[p]));
  }
}

}  // namespace wedge::experiments

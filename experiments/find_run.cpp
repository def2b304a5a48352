#include "experiments/find_run.hpp"

#include "agents/tug_of_war.hpp"
#include "engine/error.hpp"
#include "experiments/session.hpp"
#include "experiments/trace_where.hpp"

#include <fmt/format.h>

#include <atomic>

namespace wedge::experiments {

using agents::TugOfWar;

RunCondition parse_condition(const std::string& text) {
  const auto layout = engine::FieldLayout::from(TugOfWar::fields());
  const auto eq = text.find('=');
  std::string fields;
  for (const auto& f : layout.categorical) fields += (fields.empty() ? "" : ", ") + f.name;
  if (eq == std::string::npos) {
    throw ConfigError(fmt::format(
        "condition '{}': expected FIELD=CATEGORY, e.g. format=treaty (fields: {})", text, fields));
  }
  const std::string name = text.substr(0, eq);
  const std::string category = text.substr(eq + 1);
  for (std::size_t f = 0; f < layout.categorical.size(); ++f) {
    const auto& spec = layout.categorical[f];
    if (spec.name != name) continue;
    for (std::size_t c = 0; c < spec.categories.size(); ++c) {
      if (spec.categories[c] == category) return {f, static_cast<std::uint16_t>(c)};
    }
    std::string valid;
    for (const auto& c : spec.categories) valid += (valid.empty() ? "" : ", ") + c;
    if (spec.categories.size() > 12) {
      valid = fmt::format("{} to {}", spec.categories.front(), spec.categories.back());
    }
    throw ConfigError(fmt::format("condition '{}': {} has no category '{}' (valid: {})", text, name,
                                  category, valid));
  }
  throw ConfigError(
      fmt::format("condition '{}': unknown outcome '{}' (valid: {})", text, name, fields));
}

namespace {

/// Looks at every record in plan order and remembers the first that satisfies the conditions.
struct FirstMatch final : RecordSink {
  std::uint32_t point;
  const std::vector<RunCondition>& conditions;
  engine::CancelToken& stop;
  std::optional<std::uint64_t> found;

  FirstMatch(std::uint32_t p, const std::vector<RunCondition>& c, engine::CancelToken& s)
      : point(p), conditions(c), stop(s) {}

  void consume(std::span<const engine::Block> blocks, std::span<const agents::RunRecord> records,
               std::span<const engine::Summary>) override {
    std::uint16_t cats[engine::MAX_FIELDS];
    double vals[engine::MAX_FIELDS];
    std::size_t i = 0;
    for (const auto& b : blocks) {
      for (std::uint32_t k = 0; k < b.count; ++k, ++i) {
        if (found || b.point != point) continue;
        TugOfWar::observe(records[i], cats, vals);
        bool all = true;
        for (const auto& c : conditions) all = all && cats[c.field] == c.category;
        if (all) {
          found = b.replicate_begin + k;
          stop.request();  // the runner stops at its next wave boundary
        }
      }
    }
  }
};

}  // namespace

std::optional<std::uint64_t> find_run(const Experiment& e, std::uint32_t point,
                                      const std::vector<RunCondition>& conditions, unsigned threads,
                                      const engine::CancelToken* cancel, bool* cancelled) {
  if (point >= e.points.size()) {
    throw ConfigError(
        fmt::format("point {}: the experiment has {} design point(s) (valid: 0 to {})", point,
                    e.points.size(), e.points.size() - 1));
  }
  if (e.run.precision)
    throw ConfigError("finding a run needs a fixed number of runs, not precision mode");
  const auto layout = engine::FieldLayout::from(TugOfWar::fields());
  for (const auto& c : conditions) {
    if (c.field >= layout.categorical.size() ||
        c.category >= layout.categorical[c.field].categories.size()) {
      throw ConfigError("find_run: condition out of range");
    }
    if (const auto why = impossible_category(e.points[point], c.field, c.category); !why.empty()) {
      throw ConfigError(fmt::format(
          "condition {}={}: no run of point {} can end so: {}", layout.categorical[c.field].name,
          layout.categorical[c.field].categories[c.category], point, why));
    }
  }
  SessionOptions options;
  options.threads = threads;
  Session session(e, options);
  engine::CancelToken stop(cancel);
  FirstMatch sink(point, conditions, stop);
  session.execute({&stop, &sink, nullptr});
  if (cancelled != nullptr) *cancelled = !sink.found && cancel != nullptr && cancel->requested();
  return sink.found;
}

}  // namespace wedge::experiments

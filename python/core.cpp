// wedge._core: the engine from Python. simulate() runs an experiment without writing a file and
// returns the same JSON document as `wedge run --json` (so the results equal the command line's),
// plus, if asked, every run's record as NumPy columns. The GIL is released while the engine runs.
#include "agents/params.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/error.hpp"
#include "experiments/execute.hpp"
#include "experiments/loader.hpp"
#include "experiments/report.hpp"
#include "wedge/version.hpp"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <tbb/global_control.h>

#include <optional>
#include <string>
#include <vector>

namespace py = pybind11;
using namespace wedge;

namespace {

/// Collects every record as columns (category indices and values), in plan order.
struct Columns : engine::RecordSink<agents::RunRecord> {
  std::vector<std::uint32_t> point, replicate;
  std::vector<std::vector<std::uint16_t>> categories;
  std::vector<std::vector<double>> values;
  Columns(std::size_t nc, std::size_t nv) : categories(nc), values(nv) {}

  void consume(std::span<const engine::Block> blocks, std::span<const agents::RunRecord> records,
               std::span<const engine::Summary>) override {
    std::uint16_t cats[engine::MAX_FIELDS];
    double vals[engine::MAX_FIELDS];
    std::size_t i = 0;
    for (const auto& b : blocks) {
      for (std::uint32_t k = 0; k < b.count; ++k, ++i) {
        point.push_back(b.point);
        replicate.push_back(static_cast<std::uint32_t>(b.replicate_begin + k));
        agents::TugOfWar::observe(records[i], cats, vals);
        for (std::size_t c = 0; c < categories.size(); ++c) categories[c].push_back(cats[c]);
        for (std::size_t v = 0; v < values.size(); ++v) values[v].push_back(vals[v]);
      }
    }
  }
};

template <class T>
py::array_t<T> to_numpy(std::vector<T>&& v) {
  auto* heap = new std::vector<T>(std::move(v));
  py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({heap->size()}, {sizeof(T)}, heap->data(), owner);
}

py::tuple simulate(const std::string& experiment_text, const std::string& experiment_path,
                   std::optional<std::uint64_t> runs, std::optional<std::uint64_t> seed,
                   std::optional<unsigned> threads, const std::vector<std::string>& sets,
                   std::optional<bool> crn, std::optional<double> precision, bool records) {
  experiments::Experiment e;
  if (!experiment_path.empty()) {
    e = experiments::load_experiment(experiment_path);
  } else if (!experiment_text.empty()) {
    e = experiments::parse_experiment(experiment_text, "<experiment dict>");
  }
  experiments::apply_overrides(e, sets);
  if (runs) e.run.runs = *runs;
  if (seed) e.run.seed = *seed;
  if (crn) e.run.crn = *crn;
  if (precision) e.run.precision = *precision;
  if (e.run.runs == 0 || e.run.runs > engine::MAX_REPLICATES) {
    throw ConfigError("runs must be in [1, 4294967296]");
  }
  experiments::resolve_design(e);
  if (threads && (*threads < 1 || *threads > 1024)) throw ConfigError("threads must be in [1, 1024]");

  auto summaries = engine::make_summaries<agents::TugOfWar>(e.points.size());
  const auto layout = summaries.front().layout();
  Columns columns(layout.categorical.size(), layout.continuous.size());
  {
    py::gil_scoped_release release;
    std::optional<tbb::global_control> control;
    if (threads) control.emplace(tbb::global_control::max_allowed_parallelism, *threads);
    experiments::ExecuteOptions options;
    options.run.seed = e.run.seed;
    options.run.crn = e.run.crn;
    options.run.honour_cancel = false;
    options.first_batch = runs ? *runs : std::min<std::uint64_t>(10'000, e.run.max_runs);
    const auto blocks = engine::make_blocks(
        engine::full_plan(static_cast<std::uint32_t>(e.points.size()), e.run.runs));
    experiments::execute(e, options, blocks, summaries, records ? &columns : nullptr);
  }
  py::dict cols;
  if (records) {
    cols["point"] = to_numpy(std::move(columns.point));
    cols["replicate"] = to_numpy(std::move(columns.replicate));
    for (std::size_t c = 0; c < layout.categorical.size(); ++c) {
      cols[py::str(layout.categorical[c].name)] = to_numpy(std::move(columns.categories[c]));
    }
    for (std::size_t v = 0; v < layout.continuous.size(); ++v) {
      cols[py::str(layout.continuous[v].name)] = to_numpy(std::move(columns.values[v]));
    }
  }
  return py::make_tuple(experiments::results_json(e, summaries), cols, experiments::to_toml(e));
}

py::list fields() {
  py::list out;
  for (const auto& f : agents::TugOfWar::fields()) {
    py::dict d;
    d["name"] = f.name;
    d["kind"] = f.kind == engine::FieldKind::categorical ? "categorical" : "continuous";
    d["categories"] = f.categories;
    d["description"] = f.description;
    out.append(d);
  }
  return out;
}

}  // namespace

namespace {

/// The parameter registry (agents/params.hpp) for Python: one dict per key with key, section,
/// type ("real", "integer", "boolean"), default, min, max (floats, may be infinite),
/// min_exclusive, range (in words) and meaning, in the order of MODEL.md §4.
py::list parameters() {
  py::list out;
  for (const auto& p : agents::parameters()) {
    py::dict d;
    d["key"] = p.key;
    d["section"] = p.section;
    d["type"] = p.type == agents::ParamType::real      ? "real"
                : p.type == agents::ParamType::integer ? "integer"
                                                       : "boolean";
    d["default"] = p.get(agents::Scenario{});
    d["min"] = p.min;
    d["max"] = p.max;
    d["min_exclusive"] = p.min_exclusive;
    d["range"] = p.range_text();
    d["meaning"] = p.meaning;
    out.append(d);
  }
  return out;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "wedge's engine: run experiments from Python (see wedge.simulate)";
  static py::exception<ConfigError> config_error(m, "ConfigError", PyExc_ValueError);
  static py::exception<OutputError> output_error(m, "OutputError", PyExc_OSError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ConfigError& e) {
      config_error(e.what());
    } catch (const OutputError& e) {
      output_error(e.what());
    }
  });
  m.def("simulate", &simulate, py::arg("experiment_text"), py::arg("experiment_path"), py::arg("runs"),
        py::arg("seed"), py::arg("threads"), py::arg("sets"), py::arg("crn"), py::arg("precision"),
        py::arg("records"),
        "Runs an experiment; returns (results JSON text, per-run columns dict, resolved experiment TOML).");
  m.def("fields", &fields, "The run record's fields.");
  m.def("parameters", &parameters, "Every scenario key: key, section, type, default, min, max, range, meaning.");
  m.attr("__version__") = VERSION;
  m.attr("git_commit") = GIT_COMMIT;
  m.attr("kernel") = agents::kernel_name();
}

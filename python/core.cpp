// wedge._core: the engine from Python. simulate() runs an experiment through the application layer
// (experiments/session.hpp, as the command line does) without writing a file and returns the same
// JSON document as `wedge run --json`, plus, if asked, every run's record as NumPy columns. The GIL
// is released while the engine runs; Ctrl-C stops the run and raises KeyboardInterrupt.
#include "agents/params.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/error.hpp"
#include "experiments/loader.hpp"
#include "experiments/report.hpp"
#include "experiments/session.hpp"
#include "wedge/version.hpp"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
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

/// Runs `session` on a worker thread while this (the calling) thread, holding the GIL only to
/// check, polls Python's signal handlers: a KeyboardInterrupt (Ctrl-C) cancels the run at its next
/// wave boundary and is raised here. Errors of the run are rethrown here, where pybind11 maps them.
experiments::SessionResult execute_interruptibly(experiments::Session& session, experiments::RecordSink* records) {
  engine::CancelToken cancel;
  experiments::SessionResult result;
  std::exception_ptr error;
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  std::thread worker([&] {
    try {
      result = session.execute({&cancel, records, nullptr});
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard lock(mutex);
    done = true;
    done_cv.notify_all();
  });
  bool interrupted = false;
  for (;;) {
    {
      py::gil_scoped_release release;
      std::unique_lock lock(mutex);
      if (done_cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return done; })) break;
    }
    if (!interrupted && PyErr_CheckSignals() != 0) {
      interrupted = true;  // the Python error stays set until we raise it below
      cancel.request(SIGINT);
    }
  }
  {
    py::gil_scoped_release release;
    worker.join();
  }
  if (interrupted) throw py::error_already_set();
  if (error) std::rethrow_exception(error);
  return result;
}

py::tuple simulate(const std::string& experiment_text, const std::string& experiment_path,
                   std::optional<std::uint64_t> runs, std::optional<std::uint64_t> seed,
                   std::optional<unsigned> threads, const std::vector<std::string>& sets,
                   std::optional<bool> crn, std::optional<double> precision, bool records) {
  experiments::ExperimentSource source;
  source.file = experiment_path;
  source.text = experiment_text;
  source.text_name = "<experiment dict>";
  source.sets = sets;
  source.runs = runs;
  source.seed = seed;
  source.crn = crn;
  source.precision = precision;
  if (threads) experiments::check_threads(*threads);  // the command line's range (experiment.hpp)
  experiments::SessionOptions options;
  options.threads = threads.value_or(0);
  options.first_batch = runs;  // precision mode: runs, if given, is the first batch
  options.keeps_records = records;  // every record is kept in memory: part of the memory estimate
  experiments::Session session(experiments::resolve(source), options);
  // The design's warnings (e.g. a Sobol design whose size is not a power of two) and the
  // resource note, as Python warnings.
  for (const auto& w : session.experiment().warnings) {
    if (PyErr_WarnEx(PyExc_UserWarning, w.c_str(), 1) != 0) throw py::error_already_set();
  }
  if (!session.resource_warning().empty() &&
      PyErr_WarnEx(PyExc_ResourceWarning, session.resource_warning().c_str(), 1) != 0) {
    throw py::error_already_set();
  }
  const auto layout = engine::FieldLayout::from(agents::TugOfWar::fields());
  Columns columns(layout.categorical.size(), layout.continuous.size());
  const auto result = execute_interruptibly(session, records ? &columns : nullptr);
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
  const auto& e = session.experiment();
  // Precision mode: the document's "precision" member, and a warning when --max-runs stopped it
  // first (the results are valid, but less precise than asked).
  experiments::JsonOptions json;
  if (result.precision) {
    json.head["precision"] = experiments::precision_json(*result.precision);
    if (!result.precision->reached &&
        PyErr_WarnEx(PyExc_UserWarning, experiments::precision_warning(*result.precision).c_str(), 1) != 0) {
      throw py::error_already_set();
    }
  }
  return py::make_tuple(experiments::results_json(e, result.summaries, json), cols, experiments::to_toml(e));
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

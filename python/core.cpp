// wedge._core: the engine from Python. simulate() runs an experiment through the application layer
// (experiments/session.hpp, as the command line does) without writing a file and returns the same
// JSON document as `wedge run --json`, plus, if asked, every run's record as NumPy columns. The GIL
// is released while the engine runs; Ctrl-C stops the run and raises KeyboardInterrupt.
#include "agents/params.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/error.hpp"
#include "experiments/calibrate.hpp"
#include "experiments/calibrate_report.hpp"
#include "experiments/compare.hpp"
#include "experiments/find_run.hpp"
#include "experiments/loader.hpp"
#include "experiments/report.hpp"
#include "experiments/session.hpp"
#include "experiments/trace_report.hpp"
#include "wedge/version.hpp"

#include <fmt/format.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
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

/// Runs work(token) on a worker thread while this (the calling) thread, holding the GIL only to
/// check, polls Python's signal handlers every 50 ms: a KeyboardInterrupt (Ctrl-C) cancels `token`
/// (the run stops at its next wave boundary) and is raised here once the worker has finished.
/// `token` is linked to `user`, a CancelToken from Python (may be null) that any thread may
/// cancel. Errors of the work are rethrown here, where pybind11 maps them.
template <class Result, class Work>
Result run_interruptible(const engine::CancelToken* user, Work work) {
  engine::CancelToken token(user);
  std::optional<Result> result;
  std::exception_ptr error;
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  std::thread worker([&] {
    try {
      result.emplace(work(token));
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
      token.request(SIGINT);
    }
  }
  {
    py::gil_scoped_release release;
    worker.join();
  }
  if (interrupted) throw py::error_already_set();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

py::tuple simulate(const std::string& experiment_text, const std::string& experiment_path,
                   std::optional<std::uint64_t> runs, std::optional<std::uint64_t> seed,
                   std::optional<unsigned> threads, const std::vector<std::string>& sets,
                   std::optional<bool> crn, std::optional<double> precision, bool records,
                   std::optional<std::uint64_t> max_runs, std::optional<std::string> base) {
  experiments::ExperimentSource source;
  source.file = experiment_path;
  source.text = experiment_text;
  source.text_name = "<experiment dict>";
  source.text_base = base;  // a dict may use `extends`, relative to this directory
  source.max_runs = max_runs;
  experiments::check_repeated_sets(sets, "set item");  // a key given twice is refused, as by --set
  source.sets = sets;
  source.set_option = "set item";  // errors in Python's words, not "--set"
  source.runs = runs;
  source.seed = seed;
  source.crn = crn;
  source.precision = precision;
  if (threads) experiments::check_threads(*threads);  // the command line's range (experiment.hpp)
  experiments::SessionOptions options;
  options.threads = threads.value_or(0);
  options.first_batch = runs;       // precision mode: runs, if given, is the first batch
  options.keeps_records = records;  // every record is kept in memory: part of the memory estimate
  experiments::Session session(experiments::resolve(source), options);
  // The design's warnings (e.g. a Sobol design whose size is not a power of two) and the
  // resource note, as Python warnings. Stack level 2: level 1 is wedge.simulate (the only
  // caller of this function), 2 the user's line that called it, which the warning names.
  constexpr Py_ssize_t user_frame = 2;
  for (const auto& w : session.experiment().warnings) {
    if (PyErr_WarnEx(PyExc_UserWarning, w.c_str(), user_frame) != 0) throw py::error_already_set();
  }
  if (!session.resource_warning().empty() &&
      PyErr_WarnEx(PyExc_ResourceWarning, session.resource_warning().c_str(), user_frame) != 0) {
    throw py::error_already_set();
  }
  // Precision mode: `runs` is the first batch, rounded up to whole blocks (the command line's
  // note for --runs, in Python's words).
  if (const auto note =
          experiments::first_batch_note(runs, session.experiment(), "runs=", "max_runs=");
      !note.empty() && PyErr_WarnEx(PyExc_UserWarning, note.c_str(), user_frame) != 0) {
    throw py::error_already_set();
  }
  const auto layout = engine::FieldLayout::from(agents::TugOfWar::fields());
  Columns columns(layout.categorical.size(), layout.continuous.size());
  const auto result =
      run_interruptible<experiments::SessionResult>(nullptr, [&](const engine::CancelToken& token) {
        return session.execute({&token, records ? &columns : nullptr, nullptr});
      });
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
        PyErr_WarnEx(PyExc_UserWarning,
                     experiments::precision_warning(*result.precision, true).c_str(), 1) != 0) {
      throw py::error_already_set();
    }
  }
  return py::make_tuple(experiments::results_json(e, result.summaries, json), cols,
                        experiments::to_toml(e));
}

/// The ranges of experiments/experiment.hpp, for wedge.simulate's argument checks: name ->
/// (kind "integer"/"real", min, max, "an integer in [1, 4294967296]").
py::dict run_ranges() {
  py::dict out;
  for (const auto& r :
       {experiments::RUNS_RANGE, experiments::SEED_RANGE, experiments::MAX_RUNS_RANGE,
        experiments::THREADS_RANGE, experiments::POINT_RANGE, experiments::REPLICATE_RANGE}) {
    out[py::str(std::string(r.name))] =
        py::make_tuple("integer", r.min, r.max, experiments::range_text(r));
  }
  const auto& p = experiments::PRECISION_RANGE;
  out[py::str(std::string(p.name))] =
      py::make_tuple("real", p.min, p.max, experiments::range_text(p));
  return out;
}

/// The calibration settings' ranges (experiments/calibrate.hpp), for wedge.calibrate's argument
/// checks, in run_ranges' form.
py::dict calibrate_ranges() {
  py::dict out;
  for (const auto& r :
       {experiments::CALIBRATE_POINTS_RANGE, experiments::CALIBRATE_RUNS_RANGE,
        experiments::CALIBRATE_REFINE_RANGE, experiments::CALIBRATE_REFINE_POINTS_RANGE,
        experiments::CALIBRATE_DRAWS_RANGE, experiments::CALIBRATE_TOP_RANGE}) {
    out[py::str(std::string(r.name))] =
        py::make_tuple("integer", r.min, r.max, experiments::range_text(r));
  }
  const auto& d = experiments::CALIBRATE_DEFENSIVE_RANGE;
  out[py::str(std::string(d.name))] =
      py::make_tuple("real", d.min, d.max, experiments::range_text(d));
  return out;
}

/// History matching (experiments/calibrate.hpp) as `wedge calibrate --json` does it: returns the
/// same JSON document. Runs on a worker thread; Ctrl-C cancels it and raises KeyboardInterrupt.
std::string calibrate(const std::string& experiment_text, const std::string& experiment_path,
                      const std::vector<std::string>& histories, std::optional<std::string> design,
                      std::optional<std::uint64_t> points, std::optional<std::uint64_t> runs,
                      std::optional<std::uint64_t> refine,
                      std::optional<std::uint64_t> refine_points, std::optional<double> defensive,
                      std::optional<std::uint64_t> draws, std::optional<std::uint64_t> top,
                      std::optional<std::uint64_t> seed, std::optional<unsigned> threads,
                      bool quiet) {
  experiments::ExperimentSource source;
  source.file = experiment_path;
  source.text = experiment_text;
  source.text_name = "<experiment dict>";
  source.seed = seed;
  if (threads) experiments::check_threads(*threads);
  const experiments::Experiment e = experiments::resolve(source);
  experiments::CalibrationOverrides overrides;
  overrides.histories = histories;
  overrides.design = design;
  overrides.points = points;
  overrides.runs = runs;
  overrides.refine = refine;
  overrides.refine_points = refine_points;
  overrides.defensive = defensive;
  overrides.draws = draws;
  overrides.top = top;
  overrides.caller = experiments::CalibrationOverrides::Caller::python;  // "runs = 0", "history"
  const auto settings = experiments::calibration_settings(
      experiment_path, experiment_text,
      experiment_path.empty() ? source.text_name : experiment_path, overrides);
  const auto result = run_interruptible<experiments::CalibrationResult>(
      nullptr, [&](const engine::CancelToken& token) {
        return experiments::calibrate(
            e, settings,
            experiments::model_counter(settings.histories, threads.value_or(0), &token, quiet));
      });
  return experiments::calibration_json(result);
}

/// check_results(): the checks `wedge inspect` makes of a results file's metadata
/// (experiments::check_results_metadata); returns "" when it passes, else inspect's message (an
/// exit-3 error: damaged, foreign, newer format, another model).
std::string check_results(const std::string& path) {
  try {
    experiments::check_results_metadata(path);
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

/// check_categories(): a categorical field's `categories` attribute that differs from the
/// model's, in the words of `wedge inspect` (experiments::categories_problem), or "".
std::string check_categories(const std::string& path) {
  return experiments::categories_problem(path);
}

/// resume_refusal(): why this build's `wedge run --resume` refuses the partial file at `path`
/// whatever the command (experiments::resume_refusal_of_file, in --resume's words), or "" (also
/// for a complete file, and for one these reads refuse: the caller's own checks word that).
std::string resume_refusal(const std::string& path) {
  try {
    return experiments::resume_refusal_of_file(path);
  } catch (const Error&) {
    return {};
  }
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

namespace {

/// Raised when a call is cancelled through its CancelToken (not by Ctrl-C, which raises
/// KeyboardInterrupt).
struct Cancelled : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// `name` names `text` in error messages (as the command line names a file).
experiments::ExperimentSource source_of(const std::string& text, const std::string& path,
                                        const std::vector<std::string>& sets,
                                        const std::string& name) {
  experiments::ExperimentSource source;
  source.file = path;
  source.text = text;
  source.text_name = name;
  source.sets = sets;
  source.set_option = "set item";  // errors in Python's words, not "--set"
  return source;
}

unsigned checked_threads(std::optional<unsigned> threads) {
  if (threads && (*threads < 1 || *threads > 1024))
    throw ConfigError("threads must be in [1, 1024]");
  return threads.value_or(0);
}

/// compare(): both sides resolved (A's runs and seed for both), run paired; returns (the document
/// of `wedge compare --json`, A's resolved TOML, B's resolved TOML).
py::tuple compare(const std::string& a_text, const std::string& a_path, const std::string& b_text,
                  const std::string& b_path, const std::vector<std::string>& sets,
                  const std::vector<std::string>& sets_a, const std::vector<std::string>& sets_b,
                  std::optional<std::uint64_t> runs, std::optional<std::uint64_t> seed,
                  std::optional<unsigned> threads, const engine::CancelToken* cancel,
                  const std::string& a_name, const std::string& b_name,
                  std::optional<std::string> base) {
  auto a = source_of(a_text, a_path, sets, a_name);
  a.sets.insert(a.sets.end(), sets_a.begin(), sets_a.end());
  auto b = source_of(b_text, b_path, sets, b_name);
  b.sets.insert(b.sets.end(), sets_b.begin(), sets_b.end());
  a.text_base = b.text_base = base;  // a dict may use `extends`, relative to this directory
  a.runs = runs;
  a.seed = seed;
  experiments::CompareOptions options;
  options.threads = checked_threads(threads);
  const auto [ea, eb] = experiments::resolve_pair(a, b);
  const auto c =
      run_interruptible<experiments::Comparison>(cancel, [&](const engine::CancelToken& token) {
        return experiments::compare(ea, eb, options, &token);
      });
  if (c.interrupted) throw Cancelled("compare: cancelled");
  return py::make_tuple(experiments::comparison_json(ea, eb, c), experiments::to_toml(ea),
                        experiments::to_toml(eb));
}

/// run(): simulate() without records and with a CancelToken; returns (results JSON, resolved TOML).
py::tuple run(const std::string& text, const std::string& path,
              const std::vector<std::string>& sets, std::optional<std::uint64_t> runs,
              std::optional<std::uint64_t> seed, std::optional<unsigned> threads,
              const engine::CancelToken* cancel, const std::string& name) {
  auto source = source_of(text, path, sets, name);
  source.runs = runs;
  source.seed = seed;
  experiments::SessionOptions options;
  options.threads = checked_threads(threads);
  experiments::Session session(experiments::resolve(source), options);
  const auto result =
      run_interruptible<experiments::SessionResult>(cancel, [&](const engine::CancelToken& token) {
        return session.execute({&token, nullptr, nullptr});
      });
  if (result.interrupted) throw Cancelled("run: cancelled");
  const auto& e = session.experiment();
  return py::make_tuple(experiments::results_json(e, result.summaries), experiments::to_toml(e));
}

/// find_run(): the first replicate of `point` whose record meets every "field=category"
/// condition, among the experiment's runs (None if none does).
std::optional<std::uint64_t> find_run(const std::string& text, const std::string& path,
                                      const std::vector<std::string>& sets,
                                      std::optional<std::uint64_t> runs,
                                      std::optional<std::uint64_t> seed, std::uint32_t point,
                                      const std::vector<std::string>& where,
                                      std::optional<unsigned> threads,
                                      const engine::CancelToken* cancel, const std::string& name) {
  auto source = source_of(text, path, sets, name);
  source.runs = runs;
  source.seed = seed;
  const auto e = experiments::resolve(source);
  std::vector<experiments::RunCondition> conditions;
  for (const auto& w : where) conditions.push_back(experiments::parse_condition(w));
  const unsigned t = checked_threads(threads);
  bool cancelled = false;
  const auto found = run_interruptible<std::optional<std::uint64_t>>(
      cancel, [&](const engine::CancelToken& token) {
        return experiments::find_run(e, point, conditions, t, &token, &cancelled);
      });
  if (cancelled) throw Cancelled("find_run: cancelled");
  return found;
}

/// resolve(): the experiment with its overrides, checked as `wedge run` checks it (ConfigError);
/// nothing runs. Returns (the resolved experiment as TOML, the number of design points).
py::tuple resolve(const std::string& text, const std::string& path,
                  const std::vector<std::string>& sets, std::optional<std::uint64_t> runs,
                  std::optional<std::uint64_t> seed, const std::string& name) {
  auto source = source_of(text, path, sets, name);
  source.runs = runs;
  source.seed = seed;
  const auto e = experiments::resolve(source);
  return py::make_tuple(experiments::to_toml(e), e.points.size());
}

/// trace(): one run's story, as `wedge trace` tells it; returns (JSON, text).
py::tuple trace(const std::string& text, const std::string& path,
                const std::vector<std::string>& sets, std::optional<std::uint64_t> seed,
                std::uint32_t point, std::uint64_t replicate, const std::string& name) {
  auto source = source_of(text, path, sets, name);
  source.seed = seed;
  if (replicate >= engine::MAX_REPLICATES) {
    throw ConfigError(
        fmt::format("replicate = {}: must be in [0, {}]", replicate, engine::MAX_REPLICATES - 1));
  }
  const auto e = experiments::resolve(source);
  const auto story = experiments::trace(e, point, replicate);
  char* buffer = nullptr;
  std::size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  if (out == nullptr) throw std::runtime_error("trace: open_memstream failed");
  experiments::print_story(out, story, e.points[point]);  // the narrative `wedge trace` prints
  std::fclose(out);
  std::string told(buffer, size);
  std::free(buffer);
  return py::make_tuple(
      experiments::trace_json(story, e.points[point], e.run.seed, point, replicate), told);
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
  m.def("simulate", &simulate, py::arg("experiment_text"), py::arg("experiment_path"),
        py::arg("runs"), py::arg("seed"), py::arg("threads"), py::arg("sets"), py::arg("crn"),
        py::arg("precision"), py::arg("records"), py::arg("max_runs") = py::none(),
        py::arg("base") = py::none(),
        "Runs an experiment; returns (results JSON text, per-run columns dict, resolved experiment "
        "TOML).");
  m.def("run_ranges", &run_ranges,
        "The run settings' valid ranges, as the command line checks them: {name: (kind, min, max, "
        "text)}.");
  m.def("calibrate_ranges", &calibrate_ranges,
        "The calibration settings' valid ranges: {name: (kind, min, max, text)}.");
  m.def("calibrate", &calibrate, py::arg("experiment_text"), py::arg("experiment_path"),
        py::arg("histories"), py::arg("design"), py::arg("points"), py::arg("runs"),
        py::arg("refine"), py::arg("refine_points"), py::arg("defensive"), py::arg("draws"),
        py::arg("top"), py::arg("seed"), py::arg("threads"), py::arg("quiet"),
        "History matching; returns the JSON document of `wedge calibrate --json`.");
  static py::exception<Cancelled> cancelled(m, "Cancelled", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Cancelled& e) {
      cancelled(e.what());
    }
  });
  py::class_<engine::CancelToken, std::unique_ptr<engine::CancelToken>>(
      m, "CancelToken",
      "Cancels the call it is passed to (compare, run, find_run) from any thread.")
      .def(py::init([] { return std::make_unique<engine::CancelToken>(); }))
      .def(
          "cancel", [](engine::CancelToken& t) { t.request(); },
          "Stop the call at its next wave boundary.")
      .def_property_readonly("cancelled", &engine::CancelToken::requested);
  m.def("compare", &compare, py::arg("a_text"), py::arg("a_path"), py::arg("b_text"),
        py::arg("b_path"), py::arg("sets"), py::arg("sets_a"), py::arg("sets_b"), py::arg("runs"),
        py::arg("seed"), py::arg("threads"), py::arg("cancel") = nullptr,
        py::arg("a_name") = "<experiment dict>", py::arg("b_name") = "<experiment dict>",
        py::arg("base") = py::none(),
        "Paired comparison; returns (the JSON of `wedge compare --json`, A's resolved TOML, B's "
        "resolved TOML).");
  m.def("run", &run, py::arg("text"), py::arg("path"), py::arg("sets"), py::arg("runs"),
        py::arg("seed"), py::arg("threads"), py::arg("cancel") = nullptr,
        py::arg("name") = "<experiment dict>",
        "Runs an experiment (cancellable); returns (results JSON, resolved experiment TOML).");
  m.def("find_run", &find_run, py::arg("text"), py::arg("path"), py::arg("sets"), py::arg("runs"),
        py::arg("seed"), py::arg("point"), py::arg("where"), py::arg("threads"),
        py::arg("cancel") = nullptr, py::arg("name") = "<experiment dict>",
        "The first replicate of `point` whose record meets every 'field=category' condition, or "
        "None.");
  m.def("resolve", &resolve, py::arg("text"), py::arg("path"), py::arg("sets"), py::arg("runs"),
        py::arg("seed"), py::arg("name") = "<experiment dict>",
        "Checks and resolves an experiment without running it; returns (resolved TOML, design "
        "points).");
  m.def("trace", &trace, py::arg("text"), py::arg("path"), py::arg("sets"), py::arg("seed"),
        py::arg("point"), py::arg("replicate"), py::arg("name") = "<experiment dict>",
        "One run's story; returns (JSON, text) as `wedge trace` gives them.");
  m.def("fields", &fields, "The run record's fields.");
  m.def("check_results", &check_results, py::arg("path"),
        "The checks of `wedge inspect` on a results file's metadata: '' when they pass, else "
        "inspect's message.");
  m.def("check_categories", &check_categories, py::arg("path"),
        "A categories attribute that differs from the model's, in inspect's words, or ''.");
  m.def("resume_refusal", &resume_refusal, py::arg("path"),
        "Why this build's --resume refuses the partial file whatever the command, or ''.");
  m.def("parameters", &parameters,
        "Every scenario key: key, section, type, default, min, max, range, meaning.");
  m.attr("__version__") = VERSION;
  m.attr("git_commit") = GIT_COMMIT;
  m.attr("kernel") = agents::kernel_name();
}

// Reading a results file back (`wedge inspect`, and the shards of `wedge merge`): the file through
// the checked layer (output/hdf5.hpp), its stored experiment without touching the file system.
#include "agents/params.hpp"
#include "agents/tug_of_war.hpp"
#include "engine/error.hpp"
#include "experiments/loader.hpp"
#include "experiments/session.hpp"
#include "output/dimension_scales.hpp"
#include "output/results.hpp"
#include "output/rounds.hpp"
#include "output/untrusted.hpp"
#include "wedge/version.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <bit>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace wedge::experiments {

namespace {

/// Refuses a stored experiment that names another file, before it is parsed for real (parsing a
/// list design's `csv` reads that file). The check parses a copy whose non-ASCII bytes are
/// replaced by 'x': no key is made or unmade by that ("csv" and "extends" are ASCII, and escapes
/// are too), and toml++ never sees the non-ASCII input that Debian 12's version mishandles
/// (docs/reliability.md); the real parse, with wedge's own checks, comes after.
void refuse_file_references(const output::ResultsInfo& info) {
  std::string ascii = info.experiment;
  for (char& c : ascii) {
    if (static_cast<unsigned char>(c) >= 0x80) c = 'x';
  }
  toml::table table;
  try {
    table = toml::parse(ascii);
  } catch (const toml::parse_error&) {
    return;  // not TOML: parse_experiment says where
  }
  const auto refuse = [&](const std::string& what) {
    throw OutputError(fmt::format(
        "{}: damaged: attribute experiment: {}; a stored experiment is self-contained and "
        "reading a results file opens no other file",
        info.path, what));
  };
  if (table.contains("extends")) refuse("it names another experiment file (extends)");
  if (const auto* sweep = table.get_as<toml::table>("sweep");
      sweep != nullptr && sweep->contains("csv")) {
    const auto* name = sweep->get_as<std::string>("csv");
    refuse(fmt::format("its list design names a CSV file{}",
                       name != nullptr ? " (" + name->get() + ")" : std::string()));
  }
}

}  // namespace

Experiment stored_experiment(const output::ResultsInfo& info) {
  refuse_file_references(info);
  Experiment e;
  try {
    e = parse_experiment(info.experiment, info.path + " (experiment attribute)",
                         /*read_files=*/false);
    resolve_design(e);
  } catch (const ConfigError& err) {
    throw OutputError(fmt::format("{}: damaged: attribute experiment: {}", info.path, err.what()));
  }
  if (e.points.size() != info.summaries.size()) {
    throw OutputError(
        fmt::format("{}: damaged: /design: {} design points, but the experiment has {}", info.path,
                    info.summaries.size(), e.points.size()));
  }
  if (e.swept_keys != info.swept_keys) {
    throw OutputError(fmt::format(
        "{}: damaged: /design attribute keys: the swept keys differ from the experiment's",
        info.path));
  }
  // The design is named and placed by the stored experiment alone (the swept keys' values or
  // ranges, the number of points and, for lhs, sobol and saltelli, the seed), all of it in the
  // stored TOML with every number written to round-trip; so each /design value, which no checksum
  // covers, must be the stored experiment's bit for bit (a changed value would label correct
  // numbers with a wrong setting in every table and in xarray).
  if (info.design != design_name(e.sweep.design)) {
    throw OutputError(fmt::format(
        "{}: damaged: attribute design: is '{}', but the stored experiment's design is '{}'",
        info.path, info.design, design_name(e.sweep.design)));
  }
  for (std::size_t k = 0; k < e.swept_keys.size(); ++k) {
    for (std::size_t p = 0; p < e.points.size(); ++p) {
      const double stored = info.values[p][k];
      const double derived = e.values[p][k];
      if (std::bit_cast<std::uint64_t>(stored) != std::bit_cast<std::uint64_t>(derived)) {
        // A file of another build may be intact and derived its design differently (designs
        // changed on 2026-11-29: Sobol/Saltelli scrambling, exact grid steps): say so rather
        // than call it damaged alone.
        const std::string other_build =
            info.git_commit == GIT_COMMIT
                ? std::string()
                : fmt::format(
                      " (or the file is intact and was written by another wedge build, {} {}, "
                      "whose {} design differed from this build's, {} {}: rerun the experiment "
                      "with this build to compare)",
                      info.engine_version, info.git_commit, design_name(e.sweep.design), VERSION,
                      GIT_COMMIT);
        throw OutputError(fmt::format(
            "{}: damaged: /design/{}: point {}: holds {}, but the stored experiment's {} design "
            "gives {}{}",
            info.path, e.swept_keys[k], p, stored, design_name(e.sweep.design), derived,
            other_build));
      }
    }
  }
  for (std::size_t p = 0; p < e.points.size(); ++p) {
    agents::Scenario s = e.base;
    for (std::size_t k = 0; k < e.swept_keys.size(); ++k) {
      const auto param =
          agents::require_parameter(e.base, e.swept_keys[k]);  // the file's factions' keys too
      const double v = info.values[p][k];
      if (!param.in_range(v)) {
        throw OutputError(fmt::format("{}: damaged: /design/{}: point {}: {} is outside {}",
                                      info.path, e.swept_keys[k], p, v, param.range_text()));
      }
      param.set(s, v);
    }
    try {
      s.validate();
    } catch (const ConfigError& err) {
      throw OutputError(
          fmt::format("{}: damaged: /design: point {}: {}", info.path, p, err.what()));
    }
    e.points[p] = s;
    e.values[p] = info.values[p];
  }
  return e;
}

namespace {

/// inspect_results without the child process: what the child and then the parent run.
Inspection read_inspection(const std::string& path) {
  Inspection out;
  out.info = output::read_results(path, engine::FieldLayout::from(agents::TugOfWar::fields()));
  if (out.info.model != agents::TugOfWar::NAME) {
    throw OutputError(fmt::format("{}: results of model '{}', not '{}'", path, out.info.model,
                                  agents::TugOfWar::NAME));
  }
  out.experiment = stored_experiment(out.info);
  // The coordinates netCDF readers label the numbers with, derived from what was just checked:
  // in complete files only, since the writer adds them before it sets `complete`, and a run
  // killed while adding them leaves a partial file that --resume finishes, not a damaged one.
  // --store rounds: /rounds is checked as /runs is (output/rounds.hpp), before the scales that
  // label its columns (a column of another shape is named as such, not as a detached one).
  if (output::has_rounds(path, output::h5::LockCheck::others)) {
    output::check_rounds(path, out.info.runs_done, output::h5::LockCheck::others);
    out.rounds_stored = true;
  }
  if (out.info.complete) output::verify_dimension_scales(path);
  return out;
}

/// What HDF5 checks only when a chunk is read (each chunk's Fletcher-32 checksum), and what the
/// metadata alone cannot show: the blocks and every per-run record of the runs done (verify_runs,
/// as merge and --resume check them) and every stored round (verify_rounds). Records are read in
/// slices, so memory stays bounded whatever the file's size.
void verify_records(Inspection& out, const std::function<bool()>& stop) {
  const auto layout = engine::FieldLayout::from(agents::TugOfWar::fields());
  (void)output::verify_runs(out.info, layout, output::h5::LockCheck::others, stop);
  if (out.rounds_stored) {
    output::verify_rounds(out.info.path, out.info.runs_done, output::h5::LockCheck::others);
  }
  out.records_verified = out.info.store_runs;
}

}  // namespace

void check_results_metadata(const std::string& path) {
  const Inspection out = read_inspection(path);
  (void)output::verify_blocks(out.info, engine::FieldLayout::from(agents::TugOfWar::fields()),
                              output::h5::LockCheck::others);
}

// What the file alone rules out for --resume (Session::Output::resume throws it; inspect and
// wedge.open advise from it): here, with inspect, so that every reader of a file links it.
std::string resume_refusal(const output::ResultsInfo& info) {
  if (info.model != agents::TugOfWar::NAME || info.model_version != agents::TugOfWar::VERSION) {
    return fmt::format(
        "--resume: {} holds results of model {} v{}, which this build (model {} v{}) cannot "
        "continue: finish it with the build that wrote it (git {}), or use --force to start over",
        info.path, info.model, info.model_version, agents::TugOfWar::NAME,
        agents::TugOfWar::VERSION, info.git_commit);
  }
  // A build that computes runs differently would append runs that differ in their last digits
  // from the file's (docs/reliability.md): exit 3, naming both builds.
  return output::arithmetic_problem(info, "--resume", GIT_COMMIT);
}

std::string stored_settings_conflict(const output::ResultsInfo& info, const Experiment& stored) {
  std::vector<std::string> conflicts;
  if (stored.run.seed != info.seed) {
    conflicts.push_back(
        fmt::format("run.seed = {}, but its attribute seed is {}", stored.run.seed, info.seed));
  }
  if (!stored.run.precision && stored.run.runs != info.replicates) {
    conflicts.push_back(fmt::format("run.runs = {}, but its attribute replicates is {}",
                                    stored.run.runs, info.replicates));
  }
  if (stored.run.crn != info.crn) {
    conflicts.push_back(
        fmt::format("run.crn = {}, but its attribute crn is {}", stored.run.crn, info.crn ? 1 : 0));
  }
  if (conflicts.empty()) return {};
  std::string list;
  for (const auto& c : conflicts) list += (list.empty() ? "" : "; ") + c;
  return fmt::format(
      "--resume: {} contradicts itself: its stored experiment says {} (the file was edited, or "
      "is damaged), so --resume refuses it with any options; rerun with --force to start over",
      info.path, list);
}

std::string resume_refusal(const output::ResultsInfo& info, const Experiment& stored) {
  if (auto refusal = resume_refusal(info); !refusal.empty()) return refusal;
  if (auto conflict = stored_settings_conflict(info, stored); !conflict.empty()) return conflict;
  if (to_toml(stored) != info.experiment) {
    return fmt::format(
        "--resume: {} holds an experiment this build writes otherwise (written by another "
        "version of wedge, git {}; this build is git {}), so it refuses it as a different "
        "experiment; resume it with the build that wrote it, or rerun with --force to start over",
        info.path, info.git_commit, GIT_COMMIT);
  }
  return {};
}

std::string resume_refusal_of_file(const std::string& path) {
  const Inspection out = read_inspection(path);
  return out.info.complete ? std::string() : resume_refusal(out.info, out.experiment);
}

std::string categories_problem(const std::string& path) {
  const auto layout = engine::FieldLayout::from(agents::TugOfWar::fields());
  // The C++ reader's own order first (HDF5 takes inspect's path through a damaged file: what
  // crashes inspect crashes here too, in wedge.open's child process); its first problem is
  // reported only when it is a categories problem, the rest is the Python reader's to word.
  try {
    (void)output::read_results(path, layout, output::h5::LockCheck::others);
  } catch (const OutputError& err) {
    const std::string problem = output::categories_problem(path, layout);
    return problem == err.what() ? problem : std::string();
  }
  return {};
}

Inspection inspect_results(const std::string& path, const std::function<bool()>& stop) {
  // The user knows the --out name; while that run is written (or after it was interrupted) only
  // FILE.partial exists, and reading it tells which (being written, or interrupted).
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) &&
      std::filesystem::is_regular_file(path + ".partial", ec)) {
    return inspect_results(path + ".partial", stop);
  }
  // A file from elsewhere may crash or exhaust the HDF5 library itself: read it in a child
  // process first (output/untrusted.hpp); HDF5 then takes the same path here.
  output::untrusted::probe(path, [&] { (void)read_inspection(path); });
  Inspection out = read_inspection(path);
  verify_records(out, stop);
  return out;
}

}  // namespace wedge::experiments

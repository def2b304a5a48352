#include "experiments/mpi.hpp"

#include "engine/error.hpp"
#include "experiments/session.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <limits>

#if WEDGE_WITH_MPI
#include "experiments/mpi_library.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#endif

namespace wedge::experiments::mpi {

bool available() { return WEDGE_WITH_MPI != 0; }

#if WEDGE_WITH_MPI
namespace {

/// The MPI library's calls, once init loaded them (mpi_library.hpp); null before.
const WedgeMpiCalls* calls = nullptr;

/// Loads libwedge_mpi.so from the directory of this executable (where the build puts it beside
/// `wedge`), else by the dynamic loader's search path. RTLD_GLOBAL: OpenMPI's own components,
/// which it dlopens, refer to libmpi's symbols. Null with `error` set when it cannot.
const WedgeMpiCalls* load_calls(std::string& error) {
  std::string path = "libwedge_mpi.so";
  std::string exe(4096, '\0');
  const ssize_t n = ::readlink("/proc/self/exe", exe.data(), exe.size() - 1);
  if (n > 0) {
    exe.resize(static_cast<std::size_t>(n));
    const auto slash = exe.rfind('/');
    if (slash != std::string::npos) {
      const std::string beside = exe.substr(0, slash + 1) + path;
      if (::access(beside.c_str(), R_OK) == 0) path = beside;
    }
  }
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    error = why != nullptr ? why : path;
    return nullptr;
  }
  using Entry = const WedgeMpiCalls* (*)();
  const auto entry = reinterpret_cast<Entry>(::dlsym(handle, "wedge_mpi_calls"));
  const WedgeMpiCalls* table = entry != nullptr ? entry() : nullptr;
  if (table == nullptr || table->version != WEDGE_MPI_CALLS_VERSION) {
    error = path + " is not this build's MPI library (no wedge_mpi_calls of version " +
            std::to_string(WEDGE_MPI_CALLS_VERSION) + ")";
    return nullptr;
  }
  return table;
}

}  // namespace
#endif

World init(int* argc, char*** argv) {
  World world;
#if WEDGE_WITH_MPI
  // Only under a launcher: a plain `wedge` must not need an MPI runtime to start (nor load one:
  // the MPI library comes in by dlopen, here).
  const bool launched = std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr ||
                        std::getenv("PMI_SIZE") != nullptr || std::getenv("PMIX_RANK") != nullptr;
  if (!launched) return world;
  std::string error;
  calls = load_calls(error);
  if (calls == nullptr) {
    std::fprintf(stderr,
                 "error: started by an MPI launcher, but wedge's MPI library could not be "
                 "loaded: %s; copy libwedge_mpi.so (the build puts it beside wedge, e.g. "
                 "build/release/libwedge_mpi.so) next to this executable, or into a directory "
                 "of LD_LIBRARY_PATH\n",
                 error.c_str());
    std::exit(EXIT_FAILURE);
  }
  calls->init(argc, argv, &world.rank, &world.size);
  world.active = true;
#else
  (void)argc;
  (void)argv;
#endif
  return world;
}

void finalize(const World& world) {
#if WEDGE_WITH_MPI
  if (world.active) calls->finalize();
#else
  (void)world;
#endif
}

bool all_ok(const World& world, bool ok) {
#if WEDGE_WITH_MPI
  if (world.active && world.size > 1) {
    return calls->all_min(ok ? 1 : 0) == 1;
  }
#else
  (void)world;
#endif
  return ok;
}

void sum(const World& world, std::vector<std::uint64_t>& data) {
#if WEDGE_WITH_MPI
  if (world.active && world.size > 1) {
    calls->sum_u64(data.data(), static_cast<int>(data.size()));
  }
#else
  (void)world;
  (void)data;
#endif
}

std::vector<std::byte> gather_all_bytes(const World& world, const std::vector<std::byte>& mine) {
#if WEDGE_WITH_MPI
  if (world.active && world.size > 1) {
    if (mine.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
      throw OutputError("MPI: a rank's share of a batch exceeds 2 GB; use smaller batches");
    }
    const int n = static_cast<int>(mine.size());
    std::vector<int> counts(static_cast<std::size_t>(world.size)),
        offsets(static_cast<std::size_t>(world.size));
    calls->allgather_int(n, counts.data());
    long long total = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      offsets[r] = static_cast<int>(total);
      total += counts[r];
    }
    if (total > std::numeric_limits<int>::max())
      throw OutputError("MPI: a batch's gathered state exceeds 2 GB");
    std::vector<std::byte> all(static_cast<std::size_t>(total));
    calls->allgatherv_bytes(mine.data(), n, all.data(), counts.data(), offsets.data());
    return all;
  }
#else
  (void)world;
#endif
  return mine;
}

void abort(const World& world, int code) {
#if WEDGE_WITH_MPI
  if (world.active) calls->abort(code);
#else
  (void)world;
#endif
  std::exit(code);
}

BatchExecutor shared_batches(const World& world) {
  return [world](std::span<const engine::Block> batch, std::vector<engine::Summary>& global,
                 const engine::RunOptions& options, RecordSink* sink, const LocalRunner& local) {
    const std::size_t nb = batch.size();
    const auto rank = static_cast<std::size_t>(world.rank);
    const auto size = static_cast<std::size_t>(world.size);
    const std::size_t first = nb * rank / size;
    const auto mine = batch.subspan(first, nb * (rank + 1) / size - first);
    // This rank's blocks' moments, as the runner summarised them, on their way to the file.
    struct Moments final : RecordSink {
      RecordSink* next = nullptr;
      std::vector<engine::ContinuousStats::Raw> moments;
      void consume(std::span<const engine::Block> blocks,
                   std::span<const agents::RunRecord> records,
                   std::span<const engine::Summary> summaries) override {
        const auto state = engine::SummaryState::pack(summaries);
        moments.insert(moments.end(), state.moments.begin(), state.moments.end());
        if (next != nullptr) next->consume(blocks, records, summaries);
      }
    } tee;
    tee.next = sink;
    engine::RunOptions inner = options;
    inner.cancel = nullptr;    // every rank finishes every batch; cancellation is agreed below
    inner.progress = nullptr;  // progress counts the whole job, below
    std::vector<engine::Summary> local_summaries(global.size(),
                                                 engine::Summary(global.front().layout_ptr()));
    engine::RunReport report = local(mine, local_summaries, inner, &tee);

    auto integers = engine::SummaryState::pack(local_summaries);
    sum(world, integers.integers);
    for (std::size_t p = 0; p < global.size(); ++p) integers.add_integers(p, global[p]);
    engine::SummaryState moments;
    moments.rows = nb;
    moments.moments = gather_all(world, tee.moments);
    if (moments.moments.size() != nb * global.front().layout().continuous.size()) {
      throw OutputError("MPI: the ranks' block states do not add up to the batch");
    }
    for (std::size_t b = 0; b < nb; ++b) moments.merge_moments(b, global[batch[b].point]);

    report.runs_done = 0;
    for (const auto& b : batch) report.runs_done += b.count;
    report.blocks_done = nb;
    if (options.progress != nullptr)
      options.progress->update(options.progress_offset + report.runs_done);
    const bool stop = options.cancel != nullptr && options.cancel->requested();
    report.interrupted = !all_ok(world, !stop);
    return report;
  };
}

DistributedResult run_distributed(const World& world, const Experiment& e, SessionOptions options,
                                  const DistributedHooks& hooks, int fail_rank) {
  namespace fs = std::filesystem;
  const std::string out = options.output.path;
  const std::string command_line = options.output.command_line;
  const bool precision = e.run.precision.has_value();
  if (out.empty())
    throw ConfigError(
        "under mpirun, --out FILE.h5 is needed (the ranks' results are merged into it)");
  if (options.shard.count != 1) throw ConfigError("--shard and mpirun cannot be combined");
  check_output_settings(e, options.output);  // before the shard directory is created
  check_inputs_not_written(e, out);
  if (!options.output.resume) check_output_path(out, options.output.force, false);
  const std::string dir = out + ".shards";
  std::error_code ec;
  fs::create_directories(dir, ec);
  const auto part = [&](int r) { return fmt::format("{}/part-{}-of-{}.h5", dir, r, world.size); };
  options.shard = {static_cast<std::uint64_t>(world.rank), static_cast<std::uint64_t>(world.size)};
  options.output.path = part(world.rank);
  if (!options.output.resume)
    options.output.force = true;  // a rank's own part, under a directory checked above
  if (precision) options.batch_executor = shared_batches(world);
  if (fail_rank == world.rank) {
    throw OutputError(fmt::format("rank {}: injected failure (--test-fail-rank)", world.rank));
  }

  DistributedResult result;
  // Resuming: a rank whose part is already complete has nothing left to do.
  if (!(options.output.resume && fs::exists(options.output.path, ec))) {
    Session session(e, std::move(options));
    const std::uint64_t already = session.open();
    if (hooks.opened) hooks.opened(session, already);
    result.session = session.execute(hooks.execution);
    if (result.session.interrupted) return result;
  }
  if (!all_ok(world, true))
    throw OutputError(fmt::format("rank {}: another rank failed", world.rank));
  // Rank 0 merges; the other ranks wait for its outcome, so that a failed merge ends the job
  // through MPI_Finalize on every rank (rank 0 reports it) instead of an MPI_Abort racing the
  // other ranks' MPI_Finalize.
  if (world.rank != 0) {
    result.failure_agreed = !all_ok(world, true);
    return result;
  }
  try {
    std::vector<std::string> parts;
    for (int r = 0; r < world.size; ++r) parts.push_back(part(r));
    result.merged = merge_results(parts, out, true, command_line);
    // The merged file gets the precision attributes the rank files carry (the summaries are
    // global).
    if (result.session.precision && !result.session.interrupted)
      write_precision_attributes(out, *result.session.precision);
    result.parts = parts.size();
    fs::remove_all(dir, ec);
  } catch (...) {
    all_ok(world, false);
    result.failure_agreed = true;
    result.error = std::current_exception();
    return result;
  }
  all_ok(world, true);
  return result;
}

}  // namespace wedge::experiments::mpi

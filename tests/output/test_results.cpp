#include "../engine/toy_model.hpp"
#include "../experiments/temp_dir.hpp"
#include "agents/tug_of_war.hpp"
#include "coin_file.hpp"
#include "engine/error.hpp"
#include "output/results_sink.hpp"

#include <fmt/format.h>
#include <tbb/global_control.h>
#include <catch2/catch.hpp>

using namespace wedge;
using wedge::test::CoinModel;

namespace {

constexpr auto meta_for = test::coin_metadata;

struct Written {
  std::vector<engine::Summary> summaries;
  std::vector<test::CollectingSink<CoinModel::Record>::Row> rows;
};

/// Runs the coin model over `blocks`, writing to `writer`; returns what the engine saw.
Written run_into(output::ResultsWriter& writer, std::span<const engine::Block> blocks,
                 std::vector<engine::Summary> start, std::uint64_t done) {
  const std::vector<CoinModel::Params> params{{0.25, 9}, {0.5, 9}, {0.75, 9}};
  output::ResultsSink<CoinModel> sink(writer, start, done, 0.0, 0.0);  // checkpoint every wave
  engine::RunOptions options;
  options.seed = 42;
  options.crn = true;
  options.wave_blocks = 3;
  Written w{start, {}};
  engine::run_blocks<CoinModel>(params, blocks, w.summaries, options, &sink);
  sink.finish(true);
  REQUIRE(sink.summaries().size() == w.summaries.size());
  for (std::size_t p = 0; p < w.summaries.size(); ++p)
    REQUIRE(sink.summaries()[p] == w.summaries[p]);
  return w;
}

}  // namespace

TEST_CASE("a results file round-trips every attribute, summary and run", "[output]") {
  test::TempDir dir;
  const auto path = dir.path("coins.h5");
  const auto layout = engine::FieldLayout::from(CoinModel::fields());
  const auto blocks = engine::make_blocks(engine::full_plan(3, 1000), 64);
  Written w;
  {
    output::ResultsWriter writer(path, meta_for(3, 1000, true), layout, 3);
    w = run_into(writer, blocks, engine::make_summaries<CoinModel>(3), 0);
    writer.close();
  }
  const auto info = output::read_results(path, layout);
  CHECK(info.format == "wedge-results");
  CHECK(info.format_version == output::FORMAT_VERSION);
  CHECK(info.model == "coins");
  CHECK(info.model_version == "1");
  CHECK(info.engine_version == "test");
  CHECK(info.git_commit == "abc");
  CHECK(info.arithmetic_version == output::ARITHMETIC_VERSION);  // always this build's
  CHECK(info.rng == "Philox4x32-10");
  CHECK(info.command_line == "wedge run 'x y'");
  CHECK(info.experiment == "[run]\nruns = 5\n");
  CHECK(info.design == "grid");
  CHECK(info.seed == 42);
  CHECK(info.crn);
  CHECK(info.threads == 2);
  CHECK(info.replicates == 1000);
  CHECK(info.runs_planned == 3000);
  CHECK(info.block_size == 64);
  CHECK(info.store_runs);
  CHECK(info.complete);
  CHECK(info.runs_done == 3000);
  CHECK(info.runs_stored == 3000);
  CHECK(info.created.size() == 20);  // 2026-11-25T09:36:33Z
  CHECK(info.swept_keys == std::vector<std::string>{"p"});
  CHECK(info.values == std::vector<std::vector<double>>{{0.25}, {0.5}, {0.75}});
  REQUIRE(info.summaries.size() == 3);
  for (std::size_t p = 0; p < 3; ++p) CHECK(info.summaries[p] == w.summaries[p]);

  // Per-run columns: categories stored by index (non-numeric labels), values as declared.
  const output::h5::File file(path);
  const auto runs = file.group("/runs");
  const auto point = runs.dataset("point").read<std::uint32_t>({3000});
  const auto replicate = runs.dataset("replicate").read<std::uint32_t>({3000});
  const auto parity = runs.dataset("parity").read<std::uint8_t>({3000});
  const auto fraction = runs.dataset("fraction").read<double>({3000});
  REQUIRE(point.size() == 3000);
  for (std::size_t i = 0; i < 3000; ++i) {
    REQUIRE(point[i] == i / 1000);
    REQUIRE(replicate[i] == i % 1000);
  }
  // Run (point 1, replicate 417) is the model applied to its stream (CRN: point key 0).
  engine::Stream s(engine::StreamKey{42, 0, 417});
  const auto rec = CoinModel::run({0.5, 9}, s);
  CHECK(parity[1417] == rec.heads % 2);
  CHECK(fraction[1417] == rec.fraction);
  const auto ds = runs.dataset("parity");
  CHECK(ds.attr_string("encoding") == "index");
  CHECK(ds.attr_strings("categories", 10) == std::vector<std::string>{"even", "odd"});
}

TEST_CASE("resume and merge refuse a file of another results arithmetic version, or none",
          "[output]") {
  output::ResultsInfo info;
  info.path = "f.h5.partial";
  info.git_commit = "v0.0.0-1-gabcdef0";
  info.arithmetic_version = output::ARITHMETIC_VERSION;
  CHECK_NOTHROW(output::check_arithmetic(info, "--resume", "v9.9.9-build"));
  info.arithmetic_version = output::ARITHMETIC_VERSION + 1;
  const auto other = fmt::format(
      "(arithmetic_version {}, git v0.0.0-1-gabcdef0) from this build's "
      "(arithmetic_version {}, git v9.9.9-build)",
      output::ARITHMETIC_VERSION + 1, output::ARITHMETIC_VERSION);
  CHECK_THROWS_AS(output::check_arithmetic(info, "--resume", "v9.9.9-build"), OutputError);
  CHECK_THROWS_WITH(output::check_arithmetic(info, "--resume", "v9.9.9-build"),
                    Catch::StartsWith("--resume: f.h5.partial was written by a build whose "
                                      "results arithmetic differs ") &&
                        Catch::Contains(other) &&
                        Catch::EndsWith("resume it with the build that wrote it (git "
                                        "v0.0.0-1-gabcdef0)"));
  CHECK_THROWS_WITH(output::check_arithmetic(info, "merge", "v9.9.9-build"),
                    Catch::StartsWith("merge: f.h5.partial") &&
                        Catch::Contains("rerun that shard with this build"));
  info.arithmetic_version.reset();  // a file written before the attribute existed
  CHECK_THROWS_WITH(output::check_arithmetic(info, "merge", "v9.9.9-build"),
                    Catch::Contains("(git v0.0.0-1-gabcdef0) that did not record its results "
                                    "arithmetic version, so it cannot be proven"));
}

TEST_CASE("numeric categories are stored as their values", "[output]") {
  const auto fields = engine::FieldLayout::from(agents::TugOfWar::fields());
  for (const auto& f : fields.categorical) {
    const bool numeric = f.name == "islands_promised" || f.name == "islands_transferred" ||
                         f.name == "straits_clause" || f.name == "alliance_clause" ||
                         f.name.ends_with("round") || f.name == "rounds";
    CHECK(output::numeric_categories(f) == numeric);
  }
}

TEST_CASE("a file continued from a checkpoint equals one written in one go", "[output]") {
  test::TempDir dir;
  const auto layout = engine::FieldLayout::from(CoinModel::fields());
  const auto blocks = engine::make_blocks(engine::full_plan(3, 1000), 64);
  const std::span<const engine::Block> all(blocks);
  {
    output::ResultsWriter whole(dir.path("whole.h5"), meta_for(3, 1000, true), layout, 3);
    run_into(whole, all, engine::make_summaries<CoinModel>(3), 0);
    whole.close();
  }
  // First part, then "interrupted": a partial file with the first 20 blocks.
  std::uint64_t first_runs = 0;
  for (std::size_t i = 0; i < 20; ++i) first_runs += blocks[i].count;
  {
    output::ResultsWriter part(dir.path("part.h5"), meta_for(3, 1000, true), layout, 3);
    output::ResultsSink<CoinModel> sink(part, engine::make_summaries<CoinModel>(3), 0, 0.0, 0.0);
    auto summaries = engine::make_summaries<CoinModel>(3);
    engine::RunOptions options;
    options.seed = 42;
    options.crn = true;
    engine::run_blocks<CoinModel>({{0.25, 9}, {0.5, 9}, {0.75, 9}}, all.subspan(0, 20), summaries,
                                  options, &sink);
    sink.finish(false);
    part.close();
  }
  auto info = output::read_results(dir.path("part.h5"), layout);
  CHECK_FALSE(info.complete);
  CHECK(info.runs_done == first_runs);
  {
    output::ResultsWriter resumed(dir.path("part.h5"), layout, info.runs_done);
    run_into(resumed, all.subspan(20), info.summaries, info.runs_done);
    resumed.close();
  }
  const auto a = output::read_results(dir.path("whole.h5"), layout);
  const auto b = output::read_results(dir.path("part.h5"), layout);
  CHECK(b.complete);
  CHECK(b.runs_done == 3000);
  for (std::size_t p = 0; p < 3; ++p) CHECK(a.summaries[p] == b.summaries[p]);
  const output::h5::File fa(dir.path("whole.h5"));
  const output::h5::File fb(dir.path("part.h5"));
  const auto ra = fa.group("/runs");
  const auto rb = fb.group("/runs");
  for (const char* column : {"point", "replicate"}) {
    CHECK(ra.dataset(column).read<std::uint32_t>({3000}) ==
          rb.dataset(column).read<std::uint32_t>({3000}));
  }
  CHECK(ra.dataset("parity").read<std::uint8_t>({3000}) ==
        rb.dataset("parity").read<std::uint8_t>({3000}));
  CHECK(ra.dataset("fraction").read<double>({3000}) == rb.dataset("fraction").read<double>({3000}));
}

TEST_CASE("summary-only files hold no per-run records", "[output]") {
  test::TempDir dir;
  const auto layout = engine::FieldLayout::from(CoinModel::fields());
  const auto blocks = engine::make_blocks(engine::full_plan(3, 500), 64);
  {
    output::ResultsWriter writer(dir.path("s.h5"), meta_for(3, 500, false), layout, 3);
    run_into(writer, blocks, engine::make_summaries<CoinModel>(3), 0);
    writer.close();
  }
  const auto info = output::read_results(dir.path("s.h5"), layout);
  CHECK_FALSE(info.store_runs);
  CHECK(info.runs_done == 1500);
  CHECK(info.runs_stored == 0);
  const output::h5::File file(dir.path("s.h5"));
  CHECK_FALSE(file.root().has("runs"));
}

TEST_CASE("summaries of two shards merge into the summary of the whole", "[output]") {
  const std::vector<CoinModel::Params> params{{0.3, 11}};
  const auto blocks = engine::make_blocks(engine::full_plan(1, 10'000), 128);
  const std::span<const engine::Block> all(blocks);
  engine::RunOptions options;
  options.seed = 9;
  auto whole = engine::make_summaries<CoinModel>(1);
  auto left = engine::make_summaries<CoinModel>(1);
  auto right = engine::make_summaries<CoinModel>(1);
  engine::run_blocks<CoinModel>(params, all, whole, options);
  engine::run_blocks<CoinModel>(params, all.subspan(0, 40), left, options);
  engine::run_blocks<CoinModel>(params, all.subspan(40), right, options);
  left[0].merge(right[0]);
  // Counts and histograms merge exactly; moments to rounding (the merge tree differs).
  CHECK(left[0].runs() == whole[0].runs());
  for (std::size_t f = 0; f < 2; ++f) {
    CHECK(std::vector<std::uint64_t>(left[0].counts(f).begin(), left[0].counts(f).end()) ==
          std::vector<std::uint64_t>(whole[0].counts(f).begin(), whole[0].counts(f).end()));
  }
  CHECK(left[0].continuous(0).histogram() == whole[0].continuous(0).histogram());
  CHECK(left[0].continuous(0).mean() == Approx(whole[0].continuous(0).mean()).epsilon(1e-13));
  CHECK(left[0].continuous(0).variance() ==
        Approx(whole[0].continuous(0).variance()).epsilon(1e-12));
}

TEST_CASE("foreign, newer, missing and non-HDF5 files are refused with what is wrong", "[output]") {
  test::TempDir dir;
  const auto layout = engine::FieldLayout::from(CoinModel::fields());
  const auto text = dir.write("text.h5", "not hdf5 at all");
  CHECK_THROWS_WITH(output::read_results(text, layout), Catch::Contains("not an HDF5 file"));
  {
    auto f = output::h5::create_file(dir.path("foreign.h5"));
    output::h5::set_attr(f, "format", std::string("something-else"));
  }
  CHECK_THROWS_WITH(output::read_results(dir.path("foreign.h5"), layout),
                    Catch::Contains("not a wedge results file"));
  {
    auto f = output::h5::create_file(dir.path("newer.h5"));
    output::h5::set_attr(f, "format", std::string("wedge-results"));
    output::h5::set_attr(f, "format_version", std::uint64_t{99});
  }
  CHECK_THROWS_WITH(output::read_results(dir.path("newer.h5"), layout),
                    Catch::Contains("format_version 99 is newer"));
  {
    auto f = output::h5::create_file(dir.path("stub.h5"));
    output::h5::set_attr(f, "format", std::string("wedge-results"));
    output::h5::set_attr(f, "format_version", std::uint64_t{1});
  }
  CHECK_THROWS_WITH(output::read_results(dir.path("stub.h5"), layout),
                    Catch::Contains("stub.h5: damaged: attribute model: missing"));
  CHECK_THROWS_AS(output::read_results(dir.path("none.h5"), layout), OutputError);
  CHECK_THROWS_WITH(output::ResultsWriter(dir.path("foreign.h5"), meta_for(1, 1, true), layout, 1),
                    Catch::Contains("cannot create"));
}

namespace {

/// Passes records on to a sink without taking observed fields (as a tee does): the sink then
/// observes and converts the records itself, on the writer thread.
template <class Record>
struct RecordsOnly : engine::RecordSink<Record> {
  engine::RecordSink<Record>* inner;
  explicit RecordsOnly(engine::RecordSink<Record>* sink) : inner(sink) {}
  void consume(std::span<const engine::Block> blocks, std::span<const Record> records,
               std::span<const engine::Summary> summaries) override {
    inner->consume(blocks, records, summaries);
  }
};

/// Every stored chunk of every /runs column, raw (the data and its Fletcher-32), in order.
std::vector<std::vector<unsigned char>> runs_chunks(const std::string& path,
                                                    const engine::FieldLayout& layout) {
  std::vector<std::string> names{"point", "replicate"};
  for (const auto& f : layout.categorical) names.push_back(f.name);
  for (const auto& f : layout.continuous) names.push_back(f.name);
  const output::h5::File file(path);
  std::vector<std::vector<unsigned char>> out;
  for (const auto& name : names) {
    const hid_t ds = H5Dopen2(file.id(), ("/runs/" + name).c_str(), H5P_DEFAULT);
    REQUIRE(ds >= 0);
    const hid_t space = H5Dget_space(ds);
    hsize_t count = 0;
    REQUIRE(H5Dget_num_chunks(ds, space, &count) >= 0);
    for (hsize_t c = 0; c < count; ++c) {
      hsize_t offset = 0, size = 0;
      unsigned mask = 0;
      haddr_t addr = 0;
      REQUIRE(H5Dget_chunk_info(ds, space, c, &offset, &mask, &addr, &size) >= 0);
      std::vector<unsigned char> raw(size);
      std::uint32_t filters = 0;
      REQUIRE(H5Dread_chunk(ds, H5P_DEFAULT, &offset, &filters, raw.data()) >= 0);
      out.push_back(std::move(raw));
    }
    H5Sclose(space);
    H5Dclose(ds);
  }
  return out;
}

}  // namespace

TEST_CASE("records converted by the workers are stored as the writer thread would store them",
          "[output]") {
  // The model's own block path (observed 256 runs at a time), its mapped and identity category
  // columns and float32 values: the workers' columns (ResultsSink takes the observed fields)
  // against the same records observed and converted on the writer thread, chunk by chunk,
  // checksums included; 2 points x 80,000 runs in blocks of 1,000 and waves of 7 blocks, so
  // chunks of 65,536 rows straddle waves (written partly through HDF5's cache, partly directly).
  test::TempDir dir;
  const auto layout = engine::FieldLayout::from(agents::TugOfWar::fields());
  const std::uint64_t reps = 80000;
  const auto blocks = engine::make_blocks(engine::full_plan(2, reps), 1000);
  agents::Scenario coercive;
  coercive.dulles.tact = 0.2;
  const std::vector<agents::Scenario> params{agents::Scenario{}, coercive};
  output::Metadata meta = test::coin_metadata(2, reps, true);
  meta.block_size = 1000;
  const auto write = [&](const std::string& name, bool through_records) {
    tbb::global_control control(tbb::global_control::max_allowed_parallelism, 2);
    output::ResultsWriter writer(dir.path(name), meta, layout, 2);
    output::ResultsSink<agents::TugOfWar> sink(writer, engine::make_summaries<agents::TugOfWar>(2),
                                               0, 0.0);
    RecordsOnly<agents::RunRecord> records(&sink);
    auto summaries = engine::make_summaries<agents::TugOfWar>(2);
    engine::RunOptions options;
    options.seed = 5;
    options.wave_blocks = 7;
    const auto report = engine::run_blocks<agents::TugOfWar>(
        params, blocks, summaries, options,
        through_records ? static_cast<engine::RecordSink<agents::RunRecord>*>(&records) : &sink);
    REQUIRE(report.runs_done == 2 * reps);
    sink.finish(true);
    writer.close();
    return runs_chunks(dir.path(name), layout);
  };
  const auto workers = write("workers.h5", false);
  const auto writer_thread = write("writer.h5", true);
  CHECK(workers.size() == (2 + layout.categorical.size() + layout.continuous.size()) * 3);
  REQUIRE(writer_thread.size() == workers.size());
  std::size_t differ = 0;  // (counted: Catch would print every byte of both)
  for (std::size_t k = 0; k < workers.size(); ++k) differ += workers[k] != writer_thread[k];
  CHECK(differ == 0);
  // Both are the records: the file reads back, every checksum checked, and agrees.
  const auto info = output::read_results(dir.path("workers.h5"), layout);
  CHECK(info.complete);
  CHECK(output::verify_runs(info, layout).size() == blocks.size());
}

TEST_CASE("convert_runs stores every kind of column as its values, at any row offset and count",
          "[output]") {
  // 21 categorical columns (more than one 16-column group of the SSE2 path): category indices
  // stored as they are, affine maps (2 x index, index + 1, 3 x index + 5), a map that is not
  // affine, negative labels, uint16 columns (indices and values); float32 and float64 values.
  // Rows converted in pieces that start and end off the 16-row groups, checked one by one
  // against the labels.
  const auto categorical = [](std::string name, std::vector<std::string> labels) {
    return engine::FieldSpec{
        std::move(name),  engine::FieldKind::categorical, "", "", engine::StorageType::uint8,
        std::move(labels)};
  };
  const auto labels = [](int count, int scale, int offset) {
    std::vector<std::string> out;
    for (int i = 0; i < count; ++i) out.push_back(std::to_string(scale * i + offset));
    return out;
  };
  std::vector<engine::FieldSpec> fields{
      categorical("index", {"a", "b", "c"}),
      categorical("twice", labels(3, 2, 0)),
      categorical("rounds", labels(100, 1, 1)),
      categorical("affine", labels(40, 3, 5)),
      categorical("lookup", {"0", "1", "5", "7"}),
      categorical("negative", {"-1", "0", "1"}),
      categorical("wide_index", labels(300, 1, 0)),
      categorical("wide_values", {"0", "1000", "2000"}),
      categorical("full_byte", labels(256, 1, 0)),
  };
  for (int i = 0; i < 12; ++i)
    fields.push_back(categorical("more" + std::to_string(i), labels(i + 2, 1, 0)));
  fields.push_back({"single",
                    engine::FieldKind::continuous,
                    "",
                    "",
                    engine::StorageType::float32,
                    {},
                    0.0,
                    1.0,
                    4});
  fields.push_back({"double",
                    engine::FieldKind::continuous,
                    "",
                    "",
                    engine::StorageType::float64,
                    {},
                    0.0,
                    1.0,
                    4});
  const auto layout = engine::FieldLayout::from(fields);
  const std::size_t nc = layout.categorical.size(), nv = layout.continuous.size();
  REQUIRE(nc == 21);
  test::TempDir dir;
  output::ResultsWriter writer(dir.path("kinds.h5"), test::coin_metadata(1, 1000, true), layout, 1);
  const std::size_t n = 1000;
  engine::Stream stream(engine::StreamKey{3, 1, 4});
  std::vector<std::uint16_t> cats(n * nc);
  std::vector<double> values(n * nv);
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t c = 0; c < nc; ++c)
      cats[r * nc + c] =
          static_cast<std::uint16_t>(stream() % layout.categorical[c].categories.size());
    for (std::size_t v = 0; v < nv; ++v) values[r * nv + v] = stream.uniform() * 1e3;
  }
  output::ResultsWriter::RunColumns columns;
  writer.begin_runs(columns, n);
  for (const auto& [begin, end] : std::vector<std::pair<std::size_t, std::size_t>>{
           {0, 1}, {1, 17}, {17, 273}, {273, 290}, {290, 900}, {900, 1000}}) {
    writer.convert_runs(columns, begin, end - begin, cats.data() + begin * nc,
                        values.data() + begin * nv);
  }
  std::size_t wrong = 0, checked = 0;
  for (std::size_t c = 0; c < nc; ++c) {
    const auto& f = layout.categorical[c];
    const bool numeric = output::numeric_categories(f);
    const bool wide = f.name.starts_with("wide");
    for (std::size_t r = 0; r < n; ++r) {
      const std::uint16_t index = cats[r * nc + c];
      const long long value = numeric ? std::stoll(f.categories[index]) : index;
      const long long stored =
          wide ? columns.wide.data()[c * n + r] : columns.narrow.data()[c * n + r];
      const long long expected =
          wide ? static_cast<std::uint16_t>(value) : static_cast<std::uint8_t>(value);
      if (stored != expected) {
        ++wrong;
        UNSCOPED_INFO(f.name << " row " << r << ": " << stored << ", expected " << expected);
      }
      ++checked;
    }
  }
  for (std::size_t r = 0; r < n; ++r) {
    wrong += columns.f32.data()[r] != static_cast<float>(values[r * nv]);
    wrong += columns.f64.data()[n + r] != values[r * nv + 1];
    checked += 2;
  }
  CHECK(checked == n * (nc + nv));
  CHECK(wrong == 0);
  // Rows past begin_runs' count are refused.
  CHECK_THROWS_AS(writer.convert_runs(columns, 990, 11, cats.data(), values.data()),
                  std::logic_error);
}

TEST_CASE("a wave's column buffers from 1 MiB on lie on whole 2 MiB pages, and keep their rows",
          "[output]") {
  // (Huge pages are a hint the kernel may refuse; what the buffer controls is that every page of
  // a large buffer is a whole, aligned 2 MiB page it may back with one.)
  constexpr std::size_t HUGE = std::size_t{2} << 20;
  output::ResultsWriter::RunColumns::Buffer<float> large;
  large.ensure(300'000);  // 1.2 MB
  const auto at = reinterpret_cast<std::uintptr_t>(large.data());
  CHECK(at % HUGE == 0);
  CHECK(large.size() * sizeof(float) % HUGE == 0);
  CHECK(large.size() >= 300'000);
  for (std::size_t i = 0; i < 300'000; ++i) large.data()[i] = static_cast<float>(i);
  large.ensure(large.size());  // no growth: the same memory, the same rows
  CHECK(reinterpret_cast<std::uintptr_t>(large.data()) == at);
  bool kept = true;
  for (std::size_t i = 0; i < 300'000; ++i) kept = kept && large.data()[i] == static_cast<float>(i);
  CHECK(kept);
  large.ensure(large.size() + 1);  // growth: whole huge pages again
  CHECK(reinterpret_cast<std::uintptr_t>(large.data()) % HUGE == 0);
  CHECK(large.size() * sizeof(float) >= 2 * HUGE);
  // Small buffers are not rounded up to a huge page.
  output::ResultsWriter::RunColumns::Buffer<std::uint8_t> small;
  small.ensure(1000);
  CHECK(small.size() == 1000);
  CHECK(reinterpret_cast<std::uintptr_t>(small.data()) % alignof(std::max_align_t) == 0);
}

#include "experiments/compare.hpp"

#include "agents/tug_of_war.hpp"
#include "engine/error.hpp"
#include "experiments/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace wedge::experiments {

using agents::TugOfWar;

namespace {

std::string side_name(const Experiment& e) {
  return e.source.empty() ? std::string("the baseline") : e.source;
}

void require_single_point(const Experiment& e, const char* side) {
  if (e.points.size() != 1) {
    throw ConfigError(
        fmt::format("compare: {} ({}) is a {} sweep with {} design points; compare takes two "
                    "single-point scenarios (to "
                    "compare one of its points, use a scenario file without [sweep] and give the "
                    "point's values with {})",
                    side, side_name(e), design_name(e.sweep.design), e.points.size(),
                    side[0] == 'A' ? "--set-a" : "--set-b"));
  }
  if (e.run.precision) {
    throw ConfigError(
        fmt::format("compare: {} ({}) sets [run] precision; compare runs a fixed number of runs "
                    "(--runs) on both sides",
                    side, side_name(e)));
  }
}

}  // namespace

std::pair<Experiment, Experiment> resolve_pair(const ExperimentSource& a,
                                               const ExperimentSource& b) {
  Experiment ea = resolve(a);
  ExperimentSource bs = b;
  bs.runs = ea.run.runs;  // B's [run] table is not used: both sides run A's runs and seed
  bs.seed = ea.run.seed;
  Experiment eb = resolve(bs);
  eb.run.precision.reset();
  require_single_point(ea, "A");
  require_single_point(eb, "B");
  eb.run.crn =
      ea.run.crn;  // no effect on a single point; kept equal so that both plans are one plan
  return {std::move(ea), std::move(eb)};
}

namespace {

/// One block's observations: categories (runs x categorical fields) and values (runs x continuous).
struct Observed {
  std::uint64_t replicate_begin = 0;
  std::uint32_t count = 0;
  std::vector<std::uint16_t> categories;
  std::vector<double> values;
};

/// Matches the two sides' blocks in plan order and accumulates the pairs into a Comparison. Each
/// side's records arrive on that side's sink thread, in plan order; the side that is ahead leaves
/// its blocks in a bounded queue, where the other side finds its partners.
class Pairing {
 public:
  Pairing(Comparison& out, std::size_t categorical, std::size_t continuous, std::size_t max_lead)
      : out_(out),
        nc_(categorical),
        nv_(continuous),
        max_lead_(std::max<std::size_t>(1, max_lead)) {}

  /// Side 0 (A) or 1 (B) delivers a wave; blocks until its lead is within the bound.
  void deliver(int side, std::span<const engine::Block> blocks,
               std::span<const agents::RunRecord> records) {
    std::size_t offset = 0;
    for (const auto& b : blocks) {
      Observed obs = observe(b, records.subspan(offset, b.count));
      offset += b.count;
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] {
        return aborted_ || queue_.empty() || ahead_ != side || queue_.size() < max_lead_;
      });
      if (aborted_) return;
      if (!queue_.empty() && ahead_ != side) {
        Observed partner = std::move(queue_.front());
        queue_.pop_front();
        cv_.notify_all();
        if (partner.replicate_begin != obs.replicate_begin || partner.count != obs.count) {
          throw std::logic_error("compare: the two sides' blocks differ");
        }
        if (side == 0)
          accumulate(obs, partner);
        else
          accumulate(partner, obs);
      } else {
        queue_.push_back(std::move(obs));
        ahead_ = side;
      }
    }
  }

  /// Wakes a waiting side for good: one side failed or stopped.
  void abort() {
    std::lock_guard lock(mutex_);
    aborted_ = true;
    cv_.notify_all();
  }

 private:
  Observed observe(const engine::Block& b, std::span<const agents::RunRecord> records) const {
    Observed obs;
    obs.replicate_begin = b.replicate_begin;
    obs.count = b.count;
    obs.categories.resize(static_cast<std::size_t>(b.count) * nc_);
    obs.values.resize(static_cast<std::size_t>(b.count) * nv_);
    std::uint16_t cats[engine::MAX_FIELDS];
    double vals[engine::MAX_FIELDS];
    for (std::size_t i = 0; i < records.size(); ++i) {
      TugOfWar::observe(records[i], cats, vals);
      std::copy_n(cats, nc_, obs.categories.begin() + static_cast<std::ptrdiff_t>(i * nc_));
      std::copy_n(vals, nv_, obs.values.begin() + static_cast<std::ptrdiff_t>(i * nv_));
    }
    return obs;
  }

  // Called under the lock, block by block in plan order: deterministic.
  void accumulate(const Observed& a, const Observed& b) {
    for (std::uint32_t r = 0; r < a.count; ++r) {
      for (std::size_t f = 0; f < nc_; ++f) {
        const std::size_t k = out_.a.layout().categorical[f].categories.size();
        ++out_.joint[f][a.categories[r * nc_ + f] * k + b.categories[r * nc_ + f]];
      }
      for (std::size_t j = 0; j < nv_; ++j)
        out_.differences[j].add(b.values[r * nv_ + j] - a.values[r * nv_ + j]);
    }
    out_.pairs_done += a.count;
  }

  Comparison& out_;
  std::size_t nc_, nv_, max_lead_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Observed> queue_;
  int ahead_ = -1;
  bool aborted_ = false;
};

struct PairingSink final : RecordSink {
  Pairing& pairing;
  int side;
  PairingSink(Pairing& p, int s) : pairing(p), side(s) {}
  void consume(std::span<const engine::Block> blocks, std::span<const agents::RunRecord> records,
               std::span<const engine::Summary>) override {
    pairing.deliver(side, blocks, records);
  }
};

}  // namespace

Comparison::Comparison(const engine::Summary& empty) : a(empty), b(empty) {
  for (const auto& f : empty.layout().categorical)
    joint.emplace_back(f.categories.size() * f.categories.size(), 0);
  // The histogram is not used: the differences' moments are.
  differences.assign(empty.layout().continuous.size(), engine::ContinuousStats(-1.0, 1.0, 1));
}

Comparison compare(const Experiment& a, const Experiment& b, const CompareOptions& options,
                   const engine::CancelToken* cancel, engine::Progress* progress) {
  require_single_point(a, "A");
  require_single_point(b, "B");
  if (a.run.runs != b.run.runs || a.run.seed != b.run.seed) {
    throw ConfigError(
        fmt::format("compare: both sides need the same runs and seed (A: {} runs, seed {}; B: {} "
                    "runs, seed {})",
                    a.run.runs, a.run.seed, b.run.runs, b.run.seed));
  }
  SessionOptions so;
  so.threads = options.threads;
  Session session_a(a, so);
  Session session_b(b, so);
  if (!std::equal(session_a.blocks().begin(), session_a.blocks().end(), session_b.blocks().begin(),
                  session_b.blocks().end())) {
    throw std::logic_error("compare: the two plans differ");
  }

  Comparison out(engine::make_summaries<TugOfWar>(1).front());
  const auto& layout = out.a.layout();
  out.runs = a.run.runs;
  out.seed = a.run.seed;

  Pairing pairing(out, layout.categorical.size(), layout.continuous.size(),
                  options.max_lead_blocks);
  PairingSink sink_a(pairing, 0);
  PairingSink sink_b(pairing, 1);
  engine::CancelToken stop(cancel);  // the caller's token, or either side's failure
  SessionResult result_a, result_b;
  std::exception_ptr error_a, error_b;
  // A runs on its own thread, B on this one; both feed one oneTBB pool, so together they take
  // about the time of the two runs one after the other.
  // A side that stops early (an error, or cancelled) releases the other from waiting for partners.
  const auto run_side = [&](Session& session, RecordSink& sink, engine::Progress* p,
                            SessionResult& result, std::exception_ptr& error) {
    try {
      result = session.execute({&stop, &sink, p});
      if (result.interrupted) pairing.abort();
    } catch (...) {
      error = std::current_exception();
      stop.request();
      pairing.abort();
    }
  };
  std::thread side_a([&] { run_side(session_a, sink_a, progress, result_a, error_a); });
  run_side(session_b, sink_b, nullptr, result_b, error_b);
  side_a.join();
  if (error_a) std::rethrow_exception(error_a);
  if (error_b) std::rethrow_exception(error_b);
  out.a = result_a.summaries.front();
  out.b = result_b.summaries.front();
  out.interrupted = result_a.interrupted || result_b.interrupted;
  out.signal = stop.signal();
  return out;
}

namespace {

constexpr double NaN = std::numeric_limits<double>::quiet_NaN();
constexpr double Inf = std::numeric_limits<double>::infinity();

double ratio(double unpaired_var, double paired_var) {
  if (paired_var > 0.0) return unpaired_var / paired_var;
  return unpaired_var > 0.0 ? Inf : NaN;
}

}  // namespace

CategoryDifference category_difference(const std::vector<std::uint64_t>& joint,
                                       std::size_t categories, std::size_t c, std::uint64_t n) {
  if (joint.size() != categories * categories || c >= categories) {
    throw std::invalid_argument("category_difference: table and category do not match");
  }
  CategoryDifference d;
  std::uint64_t in_a = 0, in_b = 0;
  for (std::size_t k = 0; k < categories; ++k) {
    in_a += joint[c * categories + k];
    in_b += joint[k * categories + c];
  }
  d.both = joint[c * categories + c];
  d.a_only = in_a - d.both;
  d.b_only = in_b - d.both;
  d.a_interval = engine::wilson(in_a, n);
  d.b_interval = engine::wilson(in_b, n);
  if (n == 0) {
    d.variance_ratio = NaN;
    return d;
  }
  const double nn = static_cast<double>(n);
  d.p_a = static_cast<double>(in_a) / nn;
  d.p_b = static_cast<double>(in_b) / nn;
  d.diff = static_cast<double>(static_cast<std::int64_t>(d.b_only) -
                               static_cast<std::int64_t>(d.a_only)) /
           nn;
  // Sample variances (n - 1): of d_r in {-1, 0, +1}, whose squares sum to the discordant pairs,
  // and of each side's indicator.
  double paired_var = 0.0, unpaired_var = 0.0;
  if (n >= 2) {
    const double discordant = static_cast<double>(d.a_only + d.b_only);
    paired_var = std::max(0.0, (discordant - nn * d.diff * d.diff) / (nn - 1.0));
    unpaired_var = (nn * d.p_a * (1.0 - d.p_a) + nn * d.p_b * (1.0 - d.p_b)) / (nn - 1.0);
  }
  d.paired_se = std::sqrt(paired_var / nn);
  d.unpaired_se = std::sqrt(unpaired_var / nn);
  d.paired_low = d.diff - engine::Z95 * d.paired_se;
  d.paired_high = d.diff + engine::Z95 * d.paired_se;
  d.unpaired_low = d.diff - engine::Z95 * d.unpaired_se;
  d.unpaired_high = d.diff + engine::Z95 * d.unpaired_se;
  d.variance_ratio = ratio(unpaired_var, paired_var);
  return d;
}

MeanDifference mean_difference(const Comparison& c, std::size_t field) {
  if (field >= c.differences.size())
    throw std::invalid_argument("mean_difference: no such continuous field");
  const auto& sa = c.a.continuous(field);
  const auto& sb = c.b.continuous(field);
  const auto& sd = c.differences[field];
  MeanDifference m;
  m.mean_a = sa.mean();
  m.mean_b = sb.mean();
  m.diff = sd.mean();
  const double n = static_cast<double>(sd.n());
  if (sd.n() == 0) {
    m.variance_ratio = NaN;
    return m;
  }
  const double paired_var = sd.variance();
  const double unpaired_var = sa.variance() + sb.variance();
  m.paired_se = std::sqrt(paired_var / n);
  m.unpaired_se = std::sqrt(unpaired_var / n);
  m.paired_low = m.diff - engine::Z95 * m.paired_se;
  m.paired_high = m.diff + engine::Z95 * m.paired_se;
  m.unpaired_low = m.diff - engine::Z95 * m.unpaired_se;
  m.unpaired_high = m.diff + engine::Z95 * m.unpaired_se;
  m.variance_ratio = ratio(unpaired_var, paired_var);
  return m;
}

namespace {

// Names, sources and descriptions may hold any text: escape for JSON.
std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string number(double v) {
  return std::isfinite(v) ? fmt::format("{}", v) : std::string("null");
}

/// Categories of field f that can occur on either side.
std::size_t shown(const Experiment& a, const Experiment& b, std::size_t f) {
  return std::max(categories_shown(a, f), categories_shown(b, f));
}

std::string side_json(const Experiment& e, const engine::Summary& s) {
  std::string results = results_json(e, {s});
  while (!results.empty() && results.back() == '\n') results.pop_back();
  return fmt::format("{{\"source\": {}, \"description\": {}, \"results\": {}}}",
                     json_string(e.source), json_string(e.description), results);
}

}  // namespace

std::string comparison_json(const Experiment& a, const Experiment& b, const Comparison& c) {
  const auto& layout = c.a.layout();
  std::string out = fmt::format(
      "{{\"runs\": {}, \"seed\": {}, \"pairs_done\": {}, \"a\": {}, \"b\": {}, \"categorical\": [",
      c.runs, c.seed, c.pairs_done, side_json(a, c.a), side_json(b, c.b));
  bool first = true;
  for (std::size_t f = 0; f < layout.categorical.size(); ++f) {
    const auto& spec = layout.categorical[f];
    for (std::size_t k = 0; k < shown(a, b, f); ++k) {
      const auto d = category_difference(c.joint[f], spec.categories.size(), k, c.pairs_done);
      out += fmt::format(
          "{}{{\"outcome\": {}, \"category\": {}, \"p_a\": {}, \"a_low\": {}, \"a_high\": {}, "
          "\"p_b\": {}, "
          "\"b_low\": {}, \"b_high\": {}, \"diff\": {}, \"paired_low\": {}, \"paired_high\": {}, "
          "\"unpaired_low\": {}, \"unpaired_high\": {}, \"paired_se\": {}, \"unpaired_se\": {}, "
          "\"variance_ratio\": {}, \"a_only\": {}, \"b_only\": {}, \"both\": {}}}",
          first ? "" : ", ", json_string(spec.name), json_string(spec.categories[k]), number(d.p_a),
          number(d.a_interval.low), number(d.a_interval.high), number(d.p_b),
          number(d.b_interval.low), number(d.b_interval.high), number(d.diff), number(d.paired_low),
          number(d.paired_high), number(d.unpaired_low), number(d.unpaired_high),
          number(d.paired_se), number(d.unpaired_se), number(d.variance_ratio), d.a_only, d.b_only,
          d.both);
      first = false;
    }
  }
  out += "], \"continuous\": [";
  for (std::size_t j = 0; j < layout.continuous.size(); ++j) {
    const auto m = mean_difference(c, j);
    out += fmt::format(
        "{}{{\"outcome\": {}, \"mean_a\": {}, \"mean_b\": {}, \"diff\": {}, \"paired_low\": {}, "
        "\"paired_high\": {}, "
        "\"unpaired_low\": {}, \"unpaired_high\": {}, \"paired_se\": {}, \"unpaired_se\": {}, "
        "\"variance_ratio\": {}}}",
        j > 0 ? ", " : "", json_string(layout.continuous[j].name), number(m.mean_a),
        number(m.mean_b), number(m.diff), number(m.paired_low), number(m.paired_high),
        number(m.unpaired_low), number(m.unpaired_high), number(m.paired_se), number(m.unpaired_se),
        number(m.variance_ratio));
  }
  out += "], \"joint\": {";
  for (std::size_t f = 0; f < layout.categorical.size(); ++f) {
    const std::size_t k = layout.categorical[f].categories.size();
    const std::size_t n = shown(a, b, f);
    out += fmt::format("{}{}: [", f > 0 ? ", " : "", json_string(layout.categorical[f].name));
    for (std::size_t i = 0; i < n; ++i) {
      out += i > 0 ? ", [" : "[";
      for (std::size_t j = 0; j < n; ++j)
        out += fmt::format("{}{}", j > 0 ? ", " : "", c.joint[f][i * k + j]);
      out += "]";
    }
    out += "]";
  }
  out += "}}\n";
  return out;
}

namespace {

std::string signed4(double v) {
  return std::isfinite(v) ? fmt::format("{:+.4f}", v) : std::string("-");
}

std::string ratio_text(double r) {
  if (std::isnan(r)) return "-";
  if (std::isinf(r)) return "inf";
  return fmt::format("{:.3g}", r);
}

}  // namespace

void print_comparison(std::FILE* out, const Experiment& a, const Experiment& b,
                      const Comparison& c) {
  const auto describe = [](const Experiment& e) {
    return e.description.empty() ? side_name(e)
                                 : fmt::format("{} ({})", side_name(e), e.description);
  };
  fmt::print(out,
             "paired comparison: {} per scenario, seed {}; run r of A and run r of B share "
             "their random "
             "numbers\n  A: {}\n  B: {}\n\n",
             counted(c.runs, "run"), c.seed, describe(a), describe(b));
  fmt::print(out, "  {:<20} {:<16} {:>8} {:>8} {:>8}   {:<19}   {:<19} {:>9}\n", "outcome",
             "category", "P(A)", "P(B)", "B - A", "paired 95% CI", "unpaired 95% CI", "var ratio");
  static constexpr std::string_view SHOWN[] = {
      "format", "end_reason", "alliance", "okinawa", "islands_promised", "islands_transferred"};
  const auto& layout = c.a.layout();
  for (std::string_view name : SHOWN) {
    const int f = c.a.categorical_index(name);
    if (f < 0) continue;
    const auto fi = static_cast<std::size_t>(f);
    const auto& spec = layout.categorical[fi];
    for (std::size_t k = 0; k < shown(a, b, fi); ++k) {
      const auto d = category_difference(c.joint[fi], spec.categories.size(), k, c.pairs_done);
      fmt::print(out, "  {:<20} {:<16} {:>8.4f} {:>8.4f} {:>8}   [{}, {}]   [{}, {}] {:>9}\n",
                 k == 0 ? spec.name : "", spec.categories[k], d.p_a, d.p_b, signed4(d.diff),
                 signed4(d.paired_low), signed4(d.paired_high), signed4(d.unpaired_low),
                 signed4(d.unpaired_high), ratio_text(d.variance_ratio));
    }
  }
  for (std::size_t j = 0; j < layout.continuous.size(); ++j) {
    const auto m = mean_difference(c, j);
    fmt::print(out, "  {:<20} {:<16} {:>8.4f} {:>8.4f} {:>8}   [{}, {}]   [{}, {}] {:>9}\n",
               j == 0 ? "mean" : "", layout.continuous[j].name, m.mean_a, m.mean_b, signed4(m.diff),
               signed4(m.paired_low), signed4(m.paired_high), signed4(m.unpaired_low),
               signed4(m.unpaired_high), ratio_text(m.variance_ratio));
  }
  fmt::print(out,
             "(B - A: the change from A to B; paired intervals from the {} per-run differences, "
             "unpaired as if the "
             "runs were independent;\n var ratio = unpaired / paired variance: how many times more "
             "runs unpaired "
             "sampling needs for the same precision; `--json` gives every field)\n",
             c.pairs_done);
}

}  // namespace wedge::experiments

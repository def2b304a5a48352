#pragma once
/// The model's run loop on lanes: W runs advance one round per step (agents/round.hpp), and a
/// lane whose run ended writes its record and takes the next replicate at once. Each run draws
/// from its own stream, which the engine hands over (engine::LaneStreams: MODEL.md §6;
/// docs/model.md "Random draws"), so a run's record depends only on (seed, point, replicate),
/// never on which lane or width ran it.
#include "agents/record.hpp"
#include "agents/round.hpp"
#include "agents/rules.hpp"
#include "agents/scenario.hpp"
#include "engine/rng.hpp"

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace wedge::agents {

/// One round of a run, as the trace tells it (MODEL.md §5).
struct RoundTrace {
  int round = 0;
  double alignment_start = 0.0;  ///< A at the start of the round
  bool straits_clause = false;   ///< S after this round's drops
  bool alliance_clause = false;  ///< N after this round's drops
  bool soft_line = false;
  int islands_offered = 0;
  bool ussr_accepts_declaration = false;
  bool matsumoto_proposes = false;
  bool declaration_available = false;
  bool fisheries_in_force = false;  ///< F during this round's vote
  int sg_min_islands = 4;           ///< m_SG during this round's vote
  double dulles_estimate = 0.0;
  double gravity = 1.0;
  bool rewarded = false;
  double reward = 0.0;
  double dulles_estimate_after = 0.0;
  bool coerced = false;
  double threat = 0.0;  ///< q after Dulles
  double alignment_after_dulles = 0.0;
  double support_treaty = 0.0;       ///< realized W_t
  double support_declaration = 0.0;  ///< realized W_d
  Format decision = Format::none;
  Okinawa okinawa = Okinawa::residual;  ///< treaty rounds only
  bool fisheries_pressure = false;      ///< stalled rounds: imposed for the next round
  bool shigemitsu_softened = false;
  bool cabinet_fell = false;
  bool deadline = false;
  double alignment_end = 0.0;
};

/// A tracer that records nothing (the untraced run); the compiler removes every call.
struct NullTracer {
  static constexpr bool enabled = false;
  void start(double /*credibility*/) noexcept {}
  void round(const RoundTrace& /*trace*/) noexcept {}
};

namespace kernel {

/// What a run keeps for its record besides the state (MODEL.md §5), one lane per run.
template <class L>
struct History {
  using D = typename L::D;
  D round;             ///< the round being played, from 1
  D two_island_round;  ///< first round with T >= 2 offered, 0 if none yet
  D threat_round;      ///< round of the Okinawa threat, 0 if none
  D shigemitsu_round;  ///< round in which SG softened, 0 if never
  D reward_total;      ///< sum of R so far

  static History start() {
    return {simd::splat<L>(1.0), simd::splat<L>(0.0), simd::splat<L>(0.0), simd::splat<L>(0.0),
            simd::splat<L>(0.0)};
  }

  /// `a` in the lanes of `m`, `b` elsewhere.
  static History select(typename L::M m, const History& a, const History& b) {
    using simd::sel;
    return {sel<L>(m, a.round, b.round), sel<L>(m, a.two_island_round, b.two_island_round),
            sel<L>(m, a.threat_round, b.threat_round),
            sel<L>(m, a.shigemitsu_round, b.shigemitsu_round),
            sel<L>(m, a.reward_total, b.reward_total)};
  }

  /// Keeps what this round did.
  void note(const RoundEvents<L>& e) {
    using simd::sel;
    two_island_round =
        sel<L>((e.offer.islands >= 2.0) & (two_island_round == 0.0), round, two_island_round);
    reward_total += e.dulles.reward;
    threat_round = sel<L>(e.dulles.coerced, round, threat_round);
    shigemitsu_round = sel<L>(e.stall.shigemitsu_softened, round, shigemitsu_round);
  }
};

/// Lane 0's round, as the trace tells it.
template <class L>
RoundTrace trace_round(const RoundEvents<L>& e, const State<L>& st, const History<L>& h) {
  using simd::lane;
  RoundTrace t;
  t.round = static_cast<int>(lane(h.round, 0));
  t.alignment_start = lane(e.alignment_start, 0);
  t.straits_clause = lane(st.straits_clause, 0) != 0;
  t.alliance_clause = lane(st.alliance_clause, 0) != 0;
  t.soft_line = lane(e.offer.soft_line, 0) != 0;
  t.islands_offered = static_cast<int>(lane(e.offer.islands, 0));
  t.ussr_accepts_declaration = lane(e.offer.accepts_declaration, 0) != 0;
  t.matsumoto_proposes = lane(e.matsumoto_proposes, 0) != 0;
  t.declaration_available = lane(e.declaration_available, 0) != 0;
  t.fisheries_in_force = lane(e.fisheries_in_force, 0) != 0;
  t.sg_min_islands = static_cast<int>(lane(e.sg_min_islands_in_force, 0));
  t.dulles_estimate = lane(e.dulles.estimate, 0);
  t.gravity = lane(e.dulles.gravity, 0);
  t.rewarded = lane(e.dulles.rewarded, 0) != 0;
  t.reward = lane(e.dulles.reward, 0);
  t.dulles_estimate_after = lane(e.dulles.estimate_after, 0);
  t.coerced = lane(e.dulles.coerced, 0) != 0;
  t.threat = lane(st.threat, 0);
  t.alignment_after_dulles = lane(e.alignment_after_dulles, 0);
  t.support_treaty = lane(e.vote.support_treaty, 0);
  t.support_declaration = lane(e.vote.support_declaration, 0);
  t.decision = lane(e.treaty, 0) != 0        ? Format::treaty
               : lane(e.declaration, 0) != 0 ? Format::declaration
                                             : Format::none;
  t.okinawa = lane(e.okinawa_claim, 0) != 0 ? Okinawa::us_claim : Okinawa::residual;
  t.fisheries_pressure = lane(e.stall.fisheries, 0) != 0;
  t.shigemitsu_softened = lane(e.stall.shigemitsu_softened, 0) != 0;
  t.cabinet_fell = lane(e.stall.cabinet_fell, 0) != 0;
  t.deadline = lane(e.stall.deadline, 0) != 0;
  t.alignment_end = lane(st.alignment, 0);
  return t;
}

// A RunRecord is stored as four 64-bit words, byte by byte in the order of its members; the lanes
// compute those words side by side (record_words) and the runs that ended copy theirs out.
static_assert(sizeof(RunRecord) == 32 && offsetof(RunRecord, format) == 0 &&
                  offsetof(RunRecord, end_reason) == 1 && offsetof(RunRecord, alliance) == 2 &&
                  offsetof(RunRecord, okinawa) == 3 && offsetof(RunRecord, rounds) == 4 &&
                  offsetof(RunRecord, islands_promised) == 5 &&
                  offsetof(RunRecord, islands_transferred) == 6 &&
                  offsetof(RunRecord, straits_clause) == 7 &&
                  offsetof(RunRecord, alliance_clause) == 8 &&
                  offsetof(RunRecord, threat_round) == 9 &&
                  offsetof(RunRecord, shigemitsu_round) == 10 &&
                  offsetof(RunRecord, two_island_round) == 11 &&
                  offsetof(RunRecord, alignment) == 16 && offsetof(RunRecord, reward_total) == 24,
              "the record's layout as record_words writes it");

/// The record (MODEL.md §5) of the run in every lane, were it to end in this round, as the four
/// 64-bit words of a RunRecord (little-endian bytes in member order; padding bytes zero).
template <class L>
std::array<typename L::U, 4> record_words(const RoundEvents<L>& e, const State<L>& st,
                                          const History<L>& h, typename L::D alliance) {
  using U = typename L::U;
  using simd::to_uint;
  const auto bit = [](typename L::M m, std::uint64_t v) { return std::bit_cast<U>(m) & v; };
  const auto agreement = e.treaty | e.declaration;
  const U format = bit(e.treaty, 2) | bit(e.declaration, 1);
  // agreement 0; otherwise cabinet_fell 2 or deadline 1.
  const U end_reason = bit(~agreement, 1) + bit(e.stall.cabinet_fell & ~agreement, 1);
  const U islands = to_uint<L>(e.offer.islands);
  const U promised = islands & std::bit_cast<U>(agreement);
  const U transferred = islands & std::bit_cast<U>(e.treaty);
  std::array<U, 4> w;
  w[0] = format | (end_reason << 8) | (to_uint<L>(alliance) << 16) |
         (bit(e.okinawa_claim, 1) << 24) | (to_uint<L>(h.round) << 32) | (promised << 40) |
         (transferred << 48) | (bit(st.straits_clause, 1) << 56);
  w[1] = bit(st.alliance_clause, 1) | (to_uint<L>(h.threat_round) << 8) |
         (to_uint<L>(h.shigemitsu_round) << 16) | (to_uint<L>(h.two_island_round) << 24);
  w[2] = std::bit_cast<U>(st.alignment);
  w[3] = std::bit_cast<U>(h.reward_total);
  return w;
}

/// Lane i's record from record_words.
template <class L>
RunRecord record_of(int i, const std::array<typename L::U, 4>& words) {
  const std::uint64_t w[4] = {simd::lane(words[0], i), simd::lane(words[1], i),
                              simd::lane(words[2], i), simd::lane(words[3], i)};
  RunRecord r;
  std::memcpy(&r, w, sizeof r);
  return r;
}

/// The record of the run in lane i, which ended in this round (MODEL.md §5).
template <class L>
RunRecord record_of(int i, const RoundEvents<L>& e, const State<L>& st, const History<L>& h,
                    typename L::D alliance) {
  return record_of<L>(i, record_words<L>(e, st, h, alliance));
}

/// The threat's credibility c of consecutive replicates, drawn a lane width of replicates at a
/// time (one Philox block each) rather than for every lane at every refill, and handed to the lanes
/// a refill fills by simd::expand (replicates k, k + 1, ... in increasing lane order).
template <class L>
class Credibilities {
 public:
  Credibilities(const Scenario& s, const engine::StreamKey& first)
      : s_(s), streams_(first), first_(first.replicate) {}

  /// The bits of c of replicates first + k, ..., first + k + n - 1 (n <= W; k never decreases
  /// between calls, and k + n is the next call's k at most), consecutive; readable for W values.
  const std::uint64_t* take(std::uint32_t k, std::uint32_t n) {
    if (k + n > end_) fill(k);
    return value_ + (k - begin_);
  }

 private:
  void fill(std::uint32_t k) {
    // Keep [k, end_) (fewer than n <= W values) at the front, then draw W more after them.
    const std::uint32_t kept = end_ - k;
    std::memmove(value_, value_ + (k - begin_), kept * sizeof(std::uint64_t));
    streams_.assign((simd::splat_u<L>(std::uint64_t{first_} + end_) + simd::iota<L>()) &
                    0xFFFFFFFFull);
    const auto c =
        s_.dulles.credibility_min + (s_.dulles.credibility_max - s_.dulles.credibility_min) *
                                        RunDraws<L>::draw(streams_).credibility;
    std::memcpy(value_ + kept, &c, sizeof c);
    begin_ = k;
    end_ += L::width;
  }

  const Scenario& s_;
  engine::LaneStreams<L> streams_;
  std::uint32_t first_;
  std::uint32_t begin_ = 0, end_ = 0;    // c of replicates first + begin_ .. first + end_ is held
  std::uint64_t value_[3 * L::width]{};  // 2 W held at most, W readable after them
};

/// Runs replicates [first.replicate, first.replicate + count) of scenario `s` from the streams of
/// (first.seed, first.point); writes out[k] for replicate first.replicate + k.
template <class L, class Tracer>
void run_lanes(const Scenario& s, const engine::StreamKey& first, std::uint32_t count,
               RunRecord* out, Tracer& tracer) {
  using D = typename L::D;
  using U = typename L::U;
  using M = typename L::M;
  constexpr std::uint32_t ALL = L::width == 32 ? ~0u : (1u << L::width) - 1;
  // One lane skips the work its run does not use (play_round's LAZY); lanes side by side compute
  // every rule for every lane anyway, and the trace reports every value, so neither skips.
  constexpr bool LAZY = L::width == 1 && !Tracer::enabled;
  const SupportTable japan(s);
  const Chances chance(s);
  engine::LaneStreams<L> streams(first);
  Credibilities<L> credibility(s, first);
  State<L> st = State<L>::initial(s, simd::splat<L>(0.0));
  History<L> h = History<L>::start();
  std::uint32_t active = 0;          // bit i: lane i has a run
  std::uint32_t run_of[L::width]{};  // lane i's run: replicate first.replicate + run_of[i]
  U replicates = simd::splat_u<L>(first.replicate);
  std::uint32_t next = 0;
  for (;;) {
    // Lanes without a run take the next replicates, in lane order, and start them (credibility c).
    if (active != ALL && next < count) {
      // In registers (simd::expand_count, simd::expand): setting the lanes one at a time stored
      // them into the vectors' memory and reloaded them whole, a store-to-load forward that fails,
      // on the path to the new runs' state and draws.
      std::uint32_t fresh = 0;
      const std::uint32_t fresh_begin = next;
      for (std::uint32_t idle = ALL & ~active; idle != 0 && next < count; idle &= idle - 1) {
        const int i = std::countr_zero(idle);
        fresh |= 1u << i;
        run_of[i] = next;
        ++next;
      }
      replicates =
          simd::expand_count<L>(replicates, fresh, std::uint64_t{first.replicate} + fresh_begin);
      const D c = std::bit_cast<D>(simd::expand<L>(
          simd::splat_u<L>(0), fresh, credibility.take(fresh_begin, next - fresh_begin)));
      streams.assign(replicates);
      const M fresh_m = simd::mask<L>(fresh);
      st = State<L>::select(fresh_m, State<L>::initial(s, c), st);
      h = History<L>::select(fresh_m, History<L>::start(), h);
      active |= fresh;
      if constexpr (Tracer::enabled) tracer.start(simd::lane(c, 0));
    }
    if (active == 0) break;

    const RoundEvents<L> e = play_round<L, LAZY>(s, japan, chance, st, simd::mask<L>(active),
                                                 h.round, RoundDraws<L>::draw(streams, h.round));
    h.note(e);
    if constexpr (Tracer::enabled) tracer.round(trace_round<L>(e, st, h));

    if (const std::uint32_t ended = simd::bits<L>(e.ended); ended != 0) {
      const auto alliance =
          classify_alliance<L>(s, e.treaty, st.straits_clause, st.alliance_clause, st.alignment);
      const auto words = record_words<L>(e, st, h, alliance);
      std::uint64_t w[4][L::width];
      std::memcpy(w, words.data(), sizeof w);
      for (std::uint32_t left = ended; left != 0; left &= left - 1) {
        const int i = std::countr_zero(left);
        const std::uint64_t record[4] = {w[0][i], w[1][i], w[2][i], w[3][i]};
        std::memcpy(out + run_of[i], record, sizeof record);
      }
      active &= ~ended;
    }
    h.round = h.round + 1.0;
  }
}

}  // namespace kernel

/// Runs replicates [rep_begin, rep_begin + count) with the widest kernel this CPU supports.
void run_block(const Scenario& s, std::uint64_t seed, std::uint32_t stream_point,
               std::uint64_t rep_begin, std::uint32_t count, RunRecord* out);

/// The lane widths of the kernels: 1 (portable, one lane: the one-run paths), 4 (portable, two
/// groups of 2 in the baseline's vectors: blocks on CPUs without AVX2), 8 (AVX2: two groups of 4
/// lanes) and 16 (AVX-512: two groups of 8).
inline constexpr int KERNEL_WIDTHS[] = {1, 4, 8, 16};

/// The same with a given lane width (one of KERNEL_WIDTHS); false if this CPU or build lacks it.
/// Every width gives the same records.
bool run_block_width(int width, const Scenario& s, std::uint64_t seed, std::uint32_t stream_point,
                     std::uint64_t rep_begin, std::uint32_t count, RunRecord* out);

/// The kernel run_block uses on this machine, e.g. "avx512 (8 lanes)".
const char* kernel_name();

}  // namespace wedge::agents

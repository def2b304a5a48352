#pragma once
/// Lanes: W values side by side (W = 1, 4, 8, 16), for running W independent computations (e.g.
/// W Monte Carlo runs) at once, with the basic operations, selects and exact conversions that the
/// SIMD maths (math.hpp), the generator (philox.hpp) and models build on. Every operation is an
/// IEEE-754 basic operation or integer bit manipulation on one lane, so every lane computes the
/// same bits whatever the width, the instruction set or the compiler's vectorisation, provided
/// the build forbids FMA contraction (the wedge::determinism target: docs/design.md,
/// "Determinism").
///
/// A lane type is either one GCC vector (W up to the instruction set's register width: any W for
/// PORTABLE, 2 doubles for BASELINE, 4 for AVX2, 8 for AVX-512) or a Pair of them (twice that
/// width): two
/// independent groups of lanes whose every operation is issued side by side, so that the long
/// dependency chains of exp, the polynomials and Philox of one group overlap with the other's.
/// (GCC's own vectors wider than the hardware's registers would do the arithmetic in halves too,
/// but it scalarises their comparisons and selects: hence Pair.)
///
/// Everything here is a template on the lane type, so each (width, instruction set) pair is
/// instantiated in exactly one translation unit, compiled for its instruction set; no function
/// compiled for AVX-512 can stand in for a portable one.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace wedge::engine::simd {

/// Instruction sets a lane type is compiled for (see above). PORTABLE: one GCC vector of any
/// width, lowered by the compiler as it can. BASELINE: vectors of 2 doubles, the SIMD unit every
/// CPU of the target has without any -m flag (SSE2 on x86-64, where the SSE2 instructions below
/// are used; NEON on AArch64; elsewhere GCC's generic lowering), so that a pair of them (W = 4)
/// keeps two independent groups of two lanes in flight in code compiled for the baseline.
enum Isa : int { PORTABLE = 0, BASELINE = 1, AVX2 = 2, AVX512 = 3 };

/// Two native vectors operated on side by side (see above). Element i < native width is in `lo`.
template <class N>
struct Pair {
  N lo, hi;
  static constexpr int half = static_cast<int>(sizeof(N) / sizeof(N{}[0]));
  /// Element i (read only; write with set_lane).
  auto operator[](int i) const { return i < half ? lo[i] : hi[i - half]; }
};

template <class T>
inline constexpr bool is_pair = false;
template <class N>
inline constexpr bool is_pair<Pair<N>> = true;

// Every operator of the GCC vectors, half by half, with vectors or scalars on either side.
#define WEDGE_PAIR_BINARY(OP)                                        \
  template <class N>                                                 \
  inline auto operator OP(const Pair<N>& a, const Pair<N>& b) {      \
    return Pair<decltype(a.lo OP b.lo)>{a.lo OP b.lo, a.hi OP b.hi}; \
  }                                                                  \
  template <class N, class S>                                        \
  requires std::is_arithmetic_v<S>                                   \
  inline auto operator OP(const Pair<N>& a, S b) {                   \
    return Pair<decltype(a.lo OP b)>{a.lo OP b, a.hi OP b};          \
  }                                                                  \
  template <class N, class S>                                        \
  requires std::is_arithmetic_v<S>                                   \
  inline auto operator OP(S a, const Pair<N>& b) {                   \
    return Pair<decltype(a OP b.lo)>{a OP b.lo, a OP b.hi};          \
  }
WEDGE_PAIR_BINARY(+)
WEDGE_PAIR_BINARY(-)
WEDGE_PAIR_BINARY(*)
WEDGE_PAIR_BINARY(/)
WEDGE_PAIR_BINARY(&)
WEDGE_PAIR_BINARY(|)
WEDGE_PAIR_BINARY(^)
WEDGE_PAIR_BINARY(<<)
WEDGE_PAIR_BINARY(>>)
WEDGE_PAIR_BINARY(<)
WEDGE_PAIR_BINARY(<=)
WEDGE_PAIR_BINARY(>)
WEDGE_PAIR_BINARY(>=)
WEDGE_PAIR_BINARY(==)
WEDGE_PAIR_BINARY(!=)
#undef WEDGE_PAIR_BINARY

#define WEDGE_PAIR_ASSIGN(OP)                              \
  template <class N, class B>                              \
  inline Pair<N>& operator OP##=(Pair<N>& a, const B& b) { \
    a = a OP b;                                            \
    return a;                                              \
  }
WEDGE_PAIR_ASSIGN(+)
WEDGE_PAIR_ASSIGN(-)
WEDGE_PAIR_ASSIGN(*)
WEDGE_PAIR_ASSIGN(&)
WEDGE_PAIR_ASSIGN(|)
#undef WEDGE_PAIR_ASSIGN

template <class N>
inline Pair<N> operator-(const Pair<N>& a) {
  return {-a.lo, -a.hi};
}
template <class N>
inline Pair<N> operator~(const Pair<N>& a) {
  return {~a.lo, ~a.hi};
}

namespace detail {
/// A GCC vector of N elements of T. (A typedef with a dependent vector_size passed on as a
/// template argument loses its attribute; one named through a class does not.)
template <class T, int N>
struct Vector {
  typedef T type __attribute__((vector_size(sizeof(T) * N)));
};
/// One vector of W elements, or a Pair of two of NATIVE.
template <class T, int W, int NATIVE>
struct LaneType {
  using type = Pair<typename Vector<T, NATIVE>::type>;
};
template <class T, int W>
struct LaneType<T, W, W> {
  using type = typename Vector<T, W>::type;
};
}  // namespace detail

/// W lanes: D = doubles, U = 64-bit unsigned integers, M = masks (-1 true, 0 false).
template <int W, int ISA = PORTABLE>
struct Lanes {
  static constexpr int width = W;
  static constexpr int isa = ISA;
  /// Lanes per hardware vector: the instruction set's register width (any W for PORTABLE).
  static constexpr int native = ISA == AVX512 ? 8 : ISA == AVX2 ? 4 : ISA == BASELINE ? 2 : W;
  static_assert(W == native || W == 2 * native,
                "a lane type is one native vector or a pair of them");
  using ND = typename detail::Vector<double, native>::type;  ///< one hardware vector of doubles
  using NU = typename detail::Vector<std::uint64_t, native>::type;
  using NM = typename detail::Vector<std::int64_t, native>::type;
  using D = typename detail::LaneType<double, W, native>::type;
  using U = typename detail::LaneType<std::uint64_t, W, native>::type;
  using M = typename detail::LaneType<std::int64_t, W, native>::type;
  /// The same W lanes in single precision: one vector of W floats whatever the pairing of the
  /// doubles (W = 16: one AVX-512 register; 8: one AVX2 register; 4: one SSE2 register; 1: one
  /// float), with its 32-bit integers FU (bits) and masks FM (-1 true, 0 false).
  using F = typename detail::Vector<float, W>::type;
  using FU = typename detail::Vector<std::uint32_t, W>::type;
  using FM = typename detail::Vector<std::int32_t, W>::type;
};

namespace detail {
/// For expand on 4 lanes of 64 bits (AVX2): per mask b, the 32-bit indices that move element
/// popcount(b below i) of a vector to lane i where bit i of b is set (elsewhere lane i stays).
struct Expand4 {
  alignas(32) std::int32_t index[16][8];
};
inline constexpr Expand4 EXPAND4 = [] {
  Expand4 t{};
  for (int m = 0; m < 16; ++m)
    for (int i = 0, k = 0; i < 4; ++i) {
      const int from = (m >> i & 1) != 0 ? k++ : i;
      t.index[m][2 * i] = 2 * from;
      t.index[m][2 * i + 1] = 2 * from + 1;
    }
  return t;
}();
}  // namespace detail

/// m ? a : b, lane by lane, for any lane type (m a mask of the same width).
template <class V, class K>
inline V select(const K& m, const V& a, const V& b) {
  if constexpr (is_pair<V>) {
    return {select(m.lo, a.lo, b.lo), select(m.hi, a.hi, b.hi)};
  } else {
    return m ? a : b;
  }
}

template <class L>
inline typename L::D splat(double x) {
  return typename L::D{} + x;
}
template <class L>
inline typename L::U splat_u(std::uint64_t x) {
  return typename L::U{} + x;
}
template <class L>
inline typename L::M splat_m(bool b) {
  return typename L::M{} + (b ? std::int64_t{-1} : std::int64_t{0});
}
/// m ? a : b, lane by lane.
template <class L>
inline typename L::D sel(typename L::M m, typename L::D a, typename L::D b) {
  return select(m, a, b);
}
template <class L>
inline typename L::U sel_u(typename L::M m, typename L::U a, typename L::U b) {
  return select(m, a, b);
}
template <class L>
inline typename L::M sel_m(typename L::M m, typename L::M a, typename L::M b) {
  return select(m, a, b);
}
template <class L>
inline typename L::D as_double(typename L::M m) {  // 1.0 where m, else 0.0
  return std::bit_cast<typename L::D>(m &
                                      static_cast<std::int64_t>(std::bit_cast<std::uint64_t>(1.0)));
}

/// Lane i of v.
template <class V>
inline auto lane(const V& v, int i) {
  return v[i];
}
/// Sets lane i of v to x.
template <class V, class T>
inline void set_lane(V& v, int i, T x) {
  if constexpr (is_pair<V>) {
    if (i < V::half) {
      v.lo[i] = x;
    } else {
      v.hi[i - V::half] = x;
    }
  } else {
    v[i] = x;
  }
}

/// Bit i set where lane i of the mask is true (lanes 0..W-1; W <= 32).
template <class L>
inline std::uint32_t bits(typename L::M m) {
  if constexpr (is_pair<typename L::M>) {
    using H = Lanes<L::native, L::isa>;
    return bits<H>(m.lo) | (bits<H>(m.hi) << L::native);
  } else {
#if defined(__AVX512F__)
    if constexpr (L::isa == AVX512 && L::width == 8) {
      const auto v = reinterpret_cast<__m512i>(m);
      return _mm512_test_epi64_mask(v, v);
    }
#endif
#if defined(__AVX2__)
    if constexpr (L::isa == AVX2 && L::width == 4) {
      return static_cast<std::uint32_t>(_mm256_movemask_pd(reinterpret_cast<__m256d>(m)));
    }
#endif
#if defined(__SSE2__)
    if constexpr (L::isa == BASELINE && L::width == 2) {
      return static_cast<std::uint32_t>(_mm_movemask_pd(reinterpret_cast<__m128d>(m)));
    }
#endif
    std::uint32_t out = 0;
    for (int i = 0; i < L::width; ++i) out |= (m[i] != 0 ? 1u : 0u) << i;
    return out;
  }
}

/// Lane i holds i.
template <class L>
inline typename L::U iota() {
  if constexpr (is_pair<typename L::U>) {
    using H = Lanes<L::native, L::isa>;
    return {iota<H>(), iota<H>() + static_cast<std::uint64_t>(L::native)};
  } else {
    return [&]<std::size_t... I>(std::index_sequence<I...>) { return typename L::U{I...}; }
    (std::make_index_sequence<L::width>{});
  }
}

/// The mask whose lane i is true where bit i of b is set.
template <class L>
inline typename L::M mask(std::uint32_t b) {
  if constexpr (is_pair<typename L::M>) {
    using H = Lanes<L::native, L::isa>;
    return {mask<H>(b & ((1u << L::native) - 1)), mask<H>(b >> L::native)};
  } else {
#if defined(__AVX512F__)
    if constexpr (L::isa == AVX512 && L::width == 8) {
      return reinterpret_cast<typename L::M>(_mm512_movm_epi64(static_cast<__mmask8>(b)));
    }
#endif
    return (splat_u<L>(b) & (splat_u<L>(1) << iota<L>())) != 0;
  }
}

/// `old` with its lanes of `b` (bit i: lane i; lanes 0..W-1) replaced, in increasing lane order,
/// by src[0], src[1], ..., src[popcount(b) - 1]: the lanes a mask selects filled from consecutive
/// memory (AVX-512's VPEXPANDQ), in one load per native vector where a lane at a time would store
/// into the vector's memory and reload it whole (a store-to-load forward that fails). src must be
/// readable for W elements (AVX2 loads a whole native vector); lanes outside b keep their bits.
template <class L>
inline typename L::U expand(typename L::U old, std::uint32_t b, const std::uint64_t* src) {
  if constexpr (is_pair<typename L::U>) {
    using H = Lanes<L::native, L::isa>;
    constexpr std::uint32_t LOW = (1u << L::native) - 1;
    return {expand<H>(old.lo, b & LOW, src),
            expand<H>(old.hi, b >> L::native, src + std::popcount(b & LOW))};
  } else {
#if defined(__AVX512F__)
    if constexpr (L::isa == AVX512 && L::width == 8) {
      return reinterpret_cast<typename L::U>(_mm512_mask_expandloadu_epi64(
          reinterpret_cast<__m512i>(old), static_cast<__mmask8>(b), src));
    }
#endif
#if defined(__AVX2__)
    if constexpr (L::isa == AVX2 && L::width == 4) {
      // Lane i of b takes element popcount(b below i) of the four loaded: a permutation of their
      // 32-bit halves chosen by b, then a blend.
      const __m256i loaded = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src));
      const __m256i placed = _mm256_permutevar8x32_epi32(
          loaded,
          _mm256_load_si256(reinterpret_cast<const __m256i*>(detail::EXPAND4.index[b & 15u])));
      return select(mask<L>(b), reinterpret_cast<typename L::U>(placed), old);
    }
#endif
    typename L::U out = old;
    for (int i = 0, k = 0; i < L::width; ++i)
      if (b >> i & 1u) out[i] = src[k++];
    return out;
  }
}

/// `old` with its lanes of `b` (as in expand) replaced by start, start + 1, ... in increasing
/// lane order, in registers (AVX-512: VPEXPANDQ of start + lane index).
template <class L>
inline typename L::U expand_count(typename L::U old, std::uint32_t b, std::uint64_t start) {
  if constexpr (is_pair<typename L::U>) {
    using H = Lanes<L::native, L::isa>;
    constexpr std::uint32_t LOW = (1u << L::native) - 1;
    return {expand_count<H>(old.lo, b & LOW, start),
            expand_count<H>(old.hi, b >> L::native,
                            start + static_cast<std::uint64_t>(std::popcount(b & LOW)))};
  } else {
#if defined(__AVX512F__)
    if constexpr (L::isa == AVX512 && L::width == 8) {
      return reinterpret_cast<typename L::U>(
          _mm512_mask_expand_epi64(reinterpret_cast<__m512i>(old), static_cast<__mmask8>(b),
                                   reinterpret_cast<__m512i>(splat_u<L>(start) + iota<L>())));
    }
#endif
#if defined(__AVX2__)
    if constexpr (L::isa == AVX2 && L::width == 4) {
      const auto placed = reinterpret_cast<typename L::U>(_mm256_permutevar8x32_epi32(
          reinterpret_cast<__m256i>(splat_u<L>(start) + iota<L>()),
          _mm256_load_si256(reinterpret_cast<const __m256i*>(detail::EXPAND4.index[b & 15u]))));
      return select(mask<L>(b), placed, old);
    }
#endif
    typename L::U out = old;
    for (int i = 0, k = 0; i < L::width; ++i)
      if (b >> i & 1u) out[i] = start + static_cast<std::uint64_t>(k++);
    return out;
  }
}

template <class L>
inline bool any(typename L::M m) {
  if constexpr (L::width == 1) {
    return m[0] != 0;
  } else {
    return bits<L>(m) != 0;
  }
}
/// Applies `op` (a native vector instruction, as a lambda on native vectors) to the one vector or
/// the two halves of a lane type.
template <class V, class Op>
inline V per_native(const V& x, Op op) {
  if constexpr (is_pair<V>) {
    return {per_native(x.lo, op), per_native(x.hi, op)};
  } else {
    return op(x);
  }
}
template <class V, class Op>
inline V per_native(const V& a, const V& b, Op op) {
  if constexpr (is_pair<V>) {
    return {per_native(a.lo, b.lo, op), per_native(a.hi, b.hi, op)};
  } else {
    return op(a, b);
  }
}

namespace detail {
/// op(b, a) on each native vector of a and b, op taking and returning the intrinsic type V.
template <class L, class V, class Op>
inline typename L::D native_op(typename L::D a, typename L::D b, Op op) {
  return per_native(a, b, [op](auto x, auto y) {
    return reinterpret_cast<typename L::ND>(op(reinterpret_cast<V>(y), reinterpret_cast<V>(x)));
  });
}

/// x86's MINPD(b, a) (MAX false) or MAXPD(b, a) (MAX true) lane by lane, as one instruction where
/// this translation unit is compiled for it, else as the compare and blend that gives the same
/// lanes (NaN included: a where either is NaN).
template <class L, bool MAX>
inline typename L::D min_or_max(typename L::D a, typename L::D b) {
#if defined(__AVX512F__)
  if constexpr (L::isa == AVX512 && L::native == 8) {
    return native_op<L, __m512d>(
        a, b, [](__m512d p, __m512d q) { return MAX ? _mm512_max_pd(p, q) : _mm512_min_pd(p, q); });
  }
#endif
#if defined(__AVX2__)
  if constexpr (L::isa == AVX2 && L::native == 4) {
    return native_op<L, __m256d>(
        a, b, [](__m256d p, __m256d q) { return MAX ? _mm256_max_pd(p, q) : _mm256_min_pd(p, q); });
  }
#endif
#if defined(__SSE2__)
  if constexpr (L::isa == BASELINE && L::native == 2) {
    return native_op<L, __m128d>(
        a, b, [](__m128d p, __m128d q) { return MAX ? _mm_max_pd(p, q) : _mm_min_pd(p, q); });
  }
#endif
  return MAX ? sel<L>(b > a, b, a) : sel<L>(b < a, b, a);
}
}  // namespace detail

/// b where b < a, else a (a where either is NaN): exactly x86's MINPD(b, a), which is used where
/// this translation unit is compiled for it (one instruction instead of a compare and a blend).
template <class L>
inline typename L::D min(typename L::D a, typename L::D b) {
  return detail::min_or_max<L, false>(a, b);
}
/// b where b > a, else a (a where either is NaN): exactly x86's MAXPD(b, a) (see min).
template <class L>
inline typename L::D max(typename L::D a, typename L::D b) {
  return detail::min_or_max<L, true>(a, b);
}
template <class L>
inline typename L::D clamp01(typename L::D x) {
  return min<L>(max<L>(x, splat<L>(0.0)), splat<L>(1.0));
}

inline constexpr double SHIFT = 0x1.8p52;  ///< adding it rounds to an integer held in the low bits
inline constexpr double TWO52 = 0x1p52;

/// Integers below 2^52 held in U, converted to doubles exactly.
template <class L>
inline typename L::D to_double(typename L::U x) {
  return std::bit_cast<typename L::D>(x | std::bit_cast<std::uint64_t>(TWO52)) - TWO52;
}
/// Non-negative integer-valued doubles below 2^52, converted to U exactly.
template <class L>
inline typename L::U to_uint(typename L::D x) {
  return std::bit_cast<typename L::U>(x + TWO52) & 0x000FFFFFFFFFFFFFull;
}

/// Single-precision lanes (Lanes::F): splat, min and max with MINPS/MAXPS's semantics, and the
/// conversions between D and F.
template <class L>
inline typename L::F splat_f(float x) {
  return typename L::F{} + x;
}

namespace detail {
/// x86's MINPS(b, a) (MAX false) or MAXPS(b, a) (MAX true) on single-precision lanes: one
/// instruction where this translation unit is compiled for AVX2 or is the SSE2 baseline (GCC
/// lowers the select below to a compare and a blend there: 3-6% more CPU per run at 4 and 8
/// lanes), else that select (the same lanes, NaN included: a where either is NaN). On AVX-512,
/// where GCC lowers the select to a compare into a mask register and a masked move, VMINPS
/// measured 2% slower per run (16 lanes, 5 alternations), so the select stays.
template <class L, bool MAX>
inline typename L::F min_or_max_f(typename L::F a, typename L::F b) {
  using F = typename L::F;
#if defined(__AVX2__)
  if constexpr (L::isa == AVX2 && L::width == 8) {
    const auto p = reinterpret_cast<__m256>(b), q = reinterpret_cast<__m256>(a);
    return reinterpret_cast<F>(MAX ? _mm256_max_ps(p, q) : _mm256_min_ps(p, q));
  }
#endif
#if defined(__SSE2__)
  if constexpr (L::isa == BASELINE && L::width == 4) {
    const auto p = reinterpret_cast<__m128>(b), q = reinterpret_cast<__m128>(a);
    return reinterpret_cast<F>(MAX ? _mm_max_ps(p, q) : _mm_min_ps(p, q));
  }
#endif
  if constexpr (MAX) {
    return b > a ? b : a;
  } else {
    return b < a ? b : a;
  }
}
}  // namespace detail

/// b where b < a, else a (a where either is NaN): exactly x86's MINPS(b, a) (see
/// detail::min_or_max_f).
template <class L>
inline typename L::F min_f(typename L::F a, typename L::F b) {
  return detail::min_or_max_f<L, false>(a, b);
}
/// b where b > a, else a (a where either is NaN): exactly x86's MAXPS(b, a) (see min_f).
template <class L>
inline typename L::F max_f(typename L::F a, typename L::F b) {
  return detail::min_or_max_f<L, true>(a, b);
}

/// Doubles rounded to floats, lane by lane (IEEE round to nearest, ties to even: CVTPD2PS or
/// CVTSD2SS, the same bits at every width; beyond the float range +-inf, NaN stays NaN). A Pair's
/// halves are converted and joined into one vector.
template <class L>
inline typename L::F narrow(typename L::D x) {
  using F = typename L::F;
#if defined(__AVX512F__)
  if constexpr (L::isa == AVX512 && L::width == 16) {
    // The same conversions, joined by one 256-bit insert: GCC lowers the shuffle below to two
    // register moves (zeroing the upper halves) and a VSHUFF32X4.
    const __m256 lo = _mm512_cvtpd_ps(reinterpret_cast<__m512d>(x.lo));
    const __m256 hi = _mm512_cvtpd_ps(reinterpret_cast<__m512d>(x.hi));
    return reinterpret_cast<F>(
        _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(lo)), _mm256_castps_pd(hi), 1));
  }
#endif
#if defined(__AVX2__)
  if constexpr (L::isa == AVX2 && L::width == 8) {
    const __m128 lo = _mm256_cvtpd_ps(reinterpret_cast<__m256d>(x.lo));
    const __m128 hi = _mm256_cvtpd_ps(reinterpret_cast<__m256d>(x.hi));
    return reinterpret_cast<F>(_mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1));
  }
#endif
#if defined(__SSE2__)
  if constexpr (L::isa == BASELINE && L::width == 4) {
    const __m128 lo = _mm_cvtpd_ps(reinterpret_cast<__m128d>(x.lo));
    const __m128 hi = _mm_cvtpd_ps(reinterpret_cast<__m128d>(x.hi));
    return reinterpret_cast<F>(_mm_movelh_ps(lo, hi));
  }
#endif
  if constexpr (is_pair<typename L::D>) {
    using H = typename detail::Vector<float, L::native>::type;
    const H lo = __builtin_convertvector(x.lo, H);
    const H hi = __builtin_convertvector(x.hi, H);
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return __builtin_shufflevector(lo, hi, I...);
    }
    (std::make_index_sequence<L::width>{});
  } else {
    return __builtin_convertvector(x, F);
  }
}
/// The low 32 bits of each U lane (e.g. a generator word), as W 32-bit lanes in one vector. A
/// Pair's halves are joined into one vector (one permute where the instruction set has it).
template <class L>
inline typename L::FU narrow_u(typename L::U x) {
  using FU = typename L::FU;
  if constexpr (is_pair<typename L::U>) {
    static_assert(std::endian::native == std::endian::little, "a word's low half is element 0");
    using H = typename detail::Vector<std::uint32_t, 2 * L::native>::type;
    const H lo = std::bit_cast<H>(x.lo);
    const H hi = std::bit_cast<H>(x.hi);
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return __builtin_shufflevector(lo, hi, (2 * I)...);
    }
    (std::make_index_sequence<L::width>{});
  } else {
    return __builtin_convertvector(x, FU);
  }
}
/// Floats widened to doubles, lane by lane (exact).
template <class L>
inline typename L::D widen(typename L::F x) {
  using D = typename L::D;
#if defined(__AVX512F__)
  if constexpr (L::isa == AVX512 && L::width == 16) {
    // Each half in one conversion (here and for AVX2 and SSE2 below): GCC lowers the shuffles
    // below to conversions of 4 floats at a time (AVX2: 2, through the stack), extracts and
    // inserts (at 16 lanes about 9 instructions instead of 3).
    const __m512 v = reinterpret_cast<__m512>(x);
    const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    return D{reinterpret_cast<typename L::ND>(_mm512_cvtps_pd(_mm512_castps512_ps256(v))),
             reinterpret_cast<typename L::ND>(_mm512_cvtps_pd(hi))};
  }
#endif
#if defined(__AVX2__)
  if constexpr (L::isa == AVX2 && L::width == 8) {
    const __m256 v = reinterpret_cast<__m256>(x);
    return D{reinterpret_cast<typename L::ND>(_mm256_cvtps_pd(_mm256_castps256_ps128(v))),
             reinterpret_cast<typename L::ND>(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)))};
  }
#endif
#if defined(__SSE2__)
  if constexpr (L::isa == BASELINE && L::width == 4) {
    const __m128 v = reinterpret_cast<__m128>(x);
    return D{reinterpret_cast<typename L::ND>(_mm_cvtps_pd(v)),
             reinterpret_cast<typename L::ND>(_mm_cvtps_pd(_mm_movehl_ps(v, v)))};
  }
#endif
  if constexpr (is_pair<D>) {
    using H = typename detail::Vector<float, L::native>::type;
    const H lo = [&]<std::size_t... I>(std::index_sequence<I...>) {
      return __builtin_shufflevector(x, x, I...);
    }
    (std::make_index_sequence<L::native>{});
    const H hi = [&]<std::size_t... I>(std::index_sequence<I...>) {
      return __builtin_shufflevector(x, x, (I + L::native)...);
    }
    (std::make_index_sequence<L::native>{});
    return D{__builtin_convertvector(lo, typename L::ND),
             __builtin_convertvector(hi, typename L::ND)};
  } else {
    return __builtin_convertvector(x, D);
  }
}

/// Square root, lane by lane (IEEE: correctly rounded on every instruction set). The vector
/// instructions are used where this translation unit is compiled for them.
template <class L>
inline typename L::D sqrt(typename L::D x) {
#if defined(__AVX512F__)
  if constexpr (L::isa == AVX512 && L::native == 8) {
    return per_native(x, [](auto v) {
      return reinterpret_cast<typename L::ND>(_mm512_sqrt_pd(reinterpret_cast<__m512d>(v)));
    });
  }
#endif
#if defined(__AVX2__)
  if constexpr (L::isa == AVX2 && L::native == 4) {
    return per_native(x, [](auto v) {
      return reinterpret_cast<typename L::ND>(_mm256_sqrt_pd(reinterpret_cast<__m256d>(v)));
    });
  }
#endif
#if defined(__SSE2__)
  if constexpr (L::isa == BASELINE) {
    return per_native(x, [](auto v) {
      return reinterpret_cast<typename L::ND>(_mm_sqrt_pd(reinterpret_cast<__m128d>(v)));
    });
  }
#endif
  if constexpr (L::isa == PORTABLE || L::isa == BASELINE) {
    return per_native(x, [](auto v) {
      auto out = v;
      for (int i = 0; i < L::native; ++i) out[i] = __builtin_sqrt(v[i]);
      return out;
    });
  }
}

/// Low 32 bits of a times low 32 bits of b, as 64-bit products (exact).
template <class L>
inline typename L::U mul32(typename L::U a, typename L::U b) {
#if defined(__AVX512F__)
  if constexpr (L::isa == AVX512 && L::native == 8) {
    return per_native(a, b, [](auto x, auto y) {
      return reinterpret_cast<typename L::NU>(
          _mm512_mul_epu32(reinterpret_cast<__m512i>(x), reinterpret_cast<__m512i>(y)));
    });
  }
#endif
#if defined(__AVX2__)
  if constexpr (L::isa == AVX2 && L::native == 4) {
    return per_native(a, b, [](auto x, auto y) {
      return reinterpret_cast<typename L::NU>(
          _mm256_mul_epu32(reinterpret_cast<__m256i>(x), reinterpret_cast<__m256i>(y)));
    });
  }
#endif
#if defined(__SSE2__)
  if constexpr (L::isa == BASELINE) {
    return per_native(a, b, [](auto x, auto y) {
      return reinterpret_cast<typename L::NU>(
          _mm_mul_epu32(reinterpret_cast<__m128i>(x), reinterpret_cast<__m128i>(y)));
    });
  }
#endif
  if constexpr (L::isa == PORTABLE || L::isa == BASELINE) {
    return per_native(a, b,
                      [](auto x, auto y) { return (x & 0xFFFFFFFFull) * (y & 0xFFFFFFFFull); });
  }
}

}  // namespace wedge::engine::simd

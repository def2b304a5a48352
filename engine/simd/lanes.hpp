#pragma once
/// Lanes: W values side by side in GCC vector types (W = 1, 4, 8), for running W independent
/// computations (e.g. W Monte Carlo runs) at once, with the basic operations, selects and exact
/// conversions that the SIMD maths (math.hpp), the generator (philox.hpp) and models build on.
/// Every operation is an IEEE-754 basic operation or integer bit manipulation on one lane, so
/// every lane computes the same bits whatever the width, the instruction set or the compiler's
/// vectorisation, provided the build forbids FMA contraction (the wedge::determinism target:
/// docs/design.md, "Determinism").
///
/// Everything here is a template on the lane type, so each (width, instruction set) pair is
/// instantiated in exactly one translation unit, compiled for its instruction set; no function
/// compiled for AVX-512 can stand in for a portable one.
#include <bit>
#include <cstddef>
#include <cstdint>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace wedge::engine::simd {

/// Instruction sets a lane type is compiled for (see above).
enum Isa : int { PORTABLE = 0, AVX2 = 2, AVX512 = 3 };

/// W lanes: D = doubles, U = 64-bit unsigned integers, M = masks (-1 true, 0 false).
template <int W, int ISA = PORTABLE>
struct Lanes {
  static constexpr int width = W;
  static constexpr int isa = ISA;
  typedef double D __attribute__((vector_size(8 * W)));
  typedef std::uint64_t U __attribute__((vector_size(8 * W)));
  typedef std::int64_t M __attribute__((vector_size(8 * W)));
};

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
  return m ? a : b;
}
template <class L>
inline typename L::U sel_u(typename L::M m, typename L::U a, typename L::U b) {
  return m ? a : b;
}
template <class L>
inline typename L::D as_double(typename L::M m) {  // 1.0 where m, else 0.0
  return sel<L>(m, splat<L>(1.0), splat<L>(0.0));
}
template <class L>
inline bool any(typename L::M m) {
  for (int i = 0; i < L::width; ++i) {
    if (m[i] != 0) return true;
  }
  return false;
}
template <class L>
inline typename L::D min(typename L::D a, typename L::D b) {
  return sel<L>(b < a, b, a);
}
template <class L>
inline typename L::D max(typename L::D a, typename L::D b) {
  return sel<L>(b > a, b, a);
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

/// Square root, lane by lane (IEEE: correctly rounded on every instruction set). The vector
/// instructions are used where this translation unit is compiled for them.
template <class L>
inline typename L::D sqrt(typename L::D x) {
#if defined(__AVX512F__)
  if constexpr (L::isa == AVX512 && L::width == 8) {
    return reinterpret_cast<typename L::D>(_mm512_sqrt_pd(reinterpret_cast<__m512d>(x)));
  }
#endif
#if defined(__AVX2__)
  if constexpr (L::isa == AVX2 && L::width == 4) {
    return reinterpret_cast<typename L::D>(_mm256_sqrt_pd(reinterpret_cast<__m256d>(x)));
  }
#endif
  typename L::D out;
  for (int i = 0; i < L::width; ++i) out[i] = __builtin_sqrt(x[i]);
  return out;
}

/// Low 32 bits of a times low 32 bits of b, as 64-bit products (exact).
template <class L>
inline typename L::U mul32(typename L::U a, typename L::U b) {
#if defined(__AVX512F__)
  if constexpr (L::isa == AVX512 && L::width == 8) {
    return reinterpret_cast<typename L::U>(_mm512_mul_epu32(reinterpret_cast<__m512i>(a), reinterpret_cast<__m512i>(b)));
  }
#endif
#if defined(__AVX2__)
  if constexpr (L::isa == AVX2 && L::width == 4) {
    return reinterpret_cast<typename L::U>(_mm256_mul_epu32(reinterpret_cast<__m256i>(a), reinterpret_cast<__m256i>(b)));
  }
#endif
  return (a & 0xFFFFFFFFull) * (b & 0xFFFFFFFFull);
}

}  // namespace wedge::engine::simd

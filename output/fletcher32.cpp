#include "output/fletcher32.hpp"

#include <hdf5.h>

#include <mutex>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

// HDF5 exports its Fletcher-32 filter class (the decoder we keep) and the registration function
// its own predefined filters use (H5Zregister refuses ids below 256), though no public header
// declares them; weak, so that a library without them leaves these null and HDF5's filter in use.
extern "C" {
extern const H5Z_class2_t H5Z_FLETCHER32[1] __attribute__((weak));
herr_t H5Z_register(const H5Z_class2_t* cls) __attribute__((weak));
}

namespace wedge::output {
namespace {

/// HDF5 folds its sums every 360 words (so that 32-bit sums cannot wrap for 16-bit sums).
constexpr std::size_t BLOCK_WORDS = 360;

/// For the `words` big-endian 16-bit words w_j at p: S = sum of w_j, T = sum of (words - j) w_j,
/// exactly (words <= 360: T < 2^33).
void block_sums(const unsigned char* p, std::size_t words, std::uint64_t& s,
                std::uint64_t& t) noexcept {
  std::uint64_t s_sum = 0, t_sum = 0;
  std::size_t j = 0;
#if defined(__SSE2__)
  // Eight words per vector: lane l of vector m is word 8m + l. Per 32-bit lane: A = the words'
  // sum so far, B = the sum of A before each vector (so B = sum over m of (M - 1 - m) * s_m),
  // L = sum of l * w. Every lane stays far below 2^31 for 45 vectors.
  const std::size_t vectors = words / 8;
  if (vectors > 0) {
    const __m128i low_byte = _mm_set1_epi16(0x00FF);
    const __m128i c256 = _mm_set1_epi16(256), c1 = _mm_set1_epi16(1);
    const __m128i l1 = _mm_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7);
    const __m128i l256 = _mm_setr_epi16(0, 256, 512, 768, 1024, 1280, 1536, 1792);
    __m128i a = _mm_setzero_si128(), b = a, l = a;
    for (std::size_t m = 0; m < vectors; ++m) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * m));
      const __m128i hi = _mm_and_si128(v, low_byte);  // the word's first (high) byte
      const __m128i lo = _mm_srli_epi16(v, 8);        // its second (low) byte
      const __m128i sum = _mm_add_epi32(_mm_madd_epi16(hi, c256), _mm_madd_epi16(lo, c1));
      b = _mm_add_epi32(b, a);
      a = _mm_add_epi32(a, sum);
      l = _mm_add_epi32(l, _mm_add_epi32(_mm_madd_epi16(hi, l256), _mm_madd_epi16(lo, l1)));
    }
    const auto hsum = [](__m128i x) {
      alignas(16) std::uint32_t lane[4];
      _mm_store_si128(reinterpret_cast<__m128i*>(lane), x);
      return std::uint64_t{lane[0]} + lane[1] + lane[2] + lane[3];
    };
    const std::uint64_t sv = hsum(a), bv = hsum(b), lv = hsum(l);
    const std::uint64_t m = vectors;
    // sum of j w_j over the vectors = 8 * sum of m * s_m + L, and sum of m * s_m = (M-1) S - B.
    const std::uint64_t jw = 8 * ((m - 1) * sv - bv) + lv;
    s_sum = sv;
    t_sum = words * sv - jw;
    j = 8 * vectors;
  }
#endif
  for (; j < words; ++j) {
    const std::uint64_t w = (std::uint64_t{p[2 * j]} << 8) | p[2 * j + 1];
    s_sum += w;
    t_sum += (words - j) * w;
  }
  s = s_sum;
  t = t_sum;
}

#if defined(__x86_64__) && defined(__GNUC__)
/// block_sums with AVX2 (sixteen words per vector; the same S and T, exactly), for CPUs that
/// have it (runtime dispatch: the binary runs anywhere). The words past the last full vector go
/// to block_sums; a block X of a words followed by Y of b words has S = S_X + S_Y and
/// T = T_X + b S_X + T_Y.
__attribute__((target("avx2"))) void block_sums_avx2(const unsigned char* p, std::size_t words,
                                                     std::uint64_t& s, std::uint64_t& t) noexcept {
  // As block_sums' SSE2 loop, lane l of vector m being word 16m + l: per 32-bit lane A = the
  // words' sum so far, B = the sum of A before each vector, L = sum of l * w. Every lane stays
  // far below 2^31 for 22 vectors (a 360-word block).
  const std::size_t vectors = words / 16;
  std::uint64_t s_head = 0, t_head = 0;
  if (vectors > 0) {
    const __m256i low_byte = _mm256_set1_epi16(0x00FF);
    const __m256i c256 = _mm256_set1_epi16(256), c1 = _mm256_set1_epi16(1);
    const __m256i l1 = _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m256i l256 = _mm256_slli_epi16(l1, 8);
    __m256i a = _mm256_setzero_si256(), b = a, l = a;
    for (std::size_t m = 0; m < vectors; ++m) {
      const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * m));
      const __m256i hi = _mm256_and_si256(v, low_byte);  // the word's first (high) byte
      const __m256i lo = _mm256_srli_epi16(v, 8);        // its second (low) byte
      const __m256i sum = _mm256_add_epi32(_mm256_madd_epi16(hi, c256), _mm256_madd_epi16(lo, c1));
      b = _mm256_add_epi32(b, a);
      a = _mm256_add_epi32(a, sum);
      l = _mm256_add_epi32(
          l, _mm256_add_epi32(_mm256_madd_epi16(hi, l256), _mm256_madd_epi16(lo, l1)));
    }
    alignas(32) std::uint32_t lanes[3][8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[0]), a);
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[1]), b);
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[2]), l);
    std::uint64_t sums[3] = {0, 0, 0};
    for (std::size_t k = 0; k < 3; ++k) {
      for (const std::uint32_t v : lanes[k]) sums[k] += v;
    }
    const std::uint64_t sv = sums[0], bv = sums[1], lv = sums[2];
    const std::uint64_t m = vectors;
    // sum of j w_j = 16 * sum of m * s_m + L, and sum of m * s_m = (M-1) S - B.
    const std::uint64_t jw = 16 * ((m - 1) * sv - bv) + lv;
    s_head = sv;
    t_head = 16 * m * sv - jw;
  }
  const std::size_t done = 16 * vectors, rest = words - done;
  std::uint64_t s_tail = 0, t_tail = 0;
  block_sums(p + 2 * done, rest, s_tail, t_tail);
  s = s_head + s_tail;
  t = t_head + rest * s_head + t_tail;
}

bool cpu_has_avx2() noexcept {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}
#else
bool cpu_has_avx2() noexcept { return false; }
#endif

std::uint32_t fold(std::uint32_t x) noexcept { return (x & 0xffff) + (x >> 16); }

H5Z_class2_t g_class{};

/// The encoder: the chunk's bytes, then their checksum (little-endian, as HDF5's UINT32ENCODE).
/// Reading goes to HDF5's own filter function.
size_t fast_filter(unsigned flags, size_t cd_nelmts, const unsigned cd_values[], size_t nbytes,
                   size_t* buf_size, void** buf) {
  if ((flags & H5Z_FLAG_REVERSE) != 0) {
    return H5Z_FLETCHER32[0].filter(flags, cd_nelmts, cd_values, nbytes, buf_size, buf);
  }
  const std::uint32_t sum = fletcher32(*buf, nbytes);
  if (*buf_size < nbytes + 4) {
    // HDF5 hands filters buffers of its own allocator (H5MM); H5resize_memory is its realloc.
    void* grown = H5resize_memory(*buf, nbytes + 4);
    if (grown == nullptr) return 0;
    *buf = grown;
    *buf_size = nbytes + 4;
  }
  auto* out = static_cast<unsigned char*>(*buf) + nbytes;
  out[0] = static_cast<unsigned char>(sum);
  out[1] = static_cast<unsigned char>(sum >> 8);
  out[2] = static_cast<unsigned char>(sum >> 16);
  out[3] = static_cast<unsigned char>(sum >> 24);
  return nbytes + 4;
}

}  // namespace

std::uint32_t fletcher32(const void* data, std::size_t bytes) noexcept {
  return fletcher32(data, bytes, Fletcher32Isa::best);
}

bool fletcher32_uses_avx2() noexcept { return cpu_has_avx2(); }

std::uint32_t fletcher32(const void* data, std::size_t bytes, Fletcher32Isa isa) noexcept {
  auto* sums = &block_sums;
#if defined(__x86_64__) && defined(__GNUC__)
  if (isa == Fletcher32Isa::best && cpu_has_avx2()) sums = &block_sums_avx2;
#else
  (void)isa;
#endif
  // HDF5 1.10's H5_checksum_fletcher32, block by block: within a block of tlen words it adds
  // each word to sum1 and then sum1 to sum2 (uint32, wrapping), i.e. sum1 += S and
  // sum2 += tlen * sum1 + T (mod 2^32), then folds both; an odd last byte is a word of its own
  // with a zero low byte; then both are folded once more.
  const auto* p = static_cast<const unsigned char*>(data);
  std::size_t len = bytes / 2;
  std::uint32_t sum1 = 0, sum2 = 0;
  while (len > 0) {
    const std::size_t tlen = len > BLOCK_WORDS ? BLOCK_WORDS : len;
    len -= tlen;
    std::uint64_t s = 0, t = 0;
    sums(p, tlen, s, t);
    sum2 = static_cast<std::uint32_t>(sum2 + std::uint64_t{tlen} * sum1 + t);
    sum1 = static_cast<std::uint32_t>(sum1 + s);
    p += 2 * tlen;
    sum1 = fold(sum1);
    sum2 = fold(sum2);
  }
  if (bytes % 2 != 0) {
    sum1 += static_cast<std::uint32_t>(*p) << 8;
    sum2 += sum1;
    sum1 = fold(sum1);
    sum2 = fold(sum2);
  }
  sum1 = fold(sum1);
  sum2 = fold(sum2);
  return (sum2 << 16) | sum1;
}

bool install_fast_fletcher32() noexcept {
  static std::once_flag once;
  static bool installed = false;
  std::call_once(once, [] {
    // (Weak symbols: the addresses are null when this HDF5 lacks them.)
    const void* cls = H5Z_FLETCHER32;
    const void* reg = reinterpret_cast<const void*>(&H5Z_register);
    if (cls == nullptr || reg == nullptr || H5open() < 0) return;
    if (H5Z_FLETCHER32[0].id != H5Z_FILTER_FLETCHER32 || H5Z_FLETCHER32[0].filter == nullptr) {
      return;
    }
    g_class = H5Z_FLETCHER32[0];
    g_class.filter = fast_filter;
    installed = H5Z_register(&g_class) >= 0;
  });
  return installed;
}

}  // namespace wedge::output

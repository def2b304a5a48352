#include "experiments/designs.hpp"

#include "engine/rng.hpp"

#include <boost/random/sobol.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <numeric>

namespace wedge::experiments {

namespace {

/// Stream keys of the designs' own randomness: point index 0xFFFFFFFF is never a run's
/// (docs/design.md); the Latin hypercube uses replicates 0..d-1, the Sobol scrambles these.
constexpr std::uint32_t DESIGN_POINT = 0xFFFFFFFFu;
constexpr std::uint32_t SCRAMBLE_REPLICATES = 0x40000000u;

/// A linear matrix scramble plus a digital shift of one dimension's 32 binary digits: output bit
/// b is the parity of (x & rows[b]) (row b holds bit b and random more significant bits, a
/// lower-triangular matrix with unit diagonal in digit order), then XOR shift.
struct Scramble {
  std::array<std::uint32_t, 32> rows{};
  std::uint32_t shift = 0;

  Scramble(std::uint64_t seed, std::uint32_t draw, std::size_t dimension) {
    engine::Stream stream(engine::StreamKey{seed, DESIGN_POINT, SCRAMBLE_REPLICATES + draw},
                          static_cast<std::uint32_t>(dimension));
    for (unsigned b = 0; b < 32; ++b) {
      const std::uint32_t above = b == 31 ? 0u : ~0u << (b + 1);
      rows[b] = (stream() & above) | (1u << b);
    }
    shift = stream();
  }

  std::uint32_t operator()(std::uint32_t x) const {
    std::uint32_t y = 0;
    for (unsigned b = 0; b < 32; ++b)
      y |= static_cast<std::uint32_t>(std::popcount(x & rows[b]) & 1) << b;
    return y ^ shift;
  }
};

std::vector<std::uint32_t> scrambled(const std::vector<std::uint32_t>& x, std::size_t d,
                                     std::uint64_t seed, std::uint32_t draw) {
  std::vector<Scramble> scrambles;
  for (std::size_t k = 0; k < d; ++k) scrambles.emplace_back(seed, draw, k);
  std::vector<std::uint32_t> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = scrambles[i % d](x[i]);
  return y;
}

/// The Saltelli rows of 2d-dimensional points `x` (see saltelli_points).
std::vector<std::uint32_t> saltelli_rows(const std::vector<std::uint32_t>& x, std::uint64_t n,
                                         std::size_t d) {
  std::vector<std::uint32_t> u;
  u.reserve(n * (d + 2) * d);
  for (std::uint64_t j = 0; j < n; ++j) {
    const std::uint32_t* a = &x[j * 2 * d];
    const std::uint32_t* b = a + d;
    u.insert(u.end(), a, a + d);
    for (std::size_t k = 0; k < d; ++k) {
      for (std::size_t c = 0; c < d; ++c) u.push_back(c == k ? b[c] : a[c]);
    }
    u.insert(u.end(), b, b + d);
  }
  return u;
}

bool has_equal_rows(const std::vector<std::uint32_t>& u, std::size_t d) {
  std::vector<std::size_t> order(u.size() / d);
  std::iota(order.begin(), order.end(), 0);
  const auto row = [&](std::size_t i) { return u.begin() + static_cast<std::ptrdiff_t>(i * d); };
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::lexicographical_compare(row(a), row(a) + static_cast<std::ptrdiff_t>(d), row(b),
                                        row(b) + static_cast<std::ptrdiff_t>(d));
  });
  for (std::size_t i = 1; i < order.size(); ++i) {
    if (std::equal(row(order[i - 1]), row(order[i - 1]) + static_cast<std::ptrdiff_t>(d),
                   row(order[i])))
      return true;
  }
  return false;
}

std::vector<double> unit(const std::vector<std::uint32_t>& x) {
  std::vector<double> u(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) u[i] = static_cast<double>(x[i]) * 0x1.0p-32;
  return u;
}

}  // namespace

std::vector<std::uint32_t> sobol_sequence(std::uint64_t n, std::size_t d) {
  std::vector<std::uint32_t> x(n * d, 0);
  if (n == 0 || d == 0) return x;
  // Boost's engine starts at index 1; index 0 is the origin.
  boost::random::sobol_engine<std::uint32_t, 32> engine(d);
  for (std::size_t i = d; i < x.size(); ++i) x[i] = engine();
  return x;
}

std::vector<double> sobol_points(std::uint64_t n, std::size_t d, std::uint64_t seed) {
  return unit(scrambled(sobol_sequence(n, d), d, seed, 0));
}

std::vector<double> latin_hypercube(std::uint64_t n, std::size_t d, std::uint64_t seed) {
  std::vector<double> u(n * d);
  std::vector<std::uint64_t> strata(n);
  for (std::size_t k = 0; k < d; ++k) {
    engine::Stream stream(engine::StreamKey{seed, DESIGN_POINT, static_cast<std::uint32_t>(k)});
    std::iota(strata.begin(), strata.end(), 0);
    for (std::uint64_t i = n; i > 1; --i) {  // Fisher-Yates
      const auto j = static_cast<std::uint64_t>(stream.uniform() * static_cast<double>(i));
      std::swap(strata[i - 1], strata[std::min(j, i - 1)]);
    }
    for (std::uint64_t i = 0; i < n; ++i) {
      u[i * d + k] = (static_cast<double>(strata[i]) + stream.uniform()) / static_cast<double>(n);
    }
  }
  return u;
}

std::vector<double> saltelli_points(std::uint64_t n, std::size_t d, std::uint64_t seed) {
  if (d == 0) return {};
  const auto base = sobol_sequence(n, 2 * d);
  std::vector<std::uint32_t> rows;
  // Equal rows need two coordinates to coincide: about n / 2^32 per draw, so a second draw is
  // rare and a third practically never needed; the bound only keeps the loop finite.
  for (std::uint32_t draw = 0; draw < 64; ++draw) {
    rows = saltelli_rows(scrambled(base, 2 * d, seed, draw), n, d);
    if (d == 1 || !has_equal_rows(rows, d)) break;
  }
  return unit(rows);
}

double map_unit(const agents::ParamInfo& info, double min, double max, double u) {
  switch (info.type) {
    case agents::ParamType::boolean:
      return u < 0.5 ? 0.0 : 1.0;
    case agents::ParamType::integer: {
      std::vector<double> valid;
      for (double v = std::ceil(min); v <= max; v += 1.0) {
        if (info.in_range(v)) valid.push_back(v);
      }
      if (valid.empty()) return min;
      const auto i = static_cast<std::size_t>(u * static_cast<double>(valid.size()));
      return valid[std::min(i, valid.size() - 1)];
    }
    case agents::ParamType::real:
      break;
  }
  return min + u * (max - min);
}

}  // namespace wedge::experiments

#include "experiments/designs.hpp"

#include "engine/rng.hpp"

#include <boost/random/sobol.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace wedge::experiments {

std::vector<double> sobol_points(std::uint64_t n, std::size_t d) {
  boost::random::sobol_engine<std::uint32_t, 32> engine(d);
  std::vector<double> u(n * d);
  for (auto& x : u) x = static_cast<double>(engine()) * 0x1.0p-32;
  return u;
}

std::vector<double> latin_hypercube(std::uint64_t n, std::size_t d, std::uint64_t seed) {
  std::vector<double> u(n * d);
  std::vector<std::uint64_t> strata(n);
  for (std::size_t k = 0; k < d; ++k) {
    // A stream of its own: the design point index 0xFFFFFFFF is never a run's.
    engine::Stream stream(engine::StreamKey{seed, 0xFFFFFFFFu, static_cast<std::uint32_t>(k)});
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

std::vector<double> saltelli_points(std::uint64_t n, std::size_t d) {
  const auto base = sobol_points(n, 2 * d);
  std::vector<double> u;
  u.reserve(n * (d + 2) * d);
  for (std::uint64_t j = 0; j < n; ++j) {
    const double* a = &base[j * 2 * d];
    const double* b = a + d;
    u.insert(u.end(), a, a + d);
    for (std::size_t k = 0; k < d; ++k) {
      for (std::size_t c = 0; c < d; ++c) u.push_back(c == k ? b[c] : a[c]);
    }
    u.insert(u.end(), b, b + d);
  }
  return u;
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

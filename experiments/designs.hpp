#pragma once
/// Design generators in the unit hypercube, and their mapping to scenario values.
#include "agents/params.hpp"

#include <cstdint>
#include <vector>

namespace wedge::experiments {

/// n points of a d-dimensional Sobol sequence (Boost.Random's sobol_engine, Joe-Kuo directions,
/// the all-zero first point skipped), row-major: u[i * d + k].
std::vector<double> sobol_points(std::uint64_t n, std::size_t d);

/// n points of a Latin hypercube in d dimensions: in every dimension each of the n strata
/// [i/n, (i+1)/n) holds exactly one point. Randomised from `seed` alone.
std::vector<double> latin_hypercube(std::uint64_t n, std::size_t d, std::uint64_t seed);

/// Saltelli's design for first-order and total Sobol indices from n base points in d dimensions:
/// for each base point j, the rows A_j, AB_j^(1), ..., AB_j^(d), B_j (n * (d + 2) rows; A and B
/// are the first and last d coordinates of a 2d-dimensional Sobol point; AB^(k) is A with
/// coordinate k taken from B). The same layout as SALib's saltelli.sample without second order.
std::vector<double> saltelli_points(std::uint64_t n, std::size_t d);

/// The value of key `info` at unit coordinate u in [0, 1) over [min, max]: linear for real keys;
/// for integer keys, one of the valid integers in [min, max] with equal probability; for
/// booleans, false below 1/2.
double map_unit(const agents::ParamInfo& info, double min, double max, double u);

}  // namespace wedge::experiments

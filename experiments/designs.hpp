#pragma once
/// Design generators in the unit hypercube, and their mapping to scenario values.
#include "agents/params.hpp"

#include <cstdint>
#include <vector>

namespace wedge::experiments {

/// The first n points of the unscrambled d-dimensional Sobol sequence (Boost.Random's
/// sobol_engine, Joe-Kuo directions) as 32-bit integers, from index 0 (the all-zero point),
/// row-major: x[i * d + k]. The reference the scrambled designs are built from.
std::vector<std::uint32_t> sobol_sequence(std::uint64_t n, std::size_t d);

/// n points of a d-dimensional scrambled Sobol sequence in [0, 1), row-major: u[i * d + k].
/// The sequence from index 0, each dimension scrambled by a random linear matrix scramble and a
/// digital shift (Matousek 1998; Owen 2003; scipy.stats.qmc.Sobol's default, which SALib's
/// sobol.sample uses) drawn from `seed` alone. Scrambling keeps the net property (every
/// elementary box of a power-of-two sample holds its share of points) and removes the unscrambled
/// sequence's degenerate points: its first point is the origin, its second (0.5, ..., 0.5), and
/// coordinates of different dimensions coincide at many later points.
std::vector<double> sobol_points(std::uint64_t n, std::size_t d, std::uint64_t seed);

/// n points of a Latin hypercube in d dimensions: in every dimension each of the n strata
/// [i/n, (i+1)/n) holds exactly one point. Randomised from `seed` alone.
std::vector<double> latin_hypercube(std::uint64_t n, std::size_t d, std::uint64_t seed);

/// Saltelli's design for first-order and total Sobol indices from n base points in d dimensions:
/// for each base point j, the rows A_j, AB_j^(1), ..., AB_j^(d), B_j (n * (d + 2) rows; A and B
/// are the first and last d coordinates of a 2d-dimensional scrambled Sobol point, as
/// sobol_points(n, 2d, seed); AB^(k) is A with coordinate k taken from B). The same layout as
/// SALib's sobol.sample (calc_second_order=False). For d >= 2 no two rows are equal: a
/// scrambling under which any two rows would coincide is drawn again (the next draw of the same
/// seed). With d = 1, AB^(1) is B by definition.
std::vector<double> saltelli_points(std::uint64_t n, std::size_t d, std::uint64_t seed);

/// The value of key `info` at unit coordinate u in [0, 1) over [min, max]: linear for real keys;
/// for integer keys, one of the valid integers in
/// [min, max] with equal probability; for booleans, false below 1/2.
double map_unit(const agents::ParamInfo& info, double min, double max, double u);

}  // namespace wedge::experiments

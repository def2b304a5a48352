#pragma once
/// Presenting a calibration (`wedge calibrate`): the posterior summary as text, and the JSON
/// document that `wedge calibrate --json` prints and wedge.calibrate() reads.
#include "experiments/calibrate.hpp"

#include <cstdio>
#include <string>

namespace wedge::experiments {

/// The readable summary: the history, the prior, the design, P(history) under the prior, the
/// effective sample size, each key's posterior (mean, sd, quantiles, a marginal histogram) with
/// Monte Carlo intervals, and the most likely points.
void print_calibration(std::FILE* out, const CalibrationResult& result);

/// Everything of the result as one JSON document (docs/calibration.md, "The JSON document").
std::string calibration_json(const CalibrationResult& result);

}  // namespace wedge::experiments

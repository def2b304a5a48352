#pragma once
/// The [calibrate] table of an experiment file (docs/calibration.md), for the two readers of it:
/// calibration_settings (experiments/calibrate_settings.hpp) and the loader, which checks it so
/// that `wedge validate` and `wedge run` refuse a bad table as `wedge calibrate` would. Both are
/// implemented in experiments/calibrate_table.cpp (no engine runner, no HDF5), which the fuzz
/// targets compile with the loader (tests/fuzz/CMakeLists.txt).
#include "experiments/calibrate_settings.hpp"

#include <toml++/toml.h>

#include <string>

namespace wedge::experiments {

/// Reads `table` (the [calibrate] table of the file named `source`) into `settings`; returns
/// whether it gave a history. ConfigError "source:line:column: ..." naming the key and its valid
/// range (unknown keys with did-you-mean, unknown outcome fields and categories).
bool read_calibration_table(const toml::table& table, const std::string& source,
                            CalibrationSettings& settings);

}  // namespace wedge::experiments

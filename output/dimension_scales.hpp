#pragma once
/// netCDF-4 dimension scales (HDF5 H5DS) on a results file, so that netCDF readers such as
/// `xarray.open_dataset(path, engine="h5netcdf", group="summary/format")` see named dimensions
/// (`point`, `category`, `bin`, `run`) and coordinates (the design points, the category labels,
/// the swept keys) instead of phony dimensions. docs/output-format.md ("Dimensions") lists them.
#include <string>

namespace wedge::output {

/// Adds the dimension scales, coordinate links and CF flag attributes to a complete results file
/// that has been written and closed (before it is renamed from NAME.h5.partial to NAME.h5).
/// Only adds objects and attributes: every dataset the readers use keeps its name, type and
/// contents. Does nothing if the file has them already. Flushes and syncs to disk. Throws
/// OutputError naming the file and the object on failure.
void write_dimension_scales(const std::string& path);

/// Whether `path` carries the dimension scales (its /design/point is a dimension scale).
bool has_dimension_scales(const std::string& path);

}  // namespace wedge::output

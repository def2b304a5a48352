#pragma once
/// netCDF-4 dimension scales (HDF5 H5DS) on a results file, so that netCDF readers such as
/// `xarray.open_dataset(path, engine="h5netcdf", group="summary/format")` see named dimensions
/// (`point`, `category`, `bin`, `run`) and coordinates (the design points, the category labels,
/// the swept keys) instead of phony dimensions. docs/output-format.md ("Dimensions") lists them.
#include "output/hdf5.hpp"

#include <string>

namespace wedge::output {

/// Adds the dimension scales, coordinate links and CF flag attributes to a results file whose
/// records and /summary are all written (ResultsWriter::checkpoint does it for a complete file,
/// before it sets `complete`). Only adds objects and attributes: every dataset the readers use
/// keeps its name, type and contents. Idempotent: each step is skipped when done already, so a
/// file interrupted half way through gets the rest, and a second call changes nothing. What it
/// reads of the file goes through the checked layer (hdf5.hpp). Flushes and syncs to disk.
/// Throws OutputError naming the file and the object on failure.
void write_dimension_scales(const h5::File& file);
/// The same on the file at `path` (opened for writing; its lock, if any, is this process's).
void write_dimension_scales(const std::string& path);

/// Whether `path` carries the dimension scales (its /design/point is a dimension scale).
bool has_dimension_scales(const std::string& path);

/// Checks, reading only, that the coordinates write_dimension_scales derived hold what it derives
/// from the rest of the file (the readers of that rest check it first): the category labels or
/// values of every categorical field (/summary/<field>/category), the histogram bins and edges
/// (bin, bin_low, bin_high), the typed copies of integer and boolean design keys
/// (/summary/<key>) and the CF flag_values and flag_meanings; and the scales themselves: each
/// scale's CLASS and NAME, /run never written, and every dimension of the datasets above attached
/// to its scale (DIMENSION_LIST). netCDF readers (xarray with h5netcdf) name and label the numbers
/// with them, and no checksum covers them: a damaged label would relabel correct counts. Files
/// without the scales (older files) are left as they are, unless they show traces of them (then
/// /design/point lost its CLASS). Callers check complete files only (experiments/inspect.cpp,
/// merge's shards): the writer adds the scales before it sets `complete`, so a run killed while
/// adding them leaves a partial file with some of them. Throws OutputError naming the file and
/// the object.
void verify_dimension_scales(const h5::File& file);
void verify_dimension_scales(const std::string& path);

}  // namespace wedge::output

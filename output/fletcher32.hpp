#pragma once
/// HDF5's Fletcher-32 chunk checksum, computed faster on the writing side (issue 13: records
/// nearly free). The checksum is the same function, bit for bit, as HDF5's own
/// H5_checksum_fletcher32 (1.10: 16-bit big-endian words, sums folded every 360 words with
/// 32-bit wrap-around), so files are unchanged: same filter (id 3), same stored bytes.
#include <cstddef>
#include <cstdint>

namespace wedge::output {

/// HDF5's Fletcher-32 of `bytes` bytes at `data` (the value HDF5 1.10 appends to a chunk,
/// little-endian): every 360-word block's two sums computed with AVX2 where the CPU has it
/// (runtime dispatch), else SSE2 (x86-64) or 64-bit arithmetic, then folded exactly as HDF5
/// folds them.
std::uint32_t fletcher32(const void* data, std::size_t bytes) noexcept;

/// Which instructions fletcher32 may use: the best this CPU has, or the portable path alone
/// (SSE2 on x86-64, else 64-bit arithmetic), so that tests can check each against HDF5's sums.
enum class Fletcher32Isa { best, portable };
std::uint32_t fletcher32(const void* data, std::size_t bytes, Fletcher32Isa isa) noexcept;
/// Whether fletcher32 (Fletcher32Isa::best) uses AVX2 on this CPU.
bool fletcher32_uses_avx2() noexcept;

/// Makes HDF5 write Fletcher-32 chunks with fletcher32() above: re-registers filter 3 with a
/// class whose encoder appends that checksum (growing the chunk's buffer in place where it can,
/// instead of HDF5's copy into a new one) and whose decoder is HDF5's own (reading, its checks
/// and its error messages are unchanged). Idempotent; does nothing if this HDF5 does not export
/// its Fletcher-32 class (then HDF5 keeps its own filter). Returns whether it is installed.
bool install_fast_fletcher32() noexcept;

}  // namespace wedge::output

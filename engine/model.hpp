#pragma once
/// The interface a model implements to be run by the engine. The engine knows nothing else of it.
#include "engine/fields.hpp"
#include "engine/rng.hpp"

#include <concepts>
#include <cstdint>
#include <vector>

namespace wedge::engine {

/// A model M provides:
/// - `M::Params`: its parameters for one design point (a plain struct);
/// - `M::Record`: the per-run record (trivially copyable);
/// - `M::run(params, stream)`: one run, a pure function of the parameters and the stream: every
///   random number it uses is a word of that run's stream (engine/rng.hpp), read by position
///   (substream, block) through the engine's generator, never from a counter of its own;
/// - `M::fields()`: the record's fields, categorical first in the order observe() writes them;
/// - `M::observe(record, categories, values)`: the record's category indices and continuous values.
template <class M>
concept Model = requires(const typename M::Params& params, Stream& stream,
                         const typename M::Record& record, std::uint16_t* categories,
                         double* values) {
  { M::run(params, stream) } -> std::same_as<typename M::Record>;
  { M::fields() } -> std::convertible_to<std::vector<FieldSpec>>;
  { M::observe(record, categories, values) } -> std::same_as<void>;
}
&&std::is_trivially_copyable_v<typename M::Record>;

/// A model that can also run many consecutive replicates at once (e.g. in SIMD lanes):
/// `M::run_block(params, key, count, out)` fills out[i] with the record of replicate
/// key.replicate + i, drawn from the streams the engine assigned it (seed key.seed, stream point
/// key.point, which is 0 under common random numbers) through LaneStreams, and identical to what
/// `M::run` gives for that replicate. The runner prefers it.
template <class M>
concept BlockModel = Model<M> && requires(const typename M::Params& params, const StreamKey& key,
                                          std::uint32_t count, typename M::Record* out) {
  { M::run_block(params, key, count, out) } -> std::same_as<void>;
};

}  // namespace wedge::engine

// bfloat16 conversion of fp32 blocks for the engine's bf16 GEMMs (NINEngine's BFloat16.convert).
#ifndef NIN_CBF16_H
#define NIN_CBF16_H

#include <stddef.h>
#include <stdint.h>

/// Rounds a `rows × columns` block of fp32 values (bit patterns, leading dimension `ld` elements)
/// to bfloat16 bit patterns in a block with the same leading dimension (columns past `columns`
/// are not written): round to nearest, ties to even, on the bit pattern,
/// `(bits + 0x7FFF + ((bits >> 16) & 1)) >> 16`; a NaN keeps its sign and upper payload bits and
/// gets the quiet bit, `(bits >> 16) | 0x40`. Subnormals are rounded like any other value (not
/// flushed, unlike the `vcvtneps2bf16` instruction), so every path gives the same bits.
///
/// Runs 16 values per step with AVX-512 (F and BW) where the processor has it (checked at run
/// time), else one by one; both paths give identical results.
void nin_bf16_convert(const uint32_t *source, size_t rows, size_t columns, size_t ld, uint16_t *destination);

/// 1 when `nin_bf16_convert` takes its AVX-512 path on this processor, else 0 (for tests).
int nin_bf16_convert_is_vectorised(void);

/// The one-by-one path of `nin_bf16_convert`, whatever the processor (for tests).
void nin_bf16_convert_scalar(const uint32_t *source, size_t rows, size_t columns, size_t ld, uint16_t *destination);

#endif

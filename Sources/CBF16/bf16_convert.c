#include "CBF16.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static inline uint16_t round_one(uint32_t bits) {
    int nan = (bits & 0x7FFFFFFFu) > 0x7F800000u;
    uint32_t rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
    return (uint16_t)(nan ? ((bits >> 16) | 0x40u) : rounded);
}

void nin_bf16_convert_scalar(const uint32_t *source, size_t rows, size_t columns, size_t ld, uint16_t *destination) {
    for (size_t r = 0; r < rows; r++) {
        const uint32_t *s = source + r * ld;
        uint16_t *d = destination + r * ld;
        for (size_t c = 0; c < columns; c++) d[c] = round_one(s[c]);
    }
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw")))
static void convert_avx512(const uint32_t *source, size_t rows, size_t columns, size_t ld, uint16_t *destination) {
    const __m512i bias = _mm512_set1_epi32(0x7FFF), one = _mm512_set1_epi32(1), quiet = _mm512_set1_epi32(0x40);
    const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF), infinity = _mm512_set1_epi32(0x7F800000);
    for (size_t r = 0; r < rows; r++) {
        const uint32_t *s = source + r * ld;
        uint16_t *d = destination + r * ld;
        size_t c = 0;
        for (; c < columns; c += 16) {
            size_t left = columns - c;
            __mmask16 lanes = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
            __m512i bits = _mm512_maskz_loadu_epi32(lanes, s + c);
            __m512i high = _mm512_srli_epi32(bits, 16);
            __m512i rounded = _mm512_srli_epi32(
                _mm512_add_epi32(_mm512_add_epi32(bits, bias), _mm512_and_si512(high, one)), 16);
            __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(bits, magnitude), infinity);
            __m512i result = _mm512_mask_or_epi32(rounded, nan, high, quiet);
            _mm512_mask_cvtepi32_storeu_epi16(d + c, lanes, result);
        }
    }
}
#endif

int nin_bf16_convert_is_vectorised(void) {
#if defined(__x86_64__)
    // The runtime's CPU model is filled once (idempotent init); each check is a load and a test.
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
#else
    return 0;
#endif
}

void nin_bf16_convert(const uint32_t *source, size_t rows, size_t columns, size_t ld, uint16_t *destination) {
#if defined(__x86_64__)
    if (nin_bf16_convert_is_vectorised()) {
        convert_avx512(source, rows, columns, ld, destination);
        return;
    }
#endif
    nin_bf16_convert_scalar(source, rows, columns, ld, destination);
}

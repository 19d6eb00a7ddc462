/* cpu.c: what the CPU offers, decided once: the one place run-time dispatch is chosen. */
#include "internal.h"

char *getenv(const char *name);
int strcmp(const char *a, const char *b);

/* The widest vectors (bytes) the kernels use: 64 (AVX-512), 32 (AVX2 + FMA) or 16, natively what the
 * CPU and OS support, capped by PYAUTODIFF_SIMD=avx2 or =baseline (so tests reach every variant, and a
 * user can rule out AVX-512's clock penalty on older Intel cores). */
static int simd_bytes = -1;

int ad_simd_bytes(void) {
    int bytes = __atomic_load_n(&simd_bytes, __ATOMIC_RELAXED);
    if (bytes >= 0) return bytes;
#if AD_X86
    __builtin_cpu_init();
    bytes = !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") ? 16
            : __builtin_cpu_supports("avx512f") ? 64 : 32;
    const char *cap = getenv("PYAUTODIFF_SIMD");
    if (cap && strcmp(cap, "baseline") == 0) bytes = 16;
    else if (cap && strcmp(cap, "avx2") == 0 && bytes > 32) bytes = 32;
#else
    bytes = AD_WASM ? AD_SIMD_BYTES : 16;
#endif
    __atomic_store_n(&simd_bytes, bytes, __ATOMIC_RELAXED); /* (racing first callers store the same) */
    return bytes;
}

/* cpu.c: what the CPU offers, decided once: the one place run-time dispatch is chosen. */
#include "internal.h"

#if AD_X86
#include <cpuid.h>
#endif

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

/* A core's L2 in bytes from cpuid's deterministic cache parameters (Intel leaf 4, AMD leaf 0x8000001D), or 0
 * where unknown (wasm, other CPUs): the GEMM's choices that depend on cache sizes read it here. */
static int64_t l2_bytes = -1;

int64_t ad_l2_bytes(void) {
    int64_t bytes = __atomic_load_n(&l2_bytes, __ATOMIC_RELAXED);
    if (bytes >= 0) return bytes;
    bytes = 0;
#if AD_X86
    const unsigned leaves[2] = {4, 0x8000001D};
    unsigned a, b, c, d, top = __get_cpuid_max(0x80000000, 0);
    for (int l = 0; l < 2 && !bytes; l++) {
        if (leaves[l] >= 0x80000000 && top < leaves[l]) continue;
        for (unsigned i = 0; i < 16 && __get_cpuid_count(leaves[l], i, &a, &b, &c, &d); i++) {
            unsigned type = a & 31, level = (a >> 5) & 7;
            if (type == 0) break;
            if (level == 2 && (type == 2 || type == 3)) { /* data or unified */
                bytes = (int64_t)((b >> 22) + 1) * (((b >> 12) & 0x3FF) + 1) * ((b & 0xFFF) + 1) * ((int64_t)c + 1);
                break;
            }
        }
    }
#endif
    __atomic_store_n(&l2_bytes, bytes, __ATOMIC_RELAXED);
    return bytes;
}

/* Whether the GEMM reads a row-major b in place (see gemm_variant.inc) rather than packing it: that pays where a
 * core's L2 holds the deep panels it streams (1 MiB, Zen 4: 128x784 @ 784x512 104 -> 113 GFLOP/s) and loses where
 * it does not (512 KiB, Zen 3: 62 instead of 84 GFLOP/s). Unknown L2: in place, as before this choice existed.
 * PYAUTODIFF_GEMM_B_IN_PLACE=0 or 1 decides instead (tests reach both paths on any CPU). */
#define GEMM_L2_FOR_B_IN_PLACE (1 << 20)
static int b_in_place = -1;

int ad_gemm_b_in_place(void) {
    int in_place = __atomic_load_n(&b_in_place, __ATOMIC_RELAXED);
    if (in_place >= 0) return in_place;
    const char *force = getenv("PYAUTODIFF_GEMM_B_IN_PLACE");
    int64_t l2 = ad_l2_bytes();
    in_place = force && (force[0] == '0' || force[0] == '1') ? force[0] == '1' : l2 == 0 || l2 >= GEMM_L2_FOR_B_IN_PLACE;
    __atomic_store_n(&b_in_place, in_place, __ATOMIC_RELAXED);
    return in_place;
}

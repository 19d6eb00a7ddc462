/* cpu.c: what the CPU offers, decided once: the one place run-time dispatch is chosen. */
#include "internal.h"

#if AD_X86
#include <cpuid.h>
#endif

#if !AD_WASM
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#else
char *getenv(const char *name);
int strcmp(const char *a, const char *b);
#endif

/* The widest vectors (bytes) the kernels use: 64 (AVX-512), 32 (AVX2 + FMA) or 16, natively what the
 * CPU and OS support, capped by PYAUTODIFF_SIMD=avx2 or =baseline (so tests reach every variant, and a
 * user can rule out AVX-512's clock penalty on older Intel cores). */
static int simd_bytes = -1;

int ad_simd_bytes(void) {
    int bytes = __atomic_load_n(&simd_bytes, __ATOMIC_RELAXED);
    if (bytes >= 0) return bytes;
#if AD_X86
    __builtin_cpu_init();
    /* (AVX-512 counts with its VL part, which the GEMM's 8-float AVX-512 tile uses: every AVX-512 CPU but Xeon Phi) */
    bytes = !__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") ? 16
            : __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") ? 64 : 32;
    const char *cap = getenv("PYAUTODIFF_SIMD");
    if (cap && strcmp(cap, "baseline") == 0) bytes = 16;
    else if (cap && strcmp(cap, "avx2") == 0 && bytes > 32) bytes = 32;
#else
    bytes = AD_WASM ? AD_SIMD_BYTES : 16;
#endif
    __atomic_store_n(&simd_bytes, bytes, __ATOMIC_RELAXED); /* (racing first callers store the same) */
    return bytes;
}

/* A core's caches in bytes: L1d, L2 and its share of L3 (0: none or unknown), from cpuid's deterministic cache
 * parameters (Intel leaf 4, AMD leaf 0x8000001D), else from Linux's sysfs, else unknown (wasm, other systems). The
 * GEMM's choices that depend on cache sizes read them here. */
static int64_t caches[3];
static int caches_from = -1; /* AD_CACHES_*, once caches is filled */

#if AD_X86
static int caches_cpuid(int64_t sizes[3]) {
    const unsigned leaves[2] = {4, 0x8000001D};
    unsigned a, b, c, d, top = __get_cpuid_max(0x80000000, 0);
    for (int l = 0; l < 2 && !sizes[1]; l++) {
        if (leaves[l] >= 0x80000000 && top < leaves[l]) continue;
        for (unsigned i = 0; i < 16 && __get_cpuid_count(leaves[l], i, &a, &b, &c, &d); i++) {
            unsigned type = a & 31, level = (a >> 5) & 7, sharing = ((a >> 14) & 0xFFF) + 1;
            if (type == 0) break;
            if (level < 1 || level > 3 || (type != 1 && type != 3)) continue; /* data or unified */
            int64_t bytes = (int64_t)((b >> 22) + 1) * (((b >> 12) & 0x3FF) + 1) * ((b & 0xFFF) + 1) * ((int64_t)c + 1);
            sizes[level - 1] = level == 3 ? bytes / sharing : bytes;
        }
    }
    return sizes[1] ? AD_CACHES_CPUID : AD_CACHES_UNKNOWN;
}
#endif

#if !AD_WASM
/* /sys/devices/system/cpu/cpu0/cache/indexN: level, type (Data, Unified), size ("48K"), shared_cpu_list ("0-3,8") */
static int64_t sysfs_read(int index, const char *name, char *text, int size) {
    char path[96];
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/%s", index, name);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int ok = fgets(text, size, f) != NULL;
    fclose(f);
    return ok ? strtoll(text, NULL, 10) : -1;
}

static int caches_sysfs(int64_t sizes[3]) {
    char text[256], *q;
    for (int index = 0; index < 16; index++) {
        int64_t level = sysfs_read(index, "level", text, sizeof text), bytes, cpus = 0;
        if (level < 0) break;
        if (level < 1 || level > 3 || sysfs_read(index, "type", text, sizeof text) < 0 ||
            (strncmp(text, "Data", 4) != 0 && strncmp(text, "Unified", 7) != 0))
            continue;
        if ((bytes = sysfs_read(index, "size", text, sizeof text)) <= 0) continue;
        bytes <<= strchr(text, 'M') ? 20 : strchr(text, 'K') ? 10 : 0;
        if (sysfs_read(index, "shared_cpu_list", text, sizeof text) >= 0) /* count the CPUs: "0-3,8" is 5 */
            for (q = text; *q >= '0' && *q <= '9';) {
                int64_t lo = strtoll(q, &q, 10), hi = *q == '-' ? strtoll(q + 1, &q, 10) : lo;
                cpus += hi - lo + 1;
                if (*q == ',') q++;
            }
        sizes[level - 1] = level == 3 && cpus > 0 ? bytes / cpus : bytes;
    }
    return sizes[1] ? AD_CACHES_SYSFS : AD_CACHES_UNKNOWN;
}
#endif

int ad_cpu_caches(int64_t sizes[3]) {
    int from = __atomic_load_n(&caches_from, __ATOMIC_ACQUIRE);
    if (from < 0) {
        int64_t found[3] = {0, 0, 0};
        from = AD_CACHES_UNKNOWN;
#if AD_X86
        from = caches_cpuid(found);
#endif
#if !AD_WASM
        if (from == AD_CACHES_UNKNOWN) {
            found[0] = found[1] = found[2] = 0;
            from = caches_sysfs(found);
        }
#endif
        for (int i = 0; i < 3; i++) __atomic_store_n(&caches[i], found[i], __ATOMIC_RELAXED);
        __atomic_store_n(&caches_from, from, __ATOMIC_RELEASE); /* (racing first callers store the same) */
    }
    for (int i = 0; i < 3; i++) sizes[i] = __atomic_load_n(&caches[i], __ATOMIC_RELAXED);
    return from;
}

int64_t ad_l2_bytes(void) {
    int64_t sizes[3];
    ad_cpu_caches(sizes);
    return sizes[1];
}

/* PYAUTODIFF_GEMM_BLOCKING="mc,kc,nc": the GEMM's blocks (in elements) instead of the cache model's (see matmul.c).
 * 1 with the values in out, 0 when unset, -1 when malformed or out of range (then the model's apply, and
 * ad.backend_info() / import report it). */
static int64_t override[3];
static int override_state = -2; /* -2: not read yet */

int ad_gemm_blocking_override(int64_t out[3]) {
    int state = __atomic_load_n(&override_state, __ATOMIC_ACQUIRE);
    if (state == -2) {
        const char *text = getenv("PYAUTODIFF_GEMM_BLOCKING");
        int64_t v[3] = {0, 0, 0};
        state = text != NULL && *text != 0; /* (empty: unset, as `PYAUTODIFF_GEMM_BLOCKING= cmd` means) */
        for (int i = 0; text && i < 3 && state == 1; i++, text++) {
            int digits = 0;
            for (; *text >= '0' && *text <= '9'; text++, digits++)
                if (v[i] <= AD_GEMM_BLOCK_MAX) v[i] = v[i] * 10 + (*text - '0');
            if (!digits || v[i] < 1 || v[i] > AD_GEMM_BLOCK_MAX || *text != (i < 2 ? ',' : '\0')) state = -1;
        }
        for (int i = 0; i < 3; i++) __atomic_store_n(&override[i], v[i], __ATOMIC_RELAXED);
        __atomic_store_n(&override_state, state, __ATOMIC_RELEASE);
    }
    for (int i = 0; i < 3; i++) out[i] = __atomic_load_n(&override[i], __ATOMIC_RELAXED);
    return state;
}

/* Whether the GEMM reads a row-major b in place (see gemm_variant.inc) rather than packing it: that pays where a
 * core's L2 holds the deep panels it streams (1 MiB, Zen 4: 128x784 @ 784x512 104 -> 113 GFLOP/s) and loses where
 * it does not (512 KiB, Zen 3: 62 instead of 84 GFLOP/s). Unknown L2: in place, as before this choice existed.
 * PYAUTODIFF_GEMM_B_IN_PLACE=0 or 1 decides instead (tests reach both paths on any CPU; -1 when unset). A plan set
 * by the tuning (matmul.c) decides per variant, unless forced. */
#define GEMM_L2_FOR_B_IN_PLACE (1 << 20)
static int b_in_place = -1;

int ad_gemm_b_in_place_forced(void) {
    const char *force = getenv("PYAUTODIFF_GEMM_B_IN_PLACE");
    return force && (force[0] == '0' || force[0] == '1') ? force[0] == '1' : -1;
}

int ad_gemm_b_in_place(void) {
    int in_place = __atomic_load_n(&b_in_place, __ATOMIC_RELAXED);
    if (in_place >= 0) return in_place;
    int64_t l2 = ad_l2_bytes();
    in_place = ad_gemm_b_in_place_forced();
    if (in_place < 0) in_place = l2 == 0 || l2 >= GEMM_L2_FOR_B_IN_PLACE;
    __atomic_store_n(&b_in_place, in_place, __ATOMIC_RELAXED);
    return in_place;
}

/* The CPU's identity for the GEMM's tuning cache: "<vendor> family F model M stepping S <brand>" from cpuid
 * (leaves 0, 1, 0x80000002-4), "" elsewhere (the caller adds what the platform tells). */
int ad_cpu_identity(char *text, int64_t size) {
    if (!text || size < 128) return AD_EINVAL;
    text[0] = 0;
#if AD_X86
    unsigned r[12] = {0}, a = 0, b = 0, c = 0, d = 0; /* (__get_cpuid leaves them as they were for a leaf it lacks) */
    char vendor[13] = {0}, brand[49] = {0};
    __get_cpuid(0, &a, &r[0], &r[2], &r[1]); /* (ebx, edx, ecx spell the vendor) */
    memcpy(vendor, r, 12);
    __get_cpuid(1, &a, &b, &c, &d);
    unsigned family = (a >> 8) & 15, model = (a >> 4) & 15;
    if (family == 15) family += (a >> 20) & 255;
    if (family == 6 || family >= 15) model += ((a >> 16) & 15) << 4;
    if (__get_cpuid_max(0x80000000, 0) >= 0x80000004)
        for (unsigned l = 0; l < 3; l++)
            __get_cpuid(0x80000002 + l, &r[4 * l], &r[4 * l + 1], &r[4 * l + 2], &r[4 * l + 3]);
    memcpy(brand, r, 48);
    char *start = brand;
    while (*start == ' ') start++;
    snprintf(text, (size_t)size, "%s family %u model %u stepping %u %s", vendor, family, model, a & 15, start);
#endif
    return AD_OK;
}

/* Whether timing the GEMM tells anything: not under a sanitizer (instrumented loads and stores, not the kernels'
 * speed) nor in WebAssembly (the engine's compiler decides, and its clock is coarse). */
int ad_gemm_can_tune(void) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return 0;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
    return 0;
#endif
#endif
    return !AD_WASM;
}

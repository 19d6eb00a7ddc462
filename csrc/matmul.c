/* matmul.c: batched GEMM, c = alpha * op(a) @ op(b) + beta * c.
 *
 * Large products follow GotoBLAS/BLIS: a KC x NC panel of B (L3) and an MC x KC block of A (L2)
 * are packed in the order the MR x NR micro-kernel reads them, so its inner loop is only loads
 * and FMAs on a register-resident tile of c. Packing absorbs the transposes and zero-pads ragged
 * edges; where the plan says so a row-major A is not packed, the kernel broadcasts straight from its MR rows, and
 * neither is a row-major B when c has few rows (see the driver). Tiny and skinny products skip
 * packing, whose O(mk + kn) cost would dominate, and run unpacked vector loops instead. Large
 * products are split over threads in disjoint blocks of c, each element summed the same way.
 *
 * Every hot function is stamped out of gemm_variant.inc once per (dtype, vector width): natively
 * on x86 baseline SSE2, AVX2+FMA and (float) AVX-512, chosen at run time, elsewhere (wasm) with
 * 16-byte vectors. Everything works on general (row, column) element strides, so op(x) = x^T is
 * just a stride swap, and c^T = b^T a^T lets the kernels run along whichever side of c suits them. */
#include "internal.h"
#if AD_X86
#include <immintrin.h> /* (one intrinsic: MM_BCAST4) */
#endif

typedef float f32x4 __attribute__((vector_size(16)));
typedef double f64x2 __attribute__((vector_size(16)));
#if AD_X86
typedef float f32x8 __attribute__((vector_size(32)));
typedef double f64x4 __attribute__((vector_size(32)));
typedef float f32x16 __attribute__((vector_size(64)));
#define MM_AVX2 __attribute__((target("avx2,fma"))) AD_FP_CONTRACT
#define MM_AVX512 __attribute__((target("avx512f,avx512vl,avx2,fma"))) AD_FP_CONTRACT
#endif
#define MM_BASE AD_FP_CONTRACT
#define MM_INLINE inline __attribute__((always_inline))

#define MM_MIN(x, y) ((x) < (y) ? (x) : (y))
#define MM_MAX(x, y) ((x) > (y) ? (x) : (y))

/* Below this many multiply-adds (or with a side this thin) packing does not pay for itself. */
#define MM_SMALL_MNK (32 * 32 * 32)
#define MM_SMALL_SIDE 4
#define MM_IS_SMALL(m, n, k) ((m) * (n) * (k) < MM_SMALL_MNK || (m) <= MM_SMALL_SIDE || (n) <= MM_SMALL_SIDE)
/* With 64-byte vectors and 32 registers (`wide`) the small path's 4 x 4 vector tile (rows in gemm_variant.inc) beats
 * packing up to 128^3 when b is row-major and the overlapping last vector recomputes at most an eighth of c's vl-float
 * columns: paired A/B on Zen 4, 32^3-128^3 1.02-1.17x (64^3 1.07x), 8x256 @ 256x512 1.02x, 100^3 1.12x, a transposed
 * 1.02-1.03x; n = 33 / 38 (a last vector mostly recomputed) ran 0.78 / 0.94x, so they stay packed. */
#define MM_SMALL_WIDE(wide, vl, m, n, k, csb)                                                         \
    ((wide) && (csb) == 1 && (m) * (n) * (k) <= 128 * 128 * 128 && (n) >= (vl) &&                     \
     ((vl) - (n) % (vl)) % (vl) * 8 <= (n))
/* Threads only for products with at least this many flops per thread (~20 us of work). Waking
 * a sleeping worker costs 30 us or more in a VM, but workers poll for a while after each job
 * (MM_SPIN), so in back-to-back products (training loops) they are already awake. */
#define MM_FLOPS_PER_THREAD 2e6
/* Guided shares (see ad_matmul): at most this many per thread, for products of at least this many
 * flops per thread (~0.5 ms) */
#define MM_GUIDED 8
#define MM_GUIDED_FLOPS_PER_THREAD 5e7
/* threads one product is split over at most (its shares live on the caller's stack) */
#define MM_MAX_THREADS 64

/* Swap the roles of a and b to compute c^T = op(b)^T op(a)^T with the same kernels. */
#define MM_TRANSPOSE_PROBLEM(T)                                            \
    do {                                                                   \
        int64_t t_;                                                        \
        const T *p_ = a; a = b; b = p_;                                    \
        t_ = m; m = n; n = t_;                                             \
        t_ = rsa; rsa = csb; csb = t_;                                     \
        t_ = csa; csa = rsb; rsb = t_;                                     \
        t_ = rsc; rsc = csc; csc = t_;                                     \
    } while (0)

/* x86: the depth loop unrolled 4 times (its counter, pointer steps and branch were 4 of ~24 instructions per 12
 * FMAs). On Zen 3, paired in one process (each build's ad_matmul through ctypes, alternating order, 31 rounds): 3-19%
 * faster on 256^3-1024^3 and the MLP's and leading-dimension products, the narrow 8 x 8 ones within noise
 * (0.96-1.02), while two copies of one build differed by at most 4%; the best rounds were equal, the median ones
 * not: the gain is in the busy host's slow spells. WebAssembly's loop is unmeasured, so left as it was. */
#if AD_X86
#define MM_UNROLL _Pragma("GCC unroll 4")
#else
#define MM_UNROLL
#endif
/* the loops over a register transpose's 8 vectors (t8 in gemm_variant.inc), unrolled in every variant: GCC left
 * them as loops in the AVX-512 variant's pack_b, its vectors went through the stack, and a transposed b's pack
 * cost 3x AVX2's (128x512 @ (784x512)^T 74 -> 99 GFLOP/s on Zen 4, paired A/B) */
#define MM_UNROLL8 _Pragma("GCC unroll 8")
/* keeps a loaded vector in a register: GCC folds a load into every FMA using it, so the dot products' vector of a,
 * feeding NCOL FMAs, was loaded NCOL times (n = 2: 20 loads per 16 FMAs; kept: 12, +15% on Zen 4, and the n = 10
 * product, whose 2-column tail that is, +4-7%, paired A/B) */
#if AD_X86
#define MM_IN_REGISTER(v) __asm__("" : "+v"(v))
/* 4 floats at x in each quarter of a 16-float vector, one load (vbroadcastf32x4); GCC made a shuffle of the vector
 * extension's version a load, a shuffle and the accumulators spilled to the stack (8x slower) */
#define MM_BCAST4(x) ((f32x16)_mm512_broadcast_f32x4(_mm_loadu_ps(x)))
#define MM_BCAST8(x) ((f32x16)_mm512_broadcast_f64x4(_mm256_loadu_pd((const double *)(x)))) /* (8 floats: F, not DQ) */
#else
#define MM_IN_REGISTER(v) (void)0
#endif
/* The depth loop of both kernels, A_I being a's value for row i at p: from a packed panel of b
 * (64-byte aligned, NR apart: a constant step and aligned loads, which Chromium's wasm compiles
 * ~10% faster) or from b in place (rows bstep apart, unaligned loads). A b read in place whose rows
 * are NR long has the packed step but only malloc's alignment (16 bytes): the alignment is tested,
 * not inferred from the step (aligned AVX loads from it crashed on Zen 4). */
#define MM_DEPTH(V, MR, NV, COLS, NEXT_A, A_I, STEP, LOAD_B)                                   \
    MM_UNROLL                                                                                   \
    for (int64_t p = 0; p < kc; p++, NEXT_A, bp += (STEP)) {                                   \
        V bv[NV];                                                                               \
        for (int j = 0; j < (COLS); j++) LOAD_B;                                                \
        for (int i = 0; i < MR; i++)                                                            \
            for (int j = 0; j < (COLS); j++) acc[i][j] += (A_I) * bv[j];                        \
    }
/* (COLS: the first COLS of the tile's NV vectors per row, a constant once inlined) */
#define MM_DEPTH_LOOP(V, MR, NR, NV, COLS, NEXT_A, A_I)                                        \
    if (bstep == NR && (uintptr_t)bp % sizeof(V) == 0) {                                        \
        MM_DEPTH(V, MR, NV, COLS, NEXT_A, A_I, NR, bv[j] = *(const V *)(bp + j * VL))           \
    } else {                                                                                    \
        MM_DEPTH(V, MR, NV, COLS, NEXT_A, A_I, bstep, __builtin_memcpy(&bv[j], bp + j * VL, sizeof(V))) \
    }

/* a row-major b is read in place (see the packed driver in gemm_variant.inc) where the plan says it pays, unless a
 * panel's row is one cache line and the rows are within a line of a multiple of 2 KiB apart: then a panel's rows
 * fall in one or two L1 sets (4 KiB a way on Zen 3/4 and on Intel since Skylake), 16 or more rows in a row for 1023
 * or 1025 floats, and the kernel waits on L2 for them. Paired A/B on Zen 4 with AVX2 (16 floats a row), b packed
 * instead: 128x256 @ 256xN with N = 1024 / 2048 1.31-2.06x / 1.39-1.41x, 64x1024 @ 1024x1024 1.30x; N = 512 (2 KiB):
 * 128x784 @ 784x512 1.03-1.09x, 128x512 @ 512x512 1.07-1.08x, 64x512 @ 512x512 1.07x, 32xK @ Kx512 1.02-1.03x,
 * 128x256 @ 256x512 and 64x784 @ 784x512 0.99-1.01x (the same with 16-byte vectors: 1.03x). Rows of two lines
 * (AVX-512's 32 floats) went either way (N = 2048: 0.93-1.13x). */
#define MM_ALIASING_ROWS(rs, es, nr) \
    ((nr) * (es) <= 64 && (rs) * (es) >= 2048 - 64 && ((rs) * (es) + 64) % 2048 < 128)
#define MM_B_IN_PLACE(m, rsb, csb, o) \
    ((csb) == 1 && (m) <= (o)->mc && (o)->in_place && !MM_ALIASING_ROWS(rsb, (int64_t)sizeof(T), NR))
#define MM_KC_IN_PLACE 2048
/* panels of b packed at a time in the first row block (see the packed driver): a kc x NR panel is sized to half
 * of L1, so 16 of them are 8 L1s' worth (256 KiB on Zen 3), which L2 holds next to the A block */
#define MM_B_CHUNK 16
/* a row-major a is packed (see the packed driver) where the plan says so and c has more than two tiles' columns */
#define MM_PACK_A_ROWS(csa, n, NR, o) ((csa) == 1 && (o)->pack_a && (n) > 2 * (NR))

/* How one product runs: its blocks (MC x KC of A, KC x NC of B, in elements: see mm_blocking), whether a
 * row-major b may be read in place (cpu.c's ad_gemm_b_in_place, or the tuned plan), whether a row-major a is
 * packed (the tuned plan, else on x86), whether it goes deep (the plan allows it, then mm_product decides for the
 * product) and b packed whole beforehand (ad_pack_b), or NULL. */
typedef struct {
    int64_t mc, kc, nc;
    int in_place, pack_a, deep, narrow;
    const void *bp;
} mm_plan;

/* one GEMM of one matrix, any variant: untyped arguments so variants fit one function pointer type */
typedef int (*mm_fn)(int64_t m, int64_t n, int64_t k, const void *a, int64_t rsa, int64_t csa,
                     const void *b, int64_t rsb, int64_t csb, void *c, int64_t rsc, int64_t csc,
                     double alpha, double beta, const mm_plan *o);

/* a variant (stamped out by gemm_variant.inc): its GEMM, its whole-b packing for ad_pack_b, its name for
 * ad.backend_info(), element bytes, register tile, the SIMD level it needs */
typedef struct {
    mm_fn fn;
    void (*pack)(int64_t n, int64_t k, const void *b, int64_t rsb, int64_t csb, void *out);
    const char *name;
    int esize, mr, nr;
    int isa; /* the SIMD level (ad_simd_bytes) it needs: its vectors' bytes, but 64 for AVX-512's 8 x 8 tile */
    int narrow; /* it has the narrow path (WIDE in gemm_variant.inc) */
    int deep;   /* the cache model lets its products go deep on x86 (DEEP in gemm_variant.inc) */
    int kc;     /* the cache model's depth block, 0: from L1d (KC in gemm_variant.inc) */
    int wide;   /* 64-byte vectors and 32 registers: the small path takes more (MM_SMALL_WIDE) */
} mm_variant;
#define MM_NAME_(p) #p
#define MM_NAME(p) MM_NAME_(p)

/* AVX2: 6 x 16 floats; for doubles 4 x 12 rather than 6 x 8, as many accumulators but less
 * padding when n is narrow (n = 10 fills 10/12 instead of 10/16). 16-byte vectors: 4 x 2 vectors,
 * as without FMA each product needs a scratch register (V8: 6 x 2 is ~30% slower, SSE2 equal).
 * AVX-512 (32 registers): 8 x 32 floats, 3-5% faster than 6 x 16 even on Zen 4, whose 512-bit FMAs
 * are no wider than two 256-bit ones (half the instructions, a batch of 128 rows fills whole tiles);
 * 12 x 32 and 14 x 32 were slower (12 or 14 row pointers for an unpacked a exhaust the GPRs). Floats with n <= 12
 * (the MLP's 10 classes): 8 x 8, its one vector per row doing half the 6 x 16 tile's work on 10 columns, whose
 * last two go to the small path (see the packed driver); with AVX-512 the same tile compiled for it (an FMA takes
 * its broadcast operand from memory, 32 registers): 7-17% faster on the narrow products than the AVX2 build on
 * Zen 4 (paired A/B in one process; a 16-float vector per row, 62% of it padding, was no faster there). With a
 * row-major a, most of those go to its narrow path instead (WIDE: 16-float vectors of 4 columns x 4 depths; see
 * mm_narrow). */
#if AD_X86
#define P f32_avx512
#define ATTR MM_AVX512
#define T float
#define V f32x16
#define MR 8
#define NR 32
#define DEEP 1
#define KC 512
#include "gemm_variant.inc"
#define P f32_avx512_8x8
#define ATTR MM_AVX512
#define T float
#define V f32x8
#define MR 8
#define NR 8
#define ISA 64
#define WIDE f32x16
#include "gemm_variant.inc"
#define P f32_avx2
#define ATTR MM_AVX2
#define T float
#define V f32x8
#define MR 6
#define NR 16
#include "gemm_variant.inc"
#define P f32_avx2_8x8
#define ATTR MM_AVX2
#define T float
#define V f32x8
#define MR 8
#define NR 8
#include "gemm_variant.inc"
#define P f64_avx2
#define ATTR MM_AVX2
#define T double
#define V f64x4
#define MR 4
#define NR 12
#include "gemm_variant.inc"
#endif
#define P f32_v16
#define ATTR MM_BASE
#define T float
#define V f32x4
#define MR 4
#define NR 8
#include "gemm_variant.inc"
#define P f64_v16
#define ATTR MM_BASE
#define T double
#define V f64x2
#define MR 4
#define NR 4
#include "gemm_variant.inc"

/* ---- run-time choices ---------------------------------------------------------------------- */

/* The blocks after BLIS' analytical model (Low et al., "Analytical modeling is enough for high-performance BLIS",
 * 2016), from the caches cpu.c finds: KC so that a KC x NR panel of B, which every tile of a row block reuses, fills
 * half of L1d (the other half streams A's rows and c), rounded up to a multiple of 128 (float64's 4 x 12 tile:
 * 170 -> 256, as tuned: 168 ran 128x512 @ (784x512)^T 7-10% slower on Zen 3); MC so that the MC x KC block of A
 * fills a quarter of L2 (half, the model's bound, left B's panels and c too little: float64's 192 x 168 ran the
 * MLP's products 20% slower than 96 x 168 on Zen 3; a quarter gives about BLIS' own Zen blocks); NC so that KC x
 * NC of B fills half of the core's share of L3, at most MM_NC_MAX (a larger panel only grows the scratch, and n is
 * rarely larger). MC a multiple of MR (whole tiles), NC of 96 (every NR: a share of columns starts on a panel of b
 * packed whole). A variant may fix KC instead (KC in gemm_variant.inc): AVX-512's 8 x 32 tile reads 2 vectors of b
 * per 16 FMAs, little enough to stream its panels from L2, and with KC 512 (MC 128 on Zen 4) rather than 128 (MC
 * 512) ran 1024^3 1.11x, (512^2)^T @ (512^2)^T 1.21x, 1024x256 @ 256x1024 1.10x, dy @ W^T of the MLP 1.03-1.05x,
 * the rest 0.99-1.03x (paired A/B on Zen 4; 2 threads: 1024^3 and 512x512 @ (512^2)^T 1.15x). Unknown caches (wasm,
 * other systems): the fixed blocks tuned on Zen 3/4 (32 KiB L1d, 0.5-1 MiB L2). PYAUTODIFF_GEMM_BLOCKING="mc,kc,nc"
 * overrides both (mc and nc rounded down to whole tiles). */
#define MM_NC_MAX AD_GEMM_NC
#define MM_NC_UNIT 96

/* the x86 variants, widest first, then the 16-byte ones every build has */
static const mm_variant *const mm_variants[] = {
#if AD_X86
    &f32_avx512_variant, &f32_avx512_8x8_variant, &f32_avx2_variant, &f32_avx2_8x8_variant, &f64_avx2_variant,
#endif
    &f32_v16_variant, &f64_v16_variant,
};
#define MM_VARIANTS ((int)(sizeof mm_variants / sizeof *mm_variants))

/* Plans set by the tuning (ad_gemm_set_plan: mc, kc, nc, b in place, a packed, deep; mc 0: none), per entry of
 * mm_variants. A product racing a change may read a mix of two plans: each value is valid alone, so the product
 * still is. */
static int64_t mm_tuned[MM_VARIANTS][6];

static int mm_slot(const mm_variant *v) {
    int i = 0;
    while (mm_variants[i] != v) i++;
    return i;
}

/* the entry of mm_variants that is number `variant` of those the chosen SIMD width runs (mm_pick's choices), or
 * -1 past the last */
static int mm_variant_at(int variant) {
    int bytes = MM_MAX(16, ad_simd_bytes()), count = 0;
    for (int i = 0; i < MM_VARIANTS; i++) {
        const mm_variant *v = mm_variants[i];
        if (v->isa <= bytes && (v->isa == 16) == (bytes == 16) && count++ == variant) return i;
    }
    return -1;
}

/* the plan's blocks, b in place, a packed and deep allowed, by precedence: PYAUTODIFF_GEMM_BLOCKING (and
 * _B_IN_PLACE), the tuned plan, the cache model. The model packs a row-major a on x86 (measured there: see the packed
 * driver), not in WebAssembly (not measured there), and goes deep in WebAssembly and with the variants that gained
 * from it on Zen 4 (DEEP: AVX-512's 8 x 32 tile; see mm_product); the tuning times both ways on x86. */
static mm_plan mm_blocking(const mm_variant *v) {
    int64_t sizes[3], set[3], es = v->esize, *tuned = mm_tuned[mm_slot(v)];
    mm_plan o = {.mc = es == 4 ? AD_GEMM_F32_MC : AD_GEMM_F64_MC, .kc = AD_GEMM_KC, .nc = AD_GEMM_NC,
                 .in_place = ad_gemm_b_in_place(), .pack_a = AD_X86, .deep = !AD_X86 || v->deep};
    int64_t tuned_mc = __atomic_load_n(&tuned[0], __ATOMIC_ACQUIRE);
    if (ad_gemm_blocking_override(set) == 1) {
        o.mc = set[0], o.kc = set[1], o.nc = set[2];
    } else if (tuned_mc > 0) {
        o.mc = tuned_mc, o.kc = __atomic_load_n(&tuned[1], __ATOMIC_RELAXED);
        o.nc = __atomic_load_n(&tuned[2], __ATOMIC_RELAXED);
        if (ad_gemm_b_in_place_forced() < 0) o.in_place = (int)__atomic_load_n(&tuned[3], __ATOMIC_RELAXED);
        o.pack_a = (int)__atomic_load_n(&tuned[4], __ATOMIC_RELAXED);
        o.deep = (int)__atomic_load_n(&tuned[5], __ATOMIC_RELAXED);
    } else if (ad_cpu_caches(sizes) != AD_CACHES_UNKNOWN && sizes[0] > 0) {
        o.kc = v->kc ? v->kc : (sizes[0] / 2 / (v->nr * es) + 127) / 128 * 128;
        if (sizes[1] > 0) o.mc = sizes[1] / 4 / (o.kc * es);
        if (sizes[2] > 0) o.nc = MM_MIN(MM_NC_MAX, sizes[2] / 2 / (o.kc * es) / MM_NC_UNIT * MM_NC_UNIT);
    }
    o.mc = MM_MAX(v->mr, o.mc / v->mr * v->mr);
    o.nc = MM_MAX(v->nr, o.nc / v->nr * v->nr);
    return o;
}

/* the GEMM for a dtype at the chosen width; AVX-512's 32 columns from 32 columns of c on, and as many rows when a is
 * transposed (the kernel may then run along them: see gemm in gemm_variant.inc). With half panels and tails of at
 * most 4 columns (gemm_variant.inc) it pads c no more than AVX2's 16 columns do, and ran n = 36-84 1.07-1.55x faster
 * on Zen 4 (paired A/B: n = 44, 50, 52, 60 were AVX2's before, at 0.64-0.71x); below 32 AVX2's tile ran n = 16, 20,
 * 24 1.10-1.27x faster (n = 28 0.96x) */
#define MM_NARROW 12
#define MM_WIDE_32(x) ((x) >= 32)

/* whether a whole product takes the variant's narrow path (gemm_variant.inc): a row-major a, 3-12 columns, and rows
 * enough to spread packing b over. Paired A/B on Zen 4, the 8 x 8 tile -> narrow: 128x512 @ 512x10 1.16x, 256x784 @
 * 784x10 1.40x, 1024^2 @ 1024x10 1.52x, n = 12 1.41x, n = 8 1.17x, n = 3-6 0.96-1.30x; slower with m = 8-32 (0.91-0.97:
 * the packing) and n = 1-2 (0.83-0.93: the dot products use every lane already) */
#define MM_NARROW_MIN_M 48
static int mm_narrow(const mm_variant *v, int64_t m, int64_t n, int transpose_a) {
    return v->narrow && !transpose_a && n >= 3 && n <= MM_NARROW && m >= MM_NARROW_MIN_M;
}

static const mm_variant *mm_pick(int dtype, int64_t m, int64_t n, int transpose_a) {
    int bytes = ad_simd_bytes();
#if AD_X86
    if (dtype == AD_FLOAT32 && bytes == 64 && n <= MM_NARROW) return &f32_avx512_8x8_variant;
    if (dtype == AD_FLOAT32 && bytes == 64 && MM_WIDE_32(n) && (!transpose_a || MM_WIDE_32(m)))
        return &f32_avx512_variant;
    if (dtype == AD_FLOAT32 && bytes >= 32) return n <= MM_NARROW ? &f32_avx2_8x8_variant : &f32_avx2_variant;
    if (bytes >= 32) return &f64_avx2_variant;
#else
    (void)bytes, (void)m, (void)n, (void)transpose_a;
#endif
    return dtype == AD_FLOAT32 ? &f32_v16_variant : &f64_v16_variant;
}

/* ad.backend_info()'s view of the variants this CPU runs (see pyautodiff.h) */
int ad_gemm_blocking(int variant, int64_t *values, char *text, int64_t size) {
    int slot = mm_variant_at(variant);
    if (!values || !text || size < 64 || slot < 0) return AD_EINVAL;
    const mm_variant *v = mm_variants[slot];
    int64_t caches[3], set[3];
    int from = ad_cpu_caches(caches), state = ad_gemm_blocking_override(set);
    mm_plan o = mm_blocking(v);
    const char *source = state == 1 ? "PYAUTODIFF_GEMM_BLOCKING"
                         : __atomic_load_n(&mm_tuned[slot][0], __ATOMIC_RELAXED) ? "set"
                         : from == AD_CACHES_CPUID ? "cpuid" : from == AD_CACHES_SYSFS ? "sysfs" : "fixed";
    int64_t out[13] = {v->mr, v->nr, o.mc, o.kc, o.nc, caches[0], caches[1], caches[2], state, o.in_place, o.pack_a,
                       v->narrow, o.deep};
    memcpy(values, out, sizeof out);
    int64_t at = 0;
    for (const char *w = v->name; *w && at < size - 2;) text[at++] = *w++;
    text[at++] = ' ';
    for (const char *w = source; *w && at < size - 1;) text[at++] = *w++;
    text[at] = 0;
    return AD_OK;
}

int ad_gemm_set_plan(int variant, int64_t mc, int64_t kc, int64_t nc, int b_in_place, int pack_a, int deep) {
    int slot = mm_variant_at(variant);
    int clear = mc == 0 && kc == 0 && nc == 0 && b_in_place == -1 && pack_a == -1 && deep == -1;
    if (slot < 0) return AD_EINVAL;
    if (!clear && (mc < 1 || kc < 1 || nc < 1 || mc > AD_GEMM_BLOCK_MAX || kc > AD_GEMM_BLOCK_MAX ||
                   nc > AD_GEMM_BLOCK_MAX || (b_in_place != 0 && b_in_place != 1) || (pack_a != 0 && pack_a != 1) ||
                   (deep != 0 && deep != 1)))
        return AD_EINVAL;
    int64_t *tuned = mm_tuned[slot];
    __atomic_store_n(&tuned[5], deep, __ATOMIC_RELAXED);
    __atomic_store_n(&tuned[4], pack_a, __ATOMIC_RELAXED);
    __atomic_store_n(&tuned[1], kc, __ATOMIC_RELAXED);
    __atomic_store_n(&tuned[2], nc, __ATOMIC_RELAXED);
    __atomic_store_n(&tuned[3], b_in_place, __ATOMIC_RELAXED);
    __atomic_store_n(&tuned[0], mc, __ATOMIC_RELEASE);
    return AD_OK;
}

static inline int64_t mm_lcm(int64_t x, int64_t y) {
    int64_t a = x, b = y;
    while (b) { int64_t t = a % b; a = b; b = t; }
    return x / a * y;
}

/* A share of a batched product: batch items [b0, b1), and of each the rows [i0, i1) and
 * columns [j0, j1) of c. Shares are disjoint in c, so threads never synchronise. */
typedef struct {
    mm_fn fn;
    mm_plan plan;
    int esize, transpose_a, transpose_b, status;
    int64_t m, n, k, stride_a, stride_b, b0, b1, i0, i1, j0, j1;
    const char *a, *b;
    char *c;
    double alpha, beta;
} mm_share;

static void mm_run(mm_share *s) {
    int64_t m = s->m, n = s->n, k = s->k, es = s->esize;
    int64_t rsa = s->transpose_a ? 1 : k, csa = s->transpose_a ? m : 1;
    int64_t rsb = s->transpose_b ? 1 : n, csb = s->transpose_b ? k : 1;
    mm_plan o = s->plan;
    if (o.bp) o.bp = (const char *)o.bp + s->j0 * k * es; /* (panel j0 / NR: shares start on panels) */
    for (int64_t t = s->b0; t < s->b1 && s->status == AD_OK; t++)
        s->status = s->fn(s->i1 - s->i0, s->j1 - s->j0, k,
                          s->a + (t * s->stride_a + s->i0 * rsa) * es, rsa, csa,
                          s->b + (t * s->stride_b + s->j0 * csb) * es, rsb, csb,
                          s->c + (t * m * n + s->i0 * n + s->j0) * es, n, 1, s->alpha, s->beta,
                          &o);
}

static void mm_run_share(void *shares, int q) {
    mm_run((mm_share *)shares + q);
}

/* rows a deep product may have (one block of them: each panel of b is read once); on Zen 4 512^3 ran 1.05x deep,
 * 1024^3 0.95x and 1024x256 @ 256x1024 0.87x */
#define MM_DEEP_ROWS 512

/* the product with variant v and b packed whole (bp) or NULL, over at most nt threads */
static int mm_product(const mm_variant *v, int64_t batch, int64_t m, int64_t n, int64_t k,
                      const void *a, int64_t stride_a, int transpose_a,
                      const void *b, int64_t stride_b, int transpose_b,
                      void *c, double alpha, double beta, const void *bp, int nt) {
    mm_plan o = mm_blocking(v);
    /* Deep where the plan allows it: a and b read in place over depths up to MM_KC_IN_PLACE, c written once. Paired
     * A/B on Zen 4 (one process, hot), AVX-512's 8 x 32 tile: 128x784 @ 784x512 1.07x, 128x512 @ 512x512 1.08x,
     * 512^3 1.05x, 64^3 0.99x; AVX2's 6 x 16 tile: 0.94-0.95x on the MLP's products, 128x2048 @ 2048x256 0.88x
     * (its b panels, twice the rows per flop, then stream from L2): so the tuning decides per variant. */
    o.deep = o.deep && !transpose_a && !transpose_b && m <= MM_DEEP_ROWS && o.in_place
             && !MM_ALIASING_ROWS(n, v->esize, v->nr); /* (deep reads b in place) */
    if (o.deep) { /* one block of rows, a read in place (a packed block that deep would not fit L2) */
        o.pack_a = 0;
        o.mc = MM_MAX(o.mc, m);
    }
    o.narrow = mm_narrow(v, m, n, transpose_a);
    o.bp = bp;
    mm_share s = {
        .fn = v->fn, .plan = o,
        .esize = v->esize, .transpose_a = transpose_a, .transpose_b = transpose_b,
        .m = m, .n = n, .k = k, .stride_a = stride_a, .stride_b = stride_b,
        .b0 = 0, .b1 = batch, .i0 = 0, .i1 = m, .j0 = 0, .j1 = n,
        .a = a, .b = b, .c = c, .alpha = alpha, .beta = beta, .status = AD_OK,
    };
    double flops = 2.0 * (double)batch * (double)m * (double)n * (double)k;
    if (flops < nt * MM_FLOPS_PER_THREAD) nt = (int)(flops / MM_FLOPS_PER_THREAD);
    if (nt > MM_MAX_THREADS) nt = MM_MAX_THREADS;
    if (nt > 1) {
        /* Shares of the batch when that balances, else of the longer side of c at register-tile
         * boundaries (units of the register tile keep tiles full). A share of columns (or of
         * the batch) packs only its own part of b, so those shrink as the work runs out (guided: each
         * 1/(2 nt) of what is left): a thread on a slower core (a busy neighbour on this VM slows one
         * vCPU by 20%) is then outrun by one small share at most. Small products (a share's fixed
         * costs would show) and shares of rows (each reads all of b) get AD_TASKS_PER_THREAD equal
         * shares per thread. With a transposed a the kernel may run along c's columns (gemm_variant.inc), so units
         * then keep both kinds of tile edge. A share of columns reads a row-major a in place: packing it, every
         * share would pack all of a again (2 threads, Zen 3: 512^3 160 -> 127 GFLOP/s, 128x784 @ 784x512
         * 126 -> 107). */
        mm_share sh[MM_MAX_THREADS * MM_GUIDED];
        int by_batch = batch % nt == 0 || batch >= 4 * nt, by_rows = !by_batch && m > n;
        int64_t len = by_batch ? batch : by_rows ? m : n, ns = (int64_t)nt * AD_TASKS_PER_THREAD;
        int64_t unit = by_batch ? 1 : transpose_a ? mm_lcm(v->mr, v->nr) : by_rows ? v->mr : v->nr;
        int guided = !by_rows && flops >= nt * MM_GUIDED_FLOPS_PER_THREAD;
        int64_t cap = guided ? (int64_t)nt * MM_GUIDED : ns;
        int count = 0;
        for (int64_t t = 0, lo = 0; t < cap && lo < len; t++) {
            int64_t hi = guided ? lo + MM_MAX(unit, ((len - lo) / (2 * nt) + unit / 2) / unit * unit)
                                : (len * (t + 1) / ns + unit / 2) / unit * unit;
            hi = t == cap - 1 ? len : MM_MIN(len, hi);
            if (hi <= lo) continue;
            sh[count] = s;
            if (by_batch) { sh[count].b0 = lo; sh[count].b1 = hi; }
            else if (by_rows) { sh[count].i0 = lo; sh[count].i1 = hi; }
            else { sh[count].j0 = lo; sh[count].j1 = hi; sh[count].plan.pack_a = 0; }
            count++;
            lo = hi;
        }
        ad_run_tasks(count, nt, mm_run_share, sh);
        for (int t = 0; t < count; t++)
            if (sh[t].status != AD_OK) return sh[t].status;
        return AD_OK;
    }
    mm_run(&s);
    return s.status;
}

int ad_matmul(int dtype, int64_t batch, int64_t m, int64_t n, int64_t k,
              const void *a, int64_t stride_a, int transpose_a,
              const void *b, int64_t stride_b, int transpose_b,
              void *c, double alpha, double beta) {
    if (dtype != AD_FLOAT32 && dtype != AD_FLOAT64) return AD_EDTYPE;
    if (batch < 0 || m < 0 || n < 0 || k < 0 || stride_a < 0 || stride_b < 0) return AD_EINVAL;
    if (batch == 0 || m == 0 || n == 0) return AD_OK;
    if (!c || (k > 0 && (!a || !b))) return AD_EINVAL;
    return mm_product(mm_pick(dtype, m, n, transpose_a), batch, m, n, k, a, stride_a, transpose_a, b, stride_b,
                      transpose_b, c, alpha, beta, NULL, ad_get_num_threads());
}

int ad_gemm_run_variant(int variant, int64_t m, int64_t n, int64_t k, const void *a, int transpose_a,
                        const void *b, int transpose_b, void *c) {
    int slot = mm_variant_at(variant);
    if (slot < 0 || m < 0 || n < 0 || k < 0 || (m > 0 && n > 0 && (!c || (k > 0 && (!a || !b))))) return AD_EINVAL;
    if (m == 0 || n == 0) return AD_OK;
    return mm_product(mm_variants[slot], 1, m, n, k, a, 0, transpose_a, b, 0, transpose_b, c, 1.0, 0.0, NULL, 1);
}

/* b is packed whole where the variant's GEMM would pack it per product: a large enough product (not the small
 * path) that is not swapped (a row-major a with k > 1: see gemm in gemm_variant.inc) */
int ad_pack_b(ad_packed_b *pb, int dtype, int64_t m, int64_t n, int64_t k, int transpose_a, const void *b,
              int transpose_b) {
    if (dtype != AD_FLOAT32 && dtype != AD_FLOAT64) return AD_EDTYPE;
    if (!pb || m < 0 || n < 0 || k < 0 || (k > 0 && n > 0 && !b)) return AD_EINVAL;
    const mm_variant *v = mm_pick(dtype, m, n, transpose_a);
    *pb = (ad_packed_b){.variant = v, .b = b, .dtype = dtype, .transpose_a = transpose_a,
                        .transpose_b = transpose_b, .m = m, .n = n, .k = k};
    if (transpose_a || k < 2 || MM_IS_SMALL(m, n, k) || mm_narrow(v, m, n, transpose_a) ||
        MM_SMALL_WIDE(v->wide, 64 / v->esize, m, n, k, transpose_b ? k : 1))
        return AD_OK;
    pb->packed = ad_alloc((n + v->nr - 1) / v->nr * v->nr * k * v->esize);
    if (!pb->packed) return AD_ENOMEM;
    v->pack(n, k, b, transpose_b ? 1 : n, transpose_b ? k : 1, pb->packed);
    return AD_OK;
}

int ad_matmul_packed_b(const ad_packed_b *pb, const void *a, void *c, double alpha, double beta) {
    if (!pb || !pb->variant) return AD_EINVAL;
    if (pb->m == 0 || pb->n == 0) return AD_OK;
    if (!c || (pb->k > 0 && !a)) return AD_EINVAL;
    return mm_product(pb->variant, 1, pb->m, pb->n, pb->k, a, 0, pb->transpose_a, pb->b, 0, pb->transpose_b, c,
                      alpha, beta, pb->packed, ad_get_num_threads());
}

void ad_packed_b_free(ad_packed_b *pb) {
    if (pb) ad_free(pb->packed), pb->packed = NULL;
}

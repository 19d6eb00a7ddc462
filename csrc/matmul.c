/* matmul.c: batched GEMM, c = alpha * op(a) @ op(b) + beta * c.
 *
 * Large products follow GotoBLAS/BLIS: a KC x NC panel of B (L3) and an MC x KC block of A (L2)
 * are packed in the order the MR x NR micro-kernel reads them, so its inner loop is only loads
 * and FMAs on a register-resident tile of c. Packing absorbs the transposes and zero-pads ragged
 * edges; a row-major A is not packed at all, the kernel broadcasts straight from its MR rows, and
 * neither is a row-major B when c has few rows (see the driver). Tiny and skinny products skip
 * packing, whose O(mk + kn) cost would dominate, and run unpacked vector loops instead. Large
 * products are split over threads in disjoint blocks of c, each element summed the same way.
 *
 * Every hot function is stamped out by the MM_* macros once per (dtype, vector width): natively
 * on x86 baseline SSE2, AVX2+FMA and (float) AVX-512, chosen at run time, elsewhere (wasm) with
 * 16-byte vectors. Everything works on general (row, column) element strides, so op(x) = x^T is
 * just a stride swap, and c^T = b^T a^T lets the kernels run along whichever side of c suits them. */
#include "internal.h"

#if AD_THREADS
#include <pthread.h>
#endif

typedef float f32x4 __attribute__((vector_size(16)));
typedef double f64x2 __attribute__((vector_size(16)));
#if AD_X86
typedef float f32x8 __attribute__((vector_size(32)));
typedef double f64x4 __attribute__((vector_size(32)));
typedef float f32x16 __attribute__((vector_size(64)));
#define MM_AVX2 __attribute__((target("avx2,fma"))) AD_FP_CONTRACT
#define MM_AVX512 __attribute__((target("avx512f,avx2,fma"))) AD_FP_CONTRACT
#endif
#define MM_BASE AD_FP_CONTRACT
#define MM_INLINE inline __attribute__((always_inline))

#define MM_MIN(x, y) ((x) < (y) ? (x) : (y))
#define MM_MAX(x, y) ((x) > (y) ? (x) : (y))

/* Below this many multiply-adds (or with a side this thin) packing does not pay for itself. */
#define MM_SMALL_MNK (32 * 32 * 32)
#define MM_SMALL_SIDE 4
/* Threads only for products with at least this many flops per thread (~20 us of work). Waking
 * a sleeping worker costs 30 us or more in a VM, but workers poll for a while after each job
 * (MM_SPIN), so in back-to-back products (training loops) they are already awake. */
#define MM_FLOPS_PER_THREAD 2e6
/* Shares per thread, taken dynamically: a late or preempted thread then delays the others by
 * at most one share; more shares would re-read a (or re-pack b) more often. */
#define MM_SHARES 2
/* Guided shares (see ad_matmul): at most this many per thread, for products of at least this many
 * flops per thread (~0.5 ms) */
#define MM_GUIDED 8
#define MM_GUIDED_FLOPS_PER_THREAD 5e7

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

/* ---- micro-kernels -------------------------------------------------------------------------
 * c[0:mr, 0:nr] = alpha * A @ Bp + beta * c for an MR x NR tile of c, Bp an NR-column panel of
 * depth kc, its rows bstep apart (NR packed, or b's own row stride: see the driver). The MR x NR
 * accumulators plus NR/VL B vectors and one broadcast fit the vector registers (AVX2: 12 + 2 + 1
 * of 16; AVX-512: 16 + 2 + 1 of 32). A comes either packed (MR values per p, contiguous) or
 * straight from MR rows of a row-major a: broadcasting from rows costs the same as from a panel,
 * and skipping that pack (a transposition) matters when n is small. */
/* The depth loop of both kernels, A_I being a's value for row i at p: from a packed panel of b
 * (64-byte aligned, NR apart: a constant step and aligned loads, which Chromium's wasm compiles
 * ~10% faster) or from b in place (rows bstep apart, unaligned loads). */
#define MM_DEPTH(V, MR, NV, NEXT_A, A_I, STEP, LOAD_B)                                         \
    for (int64_t p = 0; p < kc; p++, NEXT_A, bp += (STEP)) {                                   \
        V bv[NV];                                                                               \
        for (int j = 0; j < NV; j++) LOAD_B;                                                    \
        for (int i = 0; i < MR; i++)                                                            \
            for (int j = 0; j < NV; j++) acc[i][j] += (A_I) * bv[j];                            \
    }
#define MM_DEPTH_LOOP(V, MR, NR, NV, NEXT_A, A_I)                                              \
    if (bstep == NR) {                                                                          \
        MM_DEPTH(V, MR, NV, NEXT_A, A_I, NR, bv[j] = *(const V *)(bp + j * VL))                 \
    } else {                                                                                    \
        MM_DEPTH(V, MR, NV, NEXT_A, A_I, bstep, __builtin_memcpy(&bv[j], bp + j * VL, sizeof(V))) \
    }

#define MM_KERNEL(P, ATTR, T, V, MR, NR)                                                       \
enum { P##_NV = NR / (sizeof(V) / sizeof(T)) };                                                 \
                                                                                                \
/* partial tiles and strided c go through a small buffer */                                     \
static ATTR MM_INLINE void P##_store_tile(V acc[MR][P##_NV], T *c, int64_t rsc, int64_t csc,    \
                                          int mr, int nr, T alpha, T beta) {                    \
    enum { VL = sizeof(V) / sizeof(T) };                                                        \
    if (mr == MR && nr == NR && csc == 1) {                                                     \
        for (int i = 0; i < MR; i++)                                                            \
            for (int j = 0; j < P##_NV; j++) {                                                  \
                T *cp = c + i * rsc + j * VL;                                                   \
                V r = alpha * acc[i][j];                                                        \
                if (beta != 0) {                                                                \
                    V old;                                                                      \
                    __builtin_memcpy(&old, cp, sizeof old);                                     \
                    r += beta * old;                                                            \
                }                                                                               \
                __builtin_memcpy(cp, &r, sizeof r);                                             \
            }                                                                                   \
    } else {                                                                                    \
        T t[MR][NR];                                                                            \
        __builtin_memcpy(t, acc, sizeof t);                                                     \
        int64_t s_in = rsc, s_out = csc, n_in = mr, n_out = nr; /* walk c's contiguous way */  \
        if (rsc == 1) s_in = csc, s_out = rsc, n_in = nr, n_out = mr;                           \
        for (int64_t u = 0; u < n_in; u++)                                                      \
            for (int64_t v = 0; v < n_out; v++) {                                               \
                T x = rsc == 1 ? t[v][u] : t[u][v], *cp = c + u * s_in + v * s_out;            \
                *cp = beta != 0 ? alpha * x + beta * *cp : alpha * x;                           \
            }                                                                                   \
    }                                                                                           \
}                                                                                               \
                                                                                                \
static ATTR void P##_kernel(int64_t kc, const T *restrict ap, int64_t astep,                   \
                            const T *restrict bp, int64_t bstep, T *c, int64_t rsc,             \
                            int64_t csc, int mr, int nr, T alpha, T beta) {                     \
    enum { VL = sizeof(V) / sizeof(T) };                                                        \
    V acc[MR][P##_NV];                                                                          \
    for (int i = 0; i < MR; i++)                                                                \
        for (int j = 0; j < P##_NV; j++) acc[i][j] = (V){0};                                    \
    for (int i = 0; i < MR; i++) __builtin_prefetch(c + i * rsc, 1);                            \
    MM_DEPTH_LOOP(V, MR, NR, P##_NV, ap += astep, ap[i])                                        \
    P##_store_tile(acc, c, rsc, csc, mr, nr, alpha, beta);                                      \
}                                                                                               \
                                                                                                \
/* a points at row 0 of the tile, rows rsa apart and contiguous in p; rows past mr repeat the  \
 * last one so the loop stays branch-free. */                                                   \
static ATTR void P##_kernel_rows(int64_t kc, const T *a, int64_t rsa, const T *restrict bp,     \
                                 int64_t bstep, T *c, int64_t rsc, int64_t csc, int mr, int nr, \
                                 T alpha, T beta) {                                             \
    enum { VL = sizeof(V) / sizeof(T) };                                                        \
    V acc[MR][P##_NV];                                                                          \
    const T *ar[MR];                                                                            \
    for (int i = 0; i < MR; i++) ar[i] = a + MM_MIN(i, mr - 1) * rsa;                           \
    for (int i = 0; i < MR; i++)                                                                \
        for (int j = 0; j < P##_NV; j++) acc[i][j] = (V){0};                                    \
    for (int i = 0; i < MR; i++) __builtin_prefetch(c + i * rsc, 1);                            \
    MM_DEPTH_LOOP(V, MR, NR, P##_NV, (void)0, ar[i][p])                                         \
    P##_store_tile(acc, c, rsc, csc, mr, nr, alpha, beta);                                      \
}

/* ---- packing ------------------------------------------------------------------------------
 * x (rows x depth, strides rs/cs) -> panels of R rows: panel q holds, for each p < depth, the R
 * values x[q*R + 0..R-1, p] (zeros past the last row). Used for A (R = MR) and for B^T (R = NR).
 * When panel rows are adjacent in memory (rs == 1) every p is a plain R-element copy; those go
 * 16 p at a time across all panels, so each cache line of x is fetched once (a panel alone uses
 * part of each line, and its lines can be 4 KB apart, all in one L1 set). Otherwise (a transposing
 * pack) 8 x 8 blocks are transposed in registers, 16 p of 8 rows at a time. */
#define MM_T8(P, ATTR, T)                                                                       \
typedef T P##_v8 __attribute__((vector_size(8 * sizeof(T))));                                   \
/* out[p * os + i] = x[i * rs + p] for i, p < 8: three rounds of pairwise shuffles */           \
static ATTR MM_INLINE void P##_t8(const T *x, int64_t rs, T *out, int64_t os) {                 \
    P##_v8 r[8], t[8], u[8];                                                                    \
    for (int i = 0; i < 8; i++) __builtin_memcpy(&r[i], x + i * rs, sizeof r[i]);              \
    for (int i = 0; i < 8; i += 2) {                                                            \
        t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);               \
        t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);         \
    }                                                                                           \
    for (int i = 0; i < 8; i += 4)                                                              \
        for (int h = 0; h < 2; h++) {                                                           \
            u[i + 2 * h] = __builtin_shufflevector(t[i + h], t[i + h + 2], 0, 1, 8, 9, 4, 5, 12, 13); \
            u[i + 2 * h + 1] =                                                                  \
                __builtin_shufflevector(t[i + h], t[i + h + 2], 2, 3, 10, 11, 6, 7, 14, 15);    \
        }                                                                                       \
    for (int p = 0; p < 4; p++) {                                                               \
        P##_v8 lo = __builtin_shufflevector(u[p], u[p + 4], 0, 1, 2, 3, 8, 9, 10, 11);          \
        P##_v8 hi = __builtin_shufflevector(u[p], u[p + 4], 4, 5, 6, 7, 12, 13, 14, 15);        \
        __builtin_memcpy(out + p * os, &lo, sizeof lo);                                         \
        __builtin_memcpy(out + (p + 4) * os, &hi, sizeof hi);                                   \
    }                                                                                           \
}

#define MM_PACK(P, ATTR, T, R, NAME)                                                            \
static ATTR void P##_##NAME(int64_t rows, int64_t depth, const T *x, int64_t rs, int64_t cs,    \
                            T *restrict out) {                                                  \
    int64_t full = rows / R * R;                                                                \
    if (rs == 1) {                                                                              \
        for (int64_t p0 = 0; p0 < depth; p0 += 16) {                                            \
            int64_t p1 = MM_MIN(p0 + 16, depth);                                                \
            for (int64_t i0 = 0; i0 < full; i0 += R)                                            \
                for (int64_t p = p0; p < p1; p++)                                               \
                    for (int i = 0; i < R; i++) out[i0 * depth + p * R + i] = x[i0 + p * cs + i]; \
        }                                                                                       \
    } else {                                                                                    \
        int64_t p8 = cs == 1 && R % 8 == 0 ? depth / 8 * 8 : 0;                                 \
        for (int64_t i0 = 0; i0 < full; i0 += R)                                                \
            for (int64_t p0 = 0; p0 < depth; p0 += 16) {                                        \
                int64_t p1 = MM_MIN(p0 + 16, depth), pv = MM_MIN(p1, p8);                       \
                for (int i = 0; i < R; i += 8) /* (each row's line is used up before the next) */ \
                    for (int64_t p = p0; p < pv; p += 8)                                        \
                        P##_t8(x + (i0 + i) * rs + p, rs, out + i0 * depth + p * R + i, R);     \
                for (int i = 0; i < R; i++)                                                     \
                    for (int64_t p = MM_MAX(p0, pv); p < p1; p++)                               \
                        out[i0 * depth + p * R + i] = x[(i0 + i) * rs + p * cs];                \
            }                                                                                   \
    }                                                                                           \
    if (full < rows) {                                                                          \
        int64_t r = rows - full;                                                                \
        for (int64_t p = 0; p < depth; p++)                                                     \
            for (int i = 0; i < R; i++)                                                         \
                out[full * depth + p * R + i] = i < r ? x[(full + i) * rs + p * cs] : 0;        \
    }                                                                                           \
}

/* ---- packed driver ------------------------------------------------------------------------
 * Loop order jc (NC) / pc (KC) / ic (MC) / jr (NR) / ir (MR): the B micro-panel stays in L1
 * while the kernel sweeps the A block in L2 (packed unless a is row-major: see the kernels).
 * A row-major b is read in place (MM_B_IN_PLACE) when c has at most MC rows: then each panel of
 * b serves one sweep of at most MC / MR tiles, and packing it (a pass over b from L3) cost more
 * than the strided reads from L2 (x @ W of 128x784 @ 784x512: 104 -> 108 GF/s). Only a ragged
 * last panel is packed (zero-padded, at bp). When the whole product (not just this share of it)
 * has row-major a and b and at most MC rows (`deep`), no panel needs to fit a cache, and depths
 * up to MM_KC_IN_PLACE save re-reading c per block of KC (108 -> 112 GF/s); deciding on the whole
 * product keeps every element's sum the same however threads split c. ap and bp are 64-byte
 * aligned buffers. */
#define MM_B_IN_PLACE(m, csb, MC) ((csb) == 1 && (m) <= (MC))
#define MM_KC_IN_PLACE 2048
#define MM_PACKED(P, ATTR, T, MR, NR, MC, KC, NC)                                               \
static ATTR void P##_packed(int64_t m, int64_t n, int64_t k, const T *a, int64_t rsa,           \
                            int64_t csa, const T *b, int64_t rsb, int64_t csb, T *c,            \
                            int64_t rsc, int64_t csc, T alpha, T beta, T *ap, T *bp,            \
                            int64_t kcap) {                                                     \
    int64_t kblocks = (k + kcap - 1) / kcap;                                                    \
    int64_t kc0 = (k + kblocks - 1) / kblocks; /* even depths */                                \
    int a_inplace = rsa == 1 && n <= 2 * NR;                                                    \
    for (int64_t jc = 0; jc < n; jc += NC) {                                                    \
        int64_t nc = MM_MIN(NC, n - jc);                                                        \
        for (int64_t pc = 0; pc < k; pc += kc0) {                                               \
            int64_t kc = MM_MIN(kc0, k - pc);                                                   \
            T beta_p = pc == 0 ? beta : 1;                                                      \
            const T *b0 = b + pc * rsb + jc * csb;                                              \
            int64_t full_b = MM_B_IN_PLACE(m, csb, MC) ? nc / NR * NR : 0; /* read in place */  \
            if (full_b < nc) P##_pack_b(nc - full_b, kc, b0 + full_b, csb, rsb, bp);            \
            for (int64_t ic = 0; ic < m; ic += MC) {                                            \
                int64_t mc = MM_MIN(MC, m - ic);                                                \
                const T *a0 = a + ic * rsa + pc * csa;                                          \
                /* a stored transposed already holds MR-row panels, csa apart per p: for a     \
                 * narrow b, where packing a would cost a good part of the product, only the  \
                 * ragged last panel (which would read past a) is packed */                   \
                int64_t full = a_inplace ? mc / MR * MR : 0;                                    \
                if (csa != 1 && full < mc)                                                      \
                    P##_pack_a(mc - full, kc, a0 + full * rsa, rsa, csa, ap + full * kc);       \
                for (int64_t jr = 0; jr < nc; jr += NR)                                         \
                    for (int64_t ir = 0; ir < mc; ir += MR) {                                   \
                        T *ct = c + (ic + ir) * rsc + (jc + jr) * csc;                          \
                        int mr = (int)MM_MIN(MR, mc - ir), nr = (int)MM_MIN(NR, nc - jr);       \
                        const T *bt = jr < full_b ? b0 + jr : bp + (jr - full_b) * kc;          \
                        int64_t bstep = jr < full_b ? rsb : NR;                                 \
                        if (csa == 1)                                                           \
                            P##_kernel_rows(kc, a0 + ir * rsa, rsa, bt, bstep, ct, rsc, csc,    \
                                            mr, nr, alpha, beta_p);                             \
                        else if (ir < full)                                                     \
                            P##_kernel(kc, a0 + ir, csa, bt, bstep, ct, rsc, csc, mr, nr,       \
                                       alpha, beta_p);                                          \
                        else                                                                    \
                            P##_kernel(kc, ap + ir * kc, MR, bt, bstep, ct, rsc, csc, mr, nr,   \
                                       alpha, beta_p);                                          \
                    }                                                                           \
            }                                                                                   \
        }                                                                                       \
    }                                                                                           \
}

/* ---- unpacked small path ------------------------------------------------------------------ */
#define MM_SMALL(P, ATTR, T, V)                                                                 \
enum { P##_VL = sizeof(V) / sizeof(T) };                                                        \
                                                                                                \
static ATTR MM_INLINE V P##_loadu(const T *p) {                                                 \
    V v;                                                                                        \
    __builtin_memcpy(&v, p, sizeof v);                                                          \
    return v;                                                                                   \
}                                                                                               \
                                                                                                \
/* c[lane0*csc ...] = alpha * v + beta * c for lanes lane0..VL-1 */                             \
static ATTR MM_INLINE void P##_storev(T *c, int64_t csc, V v, int lane0, T alpha, T beta) {     \
    v *= alpha;                                                                                 \
    if (csc == 1 && lane0 == 0) {                                                               \
        if (beta != 0) v += beta * P##_loadu(c);                                                \
        __builtin_memcpy(c, &v, sizeof v);                                                      \
    } else {                                                                                    \
        for (int l = lane0; l < P##_VL; l++)                                                    \
            c[l * csc] = beta != 0 ? v[l] + beta * c[l * csc] : v[l];                           \
    }                                                                                           \
}                                                                                               \
                                                                                                \
/* R rows of c, vectors along j over rows of b (which must be contiguous, n >= VL); the ragged \
 * end is one more vector overlapping the previous one, stored from its first new lane. */      \
static ATTR MM_INLINE void P##_rows(int R, int64_t n, int64_t k, const T *a, int64_t rsa,       \
                                    int64_t csa, const T *b, int64_t rsb, T *c, int64_t rsc,    \
                                    int64_t csc, T alpha, T beta) {                             \
    enum { VL = P##_VL };                                                                       \
    int64_t j = 0;                                                                              \
    for (; j + 2 * VL <= n; j += 2 * VL) {                                                      \
        V acc[4][2];                                                                            \
        for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = (V){0};                             \
        for (int64_t p = 0; p < k; p++) {                                                       \
            V b0 = P##_loadu(b + p * rsb + j), b1 = P##_loadu(b + p * rsb + j + VL);            \
            for (int r = 0; r < R; r++) {                                                       \
                T av = a[r * rsa + p * csa];                                                    \
                acc[r][0] += av * b0;                                                           \
                acc[r][1] += av * b1;                                                           \
            }                                                                                   \
        }                                                                                       \
        for (int r = 0; r < R; r++) {                                                           \
            P##_storev(c + r * rsc + j * csc, csc, acc[r][0], 0, alpha, beta);                  \
            P##_storev(c + r * rsc + (j + VL) * csc, csc, acc[r][1], 0, alpha, beta);           \
        }                                                                                       \
    }                                                                                           \
    while (j < n) {                                                                             \
        int64_t j0 = MM_MIN(j, n - VL);                                                         \
        V acc[4];                                                                               \
        for (int r = 0; r < R; r++) acc[r] = (V){0};                                            \
        for (int64_t p = 0; p < k; p++) {                                                       \
            V b0 = P##_loadu(b + p * rsb + j0);                                                 \
            for (int r = 0; r < R; r++) acc[r] += a[r * rsa + p * csa] * b0;                    \
        }                                                                                       \
        for (int r = 0; r < R; r++)                                                             \
            P##_storev(c + r * rsc + j0 * csc, csc, acc[r], (int)(j - j0), alpha, beta);        \
        j = j0 + VL;                                                                            \
    }                                                                                           \
}                                                                                               \
                                                                                                \
static ATTR void P##_vecj(int64_t m, int64_t n, int64_t k, const T *a, int64_t rsa,             \
                          int64_t csa, const T *b, int64_t rsb, T *c, int64_t rsc,              \
                          int64_t csc, T alpha, T beta) {                                       \
    int64_t i = 0;                                                                              \
    for (; i + 4 <= m; i += 4)                                                                  \
        P##_rows(4, n, k, a + i * rsa, rsa, csa, b, rsb, c + i * rsc, rsc, csc, alpha, beta);   \
    switch (m - i) {                                                                            \
    case 3: P##_rows(3, n, k, a + i * rsa, rsa, csa, b, rsb, c + i * rsc, rsc, csc, alpha, beta); break; \
    case 2: P##_rows(2, n, k, a + i * rsa, rsa, csa, b, rsb, c + i * rsc, rsc, csc, alpha, beta); break; \
    case 1: P##_rows(1, n, k, a + i * rsa, rsa, csa, b, rsb, c + i * rsc, rsc, csc, alpha, beta); break; \
    }                                                                                           \
}                                                                                               \
                                                                                                \
/* NCOL entries of one row of c as dot products along p; a and the NCOL rows of bt (= columns \
 * of b, ldbt apart) are contiguous in p. */                                                    \
static ATTR MM_INLINE void P##_dots(int NCOL, int64_t k, const T *a, const T *bt, int64_t ldbt, \
                                    T *c, int64_t csc, T alpha, T beta) {                       \
    V acc[4];                                                                                   \
    int64_t p = 0;                                                                              \
    for (int q = 0; q < NCOL; q++) acc[q] = (V){0};                                             \
    for (; p + P##_VL <= k; p += P##_VL) {                                                      \
        V av = P##_loadu(a + p);                                                                \
        for (int q = 0; q < NCOL; q++) acc[q] += av * P##_loadu(bt + q * ldbt + p);             \
    }                                                                                           \
    for (int q = 0; q < NCOL; q++) {                                                            \
        T s = 0;                                                                                \
        for (int l = 0; l < P##_VL; l++) s += acc[q][l];                                        \
        for (int64_t pp = p; pp < k; pp++) s += a[pp] * bt[q * ldbt + pp];                     \
        c[q * csc] = beta != 0 ? alpha * s + beta * c[q * csc] : alpha * s;                     \
    }                                                                                           \
}                                                                                               \
                                                                                                \
static ATTR void P##_dotrow(int64_t n, int64_t k, const T *a, const T *bt, int64_t ldbt, T *c,  \
                            int64_t csc, T alpha, T beta) {                                     \
    int64_t j = 0;                                                                              \
    for (; j + 4 <= n; j += 4)                                                                  \
        P##_dots(4, k, a, bt + j * ldbt, ldbt, c + j * csc, csc, alpha, beta);                  \
    switch (n - j) {                                                                            \
    case 3: P##_dots(3, k, a, bt + j * ldbt, ldbt, c + j * csc, csc, alpha, beta); break;       \
    case 2: P##_dots(2, k, a, bt + j * ldbt, ldbt, c + j * csc, csc, alpha, beta); break;       \
    case 1: P##_dots(1, k, a, bt + j * ldbt, ldbt, c + j * csc, csc, alpha, beta); break;       \
    }                                                                                           \
}                                                                                               \
                                                                                                \
/* Picks the loop shape from the strides: vectors along j need rows of b contiguous, dot      \
 * products need rows of a and columns of b contiguous; the transposed problem is tried too,  \
 * and what is still strided is copied in small stack chunks (no allocation). */                \
static ATTR void P##_small(int64_t m, int64_t n, int64_t k, const T *a, int64_t rsa,            \
                           int64_t csa, const T *b, int64_t rsb, int64_t csb, T *c,             \
                           int64_t rsc, int64_t csc, T alpha, T beta) {                         \
    enum { VL = P##_VL, BUF = 2048 };                                                           \
    T buf[BUF] __attribute__((aligned(64)));                                                    \
    if (!(csb == 1 && n >= VL)) {                                                               \
        int dot_here = csa == 1 && (rsb == 1 || n <= 4);                                        \
        int dot_swap = rsb == 1 && (csa == 1 || m <= 4);                                        \
        if (rsa == 1 && m >= VL) {                                                              \
            MM_TRANSPOSE_PROBLEM(T);                                                            \
        } else if (k >= 2 * VL && (dot_here || dot_swap)) {                                     \
            if (!dot_here) MM_TRANSPOSE_PROBLEM(T);                                             \
            if (rsb == 1) {                                                                     \
                for (int64_t i = 0; i < m; i++)                                                 \
                    P##_dotrow(n, k, a + i * rsa, b, csb, c + i * rsc, csc, alpha, beta);       \
                return;                                                                         \
            }                                                                                   \
            /* n <= 4 strided columns of b: copy them transposed, BUF / 4 deep at a time */     \
            for (int64_t p0 = 0; p0 < k; p0 += BUF / 4) {                                      \
                int64_t kb = MM_MIN(BUF / 4, k - p0);                                           \
                for (int64_t j = 0; j < n; j++)                                                 \
                    for (int64_t p = 0; p < kb; p++) buf[j * kb + p] = b[(p0 + p) * rsb + j * csb]; \
                for (int64_t i = 0; i < m; i++)                                                 \
                    P##_dotrow(n, kb, a + i * rsa + p0, buf, kb, c + i * rsc, csc, alpha,       \
                               p0 == 0 ? beta : 1);                                             \
            }                                                                                   \
            return;                                                                             \
        } else if (n < VL && m >= VL) {                                                         \
            MM_TRANSPOSE_PROBLEM(T);                                                            \
        }                                                                                       \
    }                                                                                           \
    if (csb == 1 && n >= VL) {                                                                  \
        P##_vecj(m, n, k, a, rsa, csa, b, rsb, c, rsc, csc, alpha, beta);                       \
    } else if (n >= VL) { /* copy kb x nb blocks of b contiguous, then vectors along j */       \
        int64_t kb = MM_MIN(k, 32), nb = BUF / kb;                                              \
        for (int64_t p0 = 0; p0 < k; p0 += kb) {                                                \
            int64_t kk = MM_MIN(kb, k - p0), nn;                                                \
            for (int64_t j0 = 0; j0 < n; j0 += nn) {                                            \
                /* every block at least VL wide: leave VL columns for the last one */           \
                nn = n - j0 <= nb ? n - j0 : MM_MIN(nb, n - j0 - VL);                           \
                for (int64_t p = 0; p < kk; p++)                                                \
                    for (int64_t j = 0; j < nn; j++)                                            \
                        buf[p * nn + j] = b[(p0 + p) * rsb + (j0 + j) * csb];                   \
                P##_vecj(m, nn, kk, a + p0 * csa, rsa, csa, buf, nn, c + j0 * csc, rsc, csc,    \
                         alpha, p0 == 0 ? beta : 1);                                            \
            }                                                                                   \
        }                                                                                       \
    } else { /* both sides of c shorter than a vector and k short: plain loops */               \
        for (int64_t i = 0; i < m; i++)                                                         \
            for (int64_t j = 0; j < n; j++) {                                                   \
                T s = 0;                                                                        \
                for (int64_t p = 0; p < k; p++) s += a[i * rsa + p * csa] * b[p * rsb + j * csb]; \
                T *cp = c + i * rsc + j * csc;                                                  \
                *cp = beta != 0 ? alpha * s + beta * *cp : alpha * s;                           \
            }                                                                                   \
    }                                                                                           \
}

/* ---- entry for one matrix: untyped arguments so variants fit one function pointer type ---- */
typedef int (*mm_fn)(int64_t m, int64_t n, int64_t k, const void *a, int64_t rsa, int64_t csa,
                     const void *b, int64_t rsb, int64_t csb, void *c, int64_t rsc, int64_t csc,
                     double alpha, double beta, int deep);

#define MM_GEMM(P, ATTR, T, MR, NR, MC, KC, NC)                                                 \
static ATTR int P##_gemm(int64_t m, int64_t n, int64_t k, const void *va, int64_t rsa,          \
                         int64_t csa, const void *vb, int64_t rsb, int64_t csb, void *vc,       \
                         int64_t rsc, int64_t csc, double dalpha, double dbeta, int deep) {     \
    const T *a = va, *b = vb;                                                                   \
    T *c = vc, alpha = (T)dalpha, beta = (T)dbeta;                                              \
    if (m == 0 || n == 0) return AD_OK;                                                         \
    if (k == 0 || alpha == 0) { /* c = beta * c; beta == 0 must not read c (may be NaN) */     \
        for (int64_t i = 0; i < m; i++)                                                         \
            for (int64_t j = 0; j < n; j++) {                                                   \
                T *cp = c + i * rsc + j * csc;                                                  \
                *cp = beta != 0 ? beta * *cp : 0;                                               \
            }                                                                                   \
        return AD_OK;                                                                           \
    }                                                                                           \
    if (m * n * k < MM_SMALL_MNK || m <= MM_SMALL_SIDE || n <= MM_SMALL_SIDE) {                 \
        P##_small(m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, alpha, beta);                 \
        return AD_OK;                                                                           \
    }                                                                                           \
    /* Compute c^T instead when a is stored transposed (rsa == 1) and either c^T pads much     \
     * less to the register tile, or b is transposed too (then neither operand needs a        \
     * transposing pack) unless b is narrow (then a is used in place and b^T is cheap). */    \
    if (rsa == 1 && ((csb != 1 && n > 2 * NR) ||                                                \
                     ((m + MR - 1) / MR * MR) * ((n + NR - 1) / NR * NR) >                      \
                         ((n + MR - 1) / MR * MR) * ((m + NR - 1) / NR * NR) * 5 / 4))          \
        MM_TRANSPOSE_PROBLEM(T);                                                                \
    /* deep: the whole product has row-major a and b and at most MC rows (see ad_matmul) */    \
    int64_t kcap = deep ? MM_KC_IN_PLACE : KC, kc = MM_MIN(kcap, k);                            \
    int64_t nc = MM_B_IN_PLACE(m, csb, MC) ? NR : (MM_MIN(NC, n) + NR - 1) / NR * NR;          \
    int64_t mc = csa == 1 ? 0 : (MM_MIN(MC, m) + MR - 1) / MR * MR; /* (a row-major: unpacked) */ \
    char *mem = malloc((size_t)((mc + nc) * kc) * sizeof(T) + 128);                             \
    if (!mem) return AD_ENOMEM;                                                                 \
    T *ap = (T *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);                                      \
    T *bp = (T *)(((uintptr_t)(ap + mc * kc) + 63) & ~(uintptr_t)63);                           \
    P##_packed(m, n, k, a, rsa, csa, b, rsb, csb, c, rsc, csc, alpha, beta, ap, bp, kcap);      \
    free(mem);                                                                                  \
    return AD_OK;                                                                               \
}

/* One complete variant: (prefix, attributes, element type, vector type, register tile MR x NR,
 * cache blocks MC x KC of A and KC x NC of B, in elements). */
#define MM_VARIANT(P, ATTR, T, V, MR, NR, MC, KC, NC)                                           \
    MM_KERNEL(P, ATTR, T, V, MR, NR)                                                            \
    MM_T8(P, ATTR, T)                                                                           \
    MM_PACK(P, ATTR, T, MR, pack_a)                                                             \
    MM_PACK(P, ATTR, T, NR, pack_b)                                                             \
    MM_PACKED(P, ATTR, T, MR, NR, MC, KC, NC)                                                   \
    MM_SMALL(P, ATTR, T, V)                                                                     \
    MM_GEMM(P, ATTR, T, MR, NR, MC, KC, NC)

/* Blocking for this class of machine (32 KB L1d, 0.5-1 MB L2 per core, large shared L3): a
 * KC x NR panel of B (~16 KB) stays in L1, the MC x KC block of A in L2, KC x NC of B in L3. */
#define MM_F32_MC 144
#define MM_F32_KC 256
#define MM_F64_MC 96
#define MM_F64_KC 256
#define MM_NC 4032 /* a multiple of every NR (32, 16, 12, 8, 4) */

/* AVX2: 6 x 16 floats; for doubles 4 x 12 rather than 6 x 8, as many accumulators but less
 * padding when n is narrow (n = 10 fills 10/12 instead of 10/16). 16-byte vectors: 4 x 2 vectors,
 * as without FMA each product needs a scratch register (V8: 6 x 2 is ~30% slower, SSE2 equal).
 * AVX-512 (32 registers): 8 x 32 floats, 3-5% faster than 6 x 16 even on Zen 4, whose 512-bit FMAs
 * are no wider than two 256-bit ones (half the instructions, a batch of 128 rows fills whole tiles);
 * 12 x 32 and 14 x 32 were slower (12 or 14 row pointers for an unpacked a exhaust the GPRs). */
#if AD_X86
MM_VARIANT(f32_avx512, MM_AVX512, float, f32x16, 8, 32, MM_F32_MC, MM_F32_KC, MM_NC)
MM_VARIANT(f32_avx2, MM_AVX2, float, f32x8, 6, 16, MM_F32_MC, MM_F32_KC, MM_NC)
MM_VARIANT(f64_avx2, MM_AVX2, double, f64x4, 4, 12, MM_F64_MC, MM_F64_KC, MM_NC)
#endif
MM_VARIANT(f32_v16, MM_BASE, float, f32x4, 4, 8, MM_F32_MC, MM_F32_KC, MM_NC)
MM_VARIANT(f64_v16, MM_BASE, double, f64x2, 4, 4, MM_F64_MC, MM_F64_KC, MM_NC)

/* ---- run-time choices and threads ---------------------------------------------------------- */
char *getenv(const char *name);
int strcmp(const char *a, const char *b);

/* The widest vectors (bytes) the GEMM uses: 64 (AVX-512), 32 (AVX2 + FMA) or 16, natively what the
 * CPU and OS support, capped by PYAUTODIFF_SIMD=avx2 or =baseline (so tests reach every variant, and a
 * user can rule out AVX-512's clock penalty on older Intel cores). Decided once. */
static int mm_simd = -1;

static int mm_simd_bytes(void) {
    int bytes = __atomic_load_n(&mm_simd, __ATOMIC_RELAXED);
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
    __atomic_store_n(&mm_simd, bytes, __ATOMIC_RELAXED); /* (racing first callers store the same) */
    return bytes;
}

int ad_simd_bytes(void) {
    return mm_simd_bytes();
}

/* the GEMM for a dtype at the chosen width, with its register tile (threads split c at tile edges)
 * and block of rows; AVX-512's 32 columns only where they pad about as well as 16 (n = 10 would do
 * 3.2x the work, and run 2x slower) on c's n columns, and on its m rows too when a is transposed
 * (the kernel may then run along them: see MM_GEMM) */
typedef struct {
    mm_fn fn;
    int mr, nr, mc;
} mm_variant;

#define MM_PADS_TO_32(x) (((x) + 31) / 32 * 32 * 8 <= ((x) + 15) / 16 * 16 * 9)

static mm_variant mm_pick(int dtype, int64_t m, int64_t n, int transpose_a) {
    int bytes = mm_simd_bytes();
#if AD_X86
    if (dtype == AD_FLOAT32 && bytes == 64 && MM_PADS_TO_32(n) && (!transpose_a || MM_PADS_TO_32(m)))
        return (mm_variant){f32_avx512_gemm, 8, 32, MM_F32_MC};
    if (dtype == AD_FLOAT32 && bytes >= 32) return (mm_variant){f32_avx2_gemm, 6, 16, MM_F32_MC};
    if (bytes >= 32) return (mm_variant){f64_avx2_gemm, 4, 12, MM_F64_MC};
#else
    (void)bytes, (void)m, (void)n, (void)transpose_a;
#endif
    return dtype == AD_FLOAT32 ? (mm_variant){f32_v16_gemm, 4, 8, MM_F32_MC}
                               : (mm_variant){f64_v16_gemm, 4, 4, MM_F64_MC};
}

static int mm_threads = 1; /* set by the caller; read atomically (the pool below is the rest) */

int ad_set_num_threads(int n) {
    if (n < 1 || n > AD_MAX_THREADS) return AD_EINVAL;
#if AD_THREADS
    __atomic_store_n(&mm_threads, n, __ATOMIC_RELAXED);
#endif
    return AD_OK;
}

int ad_get_num_threads(void) {
    return __atomic_load_n(&mm_threads, __ATOMIC_RELAXED);
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
    int esize, transpose_a, transpose_b, deep, status;
    int64_t m, n, k, stride_a, stride_b, b0, b1, i0, i1, j0, j1;
    const char *a, *b;
    char *c;
    double alpha, beta;
} mm_share;

static void *mm_run(void *arg) {
    mm_share *s = arg;
    int64_t m = s->m, n = s->n, k = s->k, es = s->esize;
    int64_t rsa = s->transpose_a ? 1 : k, csa = s->transpose_a ? m : 1;
    int64_t rsb = s->transpose_b ? 1 : n, csb = s->transpose_b ? k : 1;
    for (int64_t t = s->b0; t < s->b1 && s->status == AD_OK; t++)
        s->status = s->fn(s->i1 - s->i0, s->j1 - s->j0, k,
                          s->a + (t * s->stride_a + s->i0 * rsa) * es, rsa, csa,
                          s->b + (t * s->stride_b + s->j0 * csb) * es, rsb, csb,
                          s->c + (t * m * n + s->i0 * n + s->j0) * es, n, 1, s->alpha, s->beta,
                          s->deep);
    return NULL;
}

#if AD_THREADS
/* Threads take shares from a common counter: a worker that wakes late (an idle core can take
 * 50-200 us to wake here) just finds fewer shares left, instead of holding up the caller. */
typedef struct {
    int n, next;
    mm_share *sh;                /* a product's shares, or */
    ad_range_fn fn;              /* a loop over [0, len) cut into n ranges (ad_parallel_for) */
    void *ctx;
    int64_t len;
} mm_job;

static void *mm_take(void *arg) {
    mm_job *job = arg;
    for (int q; (q = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED)) < job->n;) {
        if (job->sh) {
            mm_run(&job->sh[q]);
            continue;
        }
        /* range bounds at multiples of 16 items: threads never write the same cache line */
        int64_t lo = job->len * q / job->n & ~(int64_t)15;
        int64_t hi = q == job->n - 1 ? job->len : job->len * (q + 1) / job->n & ~(int64_t)15;
        if (hi > lo) job->fn(job->ctx, lo, hi);
    }
    return NULL;
}

/* Persistent workers: a threaded call then costs at most a condition-variable wake-up rather
 * than pthread_create + join (~20 us). One caller at a time owns them; a concurrent caller
 * starts threads of its own. Workers are created on demand, and a forked child (which inherits
 * none) starts over with an empty pool. */
enum { MM_MAXT = 64 };
static struct {
    pthread_mutex_t busy, lock;
    pthread_cond_t wake, done;
    int nworkers, remaining;
    mm_job *todo[MM_MAXT]; /* todo[w] is worker w's job, NULL when idle */
} mm_pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
             PTHREAD_COND_INITIALIZER, 0, 0, {0}};
static pthread_once_t mm_pool_once = PTHREAD_ONCE_INIT;

static void mm_pool_after_fork(void) {
    pthread_mutex_init(&mm_pool.busy, NULL);
    pthread_mutex_init(&mm_pool.lock, NULL);
    pthread_cond_init(&mm_pool.wake, NULL);
    pthread_cond_init(&mm_pool.done, NULL);
    mm_pool.nworkers = mm_pool.remaining = 0;
    memset(mm_pool.todo, 0, sizeof mm_pool.todo);
}

static void mm_pool_init(void) { pthread_atfork(NULL, NULL, mm_pool_after_fork); }

/* Before sleeping, workers and the waiting caller poll for ~50 us: back-to-back products then
 * skip the wake-up, and a caller whose share ends a little early need not be woken either. */
#define MM_SPIN 200000 /* iterations, ~55 us */

static void *mm_worker(void *arg) {
    int w = (int)(intptr_t)arg;
    for (;;) {
        for (int i = 0; i < MM_SPIN && !__atomic_load_n(&mm_pool.todo[w], __ATOMIC_ACQUIRE); i++) {}
        pthread_mutex_lock(&mm_pool.lock);
        while (!mm_pool.todo[w]) pthread_cond_wait(&mm_pool.wake, &mm_pool.lock);
        mm_job *job = mm_pool.todo[w];
        pthread_mutex_unlock(&mm_pool.lock);
        mm_take(job);
        pthread_mutex_lock(&mm_pool.lock);
        __atomic_store_n(&mm_pool.todo[w], NULL, __ATOMIC_RELAXED);
        if (__atomic_sub_fetch(&mm_pool.remaining, 1, __ATOMIC_RELEASE) == 0)
            pthread_cond_signal(&mm_pool.done);
        pthread_mutex_unlock(&mm_pool.lock);
    }
    return NULL;
}

/* runs the n shares of job on the calling thread and up to nt - 1 others, until all are done */
static void mm_parallel(mm_job *job, int nt) {
    pthread_once(&mm_pool_once, mm_pool_init);
    if (pthread_mutex_trylock(&mm_pool.busy) == 0) {
        pthread_mutex_lock(&mm_pool.lock);
        while (mm_pool.nworkers < nt - 1) {
            pthread_t th;
            if (pthread_create(&th, NULL, mm_worker, (void *)(intptr_t)(mm_pool.nworkers + 1)))
                break;
            pthread_detach(th);
            mm_pool.nworkers++;
        }
        int given = MM_MIN(nt - 1, mm_pool.nworkers);
        mm_pool.remaining = given;
        for (int t = 1; t <= given; t++) __atomic_store_n(&mm_pool.todo[t], job, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&mm_pool.wake);
        pthread_mutex_unlock(&mm_pool.lock);
        mm_take(job);
        for (int i = 0; i < MM_SPIN && __atomic_load_n(&mm_pool.remaining, __ATOMIC_ACQUIRE); i++) {}
        pthread_mutex_lock(&mm_pool.lock);
        while (mm_pool.remaining > 0) pthread_cond_wait(&mm_pool.done, &mm_pool.lock);
        pthread_mutex_unlock(&mm_pool.lock);
        pthread_mutex_unlock(&mm_pool.busy);
        return;
    }
    pthread_t th[MM_MAXT];
    int started[MM_MAXT] = {0};
    for (int t = 1; t < nt; t++) started[t] = pthread_create(&th[t], NULL, mm_take, job) == 0;
    mm_take(job);
    for (int t = 1; t < nt; t++)
        if (started[t]) pthread_join(th[t], NULL);
}
#endif

void ad_parallel_for(int64_t len, int64_t min_per_thread, ad_range_fn fn, void *ctx) {
#if AD_THREADS
    int nt = ad_get_num_threads();
    if (len / min_per_thread < nt) nt = (int)(len / min_per_thread);
    if (nt > MM_MAXT) nt = MM_MAXT;
    if (nt > 1) {
        mm_job job = {.n = nt * MM_SHARES, .fn = fn, .ctx = ctx, .len = len};
        mm_parallel(&job, nt);
        return;
    }
#else
    (void)min_per_thread;
#endif
    fn(ctx, 0, len);
}

int ad_matmul(int dtype, int64_t batch, int64_t m, int64_t n, int64_t k,
              const void *a, int64_t stride_a, int transpose_a,
              const void *b, int64_t stride_b, int transpose_b,
              void *c, double alpha, double beta) {
    if (dtype != AD_FLOAT32 && dtype != AD_FLOAT64) return AD_EDTYPE;
    if (batch < 0 || m < 0 || n < 0 || k < 0 || stride_a < 0 || stride_b < 0) return AD_EINVAL;
    if (batch == 0 || m == 0 || n == 0) return AD_OK;
    if (!c || (k > 0 && (!a || !b))) return AD_EINVAL;
    mm_variant v = mm_pick(dtype, m, n, transpose_a);
    mm_share s = {
        .fn = v.fn,
        .esize = ad_dtype_size(dtype), .transpose_a = transpose_a, .transpose_b = transpose_b,
        .deep = !transpose_a && !transpose_b && m <= v.mc,
        .m = m, .n = n, .k = k, .stride_a = stride_a, .stride_b = stride_b,
        .b0 = 0, .b1 = batch, .i0 = 0, .i1 = m, .j0 = 0, .j1 = n,
        .a = a, .b = b, .c = c, .alpha = alpha, .beta = beta, .status = AD_OK,
    };
#if AD_THREADS
    double flops = 2.0 * (double)batch * (double)m * (double)n * (double)k;
    int nt = ad_get_num_threads();
    if (flops < nt * MM_FLOPS_PER_THREAD) nt = (int)(flops / MM_FLOPS_PER_THREAD);
    if (nt > MM_MAXT) nt = MM_MAXT;
    if (nt > 1) {
        /* Shares of the batch when that balances, else of the longer side of c at register-tile
         * boundaries (units of the register tile keep tiles full). A share of columns (or of
         * the batch) packs only its own part of b, so those shrink as the work runs out (guided: each
         * 1/(2 nt) of what is left): a thread on a slower core (a busy neighbour on this VM slows one
         * vCPU by 20%) is then outrun by one small share at most. Small products (a share's fixed
         * costs would show) and shares of rows (each reads all of b) get MM_SHARES equal shares per
         * thread. With a transposed a the kernel may run along c's columns (MM_GEMM), so units
         * then keep both kinds of tile edge. */
        mm_share sh[MM_MAXT * MM_GUIDED];
        int by_batch = batch % nt == 0 || batch >= 4 * nt, by_rows = !by_batch && m > n;
        int64_t len = by_batch ? batch : by_rows ? m : n, ns = (int64_t)nt * MM_SHARES;
        int64_t unit = by_batch ? 1 : transpose_a ? mm_lcm(v.mr, v.nr) : by_rows ? v.mr : v.nr;
        int guided = !by_rows && flops >= nt * MM_GUIDED_FLOPS_PER_THREAD;
        int64_t cap = guided ? (int64_t)nt * MM_GUIDED : ns;
        mm_job job = {.sh = sh};
        for (int64_t t = 0, lo = 0; t < cap && lo < len; t++) {
            int64_t hi = guided ? lo + MM_MAX(unit, ((len - lo) / (2 * nt) + unit / 2) / unit * unit)
                                : (len * (t + 1) / ns + unit / 2) / unit * unit;
            hi = t == cap - 1 ? len : MM_MIN(len, hi);
            if (hi <= lo) continue;
            sh[job.n] = s;
            if (by_batch) { sh[job.n].b0 = lo; sh[job.n].b1 = hi; }
            else if (by_rows) { sh[job.n].i0 = lo; sh[job.n].i1 = hi; }
            else { sh[job.n].j0 = lo; sh[job.n].j1 = hi; }
            job.n++;
            lo = hi;
        }
        mm_parallel(&job, nt);
        for (int t = 0; t < job.n; t++)
            if (sh[t].status != AD_OK) return sh[t].status;
        return AD_OK;
    }
#endif
    mm_run(&s);
    return s.status;
}

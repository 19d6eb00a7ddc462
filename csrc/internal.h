/* internal.h: what every kernel file includes. The few libc/libm functions the kernels
 * use are declared here rather than taken from libc headers, so the same sources build
 * freestanding for WebAssembly, where these symbols resolve from Pyodide's main module. */
#ifndef AD_INTERNAL_H
#define AD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "pyautodiff.h"
#include "simd.h"

void *malloc(size_t size);
void free(void *p);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

float expf(float x);
double exp(double x);
float logf(float x);
double log(double x);
float sqrtf(float x);
double sqrt(double x);
double tanh(double x);
float powf(float x, float y);
double pow(double x, double y);
float log1pf(float x);
double log1p(double x);
float expm1f(float x);
double expm1(double x);
float sinf(float x);
double sin(double x);
float cosf(float x);
double cos(double x);
float erff(float x);
double erf(double x);
float erfcf(float x);
double erfc(double x);

#define AD_INF (__builtin_inff())
/* the float or the double libm function, by the element type T */
#define AD_LIBM(T, fn, x) (sizeof(T) == 4 ? (T)fn##f((float)(x)) : (T)fn((double)(x)))

/* e^x for float32 in plain arithmetic (Cephes' expf polynomial after a Cody-Waite reduction): the same
 * bits natively and in WebAssembly, and loops over it vectorize where a libm call would not (sigmoid of
 * 128x512 floats: 8.7 -> ~1 ns each). Within 2 ulp of expf, subnormal results included (2^k is applied
 * in two halves); 0 below -104, inf above ln(FLT_MAX), NaN stays NaN. */
static inline float ad_expf(float x) {
    /* (clamped in two selects, a vector min and max each: a NaN lane takes the upper bound and returns x below; the
     * same bits for every float as three selects and a NaN test, and sigmoid 1.08x faster on Zen 4, paired A/B) */
    float c = x < 88.7228391f ? x : 88.7228391f;
    c = c > -104.0f ? c : -104.0f;
    float n = (c * 1.44269504f + 12582912.0f) - 12582912.0f;  /* round(c / ln 2): 1.5 * 2^23 */
    float r = (c - n * 0.693359375f) - n * -2.12194440e-4f;   /* c - n ln 2 in two parts */
    float p = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r +
               1.6666665459e-1f) * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    int32_t k = (int32_t)n, k1 = k >> 1, k2 = k - k1, b1 = (k1 + 127) << 23, b2 = (k2 + 127) << 23;
    float s1, s2;
    __builtin_memcpy(&s1, &b1, sizeof s1);
    __builtin_memcpy(&s2, &b2, sizeof s2);
    float y = p * s1 * s2;
    return x != x ? x : x > 88.7228391f ? AD_INF : y;
}

/* log x for float32 in plain arithmetic (Cephes' logf: x = m 2^e with m in [sqrt(1/2), sqrt(2)), a polynomial in
 * m - 1, e ln 2 added in two parts), within ~1 ulp, so that its loops vectorize where libm's logf would not; a
 * subnormal x is scaled by 2^23 first; log 0 = -inf, log of a negative is NaN, log inf = inf, NaN stays NaN. */
static inline float ad_logf(float x) {
    int sub = x < 1.17549435e-38f;
    float xs = sub ? x * 8388608.0f : x;
    int32_t bits;
    __builtin_memcpy(&bits, &xs, sizeof bits);
    float e = (float)(((bits >> 23) & 0xff) - 126 - (sub ? 23 : 0)), m; /* xs = m 2^e, m in [0.5, 1) */
    bits = (bits & (int32_t)0x807fffff) | 0x3f000000;
    __builtin_memcpy(&m, &bits, sizeof m);
    int low = m < 0.707106781186547524f;
    e = low ? e - 1.0f : e;
    float t = low ? m + m - 1.0f : m - 1.0f, z = t * t;
    float y = ((((((((7.0376836292e-2f * t - 1.1514610310e-1f) * t + 1.1676998740e-1f) * t - 1.2420140846e-1f) * t +
                   1.4249322787e-1f) * t - 1.6668057665e-1f) * t + 2.0000714765e-1f) * t - 2.4999993993e-1f) * t +
              3.3333331174e-1f) * t * z;
    y = y + e * -2.12194440e-4f - 0.5f * z;
    float r = (t + y) + e * 0.693359375f;
    r = x == AD_INF ? x : r; /* (one select at a time: the chain as one expression kept GCC 12 from vectorizing) */
    r = x == 0 ? -AD_INF : r;
    return x >= 0 ? r : __builtin_nanf(""); /* (negative or NaN) */
}
#define AD_LOG_OF(T, x) (sizeof(T) == 4 ? (T)ad_logf((float)(x)) : (T)log((double)(x)))

/* e^x: ad_expf for float32, libm's exp for float64 */
#define AD_EXP_OF(T, x) (sizeof(T) == 4 ? (T)ad_expf((float)(x)) : (T)exp((double)(x)))

/* tanh for float32 in plain arithmetic (Eigen's rational approximation, a 13th over a 6th degree polynomial on
 * [-7.9, 7.9], beyond which it rounds to +-1; x itself below 4e-4): within a few ulp, the same bits natively and in
 * WebAssembly, and its loops vectorize where libm's tanhf (through expm1f) would not (an LSTM's gates: 24% of its
 * time in tanhf). NaN stays NaN. */
static inline float ad_tanhf(float x) {
    float c = x > 7.90531110763549805f ? 7.90531110763549805f : x < -7.90531110763549805f ? -7.90531110763549805f : x;
    float x2 = c * c;
    float p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
    p = x2 * p + -8.60467152213735e-11f;
    p = x2 * p + 5.12229709037114e-08f;
    p = x2 * p + 1.48572235717979e-05f;
    p = x2 * p + 6.37261928875436e-04f;
    p = x2 * p + 4.89352455891786e-03f;
    float q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
    q = x2 * q + 2.26843463243900e-03f;
    q = x2 * q + 4.89352518554385e-03f;
    float y = c * p / q;
    return __builtin_fabsf(x) < 0.0004f ? x : y; /* (fabs: a conditional negate here kept GCC 12 from vectorizing) */
}
#define AD_TANH_OF(T, x) (sizeof(T) == 4 ? (T)ad_tanhf((float)(x)) : (T)tanh((double)(x)))

/* erfc for float32 in plain arithmetic (Numerical Recipes' erfcc: t exp(-z^2 + a Chebyshev fit in t), t = 1 / (1 +
 * z / 2), z = |x|, fractional error below 1.2e-7 everywhere, erfc(-z) = 2 - erfc(z)), so that gelu's loops vectorize
 * where libm's erfcf would not (its exact form ran 7.7x slower than PyTorch's) */
static inline float ad_erfcf(float x) {
    float z = __builtin_fabsf(x), t = 1.0f / (1.0f + 0.5f * z);
    float p = t * (-0.82215223f + t * 0.17087277f);
    p = t * (1.48851587f + p);
    p = t * (-1.13520398f + p);
    p = t * (0.27886807f + p);
    p = t * (-0.18628806f + p);
    p = t * (0.09678418f + p);
    p = t * (0.37409196f + p);
    p = t * (1.00002368f + p);
    /* -z^2 + q rounds to float by up to 1e-6 at z = 3: its two rounding errors, from Dekker's split of z * z and
     * Knuth's two-sum (exact in float without FMA contraction), correct the exponential to first order */
    float zz = z * z, c = 4097.0f * z, zh = c - (c - z), zl = z - zh;
    float ezz = ((zh * zh - zz) + 2.0f * zh * zl) + zl * zl; /* z^2 = zz + ezz */
    float q = p - 1.26551223f, a = q - zz, bb = a - q, ea = (q - (a - bb)) + (-zz - bb); /* q - zz = a + ea */
    float r = t * ad_expf(a) * (1.0f + (ea - ezz));
    return x < 0 ? 2.0f - r : r;
}
#define AD_ERFC_OF(T, x) (sizeof(T) == 4 ? (T)ad_erfcf((float)(x)) : (T)erfc((double)(x)))

/* 1 / (1 + exp(-x)) through exp of a non-positive number only, so it never overflows; branch-free (one
 * exp, one division, a select), so its loops vectorize */
static inline float ad_sigmoidf(float x) {
    float e = ad_expf(x > 0 ? -x : x), s = 1.0f / (1.0f + e);
    return x >= 0 ? s : e * s;
}
static inline double ad_sigmoid(double x) {
    double e = exp(x > 0 ? -x : x), s = 1.0 / (1.0 + e);
    return x >= 0 ? s : e * s;
}
#define AD_SIGMOID_OF(T, x) (sizeof(T) == 4 ? (T)ad_sigmoidf((float)(x)) : (T)ad_sigmoid((double)(x)))
/* log(1 + e^x) through e^-|x|, so it never overflows */
#define AD_SOFTPLUS_OF(T, x) (((x) > 0 ? (x) : (T)0) + AD_LIBM(T, log1p, AD_EXP_OF(T, (x) > 0 ? -(x) : (x))))

/* selu's constants (Klambauer et al. 2017, as Keras and PyTorch) */
#define AD_SELU_ALPHA 1.6732632423543772848170429916717
#define AD_SELU_SCALE 1.0507009873554804934193349852946

/* The activations, one row each: name, f(x), its gradient written through the output (y = f(x), upstream
 * gradient g: a backward needs only y), and whether int32 tensors have it. Each is a unary op, its gradient
 * the binary op <name>_grad (elementwise.c), and an activation the dense kernels fuse (nn.c); Python learns
 * the names from ad_op_name. A new activation is this row and its row in pyautodiff/ops/elementwise.py.
 * (relu keeps NaN, as numpy and PyTorch do, and so does its gradient; elsewhere it is a select, so g's NaN or
 * inf stays out where x <= 0. hard_sigmoid is Keras 3's and PyTorch's: relu6(x + 3) / 6.) */
#define AD_ACTIVATIONS(X)                                                   \
    X(sigmoid, AD_SIGMOID_OF(T, x), g * y * ((T)1 - y), 0)                  \
    X(tanh, AD_TANH_OF(T, x), g * ((T)1 - y * y), 0)                        \
    X(relu, x > 0 || x != x ? x : (T)0, y > 0 ? g : y == y ? (T)0 : y, 1)                    \
    X(softplus, AD_SOFTPLUS_OF(T, x), -g * AD_LIBM(T, expm1, -y), 0)                                  \
    X(selu, (T)AD_SELU_SCALE * (x > 0 ? x : (T)AD_SELU_ALPHA * AD_LIBM(T, expm1, x)),                   \
      y > 0 ? g * (T)AD_SELU_SCALE : g * (y + (T)(AD_SELU_SCALE * AD_SELU_ALPHA)), 0)                  \
    X(hard_sigmoid, x <= -3 ? (T)0 : x >= 3 ? (T)1 : x / 6 + (T)0.5,                                    \
      y > 0 && y < 1 ? g / 6 : y == y ? (T)0 : y, 0)
#define AD_ACTIVATION_ID(name, f, grad, ints) AD_ACT_##name,
enum { AD_ACTIVATIONS(AD_ACTIVATION_ID) AD_ACTIVATION_COUNT };
/* y (rows, n) = act(y + b) in place, b (n) or NULL, on the calling thread (nn.c: dense's tail, conv's too) */
int ad_bias_act_rows(int dtype, int act, int64_t rows, int64_t n, const void *b, void *y);
/* a float row's sum in double, and its max (NaN if it holds one, -inf when empty), as vector loops (reduce.c) */
double ad_row_sum(int dtype, int64_t n, const void *x);
double ad_row_max(int dtype, int64_t n, const void *x);

/* Expand the body once per dtype, with T the element type; unknown dtypes return AD_EDTYPE. NUM: the dtypes
 * with arithmetic; ALL adds bool (uint8_t 0/1), for the kernels that move, select or compare values. */
#define AD_DISPATCH_FLOAT(dtype, ...)                         \
    switch (dtype) {                                          \
    case AD_FLOAT32: { typedef float T; __VA_ARGS__; break; } \
    case AD_FLOAT64: { typedef double T; __VA_ARGS__; break; }\
    default: return AD_EDTYPE;                         \
    }
#define AD_DISPATCH_NUM_CASES(...)                            \
    case AD_FLOAT32: { typedef float T; __VA_ARGS__; break; } \
    case AD_FLOAT64: { typedef double T; __VA_ARGS__; break; }\
    case AD_INT32: { typedef int32_t T; __VA_ARGS__; break; } \
    case AD_INT64: { typedef int64_t T; __VA_ARGS__; break; }
#define AD_DISPATCH_NUM(dtype, ...)                           \
    switch (dtype) {                                          \
    AD_DISPATCH_NUM_CASES(__VA_ARGS__)                        \
    default: return AD_EDTYPE;                                \
    }
#define AD_DISPATCH_ALL_CASES(...)                            \
    AD_DISPATCH_NUM_CASES(__VA_ARGS__)                        \
    case AD_BOOL: { typedef uint8_t T; __VA_ARGS__; break; }
#define AD_DISPATCH_ALL(dtype, ...)                           \
    switch (dtype) {                                          \
    AD_DISPATCH_ALL_CASES(__VA_ARGS__)                        \
    default: return AD_EDTYPE;                                \
    }
/* ALL and float16's bits (T uint16_t), for the kernels that only move elements (a body that writes a constant
 * other than 0 or reads a value converts with the ad_half functions below) */
#define AD_DISPATCH_MOVE(dtype, ...)                          \
    switch (dtype) {                                          \
    AD_DISPATCH_ALL_CASES(__VA_ARGS__)                        \
    case AD_FLOAT16: { typedef uint16_t T; __VA_ARGS__; break; } \
    default: return AD_EDTYPE;                                \
    }
/* whether the element type T is a floating-point one (a constant the compiler folds) */
#define AD_IS_FLOAT(T) ((T)0.5 != 0)
/* a op b (+, - or *) for element type T, the integers' wrapping around (as numpy's) through unsigned arithmetic */
#define AD_WRAP(T, a, op, b) \
    (AD_IS_FLOAT(T) ? (T)((a) op (b)) : (T)((uint64_t)(int64_t)(a) op (uint64_t)(int64_t)(b)))
static inline int ad_is_int(int dtype) {
    return dtype == AD_INT32 || dtype == AD_INT64;
}
/* the dtypes with arithmetic (AD_DISPATCH_NUM's) */
static inline int ad_is_num(int dtype) {
    return dtype == AD_FLOAT32 || dtype == AD_FLOAT64 || ad_is_int(dtype);
}

/* The pool (threads.c). task(ctx, q) for every q in [0, ntasks), taken dynamically by the caller and up to
 * nt - 1 workers; returns when all are done. Without threads (wasm) the caller runs them all. */
typedef void (*ad_task_fn)(void *ctx, int q);
void ad_run_tasks(int ntasks, int nt, ad_task_fn task, void *ctx);
/* Tasks per thread, taken dynamically: a late or preempted thread then delays the others by at most
 * one task; more would re-read a (or re-pack b) more often in a GEMM. */
#define AD_TASKS_PER_THREAD 2
/* fn(ctx, lo, hi) over ranges covering [0, len), on up to ad_get_num_threads() threads when each gets
 * at least min_per_thread items, else in one call on the caller */
typedef void (*ad_range_fn)(void *ctx, int64_t lo, int64_t hi);
void ad_parallel_for(int64_t len, int64_t min_per_thread, ad_range_fn fn, void *ctx);

/* splitmix64, the hash behind every random number (ad_random, dropout, permutations) */
static inline uint64_t splitmix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* float -> int32 / int64 truncates toward zero; NaN gives 0 and out-of-range values saturate (a plain C cast
 * would be undefined behaviour there, and traps in WebAssembly) */
static inline int32_t to_int32(double v) {
    return v != v ? 0 : v >= 2147483647.0 ? INT32_MAX : v <= -2147483648.0 ? INT32_MIN : (int32_t)v;
}
static inline int64_t to_int64(double v) {
    return v != v ? 0 : v >= 9223372036854775807.0 ? INT64_MAX : v <= -9223372036854775807.0 ? INT64_MIN : (int64_t)v;
}

static inline int ad_dtype_size(int dtype) {
    switch (dtype) {
    case AD_FLOAT32: case AD_INT32: return 4;
    case AD_FLOAT64: case AD_INT64: return 8;
    case AD_BOOL: return 1;
    case AD_FLOAT16: return 2;
    default: return 0;
    }
}

/* IEEE binary16 <-> float / double in integer and plain float arithmetic (no _Float16 or F16C: the same bits
 * natively and in wasm32), branch-free so that loops over them vectorize. Widening is exact; narrowing rounds
 * to nearest even, overflows to inf and keeps a NaN's sign and top payload bits (as numpy's npy_half). Both are
 * written once for a wide format of M mantissa bits and exponent bias B, its bits in U. */
static inline uint32_t ad_float_bits(float f) { union { float f; uint32_t u; } v = {.f = f}; return v.u; }
static inline float ad_bits_float(uint32_t u) { union { uint32_t u; float f; } v = {.u = u}; return v.f; }
static inline uint64_t ad_double_bits(double d) { union { double d; uint64_t u; } v = {.d = d}; return v.u; }
static inline double ad_bits_double(uint64_t u) { union { uint64_t u; double d; } v = {.u = u}; return v.d; }
#define AD_INF_BITS(U, M) (~(U)0 >> 1 & ~(((U)1 << (M)) - 1))

/* the magnitude's bits moved into the wide format's places and scaled by 2^(B - 15): right for normal and
 * subnormal halves alike; inf and NaN take the all-ones exponent instead (a NaN's payload kept) */
#define AD_HALF_TO(U, M, B, bits_of, of_bits, h)                                                            \
    U mag = (U)((h) & 0x7fff) << ((M) - 10);                                                                 \
    U bits = mag >= (U)0x7c00 << ((M) - 10) ? mag | AD_INF_BITS(U, M)                                        \
                                            : bits_of(of_bits(mag) * of_bits((U)(2 * (B) - 15) << (M)));     \
    return of_bits(bits | (U)((h) & 0x8000) << (8 * sizeof(U) - 16));

/* Below 2^-14 (subnormal halves) adding 2^(M - 24), whose last place is 2^-24, rounds in the FPU; from there up
 * the exponent is rebiased and half an ulp minus one plus the kept lowest bit added (ties to even), a carry
 * moving into the exponent (up to inf); from 2^16 on inf; NaN keeps its top payload bits (at least one). */
#define AD_HALF_OF(U, M, B, bits_of, of_bits, x)                                                            \
    U mag = bits_of(x) & (~(U)0 >> 1), sign = bits_of(x) >> (8 * sizeof(U) - 1);                             \
    U sig = (mag & (((U)1 << (M)) - 1)) >> ((M) - 10), magic = (U)((B) + (M) - 24) << (M);                   \
    U sub = bits_of(of_bits(mag) + of_bits(magic)) - magic;                                                  \
    U big = (mag - ((U)((B) - 15) << (M)) + ((U)1 << ((M) - 11)) - 1 + ((mag >> ((M) - 10)) & 1)) >> ((M) - 10); \
    U h = mag > AD_INF_BITS(U, M) ? 0x7c00 | sig | (sig == 0) : mag >= (U)((B) + 16) << (M) ? 0x7c00          \
        : mag < (U)((B) - 14) << (M) ? sub : big;                                                            \
    return (uint16_t)(h | sign << 15);

static inline float ad_half_to_float(uint16_t h) { AD_HALF_TO(uint32_t, 23, 127, ad_float_bits, ad_bits_float, h) }
static inline double ad_half_to_double(uint16_t h) { AD_HALF_TO(uint64_t, 52, 1023, ad_double_bits, ad_bits_double, h) }
static inline uint16_t ad_float_to_half(float x) { AD_HALF_OF(uint32_t, 23, 127, ad_float_bits, ad_bits_float, x) }
static inline uint16_t ad_double_to_half(double x) { AD_HALF_OF(uint64_t, 52, 1023, ad_double_bits, ad_bits_double, x) }

/* element i of x (of dtype) != 0, for the conditions and masks that take any dtype (NaN counts as nonzero; so
 * does float16's, its bits without the sign) */
static inline int ad_nonzero_at(int dtype, const void *x, int64_t i) {
    switch (dtype) {
    case AD_FLOAT32: return ((const float *)x)[i] != 0;
    case AD_FLOAT64: return ((const double *)x)[i] != 0;
    case AD_INT32: return ((const int32_t *)x)[i] != 0;
    case AD_INT64: return ((const int64_t *)x)[i] != 0;
    case AD_FLOAT16: return (((const uint16_t *)x)[i] & 0x7fff) != 0;
    default: return ((const uint8_t *)x)[i] != 0;
    }
}

/* A strided walk over an n-d index space, innermost dimension handled by the caller's loop.
 * Adjacent dimensions that are contiguous in every operand are merged first, so the common
 * cases (same shapes, a broadcast row or column) become one or two long inner loops. */
#define AD_MAX_OPERANDS 4
typedef struct {
    int ndim;                               /* after merging, >= 1 */
    int64_t shape[AD_MAX_NDIM];
    int64_t strides[AD_MAX_OPERANDS][AD_MAX_NDIM];
    int64_t index[AD_MAX_NDIM];
    int64_t offset[AD_MAX_OPERANDS];
    int nops;
} ad_iter;

/* returns AD_EINVAL for bad ndim/shape; sets *total to the number of elements */
int ad_iter_init(ad_iter *it, int ndim, const int64_t *shape, int nops,
                 const int64_t *const *strides, int64_t *total);
/* advance past one inner row (shape[ndim-1] elements); offsets then point at the next row */
static inline void ad_iter_next(ad_iter *it) {
    for (int d = it->ndim - 2; d >= 0; d--) {
        for (int o = 0; o < it->nops; o++) it->offset[o] += it->strides[o][d];
        if (++it->index[d] < it->shape[d]) return;
        for (int o = 0; o < it->nops; o++) it->offset[o] -= it->strides[o][d] * it->shape[d];
        it->index[d] = 0;
    }
}

/* GEMM support (cpu.c, matmul.c). A core's caches: sizes[] = L1d, L2 and its share of L3 in bytes (0: unknown);
 * returns where they came from. */
#define AD_CACHES_UNKNOWN 0
#define AD_CACHES_CPUID 1
#define AD_CACHES_SYSFS 2
int ad_cpu_caches(int64_t sizes[3]);
/* PYAUTODIFF_GEMM_BLOCKING="mc,kc,nc" (each 1 .. AD_GEMM_BLOCK_MAX): 1 with out set, 0 unset, -1 malformed */
int ad_gemm_blocking_override(int64_t out[3]);
/* PYAUTODIFF_GEMM_B_IN_PLACE: 1 or 0 when set so, else -1 */
int ad_gemm_b_in_place_forced(void);
/* op(b) (k, n) packed once for many products op(a) (m, k) @ op(b) of these shapes (a recurrent layer's steps):
 * ad_matmul_packed_b gives ad_matmul's results, bit for bit, without packing b each time (where ad_matmul
 * would pack it; else packed stays NULL and b is read as ad_matmul reads it). b must outlive pb. */
typedef struct {
    const void *variant, *b;
    void *packed;
    int dtype, transpose_a, transpose_b;
    int64_t m, n, k;
} ad_packed_b;
int ad_pack_b(ad_packed_b *pb, int dtype, int64_t m, int64_t n, int64_t k, int transpose_a, const void *b,
              int transpose_b);
int ad_matmul_packed_b(const ad_packed_b *pb, const void *a, void *c, double alpha, double beta);
void ad_packed_b_free(ad_packed_b *pb);

#endif

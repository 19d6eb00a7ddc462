/* array.c: memory, fills, casts, strided copies, random numbers and index-based moves. */
#include "internal.h"

/* Blocks of at least AD_REUSE_MIN bytes that are freed are kept for reuse (up to AD_REUSE_SLOTS of them and
 * AD_REUSE_BYTES in all, the oldest given back first): a training step frees and allocates the same sizes every
 * step, and glibc hands large blocks back to the system (munmap, or trimming the heap's top) so that each step
 * would fault in fresh zeroed pages: a quarter of an LSTM step's time and a third of a CNN's on a Zen 3. A reused
 * block is at most a quarter larger than asked. The sanitizer run swaps both functions for exact-size ones. */
#define AD_REUSE_SLOTS 64
#define AD_REUSE_BYTES ((size_t)256 << 20)

static struct { unsigned char *raw; size_t size; } reuse[AD_REUSE_SLOTS]; /* oldest first */
static int reuse_count;
static size_t reuse_bytes;
static char reuse_busy; /* a spin lock: Python frees tensors from any thread */

static void reuse_lock(void) {
    while (__atomic_test_and_set(&reuse_busy, __ATOMIC_ACQUIRE)) {}
}

static void reuse_unlock(void) {
    __atomic_clear(&reuse_busy, __ATOMIC_RELEASE);
}

/* the block of size bytes (usable) at raw, 64-byte aligned for SIMD, its size and raw pointer just before it */
static void *aligned_block(unsigned char *raw, size_t size) {
    uintptr_t aligned = ((uintptr_t)(raw + 2 * sizeof(void *)) + 63) & ~(uintptr_t)63;
    ((void **)aligned)[-1] = raw;
    ((size_t *)aligned)[-2] = size;
    return (void *)aligned;
}

void *ad_alloc(int64_t nbytes) {
    if (nbytes < 0 || (uint64_t)nbytes > (SIZE_MAX >> 1) - 128) return NULL;
    size_t size = (size_t)nbytes;
    if (size >= (size_t)AD_REUSE_MIN) {
        unsigned char *raw = NULL;
        size_t have = 0;
        reuse_lock();
        for (int i = reuse_count - 1; i >= 0; i--) { /* the most recently freed fit: the warmest in cache */
            if (reuse[i].size >= size && reuse[i].size - size <= size / 4) {
                raw = reuse[i].raw;
                have = reuse[i].size;
                reuse_bytes -= have;
                memmove(&reuse[i], &reuse[i + 1], (size_t)(--reuse_count - i) * sizeof reuse[0]);
                break;
            }
        }
        reuse_unlock();
        if (raw) return aligned_block(raw, have);
    }
    unsigned char *raw = malloc(size + 64 + 2 * sizeof(void *));
    return raw ? aligned_block(raw, size) : NULL;
}

void ad_free(void *p) {
    if (!p) return;
    unsigned char *raw = ((void **)p)[-1], *evicted[AD_REUSE_SLOTS];
    size_t size = ((size_t *)p)[-2];
    int n = 0;
    if (size >= (size_t)AD_REUSE_MIN && size <= AD_REUSE_BYTES) {
        reuse_lock();
        while (reuse_count == AD_REUSE_SLOTS || reuse_bytes + size > AD_REUSE_BYTES) {
            evicted[n++] = reuse[0].raw;
            reuse_bytes -= reuse[0].size;
            memmove(&reuse[0], &reuse[1], (size_t)--reuse_count * sizeof reuse[0]);
        }
        reuse[reuse_count].raw = raw;
        reuse[reuse_count++].size = size;
        reuse_bytes += size;
        reuse_unlock();
        raw = NULL;
    }
    while (n) free(evicted[--n]);
    free(raw);
}

int ad_fill(int dtype, int64_t n, double value, void *y) {
    if (n < 0 || (n > 0 && !y)) return AD_EINVAL;
    /* an integer holds the value truncated toward zero; NaN and values beyond its range are refused, not wrapped */
    if ((dtype == AD_INT32 && !(value > -2147483649.0 && value < 2147483648.0))
        || (dtype == AD_INT64 && !(value >= -9223372036854775808.0 && value < 9223372036854775808.0)))
        return AD_ERANGE;
    AD_DISPATCH_MOVE(dtype, {
        T v = dtype == AD_BOOL ? (T)(value != 0) : dtype == AD_FLOAT16 ? (T)ad_double_to_half(value)
              : AD_IS_FLOAT(T) ? (T)value : (T)to_int64(value);
        T *out = y;
        for (int64_t i = 0; i < n; i++) out[i] = v;
    })
    return AD_OK;
}

/* One element S s to the integer type D of range [LO, HI]: truncated toward zero (as numpy); NaN, inf and values
 * outside the range are noted in bad (a flag, not an early exit, so the loop still vectorizes) and saturate.
 * Integer sources compare as int64 (exact), float ones as double. */
#define AD_TO_INT(S, D, LO, HI, s, bad)                                                                  \
    (AD_IS_FLOAT(S) ? ((bad) |= !(((double)(s) > (double)(LO) - 1.0 || (double)(s) == (double)(LO)) &&    \
                                  (double)(s) < -(double)(LO)),                                            \
                       (D)((double)(s) != (double)(s) ? 0 : (double)(s) >= -(double)(LO) ? (HI)               \
                           : (double)(s) <= (double)(LO) ? (LO) : (int64_t)(s)))                           \
                    : ((bad) |= (int64_t)(s) < (LO) || (int64_t)(s) > (HI),                                \
                       (D)((int64_t)(s) < (LO) ? (LO) : (int64_t)(s) > (HI) ? (HI) : (int64_t)(s))))

/* the value of element i of x: of element type S itself, or a float16's as a double (exact) */
#define AD_PLAIN_AT(S, i) (((const S *)x)[i])
#define AD_HALF_AT(S, i) ad_half_to_double(((const uint16_t *)x)[i])
/* one element of type S to float16: a float32 narrows from its own bits (a signalling NaN stays one), the rest
 * from a double (exact for every value below 2^53, and from there on float16 is inf) */
#define AD_HALF_OF_ANY(S, v) (AD_IS_FLOAT(S) && sizeof(S) == 4 ? ad_float_to_half((float)(v)) : ad_double_to_half((double)(v)))

/* x's elements, read as S by AT, to dst_dtype: to a float rounds, to an integer as AD_TO_INT (AD_ERANGE when one
 * is out of range), to bool tests != 0 (NaN is true, as numpy) */
#define AD_CAST_TO(S, AT)                                                                               \
    {                                                                                                   \
        int bad = 0;                                                                                    \
        switch (dst_dtype) {                                                                            \
        case AD_FLOAT32: for (int64_t i = 0; i < n; i++) ((float *)y)[i] = (float)AT(S, i); break;      \
        case AD_FLOAT64: for (int64_t i = 0; i < n; i++) ((double *)y)[i] = (double)AT(S, i); break;    \
        case AD_INT32:                                                                                  \
            for (int64_t i = 0; i < n; i++) ((int32_t *)y)[i] = AD_TO_INT(S, int32_t, INT32_MIN, INT32_MAX, AT(S, i), bad); \
            break;                                                                                      \
        case AD_INT64:                                                                                  \
            for (int64_t i = 0; i < n; i++) ((int64_t *)y)[i] = AD_TO_INT(S, int64_t, INT64_MIN, INT64_MAX, AT(S, i), bad); \
            break;                                                                                      \
        case AD_BOOL: for (int64_t i = 0; i < n; i++) ((uint8_t *)y)[i] = AT(S, i) != 0; break;         \
        case AD_FLOAT16: for (int64_t i = 0; i < n; i++) ((uint16_t *)y)[i] = AD_HALF_OF_ANY(S, AT(S, i)); break; \
        default: return AD_EDTYPE;                                                                      \
        }                                                                                               \
        if (bad) return AD_ERANGE;                                                                      \
    }

int ad_cast(int src_dtype, int dst_dtype, int64_t n, const void *x, void *y) {
    if (n < 0 || (n > 0 && (!x || !y))) return AD_EINVAL;
    if (src_dtype == AD_FLOAT16 && dst_dtype == AD_FLOAT32) { /* from the bits: a signalling NaN stays one */
        for (int64_t i = 0; i < n; i++) ((float *)y)[i] = ad_half_to_float(((const uint16_t *)x)[i]);
    } else if (src_dtype == AD_FLOAT16) {
        AD_CAST_TO(double, AD_HALF_AT)
    } else {
        AD_DISPATCH_ALL(src_dtype, AD_CAST_TO(T, AD_PLAIN_AT))
    }
    return AD_OK;
}

int ad_iter_init(ad_iter *it, int ndim, const int64_t *shape, int nops,
                 const int64_t *const *strides, int64_t *total) {
    if (ndim < 0 || ndim > AD_MAX_NDIM || nops < 1 || nops > AD_MAX_OPERANDS) return AD_EINVAL;
    if (ndim > 0 && !shape) return AD_EINVAL;
    int64_t count = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) return AD_EINVAL;
        count *= shape[d];
    }
    *total = count;
    it->nops = nops;
    it->ndim = 1;
    it->shape[0] = 1;
    for (int o = 0; o < nops; o++) it->strides[o][0] = 0;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] == 1) continue; /* size-1 dims move nothing */
        int last = it->ndim - 1;
        int merge = 1;
        for (int o = 0; o < nops; o++)
            if (it->strides[o][last] != strides[o][d] * shape[d]) merge = 0;
        if (it->shape[last] == 1) merge = 1;
        if (merge) {
            it->shape[last] *= shape[d];
            for (int o = 0; o < nops; o++) it->strides[o][last] = strides[o][d];
        } else {
            it->shape[it->ndim] = shape[d];
            for (int o = 0; o < nops; o++) it->strides[o][it->ndim] = strides[o][d];
            it->ndim++;
        }
    }
    for (int d = 0; d < it->ndim; d++) it->index[d] = 0;
    for (int o = 0; o < nops; o++) it->offset[o] = 0;
    return AD_OK;
}

int ad_copy(int dtype, int ndim, const int64_t *shape, const void *x, const int64_t *xstrides,
            void *y, const int64_t *ystrides) {
    ad_iter it;
    int64_t total;
    const int64_t *st[2] = {xstrides, ystrides};
    if (ndim > 0 && (!xstrides || !ystrides)) return AD_EINVAL;
    int rc = ad_iter_init(&it, ndim, shape, 2, st, &total);
    if (rc) return rc;
    if (total == 0) return AD_OK;
    if (!x || !y) return AD_EINVAL;
    int64_t inner = it.shape[it.ndim - 1], sx = it.strides[0][it.ndim - 1], sy = it.strides[1][it.ndim - 1];
    AD_DISPATCH_MOVE(dtype, {
        const T *src = x;
        T *dst = y;
        for (int64_t done = 0; done < total; done += inner, ad_iter_next(&it)) {
            const T *s = src + it.offset[0];
            T *t = dst + it.offset[1];
            if (sx == 1 && sy == 1) memcpy(t, s, (size_t)inner * sizeof(T));
            else for (int64_t i = 0; i < inner; i++) t[i * sy] = s[i * sx];
        }
    })
    return AD_OK;
}

/* counter-based: element i depends only on (seed, i) */
static double uniform01(uint64_t seed, uint64_t i) {
    /* 53 random bits in (0, 1): never exactly 0, so log() below is finite */
    return ((double)(splitmix64(seed ^ splitmix64(i)) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double standard_normal(uint64_t seed, uint64_t *draw) {
    /* Box-Muller on two fresh uniforms per draw */
    double u1 = uniform01(seed, 2 * *draw), u2 = uniform01(seed, 2 * *draw + 1);
    (*draw)++;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int ad_random(int dist, int dtype, int64_t n, uint64_t seed, double a, double b, void *y) {
    if (n < 0 || (n > 0 && !y) || dist < AD_UNIFORM || dist > AD_TRUNCATED_NORMAL) return AD_EINVAL;
    if (dist != AD_UNIFORM && !(b >= 0)) return AD_EINVAL;
    /* integers: uniform in [a, b), both integral and in range (the product is truncated: it is never negative) */
    double lo = dtype == AD_INT32 ? -2147483648.0 : -9223372036854775808.0;
    if (ad_is_int(dtype) && (dist != AD_UNIFORM || !(a >= lo && b <= -lo && a < b)
                             || (double)to_int64(a) != a || (double)to_int64(b) != b))
        return AD_EINVAL;
    uint64_t draw = 0;
    AD_DISPATCH_NUM(dtype, {
        T *out = y;
        for (int64_t i = 0; i < n; i++) {
            double v;
            if (dist == AD_UNIFORM) {
                double span = b - a, step = span * uniform01(seed, (uint64_t)i);
                if (!AD_IS_FLOAT(T)) step = (double)(int64_t)step < span ? (double)(int64_t)step : span - 1.0;
                v = a + step;
            } else {
                do v = standard_normal(seed, &draw);
                while (dist == AD_TRUNCATED_NORMAL && (v > 2.0 || v < -2.0));
                v = a + b * v;
            }
            out[i] = AD_IS_FLOAT(T) ? (T)v : (T)to_int64(v);
        }
    })
    return AD_OK;
}

int ad_random_next(int dist, int dtype, int64_t n, int64_t *state, double a, double b, void *y) {
    if (!state) return AD_EINVAL;
    uint64_t seed = splitmix64((uint64_t)state[0] ^ splitmix64((uint64_t)state[1]));
    int rc = ad_random(dist, dtype, n, seed, a, b, y);
    if (!rc) state[1] += 1;
    return rc;
}

static int check_gather(int64_t outer, int64_t n, int64_t inner, int64_t nidx, const int32_t *idx) {
    if (outer < 0 || n < 0 || inner < 0 || nidx < 0 || (nidx > 0 && !idx)) return AD_EINVAL;
    for (int64_t j = 0; j < nidx; j++)
        if (idx[j] < 0 || idx[j] >= n) return AD_EINDEX;
    return AD_OK;
}

int ad_gather(int dtype, int64_t outer, int64_t n, int64_t inner, const void *x, int64_t nidx,
              const int32_t *idx, void *y) {
    int rc = check_gather(outer, n, inner, nidx, idx);
    if (rc) return rc;
    if (outer * nidx * inner == 0) return AD_OK;
    if (!x || !y) return AD_EINVAL;
    AD_DISPATCH_MOVE(dtype, {
        const T *src = x;
        T *dst = y;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t j = 0; j < nidx; j++)
                memcpy(dst + (o * nidx + j) * inner, src + (o * n + idx[j]) * inner, (size_t)inner * sizeof(T));
    })
    return AD_OK;
}

int ad_scatter_add(int dtype, int64_t outer, int64_t n, int64_t inner, const void *g, int64_t nidx,
                   const int32_t *idx, void *y) {
    int rc = check_gather(outer, n, inner, nidx, idx);
    if (rc) return rc;
    if (outer * nidx * inner == 0) return AD_OK;
    if (!g || !y) return AD_EINVAL;
    AD_DISPATCH_NUM(dtype, {
        const T *src = g;
        T *dst = y;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t j = 0; j < nidx; j++) {
                T *t = dst + (o * n + idx[j]) * inner;
                const T *s = src + (o * nidx + j) * inner;
                for (int64_t i = 0; i < inner; i++) t[i] += s[i];
            }
    })
    return AD_OK;
}

int ad_one_hot(int dtype, int64_t n, const int32_t *idx, int64_t depth, void *y) {
    if (n < 0 || depth < 0 || (n > 0 && (!idx || (depth > 0 && !y)))) return AD_EINVAL;
    for (int64_t i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= depth) return AD_EINDEX;
    AD_DISPATCH_MOVE(dtype, {
        T *out = y;
        memset(out, 0, (size_t)(n * depth) * sizeof(T));
        for (int64_t i = 0; i < n; i++) out[i * depth + idx[i]] = dtype == AD_FLOAT16 ? (T)0x3c00 : (T)1; /* (float16 1.0) */
    })
    return AD_OK;
}

static int check_repeat(int64_t outer, int64_t n, int64_t inner, int64_t count, const int32_t *repeats, int64_t m) {
    if (outer < 0 || n < 0 || inner < 0 || m < 0 || (n > 0 && !repeats && count < 0)) return AD_EINVAL;
    if (!repeats) return n == 0 ? (m == 0 ? AD_OK : AD_EINVAL) : (count == m / n && m % n == 0 ? AD_OK : AD_EINVAL);
    int64_t total = 0;
    for (int64_t j = 0; j < n; j++) {
        if (repeats[j] < 0 || repeats[j] > m - total) return AD_EINVAL; /* (never overflows) */
        total += repeats[j];
    }
    return total == m ? AD_OK : AD_EINVAL;
}

int ad_repeat(int dtype, int adjoint, int64_t outer, int64_t n, int64_t inner, int64_t count,
              const int32_t *repeats, int64_t m, const void *src, void *dst) {
    int rc = check_repeat(outer, n, inner, count, repeats, m);
    if (rc) return rc;
    if (ad_dtype_size(dtype) == 0 || (adjoint && dtype != AD_FLOAT32 && dtype != AD_FLOAT64)) return AD_EDTYPE;
    if (outer * inner * (adjoint ? n : m) == 0) return AD_OK;
    if (!dst || (outer * inner * m > 0 && !src)) return AD_EINVAL;
    AD_DISPATCH_MOVE(dtype, {
        const T *s = src;
        T *d = dst;
        if (adjoint) memset(d, 0, (size_t)(outer * n * inner) * sizeof(T));
        for (int64_t o = 0; o < outer; o++)
            for (int64_t j = 0, at = o * m; j < n; j++) { /* entry o * n + j, rows at .. along m */
                int64_t one = (o * n + j) * inner, times = repeats ? repeats[j] : count;
                for (int64_t r = 0; r < times; r++, at++) {
                    if (adjoint)
                        for (int64_t i = 0; i < inner; i++) d[one + i] += s[at * inner + i];
                    else if (inner == 1)
                        d[at] = s[one];
                    else
                        memcpy(d + at * inner, s + one, (size_t)inner * sizeof(T));
                }
            }
    })
    return AD_OK;
}

/* index.c: moves by n-d indices (gather_nd and its scatters), takes along an axis, stable sorting, positions of
 * nonzero elements. Every index is checked before anything is written, so a failing call leaves its output
 * (a Variable's storage, for the scatter updates) untouched. */
#include "internal.h"

/* The flat position of the index tuple idx[0..depth) within dims, or -1 when an entry is out of range;
 * with wrap, entries in [-dim, 0) count from the end (Python's indexing) */
static int64_t nd_offset(int depth, const int64_t *dims, const int32_t *idx, int wrap) {
    int64_t at = 0;
    for (int d = 0; d < depth; d++) {
        int64_t v = idx[d];
        if (wrap && v < 0) v += dims[d];
        if (v < 0 || v >= dims[d]) return -1;
        at = at * dims[d] + v;
    }
    return at;
}

static int check_dims(int64_t n, int depth, const int64_t *dims, const int32_t *idx) {
    if (n < 0 || depth < 0 || depth > AD_MAX_NDIM || (depth > 0 && !dims) || (n > 0 && depth > 0 && !idx))
        return AD_EINVAL;
    for (int d = 0; d < depth; d++)
        if (dims[d] < 0) return AD_EINVAL;
    return AD_OK;
}

int ad_index_check(int64_t n, int depth, const int64_t *dims, int wrap, const int32_t *idx, int64_t *bad) {
    int rc = check_dims(n, depth, dims, idx);
    if (rc || !bad) return rc ? rc : AD_EINVAL;
    *bad = -1;
    for (int64_t j = 0; j < n; j++)
        if (nd_offset(depth, dims, idx + j * depth, wrap) < 0) {
            *bad = j;
            return AD_EINDEX;
        }
    return AD_OK;
}

int ad_gather_nd(int mode, int dtype, int64_t batch, int64_t nidx, int depth, const int64_t *dims, int64_t inner,
                 int wrap, const int32_t *idx, void *table, void *rows) {
    int64_t bad, cells = 1;
    if (batch < 0 || nidx < 0 || inner < 0 || mode < AD_ND_GATHER || mode > AD_ND_SCATTER_UPDATE) return AD_EINVAL;
    if (ad_dtype_size(dtype) == 0 || (mode == AD_ND_SCATTER_ADD && !ad_is_num(dtype))) return AD_EDTYPE;
    int rc = ad_index_check(batch * nidx, depth, dims, wrap, idx, &bad);
    if (rc) return rc;
    for (int d = 0; d < depth; d++) cells *= dims[d];
    if (batch * nidx * inner == 0) return AD_OK;
    if (!table || !rows) return AD_EINVAL;
    AD_DISPATCH_MOVE(dtype, {
        T *t = table, *r = rows;
        for (int64_t b = 0; b < batch; b++)
            for (int64_t j = 0; j < nidx; j++) {
                int64_t row = b * nidx + j;
                T *cell = t + (b * cells + nd_offset(depth, dims, idx + row * depth, wrap)) * inner;
                T *one = r + row * inner;
                if (mode == AD_ND_GATHER) memcpy(one, cell, (size_t)inner * sizeof(T));
                else if (mode == AD_ND_SCATTER_UPDATE) memcpy(cell, one, (size_t)inner * sizeof(T));
                else for (int64_t i = 0; i < inner; i++) cell[i] += one[i];
            }
    })
    return AD_OK;
}

int ad_take_along(int adjoint, int dtype, int64_t outer, int64_t n, int64_t inner, int64_t k, const int32_t *idx,
                  const void *src, void *dst) {
    if (outer < 0 || n < 0 || inner < 0 || k < 0) return AD_EINVAL;
    if (ad_dtype_size(dtype) == 0 || (adjoint && !ad_is_num(dtype))) return AD_EDTYPE;
    int64_t count = outer * k * inner;
    if (count > 0 && !idx) return AD_EINVAL;
    for (int64_t e = 0; e < count; e++)
        if (idx[e] < 0 || idx[e] >= n) return AD_EINDEX;
    if (outer * inner * (adjoint ? n : k) == 0) return AD_OK;
    if (!dst || (count > 0 && !src)) return AD_EINVAL;
    AD_DISPATCH_MOVE(dtype, {
        const T *s = src;
        T *d = dst;
        if (adjoint) memset(d, 0, (size_t)(outer * n * inner) * sizeof(T));
        for (int64_t o = 0; o < outer; o++)
            for (int64_t j = 0; j < k; j++)
                for (int64_t i = 0; i < inner; i++) {
                    int64_t e = (o * k + j) * inner + i, at = (o * n + idx[e]) * inner + i;
                    if (adjoint) d[at] += s[e];
                    else d[e] = s[at];
                }
    })
    return AD_OK;
}

/* A key whose unsigned order is the value's: integers with the sign bit flipped, floats by their bits (negatives
 * reversed, -0 as 0) and NaN above everything, so NaN sorts last ascending and first descending (numpy's). */
static inline uint64_t int_key(int64_t v) {
    return (uint64_t)v ^ ((uint64_t)1 << 63);
}
static inline uint64_t float_key(double v) {
    if (v != v) return UINT64_MAX;
    uint64_t bits;
    v = v == 0 ? 0.0 : v;
    memcpy(&bits, &v, sizeof bits);
    return bits >> 63 ? ~bits : bits | ((uint64_t)1 << 63);
}

/* whether key a goes before key b; equal keys keep their order (the merge below is stable) */
static inline int before(uint64_t a, uint64_t b, int descending) {
    return descending ? a > b : a < b;
}

/* stable bottom-up merge sort of the positions order[0..n) by keys, through scratch of n entries */
static void merge_sort(const uint64_t *keys, int32_t *order, int32_t *scratch, int64_t n, int descending) {
    int32_t *from = order, *to = scratch;
    for (int64_t width = 1; width < n; width *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * width) {
            int64_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            int64_t a = lo, b = mid, out = lo;
            while (a < mid && b < hi) to[out++] = before(keys[from[b]], keys[from[a]], descending) ? from[b++] : from[a++];
            while (a < mid) to[out++] = from[a++];
            while (b < hi) to[out++] = from[b++];
        }
        int32_t *t = from;
        from = to;
        to = t;
    }
    if (from != order) memcpy(order, from, (size_t)n * sizeof(int32_t));
}

int ad_argsort(int dtype, int descending, int64_t outer, int64_t n, int64_t inner, int64_t k, const void *x,
               int32_t *indices) {
    if (outer < 0 || n < 0 || n > INT32_MAX || inner < 0 || k < 0 || k > n) return AD_EINVAL;
    if (ad_dtype_size(dtype) == 0) return AD_EDTYPE;
    if (outer * inner * k == 0) return AD_OK;
    if (!x || !indices) return AD_EINVAL;
    uint64_t *keys = malloc((size_t)n * sizeof(uint64_t));
    int32_t *order = malloc((size_t)n * 2 * sizeof(int32_t));
    if (!keys || !order) {
        free(keys);
        free(order);
        return AD_ENOMEM;
    }
    AD_DISPATCH_MOVE(dtype, {
        const T *X = x;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                for (int64_t j = 0; j < n; j++) {
                    T v = X[(o * n + j) * inner + i];
                    keys[j] = dtype == AD_FLOAT16 ? float_key(ad_half_to_double((uint16_t)v))
                              : AD_IS_FLOAT(T) ? float_key((double)v) : int_key((int64_t)v);
                    order[j] = (int32_t)j;
                }
                merge_sort(keys, order, order + n, n, descending);
                for (int64_t j = 0; j < k; j++) indices[(o * k + j) * inner + i] = order[j];
            }
    })
    free(keys);
    free(order);
    return AD_OK;
}

int ad_nonzero(int dtype, int64_t n, const void *x, int64_t capacity, int32_t *positions, int64_t *count) {
    if (n < 0 || n > INT32_MAX || !count) return AD_EINVAL;
    if (ad_dtype_size(dtype) == 0) return AD_EDTYPE;
    int64_t found = 0;
    for (int64_t i = 0; i < n; i++) found += !x || ad_nonzero_at(dtype, x, i); /* (NaN is nonzero, as in numpy) */
    *count = found;
    if (positions) {
        if (found != capacity) return AD_EINVAL;
        for (int64_t i = 0, at = 0; i < n; i++)
            if (!x || ad_nonzero_at(dtype, x, i)) positions[at++] = (int32_t)i;
    }
    return AD_OK;
}

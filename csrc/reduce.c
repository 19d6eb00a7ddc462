/* reduce.c: reductions over any set of axes, argmax / argmin, running sums and products, softmax / log_softmax. */
#include "internal.h"

/* the value a reduction of element type T starts from: 0, 1, or the lowest / highest value of T (the
 * integers' extremes written through unsigned arithmetic: T is int32_t, int64_t or bool's uint8_t) */
#define REDUCE_IDENTITY(T, op, dtype)                                                                      \
    ((op) == AD_REDUCE_SUM ? (T)0 : (op) == AD_REDUCE_PROD ? (T)1                 \
     : AD_IS_FLOAT(T) ? ((op) == AD_REDUCE_MAX ? -(T)AD_INF : (T)AD_INF)                                    \
     : (dtype) == AD_BOOL ? (T)((op) == AD_REDUCE_MIN)                                                      \
     : (op) == AD_REDUCE_MAX ? (T)((uint64_t)1 << (8 * sizeof(T) - 1)) : (T)~((uint64_t)1 << (8 * sizeof(T) - 1)))

/* Float sums, accumulated in double. A row's: 16 running sums (lane l takes the elements l mod 16) added pairwise at
 * the end, then the rest, so that it vectorizes with the same bits at every width (one dependent add after another
 * ran 1.2 ns an element); down columns: each element onto its column's sum, contiguous columns vectorized. */
#define SUM_LANES 16
#define SUM_FNS(T, S)                                                                                  \
    AD_WIDE_CLONES static double sum_row_##S(const T *x, int64_t n) {                                   \
        double lane[SUM_LANES] = {0};                                                                   \
        int64_t i = 0;                                                                                  \
        for (; i + SUM_LANES <= n; i += SUM_LANES)                                                      \
            for (int l = 0; l < SUM_LANES; l++) lane[l] += x[i + l];                                    \
        for (int w = SUM_LANES / 2; w > 0; w /= 2)                                                      \
            for (int l = 0; l < w; l++) lane[l] += lane[l + w];                                         \
        double s = lane[0];                                                                             \
        for (; i < n; i++) s += x[i];                                                                   \
        return s;                                                                                       \
    }                                                                                                   \
    /* the largest (most) or the smallest of n values, or NaN if one is (-+inf for none): in 64 lanes (4 vectors of 16 \
     * floats: independent compare chains), then 16, the lanes folded in halves of constant width so that the folds \
     * vectorize too (a loop over a variable width ran scalar, a mispredicted branch each: rows of 512 floats 1.5x) */ \
    AD_WIDE_CLONES static T extreme_row_##S(const T *x, int64_t n, int most) {                          \
        T lane[64];                                                                                     \
        for (int l = 0; l < 64; l++) lane[l] = most ? -(T)AD_INF : (T)AD_INF;                           \
        int64_t i = 0;                                                                                  \
        for (; i + 64 <= n; i += 64)                                                                    \
            for (int l = 0; l < 64; l++) lane[l] = EXTREME(x[i + l], lane[l], most);                   \
        FOLD(32, most) FOLD(16, most)                                                                   \
        for (; i + 16 <= n; i += 16)                                                                    \
            for (int l = 0; l < 16; l++) lane[l] = EXTREME(x[i + l], lane[l], most);                   \
        for (; i < n; i++) lane[0] = EXTREME(x[i], lane[0], most);                                     \
        FOLD(8, most) FOLD(4, most) FOLD(2, most) FOLD(1, most)                                         \
        return lane[0];                                                                                 \
    }                                                                                                   \
    AD_WIDE_CLONES static void sum_cols_##S(const T *x, int64_t n, double *acc, int64_t stride) {      \
        if (stride == 1)                                                                                \
            for (int64_t i = 0; i < n; i++) acc[i] += x[i];                                             \
        else                                                                                            \
            for (int64_t i = 0; i < n; i++) acc[i * stride] += x[i];                                    \
    }
/* v if it beats t or is NaN (NaN then stays) */
#define EXTREME(v, t, most) ((most ? (v) > (t) : (v) < (t)) || (v) != (v) ? (v) : (t))
#define FOLD(w, most) for (int l = 0; l < (w); l++) lane[l] = EXTREME(lane[l + (w)], lane[l], most);
SUM_FNS(float, f32)
SUM_FNS(double, f64)
/* the function of T's width (for another T the call is dead code) */
#define BY_WIDTH(T, fn, x, ...) (sizeof(T) == 4 ? fn##_f32((const float *)(x), __VA_ARGS__) \
                                                : fn##_f64((const double *)(x), __VA_ARGS__))
#define SUM_ROW(T, n, x) BY_WIDTH(T, sum_row, x, n)
#define EXTREME_ROW(T, n, x, most) (T) BY_WIDTH(T, extreme_row, x, n, most)
#define SUM_COLS(T, n, x, acc, stride) BY_WIDTH(T, sum_cols, x, n, acc, stride)

double ad_row_sum(int dtype, int64_t n, const void *x) {
    return dtype == AD_FLOAT32 ? sum_row_f32(x, n) : sum_row_f64(x, n);
}

double ad_row_max(int dtype, int64_t n, const void *x) {
    return dtype == AD_FLOAT32 ? extreme_row_f32(x, n, 1) : extreme_row_f64(x, n, 1);
}

int ad_reduce(int op, int dtype, int ndim, const int64_t *shape, const void *x,
              const int64_t *ystrides, void *y, double scale) {
    if (op < 0 || op >= AD_REDUCE_COUNT || ndim < 0 || ndim > AD_MAX_NDIM) return AD_EINVAL;
    if (ndim > 0 && (!shape || !ystrides)) return AD_EINVAL;
    if (ad_dtype_size(dtype) == 0 || (dtype != AD_FLOAT32 && dtype != AD_FLOAT64 && scale != 1.0)) return AD_EDTYPE;
    if (dtype == AD_BOOL && op != AD_REDUCE_MAX && op != AD_REDUCE_MIN) return AD_EDTYPE; /* any / all only */
    /* y must be compact over the kept axes: its last element lies at ycount - 1 */
    int64_t xstrides[AD_MAX_NDIM], ycount = 1, ylast = 0, step = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        if (shape[d] < 0 || ystrides[d] < 0) return AD_EINVAL;
        xstrides[d] = step;
        step *= shape[d];
        if (ystrides[d] != 0) ycount *= shape[d];
        if (shape[d] > 0) ylast += (shape[d] - 1) * ystrides[d];
    }
    if (ycount > 0 && ylast >= ycount) return AD_EINVAL;
    if (ycount > 0 && !y) return AD_EINVAL;
    ad_iter it;
    int64_t total;
    const int64_t *st[2] = {xstrides, ystrides};
    int rc = ad_iter_init(&it, ndim, shape, 2, st, &total);
    if (rc) return rc;
    if (total > 0 && !x) return AD_EINVAL;
    int64_t inner = it.shape[it.ndim - 1], sy = it.strides[1][it.ndim - 1];
    if (op == AD_REDUCE_SUM && !ad_is_int(dtype)) {
        /* float sums accumulate in double, along rows and down columns alike, and are scaled before
         * rounding to T: a float32 mean of values near FLT_MAX is then finite (the sum alone is not),
         * an empty mean keeps 0 * scale = nan */
        double *acc = malloc((size_t)(ycount + 1) * sizeof(double));
        if (!acc) return AD_ENOMEM;
        for (int64_t i = 0; i < ycount; i++) acc[i] = 0;
        AD_DISPATCH_FLOAT(dtype, {
            const T *X = x;
            for (int64_t done = 0; done < total; done += inner, ad_iter_next(&it)) {
                const T *px = X + done;
                double *pa = acc + it.offset[1];
                if (sy == 0)
                    *pa += SUM_ROW(T, inner, px);
                else
                    SUM_COLS(T, inner, px, pa, sy);
            }
            T *Y = y;
            for (int64_t i = 0; i < ycount; i++) Y[i] = (T)(acc[i] * scale);
        })
        free(acc);
        return AD_OK;
    }
    AD_DISPATCH_ALL(dtype, {
        const T *X = x;
        T *Y = y;
        const T init = REDUCE_IDENTITY(T, op, dtype);
        for (int64_t i = 0; i < ycount; i++) Y[i] = init;
        for (int64_t done = 0; done < total; done += inner, ad_iter_next(&it)) {
            const T *px = X + done;
            T *py = Y + it.offset[1];
            if (op == AD_REDUCE_SUM) { /* (the integers' sums and products wrap around, as numpy's do) */
                for (int64_t i = 0; i < inner; i++) py[i * sy] = AD_WRAP(T, py[i * sy], +, px[i]);
            } else if (op == AD_REDUCE_PROD) {
                for (int64_t i = 0; i < inner; i++) py[i * sy] = AD_WRAP(T, py[i * sy], *, px[i]);
            } else if (AD_IS_FLOAT(T) && sy == 0) { /* max, min: along rows in lanes */
                T v = EXTREME_ROW(T, inner, px, op == AD_REDUCE_MAX);
                *py = EXTREME(v, *py, op == AD_REDUCE_MAX);
            } else {
                for (int64_t i = 0; i < inner; i++) py[i * sy] = EXTREME(px[i], py[i * sy], op == AD_REDUCE_MAX);
            }
        }
        if (scale != 1.0)
            for (int64_t i = 0; i < ycount; i++) Y[i] = (T)(Y[i] * scale);
    })
    return AD_OK;
}

static int check_axis_view(int64_t outer, int64_t n, int64_t inner, const void *x, const void *y) {
    if (outer < 0 || n < 0 || inner < 0) return AD_EINVAL;
    if (outer * n * inner > 0 && (!x || !y)) return AD_EINVAL;
    return AD_OK;
}

/* the index of the first max (want_max) or min along n; the first NaN wins */
static int arg_extreme(int want_max, int dtype, int64_t outer, int64_t n, int64_t inner, const void *x, int32_t *y) {
    int rc = check_axis_view(outer, n, inner, x, y);
    if (rc) return rc;
    if (n == 0 && outer * inner > 0) return AD_EINVAL; /* no element to point at */
    AD_DISPATCH_NUM(dtype, {
        const T *X = x;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                const T *p = X + o * n * inner + i;
                int32_t best = 0;
                for (int64_t j = 1; j < n && p[best * inner] == p[best * inner]; j++) {
                    T v = p[j * inner], b = p[best * inner];
                    if ((want_max ? v > b : v < b) || v != v) best = (int32_t)j;
                }
                y[o * inner + i] = best;
            }
    })
    return AD_OK;
}

int ad_argmax(int dtype, int64_t outer, int64_t n, int64_t inner, const void *x, int32_t *y) {
    return arg_extreme(1, dtype, outer, n, inner, x, y);
}

int ad_argmin(int dtype, int64_t outer, int64_t n, int64_t inner, const void *x, int32_t *y) {
    return arg_extreme(0, dtype, outer, n, inner, x, y);
}

int ad_cumulate(int prod, int exclusive, int reverse, int dtype, int64_t outer, int64_t n, int64_t inner,
                const void *x, void *y) {
    int rc = check_axis_view(outer, n, inner, x, y);
    if (rc) return rc;
    AD_DISPATCH_NUM(dtype, {
        const T *X = x;
        T *Y = y;
        int64_t step = reverse ? -inner : inner;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                int64_t at = o * n * inner + i + (reverse ? (n - 1) * inner : 0);
                T acc = prod ? (T)1 : (T)0;
                for (int64_t j = 0; j < n; j++, at += step) {
                    T v = X[at];
                    if (exclusive) Y[at] = acc;
                    acc = prod ? AD_WRAP(T, acc, *, v) : AD_WRAP(T, acc, +, v);
                    if (!exclusive) Y[at] = acc;
                }
            }
    })
    return AD_OK;
}

/* the end of a softmax line (stride s) whose exponentials are in q and summed in sum: scaled, or for log_softmax
 * (x - m) - log(sum), not x - (m + log(sum)): m + log(sum) rounds to the logits' spacing (~1e-3 at 1e4 in float32,
 * so -log 3 came out -1.09863; 0 at 1e38) */
#define SOFTMAX_END(T, s)                                                      \
    if (log_) {                                                                \
        T ls = (T)log(sum);                                                    \
        for (int64_t j = 0; j < n; j++) q[j * (s)] = (p[j * (s)] - m) - ls;    \
    } else {                                                                   \
        T inv = (T)(1.0 / sum);                                                \
        for (int64_t j = 0; j < n; j++) q[j * (s)] *= inv;                     \
    }

/* softmax and log_softmax along an axis of n (inner: the elements after it); along the last axis (inner 1) every
 * pass is a contiguous loop that vectorizes: the max, the exponentials into y, their sum, the end */
AD_WIDE_CLONES static int softmax_loop(int log_, int dtype, int64_t outer, int64_t n, int64_t inner, const void *x,
                                       void *y) {
    AD_DISPATCH_FLOAT(dtype, {
        const T *X = x;
        T *Y = y;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                const T *p = X + o * n * inner + i;
                T *q = Y + o * n * inner + i, m = -(T)AD_INF;
                double sum = 0;
                if (inner == 1) {
                    m = EXTREME_ROW(T, n, p, 1); /* (NaN: the line is NaN either way) */
                    if (m == -(T)AD_INF) m = 0;  /* all -inf: avoid inf - inf */
                    for (int64_t j = 0; j < n; j++) q[j] = AD_EXP_OF(T, p[j] - m);
                    sum = SUM_ROW(T, n, q);
                    SOFTMAX_END(T, 1)
                } else {
                    for (int64_t j = 0; j < n; j++)
                        if (p[j * inner] > m) m = p[j * inner];
                    if (m == -(T)AD_INF) m = 0;
                    for (int64_t j = 0; j < n; j++) sum += q[j * inner] = AD_EXP_OF(T, p[j * inner] - m);
                    SOFTMAX_END(T, inner)
                }
            }
    })
    return AD_OK;
}

int ad_softmax(int log_, int dtype, int64_t outer, int64_t n, int64_t inner, const void *x, void *y) {
    int rc = check_axis_view(outer, n, inner, x, y);
    if (rc) return rc;
    return softmax_loop(log_, dtype, outer, n, inner, x, y);
}

/* nn.c: fused kernels of the model layer, where per-call overhead would otherwise dominate:
 * dense forward (matmul + bias + activation) and its activation/bias backward, the from-logits
 * cross-entropies (forward saves what the backward needs), layer and batch normalization, dropout, and shuffling
 * permutations. */
#include "internal.h"

/* ---- dense ------------------------------------------------------------------------------------ */

/* The elementwise tails of dense run over threads like the products around them (a serial tail was ~5%
 * of a two-thread 128x512 layer): below this many values per thread they stay on one. */
#define DENSE_TAIL_MIN_PER_THREAD 32768

typedef struct {
    int dtype, act;
    int64_t m, n;
    const void *b, *y, *g;
    void *out, *dz; /* out: y (forward) or db (backward) */
    double *acc;
} dense_tail;

/* z -> act(z + b) on rows [lo, hi): flat loops over distinct buffers vectorize */
#define DENSE_ACT_CASE(name, f, grad, ints)                 \
    case AD_ACT_##name:                                     \
        for (int64_t i = 0; i < len; i++) {                 \
            T x = Y[i];                                     \
            Y[i] = (f);                                     \
        }                                                   \
        break;

/* (ranges return nothing, dispatches return a status: the dtype was checked before the split) */
AD_TARGET_CLONES static int dense_rows_typed(const dense_tail *t, int64_t lo, int64_t hi) {
    int64_t n = t->n, len = (hi - lo) * n;
    AD_DISPATCH_FLOAT(t->dtype, {
        T *restrict Y = (T *)t->out + lo * n;
        const T *restrict B = t->b;
        if (B)
            for (int64_t i = 0; i < hi - lo; i++)
                for (int64_t j = 0; j < n; j++) Y[i * n + j] += B[j];
        switch (t->act) { AD_ACTIVATIONS(DENSE_ACT_CASE) }
    })
    return AD_OK;
}

static void dense_rows(void *ctx, int64_t lo, int64_t hi) { (void)dense_rows_typed(ctx, lo, hi); }

int ad_bias_act_rows(int dtype, int act, int64_t rows, int64_t n, const void *b, void *y) {
    dense_tail t = {.dtype = dtype, .act = act, .m = rows, .n = n, .b = b, .out = y};
    return dense_rows_typed(&t, 0, rows);
}

int ad_dense(int dtype, int act, int64_t m, int64_t n, int64_t k, const void *x, const void *w,
             const void *b, void *y) {
    if (act < AD_NO_ACTIVATION || act >= AD_ACTIVATION_COUNT || m < 0 || n < 0 || k < 0) return AD_EINVAL;
    if (m == 0 || n == 0) return AD_OK;
    if (!y || (k > 0 && (!x || !w))) return AD_EINVAL;
    int rc = ad_matmul(dtype, 1, m, n, k, x, 0, 0, w, 0, 0, y, 1.0, 0.0);
    if (rc) return rc;
    if (k == 0) memset(y, 0, (size_t)(m * n) * (size_t)ad_dtype_size(dtype));
    dense_tail t = {.dtype = dtype, .act = act, .m = m, .n = n, .b = b, .out = y};
    ad_parallel_for(m, DENSE_TAIL_MIN_PER_THREAD / n + 1, dense_rows, &t);
    return AD_OK;
}

/* dz = g * act'(y) and db's column sums (in double) on columns [lo, hi) of every row, in one pass: threads
 * split columns, so each sum adds its rows in the same order however many there are */
#define ACT_GRAD_COLS(EXPR)                                         \
    for (int64_t i = 0; i < m; i++)                                 \
        for (int64_t j = lo; j < hi; j++) {                         \
            T y = Y[i * n + j], g = G[i * n + j], d_ = (EXPR);      \
            (void)y;                                                \
            D[i * n + j] = d_;                                      \
            if (A) A[j] += (double)d_;                              \
        }                                                           \
    break;
#define DENSE_GRAD_CASE(name, f, grad, ints) case AD_ACT_##name: ACT_GRAD_COLS(grad)

AD_TARGET_CLONES static int act_grad_cols_typed(const dense_tail *t, int64_t lo, int64_t hi) {
    int64_t m = t->m, n = t->n;
    double *restrict A = t->acc;
    if (A)
        for (int64_t j = lo; j < hi; j++) A[j] = 0;
    AD_DISPATCH_FLOAT(t->dtype, {
        const T *restrict Y = t->y, *restrict G = t->g;
        T *restrict D = t->dz;
        switch (t->act) {
        case AD_NO_ACTIVATION: ACT_GRAD_COLS(g)
        AD_ACTIVATIONS(DENSE_GRAD_CASE)
        }
        if (A)
            for (int64_t j = lo; j < hi; j++) ((T *)t->out)[j] = (T)A[j];
    })
    return AD_OK;
}

static void act_grad_cols(void *ctx, int64_t lo, int64_t hi) { (void)act_grad_cols_typed(ctx, lo, hi); }

int ad_bias_act_backward(int dtype, int act, int64_t m, int64_t n, const void *y, const void *g, void *dz,
                         void *db) {
    if (act < AD_NO_ACTIVATION || act >= AD_ACTIVATION_COUNT || m < 0 || n < 0) return AD_EINVAL;
    if (m * n > 0 && (!y || !g || !dz)) return AD_EINVAL;
    if (dtype != AD_FLOAT32 && dtype != AD_FLOAT64) return AD_EDTYPE;
    if (n == 0) return AD_OK;
    double *acc = db ? malloc((size_t)n * sizeof(double)) : NULL;
    if (db && !acc) return AD_ENOMEM;
    dense_tail t = {.dtype = dtype, .act = act, .m = m, .n = n, .y = y, .g = g, .dz = dz, .out = db, .acc = acc};
    ad_parallel_for(n, DENSE_TAIL_MIN_PER_THREAD / (m + 1) + 1, act_grad_cols, &t);
    free(acc);
    return AD_OK;
}

int ad_dense_backward(int dtype, int act, int64_t m, int64_t n, int64_t k, const void *x, const void *w,
                      const void *y, const void *g, void *gx, void *gw, void *db) {
    if (m < 0 || n < 0 || k < 0) return AD_EINVAL;
    if ((k * n > 0 && !gw) || (m * k > 0 && gx && !w) || (m * k > 0 && !x)) return AD_EINVAL;
    if (dtype != AD_FLOAT32 && dtype != AD_FLOAT64) return AD_EDTYPE;
    void *dz = malloc((size_t)(m * n + 1) * (size_t)ad_dtype_size(dtype));
    if (!dz) return AD_ENOMEM;
    int rc = ad_bias_act_backward(dtype, act, m, n, y, g, dz, db);
    if (!rc && gx) rc = ad_matmul(dtype, 1, m, k, n, dz, 0, 0, w, 0, 1, gx, 1.0, 0.0);
    if (!rc) rc = ad_matmul(dtype, 1, k, n, m, x, 0, 1, dz, 0, 0, gw, 1.0, 0.0);
    free(dz);
    return rc;
}

/* ---- cross-entropies from logits -------------------------------------------------------------- */

/* A row's softmax into p and its log-sum-exp returned (in double), without overflow: the exponentials of the row
 * less its max (0 where that is infinite), which float32 computes as vectors (ad_expf), summed in double, then
 * scaled (at 1000 classes, double libm exp per element took 5x PyTorch's time) */
#define XENT_SOFTMAX(T, S)                                                                              \
    AD_WIDE_CLONES static double xent_softmax_##S(int64_t n, const T *row, T *p) {                      \
        T m = (T)ad_row_max(sizeof(T) == 4 ? AD_FLOAT32 : AD_FLOAT64, n, row);                          \
        if (m == -(T)AD_INF || m == (T)AD_INF) m = 0;                                                   \
        for (int64_t j = 0; j < n; j++) p[j] = AD_EXP_OF(T, row[j] - m);                                \
        double sum = ad_row_sum(sizeof(T) == 4 ? AD_FLOAT32 : AD_FLOAT64, n, p);                        \
        T inv = (T)(1.0 / sum);                                                                         \
        for (int64_t j = 0; j < n; j++) p[j] *= inv;                                                    \
        return (double)m + log(sum);                                                                    \
    }
XENT_SOFTMAX(float, f32)
XENT_SOFTMAX(double, f64)
#define XENT_ROW(T, n, row, p) \
    (sizeof(T) == 4 ? xent_softmax_f32(n, (const float *)(row), (float *)(p)) \
                    : xent_softmax_f64(n, (const double *)(row), (double *)(p)))

static int check_rows(int64_t m, int64_t n, const void *a, const void *b, const void *c) {
    if (m < 0 || n < 0) return AD_EINVAL;
    if (m * n > 0 && (!a || !b || !c)) return AD_EINVAL;
    return AD_OK;
}

/* the per-row losses, or with mean their average (NaN for no rows) written to loss[0]; float32 rows are
 * rounded before they are averaged, as a separate mean would see them */
#define AD_XENT_STORE(T, L, i, value, mean, acc) \
    do { T v_ = (T)(value); if (mean) acc += (double)v_; else (L)[i] = v_; } while (0)
#define AD_XENT_MEAN(T, L, m, mean, acc) \
    do { if (mean) (L)[0] = (m) ? (T)(acc / (double)(m)) : (T)__builtin_nan(""); } while (0)
/* the upstream gradient of row i: g[i], or with mean g[0] / m */
#define AD_XENT_G(T, G, i, m, mean) ((mean) ? (T)((double)(G)[0] / (double)(m)) : (G)[i])

int ad_sparse_softmax_xent(int dtype, int64_t m, int64_t n, const void *logits, const int32_t *labels,
                           void *loss, void *probs, int mean) {
    int rc = check_rows(m, n, logits, labels, probs);
    if (rc) return rc;
    if ((m > 0 && !labels) || ((m > 0 || mean) && !loss)) return AD_EINVAL;
    for (int64_t i = 0; i < m; i++)
        if (labels[i] < 0 || labels[i] >= n) return AD_EINDEX;
    AD_DISPATCH_FLOAT(dtype, {
        const T *X = logits;
        T *L = loss, *P = probs;
        double acc = 0;
        for (int64_t i = 0; i < m; i++) {
            const T *row = X + i * n;
            double lse = XENT_ROW(T, n, row, P + i * n);
            AD_XENT_STORE(T, L, i, lse - (double)row[labels[i]], mean, acc);
        }
        AD_XENT_MEAN(T, L, m, mean, acc);
    })
    return AD_OK;
}

int ad_sparse_softmax_xent_backward(int dtype, int64_t m, int64_t n, const void *probs, const int32_t *labels,
                                    const void *g, void *dlogits, int mean) {
    int rc = check_rows(m, n, probs, labels, dlogits);
    if (rc) return rc;
    if (m > 0 && (!labels || !g)) return AD_EINVAL;
    for (int64_t i = 0; i < m; i++)
        if (labels[i] < 0 || labels[i] >= n) return AD_EINDEX;
    AD_DISPATCH_FLOAT(dtype, {
        const T *P = probs, *G = g;
        T *D = dlogits;
        for (int64_t i = 0; i < m; i++) {
            T gi = AD_XENT_G(T, G, i, m, mean);
            for (int64_t j = 0; j < n; j++) D[i * n + j] = gi * P[i * n + j];
            D[i * n + labels[i]] -= gi;
        }
    })
    return AD_OK;
}

int ad_softmax_xent(int dtype, int64_t m, int64_t n, const void *logits, const void *labels, void *loss,
                    void *probs, int mean) {
    int rc = check_rows(m, n, logits, labels, probs);
    if (rc) return rc;
    if ((m > 0 || mean) && !loss) return AD_EINVAL;
    AD_DISPATCH_FLOAT(dtype, {
        const T *X = logits, *Z = labels;
        T *L = loss, *P = probs;
        double mean_acc = 0;
        for (int64_t i = 0; i < m; i++) {
            const T *row = X + i * n, *z = Z + i * n;
            double lse = XENT_ROW(T, n, row, P + i * n), acc = 0;
            /* labels of exactly 0 contribute nothing, even where a logit is -inf */
            for (int64_t j = 0; j < n; j++)
                if (z[j] != 0) acc += (double)z[j] * (lse - (double)row[j]);
            AD_XENT_STORE(T, L, i, acc, mean, mean_acc);
        }
        AD_XENT_MEAN(T, L, m, mean, mean_acc);
    })
    return AD_OK;
}

int ad_softmax_xent_backward(int dtype, int64_t m, int64_t n, const void *probs, const void *labels,
                             const void *g, void *dlogits, int mean) {
    int rc = check_rows(m, n, probs, labels, dlogits);
    if (rc) return rc;
    if (m > 0 && !g) return AD_EINVAL;
    AD_DISPATCH_FLOAT(dtype, {
        const T *P = probs, *Z = labels, *G = g;
        T *D = dlogits;
        for (int64_t i = 0; i < m; i++) {
            double total = 0;
            for (int64_t j = 0; j < n; j++) total += Z[i * n + j];
            T gi = AD_XENT_G(T, G, i, m, mean), scale = gi * (T)total;
            for (int64_t j = 0; j < n; j++) D[i * n + j] = scale * P[i * n + j] - gi * Z[i * n + j];
        }
    })
    return AD_OK;
}

int ad_sigmoid_xent(int dtype, int64_t n, const void *logits, const void *labels, void *loss) {
    int rc = check_rows(1, n, logits, labels, loss);
    if (rc) return rc;
    AD_DISPATCH_FLOAT(dtype, {
        const T *X = logits, *Z = labels;
        T *L = loss;
        /* max(x, 0) - x z + log(1 + exp(-|x|)): exp never sees a positive argument */
        for (int64_t i = 0; i < n; i++) {
            T x = X[i], ax = x < 0 ? -x : x;
            L[i] = (x > 0 ? x : (T)0) - x * Z[i] + AD_LIBM(T, log1p, AD_EXP_OF(T, -ax));
        }
    })
    return AD_OK;
}

int ad_sigmoid_xent_backward(int dtype, int64_t n, const void *logits, const void *labels, const void *g,
                             void *dlogits) {
    int rc = check_rows(1, n, logits, labels, dlogits);
    if (rc) return rc;
    if (n > 0 && !g) return AD_EINVAL;
    AD_DISPATCH_FLOAT(dtype, {
        const T *X = logits, *Z = labels, *G = g;
        T *D = dlogits;
        for (int64_t i = 0; i < n; i++) {
            T x = X[i], s = AD_SIGMOID_OF(T, x);
            D[i] = G[i] * (s - Z[i]);
        }
    })
    return AD_OK;
}

/* ---- normalization ------------------------------------------------------------------------------- */

/* One kernel each way where the layers' ops took ten calls and as many passes over x (LayerNormalization 128x512
 * forward and backward ran at a quarter of PyTorch's speed). Two passes over x forward (the mean, then the
 * squared deviations from it: no cancellation), two backward. Per element the arithmetic is in T (vector speed:
 * double lanes' conversions made a float kernel 3x slower); the sums add T lanes over blocks of NORM_BLOCK values
 * along a row, or of NORM_ROWS rows down a column, and the blocks' totals in double. */
#define NORM_LANES 32
#define NORM_BLOCK 256
#define NORM_ROWS 16
#define NORM_X(k) xb[k]
#define NORM_SQDEV(k) ((xb[k] - mi) * (xb[k] - mi))
#define NORM_NONE(k) (-0.0f) /* (x + -0 is x: the compiler drops the lane) */
#define NORM_G(k) (db[k] * gb[k])
#define NORM_GXHAT(k) (db[k] * gb[k] * ((xb[k] - mi) * ri))
/* the T sums of rows [i - NORM_ROWS + 1, i] (or the last ones) into the double ones, per column */
#define NORM_FLUSH(i, rows, cols, tsum, dsum)                                                      \
    if ((i) % NORM_ROWS == NORM_ROWS - 1 || (i) == (rows) - 1)                                     \
        for (int64_t j = 0; j < (cols); j++) (dsum)[j] += (tsum)[j], (tsum)[j] = 0

/* The sums of TERM1(k) and TERM2(k) over k < n, T terms (reading the arguments below, xb, db and gb being x, dy and
 * g from the block's start) added in NORM_LANES lanes of T per block of NORM_BLOCK values, each block's total then in
 * double: out[0] and out[1]. In this form GCC vectorizes the lanes (with them running along the whole row, or the
 * block's lanes added to a double one by one, it kept them scalar). */
#define NORM_SUMS_FN(T, S, name, TERM1, TERM2)                                                                \
    AD_WIDE_CLONES static void name##_##S(const T *x, const T *dy, const T *g, int64_t n, T mi, T ri,          \
                                          double out[2]) {                                                    \
        double o1 = 0, o2 = 0;                                                                                \
        (void)dy, (void)g, (void)mi, (void)ri;                                                                \
        for (int64_t b = 0; b < n; b += NORM_BLOCK) {                                                         \
            int64_t e = n - b < NORM_BLOCK ? n - b : NORM_BLOCK, k = 0;                                       \
            const T *xb = x + b, *db = dy ? dy + b : NULL, *gb = g ? g + b : NULL;                            \
            T u[NORM_LANES] = {0}, v[NORM_LANES] = {0};                                                       \
            (void)db, (void)gb;                                                                               \
            for (; k + NORM_LANES <= e; k += NORM_LANES)                                                      \
                for (int l = 0; l < NORM_LANES; l++) u[l] += TERM1(k + l), v[l] += TERM2(k + l);              \
            for (int w = NORM_LANES / 2; w > 0; w /= 2)                                                       \
                for (int l = 0; l < w; l++) u[l] += u[l + w], v[l] += v[l + w];                               \
            double s1 = u[0], s2 = v[0];                                                                      \
            for (; k < e; k++) s1 += TERM1(k), s2 += TERM2(k);                                                \
            o1 += s1, o2 += s2;                                                                               \
        }                                                                                                     \
        out[0] = o1, out[1] = o2;                                                                             \
    }
#define NORM_FNS(T, S)                                                                                        \
    NORM_SUMS_FN(T, S, norm_sum, NORM_X, NORM_NONE)                                                           \
    NORM_SUMS_FN(T, S, norm_sqdev, NORM_SQDEV, NORM_NONE)                                                     \
    NORM_SUMS_FN(T, S, norm_gsums, NORM_G, NORM_GXHAT)                                                        \
    AD_WIDE_CLONES static int norm_forward_##S(int by_column, int64_t rows, int64_t cols, const T *x,         \
                                               const T *gamma, const T *beta, double eps, T *y, T *mean,      \
                                               T *var) {                                                      \
        /* per column: gamma and beta (1 and 0 when NULL); for column groups their mean, 1 / sqrt(var + eps)   \
         * and sums (T, then double) */                                                                       \
        T *g = malloc((size_t)cols * (5 * sizeof(T) + sizeof(double)) + 8);                                   \
        if (!g) return AD_ENOMEM;                                                                             \
        T *b = g + cols, *m = b + cols, *r = m + cols, *t = r + cols;                                         \
        double *d = (double *)(void *)(((uintptr_t)(t + cols) + 7) & ~(uintptr_t)7);                          \
        for (int64_t j = 0; j < cols; j++) g[j] = gamma ? gamma[j] : 1, b[j] = beta ? beta[j] : 0;           \
        if (by_column) {                                                                                      \
            for (int pass = 0; pass < 2; pass++) { /* the means, then the squared deviations */               \
                for (int64_t j = 0; j < cols; j++) t[j] = 0, d[j] = 0;                                        \
                for (int64_t i = 0; i < rows; i++) {                                                          \
                    const T *xr = x + i * cols;                                                               \
                    if (pass)                                                                                 \
                        for (int64_t j = 0; j < cols; j++) t[j] += (xr[j] - m[j]) * (xr[j] - m[j]);           \
                    else                                                                                      \
                        for (int64_t j = 0; j < cols; j++) t[j] += xr[j];                                     \
                    NORM_FLUSH(i, rows, cols, t, d);                                                          \
                }                                                                                             \
                for (int64_t j = 0; j < cols; j++) {                                                          \
                    double s = d[j] / (double)rows; /* (no rows: NaN) */                                      \
                    if (pass) var[j] = (T)s, r[j] = (T)(1 / sqrt(s + eps));                                   \
                    else mean[j] = m[j] = (T)s;                                                               \
                }                                                                                             \
            }                                                                                                 \
            for (int64_t i = 0; i < rows; i++)                                                                \
                for (int64_t j = 0; j < cols; j++)                                                            \
                    y[i * cols + j] = (x[i * cols + j] - m[j]) * r[j] * g[j] + b[j];                          \
        } else {                                                                                              \
            for (int64_t i = 0; i < rows; i++) {                                                              \
                const T *xr = x + i * cols;                                                                   \
                T *yr = y + i * cols;                                                                         \
                double s[2], sq[2];                                                                           \
                norm_sum_##S(xr, NULL, NULL, cols, 0, 0, s);                                                  \
                T mi = mean[i] = (T)(s[0] / (double)cols);                                                    \
                norm_sqdev_##S(xr, NULL, NULL, cols, mi, 0, sq);                                              \
                var[i] = (T)(sq[0] / (double)cols);                                                           \
                T ri = (T)(1 / sqrt(sq[0] / (double)cols + eps));                                             \
                for (int64_t j = 0; j < cols; j++) yr[j] = (xr[j] - mi) * ri * g[j] + b[j];                   \
            }                                                                                                 \
        }                                                                                                     \
        free(g);                                                                                              \
        return AD_OK;                                                                                         \
    }                                                                                                         \
    /* dx = rs * (g - mean(g) - xhat * mean(g * xhat)) per group, g = dy * gamma and xhat = (x - mean) * rs;   \
     * dgamma and dbeta the column sums of dy * xhat and dy */                                                \
    AD_WIDE_CLONES static int norm_backward_##S(int by_column, int64_t rows, int64_t cols, const T *x,        \
                                                const T *gamma, const T *mean, const T *var, double eps,      \
                                                const T *dy, T *dx, T *dgamma, T *dbeta) {                    \
        /* per column: gamma, the T and double sums of dy * xhat and dy, a column group's mean and rs and the  \
         * coefficients of its dx */                                                                          \
        T *g = malloc((size_t)cols * (7 * sizeof(T) + 2 * sizeof(double)) + 8);                               \
        if (!g) return AD_ENOMEM;                                                                             \
        T *tg = g + cols, *tb = tg + cols, *mc = tb + cols, *rc = mc + cols, *ca = rc + cols, *cb = ca + cols; \
        double *dg = (double *)(void *)(((uintptr_t)(cb + cols) + 7) & ~(uintptr_t)7), *db = dg + cols;       \
        for (int64_t j = 0; j < cols; j++) g[j] = gamma ? gamma[j] : 1, tg[j] = tb[j] = 0, dg[j] = db[j] = 0; \
        if (by_column) {                                                                                      \
            for (int64_t j = 0; j < cols; j++) mc[j] = mean[j], rc[j] = (T)(1 / sqrt((double)var[j] + eps));  \
            for (int64_t i = 0; i < rows; i++) {                                                              \
                const T *xr = x + i * cols, *dyr = dy + i * cols;                                             \
                for (int64_t j = 0; j < cols; j++) tb[j] += dyr[j], tg[j] += dyr[j] * ((xr[j] - mc[j]) * rc[j]); \
                NORM_FLUSH(i, rows, cols, tg, dg);                                                            \
                NORM_FLUSH(i, rows, cols, tb, db);                                                            \
            }                                                                                                 \
            for (int64_t j = 0; j < cols; j++) /* dx = rs gamma (dy - db / n - xhat dg / n) */                \
                ca[j] = (T)(db[j] / (double)rows), cb[j] = (T)(dg[j] / (double)rows), g[j] *= rc[j];          \
            for (int64_t i = 0; dx && i < rows; i++) {                                                        \
                const T *xr = x + i * cols, *dyr = dy + i * cols;                                             \
                T *dxr = dx + i * cols;                                                                       \
                for (int64_t j = 0; j < cols; j++)                                                            \
                    dxr[j] = g[j] * (dyr[j] - ca[j] - ((xr[j] - mc[j]) * rc[j]) * cb[j]);                     \
            }                                                                                                 \
        } else {                                                                                              \
            for (int64_t i = 0; i < rows; i++) {                                                              \
                const T *xr = x + i * cols, *dyr = dy + i * cols;                                             \
                T mi = mean[i], ri = (T)(1 / sqrt((double)var[i] + eps));                                     \
                if (dx) {                                                                                     \
                    T *dxr = dx + i * cols;                                                                   \
                    double sums[2];                                                                           \
                    norm_gsums_##S(xr, dyr, g, cols, mi, ri, sums);                                           \
                    T a = (T)(sums[0] / (double)cols), c = (T)(sums[1] / (double)cols);                       \
                    for (int64_t j = 0; j < cols; j++) {                                                      \
                        T xhat = (xr[j] - mi) * ri;                                                           \
                        dxr[j] = ri * (dyr[j] * g[j] - a - xhat * c);                                         \
                        tb[j] += dyr[j], tg[j] += dyr[j] * xhat;                                              \
                    }                                                                                         \
                } else {                                                                                      \
                    for (int64_t j = 0; j < cols; j++) tb[j] += dyr[j], tg[j] += dyr[j] * ((xr[j] - mi) * ri); \
                }                                                                                             \
                NORM_FLUSH(i, rows, cols, tg, dg);                                                            \
                NORM_FLUSH(i, rows, cols, tb, db);                                                            \
            }                                                                                                 \
        }                                                                                                     \
        for (int64_t j = 0; j < cols; j++) {                                                                  \
            if (dgamma) dgamma[j] = (T)dg[j];                                                                 \
            if (dbeta) dbeta[j] = (T)db[j];                                                                   \
        }                                                                                                     \
        free(g);                                                                                              \
        return AD_OK;                                                                                         \
    }
NORM_FNS(float, f32)
NORM_FNS(double, f64)

static int check_norm(int dtype, int by_column, int64_t rows, int64_t cols, const void *x, const void *in,
                      const void *mean, const void *var, const void *out) {
    if (dtype != AD_FLOAT32 && dtype != AD_FLOAT64) return AD_EDTYPE;
    if ((by_column != 0 && by_column != 1) || rows < 0 || cols < 0 || (cols > 0 && rows > INT64_MAX / cols))
        return AD_EINVAL;
    if (rows * cols > 0 && (!x || !in || !out)) return AD_EINVAL;
    return (by_column ? cols : rows) > 0 && (!mean || !var) ? AD_EINVAL : AD_OK;
}

int ad_normalize(int dtype, int by_column, int64_t rows, int64_t cols, const void *x, const void *gamma,
                 const void *beta, double epsilon, void *y, void *mean, void *variance) {
    int rc = check_norm(dtype, by_column, rows, cols, x, x, mean, variance, y);
    if (rc) return rc;
    return dtype == AD_FLOAT32 ? norm_forward_f32(by_column, rows, cols, x, gamma, beta, epsilon, y, mean, variance)
                               : norm_forward_f64(by_column, rows, cols, x, gamma, beta, epsilon, y, mean, variance);
}

int ad_normalize_backward(int dtype, int by_column, int64_t rows, int64_t cols, const void *x, const void *gamma,
                          const void *mean, const void *variance, double epsilon, const void *dy, void *dx,
                          void *dgamma, void *dbeta) {
    int rc = check_norm(dtype, by_column, rows, cols, x, dy, mean, variance, dx ? dx : (void *)dy);
    if (rc) return rc;
    return dtype == AD_FLOAT32 ? norm_backward_f32(by_column, rows, cols, x, gamma, mean, variance, epsilon, dy, dx,
                                                   dgamma, dbeta)
                               : norm_backward_f64(by_column, rows, cols, x, gamma, mean, variance, epsilon, dy, dx,
                                                   dgamma, dbeta);
}

int ad_moving_average(int dtype, int64_t n, double momentum, const void *x, void *average) {
    if (n < 0 || (n > 0 && (!x || !average)) || momentum - momentum != 0) return AD_EINVAL; /* (NaN or infinite) */
    AD_DISPATCH_FLOAT(dtype, {
        const T *X = x;
        T *A = average;
        for (int64_t i = 0; i < n; i++) A[i] = (T)(momentum * (double)A[i] + (1.0 - momentum) * (double)X[i]);
    })
    return AD_OK;
}

/* ---- randomness with its state in memory --------------------------------------------------------- */

/* a uniform double in [0, 1) for element i of draw number `call` of stream `seed` */
static double nn_uniform(uint64_t seed, uint64_t call, uint64_t i) {
    return (double)(splitmix64(splitmix64(seed ^ splitmix64(call)) ^ i) >> 11) * (1.0 / 9007199254740992.0);
}

int ad_dropout(int dtype, int64_t n, double rate, int64_t *state, const void *x, void *y, void *mask) {
    if (n < 0 || !state || !(rate >= 0.0 && rate < 1.0)) return AD_EINVAL;
    if (n > 0 && (!x || !y || !mask)) return AD_EINVAL;
    uint64_t seed = (uint64_t)state[0], call = (uint64_t)state[1];
    state[1] += 1;
    AD_DISPATCH_FLOAT(dtype, {
        const T *X = x;
        T *Y = y, *M = mask;
        T keep = (T)(1.0 / (1.0 - rate));
        for (int64_t i = 0; i < n; i++) {
            M[i] = nn_uniform(seed, call, (uint64_t)i) >= rate ? keep : (T)0;
            Y[i] = X[i] * M[i];
        }
    })
    return AD_OK;
}

int ad_permutation(int64_t n, int64_t seed, int32_t *out) {
    if (n < 0 || n > 2147483647 || (n > 0 && !out)) return AD_EINVAL;
    for (int64_t i = 0; i < n; i++) out[i] = (int32_t)i;
    /* Fisher-Yates; 31 random bits times i + 1 < 2^31, shifted down, pick j in [0, i] (no 128-bit
     * arithmetic, which wasm32 lacks) */
    for (int64_t i = n - 1; i > 0; i--) {
        uint64_t r = splitmix64((uint64_t)seed ^ splitmix64((uint64_t)i)) >> 33;
        int64_t j = (int64_t)((r * (uint64_t)(i + 1)) >> 31);
        int32_t t = out[i];
        out[i] = out[j];
        out[j] = t;
    }
    return AD_OK;
}

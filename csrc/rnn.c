/* rnn.c: SimpleRNN, LSTM and GRU over a whole sequence in one call, forward and backward.
 *
 * The inputs' projections for every step are one GEMM before the call (the caller's dense); here each step is
 * one GEMM of the state by the recurrent kernel (two for GRU with the reset gate before the product) and one
 * pass over the batch's rows for the gates and the state update. The backward runs the steps in reverse,
 * keeping each step's gate gradients, and takes the recurrent kernel's gradient as one GEMM over all steps at
 * the end (states^T @ gate gradients; both kept in time order, so for SimpleRNN and LSTM, whose gate gradients
 * are those of the projections, they are gxw itself: no scratch of steps * batch * G * units to fault in).
 * A crossing per sequence rather than per step and per op is what makes this pay: at batch 32, 128 units, the
 * per-step work is a few microseconds. */
#include "internal.h"

/* v = act(v) over n values; d = d * act'(through v, the activation's output). One function per activation and
 * dtype: within one function of all the cases GCC left float32 tanh's loop scalar. */
#define RNN_ACT_TYPED(name, f, grad, TY, S)                                                      \
    AD_TARGET_CLONES static void act_##name##_##S(int64_t n, TY *v) {                            \
        typedef TY T;                                                                            \
        for (int64_t i = 0; i < n; i++) { T x = v[i]; v[i] = (f); }                              \
    }                                                                                            \
    AD_TARGET_CLONES static void grad_##name##_##S(int64_t n, const TY *v, TY *d) {              \
        typedef TY T;                                                                            \
        for (int64_t i = 0; i < n; i++) { T y = v[i], g = d[i]; d[i] = (grad); }                 \
    }
#define RNN_ACT_FNS(name, f, grad, ints) RNN_ACT_TYPED(name, f, grad, float, f32) RNN_ACT_TYPED(name, f, grad, double, f64)
AD_ACTIVATIONS(RNN_ACT_FNS)
#define RNN_CASE_F32(name, f, grad, ints) case AD_ACT_##name: act_##name##_f32(n, v); break;
#define RNN_CASE_F64(name, f, grad, ints) case AD_ACT_##name: act_##name##_f64(n, v); break;
#define RNN_GRAD_CASE_F32(name, f, grad, ints) case AD_ACT_##name: grad_##name##_f32(n, v, d); break;
#define RNN_GRAD_CASE_F64(name, f, grad, ints) case AD_ACT_##name: grad_##name##_f64(n, v, d); break;
static void act_f32(int act, int64_t n, float *v) { switch (act) { AD_ACTIVATIONS(RNN_CASE_F32) default: break; } }
static void act_f64(int act, int64_t n, double *v) { switch (act) { AD_ACTIVATIONS(RNN_CASE_F64) default: break; } }
static void act_grad_f32(int act, int64_t n, const float *v, float *d) {
    switch (act) { AD_ACTIVATIONS(RNN_GRAD_CASE_F32) default: break; }
}
static void act_grad_f64(int act, int64_t n, const double *v, double *d) {
    switch (act) { AD_ACTIVATIONS(RNN_GRAD_CASE_F64) default: break; }
}
#define ACT(act, n, v) _Generic((v), float *: act_f32, double *: act_f64)(act, n, v)
#define ACT_GRAD(act, n, v, d) _Generic((d), float *: act_grad_f32, double *: act_grad_f64)(act, n, v, d)

typedef struct {
    int cell, dtype, act, ract, reverse;
    int64_t steps, batch, units, gates; /* gates: column blocks of units in xw and r */
    const void *mask, *rmask;
} rnn_t;

static int rnn_init(rnn_t *p, int cell, int dtype, int act, int ract, int reverse, int64_t steps, int64_t batch,
                    int64_t units, const void *mask, const void *rmask) {
    const int64_t big = (int64_t)1 << 40;
    if (dtype != AD_FLOAT32 && dtype != AD_FLOAT64) return AD_EDTYPE;
    if (cell < AD_RNN_SIMPLE || cell > AD_RNN_GRU_BEFORE || act < AD_NO_ACTIVATION || act >= AD_ACTIVATION_COUNT ||
        ract < AD_NO_ACTIVATION || ract >= AD_ACTIVATION_COUNT || steps < 0 || batch < 0 || units < 1 ||
        steps > big || batch > big || units > big || (batch && steps > big / batch) ||
        steps * batch > big / (4 * units))
        return AD_EINVAL;
    *p = (rnn_t){.cell = cell, .dtype = dtype, .act = act, .ract = ract, .reverse = reverse != 0, .steps = steps,
                 .batch = batch, .units = units, .mask = mask, .rmask = rmask,
                 .gates = cell == AD_RNN_SIMPLE ? 1 : cell == AD_RNN_LSTM ? 4 : 3};
    return AD_OK;
}

/* the time step s reads */
static int64_t rnn_time(const rnn_t *p, int64_t s) { return p->reverse ? p->steps - 1 - s : s; }

/* whether sample b takes time t (else it carries its state over) */
static int rnn_taken(const rnn_t *p, int64_t t, int64_t b) {
    int64_t i = t * p->batch + b;
    return !p->mask || (p->dtype == AD_FLOAT32 ? ((const float *)p->mask)[i] != 0
                                               : ((const double *)p->mask)[i] != 0);
}

/* c (m, n) = op(a) @ op(b) + beta * c */
static int rnn_mm(const rnn_t *p, int64_t m, int64_t n, int64_t k, const void *a, int ta, const void *b, int tb,
                  void *c, double beta) {
    return ad_matmul(p->dtype, 1, m, n, k, a, 0, ta, b, 0, tb, c, 1.0, beta);
}

/* hin (batch, units) = hp * rmask, or hp itself */
static int rnn_hin(const rnn_t *p, const void *hp, void *hin) {
    int64_t n = p->batch * p->units;
    if (!p->rmask) {
        memcpy(hin, hp, (size_t)(n * ad_dtype_size(p->dtype)));
        return AD_OK;
    }
    AD_DISPATCH_FLOAT(p->dtype, {
        const T *a = hp, *m = p->rmask;
        T *o = hin;
        for (int64_t i = 0; i < n; i++) o[i] = a[i] * m[i];
    })
    return AD_OK;
}

/* dst (rows, cols) = the column block [c0, c0 + cols) of src (rows, ld) */
static void rnn_columns(int es, int64_t rows, int64_t ld, int64_t c0, int64_t cols, const void *src, void *dst) {
    for (int64_t i = 0; i < rows; i++)
        memcpy((char *)dst + i * cols * es, (const char *)src + (i * ld + c0) * es, (size_t)(cols * es));
}

/* ---- forward ------------------------------------------------------------------------------------------ */

/* One step's gates and state update for the rows of the batch; in (batch, G * units) holds hin @ r (for
 * AD_RNN_GRU_BEFORE: z and r only, ih the candidate's product (r * hin) @ r_h). */
static int rnn_step(const rnn_t *p, int64_t t, const void *xw_t, const void *in, const void *ih, const void *rb,
                    const void *hp, const void *cp, void *hs, void *cs, void *ws) {
    int64_t U = p->units, GU = p->gates * U;
    AD_DISPATCH_FLOAT(p->dtype, {
        for (int64_t b = 0; b < p->batch; b++) {
            const T *x = (const T *)xw_t + b * GU, *a = (const T *)in + b * GU, *hprev = (const T *)hp + b * U;
            T *h = (T *)hs + b * U;
            if (!rnn_taken(p, t, b)) {
                memcpy(h, hprev, (size_t)U * sizeof(T));
                if (cs) memcpy((T *)cs + b * U, (const T *)cp + b * U, (size_t)U * sizeof(T));
                continue;
            }
            if (p->cell == AD_RNN_SIMPLE) {
                for (int64_t j = 0; j < U; j++) h[j] = x[j] + a[j];
                ACT(p->act, U, h);
            } else if (p->cell == AD_RNN_LSTM) {
                T *w = (T *)ws + b * 4 * U, *c = (T *)cs + b * U;
                const T *cprev = (const T *)cp + b * U;
                for (int64_t j = 0; j < GU; j++) w[j] = x[j] + a[j];
                ACT(p->ract, 2 * U, w);
                ACT(p->act, U, w + 2 * U);
                ACT(p->ract, U, w + 3 * U);
                for (int64_t j = 0; j < U; j++) h[j] = c[j] = w[U + j] * cprev[j] + w[j] * w[2 * U + j];
                ACT(p->act, U, h);
                for (int64_t j = 0; j < U; j++) h[j] *= w[3 * U + j];
            } else { /* GRU: work holds z, r, h~ and r_h's product (reset after) or r * hin (before) */
                T *w = (T *)ws + b * 4 * U;
                if (p->cell == AD_RNN_GRU) {
                    const T *bias = rb;
                    for (int64_t j = 0; j < 2 * U; j++) w[j] = x[j] + a[j] + (bias ? bias[j] : 0);
                    ACT(p->ract, 2 * U, w);
                    for (int64_t j = 0; j < U; j++) {
                        w[3 * U + j] = a[2 * U + j] + (bias ? bias[2 * U + j] : 0);
                        w[2 * U + j] = x[2 * U + j] + w[U + j] * w[3 * U + j];
                    }
                } else { /* (z and r came from rnn_gru_reset) */
                    for (int64_t j = 0; j < U; j++) w[2 * U + j] = x[2 * U + j] + ((const T *)ih)[b * U + j];
                }
                ACT(p->act, U, w + 2 * U);
                for (int64_t j = 0; j < U; j++) h[j] = w[j] * hprev[j] + (1 - w[j]) * w[2 * U + j];
            }
        }
    })
    return AD_OK;
}

/* AD_RNN_GRU_BEFORE: r * hin for every row, into work's last block and into rh (batch, units) for the GEMM;
 * z and r must be in work (their pre-activations come from x and in) */
static int rnn_gru_reset(const rnn_t *p, const void *xw_t, const void *in, const void *hin, void *ws, void *rh) {
    int64_t U = p->units;
    AD_DISPATCH_FLOAT(p->dtype, {
        for (int64_t b = 0; b < p->batch; b++) {
            const T *x = (const T *)xw_t + b * 3 * U, *a = (const T *)in + b * 2 * U, *hb = (const T *)hin + b * U;
            T *w = (T *)ws + b * 4 * U, *o = (T *)rh + b * U;
            for (int64_t j = 0; j < 2 * U; j++) w[j] = x[j] + a[j];
            ACT(p->ract, 2 * U, w);
            for (int64_t j = 0; j < U; j++) o[j] = w[3 * U + j] = w[U + j] * hb[j];
        }
    })
    return AD_OK;
}

int ad_rnn(int cell, int dtype, int act, int ract, int reverse, int64_t steps, int64_t batch, int64_t units,
           const void *xw, const void *r, const void *rb, const void *h0, const void *c0, const void *mask,
           const void *rmask, void *h, void *c, void *work) {
    rnn_t p;
    int rc = rnn_init(&p, cell, dtype, act, ract, reverse, steps, batch, units, mask, rmask);
    if (rc) return rc;
    int lstm = cell == AD_RNN_LSTM, before = cell == AD_RNN_GRU_BEFORE;
    if (!r || (lstm != (c0 != NULL)) || (lstm != (c != NULL)) || ((cell == AD_RNN_SIMPLE) != (work == NULL)) ||
        (rb && cell != AD_RNN_GRU))
        return AD_EINVAL;
    if (steps == 0 || batch == 0) return AD_OK;
    if (!xw || !h0 || !h) return AD_EINVAL;
    int es = ad_dtype_size(dtype);
    int64_t U = units, BU = batch * U, GU = p.gates * U;
    /* scratch: hin @ r, the state entering the products, and for the reset before: r split, r * hin, its product */
    char *scratch = malloc((size_t)((batch * GU + BU + (before ? 3 * U * U + 2 * BU : 0)) * es));
    if (!scratch) return AD_ENOMEM;
    char *in = scratch, *hin = in + batch * GU * es, *rzr = hin + BU * es, *rh = rzr + 2 * U * U * es;
    char *rhin = rh + U * U * es, *ih = rhin + BU * es;
    if (before) {
        rnn_columns(es, U, GU, 0, 2 * U, r, rzr);
        rnn_columns(es, U, GU, 2 * U, U, r, rh);
    }
    /* every step multiplies by the same kernels: packed once (ad_pack_b) */
    ad_packed_b pr = {0}, prh = {0};
    rc = ad_pack_b(&pr, dtype, batch, before ? 2 * U : GU, U, 0, before ? rzr : r, 0);
    if (!rc && before) rc = ad_pack_b(&prh, dtype, batch, U, U, 0, rh, 0);
    for (int64_t s = 0; s < steps && !rc; s++) {
        int64_t t = rnn_time(&p, s);
        const char *hp = s ? (char *)h + (s - 1) * BU * es : h0, *cp = lstm ? (s ? (char *)c + (s - 1) * BU * es : c0) : 0;
        const char *xw_t = (const char *)xw + t * batch * GU * es;
        char *ws = work ? (char *)work + s * batch * 4 * U * es : 0;
        rc = rnn_hin(&p, hp, hin);
        if (!rc) rc = ad_matmul_packed_b(&pr, hin, in, 1.0, 0.0);
        if (!rc && before) {
            rc = rnn_gru_reset(&p, xw_t, in, hin, ws, rhin);
            if (!rc) rc = ad_matmul_packed_b(&prh, rhin, ih, 1.0, 0.0);
        }
        if (!rc)
            rc = rnn_step(&p, t, xw_t, in, ih, rb, hp, cp, (char *)h + s * BU * es, lstm ? (char *)c + s * BU * es : 0,
                          ws);
    }
    ad_packed_b_free(&pr);
    ad_packed_b_free(&prh);
    free(scratch);
    return rc;
}

/* ---- backward ----------------------------------------------------------------------------------------- */

/* One step back for the rows that took it: from dh (and dc) the gradients of the gates' pre-activations, into
 * gx (gxw's rows at time t) and di (what multiplied r: for AD_RNN_GRU the candidate's block is the gradient of
 * r_h's product; for AD_RNN_GRU_BEFORE di holds z and r, dih the candidate's, and the reset gate waits for
 * rnn_back_reset). dh becomes the part of the previous state's gradient that does not pass through r, dc the
 * previous cell state's. Rows that did not take the step get zeros and keep dh, dc. */
AD_TARGET_CLONES static int rnn_back_step(const rnn_t *p, int64_t t, const void *hp, const void *cp, const void *hs,
                                          const void *cs, const void *ws, void *dh, void *dc, void *gx, void *di,
                                          void *dih, void *tmp) {
    int64_t U = p->units, GU = p->gates * U, DU = p->cell == AD_RNN_GRU_BEFORE ? 2 * U : GU;
    /* (the buffers are distinct: restrict and ivdep let the LSTM's loop over 7 of them vectorize, which GCC had left
     * scalar, and the AVX2 clone widens it: 9% -> 5% of bench_lstm's eager step on Zen 4, the step ~6% faster) */
    AD_DISPATCH_FLOAT(p->dtype, {
        for (int64_t b = 0; b < p->batch; b++) {
            T *restrict g = (T *)gx + b * GU, *restrict d = (T *)di + b * DU, *restrict dhb = (T *)dh + b * U;
            if (!rnn_taken(p, t, b)) {
                memset(g, 0, (size_t)GU * sizeof(T));
                memset(d, 0, (size_t)DU * sizeof(T));
                if (dih) memset((T *)dih + b * U, 0, (size_t)U * sizeof(T));
                continue;
            }
            if (p->cell == AD_RNN_SIMPLE) {
                memcpy(d, dhb, (size_t)U * sizeof(T));
                ACT_GRAD(p->act, U, (const T *)hs + b * U, d);
                memset(dhb, 0, (size_t)U * sizeof(T));
            } else if (p->cell == AD_RNN_LSTM) {
                const T *restrict w = (const T *)ws + b * 4 * U, *restrict c = (const T *)cs + b * U,
                        *restrict cprev = (const T *)cp + b * U;
                T *restrict dcb = (T *)dc + b * U, *restrict a = tmp, *restrict e = a + U;
                for (int64_t j = 0; j < U; j++) a[j] = c[j], e[j] = dhb[j] * w[3 * U + j];
                ACT(p->act, U, a);
                ACT_GRAD(p->act, U, a, e);
                T *restrict d1 = d + U, *restrict d2 = d + 2 * U, *restrict d3 = d + 3 * U; /* (disjoint blocks) */
                AD_IVDEP for (int64_t j = 0; j < U; j++) {
                    T dcs = dcb[j] + e[j];
                    d[j] = dcs * w[2 * U + j], d1[j] = dcs * cprev[j], d2[j] = dcs * w[j];
                    d3[j] = dhb[j] * a[j];
                    dcb[j] = dcs * w[U + j];
                    dhb[j] = 0;
                }
                ACT_GRAD(p->ract, 2 * U, w, d);
                ACT_GRAD(p->act, U, w + 2 * U, d + 2 * U);
                ACT_GRAD(p->ract, U, w + 3 * U, d + 3 * U);
            } else {
                const T *w = (const T *)ws + b * 4 * U, *hprev = (const T *)hp + b * U;
                T *dcand = p->cell == AD_RNN_GRU ? g + 2 * U : (T *)dih + b * U;
                for (int64_t j = 0; j < U; j++) {
                    d[j] = dhb[j] * (hprev[j] - w[2 * U + j]);
                    dcand[j] = dhb[j] * (1 - w[j]);
                    dhb[j] *= w[j];
                }
                ACT_GRAD(p->act, U, w + 2 * U, dcand);
                if (p->cell == AD_RNN_GRU) {
                    for (int64_t j = 0; j < U; j++) d[U + j] = dcand[j] * w[3 * U + j], d[2 * U + j] = dcand[j] * w[U + j];
                    ACT_GRAD(p->ract, 2 * U, w, d);
                } else {
                    ACT_GRAD(p->ract, U, w, d);
                }
            }
            if (p->cell == AD_RNN_GRU) /* (its candidate block of gx was written above; SimpleRNN and LSTM: d is g) */
                memcpy(g, d, (size_t)(2 * U) * sizeof(T));
        }
    })
    return AD_OK;
}

/* AD_RNN_GRU_BEFORE after the GEMM drh = dih @ r_h^T (the gradient of r * hin): the reset gate's gradient into
 * di and gx, and drh * r (the part through hin) into drh; rows that did not take the step are left alone */
static int rnn_back_reset(const rnn_t *p, int64_t t, const void *hin, const void *ws, const void *dih, void *drh,
                          void *gx, void *di) {
    int64_t U = p->units;
    AD_DISPATCH_FLOAT(p->dtype, {
        for (int64_t b = 0; b < p->batch; b++) {
            if (!rnn_taken(p, t, b)) continue;
            const T *w = (const T *)ws + b * 4 * U, *hb = (const T *)hin + b * U;
            T *d = (T *)di + b * 2 * U, *g = (T *)gx + b * 3 * U, *e = (T *)drh + b * U;
            for (int64_t j = 0; j < U; j++) d[U + j] = e[j] * hb[j], e[j] *= w[U + j];
            ACT_GRAD(p->ract, U, w + U, d + U);
            memcpy(g, d, (size_t)(2 * U) * sizeof(T));
            memcpy(g + 2 * U, (const T *)dih + b * U, (size_t)U * sizeof(T));
        }
    })
    return AD_OK;
}

/* dh += (din (batch, units) [+ extra]) * rmask on the rows that took step t */
static int rnn_back_state(const rnn_t *p, int64_t t, const void *din, const void *extra, void *dh) {
    int64_t U = p->units;
    AD_DISPATCH_FLOAT(p->dtype, {
        const T *m = p->rmask;
        for (int64_t b = 0; b < p->batch; b++) {
            if (!rnn_taken(p, t, b)) continue;
            const T *a = (const T *)din + b * U, *x = extra ? (const T *)extra + b * U : 0;
            T *o = (T *)dh + b * U;
            for (int64_t j = 0; j < U; j++) o[j] += (a[j] + (x ? x[j] : 0)) * (m ? m[b * U + j] : 1);
        }
    })
    return AD_OK;
}

/* y (n) += x (n) */
static int rnn_accumulate(int dtype, int64_t n, const void *x, void *y) {
    AD_DISPATCH_FLOAT(dtype, {
        for (int64_t i = 0; i < n; i++) ((T *)y)[i] += ((const T *)x)[i];
    })
    return AD_OK;
}

/* out (cols) = the column sums of x (rows, cols), in double */
static int rnn_column_sums(int dtype, int64_t rows, int64_t cols, const void *x, void *out) {
    double *acc = malloc((size_t)(cols ? cols : 1) * sizeof(double));
    if (!acc) return AD_ENOMEM;
    memset(acc, 0, (size_t)cols * sizeof(double));
    AD_DISPATCH_FLOAT(dtype, {
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < cols; j++) acc[j] += ((const T *)x)[i * cols + j];
        for (int64_t j = 0; j < cols; j++) ((T *)out)[j] = (T)acc[j];
    })
    free(acc);
    return AD_OK;
}

int ad_rnn_backward(int cell, int dtype, int act, int ract, int reverse, int64_t steps, int64_t batch,
                    int64_t units, const void *r, const void *h0, const void *c0, const void *mask,
                    const void *rmask, const void *h, const void *c, const void *work, const void *gh,
                    const void *gc, void *gxw, void *gr, void *grb, void *gh0, void *gc0) {
    rnn_t p;
    int rc = rnn_init(&p, cell, dtype, act, ract, reverse, steps, batch, units, mask, rmask);
    if (rc) return rc;
    int lstm = cell == AD_RNN_LSTM, before = cell == AD_RNN_GRU_BEFORE;
    if (!r || !gr || !gh0 || (lstm != (c0 != NULL)) || (lstm != (gc0 != NULL)) || (grb && cell != AD_RNN_GRU))
        return AD_EINVAL;
    int es = ad_dtype_size(dtype);
    int64_t U = units, BU = batch * U, GU = p.gates * U, DU = before ? 2 * U : GU, SBU = steps * BU;
    memset(gr, 0, (size_t)(U * GU * es));
    if (grb) memset(grb, 0, (size_t)(GU * es));
    memset(gh0, 0, (size_t)(BU * es));
    if (gc0) memset(gc0, 0, (size_t)(BU * es));
    if (steps == 0 || batch == 0) return AD_OK;
    if (!h0 || !h || !gxw || (lstm && !c) || (cell != AD_RNN_SIMPLE && !work)) return AD_EINVAL;
    /* scratch, by time: every step's hin and (GRU) gate gradients, for the GEMM of gr at the end; this step's
     * dhin; for the reset before: r split, every step's r * hin and candidate gradients, drh, gr's two blocks;
     * temporaries */
    int own_dis = cell == AD_RNN_GRU || before;
    int64_t size = SBU + (own_dis ? steps * batch * DU : 0) + BU + 2 * U +
                   (before ? 3 * U * U + 2 * SBU + BU + 3 * U * U : 0);
    char *scratch = malloc((size_t)(size * es));
    if (!scratch) return AD_ENOMEM;
    char *hins = scratch, *dis = own_dis ? hins + SBU * es : gxw;
    char *din = hins + SBU * es + (own_dis ? steps * batch * DU * es : 0), *tmp = din + BU * es;
    char *rzr = tmp + 2 * U * es, *rh = rzr + 2 * U * U * es, *rhins = rh + U * U * es, *dihs = rhins + SBU * es;
    char *drh = dihs + SBU * es, *grzr = drh + BU * es, *grh = grzr + 2 * U * U * es;
    if (before) {
        rnn_columns(es, U, GU, 0, 2 * U, r, rzr);
        rnn_columns(es, U, GU, 2 * U, U, r, rh);
    }
    void *dh = gh0, *dc = gc0; /* the running gradients of the state, which end as those of the initial state */
    ad_packed_b prt = {0}, prht = {0}; /* the kernels transposed, for every step's product */
    rc = ad_pack_b(&prt, dtype, batch, U, DU, 0, before ? rzr : r, 1);
    if (!rc && before) rc = ad_pack_b(&prht, dtype, batch, U, U, 0, rh, 1);
    for (int64_t s = steps - 1; s >= 0 && !rc; s--) {
        int64_t t = rnn_time(&p, s);
        const char *hp = s ? (const char *)h + (s - 1) * BU * es : h0;
        const char *cp = lstm ? (s ? (const char *)c + (s - 1) * BU * es : c0) : 0;
        const char *ws = work ? (const char *)work + s * batch * 4 * U * es : 0;
        char *hin = hins + t * BU * es, *di = dis + t * batch * DU * es, *dih = before ? dihs + t * BU * es : 0;
        char *gx = (char *)gxw + t * batch * GU * es;
        rc = rnn_hin(&p, hp, hin);
        if (!rc && gh) rc = rnn_accumulate(dtype, BU, (const char *)gh + s * BU * es, dh);
        if (!rc && gc) rc = rnn_accumulate(dtype, BU, (const char *)gc + s * BU * es, dc);
        if (!rc)
            rc = rnn_back_step(&p, t, hp, cp, (const char *)h + s * BU * es, lstm ? (const char *)c + s * BU * es : 0,
                               ws, dh, dc, gx, di, dih, tmp);
        if (!rc && before) {
            rnn_columns(es, batch, 4 * U, 3 * U, U, ws, rhins + t * BU * es);
            rc = ad_matmul_packed_b(&prht, dih, drh, 1.0, 0.0);
            if (!rc) rc = rnn_back_reset(&p, t, hin, ws, dih, drh, gx, di);
        }
        if (!rc) rc = ad_matmul_packed_b(&prt, di, din, 1.0, 0.0);
        if (!rc) rc = rnn_back_state(&p, t, din, before ? drh : 0, dh);
    }
    if (!rc && before) {
        rc = rnn_mm(&p, U, 2 * U, steps * batch, hins, 1, dis, 0, grzr, 0.0);
        if (!rc) rc = rnn_mm(&p, U, U, steps * batch, rhins, 1, dihs, 0, grh, 0.0);
        for (int64_t i = 0; !rc && i < U; i++) {
            memcpy((char *)gr + i * GU * es, grzr + i * 2 * U * es, (size_t)(2 * U * es));
            memcpy((char *)gr + (i * GU + 2 * U) * es, grh + i * U * es, (size_t)(U * es));
        }
    } else if (!rc) {
        rc = rnn_mm(&p, U, GU, steps * batch, hins, 1, dis, 0, gr, 0.0);
    }
    if (!rc && grb) rc = rnn_column_sums(dtype, steps * batch, GU, dis, grb);
    ad_packed_b_free(&prt);
    ad_packed_b_free(&prht);
    free(scratch);
    return rc;
}

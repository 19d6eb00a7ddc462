/* conv.c: convolutions over 1, 2 or 3 spatial axes, channels-last, forward and both gradients.
 *
 * One implementation for every rank: a problem is seen as 3-d, its missing leading axes of size 1. Output
 * positions over (batch, spatial) are the rows of the problem: row r of y holds its cout channels.
 *
 * With several input channels per group the work is a GEMM (csrc/matmul.c): chunks of rows are unfolded
 * into columns (im2col: one row per output position, the kernel's taps x the group's input channels), so
 * y = col @ w, d col = dy @ w^T (then added back into dx: col2im) and dw = col^T @ dy. Chunks keep the
 * scratch bounded. Groups run as one batched GEMM over per-group copies of the columns, weights and rows.
 * Depthwise convolutions (several groups of one input channel) would be GEMMs of one column per group: direct
 * loops along the channels do far better there (3x3 on 32 channels, 28x28, batch 32, float32, one thread, the
 * forward and both gradients: 12 ms direct vs 113 ms as batched per-group GEMMs). A single group of one input
 * channel stays a GEMM, which was as fast forward and 2x faster for the kernel gradient (3x3, 1 -> 32). With one
 * output channel per group (depth_multiplier 1) the direct loops run over blocks of channels held in vector
 * registers across a window's taps (the sums then touch memory once per block, not once per tap).
 *
 * Every element of a result is summed in the same order whatever the thread count: threads split disjoint
 * rows, images or channels, so results are bitwise identical on any number of threads. */
#include "internal.h"

#define CONV_DIMS 3
/* elements of scratch a chunk of rows may use (4 MB in float32), at least one row */
#define CONV_SCRATCH (1 << 20)
/* rows (or images, channels) per thread below which the direct loops and im2col stay on one thread */
#define CONV_MIN_ROWS 64
/* independent partial sums of a dot product, so that it vectorizes (a single sum is one long dependency chain) */
#define CONV_LANES 8
/* channels in the direct loops: blocks of CONV_NV vectors of simd.h's width (generic vectors without SIMD) */
#define CONV_VBYTES (AD_SIMD_BYTES ? AD_SIMD_BYTES : 16)
#define CONV_NV 4
/* in an AD_DISPATCH_FLOAT body: V the vector of T, VL its lanes, VB the channels of a block */
#define CONV_VECTORS                                              \
    typedef T V __attribute__((vector_size(CONV_VBYTES)));        \
    enum { VL = CONV_VBYTES / (int)sizeof(T), VB = CONV_NV * VL }
/* vector j of the block at p, unaligned (one vector per memcpy: a wider copy through the stack would stall) */
#define CONV_LOAD(p, j) ({ V v_; memcpy(&v_, (p) + (j) * VL, sizeof v_); v_; })
#define CONV_STORE(p, j, v) ({ V v_ = (v); memcpy((p) + (j) * VL, &v_, sizeof v_); })


typedef struct {
    int64_t batch, groups, cin, cout, cgi, cgo, taps, kc, rows;
    int64_t in[CONV_DIMS], k[CONV_DIMS], out[CONV_DIMS], stride[CONV_DIMS], dil[CONV_DIMS], pad[CONV_DIMS];
    int64_t xstep[CONV_DIMS]; /* elements of x between neighbours along each spatial axis */
} conv_geom;

/* geom as pyautodiff.h lays it out, validated; missing axes become size 1 */
static int conv_geom_init(conv_geom *g, int nsp, const int64_t *geom) {
    const int64_t big = (int64_t)1 << 40;
    if (nsp < 1 || nsp > CONV_DIMS || !geom) return AD_EINVAL;
    g->batch = geom[0], g->groups = geom[1], g->cin = geom[2], g->cout = geom[3];
    if (g->batch < 0 || g->groups < 1 || g->cin < 1 || g->cout < 1 || g->cin % g->groups || g->cout % g->groups ||
        g->batch > big || g->cin > big || g->cout > big)
        return AD_EINVAL;
    g->cgi = g->cin / g->groups, g->cgo = g->cout / g->groups;
    g->taps = 1, g->rows = g->batch;
    for (int d = 0; d < CONV_DIMS; d++) {
        int a = d - (CONV_DIMS - nsp);
        const int64_t *s = geom + 4 + 6 * a;
        int64_t v[6] = {1, 1, 1, 1, 1, 0};
        for (int j = 0; a >= 0 && j < 6; j++) v[j] = s[j];
        g->in[d] = v[0], g->k[d] = v[1], g->out[d] = v[2], g->stride[d] = v[3], g->dil[d] = v[4], g->pad[d] = v[5];
        for (int j = 0; j < 6; j++)
            if (v[j] < (j == 2 || j == 5 ? 0 : 1) || v[j] > big) return AD_EINVAL;
        g->taps *= g->k[d], g->rows *= g->out[d];
    }
    if (g->taps > big || g->rows > big) return AD_EINVAL;
    g->kc = g->taps * g->cgi;
    g->xstep[2] = g->cin, g->xstep[1] = g->in[2] * g->cin, g->xstep[0] = g->in[1] * g->xstep[1];
    return AD_OK;
}

/* The taps of output row r that fall inside x: lo[d] <= t_d < hi[d]; base is the offset of the window's
 * first tap (outside x where the window starts in the padding), step[d] the offset of one tap along d. */
typedef struct {
    int64_t lo[CONV_DIMS], hi[CONV_DIMS], step[CONV_DIMS], base;
    int full;
} conv_window;

static inline __attribute__((always_inline)) conv_window conv_window_of(const conv_geom *g, int64_t r) {
    conv_window w;
    int64_t o[CONV_DIMS], rest = r;
    for (int d = CONV_DIMS - 1; d >= 0; d--) o[d] = rest % g->out[d], rest /= g->out[d];
    w.base = rest * g->in[0] * g->xstep[0], w.full = 1;
    for (int d = 0; d < CONV_DIMS; d++) {
        int64_t start = o[d] * g->stride[d] - g->pad[d], dil = g->dil[d];
        int64_t lo = start < 0 ? (-start + dil - 1) / dil : 0;
        int64_t hi = g->in[d] - start <= 0 ? 0 : (g->in[d] - start + dil - 1) / dil;
        w.lo[d] = lo < g->k[d] ? lo : g->k[d];
        w.hi[d] = hi < g->k[d] ? (hi > w.lo[d] ? hi : w.lo[d]) : g->k[d];
        w.full &= w.lo[d] == 0 && w.hi[d] == g->k[d];
        w.step[d] = dil * g->xstep[d];
        w.base += start * g->xstep[d];
    }
    return w;
}

/* the body (the variadic part) for every tap of window w inside x: t its index in the kernel, off the offset
 * in x of its channel 0 */
#define CONV_FOR_TAPS(g, w, t, off, ...)                                                    \
    for (int64_t t0_ = (w).lo[0]; t0_ < (w).hi[0]; t0_++)                                   \
        for (int64_t t1_ = (w).lo[1]; t1_ < (w).hi[1]; t1_++)                               \
            for (int64_t t2_ = (w).lo[2]; t2_ < (w).hi[2]; t2_++) {                         \
                int64_t t = (t0_ * (g)->k[1] + t1_) * (g)->k[2] + t2_;                      \
                int64_t off = (w).base + t0_ * (w).step[0] + t1_ * (w).step[1] +            \
                              t2_ * (w).step[2];                                            \
                __VA_ARGS__;                                                                \
            }

/* the forward's bias and activation (ad_conv_bias_act) on rows of y, threads splitting rows */
typedef struct {
    int dtype, act;
    int64_t cout;
    const void *bias;
    char *y; /* the first row's start */
} conv_tail;

/* elements per thread below which the tail stays on one thread (as dense's) */
#define CONV_TAIL_MIN 32768
static void conv_tail_rows(void *arg, int64_t lo, int64_t hi) {
    const conv_tail *t = arg;
    ad_bias_act_rows(t->dtype, t->act, hi - lo, t->cout, t->bias, t->y + lo * t->cout * ad_dtype_size(t->dtype));
}

static void conv_tail_apply(conv_tail t, int64_t r0, int64_t rows) {
    if (!t.bias && t.act == AD_NO_ACTIVATION) return;
    t.y += r0 * t.cout * ad_dtype_size(t.dtype);
    ad_parallel_for(rows, CONV_TAIL_MIN / t.cout + 1, conv_tail_rows, &t);
}

/* ---- the GEMM path ------------------------------------------------------------------------------ */

typedef struct {
    const conv_geom *g;
    int dtype, es;
    const char *x;
    char *col;
    int64_t r0, nrows; /* the chunk: rows r0 .. r0 + nrows of the problem */
    void *dx;          /* col2im's output (input gradients only) */
} conv_chunk;

/* col (groups, nrows, kc) = the chunk's rows [lo, hi) unfolded; taps in the padding are zeros */
static void im2col_rows(void *arg, int64_t lo, int64_t hi) {
    const conv_chunk *c = arg;
    const conv_geom *g = c->g;
    int64_t es = c->es, run = g->cgi * es;
    for (int64_t q = lo; q < hi; q++) {
        conv_window w = conv_window_of(g, c->r0 + q);
        for (int64_t gi = 0; gi < g->groups; gi++) {
            char *row = c->col + ((gi * c->nrows + q) * g->kc) * es;
            if (!w.full) memset(row, 0, (size_t)(g->kc * es));
            CONV_FOR_TAPS(g, w, t, off, memcpy(row + t * run, c->x + (off + gi * g->cgi) * es, (size_t)run))
        }
    }
}

/* dx += the chunk's columns folded back (the adjoint of im2col). Windows overlap in dx, so threads split what
 * they cannot share: the chunk's images times blocks of CONV_COL2IM_CHANNELS input channels (units [lo, hi));
 * each element of dx is then summed by one thread in the rows' and taps' order. */
#define CONV_COL2IM_CHANNELS 64
static int col2im_units(const conv_chunk *c, int64_t lo, int64_t hi) {
    const conv_geom *g = c->g;
    int64_t per_image = g->rows / g->batch, first = c->r0 / per_image;
    int64_t blocks = (g->cin + CONV_COL2IM_CHANNELS - 1) / CONV_COL2IM_CHANNELS;
    AD_DISPATCH_FLOAT(c->dtype, {
        const T *col = (const T *)c->col;
        T *y = c->dx;
        for (int64_t u = lo; u < hi; u++) {
            int64_t image = first + u / blocks, c0 = u % blocks * CONV_COL2IM_CHANNELS;
            int64_t c1 = c0 + CONV_COL2IM_CHANNELS < g->cin ? c0 + CONV_COL2IM_CHANNELS : g->cin;
            int64_t q0 = image * per_image - c->r0, q1 = q0 + per_image;
            for (int64_t q = q0 > 0 ? q0 : 0; q < q1 && q < c->nrows; q++) {
                conv_window w = conv_window_of(g, c->r0 + q);
                for (int64_t gi = c0 / g->cgi; gi * g->cgi < c1; gi++) {
                    const T *row = col + (gi * c->nrows + q) * g->kc;
                    int64_t i0 = c0 > gi * g->cgi ? c0 - gi * g->cgi : 0;
                    int64_t i1 = c1 < (gi + 1) * g->cgi ? c1 - gi * g->cgi : g->cgi;
                    CONV_FOR_TAPS(g, w, t, off, {
                        T *restrict dst = y + off + gi * g->cgi;
                        const T *restrict src = row + t * g->cgi;
                        for (int64_t i = i0; i < i1; i++) dst[i] += src[i];
                    })
                }
            }
        }
    })
    return AD_OK;
}

static void col2im_range(void *c, int64_t lo, int64_t hi) { col2im_units(c, lo, hi); }

static void col2im(conv_chunk *c) {
    const conv_geom *g = c->g;
    int64_t per_image = g->rows / g->batch, first = c->r0 / per_image;
    int64_t images = (c->r0 + c->nrows - 1) / per_image + 1 - first;
    int64_t units = images * ((g->cin + CONV_COL2IM_CHANNELS - 1) / CONV_COL2IM_CHANNELS);
    int64_t rows_per_unit = c->nrows / units > 0 ? c->nrows / units : 1;
    ad_parallel_for(units, (CONV_MIN_ROWS + rows_per_unit - 1) / rows_per_unit, col2im_range, c);
}

/* between (rows, groups, width) at src (row stride `stride`) and (groups, rows, width) at dst, or back */
static void regroup(int64_t es, int64_t rows, int64_t groups, int64_t width, int64_t stride, const char *flat,
                    char *grouped, int to_grouped) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t gi = 0; gi < groups; gi++) {
            char *gp = grouped + ((gi * rows + r) * width) * es;
            char *fp = (char *)flat + (r * stride + gi * width) * es;
            if (to_grouped) memcpy(gp, fp, (size_t)(width * es));
            else memcpy(fp, gp, (size_t)(width * es));
        }
}

static int conv_gemm(int mode, int dtype, const conv_geom *g, const char *a, const char *b, char *out,
                     conv_tail tail) {
    int64_t es = ad_dtype_size(dtype), G = g->groups, grouped = G > 1;
    int64_t chunk = CONV_SCRATCH / (G * g->kc + g->cout);
    if (chunk < 1) chunk = 1;
    if (chunk > g->rows) chunk = g->rows;
    /* col, then (groups > 1) the chunk's rows of y or dy per group, the weights (or dw) per group */
    int64_t ncol = G * chunk * g->kc, nrow = grouped ? chunk * g->cout : 0, nw = grouped ? g->kc * g->cout : 0;
    char *scratch = ad_alloc((ncol + nrow + nw) * es); /* (reused from the last call's: ad_alloc keeps freed blocks) */
    if (!scratch) return AD_ENOMEM;
    char *col = scratch, *rows = col + ncol * es, *wg = rows + nrow * es;
    const char *w = mode == AD_CONV_KERNEL_GRAD ? NULL : b;
    if (grouped && w) regroup(es, g->kc, G, g->cgo, g->cout, w, wg, 1);
    if (mode == AD_CONV_INPUT_GRAD) memset(out, 0, (size_t)(g->batch * g->in[0] * g->xstep[0] * es));
    if (mode == AD_CONV_KERNEL_GRAD) memset(grouped ? wg : out, 0, (size_t)(g->kc * g->cout * es));
    int status = AD_OK;
    for (int64_t r0 = 0; r0 < g->rows && status == AD_OK; r0 += chunk) {
        conv_chunk c = {g, dtype, (int)es, mode == AD_CONV_INPUT_GRAD ? NULL : a, col, r0,
                        g->rows - r0 < chunk ? g->rows - r0 : chunk, mode == AD_CONV_INPUT_GRAD ? out : NULL};
        int64_t n = c.nrows;
        const char *dy = mode == AD_CONV_FORWARD ? NULL : (mode == AD_CONV_INPUT_GRAD ? a : b) + r0 * g->cout * es;
        if (mode != AD_CONV_INPUT_GRAD) ad_parallel_for(n, CONV_MIN_ROWS, im2col_rows, &c);
        if (mode != AD_CONV_FORWARD && grouped) regroup(es, n, G, g->cgo, g->cout, dy, rows, 1);
        const char *gdy = grouped ? rows : dy;
        if (mode == AD_CONV_FORWARD) {
            char *y = grouped ? rows : out + r0 * g->cout * es;
            status = ad_matmul(dtype, G, n, g->cgo, g->kc, col, n * g->kc, 0, grouped ? wg : w, g->kc * g->cgo, 0,
                               y, 1.0, 0.0);
            if (grouped) regroup(es, n, G, g->cgo, g->cout, out + r0 * g->cout * es, rows, 0);
            if (status == AD_OK) conv_tail_apply(tail, r0, n); /* while the chunk's rows may still be in cache */
        } else if (mode == AD_CONV_INPUT_GRAD) {
            status = ad_matmul(dtype, G, n, g->kc, g->cgo, gdy, n * g->cgo, 0, grouped ? wg : w, g->kc * g->cgo, 1,
                               col, 1.0, 0.0);
            if (status == AD_OK) col2im(&c);
        } else {
            status = ad_matmul(dtype, G, g->kc, g->cgo, n, col, n * g->kc, 1, gdy, n * g->cgo, 0,
                               grouped ? wg : out, 1.0, 1.0);
        }
    }
    if (status == AD_OK && mode == AD_CONV_KERNEL_GRAD && grouped) regroup(es, g->kc, G, g->cgo, g->cout, out, wg, 0);
    ad_free(scratch);
    return status;
}

/* ---- the direct path: groups of one input channel, each feeding mult = cgo output channels ---------------- */

typedef struct {
    const conv_geom *g;
    int dtype;
    const void *a, *b;
    void *out;
} conv_direct;

/* y's rows [lo, hi): y[o] = sum over taps of x[o / mult] * w[t][o] */
AD_TARGET_CLONES static int direct_forward(const conv_direct *c, int64_t lo, int64_t hi) {
    const conv_geom *g = c->g;
    int64_t cout = g->cout, mult = g->cgo;
    AD_DISPATCH_FLOAT(c->dtype, {
        CONV_VECTORS;
        const T *x = c->a, *wt = c->b;
        int64_t blocked = mult == 1 ? cout - cout % VB : 0; /* channels [0, blocked) in vector blocks */
        for (int64_t r = lo; r < hi; r++) {
            T *restrict y = (T *)c->out + r * cout;
            conv_window w = conv_window_of(g, r);
            for (int64_t o = 0; o < blocked; o += VB) {
                V acc[CONV_NV] = {0};
                CONV_FOR_TAPS(g, w, t, off, {
                    for (int j = 0; j < CONV_NV; j++) acc[j] += CONV_LOAD(x + off + o, j) * CONV_LOAD(wt + t * cout + o, j);
                })
                for (int j = 0; j < CONV_NV; j++) CONV_STORE(y + o, j, acc[j]);
            }
            if (blocked == cout) continue;
            for (int64_t o = blocked; o < cout; o++) y[o] = 0;
            CONV_FOR_TAPS(g, w, t, off, {
                const T *restrict xs = x + off, *restrict ws = wt + t * cout;
                if (mult == 1)
                    for (int64_t o = blocked; o < cout; o++) y[o] += xs[o] * ws[o];
                else
                    for (int64_t ci = 0; ci < g->cin; ci++)
                        for (int64_t j = 0; j < mult; j++) y[ci * mult + j] += xs[ci] * ws[ci * mult + j];
            })
        }
    })
    return AD_OK;
}

/* dx of the images [lo, hi): dx[ci] += sum over j < mult of dy[ci * mult + j] * w[t][ci * mult + j] */
AD_TARGET_CLONES static int direct_input_grad(const conv_direct *c, int64_t lo, int64_t hi) {
    const conv_geom *g = c->g;
    int64_t cout = g->cout, mult = g->cgo, per_image = g->rows / g->batch, xsize = g->in[0] * g->xstep[0];
    AD_DISPATCH_FLOAT(c->dtype, {
        CONV_VECTORS;
        const T *dy = c->a, *wt = c->b;
        T *dx = c->out;
        int64_t blocked = mult == 1 ? cout - cout % VB : 0;
        for (int64_t i = lo * xsize; i < hi * xsize; i++) dx[i] = 0;
        for (int64_t r = lo * per_image; r < hi * per_image; r++) {
            conv_window w = conv_window_of(g, r);
            const T *restrict gy = dy + r * cout;
            for (int64_t o = 0; o < blocked; o += VB) {
                V gv[CONV_NV];
                for (int j = 0; j < CONV_NV; j++) gv[j] = CONV_LOAD(gy + o, j);
                CONV_FOR_TAPS(g, w, t, off, {
                    for (int j = 0; j < CONV_NV; j++)
                        CONV_STORE(dx + off + o, j, CONV_LOAD(dx + off + o, j) + gv[j] * CONV_LOAD(wt + t * cout + o, j));
                })
            }
            if (blocked == cout) continue;
            CONV_FOR_TAPS(g, w, t, off, {
                T *restrict gx = dx + off;
                const T *restrict ws = wt + t * cout;
                if (mult == 1)
                    for (int64_t o = blocked; o < cout; o++) gx[o] += gy[o] * ws[o];
                else
                    for (int64_t ci = 0; ci < g->cin; ci++) { /* a dot product in CONV_LANES partial sums */
                        const T *p = gy + ci * mult, *q = ws + ci * mult;
                        T part[CONV_LANES] = {0}, s = 0;
                        int64_t j = 0;
                        for (; j + CONV_LANES <= mult; j += CONV_LANES)
                            for (int l = 0; l < CONV_LANES; l++) part[l] += p[j + l] * q[j + l];
                        for (; j < mult; j++) s += p[j] * q[j];
                        for (int l = 0; l < CONV_LANES; l++) s += part[l];
                        gx[ci] += s;
                    }
            })
        }
    })
    return AD_OK;
}

/* dw of the input channels [lo, hi) (output channels lo * mult ..): dw[t][o] = sum over rows x[o / mult] dy[o] */
AD_TARGET_CLONES static int direct_kernel_grad(const conv_direct *c, int64_t lo, int64_t hi) {
    const conv_geom *g = c->g;
    int64_t cout = g->cout, mult = g->cgo;
    AD_DISPATCH_FLOAT(c->dtype, {
        CONV_VECTORS;
        const T *x = c->a, *dy = c->b;
        T *dw = c->out;
        int64_t blocked = mult == 1 ? hi - (hi - lo) % VB : lo; /* channels [lo, blocked) in vector blocks */
        for (int64_t t = 0; t < g->taps; t++)
            for (int64_t o = lo * mult; o < hi * mult; o++) dw[t * cout + o] = 0;
        for (int64_t r = 0; r < g->rows; r++) {
            conv_window w = conv_window_of(g, r);
            const T *restrict gy = dy + r * cout;
            for (int64_t o = lo; o < blocked; o += VB) {
                V gv[CONV_NV];
                for (int j = 0; j < CONV_NV; j++) gv[j] = CONV_LOAD(gy + o, j);
                CONV_FOR_TAPS(g, w, t, off, {
                    for (int j = 0; j < CONV_NV; j++)
                        CONV_STORE(dw + t * cout + o, j, CONV_LOAD(dw + t * cout + o, j) + CONV_LOAD(x + off + o, j) * gv[j]);
                })
            }
            if (blocked == hi) continue;
            CONV_FOR_TAPS(g, w, t, off, {
                const T *restrict xs = x + off;
                T *restrict ds = dw + t * cout;
                if (mult == 1)
                    for (int64_t o = blocked; o < hi; o++) ds[o] += xs[o] * gy[o];
                else
                    for (int64_t ci = lo; ci < hi; ci++)
                        for (int64_t j = 0; j < mult; j++) ds[ci * mult + j] += xs[ci] * gy[ci * mult + j];
            })
        }
    })
    return AD_OK;
}

static void direct_forward_range(void *c, int64_t lo, int64_t hi) { direct_forward(c, lo, hi); }
static void direct_input_grad_range(void *c, int64_t lo, int64_t hi) { direct_input_grad(c, lo, hi); }
static void direct_kernel_grad_range(void *c, int64_t lo, int64_t hi) { direct_kernel_grad(c, lo, hi); }

/* ad_conv, the forward with its tail (ad_conv_bias_act) */
static int conv_run(int mode, int dtype, int nsp, const int64_t *geom, const void *a, const void *b, void *out,
                    conv_tail tail) {
    conv_geom g;
    if (dtype != AD_FLOAT32 && dtype != AD_FLOAT64) return AD_EDTYPE;
    if (mode < AD_CONV_FORWARD || mode > AD_CONV_KERNEL_GRAD || conv_geom_init(&g, nsp, geom) != AD_OK ||
        !a || !b || !out || tail.act < AD_NO_ACTIVATION || tail.act >= AD_ACTIVATION_COUNT)
        return AD_EINVAL;
    int64_t es = ad_dtype_size(dtype);
    tail.dtype = dtype, tail.cout = g.cout, tail.y = out;
    if (g.rows == 0) { /* nothing reaches the output: the gradients are zeros */
        if (mode != AD_CONV_FORWARD)
            memset(out, 0, (size_t)((mode == AD_CONV_INPUT_GRAD ? g.batch * g.in[0] * g.xstep[0] : g.kc * g.cout) *
                                    es));
        return AD_OK;
    }
    if (g.cgi > 1 || g.groups == 1) return conv_gemm(mode, dtype, &g, a, b, out, tail);
    conv_direct c = {&g, dtype, a, b, out};
    if (mode == AD_CONV_FORWARD) ad_parallel_for(g.rows, CONV_MIN_ROWS, direct_forward_range, &c);
    else if (mode == AD_CONV_INPUT_GRAD) ad_parallel_for(g.batch, 1, direct_input_grad_range, &c);
    else ad_parallel_for(g.cin, 16, direct_kernel_grad_range, &c);
    conv_tail_apply(tail, 0, mode == AD_CONV_FORWARD ? g.rows : 0);
    return AD_OK;
}

int ad_conv(int mode, int dtype, int nsp, const int64_t *geom, const void *a, const void *b, void *out) {
    return conv_run(mode, dtype, nsp, geom, a, b, out, (conv_tail){.act = AD_NO_ACTIVATION});
}

int ad_conv_bias_act(int dtype, int act, int nsp, const int64_t *geom, const void *x, const void *w, const void *b,
                     void *y) {
    return conv_run(AD_CONV_FORWARD, dtype, nsp, geom, x, w, y, (conv_tail){.act = act, .bias = b});
}

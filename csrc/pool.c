/* pool.c: max and average pooling over 1 to 3 spatial axes of channels-last tensors, forward and adjoint.
 * Fewer spatial axes are the 3-d case with leading axes of size 1, so there is one implementation. Max
 * pooling recomputes each window's first maximum in the backward instead of saving argmax indices: the
 * backward reads x once more (what indices would save), and no int32 tensor of the output's size has to
 * be kept alive between the passes (nor the tape and Function replays taught about a second output). */
#include "internal.h"

/* channels are processed in chunks of this many, so the running maxima live on the stack */
#define POOL_CHUNK 256
/* ~1 ns per window element and channel: below this much work per thread, a worker costs more than it saves */
#define POOL_MIN_WORK 32768

typedef struct {
    int op, adjoint, dtype;
    int64_t n, c, in[3], out[3], pool[3], stride[3], pad[3];
    const void *x, *src;
    void *dst;
} pool_job;

/* window o along axis k: [lo, hi) within [0, in), never empty (checked by ad_pool) */
static void window(const pool_job *p, int k, int64_t o, int64_t *lo, int64_t *hi) {
    int64_t start = o * p->stride[k] - p->pad[k], end = start + p->pool[k];
    *lo = start > 0 ? start : 0;
    *hi = end < p->in[k] ? end : p->in[k];
}

/* the body for every element of the window [l0, h0) x [l1, h1) x [l2, h2), in order: e the offset of its
 * channel c0 in x (in elements) */
#define POOL_FOR_WINDOW(e, ...)                                                          \
    for (int64_t i0 = l0; i0 < h0; i0++)                                                 \
        for (int64_t i1 = l1; i1 < h1; i1++)                                             \
            for (int64_t i2 = l2; i2 < h2; i2++) {                                       \
                int64_t e = (base + (i0 * p->in[1] + i1) * p->in[2] + i2) * c + c0;      \
                __VA_ARGS__;                                                             \
            }

/* Forward: units are rows (sample b, first output index); adjoint: units are samples (windows overlap, so a
 * sample's gradient has one writer). Max pooling finds each window's maximum (the first NaN wins), then where
 * it must know which element that is (the adjoint, or selecting from src other than x) takes the window's first
 * element equal to it: per-channel flags, no indices, so every loop over channels vectorizes. (Ranges return
 * nothing, the dispatch a status: the dtype was checked.) */
AD_TARGET_CLONES static int pool_units_typed(const pool_job *p, int64_t lo_unit, int64_t hi_unit) {
    int64_t c = p->c, in_size = p->in[0] * p->in[1] * p->in[2], rows = p->adjoint ? p->out[0] : 1;
    int track = p->adjoint || p->src != p->x; /* where the maxima are matters, not only their values */
    AD_DISPATCH_FLOAT(p->dtype, {
        const T *X = p->x, *S = p->src;
        T *D = p->dst;
        for (int64_t u = lo_unit; u < hi_unit; u++) {
            int64_t b = p->adjoint ? u : u / p->out[0], first = p->adjoint ? 0 : u % p->out[0];
            const int64_t base = b * in_size; /* the sample's first element of x, in positions */
            if (p->adjoint) memset(D + base * c, 0, (size_t)(in_size * c) * sizeof(T));
            for (int64_t o0 = first; o0 < first + rows; o0++)
                for (int64_t o1 = 0; o1 < p->out[1]; o1++)
                    for (int64_t o2 = 0; o2 < p->out[2]; o2++) {
                        int64_t l0, h0, l1, h1, l2, h2;
                        window(p, 0, o0, &l0, &h0);
                        window(p, 1, o1, &l1, &h1);
                        window(p, 2, o2, &l2, &h2);
                        int64_t at = (((b * p->out[0] + o0) * p->out[1] + o1) * p->out[2] + o2) * c;
                        T count = (T)((h0 - l0) * (h1 - l1) * (h2 - l2));
                        for (int64_t c0 = 0; c0 < c; c0 += POOL_CHUNK) {
                            int64_t cn = c - c0 < POOL_CHUNK ? c - c0 : POOL_CHUNK;
                            T *restrict y = D + at + c0;
                            const T *restrict g = S + at + c0;
                            if (p->op == AD_POOL_AVG) {
                                T share[POOL_CHUNK];
                                for (int64_t j = 0; j < cn; j++) share[j] = p->adjoint ? g[j] / count : 0;
                                if (p->adjoint)
                                    POOL_FOR_WINDOW(e, for (int64_t j = 0; j < cn; j++) D[e + j] += share[j])
                                else
                                    POOL_FOR_WINDOW(e, for (int64_t j = 0; j < cn; j++) share[j] += S[e + j])
                                if (!p->adjoint)
                                    for (int64_t j = 0; j < cn; j++) y[j] = share[j] / count;
                                continue;
                            }
                            T best[POOL_CHUNK], left[POOL_CHUNK]; /* left: the gradient or flag not yet placed */
                            for (int64_t j = 0; j < cn; j++) best[j] = -(T)AD_INF;
                            POOL_FOR_WINDOW(e, {
                                const T *restrict v = X + e;
                                for (int64_t j = 0; j < cn; j++) {
                                    int take = (v[j] > best[j]) | ((v[j] != v[j]) & (best[j] == best[j]));
                                    best[j] = take ? v[j] : best[j];
                                }
                            })
                            if (!track) {
                                for (int64_t j = 0; j < cn; j++) y[j] = best[j];
                                continue;
                            }
                            /* bitwise | and &, restrict and no branch: the loops over channels vectorize */
                            for (int64_t j = 0; j < cn; j++) left[j] = p->adjoint ? g[j] : 1;
                            if (p->adjoint)
                                POOL_FOR_WINDOW(e, {
                                    const T *restrict v = X + e;
                                    T *restrict d = D + e;
                                    for (int64_t j = 0; j < cn; j++) {
                                        int hit = (v[j] == best[j]) | ((v[j] != v[j]) & (best[j] != best[j]));
                                        d[j] += hit ? left[j] : 0; /* + 0 leaves every sum as it is */
                                        left[j] = hit ? 0 : left[j];
                                    }
                                })
                            else
                                POOL_FOR_WINDOW(e, {
                                    const T *restrict v = X + e, *restrict s = S + e;
                                    for (int64_t j = 0; j < cn; j++) {
                                        int hit = (v[j] == best[j]) | ((v[j] != v[j]) & (best[j] != best[j]));
                                        y[j] = (hit & (left[j] != 0)) ? s[j] : y[j];
                                        left[j] = hit ? 0 : left[j];
                                    }
                                })
                        }
                    }
        }
    })
    return AD_OK;
}

static void pool_units(void *ctx, int64_t lo, int64_t hi) { (void)pool_units_typed(ctx, lo, hi); }

int ad_pool(int op, int adjoint, int dtype, int d, int64_t n, int64_t c, const int64_t *in, const int64_t *out,
            const int64_t *pool, const int64_t *strides, const int64_t *pad, const void *x, const void *src,
            void *dst) {
    if ((op != AD_POOL_MAX && op != AD_POOL_AVG) || (adjoint != 0 && adjoint != 1) || d < 1 || d > 3 || n < 0 ||
        c < 0 || !in || !out || !pool || !strides || !pad)
        return AD_EINVAL;
    if (dtype != AD_FLOAT32 && dtype != AD_FLOAT64) return AD_EDTYPE;
    pool_job p = {.op = op, .adjoint = adjoint, .dtype = dtype, .n = n, .c = c, .x = x, .src = src, .dst = dst};
    int64_t in_size = 1, out_size = 1;
    double work = (double)c; /* per unit, for the split only (in double: pool sizes are unbounded) */
    for (int k = 0; k < 3; k++) {
        int a = k - (3 - d); /* the caller's axis, or a leading axis of size 1 */
        p.in[k] = a < 0 ? 1 : in[a];
        p.out[k] = a < 0 ? 1 : out[a];
        p.pool[k] = a < 0 ? 1 : pool[a];
        p.stride[k] = a < 0 ? 1 : strides[a];
        p.pad[k] = a < 0 ? 0 : pad[a];
        if (p.in[k] < 0 || p.out[k] < 0 || p.pool[k] < 1 || p.stride[k] < 1 || p.pad[k] < 0 || p.pad[k] >= p.pool[k])
            return AD_EINVAL;
        /* every window holds an element: the first does (pad < pool), the last must start inside */
        int64_t last;
        if (p.out[k] > 0 && (p.in[k] == 0 || __builtin_mul_overflow(p.out[k] - 1, p.stride[k], &last) ||
                             last - p.pad[k] >= p.in[k]))
            return AD_EINVAL;
        in_size *= p.in[k];
        out_size *= p.out[k];
        work *= (double)p.pool[k];
    }
    int64_t units = adjoint ? n : n * p.out[0];
    if (n * c * (adjoint ? in_size : out_size) == 0) return AD_OK;
    if (!dst || (n * c * out_size > 0 && (!src || (op == AD_POOL_MAX && !x)))) return AD_EINVAL;
    work *= (double)(adjoint ? out_size : out_size / p.out[0]);
    ad_parallel_for(units, work >= POOL_MIN_WORK ? 1 : POOL_MIN_WORK / (int64_t)work + 1, pool_units, &p);
    return AD_OK;
}

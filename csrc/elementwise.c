/* elementwise.c: unary maps, broadcasting binary maps and where. */
#include "internal.h"


#define AD_UNARY_LOOP(EXPR)                           \
    for (int64_t i = 0; i < n; i++) {                 \
        T v = in[i];                                  \
        out[i] = (EXPR);                              \
    }                                                 \
    break;

#define AD_UNARY_BODY                                                                    \
    const T *in = x;                                                                     \
    T *out = y;                                                                          \
    const T a = (T)p0, b = (T)p1;                                                        \
    (void)a; (void)b;                                                                    \
    switch (op) {                                                                        \
    case AD_NEG: AD_UNARY_LOOP(-v)                                                       \
    case AD_ABS: AD_UNARY_LOOP(v < 0 ? -v : v)                                           \
    case AD_SQUARE: AD_UNARY_LOOP(v * v)                                                 \
    case AD_SQRT: AD_UNARY_LOOP(AD_LIBM(T, sqrt, v))                                     \
    case AD_EXP: AD_UNARY_LOOP(AD_EXP_OF(T, v))                                                  \
    case AD_LOG: AD_UNARY_LOOP(AD_LIBM(T, log, v))                                       \
    case AD_SIGMOID: AD_UNARY_LOOP(AD_SIGMOID_OF(T, v))                                  \
    case AD_TANH: AD_UNARY_LOOP(AD_LIBM(T, tanh, v))                                     \
    case AD_RELU: AD_UNARY_LOOP(AD_RELU_OF(T, v))                                       \
    case AD_SIGN: AD_UNARY_LOOP(v != v ? v : (T)((v > 0) - (v < 0)))                      \
    case AD_AFFINE: AD_UNARY_LOOP(a * v + b)                                             \
    case AD_CLIP: AD_UNARY_LOOP(v < a ? a : (v > b ? b : v))                             \
    case AD_RECIPROCAL: AD_UNARY_LOOP((T)1 / v)                                          \
    case AD_STEP: AD_UNARY_LOOP(v > 0 ? (T)1 : (T)0)                                     \
    default: return AD_EINVAL;                                                           \
    }

#define AD_INT_UNARY_BODY                                    \
    const int32_t *in = x;                                   \
    int32_t *out = y;                                        \
    typedef int32_t T;                                       \
    switch (op) {                                            \
    case AD_NEG: AD_UNARY_LOOP(-v)                           \
    case AD_ABS: AD_UNARY_LOOP(v < 0 ? -v : v)               \
    case AD_SQUARE: AD_UNARY_LOOP(v * v)                     \
    case AD_RELU: AD_UNARY_LOOP(v > 0 ? v : 0)               \
    case AD_SIGN: AD_UNARY_LOOP((v > 0) - (v < 0))           \
    case AD_CLIP: AD_UNARY_LOOP(v < to_int32(p0) ? to_int32(p0) : (v > to_int32(p1) ? to_int32(p1) : v)) \
    case AD_STEP: AD_UNARY_LOOP(v > 0 ? 1 : 0)               \
    default: return AD_EDTYPE;                               \
    }

int ad_unary(int op, int dtype, int64_t n, const void *x, void *y, double p0, double p1) {
    if (op < 0 || op >= AD_UNARY_COUNT || n < 0 || (n > 0 && (!x || !y))) return AD_EINVAL;
    switch (dtype) {
    case AD_FLOAT32: { typedef float T; AD_UNARY_BODY; break; }
    case AD_FLOAT64: { typedef double T; AD_UNARY_BODY; break; }
    case AD_INT32: { AD_INT_UNARY_BODY; break; }
    default: return AD_EDTYPE;
    }
    return AD_OK;
}

/* One inner row of a binary op: a and b advance by sa / sb (0 for a broadcast operand). */
#define AD_BINARY_ROW(EXPR)                                                   \
    for (int64_t i = 0; i < inner; i++) {                                     \
        T u = pa[i * sa], v = pb[i * sb];                                     \
        py[i] = (EXPR);                                                       \
    }                                                                         \
    break;

#define AD_FLOAT_POW(T, u, v) (sizeof(T) == 4 ? (T)powf((float)(u), (float)(v)) : (T)pow((double)(u), (double)(v)))

#define AD_BINARY_CASES(T)                                                    \
    case AD_ADD: AD_BINARY_ROW(u + v)                                         \
    case AD_SUB: AD_BINARY_ROW(u - v)                                         \
    case AD_MUL: AD_BINARY_ROW(u * v)                                         \
    case AD_MAXIMUM: AD_BINARY_ROW(u > v || u != u ? u : v)                   \
    case AD_MINIMUM: AD_BINARY_ROW(u < v || u != u ? u : v)                   \
    case AD_EQUAL: AD_BINARY_ROW((T)(u == v))                                 \
    case AD_NOT_EQUAL: AD_BINARY_ROW((T)(u != v))                             \
    case AD_LESS: AD_BINARY_ROW((T)(u < v))                                   \
    case AD_LESS_EQUAL: AD_BINARY_ROW((T)(u <= v))                            \
    case AD_GREATER: AD_BINARY_ROW((T)(u > v))                                \
    case AD_GREATER_EQUAL: AD_BINARY_ROW((T)(u >= v))                         \
    case AD_RELU_GRAD: AD_BINARY_ROW(AD_RELU_GRAD_OF(T, u, v))

#define AD_BINARY_FLOAT_CASES(T)                                              \
    AD_BINARY_CASES(T)                                                        \
    case AD_DIV: AD_BINARY_ROW(u / v)                                         \
    case AD_POW: AD_BINARY_ROW(AD_FLOAT_POW(T, u, v))                         \
    case AD_SIGMOID_GRAD: AD_BINARY_ROW(v * u * ((T)1 - u))                   \
    case AD_TANH_GRAD: AD_BINARY_ROW(v * ((T)1 - u * u))

#define AD_BINARY_WALK(TYPE, CASES)                                           \
    typedef TYPE T;                                                           \
    const T *A = a, *B = b;                                                   \
    T *Y = y;                                                                 \
    for (int64_t done = 0; done < total; done += inner, ad_iter_next(&it)) {  \
        const T *pa = A + it.offset[0], *pb = B + it.offset[1];              \
        T *py = Y + done;                                                     \
        switch (op) { CASES(T) default: return AD_EDTYPE; }                   \
    }

int ad_binary(int op, int dtype, int ndim, const int64_t *shape, const void *a, const int64_t *astrides,
              const void *b, const int64_t *bstrides, void *y) {
    if (op < 0 || op >= AD_BINARY_COUNT || (ndim > 0 && (!astrides || !bstrides))) return AD_EINVAL;
    ad_iter it;
    int64_t total;
    const int64_t *st[2] = {astrides, bstrides};
    int rc = ad_iter_init(&it, ndim, shape, 2, st, &total);
    if (rc) return rc;
    if (total == 0) return AD_OK;
    if (!a || !b || !y) return AD_EINVAL;
    /* after merging, the walk's inner row is the last dim; the output is contiguous */
    int64_t inner = it.shape[it.ndim - 1], sa = it.strides[0][it.ndim - 1], sb = it.strides[1][it.ndim - 1];
    switch (dtype) {
    case AD_FLOAT32: { AD_BINARY_WALK(float, AD_BINARY_FLOAT_CASES) break; }
    case AD_FLOAT64: { AD_BINARY_WALK(double, AD_BINARY_FLOAT_CASES) break; }
    case AD_INT32: { AD_BINARY_WALK(int32_t, AD_BINARY_CASES) break; }
    default: return AD_EDTYPE;
    }
    return AD_OK;
}

int ad_where(int dtype, int cond_dtype, int ndim, const int64_t *shape, const void *cond,
             const int64_t *cstrides, const void *a, const int64_t *astrides, const void *b,
             const int64_t *bstrides, void *y) {
    if (ndim > 0 && (!cstrides || !astrides || !bstrides)) return AD_EINVAL;
    if (ad_dtype_size(cond_dtype) == 0) return AD_EDTYPE;
    ad_iter it;
    int64_t total;
    const int64_t *st[3] = {cstrides, astrides, bstrides};
    int rc = ad_iter_init(&it, ndim, shape, 3, st, &total);
    if (rc) return rc;
    if (total == 0) return AD_OK;
    if (!cond || !a || !b || !y) return AD_EINVAL;
    int64_t inner = it.shape[it.ndim - 1];
    int64_t sc = it.strides[0][it.ndim - 1], sa = it.strides[1][it.ndim - 1], sb = it.strides[2][it.ndim - 1];
    AD_DISPATCH_ALL(dtype, {
        const T *A = a, *B = b;
        T *Y = y;
        for (int64_t done = 0; done < total; done += inner, ad_iter_next(&it)) {
            for (int64_t i = 0; i < inner; i++) {
                int64_t c = it.offset[0] + i * sc;
                int take = cond_dtype == AD_FLOAT32   ? ((const float *)cond)[c] != 0
                           : cond_dtype == AD_FLOAT64 ? ((const double *)cond)[c] != 0
                                                      : ((const int32_t *)cond)[c] != 0;
                Y[done + i] = take ? A[it.offset[1] + i * sa] : B[it.offset[2] + i * sb];
            }
        }
    })
    return AD_OK;
}

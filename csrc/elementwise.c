/* elementwise.c: unary maps, broadcasting binary maps, where and band masks. */
#include "internal.h"


/* Which dtypes an op row has (a mask): the floats, the integers (int32, int64), bool; OP_PRED marks a
 * predicate, whose output is bool whatever its operands' dtype. */
#define OP_FLOAT 1
#define OP_INT 2
#define OP_BOOL 4
#define OP_PRED 8
#define OP_NUM (OP_FLOAT | OP_INT)
/* the activation rows (internal.h) say only whether the integers have them */
#define ACT_KINDS(ints) ((ints) ? OP_NUM : OP_FLOAT)

static int op_kind(int dtype) {
    return dtype == AD_FLOAT32 || dtype == AD_FLOAT64 ? OP_FLOAT : ad_is_int(dtype) ? OP_INT
           : dtype == AD_BOOL ? OP_BOOL : 0;
}

/* The unary ops besides the activations (internal.h), one row each: name, y of x (p, q: the op's two
 * parameters), the dtypes that have it. Python learns the names from ad_op_name: a new op is this row
 * and its row in pyautodiff/ops/elementwise.py. */
#define UNARY_OPS(X)                                           \
    X(negative, AD_WRAP(T, 0, -, x), OP_NUM)                                    \
    X(abs, x < 0 ? AD_WRAP(T, 0, -, x) : x, OP_NUM)                             \
    X(square, AD_WRAP(T, x, *, x), OP_NUM)                                   \
    X(sqrt, AD_LIBM(T, sqrt, x), OP_FLOAT)                     \
    X(exp, AD_EXP_OF(T, x), OP_FLOAT)                          \
    X(log, AD_LOG_OF(T, x), OP_FLOAT)                          \
    X(log1p, AD_LIBM(T, log1p, x), OP_FLOAT)                   \
    X(expm1, AD_LIBM(T, expm1, x), OP_FLOAT)                   \
    X(sign, x != x ? x : (T)((x > 0) - (x < 0)), OP_NUM)       \
    X(affine, p * x + q, OP_FLOAT)                             \
    X(clip_by_value, x < p ? p : (x > q ? q : x), OP_NUM)      \
    X(reciprocal, (T)1 / x, OP_FLOAT)                          \
    X(sin, AD_LIBM(T, sin, x), OP_FLOAT)                       \
    X(cos, AD_LIBM(T, cos, x), OP_FLOAT)

/* gelu's constants: 1/sqrt(2), 1/sqrt(2 pi), 2/sqrt(pi), and sqrt(2/pi) and the cubic's 0.044715 of its tanh form */
#define AD_SQRT1_2 0.70710678118654752440
#define AD_INV_SQRT_2PI 0.39894228040143267794
#define AD_2_SQRTPI 1.12837916709551257390
#define AD_GELU_C 0.79788456080286535588
#define AD_GELU_K 0.044715
/* gelu's tanh form: 0.5 x (1 + t) and its derivative, t = tanh(c (x + k x^3)) */
#define AD_GELU_T(T, x) AD_TANH_OF(T, (T)AD_GELU_C * ((x) + (T)AD_GELU_K * (x) * (x) * (x)))
#define AD_GELU_TANH(T, x, t) ((T)0.5 * (x) * ((T)1 + (t)))
#define AD_GELU_TANH_D(T, x, t) \
    ((T)0.5 * ((T)1 + (t)) + (T)0.5 * (x) * ((T)1 - (t) * (t)) * (T)AD_GELU_C * ((T)1 + (T)(3 * AD_GELU_K) * (x) * (x)))
/* mish: x tanh(softplus(x)); its derivative t + x (1 - t^2) sigmoid(x) */
#define AD_MISH_T(T, x) AD_TANH_OF(T, AD_SOFTPLUS_OF(T, x))

/* The smooth unary ops whose gradient needs x (not only y), one row each: name, f(x), f'(x) (p: the op's
 * parameter). Each is two unary ops, <name> and <name>_derivative; the vjp is g * f'(x), and f''s own vjp (for
 * higher orders) is written with ops in pyautodiff/ops/elementwise.py. Float only. gelu is 0.5 x erfc(-x/sqrt 2)
 * (exact also far left, where 1 + erf(x/sqrt 2) cancels), its tanh form with p != 0. */
#define SMOOTH_OPS(X)                                                                                         \
    X(erf, AD_LIBM(T, erf, x), (T)AD_2_SQRTPI * AD_EXP_OF(T, -x * x))                                         \
    X(gelu, p != 0 ? AD_GELU_TANH(T, x, AD_GELU_T(T, x)) : (T)0.5 * x * AD_ERFC_OF(T, -x * (T)AD_SQRT1_2), \
      p != 0 ? AD_GELU_TANH_D(T, x, AD_GELU_T(T, x))                                                          \
             : (T)0.5 * AD_ERFC_OF(T, -x * (T)AD_SQRT1_2) + x * (T)AD_INV_SQRT_2PI * AD_EXP_OF(T, -x * x / 2)) \
    X(silu, x * AD_SIGMOID_OF(T, x), AD_SIGMOID_OF(T, x) * ((T)1 + x * ((T)1 - AD_SIGMOID_OF(T, x))))         \
    X(mish, x * AD_MISH_T(T, x),                                                                              \
      AD_MISH_T(T, x) + x * ((T)1 - AD_MISH_T(T, x) * AD_MISH_T(T, x)) * AD_SIGMOID_OF(T, x))                \
    X(leaky_relu, x > 0 ? x : p * x, x > 0 ? (T)1 : x == x ? p : x)                                           \
    X(elu, x > 0 ? x : p * AD_LIBM(T, expm1, x), x > 0 ? (T)1 : p * AD_EXP_OF(T, x))

/* The binary ops besides the activations' gradients, one row each: name, y of a and b, the dtypes that have
 * it (integer arithmetic wraps around, as numpy's). */
#define BINARY_OPS(X)                                             \
    X(add, AD_WRAP(T, a, +, b), OP_NUM)                                         \
    X(subtract, AD_WRAP(T, a, -, b), OP_NUM)                                    \
    X(multiply, AD_WRAP(T, a, *, b), OP_NUM)                                    \
    X(divide, a / b, OP_FLOAT)                                    \
    X(pow, AD_FLOAT_POW(T, a, b), OP_FLOAT)                       \
    X(maximum, a > b || a != a ? a : b, OP_NUM)                   \
    X(minimum, a < b || a != a ? a : b, OP_NUM)                   \
    X(equal, a == b, OP_NUM | OP_BOOL | OP_PRED)                  \
    X(not_equal, a != b, OP_NUM | OP_BOOL | OP_PRED)              \
    X(less, a < b, OP_NUM | OP_PRED)                              \
    X(less_equal, a <= b, OP_NUM | OP_PRED)                       \
    X(greater, a > b, OP_NUM | OP_PRED)                           \
    X(greater_equal, a >= b, OP_NUM | OP_PRED)                    \
    X(logical_and, a && b, OP_BOOL | OP_PRED)                     \
    X(logical_or, a || b, OP_BOOL | OP_PRED)                      \
    X(logical_xor, a != b, OP_BOOL | OP_PRED)

/* ids: the activations first (so an activation's unary id is its AD_ACT_ id), then the rows above */
#define UNARY_ACT_ID(name, f, grad, ints) UNARY_##name,
#define UNARY_ID(name, expr, kinds) UNARY_##name,
#define SMOOTH_ID(name, f, d) UNARY_##name, UNARY_##name##_derivative,
enum { AD_ACTIVATIONS(UNARY_ACT_ID) UNARY_OPS(UNARY_ID) SMOOTH_OPS(SMOOTH_ID) UNARY_COUNT };
#define BINARY_ID(name, expr, kinds) BINARY_##name,
#define BINARY_ACT_ID(name, f, grad, ints) BINARY_##name##_grad,
enum { BINARY_OPS(BINARY_ID) AD_ACTIVATIONS(BINARY_ACT_ID) BINARY_COUNT };

#define UNARY_ACT_NAME(name, f, grad, ints) #name,
#define UNARY_NAME(name, expr, kinds) #name,
#define SMOOTH_NAME(name, f, d) #name, #name "_derivative",
#define BINARY_NAME(name, expr, kinds) #name,
#define BINARY_ACT_NAME(name, f, grad, ints) #name "_grad",
static const char *const unary_names[] = {AD_ACTIVATIONS(UNARY_ACT_NAME) UNARY_OPS(UNARY_NAME) SMOOTH_OPS(SMOOTH_NAME)};
static const char *const binary_names[] = {BINARY_OPS(BINARY_NAME) AD_ACTIVATIONS(BINARY_ACT_NAME)};
#define ACT_KIND(name, f, grad, ints) ACT_KINDS(ints),
#define OP_KIND(name, expr, kinds) kinds,
#define SMOOTH_KIND(name, f, d) OP_FLOAT, OP_FLOAT,
static const char unary_kinds[] = {AD_ACTIVATIONS(ACT_KIND) UNARY_OPS(OP_KIND) SMOOTH_OPS(SMOOTH_KIND)};
static const char binary_kinds[] = {BINARY_OPS(OP_KIND) AD_ACTIVATIONS(ACT_KIND)};

int ad_op_name(int table, int op, char *name, int64_t size) {
    const char *const *names = table == AD_OPS_UNARY ? unary_names : table == AD_OPS_BINARY ? binary_names : 0;
    int count = table == AD_OPS_UNARY ? UNARY_COUNT : table == AD_OPS_BINARY ? BINARY_COUNT
                : table == AD_OPS_ACTIVATION ? AD_ACTIVATION_COUNT : 0;
    if (table == AD_OPS_ACTIVATION) names = unary_names;
    if (!names || op < 0 || op >= count || !name || size < 1) return AD_EINVAL;
    int64_t i = 0;
    for (; names[op][i] && i < size - 1; i++) name[i] = names[op][i];
    name[i] = 0;
    return names[op][i] ? AD_EINVAL : AD_OK;
}

#define UNARY_LOOP(expr)                                               \
    for (int64_t i = 0; i < n; i++) {                                 \
        T x = in[i];                                                  \
        out[i] = (T)(expr);                                           \
    }
#define UNARY_CASE(name, expr, kinds) case UNARY_##name: UNARY_LOOP(expr) break;
#define UNARY_ACT_CASE(name, f, grad, ints) UNARY_CASE(name, f, ints)
#define SMOOTH_CASE(name, f, d) UNARY_CASE(name, f, 0) UNARY_CASE(name##_derivative, d, 0)

/* float32 has a function per op, each loop vectorized on its own: in one switch GCC 12 left tanh's scalar */
#define F32_FN(name, expr)                                                                                    \
    AD_WIDE_CLONES static void f32_##name(int64_t n, const float *in, float *out, float p, float q) {         \
        typedef float T;                                                                                      \
        (void)p, (void)q;                                                                                     \
        UNARY_LOOP(expr)                                                                                      \
    }
#define F32_OP(name, expr, kinds) F32_FN(name, expr)
#define F32_ACT(name, f, grad, ints) F32_FN(name, f)
#define F32_SMOOTH(name, f, d) F32_FN(name, f) F32_FN(name##_derivative, d)
AD_ACTIVATIONS(F32_ACT) UNARY_OPS(F32_OP) SMOOTH_OPS(F32_SMOOTH)
#define F32_CASE(name, ...) case UNARY_##name: f32_##name(n, vx, vy, (float)p0, (float)p1); break;
#define F32_SMOOTH_CASE(name, f, d) F32_CASE(name) F32_CASE(name##_derivative)

/* the other dtypes (float64's transcendental ops call libm, one element at a time at any width) */
static int unary_loop(int op, int dtype, int64_t n, const void *vx, void *vy, double p0, double p1) {
    AD_DISPATCH_NUM(dtype, {
        const T *in = vx;
        T *out = vy;
        /* (an integer's parameters saturate: clip_by_value(x, 0, inf) keeps every int32) */
        const T p = AD_IS_FLOAT(T) ? (T)p0 : dtype == AD_INT32 ? (T)to_int32(p0) : (T)to_int64(p0);
        const T q = AD_IS_FLOAT(T) ? (T)p1 : dtype == AD_INT32 ? (T)to_int32(p1) : (T)to_int64(p1);
        (void)p, (void)q;
        switch (op) { AD_ACTIVATIONS(UNARY_ACT_CASE) UNARY_OPS(UNARY_CASE) SMOOTH_OPS(SMOOTH_CASE) }
    })
    return AD_OK;
}

int ad_unary(int op, int dtype, int64_t n, const void *vx, void *vy, double p0, double p1) {
    if (op < 0 || op >= UNARY_COUNT || n < 0 || (n > 0 && (!vx || !vy))) return AD_EINVAL;
    if (!(unary_kinds[op] & op_kind(dtype))) return AD_EDTYPE; /* only the dtypes its row names */
    if (dtype != AD_FLOAT32) return unary_loop(op, dtype, n, vx, vy, p0, p1);
    switch (op) { AD_ACTIVATIONS(F32_CASE) UNARY_OPS(F32_CASE) SMOOTH_OPS(F32_SMOOTH_CASE) }
    return AD_OK;
}

#define AD_FLOAT_POW(T, u, v) (sizeof(T) == 4 ? (T)powf((float)(u), (float)(v)) : (T)pow((double)(u), (double)(v)))

/* One inner row (or block of it) of a binary op: n elements, a and b advance by sa / sb (0 for a broadcast operand);
 * a predicate writes bool (the test on its constant kinds folds away). */
#define BINARY_CASE(name, expr, kinds)                                \
    case BINARY_##name:                                               \
        for (int64_t i = 0; i < n; i++) {                             \
            T a = pa[i * sa], b = pb[i * sb];                         \
            if ((kinds) & OP_PRED) ((uint8_t *)vy)[at + i] = (uint8_t)(expr); \
            else py[i] = (T)(expr);                                   \
        }                                                             \
        break;
#define BINARY_ACT_CASE(name, f, grad, ints)                          \
    case BINARY_##name##_grad:                                        \
        for (int64_t i = 0; i < n; i++) {                             \
            T y = pa[i * sa], g = pb[i * sb];                         \
            py[i] = (T)(grad);                                        \
        }                                                             \
        break;

/* A row where one operand is one value (stride 0: x - mean along the last axis, x * a column) runs in blocks of
 * BINARY_BLOCK with that value copied out, so the loop has the unit strides GCC vectorizes (it versions the loop
 * for those only): x (128, 512) times a (128, 1) column took 43 us against 10 for two (128, 512) on Zen 4 */
#define BINARY_BLOCK 256
AD_WIDE_CLONES static int binary_loop(int op, int dtype, ad_iter *itp, int64_t total, const void *va, const void *vb,
                                      void *vy) {
    ad_iter it = *itp;
    /* after merging, the walk's inner row is the last dim; the output is contiguous */
    int64_t inner = it.shape[it.ndim - 1], ra = it.strides[0][it.ndim - 1], rb = it.strides[1][it.ndim - 1];
    int fill = inner >= 16 && ((ra == 1 && rb == 0) || (ra == 0 && rb == 1)); /* (16: not worth a copy below) */
    int64_t block = fill ? BINARY_BLOCK : inner;
    AD_DISPATCH_ALL(dtype, {
        const T *A = va, *B = vb;
        T *Y = vy, one[BINARY_BLOCK];
        for (int64_t done = 0; done < total; done += inner, ad_iter_next(&it)) {
            for (int64_t j = 0; j < inner; j += block) {
                int64_t n = inner - j < block ? inner - j : block, at = done + j, sa = ra, sb = rb;
                const T *pa = A + it.offset[0] + j * sa, *pb = B + it.offset[1] + j * sb;
                T *py = Y + at;
                (void)py;
                if (fill) {
                    const T value = sa ? *pb : *pa;
                    for (int64_t i = 0; i < n; i++) one[i] = value;
                    if (sa) pb = one, sb = 1;
                    else pa = one, sa = 1;
                }
                switch (op) { BINARY_OPS(BINARY_CASE) AD_ACTIVATIONS(BINARY_ACT_CASE) }
            }
        }
    })
    return AD_OK;
}

int ad_binary(int op, int dtype, int ndim, const int64_t *shape, const void *va, const int64_t *astrides,
              const void *vb, const int64_t *bstrides, void *vy) {
    if (op < 0 || op >= BINARY_COUNT || (ndim > 0 && (!astrides || !bstrides))) return AD_EINVAL;
    if (!(binary_kinds[op] & op_kind(dtype))) return AD_EDTYPE;
    ad_iter it;
    int64_t total;
    const int64_t *st[2] = {astrides, bstrides};
    int rc = ad_iter_init(&it, ndim, shape, 2, st, &total);
    if (rc) return rc;
    if (total == 0) return AD_OK;
    if (!va || !vb || !vy) return AD_EINVAL;
    return binary_loop(op, dtype, &it, total, va, vb, vy);
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
    AD_DISPATCH_MOVE(dtype, {
        const T *A = a, *B = b;
        T *Y = y;
        for (int64_t done = 0; done < total; done += inner, ad_iter_next(&it)) {
            for (int64_t i = 0; i < inner; i++) {
                int take = ad_nonzero_at(cond_dtype, cond, it.offset[0] + i * sc);
                Y[done + i] = take ? A[it.offset[1] + i * sa] : B[it.offset[2] + i * sb];
            }
        }
    })
    return AD_OK;
}

int ad_bandpart(int dtype, int64_t batch, int64_t m, int64_t n, int64_t lower, int64_t upper, const void *x,
                void *y) {
    if (batch < 0 || m < 0 || n < 0) return AD_EINVAL;
    if (batch * m * n > 0 && (!x || !y)) return AD_EINVAL;
    AD_DISPATCH_MOVE(dtype, { /* ((T)0 is float16's +0 too) */
        const T *X = x;
        T *Y = y;
        for (int64_t b = 0; b < batch; b++)
            for (int64_t i = 0; i < m; i++) {
                int64_t row = (b * m + i) * n;
                for (int64_t j = 0; j < n; j++) {
                    int keep = (lower < 0 || i - j <= lower) && (upper < 0 || j - i <= upper);
                    Y[row + j] = keep ? X[row + j] : (T)0;
                }
            }
    })
    return AD_OK;
}

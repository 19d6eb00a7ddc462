/* pyautodiff.h: the ABI. Every exported kernel is declared here once.
 *
 * This file is read by cffi's cdef natively and by the ctypes binding in Pyodide
 * (pyautodiff/_backend/header.py), so it holds only integer #defines and plain
 * declarations: no #include, no #ifdef, no macros with arguments. C files include
 * it through internal.h, which brings the integer types first.
 *
 * Conventions: tensors are contiguous C-order buffers owned by the caller; sizes,
 * shapes and strides are int64_t, strides count elements (0 = broadcast); every
 * kernel validates its arguments and returns an AD_* status, 0 meaning success.
 */

#define AD_OK 0
#define AD_EINVAL 1
#define AD_EDTYPE 2
#define AD_EINDEX 3
#define AD_ENOMEM 4

#define AD_FLOAT32 0
#define AD_FLOAT64 1
#define AD_INT32 2

#define AD_MAX_NDIM 16

/* ad_unary ops; p0, p1 are the op's scalar parameters where it has any */
#define AD_NEG 0
#define AD_ABS 1
#define AD_SQUARE 2
#define AD_SQRT 3
#define AD_EXP 4
#define AD_LOG 5
#define AD_SIGMOID 6
#define AD_TANH 7
#define AD_RELU 8
#define AD_SIGN 9
#define AD_AFFINE 10
#define AD_CLIP 11
#define AD_RECIPROCAL 12
#define AD_STEP 13
#define AD_UNARY_COUNT 14

/* ad_binary ops; the *_GRAD ops are fused backward rules: (y or x, upstream g) */
#define AD_ADD 0
#define AD_SUB 1
#define AD_MUL 2
#define AD_DIV 3
#define AD_POW 4
#define AD_MAXIMUM 5
#define AD_MINIMUM 6
#define AD_EQUAL 7
#define AD_NOT_EQUAL 8
#define AD_LESS 9
#define AD_LESS_EQUAL 10
#define AD_GREATER 11
#define AD_GREATER_EQUAL 12
#define AD_SIGMOID_GRAD 13
#define AD_TANH_GRAD 14
#define AD_RELU_GRAD 15
#define AD_BINARY_COUNT 16

/* ad_reduce ops */
#define AD_REDUCE_SUM 0
#define AD_REDUCE_MAX 1
#define AD_REDUCE_MIN 2
#define AD_REDUCE_COUNT 3

/* ad_random distributions */
#define AD_UNIFORM 0
#define AD_NORMAL 1
#define AD_TRUNCATED_NORMAL 2

/* memory: 64-byte aligned; ad_alloc returns NULL for nbytes < 0 or when out of memory */
void *ad_alloc(int64_t nbytes);
void ad_free(void *p);

/* threads the native kernels may use (always 1 in WebAssembly) */
int ad_set_num_threads(int n);
int ad_get_num_threads(void);
/* bytes in one SIMD vector of the compiled kernels (0 = scalar build) */
int ad_simd_bytes(void);

int ad_fill(int dtype, int64_t n, double value, void *y);
int ad_cast(int src_dtype, int dst_dtype, int64_t n, const void *x, void *y);
/* y[index . ystrides] = x[index . xstrides] over every index of shape */
int ad_copy(int dtype, int ndim, const int64_t *shape, const void *x, const int64_t *xstrides,
            void *y, const int64_t *ystrides);
/* seeded, deterministic: a = low/mean, b = high/stddev */
int ad_random(int dist, int dtype, int64_t n, uint64_t seed, double a, double b, void *y);

int ad_unary(int op, int dtype, int64_t n, const void *x, void *y, double p0, double p1);
/* y (contiguous, shape) = a op b, a and b read through their (broadcast) strides */
int ad_binary(int op, int dtype, int ndim, const int64_t *shape, const void *a, const int64_t *astrides,
              const void *b, const int64_t *bstrides, void *y);
/* y = cond != 0 ? a : b; cond has its own dtype */
int ad_where(int dtype, int cond_dtype, int ndim, const int64_t *shape, const void *cond,
             const int64_t *cstrides, const void *a, const int64_t *astrides, const void *b,
             const int64_t *bstrides, void *y);
/* y = scale * reduce(x) where y is addressed with ystrides over x's shape (0 on reduced axes) */
int ad_reduce(int op, int dtype, int ndim, const int64_t *shape, const void *x,
              const int64_t *ystrides, void *y, double scale);
/* x viewed as (outer, n, inner); y (outer, inner) = index of the max along n */
int ad_argmax(int dtype, int64_t outer, int64_t n, int64_t inner, const void *x, int32_t *y);
/* x, y viewed as (outer, n, inner); softmax (or log_softmax when log != 0) along n */
int ad_softmax(int log, int dtype, int64_t outer, int64_t n, int64_t inner, const void *x, void *y);
/* x (outer, n, inner) -> y (outer, nidx, inner); indices must lie in [0, n) */
int ad_gather(int dtype, int64_t outer, int64_t n, int64_t inner, const void *x, int64_t nidx,
              const int32_t *idx, void *y);
/* y (outer, n, inner) += g (outer, nidx, inner) scattered by idx */
int ad_scatter_add(int dtype, int64_t outer, int64_t n, int64_t inner, const void *g, int64_t nidx,
                   const int32_t *idx, void *y);
int ad_one_hot(int dtype, int64_t n, const int32_t *idx, int64_t depth, void *y);

/* c[i] = alpha * op(a[i]) @ op(b[i]) + beta * c[i] for i < batch, op = transpose when asked.
 * op(a) is m x k (a stored k x m when transpose_a), op(b) is k x n, c is m x n, all contiguous;
 * the batch strides (in elements) may be 0 to broadcast one matrix over the batch. */
int ad_matmul(int dtype, int64_t batch, int64_t m, int64_t n, int64_t k,
              const void *a, int64_t stride_a, int transpose_a,
              const void *b, int64_t stride_b, int transpose_b,
              void *c, double alpha, double beta);

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
/* a value the result's dtype cannot hold (NaN, inf or out of range cast to an integer dtype) */
#define AD_ERANGE 6

#define AD_FLOAT32 0
#define AD_FLOAT64 1
#define AD_INT32 2
#define AD_INT64 3
/* bool: one byte per element, 0 or 1 */
#define AD_BOOL 4
/* float16: IEEE binary16 bits (uint16_t), a storage dtype: kernels move, convert and compare positions of it,
 * none computes on it */
#define AD_FLOAT16 5

#define AD_MAX_NDIM 16

/* The op tables of ad_unary, ad_binary and the dense kernels' activations. Their ids are not declared here:
 * ad_op_name tells each id's name (the rows are in csrc/elementwise.c and csrc/internal.h), so a new op is
 * its C row and its Python row. */
#define AD_OPS_UNARY 0
#define AD_OPS_BINARY 1
#define AD_OPS_ACTIVATION 2
/* the dense kernels' act argument for none */
#define AD_NO_ACTIVATION -1

/* ad_reduce ops */
#define AD_REDUCE_SUM 0
#define AD_REDUCE_MAX 1
#define AD_REDUCE_MIN 2
#define AD_REDUCE_PROD 3
#define AD_REDUCE_COUNT 4

/* ad_random distributions */
#define AD_UNIFORM 0
#define AD_NORMAL 1
#define AD_TRUNCATED_NORMAL 2

/* memory: 64-byte aligned; ad_alloc returns NULL for nbytes < 0 or when out of memory. Freed blocks of at least
 * AD_REUSE_MIN bytes are kept for reuse (see array.c); smaller ones go straight back to malloc. */
#define AD_REUSE_MIN 65536
void *ad_alloc(int64_t nbytes);
void ad_free(void *p);

/* threads the native kernels may use (always 1 in WebAssembly): 1 .. AD_MAX_THREADS, else AD_EINVAL */
#define AD_MAX_THREADS 256
int ad_set_num_threads(int n);
int ad_get_num_threads(void);
/* bytes in one SIMD vector of the compiled kernels (0 = scalar build) */
int ad_simd_bytes(void);
/* a core's L2 cache in bytes (0: unknown), and whether the GEMM reads a row-major b in place (1) or packs it */
int64_t ad_l2_bytes(void);
int ad_gemm_b_in_place(void);
/* the GEMM's variant number `variant` (0, 1, ... of those the chosen SIMD width runs; AD_EINVAL past the last):
 * values[13] = mr, nr, mc, kc, nc, L1d, L2, L3 share (bytes, 0: unknown), PYAUTODIFF_GEMM_BLOCKING's state (1 used,
 * 0 unset, -1 malformed: ignored), b read in place (1) or packed, a row-major a packed (1) or read in place, whether
 * the variant's narrow path takes its products with a row-major a (1: they bypass the plan), whether products with
 * row-major a and b of at most 512 rows go deep (1: a and b read in place, depths up to 2048 at once);
 * text (size >= 64) =
 * "<variant> <source of the blocks>": "PYAUTODIFF_GEMM_BLOCKING", "set" (ad_gemm_set_plan), "cpuid", "sysfs" or
 * "fixed" */
int ad_gemm_blocking(int variant, int64_t *values, char *text, int64_t size);
#define AD_GEMM_BLOCK_MAX 65536 /* PYAUTODIFF_GEMM_BLOCKING's largest block */
/* the fixed blocks (tuned on Zen 3/4) where the caches are unknown, a candidate of the tuning elsewhere */
#define AD_GEMM_F32_MC 144
#define AD_GEMM_F64_MC 96
#define AD_GEMM_KC 256
#define AD_GEMM_NC 4032
/* the tuning's plan for variant number `variant` (as above): blocks mc, kc, nc (1 .. AD_GEMM_BLOCK_MAX; mc and nc
 * rounded down to whole tiles), b_in_place, pack_a and deep (0 or 1), below PYAUTODIFF_GEMM_BLOCKING and
 * _B_IN_PLACE; all zero and the flags -1: back to the cache model's */
int ad_gemm_set_plan(int variant, int64_t mc, int64_t kc, int64_t nc, int b_in_place, int pack_a, int deep);
/* c (m, n) = op(a) @ op(b) with variant number `variant` (its dtype) and its plan, on the calling thread alone:
 * what the tuning times */
int ad_gemm_run_variant(int variant, int64_t m, int64_t n, int64_t k, const void *a, int transpose_a,
                        const void *b, int transpose_b, void *c);
/* the CPU as cpuid names it ("" where it cannot: the caller adds what the platform tells); size >= 128 */
int ad_cpu_identity(char *text, int64_t size);
/* 1 where timing the GEMM means something (not WebAssembly, not a sanitizer build), else 0 */
int ad_gemm_can_tune(void);

/* y[0..n) = value; an integer dtype truncates it toward zero and refuses NaN or a value beyond its range (AD_ERANGE) */
int ad_fill(int dtype, int64_t n, double value, void *y);
int ad_cast(int src_dtype, int dst_dtype, int64_t n, const void *x, void *y);
/* y[index . ystrides] = x[index . xstrides] over every index of shape */
int ad_copy(int dtype, int ndim, const int64_t *shape, const void *x, const int64_t *xstrides,
            void *y, const int64_t *ystrides);
/* seeded, deterministic: a = low/mean, b = high/stddev */
int ad_random(int dist, int dtype, int64_t n, uint64_t seed, double a, double b, void *y);
/* (AD_UNIFORM also fills int32 and int64: integers in [a, b), both integral) */
/* the same drawn from a stream: state[0] is its seed, state[1] counts the draws and is advanced by each, so a
 * replayed graph draws afresh */
int ad_random_next(int dist, int dtype, int64_t n, int64_t *state, double a, double b, void *y);

/* the name of op in one of the tables (AD_OPS_*), at most size bytes with its 0; AD_EINVAL past the end */
int ad_op_name(int table, int op, char *name, int64_t size);
/* p0, p1 are the op's scalar parameters where it has any */
int ad_unary(int op, int dtype, int64_t n, const void *x, void *y, double p0, double p1);
/* y (contiguous, shape) = a op b, a and b read through their (broadcast) strides; the comparisons and
 * logical ops write y as bool whatever the operands' dtype */
int ad_binary(int op, int dtype, int ndim, const int64_t *shape, const void *a, const int64_t *astrides,
              const void *b, const int64_t *bstrides, void *y);
/* y = cond != 0 ? a : b; cond has its own dtype (any) */
int ad_where(int dtype, int cond_dtype, int ndim, const int64_t *shape, const void *cond,
             const int64_t *cstrides, const void *a, const int64_t *astrides, const void *b,
             const int64_t *bstrides, void *y);
/* y = x over the band of each (m, n) matrix of a batch (row i, column j: i - j <= lower and j - i <= upper, a
 * negative bound keeping that whole side), 0 elsewhere: TensorFlow's band_part */
int ad_bandpart(int dtype, int64_t batch, int64_t m, int64_t n, int64_t lower, int64_t upper, const void *x,
                void *y);
/* y = scale * reduce(x) where y is addressed with ystrides over x's shape (0 on reduced axes); integer sums and
 * products wrap around (as numpy's); bool has max (any) and min (all) */
int ad_reduce(int op, int dtype, int ndim, const int64_t *shape, const void *x,
              const int64_t *ystrides, void *y, double scale);
/* x viewed as (outer, n, inner); y (outer, inner) = index of the max along n */
int ad_argmax(int dtype, int64_t outer, int64_t n, int64_t inner, const void *x, int32_t *y);
/* the same for the min */
int ad_argmin(int dtype, int64_t outer, int64_t n, int64_t inner, const void *x, int32_t *y);
/* x, y viewed as (outer, n, inner); running sums (prod == 0) or products along n, each entry leaving itself
 * out when exclusive, running from the end when reverse */
int ad_cumulate(int prod, int exclusive, int reverse, int dtype, int64_t outer, int64_t n, int64_t inner,
                const void *x, void *y);
/* x, y viewed as (outer, n, inner); softmax (or log_softmax when log != 0) along n */
int ad_softmax(int log, int dtype, int64_t outer, int64_t n, int64_t inner, const void *x, void *y);
/* x (outer, n, inner) -> y (outer, nidx, inner); indices must lie in [0, n) */
int ad_gather(int dtype, int64_t outer, int64_t n, int64_t inner, const void *x, int64_t nidx,
              const int32_t *idx, void *y);
/* y (outer, n, inner) += g (outer, nidx, inner) scattered by idx */
int ad_scatter_add(int dtype, int64_t outer, int64_t n, int64_t inner, const void *g, int64_t nidx,
                   const int32_t *idx, void *y);
/* index.c. Index tuples idx (n, depth) address dims[0..depth); with wrap, entries in [-dim, 0) count from the
 * end. ad_index_check: AD_EINDEX with *bad = the first tuple out of range, else *bad = -1. */
int ad_index_check(int64_t n, int depth, const int64_t *dims, int wrap, const int32_t *idx, int64_t *bad);
/* table (batch, dims..., inner), idx (batch, nidx, depth), rows (batch, nidx, inner): AD_ND_GATHER rows = table
 * at idx; AD_ND_SCATTER_ADD table at idx += rows; AD_ND_SCATTER_UPDATE table at idx = rows (the last row wins) */
#define AD_ND_GATHER 0
#define AD_ND_SCATTER_ADD 1
#define AD_ND_SCATTER_UPDATE 2
int ad_gather_nd(int mode, int dtype, int64_t batch, int64_t nidx, int depth, const int64_t *dims, int64_t inner,
                 int wrap, const int32_t *idx, void *table, void *rows);
/* idx (outer, k, inner) in [0, n): adjoint = 0: dst (outer, k, inner) = src (outer, n, inner) at idx along n;
 * adjoint = 1: dst (outer, n, inner) = zeros plus src (outer, k, inner) added at idx */
int ad_take_along(int adjoint, int dtype, int64_t outer, int64_t n, int64_t inner, int64_t k, const int32_t *idx,
                  const void *src, void *dst);
/* x (outer, n, inner): indices (outer, k, inner) = the positions along n of the first k in a stable sort,
 * ascending with NaN last or descending with NaN first */
int ad_argsort(int dtype, int descending, int64_t outer, int64_t n, int64_t inner, int64_t k, const void *x,
               int32_t *indices);
/* *count = how many of x's n elements are nonzero (NaN counts; x NULL: all of them); then, unless positions is
 * NULL, positions = their flat positions, which must be capacity many (AD_EINVAL otherwise: a replayed graph
 * whose mask changed its count fails rather than read stale positions) */
int ad_nonzero(int dtype, int64_t n, const void *x, int64_t capacity, int32_t *positions, int64_t *count);
int ad_one_hot(int dtype, int64_t n, const int32_t *idx, int64_t depth, void *y);
/* src (outer, n, inner) -> dst (outer, m, inner): entry j along n repeated repeats[j] times, or count times
 * each when repeats is NULL; m must be the total. adjoint != 0 goes back (floats only): dst (outer, n, inner)
 * = the sums of src (outer, m, inner) over each entry's repeats */
int ad_repeat(int dtype, int adjoint, int64_t outer, int64_t n, int64_t inner, int64_t count,
              const int32_t *repeats, int64_t m, const void *src, void *dst);

/* c[i] = alpha * op(a[i]) @ op(b[i]) + beta * c[i] for i < batch, op = transpose when asked.
 * op(a) is m x k (a stored k x m when transpose_a), op(b) is k x n, c is m x n, all contiguous;
 * the batch strides (in elements) may be 0 to broadcast one matrix over the batch. */
int ad_matmul(int dtype, int64_t batch, int64_t m, int64_t n, int64_t k,
              const void *a, int64_t stride_a, int transpose_a,
              const void *b, int64_t stride_b, int transpose_b,
              void *c, double alpha, double beta);

/* pool.c: pooling over the d (1..3) spatial axes of channels-last tensors, x (n, in[0..d), c). The window
 * at output position o covers pool[k] elements from o * strides[k] - pad[k] along axis k; positions outside
 * [0, in[k]) are skipped (never a maximum, not counted in a mean), and every window must hold one element
 * (0 <= pad < pool, the last window starting inside). AD_POOL_MAX: the window's first maximum of x in
 * row-major order (a NaN wins) selects; AD_POOL_AVG: the mean (x unused, may be NULL). adjoint = 0: dst (n,
 * out..., c) = what each window selects of src (n, in..., c) (src = x for max pooling itself); adjoint = 1:
 * dst (n, in..., c) = src (n, out..., c) sent back to what the windows selected, summed. */
#define AD_POOL_MAX 0
#define AD_POOL_AVG 1
int ad_pool(int op, int adjoint, int dtype, int d, int64_t n, int64_t c, const int64_t *in, const int64_t *out,
            const int64_t *pool, const int64_t *strides, const int64_t *pad, const void *x, const void *src,
            void *dst);
/* conv.c: convolutions over nsp = 1, 2 or 3 spatial axes, channels-last. geom holds 4 + 6 * nsp int64s:
 * batch, groups, in_channels, out_channels, then per spatial axis its input size, kernel size, output size,
 * stride, dilation and padding before (taps past the input's end read zeros). x (batch, in..., in_channels),
 * w (k..., in_channels / groups, out_channels), y (batch, out..., out_channels). mode says what is computed:
 * AD_CONV_FORWARD out = y from a = x, b = w; AD_CONV_INPUT_GRAD out = dx from a = dy, b = w (a transposed
 * convolution); AD_CONV_KERNEL_GRAD out = dw from a = x, b = dy. */
#define AD_CONV_FORWARD 0
#define AD_CONV_INPUT_GRAD 1
#define AD_CONV_KERNEL_GRAD 2
int ad_conv(int mode, int dtype, int nsp, const int64_t *geom, const void *a, const void *b, void *out);
/* y = act(conv(x, w) + b), AD_CONV_FORWARD's geometry, b (out_channels) or NULL, act an activation id or
 * AD_NO_ACTIVATION: the bias and activation applied to each chunk of rows as the convolution leaves it */
int ad_conv_bias_act(int dtype, int act, int nsp, const int64_t *geom, const void *x, const void *w, const void *b,
                     void *y);

/* rnn.c: a recurrent layer over a whole sequence in one call (the time loop, the recurrent products and the
 * gates fused), Keras' gate order and weight layout. cell: AD_RNN_SIMPLE h = act(x_t + h' @ r); AD_RNN_LSTM
 * gates i, f, c, o with c = f * c' + i * act(c~), h = o * act(c); AD_RNN_GRU (reset_after) and
 * AD_RNN_GRU_BEFORE (reset before the product) gates z, r, h~ with h = z * h' + (1 - z) * h~. G = 1, 4, 3 or 3
 * column blocks of units. xw (steps, batch, G * units) = the inputs' projections with their bias, time major;
 * r (units, G * units) the recurrent kernel; rb (G * units) GRU's recurrent bias or NULL; h0 (and c0 for LSTM,
 * else NULL) (batch, units) the initial state. Step s reads time t = s, or steps - 1 - s when reverse.
 * mask (steps, batch) in the dtype, indexed by t, or NULL: where 0 the sample's state is carried over. rmask
 * (batch, units) or NULL multiplies the state entering the recurrent products (recurrent dropout). Outputs
 * in step order: h (steps, batch, units) the state after each step, c (the same, LSTM, else NULL) and work
 * (steps, batch, 4 * units) what the backward reads (LSTM and GRU; NULL for AD_RNN_SIMPLE). act and ract
 * are activation ids or AD_NO_ACTIVATION. */
#define AD_RNN_SIMPLE 0
#define AD_RNN_LSTM 1
#define AD_RNN_GRU 2
#define AD_RNN_GRU_BEFORE 3
int ad_rnn(int cell, int dtype, int act, int ract, int reverse, int64_t steps, int64_t batch, int64_t units,
           const void *xw, const void *r, const void *rb, const void *h0, const void *c0, const void *mask,
           const void *rmask, void *h, void *c, void *work);
/* its backward for the gradients gh of h and gc of c (NULL: zero) in step order: gxw (as xw), gr (as r),
 * grb (as rb, NULL when rb is), gh0 and gc0 (NULL unless LSTM) */
int ad_rnn_backward(int cell, int dtype, int act, int ract, int reverse, int64_t steps, int64_t batch,
                    int64_t units, const void *r, const void *h0, const void *c0, const void *mask,
                    const void *rmask, const void *h, const void *c, const void *work, const void *gh,
                    const void *gc, void *gxw, void *gr, void *grb, void *gh0, void *gc0);

/* nn.c */
/* y (m, n) = act(x (m, k) @ w (k, n) + b (n)); b may be NULL (no bias); act an activation id or
 * AD_NO_ACTIVATION */
int ad_dense(int dtype, int act, int64_t m, int64_t n, int64_t k, const void *x, const void *w,
             const void *b, void *y);
/* dz = g * act'(through the activation's output y); db (n) = column sums of dz, unless NULL; dz must not
 * overlap y or g */
int ad_bias_act_backward(int dtype, int act, int64_t m, int64_t n, const void *y, const void *g, void *dz,
                         void *db);
/* the whole backward of y = act(x @ w + b), x (m, k), w (k, n): dz (m, n) as above (in memory of its own),
 * then gx (m, k) = dz @ w^T unless gx is NULL, gw (k, n) = x^T @ dz, db (n) unless NULL */
int ad_dense_backward(int dtype, int act, int64_t m, int64_t n, int64_t k, const void *x, const void *w,
                      const void *y, const void *g, void *gx, void *gw, void *db);
/* The softmax cross-entropies from logits, with probs = softmax(logits) saved for the backward. mean = 0:
 * loss (m) per row and the backward reads g (m); mean = 1: loss[0] = the average over rows (NaN for none) and
 * the backward reads a scalar g, each row's gradient being g[0] / m. */
/* logits (m, n), labels (m) in [0, n): loss = logsumexp - logit of the label */
int ad_sparse_softmax_xent(int dtype, int64_t m, int64_t n, const void *logits, const int32_t *labels,
                           void *loss, void *probs, int mean);
/* dlogits = g_i * (probs - one_hot(labels)) */
int ad_sparse_softmax_xent_backward(int dtype, int64_t m, int64_t n, const void *probs, const int32_t *labels,
                                    const void *g, void *dlogits, int mean);
/* labels (m, n) of the logits' dtype: loss = sum_j labels * (logsumexp - logits) */
int ad_softmax_xent(int dtype, int64_t m, int64_t n, const void *logits, const void *labels, void *loss,
                    void *probs, int mean);
/* dlogits = g_i * (probs * sum_j labels - labels) */
int ad_softmax_xent_backward(int dtype, int64_t m, int64_t n, const void *probs, const void *labels,
                             const void *g, void *dlogits, int mean);
/* elementwise over n: loss = max(x, 0) - x * z + log(1 + exp(-|x|)) */
int ad_sigmoid_xent(int dtype, int64_t n, const void *logits, const void *labels, void *loss);
/* dlogits = g * (sigmoid(x) - z) */
int ad_sigmoid_xent_backward(int dtype, int64_t n, const void *logits, const void *labels, const void *g,
                             void *dlogits);
/* Normalization of x (rows, cols) per group, a row (layer normalization, by_column 0) or a column (batch
 * normalization while training, by_column 1): y = (x - mean) / sqrt(variance + epsilon) * gamma + beta, gamma and
 * beta per column (NULL: 1 and 0); each group's mean and (biased) variance written to mean and variance (rows or
 * cols of them; NaN for a group of no values) */
int ad_normalize(int dtype, int by_column, int64_t rows, int64_t cols, const void *x, const void *gamma,
                 const void *beta, double epsilon, void *y, void *mean, void *variance);
/* its gradients for dy (rows, cols), from the forward's x, gamma, mean and variance: dx (rows, cols), dgamma and
 * dbeta (cols), each skipped when NULL */
int ad_normalize_backward(int dtype, int by_column, int64_t rows, int64_t cols, const void *x, const void *gamma,
                          const void *mean, const void *variance, double epsilon, const void *dy, void *dx,
                          void *dgamma, void *dbeta);
/* average = momentum * average + (1 - momentum) * x over n values, in double (BatchNormalization's moving
 * statistics, in place: one call where ops took four) */
int ad_moving_average(int dtype, int64_t n, double momentum, const void *x, void *average);
/* inverted dropout: mask = (u >= rate) / (1 - rate), y = x * mask. state[0] is the seed, state[1] counts
 * the calls and is advanced by each: fresh numbers every call, also when a traced graph is replayed */
int ad_dropout(int dtype, int64_t n, double rate, int64_t *state, const void *x, void *y, void *mask);
/* out = a permutation of 0 .. n-1 drawn from seed */
int ad_permutation(int64_t n, int64_t seed, int32_t *out);

/* optim.c */
/* slots of an optimizer's float64 block hp, read by the kernels when they run */
#define AD_HP_STEP 0
#define AD_HP_LR 1
#define AD_HP_DECAY_STEPS 2
#define AD_HP_DECAY_RATE 3
#define AD_HP_STAIRCASE 4
#define AD_HP_LR_NOW 5
#define AD_HP_BETA_1 6
#define AD_HP_BETA_2 7
#define AD_HP_EPSILON 8
#define AD_HP_WEIGHT_DECAY 9
#define AD_HP_MOMENTUM 10
#define AD_HP_NESTEROV 11
#define AD_HP_RHO 12
#define AD_HP_CENTERED 13
#define AD_HP_SCHEDULE 14
#define AD_HP_ALPHA 15
#define AD_HP_WARMUP_TARGET 16
#define AD_HP_WARMUP_STEPS 17
#define AD_HP_PIECES 18
#define AD_HP_AMSGRAD 19
#define AD_HP_CLIPNORM 20
#define AD_HP_CLIPVALUE 21
#define AD_HP_GLOBAL_CLIPNORM 22
#define AD_HP_GRAD_SQSUM 23
#define AD_HP_USE_EMA 24
#define AD_HP_EMA_MOMENTUM 25
#define AD_HP_EMA_FREQUENCY 26
#define AD_HP_NADAM_PRODUCT 27
#define AD_HP_COUNT 28
/* hp[AD_HP_SCHEDULE]: how the rate follows the step (Keras' schedules); PIECEWISE reads hp[AD_HP_PIECES]
 * boundaries from hp[AD_HP_COUNT] on, then the hp[AD_HP_PIECES] + 1 values after them */
#define AD_SCHEDULE_CONSTANT 0
#define AD_SCHEDULE_EXPONENTIAL 1
#define AD_SCHEDULE_INVERSE_TIME 2
#define AD_SCHEDULE_PIECEWISE 3
#define AD_SCHEDULE_COSINE 4

/* *lr = the learning rate at step hp[AD_HP_STEP] under the schedule hp[AD_HP_SCHEDULE]: constant hp[AD_HP_LR];
 * exponential lr * decay_rate ^ p, inverse time lr / (1 + decay_rate * p), p = step / decay_steps floored when
 * hp[AD_HP_STAIRCASE]; piecewise constant; cosine decay to alpha * the warmup target after a linear warmup */
int ad_lr_schedule(const double *hp, double *lr);
/* begin an update: hp[AD_HP_LR_NOW] = this step's rate, hp[AD_HP_STEP] += 1, the global gradient norm's sum
 * hp[AD_HP_GRAD_SQSUM] = 0, Nadam's running product of momentum factors advanced */
int ad_optim_step(double *hp);
/* hp[AD_HP_GRAD_SQSUM] += the sum of grad's squares (global_clipnorm: run for every gradient before the updates) */
int ad_optim_norm(int dtype, int64_t n, const void *grad, double *hp);
/* Every update first clips the gradient (hp[AD_HP_CLIPNORM], else hp[AD_HP_GLOBAL_CLIPNORM], else
 * hp[AD_HP_CLIPVALUE], when > 0), then decays the weights (hp[AD_HP_WEIGHT_DECAY]: var -= lr * wd * var). */
/* SGD: momentum may be NULL when hp[AD_HP_MOMENTUM] == 0; Nesterov when hp[AD_HP_NESTEROV] != 0 */
int ad_sgd_update(int dtype, int64_t n, void *var, const void *grad, void *momentum, const double *hp);
/* Adam and AdamW; vhat (the running maximum of v) may be NULL unless hp[AD_HP_AMSGRAD] */
int ad_adam_update(int dtype, int64_t n, void *var, const void *grad, void *m, void *v, void *vhat,
                   const double *hp);
/* RMSprop: momentum may be NULL without momentum, average_grad NULL unless hp[AD_HP_CENTERED] */
int ad_rmsprop_update(int dtype, int64_t n, void *var, const void *grad, void *velocity, void *momentum,
                      void *average_grad, const double *hp);
int ad_adagrad_update(int dtype, int64_t n, void *var, const void *grad, void *accumulator, const double *hp);
int ad_adadelta_update(int dtype, int64_t n, void *var, const void *grad, void *accumulated_grad,
                       void *accumulated_delta, const double *hp);
int ad_adamax_update(int dtype, int64_t n, void *var, const void *grad, void *m, void *u, const double *hp);
int ad_nadam_update(int dtype, int64_t n, void *var, const void *grad, void *m, void *v, const double *hp);
int ad_lion_update(int dtype, int64_t n, void *var, const void *grad, void *momentum, const double *hp);
/* after the updates, when hp[AD_HP_USE_EMA]: average = mu * average + (1 - mu) * var (mu = hp[AD_HP_EMA_MOMENTUM],
 * 0 on the first step), then var = average every hp[AD_HP_EMA_FREQUENCY] steps when that is > 0 */
int ad_optim_ema(int dtype, int64_t n, void *var, void *average, const double *hp);

/* plan.c */
/* Run a traced graph's kernel calls in one crossing. plan is int64 words: [0] the entry count,
 * [1] receives the index of a failing entry, then per entry a kernel id of csrc/plan_kernels.h
 * followed by one word per kernel argument (pointers as addresses, doubles bit-cast). Stops at the
 * first kernel that fails and returns its status. */
int ad_plan_run(void *plan);
/* the checksum of the kernel table compiled in (pyautodiff/_plan_table.py holds the same) */
int ad_plan_signature(void);

/* debug */
/* the status of ad_all_finite when x holds a NaN or an infinity */
#define AD_ENONFINITE 5
/* AD_OK when none of the n elements of x is NaN or +-inf (integers and bools always are), else AD_ENONFINITE */
int ad_all_finite(int dtype, int64_t n, const void *x);

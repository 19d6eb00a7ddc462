/* optim.c: optimizer updates, one call per variable (large variables split over the threads).
 *
 * Every kernel reads the optimizer's float64 block hp (AD_HP_* slots: step count, learning rate and
 * its schedule, hyper-parameters) when it runs, never a by-value copy made in Python: a training step
 * traced into a graph and replayed must see the current step, hence the current bias corrections and
 * decayed learning rate. ad_optim_step starts a step; the per-variable updates then follow. */
#include "internal.h"

int ad_lr_schedule(const double *hp, double *lr) {
    if (!hp || !lr || !(hp[AD_HP_STEP] >= 0)) return AD_EINVAL;
    double step = hp[AD_HP_STEP], rate = hp[AD_HP_LR], decay_steps = hp[AD_HP_DECAY_STEPS];
    int kind = (int)hp[AD_HP_SCHEDULE];
    if ((kind == AD_SCHEDULE_EXPONENTIAL || kind == AD_SCHEDULE_INVERSE_TIME || kind == AD_SCHEDULE_COSINE) &&
        !(decay_steps > 0))
        return AD_EINVAL;
    switch (kind) {
    case AD_SCHEDULE_CONSTANT:
        break;
    case AD_SCHEDULE_EXPONENTIAL:
    case AD_SCHEDULE_INVERSE_TIME: {
        double p = step / decay_steps;
        if (hp[AD_HP_STAIRCASE] != 0) p = (double)(int64_t)p; /* p >= 0: truncation floors */
        rate = kind == AD_SCHEDULE_EXPONENTIAL ? rate * pow(hp[AD_HP_DECAY_RATE], p)
                                               : rate / (1.0 + hp[AD_HP_DECAY_RATE] * p);
        break;
    }
    case AD_SCHEDULE_PIECEWISE: { /* values[i] while boundaries[i - 1] < step <= boundaries[i] */
        double pieces = hp[AD_HP_PIECES];
        if (!(pieces >= 0) || pieces != (double)(int64_t)pieces) return AD_EINVAL;
        const double *boundaries = hp + AD_HP_COUNT, *values = boundaries + (int64_t)pieces;
        int64_t i = 0;
        while (i < (int64_t)pieces && step > boundaries[i]) i++;
        rate = values[i];
        break;
    }
    case AD_SCHEDULE_COSINE: { /* without a warmup target, the caller writes target = lr and 0 warmup steps */
        double warmup = hp[AD_HP_WARMUP_STEPS], target = hp[AD_HP_WARMUP_TARGET], alpha = hp[AD_HP_ALPHA];
        double s = step < decay_steps + warmup ? step : decay_steps + warmup;
        if (s < warmup) {
            rate += (target - rate) * (s / warmup);
        } else {
            double cosine = 0.5 * (1.0 + cos(3.14159265358979323846 * ((s - warmup) / decay_steps)));
            rate = target * ((1.0 - alpha) * cosine + alpha);
        }
        break;
    }
    default:
        return AD_EINVAL;
    }
    *lr = rate;
    return AD_OK;
}

int ad_optim_step(double *hp) {
    if (!hp) return AD_EINVAL;
    int rc = ad_lr_schedule(hp, &hp[AD_HP_LR_NOW]); /* the rate of step `step`, counted from 0 */
    if (rc) return rc;
    hp[AD_HP_STEP] += 1;
    hp[AD_HP_GRAD_SQSUM] = 0;
    /* Nadam's product of the momentum factors mu_1 .. mu_t (kept, as Keras does, not recomputed: beta_1 may change) */
    hp[AD_HP_NADAM_PRODUCT] *= hp[AD_HP_BETA_1] * (1.0 - 0.5 * pow(0.96, hp[AD_HP_STEP]));
    return AD_OK;
}

static double sum_squares(int dtype, int64_t n, const void *x) {
    double sum = 0;
    if (dtype == AD_FLOAT32)
        for (int64_t i = 0; i < n; i++) sum += (double)((const float *)x)[i] * ((const float *)x)[i];
    else
        for (int64_t i = 0; i < n; i++) sum += ((const double *)x)[i] * ((const double *)x)[i];
    return sum;
}

int ad_optim_norm(int dtype, int64_t n, const void *grad, double *hp) {
    if (n < 0 || !hp || (n > 0 && !grad)) return AD_EINVAL;
    if (dtype != AD_FLOAT32 && dtype != AD_FLOAT64) return AD_EDTYPE;
    hp[AD_HP_GRAD_SQSUM] += sum_squares(dtype, n, grad);
    return AD_OK;
}

static int check_update(int64_t n, const void *var, const void *grad, const double *hp) {
    if (n < 0 || !hp || hp[AD_HP_STEP] < 1) return AD_EINVAL; /* ad_optim_step comes first */
    if (n > 0 && (!var || !grad)) return AD_EINVAL;
    return AD_OK;
}

/* decoupled weight decay (AdamW; any optimizer given weight_decay): var -= lr * wd * var */
#define AD_WEIGHT_DECAY(T, V, n, lr, hp)                                   \
    if ((hp)[AD_HP_WEIGHT_DECAY] != 0) {                                   \
        T keep_ = (T)(1.0 - (lr) * (hp)[AD_HP_WEIGHT_DECAY]);              \
        for (int64_t i_ = 0; i_ < (n); i_++) (V)[i_] *= keep_;             \
    }

/* The update loops, over n elements from the given pointers (a range of the variable): elementwise,
 * so large variables are split over the threads. s0..s2 are the optimizer's slots, in slot order. */
typedef int (*update_fn)(int dtype, int64_t n, void *var, const void *grad, void *s0, void *s1, void *s2,
                          const double *hp);

AD_TARGET_CLONES static int sgd_loop(int dtype, int64_t n, void *var, const void *grad, void *momentum, void *s1,
                                      void *s2, const double *hp) {
    (void)s1, (void)s2;
    double mu = hp[AD_HP_MOMENTUM];
    AD_DISPATCH_FLOAT(dtype, {
        T *restrict V = var, *restrict M = momentum;
        const T *restrict G = grad;
        const T lr = (T)hp[AD_HP_LR_NOW], m = (T)mu;
        AD_WEIGHT_DECAY(T, V, n, hp[AD_HP_LR_NOW], hp)
        if (mu == 0) {
            for (int64_t i = 0; i < n; i++) V[i] -= lr * G[i];
        } else if (hp[AD_HP_NESTEROV] != 0) {
            for (int64_t i = 0; i < n; i++) {
                M[i] = m * M[i] - lr * G[i];
                V[i] += m * M[i] - lr * G[i];
            }
        } else {
            for (int64_t i = 0; i < n; i++) {
                M[i] = m * M[i] - lr * G[i];
                V[i] += M[i];
            }
        }
    })
    return AD_OK;
}

AD_TARGET_CLONES static int adam_loop(int dtype, int64_t n, void *var, const void *grad, void *m, void *v, void *vhat,
                                       const double *hp) {
    double b1 = hp[AD_HP_BETA_1], b2 = hp[AD_HP_BETA_2], t = hp[AD_HP_STEP];
    /* the bias corrections folded into the step size, as Keras does */
    double alpha = hp[AD_HP_LR_NOW] * sqrt(1.0 - pow(b2, t)) / (1.0 - pow(b1, t));
    AD_DISPATCH_FLOAT(dtype, {
        T *restrict V = var, *restrict M = m, *restrict S = v, *restrict H = vhat; /* distinct: vectorizes */
        const T *restrict G = grad;
        const T c1 = (T)(1.0 - b1), c2 = (T)(1.0 - b2), a = (T)alpha, eps = (T)hp[AD_HP_EPSILON];
        AD_WEIGHT_DECAY(T, V, n, hp[AD_HP_LR_NOW], hp)
        if (hp[AD_HP_AMSGRAD] != 0) {
            for (int64_t i = 0; i < n; i++) {
                T g = G[i];
                M[i] += (g - M[i]) * c1;
                S[i] += (g * g - S[i]) * c2;
                H[i] = H[i] > S[i] ? H[i] : S[i];
                V[i] -= a * M[i] / (AD_LIBM(T, sqrt, H[i]) + eps);
            }
        } else {
            for (int64_t i = 0; i < n; i++) {
                T g = G[i];
                M[i] += (g - M[i]) * c1;
                S[i] += (g * g - S[i]) * c2;
                V[i] -= a * M[i] / (AD_LIBM(T, sqrt, S[i]) + eps);
            }
        }
    })
    return AD_OK;
}

AD_TARGET_CLONES static int rmsprop_loop(int dtype, int64_t n, void *var, const void *grad, void *velocity,
                                          void *momentum, void *average_grad, const double *hp) {
    int centered = hp[AD_HP_CENTERED] != 0;
    double mu = hp[AD_HP_MOMENTUM];
    AD_DISPATCH_FLOAT(dtype, {
        T *restrict V = var, *restrict S = velocity, *restrict M = momentum, *restrict A = average_grad;
        const T *restrict G = grad;
        const T rho = (T)hp[AD_HP_RHO], lr = (T)hp[AD_HP_LR_NOW], eps = (T)hp[AD_HP_EPSILON], m = (T)mu;
        AD_WEIGHT_DECAY(T, V, n, hp[AD_HP_LR_NOW], hp)
        for (int64_t i = 0; i < n; i++) {
            T g = G[i];
            S[i] = rho * S[i] + ((T)1 - rho) * g * g;
            T denominator = S[i] + eps; /* epsilon inside the square root, as Keras does */
            if (centered) {
                A[i] = rho * A[i] + ((T)1 - rho) * g;
                denominator -= A[i] * A[i];
            }
            T increment = lr * g / AD_LIBM(T, sqrt, denominator);
            if (mu != 0) {
                M[i] = m * M[i] + increment;
                V[i] -= M[i];
            } else {
                V[i] -= increment;
            }
        }
    })
    return AD_OK;
}

AD_TARGET_CLONES static int adagrad_loop(int dtype, int64_t n, void *var, const void *grad, void *accumulator,
                                          void *s1, void *s2, const double *hp) {
    (void)s1, (void)s2;
    AD_DISPATCH_FLOAT(dtype, {
        T *restrict V = var, *restrict A = accumulator;
        const T *restrict G = grad;
        const T lr = (T)hp[AD_HP_LR_NOW], eps = (T)hp[AD_HP_EPSILON];
        AD_WEIGHT_DECAY(T, V, n, hp[AD_HP_LR_NOW], hp)
        for (int64_t i = 0; i < n; i++) {
            T g = G[i];
            A[i] += g * g;
            V[i] -= lr * g / AD_LIBM(T, sqrt, A[i] + eps); /* epsilon inside the square root, as Keras does */
        }
    })
    return AD_OK;
}

AD_TARGET_CLONES static int adadelta_loop(int dtype, int64_t n, void *var, const void *grad, void *acc_grad,
                                           void *acc_delta, void *s2, const double *hp) {
    (void)s2;
    AD_DISPATCH_FLOAT(dtype, {
        T *restrict V = var, *restrict A = acc_grad, *restrict D = acc_delta;
        const T *restrict G = grad;
        const T lr = (T)hp[AD_HP_LR_NOW], eps = (T)hp[AD_HP_EPSILON], rho = (T)hp[AD_HP_RHO];
        AD_WEIGHT_DECAY(T, V, n, hp[AD_HP_LR_NOW], hp)
        for (int64_t i = 0; i < n; i++) {
            T g = G[i];
            A[i] = rho * A[i] + ((T)1 - rho) * g * g;
            T delta = -(AD_LIBM(T, sqrt, D[i] + eps) * g) / AD_LIBM(T, sqrt, A[i] + eps);
            D[i] = rho * D[i] + ((T)1 - rho) * delta * delta;
            V[i] += lr * delta;
        }
    })
    return AD_OK;
}

AD_TARGET_CLONES static int adamax_loop(int dtype, int64_t n, void *var, const void *grad, void *m, void *u, void *s2,
                                         const double *hp) {
    (void)s2;
    double b1 = hp[AD_HP_BETA_1];
    AD_DISPATCH_FLOAT(dtype, {
        T *restrict V = var, *restrict M = m, *restrict U = u;
        const T *restrict G = grad;
        const T lr = (T)hp[AD_HP_LR_NOW], eps = (T)hp[AD_HP_EPSILON], b2 = (T)hp[AD_HP_BETA_2], c1 = (T)(1.0 - b1);
        const T correction = (T)(1.0 - pow(b1, hp[AD_HP_STEP]));
        AD_WEIGHT_DECAY(T, V, n, hp[AD_HP_LR_NOW], hp)
        for (int64_t i = 0; i < n; i++) {
            T g = G[i], a = g < 0 ? -g : g, decayed = b2 * U[i];
            M[i] += (g - M[i]) * c1;
            U[i] = decayed > a ? decayed : a;
            V[i] -= lr * M[i] / (correction * (U[i] + eps));
        }
    })
    return AD_OK;
}

AD_TARGET_CLONES static int nadam_loop(int dtype, int64_t n, void *var, const void *grad, void *m, void *v, void *s2,
                                        const double *hp) {
    (void)s2;
    double b1 = hp[AD_HP_BETA_1], b2 = hp[AD_HP_BETA_2], t = hp[AD_HP_STEP];
    double u_t = b1 * (1.0 - 0.5 * pow(0.96, t)), u_next = b1 * (1.0 - 0.5 * pow(0.96, t + 1));
    double product = hp[AD_HP_NADAM_PRODUCT]; /* mu_1 .. mu_t, advanced by ad_optim_step */
    AD_DISPATCH_FLOAT(dtype, {
        T *restrict V = var, *restrict M = m, *restrict S = v;
        const T *restrict G = grad;
        const T c1 = (T)(1.0 - b1), c2 = (T)(1.0 - b2), lr = (T)hp[AD_HP_LR_NOW], eps = (T)hp[AD_HP_EPSILON];
        const T k_m = (T)(u_next / (1.0 - product * u_next)), k_g = (T)((1.0 - u_t) / (1.0 - product));
        const T k_v = (T)(1.0 / (1.0 - pow(b2, t)));
        AD_WEIGHT_DECAY(T, V, n, hp[AD_HP_LR_NOW], hp)
        for (int64_t i = 0; i < n; i++) {
            T g = G[i];
            M[i] += (g - M[i]) * c1;
            S[i] += (g * g - S[i]) * c2;
            T m_hat = k_m * M[i] + k_g * g;
            V[i] -= m_hat * lr / (AD_LIBM(T, sqrt, S[i] * k_v) + eps);
        }
    })
    return AD_OK;
}

AD_TARGET_CLONES static int lion_loop(int dtype, int64_t n, void *var, const void *grad, void *momentum, void *s1,
                                       void *s2, const double *hp) {
    (void)s1, (void)s2;
    AD_DISPATCH_FLOAT(dtype, {
        T *restrict V = var, *restrict M = momentum;
        const T *restrict G = grad;
        const T lr = (T)hp[AD_HP_LR_NOW], b1 = (T)hp[AD_HP_BETA_1], b2 = (T)hp[AD_HP_BETA_2];
        AD_WEIGHT_DECAY(T, V, n, hp[AD_HP_LR_NOW], hp)
        for (int64_t i = 0; i < n; i++) {
            T g = G[i], c = M[i] * b1 + g * ((T)1 - b1);
            V[i] -= lr * (T)((c > 0) - (c < 0)); /* sign: 0 stays 0 */
            M[i] = M[i] * b2 + g * ((T)1 - b2);
        }
    })
    return AD_OK;
}

typedef struct {
    update_fn fn;
    int dtype, clips;
    int64_t esize;
    char *var, *s[3];
    const char *grad;
    const double *hp;
    double scale, clipvalue; /* the gradient's clipping: g * scale, then into [-clipvalue, clipvalue] if > 0 */
} update_job;

/* a clipped gradient is made in blocks on the stack (the caller's gradient is left alone) */
#define CLIP_BLOCK 512

static void clip_block(const update_job *j, int64_t n, const char *grad, void *out) {
    double c = j->clipvalue;
    if (j->dtype == AD_FLOAT32) {
        const float *g = (const float *)grad, scale = (float)j->scale, lo = (float)-c, hi = (float)c;
        float *o = out;
        for (int64_t i = 0; i < n; i++) o[i] = g[i] * scale;
        if (c > 0)
            for (int64_t i = 0; i < n; i++) o[i] = o[i] < lo ? lo : o[i] > hi ? hi : o[i];
    } else {
        const double *g = (const double *)grad;
        double *o = out;
        for (int64_t i = 0; i < n; i++) o[i] = g[i] * j->scale;
        if (c > 0)
            for (int64_t i = 0; i < n; i++) o[i] = o[i] < -c ? -c : o[i] > c ? c : o[i];
    }
}

static void update_range(void *arg, int64_t lo, int64_t hi) { /* (the dtype was checked before the split) */
    update_job *j = arg;
    double clipped[CLIP_BLOCK];
    for (int64_t start = lo; start < hi; start += j->clips ? CLIP_BLOCK : hi - lo) {
        int64_t n = j->clips && hi - start > CLIP_BLOCK ? CLIP_BLOCK : hi - start, at = start * j->esize;
        const void *grad = j->grad + at;
        if (j->clips) {
            clip_block(j, n, grad, clipped);
            grad = clipped;
        }
#define AD_AT(p) ((p) ? (p) + at : NULL)
        (void)j->fn(j->dtype, n, j->var + at, grad, AD_AT(j->s[0]), AD_AT(j->s[1]), AD_AT(j->s[2]), j->hp);
#undef AD_AT
    }
}

/* ~0.5 ns per element: below this many elements per thread, waking a worker costs more than it saves */
#define UPDATE_MIN_PER_THREAD 65536

static int run_update(update_fn fn, int dtype, int64_t n, void *var, const void *grad, void *s0, void *s1, void *s2,
                      const double *hp) {
    if (dtype != AD_FLOAT32 && dtype != AD_FLOAT64) return AD_EDTYPE;
    update_job job = {fn, dtype, 0, ad_dtype_size(dtype), var, {s0, s1, s2}, grad, hp, 1.0, 0.0};
    /* Keras' order: clipnorm, else global_clipnorm, else clipvalue */
    double clip = hp[AD_HP_CLIPNORM], global = hp[AD_HP_GLOBAL_CLIPNORM];
    if (clip > 0) {
        double norm = sqrt(sum_squares(dtype, n, grad));
        job.scale = clip / (norm > clip ? norm : clip);
    } else if (global > 0) {
        double norm = sqrt(hp[AD_HP_GRAD_SQSUM]);
        double inverse = 1.0 / norm < 1.0 / global ? 1.0 / norm : 1.0 / global;
        job.scale = global * inverse + (norm - norm); /* NaN for a non-finite norm */
    } else if (hp[AD_HP_CLIPVALUE] > 0) {
        job.clipvalue = hp[AD_HP_CLIPVALUE];
    }
    job.clips = job.scale != 1.0 || job.clipvalue > 0;
    ad_parallel_for(n, UPDATE_MIN_PER_THREAD, update_range, &job);
    return AD_OK;
}

int ad_sgd_update(int dtype, int64_t n, void *var, const void *grad, void *momentum, const double *hp) {
    int rc = check_update(n, var, grad, hp);
    if (rc) return rc;
    if (hp[AD_HP_MOMENTUM] != 0 && n > 0 && !momentum) return AD_EINVAL;
    return run_update(sgd_loop, dtype, n, var, grad, momentum, NULL, NULL, hp);
}

int ad_adam_update(int dtype, int64_t n, void *var, const void *grad, void *m, void *v, void *vhat,
                   const double *hp) {
    int rc = check_update(n, var, grad, hp);
    if (rc) return rc;
    if (n > 0 && (!m || !v || (hp[AD_HP_AMSGRAD] != 0 && !vhat))) return AD_EINVAL;
    return run_update(adam_loop, dtype, n, var, grad, m, v, vhat, hp);
}

int ad_rmsprop_update(int dtype, int64_t n, void *var, const void *grad, void *velocity, void *momentum,
                      void *average_grad, const double *hp) {
    int rc = check_update(n, var, grad, hp);
    if (rc) return rc;
    int centered = hp[AD_HP_CENTERED] != 0;
    if (n > 0 && (!velocity || (hp[AD_HP_MOMENTUM] != 0 && !momentum) || (centered && !average_grad)))
        return AD_EINVAL;
    return run_update(rmsprop_loop, dtype, n, var, grad, velocity, momentum, average_grad, hp);
}

/* the updates whose slots are all required */
static int update_with(update_fn fn, int dtype, int64_t n, void *var, const void *grad, void *s0, void *s1,
                       const double *hp, int slots) {
    int rc = check_update(n, var, grad, hp);
    if (rc) return rc;
    if (n > 0 && (!s0 || (slots > 1 && !s1))) return AD_EINVAL;
    return run_update(fn, dtype, n, var, grad, s0, s1, NULL, hp);
}

int ad_adagrad_update(int dtype, int64_t n, void *var, const void *grad, void *accumulator, const double *hp) {
    return update_with(adagrad_loop, dtype, n, var, grad, accumulator, NULL, hp, 1);
}

int ad_adadelta_update(int dtype, int64_t n, void *var, const void *grad, void *accumulated_grad,
                       void *accumulated_delta, const double *hp) {
    return update_with(adadelta_loop, dtype, n, var, grad, accumulated_grad, accumulated_delta, hp, 2);
}

int ad_adamax_update(int dtype, int64_t n, void *var, const void *grad, void *m, void *u, const double *hp) {
    return update_with(adamax_loop, dtype, n, var, grad, m, u, hp, 2);
}

int ad_nadam_update(int dtype, int64_t n, void *var, const void *grad, void *m, void *v, const double *hp) {
    return update_with(nadam_loop, dtype, n, var, grad, m, v, hp, 2);
}

int ad_lion_update(int dtype, int64_t n, void *var, const void *grad, void *momentum, const double *hp) {
    return update_with(lion_loop, dtype, n, var, grad, momentum, NULL, hp, 1);
}

int ad_optim_ema(int dtype, int64_t n, void *var, void *average, const double *hp) {
    if (n < 0 || !hp || hp[AD_HP_STEP] < 1 || (n > 0 && (!var || !average))) return AD_EINVAL;
    if (hp[AD_HP_USE_EMA] == 0) return AD_OK;
    double t = hp[AD_HP_STEP], every = hp[AD_HP_EMA_FREQUENCY];
    double mu = t == 1 ? 0.0 : hp[AD_HP_EMA_MOMENTUM]; /* the first step starts the average at the weights */
    int overwrite = every > 0 && (int64_t)t % (int64_t)every == 0;
    AD_DISPATCH_FLOAT(dtype, {
        T *restrict V = var, *restrict A = average;
        const T m = (T)mu, c = (T)(1.0 - mu);
        for (int64_t i = 0; i < n; i++) {
            A[i] = m * A[i] + c * V[i];
            if (overwrite) V[i] = A[i];
        }
    })
    return AD_OK;
}

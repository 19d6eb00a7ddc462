/* optim.c: optimizer updates, one call per variable (large variables split over the threads).
 *
 * Every kernel reads the optimizer's float64 block hp (AD_HP_* slots: step count, learning rate and
 * its schedule, hyper-parameters) when it runs, never a by-value copy made in Python: a training step
 * traced into a graph and replayed must see the current step, hence the current bias corrections and
 * decayed learning rate. ad_optim_step starts a step; the per-variable updates then follow. */
#include "internal.h"

int ad_lr_schedule(const double *hp, double *lr) {
    if (!hp || !lr || hp[AD_HP_STEP] < 0 || hp[AD_HP_DECAY_STEPS] < 0) return AD_EINVAL;
    double rate = hp[AD_HP_LR];
    if (hp[AD_HP_DECAY_STEPS] > 0) {
        /* ExponentialDecay: lr * decay_rate ^ (step / decay_steps), the exponent floored when staircase */
        double p = hp[AD_HP_STEP] / hp[AD_HP_DECAY_STEPS];
        if (hp[AD_HP_STAIRCASE] != 0) p = (double)(int64_t)p;
        rate *= pow(hp[AD_HP_DECAY_RATE], p);
    }
    *lr = rate;
    return AD_OK;
}

int ad_optim_step(double *hp) {
    if (!hp) return AD_EINVAL;
    int rc = ad_lr_schedule(hp, &hp[AD_HP_LR_NOW]); /* the rate of step `step`, counted from 0 */
    if (rc) return rc;
    hp[AD_HP_STEP] += 1;
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

AD_TARGET_CLONES static int adam_loop(int dtype, int64_t n, void *var, const void *grad, void *m, void *v, void *s2,
                                       const double *hp) {
    (void)s2;
    double b1 = hp[AD_HP_BETA_1], b2 = hp[AD_HP_BETA_2], t = hp[AD_HP_STEP];
    /* the bias corrections folded into the step size, as Keras does */
    double alpha = hp[AD_HP_LR_NOW] * sqrt(1.0 - pow(b2, t)) / (1.0 - pow(b1, t));
    AD_DISPATCH_FLOAT(dtype, {
        T *restrict V = var, *restrict M = m, *restrict S = v; /* distinct buffers: lets the loop vectorize */
        const T *restrict G = grad;
        const T c1 = (T)(1.0 - b1), c2 = (T)(1.0 - b2), a = (T)alpha, eps = (T)hp[AD_HP_EPSILON];
        AD_WEIGHT_DECAY(T, V, n, hp[AD_HP_LR_NOW], hp)
        for (int64_t i = 0; i < n; i++) {
            T g = G[i];
            M[i] += (g - M[i]) * c1;
            S[i] += (g * g - S[i]) * c2;
            V[i] -= a * M[i] / (AD_LIBM(T, sqrt, S[i]) + eps);
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

typedef struct {
    update_fn fn;
    int dtype;
    int64_t esize;
    char *var, *s[3];
    const char *grad;
    const double *hp;
} update_job;

static void update_range(void *arg, int64_t lo, int64_t hi) { /* (the dtype was checked before the split) */
    update_job *j = arg;
    int64_t at = lo * j->esize;
#define AD_AT(p) ((p) ? (p) + at : NULL)
    (void)j->fn(j->dtype, hi - lo, j->var + at, j->grad + at, AD_AT(j->s[0]), AD_AT(j->s[1]), AD_AT(j->s[2]), j->hp);
#undef AD_AT
}

/* ~0.5 ns per element: below this many elements per thread, waking a worker costs more than it saves */
#define UPDATE_MIN_PER_THREAD 65536

static int run_update(update_fn fn, int dtype, int64_t n, void *var, const void *grad, void *s0, void *s1, void *s2,
                      const double *hp) {
    if (dtype != AD_FLOAT32 && dtype != AD_FLOAT64) return AD_EDTYPE;
    update_job job = {fn, dtype, ad_dtype_size(dtype), var, {s0, s1, s2}, grad, hp};
    ad_parallel_for(n, UPDATE_MIN_PER_THREAD, update_range, &job);
    return AD_OK;
}

int ad_sgd_update(int dtype, int64_t n, void *var, const void *grad, void *momentum, const double *hp) {
    int rc = check_update(n, var, grad, hp);
    if (rc) return rc;
    if (hp[AD_HP_MOMENTUM] != 0 && n > 0 && !momentum) return AD_EINVAL;
    return run_update(sgd_loop, dtype, n, var, grad, momentum, NULL, NULL, hp);
}

int ad_adam_update(int dtype, int64_t n, void *var, const void *grad, void *m, void *v, const double *hp) {
    int rc = check_update(n, var, grad, hp);
    if (rc) return rc;
    if (n > 0 && (!m || !v)) return AD_EINVAL;
    return run_update(adam_loop, dtype, n, var, grad, m, v, NULL, hp);
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

/* optim.c: optimizer updates, one call per variable.
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

AD_TARGET_CLONES int ad_sgd_update(int dtype, int64_t n, void *var, const void *grad, void *momentum, const double *hp) {
    int rc = check_update(n, var, grad, hp);
    if (rc) return rc;
    double mu = hp[AD_HP_MOMENTUM];
    if (mu != 0 && n > 0 && !momentum) return AD_EINVAL;
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

AD_TARGET_CLONES int ad_adam_update(int dtype, int64_t n, void *var, const void *grad, void *m, void *v, const double *hp) {
    int rc = check_update(n, var, grad, hp);
    if (rc) return rc;
    if (n > 0 && (!m || !v)) return AD_EINVAL;
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

AD_TARGET_CLONES int ad_rmsprop_update(int dtype, int64_t n, void *var, const void *grad, void *velocity, void *momentum,
                      void *average_grad, const double *hp) {
    int rc = check_update(n, var, grad, hp);
    if (rc) return rc;
    int centered = hp[AD_HP_CENTERED] != 0;
    double mu = hp[AD_HP_MOMENTUM];
    if (n > 0 && (!velocity || (mu != 0 && !momentum) || (centered && !average_grad))) return AD_EINVAL;
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

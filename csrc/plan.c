/* plan.c: the executor of traced graphs (ad.Function). A plan is a flat array of int64 words made
 * once by pyautodiff/function.py from the recorded kernel calls; replaying a graph is one call here,
 * so a training step crosses the Python/C boundary once instead of once per kernel. */
#include "internal.h"

static inline double ad_plan_f64(int64_t bits) {
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

int ad_plan_run(void *plan) {
    if (!plan) return AD_EINVAL;
    int64_t *words = (int64_t *)plan;
    int64_t count = words[0];
    const int64_t *a = words + 2;
    for (int64_t e = 0; e < count; e++) {
        int status;
        int64_t kernel = *a++;
        switch (kernel) {
#include "plan_kernels.h"
        default: status = AD_EINVAL; break;
        }
        if (status) {
            words[1] = e;
            return status;
        }
    }
    return AD_OK;
}

int ad_plan_signature(void) { return AD_PLAN_SIGNATURE; }

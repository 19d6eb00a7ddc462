/* debug.c: the check behind ad.debug.check_numerics, run after every op's kernel when enabled. */
#include "internal.h"

/* A float is NaN or +-inf exactly when its exponent bits are all ones. Testing the bits (instead of
 * x != x or x - x != 0) is immune to -ffast-math and is an integer OR-reduction, which the compiler
 * vectorizes without reassociating float arithmetic. */
#define AD_ANY_NONFINITE(UINT, MASK)                   \
    const UINT *bits = x;                              \
    UINT bad = 0;                                      \
    for (int64_t i = 0; i < n; i++)                    \
        bad |= (UINT)((bits[i] & (MASK)) == (MASK));   \
    return bad ? AD_ENONFINITE : AD_OK;

int ad_all_finite(int dtype, int64_t n, const void *x) {
    if (n < 0 || (n > 0 && !x)) return AD_EINVAL;
    switch (dtype) {
    case AD_FLOAT32: { AD_ANY_NONFINITE(uint32_t, 0x7f800000u) }
    case AD_FLOAT64: { AD_ANY_NONFINITE(uint64_t, 0x7ff0000000000000ull) }
    case AD_FLOAT16: { AD_ANY_NONFINITE(uint16_t, 0x7c00u) }
    case AD_INT32: case AD_INT64: case AD_BOOL: return AD_OK;
    default: return AD_EDTYPE;
    }
}

/* sanitize_alloc.c: exact-size ad_alloc / ad_free for the sanitizer run (tools/sanitize.sh).
 *
 * csrc/array.c over-allocates by 64 + sizeof(void *) bytes to align by hand, so an overrun of up to
 * 64 bytes past a tensor's end lands in that slack and AddressSanitizer cannot see it. Preloaded
 * after libasan, this library interposes both symbols (the extension calls them through its PLT:
 * it is built -fPIC with default visibility) and allocates exactly nbytes with posix_memalign,
 * so ASan's redzone starts at the first byte past every tensor. */
#include <stdint.h>
#include <stdlib.h>

void *ad_alloc(int64_t nbytes) {
    void *p = NULL;
    if (nbytes < 0 || (uint64_t)nbytes > (SIZE_MAX >> 1) - 128) return NULL;
    if (posix_memalign(&p, 64, (size_t)nbytes)) return NULL;
    return p;
}

void ad_free(void *p) {
    free(p);
}

/* lets a test check that this shim, not array.c's allocator, is in use */
int ad_sanitize_exact_alloc(void) {
    return 1;
}

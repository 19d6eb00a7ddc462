/* threads.c: the thread count and the pool of workers every threaded kernel runs on (GEMM shares,
 * ad_parallel_for ranges). Without threads (wasm) tasks run on the caller. */
#include "internal.h"

#if AD_THREADS
#include <pthread.h>
#endif

static int thread_count = 1; /* set by the caller; read atomically (the pool below is the rest) */

int ad_set_num_threads(int n) {
    if (n < 1 || n > AD_MAX_THREADS) return AD_EINVAL;
#if AD_THREADS
    __atomic_store_n(&thread_count, n, __ATOMIC_RELAXED);
#endif
    return AD_OK;
}

int ad_get_num_threads(void) {
    return __atomic_load_n(&thread_count, __ATOMIC_RELAXED);
}

/* Threads take tasks from a common counter: a worker that wakes late (an idle core can take
 * 50-200 us to wake here) just finds fewer tasks left, instead of holding up the caller. */
typedef struct {
    int n, next;
    ad_task_fn task;
    void *ctx;
} job_t;

static void *take_tasks(void *arg) {
    job_t *job = arg;
    for (int q; (q = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED)) < job->n;) job->task(job->ctx, q);
    return NULL;
}

#if AD_THREADS
/* Persistent workers: a threaded call then costs at most a condition-variable wake-up rather
 * than pthread_create + join (~20 us). One caller at a time owns them; a concurrent caller
 * starts threads of its own. Workers are created on demand, and a forked child (which inherits
 * none) starts over with an empty pool. */
static struct {
    pthread_mutex_t busy, lock;
    pthread_cond_t wake, done;
    int nworkers, remaining;
    job_t *todo[AD_MAX_THREADS]; /* todo[w] is worker w's job, NULL when idle */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
          PTHREAD_COND_INITIALIZER, 0, 0, {0}};
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_after_fork(void) {
    pthread_mutex_init(&pool.busy, NULL);
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pthread_cond_init(&pool.done, NULL);
    pool.nworkers = pool.remaining = 0;
    memset(pool.todo, 0, sizeof pool.todo);
}

static void pool_init(void) { pthread_atfork(NULL, NULL, pool_after_fork); }

/* Before sleeping, workers and the waiting caller poll for ~0.4 ms: back-to-back products then skip the wake-up, and
 * so do the products of an eager training step, between which Python runs for tens to hundreds of us (the MLP step,
 * 2 threads: ~19 futex calls per step with ~55 us of polling, 0.4 with this; its eager step 1.54-1.69x PyTorch ->
 * 1.70-1.90x, four process pairs on Zen 4). OpenMP runtimes and OpenBLAS poll as long or longer. */
#define SPIN 1600000 /* iterations */

static void *worker(void *arg) {
    int w = (int)(intptr_t)arg;
    for (;;) {
        for (int i = 0; i < SPIN && !__atomic_load_n(&pool.todo[w], __ATOMIC_ACQUIRE); i++) {}
        pthread_mutex_lock(&pool.lock);
        while (!pool.todo[w]) pthread_cond_wait(&pool.wake, &pool.lock);
        job_t *job = pool.todo[w];
        pthread_mutex_unlock(&pool.lock);
        take_tasks(job);
        pthread_mutex_lock(&pool.lock);
        __atomic_store_n(&pool.todo[w], NULL, __ATOMIC_RELAXED);
        if (__atomic_sub_fetch(&pool.remaining, 1, __ATOMIC_RELEASE) == 0) pthread_cond_signal(&pool.done);
        pthread_mutex_unlock(&pool.lock);
    }
    return NULL;
}

static void run_on_pool(job_t *job, int nt) {
    pthread_once(&pool_once, pool_init);
    if (pthread_mutex_trylock(&pool.busy) == 0) {
        pthread_mutex_lock(&pool.lock);
        while (pool.nworkers < nt - 1) {
            pthread_t th;
            if (pthread_create(&th, NULL, worker, (void *)(intptr_t)(pool.nworkers + 1))) break;
            pthread_detach(th);
            pool.nworkers++;
        }
        int given = nt - 1 < pool.nworkers ? nt - 1 : pool.nworkers;
        pool.remaining = given;
        for (int t = 1; t <= given; t++) __atomic_store_n(&pool.todo[t], job, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.lock);
        take_tasks(job);
        for (int i = 0; i < SPIN && __atomic_load_n(&pool.remaining, __ATOMIC_ACQUIRE); i++) {}
        pthread_mutex_lock(&pool.lock);
        while (pool.remaining > 0) pthread_cond_wait(&pool.done, &pool.lock);
        pthread_mutex_unlock(&pool.lock);
        pthread_mutex_unlock(&pool.busy);
        return;
    }
    pthread_t th[AD_MAX_THREADS];
    int started[AD_MAX_THREADS] = {0};
    for (int t = 1; t < nt; t++) started[t] = pthread_create(&th[t], NULL, take_tasks, job) == 0;
    take_tasks(job);
    for (int t = 1; t < nt; t++)
        if (started[t]) pthread_join(th[t], NULL);
}
#endif

void ad_run_tasks(int ntasks, int nt, ad_task_fn task, void *ctx) {
    job_t job = {.n = ntasks, .task = task, .ctx = ctx};
#if AD_THREADS
    if (nt > AD_MAX_THREADS) nt = AD_MAX_THREADS;
    if (nt > 1) {
        run_on_pool(&job, nt);
        return;
    }
#else
    (void)nt;
#endif
    take_tasks(&job);
}

/* ad_parallel_for's ranges, bounded at multiples of 16 items: threads never write the same cache line */
typedef struct {
    int64_t len;
    int n;
    ad_range_fn fn;
    void *ctx;
} ranges_t;

static void run_range(void *arg, int q) {
    ranges_t *r = arg;
    int64_t lo = r->len * q / r->n & ~(int64_t)15;
    int64_t hi = q == r->n - 1 ? r->len : r->len * (q + 1) / r->n & ~(int64_t)15;
    if (hi > lo) r->fn(r->ctx, lo, hi);
}

void ad_parallel_for(int64_t len, int64_t min_per_thread, ad_range_fn fn, void *ctx) {
    int64_t nt = ad_get_num_threads();
    if (len / min_per_thread < nt) nt = len / min_per_thread;
    if (nt > 1) {
        ranges_t r = {.len = len, .n = (int)nt * AD_TASKS_PER_THREAD, .fn = fn, .ctx = ctx};
        ad_run_tasks(r.n, (int)nt, run_range, &r);
        return;
    }
    fn(ctx, 0, len);
}

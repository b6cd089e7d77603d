/* micro_keys.c -- per-request cost of the client-key checks: keys_admit
 * (hash lookup of the secret, every limit, counting) + keys_finish (token
 * windows, day/month counters), with N keys in the table, each with every
 * limit set.  Single thread, then 4 threads on 4 different keys.
 * Run: micro_keys [N]   (build: see the comment in bench/pool429.sh or
 *   cc -O2 -std=gnu11 -D_GNU_SOURCE -Idaemon -Icommon bench/micro_keys.c -o micro_keys \
 *      build/daemon/libgemcore.a build/daemon/libgemstore.a build/common/libggcommon.a \
 *      -lcjson -lcrypto -lcurl -lmicrohttpd -lpq -lsqlite3 -lz -lpthread) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gg_time.h"
#include "keys.h"

#define ITERS 1000000

static char (*secrets)[KEY_SECRET_LEN + 1];
static int nkeys;

static void *worker(void *arg)
{
    int base = (int)(intptr_t)arg;
    for (int i = 0; i < ITERS; i++) {
        struct key_ticket t;
        struct key_denial d;
        const char *s = secrets[(base + i * 7) % nkeys];
        if (keys_admit(s, "gemini-2.5-flash", gg_now_ms(), &t, &d) != KEY_OK) {
            fprintf(stderr, "denied: %s\n", d.message);
            exit(1);
        }
        keys_finish(&t, "gemini-2.5-flash", 40, 120, false, gg_now_ms());
    }
    return NULL;
}

int main(int argc, char **argv)
{
    nkeys = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 1000;
    if (nkeys < 1)
        nkeys = 1;
    secrets = calloc((size_t)nkeys, sizeof(*secrets));
    if (!secrets)
        return 1;
    struct key_limits lim = {
                             .rpm = 10000, .tpm = 1000000000, .tokens_day = 1000000000000LL,
                             .tokens_month = 1000000000000LL, .max_concurrent = 100};
    snprintf(lim.models, sizeof(lim.models), "gemini-2.5-*,gemini-3-*");
    /* high enough never to refuse the 5 * ITERS requests of the run (the
     * exact window keeps one slot per allowed request: up to 100,000) */
    lim.rpm = 5LL * ITERS / nkeys + 1000;
    if (lim.rpm > 100000)
        lim.rpm = 0;
    for (int i = 0; i < nkeys; i++) {
        struct key_info k;
        char err[128], name[32];
        snprintf(name, sizeof(name), "key-%d", i);
        if (keys_create(name, NULL, 0, &lim, &k, secrets[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "create: %s\n", err);
            return 1;
        }
    }
    struct timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    int64_t t0 = gg_mono_us();
    worker((void *)(intptr_t)0);
    int64_t dt = gg_mono_us() - t0;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    double cpu_ns = (double)(c1.tv_sec - c0.tv_sec) * 1e9 + (double)(c1.tv_nsec - c0.tv_nsec);
    /* CPU time is the number to quote on a loaded machine */
    printf("keys=%d admit+finish, 1 thread: %.0f ns/request CPU (%.0f ns wall)\n", nkeys, cpu_ns / ITERS,
           dt * 1000.0 / ITERS);
    pthread_t th[4];
    t0 = gg_mono_us();
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, worker, (void *)(intptr_t)(i * 251));
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    dt = gg_mono_us() - t0;
    printf("keys=%d admit+finish, 4 threads: %.0f ns/request (wall, %d requests)\n", nkeys,
           dt * 1000.0 / (4.0 * ITERS), 4 * ITERS);
    keys_free();
    free(secrets);
    return 0;
}

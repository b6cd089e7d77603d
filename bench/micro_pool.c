/* micro_pool.c -- cost of one account selection + release (pool_acquire /
 * pool_release) with N accounts, per strategy.  Run: micro_pool [N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gg_time.h"
#include "pool.h"
#include "store.h"

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10;
    struct settings set;
    memset(&set, 0, sizeof(set));
    set.cooldown_429 = 60;
    set.cooldown_429_max = 3600;
    set.cooldown_error = 20;
    if (config_install(&set) != 0)
        return 1;
    pool_init();
    for (int i = 1; i <= n; i++) {
        char cs[32], cfgid[32];
        snprintf(cs, sizeof(cs), "%d", 100000 + i);
        snprintf(cfgid, sizeof(cfgid), "cfg-%d", i);
        struct store_account a = {.id = i, .name = cs, .secure_c_ses = "CSE.x", .csesidx = cs,
                                  .config_id = cfgid, .is_active = true, .status = "active"};
        pool_add(&a, false);
    }
    const char *names[] = {"failover", "round_robin", "least_used"};
    for (int st = 0; st < 3; st++) {
        set.strategy = st;
        if (config_install(&set) != 0)
            return 1;
        const int iters = 2000000;
        int64_t t0 = gg_mono_us();
        for (int k = 0; k < iters; k++) {
            int ra;
            bool rl;
            struct account *a = pool_acquire(NULL, 0, &ra, &rl);
            pool_release(a);
        }
        int64_t dt = gg_mono_us() - t0;
        printf("accounts=%d strategy=%-11s acquire+release: %.1f ns\n", n, names[st], dt * 1000.0 / iters);
    }
    pool_shutdown();
    return 0;
}

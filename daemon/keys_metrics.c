/* keys_metrics.c -- the client keys' lines of /metrics (see keys.h,
 * keys_metrics): by key name, never the secret; counted since start. */
#include <stdlib.h>

#include "gg_buf.h"
#include "keys.h"

/* A Prometheus label value: backslash and quote escaped (names hold no
 * control characters). */
static void label(struct gg_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            gg_buf_addc(b, '\\');
        gg_buf_addc(b, *s);
    }
}

static void family(struct gg_buf *b, const struct key_info *ks, const struct key_usage_now *us, size_t n,
                   const char *name, const char *help, int what)
{
    gg_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < (what == 2 ? 2 : 1); d++) {
            gg_buf_printf(b, "%s{key=\"", name);
            label(b, ks[i].name);
            long long v = what == 0 ? us[i].total_requests : what == 1 ? us[i].total_errors
                          : d ? us[i].total_out : us[i].total_in;
            if (what == 2)
                gg_buf_printf(b, "\",direction=\"%s\"} %lld\n", d ? "out" : "in", v);
            else
                gg_buf_printf(b, "\"} %lld\n", v);
        }
}

void keys_metrics(struct gg_buf *b)
{
    struct key_info *ks;
    struct key_usage_now *us;
    size_t n;
    if (keys_list(&ks, &us, &n) != 0)
        return;
    if (n) {
        family(b, ks, us, n, "gemgate_key_requests_total", "Finished requests by client key (name), since start.", 0);
        family(b, ks, us, n, "gemgate_key_errors_total", "Failed requests by client key (name), since start.", 1);
        family(b, ks, us, n, "gemgate_key_tokens_total", "Estimated tokens by client key (name) and direction.", 2);
    }
    free(ks);
    free(us);
}

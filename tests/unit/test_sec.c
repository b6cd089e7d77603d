/* test_sec.c -- unit tests for issue 16 (security review): log and JSON
 * escaping, secretbox key derivation and context binding, proxy URL
 * masking, the admin key choice and lockout, client addresses behind
 * TRUSTED_PROXIES, the cluster lease table, rate-limit keys that collide,
 * and core dumps switched off. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "auth.h"
#include "config.h"
#include "gg_buf.h"
#include "gg_log.h"
#include "gg_util.h"
#include "leasetab.h"
#include "metrics.h"
#include "secretbox.h"
#include "tinytest.h"

static void test_log_escape(void)
{
    char out[256];
    const char in[] = "a\x1b[31mred\x07\x7f|\xc2\x9b|\x9b|\n\r\t|\xc3\xa9|\xe2\x80\xa6|\xc2\x85";
    gg_log_escape(out, sizeof(out), in, sizeof(in) - 1);
    TT_EQ_STR(out, "a\\x1b[31mred\\x07\\x7f|\\u009b|\\x9b|\\n\\r\\t|\xc3\xa9|\xe2\x80\xa6|\\u0085");
    /* no raw control byte survives, whatever the input */
    char all[256];
    for (int i = 0; i < 255; i++)
        all[i] = (char)(i + 1);
    char big[2048];
    size_t n = gg_log_escape(big, sizeof(big), all, 255);
    TT_EQ_INT(strlen(big), n);
    bool clean = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)big[i];
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f))
            clean = false;
    }
    TT_CHECK(clean);
    /* cut at a whole escape */
    char tiny[6];
    gg_log_escape(tiny, sizeof(tiny), "ab\x1b", 3);
    TT_EQ_STR(tiny, "ab");
}

static void test_json_escape(void)
{
    struct gg_buf b;
    gg_buf_init(&b, 1024);
    const char in[] = "x\x7fy\xc2\x85z\xc3\xa9\x1b";
    TT_EQ_INT(gg_buf_add_json_str(&b, in, sizeof(in) - 1), 0);
    TT_EQ_STR(b.p, "\"x\\u007fy\\u0085z\xc3\xa9\\u001b\"");
    gg_buf_free(&b);
}

static void test_mask_url(void)
{
    char m[256];
    gg_mask_url("http://user:pa55@proxy.example:3128", m, sizeof(m));
    TT_EQ_STR(m, "http://***@proxy.example:3128");
    gg_mask_url("socks5h://only-user@10.0.0.1:1080/path?q=a@b", m, sizeof(m));
    TT_EQ_STR(m, "socks5h://***@10.0.0.1:1080/path?q=a@b");
    gg_mask_url("http://u:p@ss@host:1", m, sizeof(m));
    TT_EQ_STR(m, "http://***@host:1");
    gg_mask_url("http://proxy:8080", m, sizeof(m));
    TT_EQ_STR(m, "http://proxy:8080");
    gg_mask_url(NULL, m, sizeof(m));
    TT_EQ_STR(m, "");
}

static void test_secretbox(void)
{
    char err[200];
    const char *hexkey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    TT_CHECK(secretbox_key_is_random(hexkey, strlen(hexkey)));
    TT_CHECK(secretbox_key_is_random("q3Jx7R0VbN2+gk9ZfT1wYp5Lm8sHc4Ud6eKa0iOjXyA=", 44));
    TT_CHECK(!secretbox_key_is_random("correct horse battery staple", 28));
    TT_CHECK(!secretbox_key_is_random("thisisalongpassphrasewithoutdigitsorcapitals", 44));
    struct secretbox *bx = secretbox_new(hexkey, NULL, err, sizeof(err));
    struct secretbox *bp = secretbox_new("a passphrase", NULL, err, sizeof(err));
    TT_CHECK(bx && bp);
    if (!bx || !bp)
        return;
    char *sealed = NULL, *open = NULL;
    TT_EQ_INT(secretbox_seal(bx, "cookie", "1:a|1:c|secure_c_ses", &sealed, err, sizeof(err)), 0);
    TT_CHECK(sealed && strncmp(sealed, "enc:v2:", 7) == 0);
    TT_EQ_INT(secretbox_open(bx, sealed, "1:a|1:c|secure_c_ses", &open, err, sizeof(err)), 0);
    TT_EQ_STR(open, "cookie");
    free(open);
    TT_EQ_INT(secretbox_open(bx, sealed, "1:b|1:c|secure_c_ses", &open, err, sizeof(err)), -1);
    TT_CHECK(open == NULL);
    TT_EQ_INT(secretbox_open(bx, sealed, "1:a|1:c|host_c_oses", &open, err, sizeof(err)), -1);
    TT_EQ_INT(secretbox_open(bp, sealed, "1:a|1:c|secure_c_ses", &open, err, sizeof(err)), -1);
    TT_CHECK(secretbox_is_current(bx, sealed));
    TT_CHECK(!secretbox_is_current(bp, sealed));
    /* an old key (rotation) still opens */
    struct secretbox *rot = secretbox_new("a passphrase", hexkey, err, sizeof(err));
    TT_EQ_INT(secretbox_open(rot, sealed, "1:a|1:c|secure_c_ses", &open, err, sizeof(err)), 0);
    TT_EQ_STR(open, "cookie");
    free(open);
    TT_CHECK(!secretbox_is_current(rot, sealed));
    /* the kid is not derived from the plain SHA-256 of the key */
    char h1[65], h2[65];
    unsigned char k[32];
    gg_sha256_hex(hexkey, strlen(hexkey), h1);
    for (int i = 0; i < 32; i++) {
        char b2[3] = {h1[2 * i], h1[2 * i + 1], 0};
        k[i] = (unsigned char)strtoul(b2, NULL, 16);
    }
    gg_sha256_hex(k, 32, h2);
    TT_CHECK(strncmp(secretbox_kid(bx), h2, 8) != 0);
    TT_CHECK(strncmp(secretbox_kid(bx), h1, 8) != 0);
    free(sealed);
    secretbox_free(bx);
    secretbox_free(bp);
    secretbox_free(rot);
}

static struct sockaddr_in v4(const char *ip)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &sa.sin_addr);
    return sa;
}

static struct sockaddr_in6 v6(const char *ip)
{
    struct sockaddr_in6 sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip, &sa.sin6_addr);
    return sa;
}

static void test_client_addr(void)
{
    char out[64];
    cfg.trusted_proxies = (char *)"10.0.0.0/8, ::1";
    cfg.api_key = (char *)"k1";
    cfg.admin_key = (char *)"adm";
    auth_reload(NULL);
    struct sockaddr_in a = v4("192.0.2.7");
    auth_client_addr((struct sockaddr *)&a, "1.2.3.4", out);
    TT_EQ_STR(out, "192.0.2.7");                       /* untrusted peer: XFF ignored */
    a = v4("10.1.2.3");
    auth_client_addr((struct sockaddr *)&a, "1.2.3.4", out);
    TT_EQ_STR(out, "1.2.3.4");
    auth_client_addr((struct sockaddr *)&a, "6.6.6.6, 1.2.3.4, 10.9.9.9", out);
    TT_EQ_STR(out, "1.2.3.4");                         /* right-most untrusted hop */
    auth_client_addr((struct sockaddr *)&a, "garbage", out);
    TT_EQ_STR(out, "10.1.2.3");
    auth_client_addr((struct sockaddr *)&a, NULL, out);
    TT_EQ_STR(out, "10.1.2.3");
    auth_client_addr((struct sockaddr *)&a, "[2001:db8:1:2:3:4:5:6]", out);
    TT_EQ_STR(out, "2001:db8:1:2::/64");
    struct sockaddr_in6 b = v6("2001:db8:aa:bb:1:2:3:4");
    auth_client_addr((struct sockaddr *)&b, "1.2.3.4", out);
    TT_EQ_STR(out, "2001:db8:aa:bb::/64");             /* per /64, XFF ignored */
    b = v6("::ffff:192.0.2.9");
    auth_client_addr((struct sockaddr *)&b, NULL, out);
    TT_EQ_STR(out, "192.0.2.9");
    b = v6("::1");
    auth_client_addr((struct sockaddr *)&b, "203.0.113.5:4711", out);
    TT_EQ_STR(out, "203.0.113.5");
    cfg.trusted_proxies = NULL;
    auth_reload(NULL);
    a = v4("10.1.2.3");
    auth_client_addr((struct sockaddr *)&a, "1.2.3.4", out);
    TT_EQ_STR(out, "10.1.2.3");                        /* opt-in only */
}

static void test_admin_key_choice(void)
{
    cfg.admin_key = NULL;
    cfg.api_key = (char *)"only-key";
    auth_reload(NULL);
    TT_EQ_INT(auth_check_admin("only-key", "198.51.100.1"), 0);
    cfg.api_key = (char *)"key-a, key-b,key-c";
    auth_reload(NULL);                   /* prints a generated key (no store) */
    TT_EQ_INT(auth_check_admin("key-a", "198.51.100.2"), -1);
    TT_EQ_INT(auth_check_admin("key-b", "198.51.100.3"), -1);
    TT_EQ_INT(auth_check_admin("key-c", "198.51.100.4"), -1);
    char id[24];
    TT_CHECK(auth_check_api("key-b", id));
    cfg.admin_key = (char *)"adm";
    auth_reload(NULL);
    TT_EQ_INT(auth_check_admin("adm", "198.51.100.5"), 0);
    TT_EQ_INT(auth_check_admin("key-a", "198.51.100.6"), -1);
}

struct par { const char *ip; int r; };
static void *par_bad(void *p)
{
    struct par *x = p;
    x->r = auth_check_admin("wrong", x->ip);
    return NULL;
}

/* The global budget (AUTH_GLOBAL_FAILS) spans this whole test: runs last. */
static void test_lockout(void)
{
    cfg.admin_key = (char *)"adm";
    auth_reload(NULL);
    const char *ip = "203.0.113.50";
    for (int i = 1; i < AUTH_LOCK_FAILS; i++)
        TT_EQ_INT(auth_check_admin("bad", ip), -1);
    TT_EQ_INT(auth_check_admin("adm", ip), 0);     /* the 4th did not lock; success resets */
    for (int i = 1; i <= AUTH_LOCK_FAILS; i++)
        TT_EQ_INT(auth_check_admin("bad", ip), -1);
    TT_CHECK(auth_check_admin("adm", ip) > 0);      /* the 5th locked */

    /* parallel: exactly AUTH_LOCK_FAILS guesses */
    enum { NT = 24 };
    pthread_t th[NT];
    struct par ps[NT];
    for (int i = 0; i < NT; i++) {
        ps[i].ip = "203.0.113.60";
        pthread_create(&th[i], NULL, par_bad, &ps[i]);
    }
    int counted = 0, locked = 0;
    for (int i = 0; i < NT; i++) {
        pthread_join(th[i], NULL);
        counted += ps[i].r == -1;
        locked += ps[i].r > 0;
    }
    TT_EQ_INT(counted, AUTH_LOCK_FAILS);
    TT_EQ_INT(locked, NT - AUTH_LOCK_FAILS);

    /* many sources: the global budget caps the guesses; the locked address
     * stays locked (never evicted); a recently good address still gets in */
    int guesses = 0;
    char src[64];
    for (int i = 0; i < 3000; i++) {
        snprintf(src, sizeof(src), "198.18.%d.%d", i / 250, i % 250 + 1);
        guesses += auth_check_admin("spray", src) == -1;
    }
    /* used before: 4 + 5 (one address) + 5 (parallel) + 3 + 1 (key choice) */
    TT_EQ_INT(guesses, AUTH_GLOBAL_FAILS - 18);
    TT_CHECK(auth_check_admin("adm", ip) > 0);
    TT_CHECK(auth_check_admin("adm", "198.18.200.1") > 0);       /* unknown: waits */
    TT_EQ_INT(auth_check_admin("adm", "198.51.100.5"), 0);       /* logged in before */
    TT_CHECK(auth_check_admin("wrong", "198.51.100.5") == -1);   /* and is still counted */
}

static void test_leasetab(void)
{
    struct leasetab t = {0};
    for (int64_t id = 1; id <= 10000; id++) {
        uint64_t *m = leasetab_get(&t, id, true);
        TT_CHECK(m != NULL);
        if (m)
            *m |= 1;
    }
    TT_EQ_INT(t.n, 10000);                       /* past 4096: no limit */
    TT_CHECK(leasetab_get(&t, 9999, false) && *leasetab_get(&t, 9999, false) == 1);
    for (int64_t id = 1; id <= 10000; id++) {
        *leasetab_get(&t, id, false) = 0;
        leasetab_prune(&t, id);
    }
    TT_EQ_INT(t.n, 0);                           /* idle accounts are forgotten */
    uint64_t *m = leasetab_get(&t, 5, true);
    *m = 2;
    leasetab_prune(&t, 5);
    TT_EQ_INT(t.n, 1);                           /* held: kept */
    leasetab_free(&t);
}

static unsigned fnv(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void test_ratelimit_collisions(void)
{
    /* two keys that shared a slot in the old 256-entry table */
    char k1[24] = "kcollide0", k2[24] = "";
    for (int i = 1; i < 100000 && !k2[0]; i++) {
        char c[24];
        snprintf(c, sizeof(c), "kcollide%d", i);
        if (fnv(c) % 256 == fnv(k1) % 256 && fnv(c) % 4096 == fnv(k1) % 4096)
            snprintf(k2, sizeof(k2), "%s", c);
    }
    TT_CHECK(k2[0] != '\0');
    cfg.rate_limit_rpm = 3;
    TT_CHECK(!metrics_rate_limited(k1));
    TT_CHECK(!metrics_rate_limited(k1));
    TT_CHECK(!metrics_rate_limited(k2));
    TT_CHECK(!metrics_rate_limited(k1));
    TT_CHECK(metrics_rate_limited(k1));          /* the 4th of k1: k2 did not reset it */
    TT_CHECK(!metrics_rate_limited(k2));
    TT_CHECK(!metrics_rate_limited(k2));
    TT_CHECK(metrics_rate_limited(k2));
    cfg.rate_limit_rpm = 0;
}

static void test_no_core_dumps(void)
{
    unsetenv("GEMGATE_ALLOW_CORE");
    TT_EQ_INT(auth_harden_process(NULL), 0);
    struct rlimit rl;
    TT_EQ_INT(getrlimit(RLIMIT_CORE, &rl), 0);
    TT_EQ_INT(rl.rlim_cur, 0);
    TT_EQ_INT(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
}

int main(void)
{
    gg_log_level = GG_LOG_ERROR;
    TT_RUN(test_log_escape);
    TT_RUN(test_json_escape);
    TT_RUN(test_mask_url);
    TT_RUN(test_secretbox);
    TT_RUN(test_client_addr);
    TT_RUN(test_admin_key_choice);
    TT_RUN(test_lockout);
    TT_RUN(test_leasetab);
    TT_RUN(test_ratelimit_collisions);
    TT_RUN(test_no_core_dumps);
    auth_free();
    return TT_REPORT();
}

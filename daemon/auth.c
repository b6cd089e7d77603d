/* auth.c -- see auth.h */
#include "auth.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "gg_log.h"
#include "gg_time.h"
#include "gg_util.h"
#include "store.h"

#define MAX_KEYS 64
#define MAX_PROXIES 32
#define LOCK_WINDOW_MS (10 * 60 * 1000)
#define LOCK_TIME_MS (15 * 60 * 1000)
#define LOCK_SLOTS 1024
#define GOOD_SLOTS 64
#define GOOD_TTL_MS (24 * 3600 * 1000)
#define ADMIN_HASH_KEY "admin_key_sha256"

struct cidr { int family; unsigned char addr[16]; int bits; };

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static char *api_keys[MAX_KEYS];
static int n_api;
static char admin_hash[65];        /* sha256 hex of the admin key */
static struct cidr proxies[MAX_PROXIES];
static int n_proxies;

struct fail_slot { char ip[64]; int fails; int64_t first_ms, locked_until; };
struct good_slot { char ip[64]; int64_t until; };
static pthread_mutex_t fail_mu = PTHREAD_MUTEX_INITIALIZER;
static struct fail_slot slots[LOCK_SLOTS];
static struct good_slot good[GOOD_SLOTS];
static int g_fails;                /* bad keys in the global window */
static int64_t g_first_ms;         /* start of the global window */

void auth_free(void)
{
    pthread_rwlock_wrlock(&lock);
    for (int i = 0; i < n_api; i++) {
        free(api_keys[i]);
        api_keys[i] = NULL;
    }
    n_api = 0;
    pthread_rwlock_unlock(&lock);
}

/* Parse "a.b.c.d[/n]" or "v6[/n]"; 0 or -1. */
static int parse_cidr(const char *s, struct cidr *c)
{
    char buf[80];
    snprintf(buf, sizeof(buf), "%s", s);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash++ = '\0';
    memset(c, 0, sizeof(*c));
    if (inet_pton(AF_INET, buf, c->addr) == 1) {
        c->family = AF_INET;
        c->bits = 32;
    } else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
        c->family = AF_INET6;
        c->bits = 128;
    } else {
        return -1;
    }
    if (slash) {
        long long b;
        if (gg_parse_int(slash, 0, c->bits, &b) != 0)
            return -1;
        c->bits = (int)b;
    }
    return 0;
}

static bool cidr_match(const struct cidr *c, int family, const unsigned char *a)
{
    if (c->family != family)
        return false;
    int full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(c->addr, a, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char m = (unsigned char)(0xff << (8 - rest));
    return (c->addr[full] & m) == (a[full] & m);
}

/* A generated admin key: "gga-" + 48 hex chars; its hash into hash[65]. */
static void gen_admin_key(char key[64], char hash[65])
{
    char gen[49];
    gg_random_hex(gen, 24);
    snprintf(key, 64, "gga-%s", gen);
    gg_sha256_hex(key, strlen(key), hash);
}

int auth_new_admin_key(struct store *st)
{
    char key[64], hash[65];
    gen_admin_key(key, hash);
    if (!st || store_kv_put(st, ADMIN_HASH_KEY, hash) != STORE_OK) {
        fprintf(stderr, "gemgated: cannot store the new admin key: %s\n", store_last_error());
        return -1;
    }
    printf("%s\n", key);
    fprintf(stderr, "gemgated: new admin key stored (hashed); the previous generated key no longer "
                    "works (restart or SIGHUP running daemons). ADMIN_KEY, when set, takes precedence.\n");
    return 0;
}

int auth_reload(struct store *st)
{
    char *keys[MAX_KEYS];
    int n = 0;
    /* out of memory while copying keys must not leave fewer keys (none =
     * an open API): fail and keep the previous set */
    if (cfg.api_key && *cfg.api_key) {
        char *copy = strdup(cfg.api_key), *save = NULL;
        if (!copy)
            goto nomem;
        for (char *t = strtok_r(copy, ",", &save); t && n < MAX_KEYS; t = strtok_r(NULL, ",", &save)) {
            t = gg_trim(t);
            if (!*t)
                continue;
            keys[n] = strdup(t);
            if (!keys[n]) {
                free(copy);
                goto nomem;
            }
            n++;
        }
        free(copy);
    }
    struct cidr px[MAX_PROXIES];
    int npx = 0;
    if (cfg.trusted_proxies && *cfg.trusted_proxies) {
        char *copy = strdup(cfg.trusted_proxies), *save = NULL;
        if (!copy)
            goto nomem;
        for (char *t = strtok_r(copy, ", ", &save); t && npx < MAX_PROXIES; t = strtok_r(NULL, ", ", &save)) {
            if (parse_cidr(t, &px[npx]) == 0)
                npx++;
            else
                GG_WARN("TRUSTED_PROXIES: ignoring '%s' (want an address or CIDR)", t);
        }
        free(copy);
    }
    char hash[65] = "";
    if (cfg.admin_key && *cfg.admin_key) {
        gg_sha256_hex(cfg.admin_key, strlen(cfg.admin_key), hash);
    } else if (n == 1) {
        gg_sha256_hex(keys[0], strlen(keys[0]), hash);
        GG_WARN("admin API: ADMIN_KEY is not set, so the API key also opens the admin API; "
                "setting a separate ADMIN_KEY is recommended");
    } else {
        char *stored = NULL;
        if (st && store_kv_get(st, ADMIN_HASH_KEY, &stored) == STORE_OK && stored && strlen(stored) == 64) {
            snprintf(hash, sizeof(hash), "%s", stored);
            GG_INFO("admin key: using the generated key stored (hashed) in the database "
                    "(`gemgated --new-admin-key` makes a new one)");
        } else {
            char key[64];
            gen_admin_key(key, hash);
            if (st)
                store_kv_put(st, ADMIN_HASH_KEY, hash);
            /* printed once, on purpose: this is how the operator learns it */
            fprintf(stderr, "\n  gemgate: %s; generated admin key: %s\n"
                            "  (stored hashed; it will not be shown again; `gemgated --new-admin-key` "
                            "replaces it)\n\n",
                    n == 0 ? "no ADMIN_KEY or API_KEY set"
                           : "several API_KEYs and no ADMIN_KEY set (client keys never open the admin API)",
                    key);
        }
        free(stored);
    }
    pthread_rwlock_wrlock(&lock);
    for (int i = 0; i < n_api; i++)
        free(api_keys[i]);
    for (int i = 0; i < n; i++)
        api_keys[i] = keys[i];
    n_api = n;
    memcpy(admin_hash, hash, sizeof(admin_hash));
    memcpy(proxies, px, sizeof(px[0]) * (size_t)npx);
    n_proxies = npx;
    pthread_rwlock_unlock(&lock);
    if (n == 0)
        GG_WARN("API_KEY is not set: the OpenAI API accepts requests without a key");
    return 0;
nomem:
    for (int i = 0; i < n; i++) {
        memset(keys[i], 0, strlen(keys[i]));
        free(keys[i]);
    }
    GG_ERROR("auth: out of memory while loading keys; the previous keys stay in force");
    return -1;
}

bool auth_api_required(void)
{
    pthread_rwlock_rdlock(&lock);
    bool r = n_api > 0;
    pthread_rwlock_unlock(&lock);
    return r;
}

bool auth_check_api(const char *token, char key_id[24])
{
    bool ok = false;
    pthread_rwlock_rdlock(&lock);
    if (n_api == 0) {
        ok = true;
        snprintf(key_id, 24, "anonymous");
    } else if (token) {
        size_t tl = strlen(token);
        for (int i = 0; i < n_api; i++)
            if (gg_ct_equal(token, tl, api_keys[i], strlen(api_keys[i]))) {
                ok = true;
                char h[65];
                gg_sha256_hex(api_keys[i], strlen(api_keys[i]), h);
                snprintf(key_id, 24, "k%.16s", h);
            }
    }
    pthread_rwlock_unlock(&lock);
    return ok;
}

/* ---- client address ----------------------------------------------------- */

/* Normalised lockout key of a raw address. */
static void addr_key(int family, const unsigned char *a, char out[64])
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (family == AF_INET6 && memcmp(a, mapped, 12) == 0) {
        family = AF_INET;
        a += 12;
    }
    if (family == AF_INET) {
        inet_ntop(AF_INET, a, out, 64);
        return;
    }
    unsigned char p[16] = {0};
    memcpy(p, a, 8);
    char s[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, p, s, sizeof(s));
    snprintf(out, 64, "%s/64", s);
}

static bool is_trusted(int family, const unsigned char *a)
{
    for (int i = 0; i < n_proxies; i++)
        if (cidr_match(&proxies[i], family, a))
            return true;
    return false;
}

/* Parse one X-Forwarded-For item (may carry spaces, brackets or an IPv4
 * port).  0 or -1. */
static int parse_xff_item(const char *s, size_t n, int *family, unsigned char a[16])
{
    char buf[64];
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *p = buf;
    if (*p == '[') {
        char *e = strchr(p, ']');
        if (!e)
            return -1;
        *e = '\0';
        p++;
    }
    if (inet_pton(AF_INET6, p, a) == 1) {
        *family = AF_INET6;
        return 0;
    }
    char *colon = strchr(p, ':');
    if (colon)
        *colon = '\0';
    if (inet_pton(AF_INET, p, a) == 1) {
        *family = AF_INET;
        return 0;
    }
    return -1;
}

void auth_client_addr(const struct sockaddr *peer, const char *xff, char out[64])
{
    int family = 0;
    unsigned char a[16];
    out[0] = '\0';
    if (!peer)
        return;
    if (peer->sa_family == AF_INET) {
        family = AF_INET;
        memcpy(a, &((const struct sockaddr_in *)peer)->sin_addr, 4);
    } else if (peer->sa_family == AF_INET6) {
        family = AF_INET6;
        memcpy(a, &((const struct sockaddr_in6 *)peer)->sin6_addr, 16);
    } else {
        return;
    }
    pthread_rwlock_rdlock(&lock);
    if (xff && *xff && is_trusted(family, a)) {
        /* walk from the right: the first address not a trusted proxy is the client */
        size_t end = strlen(xff);
        while (end > 0) {
            size_t start = end;
            while (start > 0 && xff[start - 1] != ',')
                start--;
            int f2;
            unsigned char a2[16];
            if (parse_xff_item(xff + start, end - start, &f2, a2) != 0)
                break;               /* garbage: keep the last good address */
            family = f2;
            memcpy(a, a2, 16);
            if (!is_trusted(f2, a2))
                break;
            end = start > 0 ? start - 1 : 0;
        }
    }
    pthread_rwlock_unlock(&lock);
    addr_key(family, a, out);
}

/* ---- lockout ------------------------------------------------------------ */

static bool slot_live(const struct fail_slot *s, int64_t now)
{
    return s->ip[0] && (s->locked_until > now || now - s->first_ms <= LOCK_WINDOW_MS);
}

/* The slot of ip, or a new one: a free or expired slot, else the live
 * unlocked slot with the oldest window.  Locked slots are never taken.
 * NULL when every slot is locked.  fail_mu held. */
static struct fail_slot *slot_for(const char *ip, bool create, int64_t now)
{
    struct fail_slot *spare = NULL, *oldest = NULL;
    for (int i = 0; i < LOCK_SLOTS; i++) {
        struct fail_slot *s = &slots[i];
        if (s->ip[0] && strcmp(s->ip, ip) == 0)
            return s;
        if (!slot_live(s, now)) {
            if (!spare)
                spare = s;
        } else if (s->locked_until <= now && (!oldest || s->first_ms < oldest->first_ms)) {
            oldest = s;
        }
    }
    if (!create)
        return NULL;
    struct fail_slot *s = spare ? spare : oldest;
    if (!s)
        return NULL;
    memset(s, 0, sizeof(*s));
    snprintf(s->ip, sizeof(s->ip), "%s", ip);
    s->first_ms = now;
    return s;
}

static bool is_good(const char *ip, int64_t now)
{
    for (int i = 0; i < GOOD_SLOTS; i++)
        if (good[i].until > now && strcmp(good[i].ip, ip) == 0)
            return true;
    return false;
}

static void mark_good(const char *ip, int64_t now)
{
    struct good_slot *g = &good[0];
    for (int i = 0; i < GOOD_SLOTS; i++) {
        if (strcmp(good[i].ip, ip) == 0) {
            g = &good[i];
            break;
        }
        if (good[i].until < g->until)
            g = &good[i];
    }
    snprintf(g->ip, sizeof(g->ip), "%s", ip);
    g->until = now + GOOD_TTL_MS;
}

int auth_check_admin(const char *token, const char *ip)
{
    int64_t now = gg_mono_ms();
    if (!ip)
        ip = "";
    /* one critical section: check, compare and count */
    pthread_mutex_lock(&fail_mu);
    int ret;
    struct fail_slot *s = slot_for(ip, false, now);
    if (s && s->locked_until > now) {
        ret = (int)((s->locked_until - now + 999) / 1000);
        goto out;
    }
    if (now - g_first_ms > LOCK_WINDOW_MS) {
        g_first_ms = now;
        g_fails = 0;
    }
    if (g_fails >= AUTH_GLOBAL_FAILS && !is_good(ip, now)) {
        ret = (int)((g_first_ms + LOCK_WINDOW_MS - now + 999) / 1000);
        if (ret < 1)
            ret = 1;
        goto out;
    }
    bool ok = false;
    if (token && *token) {
        char h[65];
        gg_sha256_hex(token, strlen(token), h);
        pthread_rwlock_rdlock(&lock);
        ok = admin_hash[0] && gg_ct_equal(h, 64, admin_hash, strlen(admin_hash));
        pthread_rwlock_unlock(&lock);
    }
    if (ok) {
        if (s)
            memset(s, 0, sizeof(*s));
        mark_good(ip, now);
        ret = 0;
        goto out;
    }
    ret = -1;
    if (++g_fails == AUTH_GLOBAL_FAILS)
        GG_WARN("admin: %d bad admin keys in %d min from all addresses; only addresses that "
                "logged in recently are checked until the window ends",
                g_fails, LOCK_WINDOW_MS / 60000);
    if (!s)
        s = slot_for(ip, true, now);
    if (!s) {                        /* every slot locked: spend the global budget */
        g_fails = AUTH_GLOBAL_FAILS;
        goto out;
    }
    if (now - s->first_ms > LOCK_WINDOW_MS) {
        s->first_ms = now;
        s->fails = 0;
    }
    if (++s->fails >= AUTH_LOCK_FAILS) {
        s->locked_until = now + LOCK_TIME_MS;
        GG_WARN("admin: %s locked out for %d s after %d bad keys", ip, LOCK_TIME_MS / 1000, s->fails);
    }
out:
    pthread_mutex_unlock(&fail_mu);
    return ret;
}

/* ---- process hardening -------------------------------------------------- */

static bool env_has_secret(const char *path)
{
    static const char *const names[] = {"API_KEY=", "ADMIN_KEY=", "SECRET_KEY=", "SECRET_KEY_OLD=",
                                        "SECURE_C_SES=", "HOST_C_OSES=", "DATABASE_URL=", "PROXY="};
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, "export ", 7) == 0)
            p += 7;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            size_t l = strlen(names[i]);
            if (strncmp(p, names[i], l) == 0 && p[l] && p[l] != '\n' && p[l] != '\r')
                found = true;
        }
    }
    fclose(f);
    return found;
}

int auth_harden_process(const char *env_path)
{
    const char *allow = getenv("GEMGATE_ALLOW_CORE");
    if (allow && strcmp(allow, "1") == 0) {
        GG_WARN("GEMGATE_ALLOW_CORE=1: core dumps stay enabled (they may contain keys and cookies)");
    } else {
        struct rlimit rl = {0, 0};
        if (setrlimit(RLIMIT_CORE, &rl) != 0)
            GG_WARN("cannot set RLIMIT_CORE to 0");
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
            GG_WARN("cannot clear the dumpable flag");
    }
    struct stat sb;
    if (env_path && stat(env_path, &sb) == 0 && (sb.st_mode & (S_IRWXG | S_IRWXO))) {
        bool secret = env_has_secret(env_path);
        GG_WARN("%s is %s-readable (mode %03o)%s; run: chmod 600 %s", env_path,
                (sb.st_mode & S_IROTH) ? "world" : "group", (unsigned)(sb.st_mode & 0777),
                secret ? " and holds secrets" : "", env_path);
    }
    return 0;
}

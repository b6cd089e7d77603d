/* models.c -- see models.h */
#include "models.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "gg_time.h"

static const struct model_info catalogue[] = {
    {"gemini-auto", NULL, TOOLS_SEARCH, false},
    {"gemini-2.5-flash", "gemini-2.5-flash", TOOLS_SEARCH, false},
    {"gemini-2.5-pro", "gemini-2.5-pro", TOOLS_SEARCH, false},
    {"gemini-3-flash-preview", "gemini-3-flash-preview", TOOLS_SEARCH, false},
    {"gemini-3-pro-preview", "gemini-3-pro-preview", TOOLS_SEARCH, false},
    {"gemini-3.1-pro-preview", "gemini-3.1-pro-preview", TOOLS_SEARCH, false},
    /* virtual: image generation only (protocol doc §4.1, Dreamy-rain) */
    {"gemini-imagen", NULL, TOOLS_IMAGE, true},
    /* virtual: video generation only (videoGenerationSpec, §4 / §7) */
    {"gemini-veo", NULL, TOOLS_VIDEO, true},
};
#define NCAT (sizeof(catalogue) / sizeof(catalogue[0]))

struct alias { const char *from, *to; };

static const struct alias builtin_aliases[] = {
    {"gpt-4o", "gemini-2.5-flash"},       {"gpt-4o-mini", "gemini-2.5-flash"},
    {"gpt-4.1", "gemini-2.5-pro"},        {"gpt-4.1-mini", "gemini-2.5-flash"},
    {"gpt-4", "gemini-2.5-pro"},          {"gpt-4-turbo", "gemini-2.5-pro"},
    {"gpt-4-vision-preview", "gemini-2.5-flash"}, {"gpt-3.5-turbo", "gemini-2.5-flash"},
    {"o1", "gemini-2.5-pro"},             {"o3", "gemini-3-pro-preview"},
    {"o3-mini", "gemini-2.5-flash"},      {"o4-mini", "gemini-2.5-flash"},
    {"gemini-pro", "gemini-2.5-pro"},     {"gemini-1.5-pro", "gemini-2.5-pro"},
    {"gemini-1.5-flash", "gemini-2.5-flash"}, {"gemini-2.0-flash", "gemini-2.5-flash"},
    {"gemini-2.0-flash-exp", "gemini-2.5-flash"}, {"gemini-3-pro", "gemini-3-pro-preview"},
    {"gemini-3-flash", "gemini-3-flash-preview"}, {"gemini-3.1-pro", "gemini-3.1-pro-preview"},
    {"auto", "gemini-auto"},
};
#define NALIAS (sizeof(builtin_aliases) / sizeof(builtin_aliases[0]))

static pthread_rwlock_t map_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct alias *user_map;   /* owned strings */
static size_t user_map_n;

static const struct model_info *find_exact(const char *id)
{
    for (size_t i = 0; i < NCAT; i++)
        if (strcmp(catalogue[i].id, id) == 0)
            return &catalogue[i];
    return NULL;
}

int models_resolve(const char *requested, struct model_choice *out)
{
    memset(out, 0, sizeof(*out));
    if (!requested || !*requested || strlen(requested) >= sizeof(out->name))
        return -1;
    char base[128];
    snprintf(base, sizeof(base), "%s", requested);
    unsigned add = 0, drop = 0;
    /* suffixes, combinable in any order: -image, -search, -nosearch */
    for (;;) {
        size_t bl = strlen(base);
        if (bl > 9 && strcmp(base + bl - 9, "-nosearch") == 0) {
            base[bl - 9] = '\0';
            drop |= TOOLS_SEARCH;
        } else if (bl > 7 && strcmp(base + bl - 7, "-search") == 0) {
            base[bl - 7] = '\0';
            add |= TOOLS_SEARCH;
        } else if (bl > 6 && strcmp(base + bl - 6, "-image") == 0) {
            base[bl - 6] = '\0';
            add |= TOOLS_IMAGE;
        } else {
            break;
        }
    }
    const struct model_info *m = find_exact(base);
    const char *target = NULL;
    if (!m) {
        pthread_rwlock_rdlock(&map_lock);
        for (size_t i = 0; i < user_map_n && !m; i++)
            if (strcmp(user_map[i].from, base) == 0) {
                m = find_exact(user_map[i].to);
                target = m ? m->id : NULL;
            }
        pthread_rwlock_unlock(&map_lock);
    }
    for (size_t i = 0; !m && i < NALIAS; i++)
        if (strcmp(builtin_aliases[i].from, base) == 0) {
            m = find_exact(builtin_aliases[i].to);
            target = m ? m->id : NULL;
        }
    /* Claude ids as clients send them (claude-sonnet-4-5-20250929,
     * claude-3-5-haiku-latest, ...): haiku -> the newest flash, opus and
     * sonnet -> the strongest pro */
    if (!m && strncmp(base, "claude-", 7) == 0 && (strstr(base, "opus") || strstr(base, "sonnet") || strstr(base, "haiku"))) {
        m = find_exact(strstr(base, "haiku") ? "gemini-3-flash-preview" : "gemini-3.1-pro-preview");
        target = m ? m->id : NULL;
    }
    /* newer or retired Gemini ids not in the catalogue, as Gemini CLI and
     * the Google SDKs send them (gemini-3.5-flash-lite, gemini-2.5-flash-lite,
     * gemini-3.5-pro, ...): by family, like the Claude ids */
    if (!m && strncmp(base, "gemini-", 7) == 0 && (strstr(base, "flash") || strstr(base, "-pro"))) {
        m = find_exact(strstr(base, "flash") ? "gemini-3-flash-preview" : "gemini-3.1-pro-preview");
        target = m ? m->id : NULL;
    }
    if (!m)
        return -1;
    out->model = m;
    out->tools = (m->tools | add) & ~drop;
    out->upgraded = target != NULL;
    snprintf(out->name, sizeof(out->name), "%s", requested);
    return 0;
}

const struct model_info *models_list(size_t *n)
{
    *n = NCAT;
    return catalogue;
}

/* base ids, then <id>-search and <id>-image of every chat model */
static char listed_buf[NCAT * 3][64];
static const char *listed[NCAT * 3];
static size_t listed_n;
static pthread_once_t listed_once = PTHREAD_ONCE_INIT;

static void build_listed(void)
{
    for (size_t i = 0; i < NCAT; i++)
        snprintf(listed_buf[listed_n++], sizeof(listed_buf[0]), "%s", catalogue[i].id);
    for (size_t i = 0; i < NCAT; i++) {
        if (catalogue[i].image_only)
            continue;
        snprintf(listed_buf[listed_n++], sizeof(listed_buf[0]), "%s-search", catalogue[i].id);
        snprintf(listed_buf[listed_n++], sizeof(listed_buf[0]), "%s-image", catalogue[i].id);
    }
    for (size_t i = 0; i < listed_n; i++)
        listed[i] = listed_buf[i];
}

const char *const *models_listed(size_t *n)
{
    pthread_once(&listed_once, build_listed);
    *n = listed_n;
    return listed;
}

void models_names(char *buf, size_t n)
{
    buf[0] = '\0';
    for (size_t i = 0; i < NCAT; i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, n - l, "%s%s", i ? ", " : "", catalogue[i].id);
    }
}

int models_set_map(const char *spec, char *err, size_t errlen)
{
    struct alias *na = NULL;
    size_t nn = 0;
    char *copy = spec ? strdup(spec) : NULL;
    char *save = NULL;
    if (spec && !copy)
        goto nomem;
    for (char *tok = copy ? strtok_r(copy, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        if (!*tok)
            continue;
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !find_exact(eq + 1)) {
            snprintf(err, errlen, "MODEL_MAP: bad entry '%s' (from=to, to must be a catalogue model)", tok);
            for (size_t i = 0; i < nn; i++) { free((char *)na[i].from); free((char *)na[i].to); }
            free(na);
            free(copy);
            return -1;
        }
        *eq = '\0';
        struct alias *t = realloc(na, (nn + 1) * sizeof(*na));
        if (!t)
            goto nomem;
        na = t;
        char *from = strdup(tok);
        char *to = strdup(eq + 1);
        if (!from || !to) {
            free(from);
            free(to);
            goto nomem;
        }
        na[nn].from = from;
        na[nn].to = to;
        nn++;
    }
    free(copy);
    pthread_rwlock_wrlock(&map_lock);
    struct alias *old = user_map;
    size_t oldn = user_map_n;
    user_map = na;
    user_map_n = nn;
    pthread_rwlock_unlock(&map_lock);
    for (size_t i = 0; i < oldn; i++) { free((char *)old[i].from); free((char *)old[i].to); }
    free(old);
    return 0;
nomem:                               /* the map in force stays */
    snprintf(err, errlen, "MODEL_MAP: out of memory");
    for (size_t i = 0; i < nn; i++) { free((char *)na[i].from); free((char *)na[i].to); }
    free(na);
    free(copy);
    return -1;
}

/* ---- models the upstream rejected (issue 18) ------------------------------ */

static pthread_mutex_t unav_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t unav_until[NCAT];          /* wall ms; 0 = available */
static char unav_why[NCAT][160];

static int cat_index(const char *id)
{
    for (size_t i = 0; id && i < NCAT; i++)
        if (strcmp(catalogue[i].id, id) == 0)
            return (int)i;
    return -1;
}

void models_mark_unavailable(const char *id, int64_t ttl_s, const char *why)
{
    int i = cat_index(id);
    if (i < 0 || ttl_s <= 0)
        return;
    pthread_mutex_lock(&unav_lock);
    unav_until[i] = gg_now_ms() + ttl_s * 1000;
    snprintf(unav_why[i], sizeof(unav_why[i]), "%s", why && *why ? why : "not found or not supported");
    pthread_mutex_unlock(&unav_lock);
}

int64_t models_unavailable_left(const char *id)
{
    int i = cat_index(id);
    if (i < 0)
        return 0;
    int64_t now = gg_now_ms();
    pthread_mutex_lock(&unav_lock);
    int64_t left = unav_until[i] > now ? (unav_until[i] - now + 999) / 1000 : 0;
    pthread_mutex_unlock(&unav_lock);
    return left;
}

void models_unavailable_reason(const char *id, char *buf, size_t n)
{
    int i = cat_index(id);
    if (n)
        buf[0] = '\0';
    if (i < 0 || !n)
        return;
    pthread_mutex_lock(&unav_lock);
    if (unav_until[i] > gg_now_ms())
        snprintf(buf, n, "%s", unav_why[i]);
    pthread_mutex_unlock(&unav_lock);
}

void models_annotate(const char *listed_id, cJSON *o)
{
    struct model_choice mc;
    if (models_resolve(listed_id, &mc) != 0 || !mc.model)
        return;
    int i = cat_index(mc.model->id);
    int64_t until = 0, now = gg_now_ms();
    char why[160] = "";
    if (i >= 0) {
        pthread_mutex_lock(&unav_lock);
        if (unav_until[i] > now) {
            until = unav_until[i];
            snprintf(why, sizeof(why), "%s", unav_why[i]);
        }
        pthread_mutex_unlock(&unav_lock);
    }
    cJSON_AddBoolToObject(o, "available", until == 0);
    if (until) {
        char t[40];
        gg_rfc3339(until, t, sizeof(t));
        cJSON_AddStringToObject(o, "unavailable_until", t);
        cJSON_AddStringToObject(o, "unavailable_reason", why);
    }
}

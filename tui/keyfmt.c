/* keyfmt.c -- see keyfmt.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyfmt.h"

#include "gg_time.h"
#include "model.h"
#include "text.h"

/* 950, 12.5k, 100k, 2.0M, 30M */
static void compact(long long v, char *out, size_t n)
{
    if (v >= 10000000LL)
        snprintf(out, n, "%lldM", v / 1000000LL);
    else if (v >= 1000000LL)
        snprintf(out, n, "%.1fM", (double)v / 1e6);
    else if (v >= 100000LL)
        snprintf(out, n, "%lldk", v / 1000LL);
    else if (v >= 10000LL)
        snprintf(out, n, "%.1fk", (double)v / 1e3);
    else
        snprintf(out, n, "%lld", v);
}

const char *kf_state(const cJSON *key, int64_t now_ms)
{
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(key, "enabled")))
        return "disabled";
    int64_t exp = js_time(key, "expires_at");
    if (exp > 0 && exp <= now_ms)
        return "expired";
    return "enabled";
}

static void add(char *out, size_t n, size_t *o, const char *s)
{
    int w = snprintf(out + *o, n - *o, "%s%s", *o ? ", " : "", s);
    if (w > 0)
        *o = (size_t)w + *o >= n ? n - 1 : *o + (size_t)w;
}

void kf_limits(const cJSON *limits, char *out, size_t n)
{
    static const struct { const char *api, *label; } nums[] = {
        { "rpm", "rpm" }, { "tpm", "tpm" }, { "tokens_day", "day" },
        { "tokens_month", "month" }, { "max_concurrent", "conc" },
    };
    char t[600], v[32], clean[520];
    size_t o = 0;
    if (n == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        long long x = js_int(limits, nums[i].api, 0);
        if (x <= 0)
            continue;
        compact(x, v, sizeof(v));
        snprintf(t, sizeof(t), "%s %s", nums[i].label, v);
        add(out, n, &o, t);
    }
    const char *g = js_str(limits, "group");
    if (g && *g) {
        tx_sanitize(g, clean, sizeof(clean));
        snprintf(t, sizeof(t), "group %s", clean);
        add(out, n, &o, t);
    }
    const char *m = js_str(limits, "models");
    if (m && *m) {
        tx_sanitize(m, clean, sizeof(clean));
        snprintf(t, sizeof(t), "models %s", clean);
        add(out, n, &o, t);
    }
    if (!o)
        snprintf(out, n, "unlimited");
}

/* columns: ID NAME PREFIX STATE EXPIRES LIMITS REQ TOKENS ERR FLT */
enum { KC_ID, KC_NAME, KC_PREFIX, KC_STATE, KC_EXP, KC_LIMITS, KC_REQ, KC_TOK, KC_ERR, KC_FLT,
       KC_N };
static const struct { const char *title; int w; bool right; } kcol[KC_N] = {
    { "ID", 4, true }, { "NAME", 0, false }, { "PREFIX", 10, false }, { "STATE", 8, false },
    { "EXPIRES", 10, false }, { "LIMITS", 0, false }, { "REQ", 5, true },
    { "TOKENS", 7, true }, { "ERR", 4, true }, { "FLT", 3, true },
};

static void widths(int cols, int w[KC_N])
{
    int fixed = 0;
    for (int c = 0; c < KC_N; c++) {
        w[c] = kcol[c].w;
        fixed += w[c] + 1;
    }
    int left = cols - fixed;
    if (left < 20)
        left = 20;
    w[KC_NAME] = left * 2 / 5;
    if (w[KC_NAME] > 24)
        w[KC_NAME] = 24;
    w[KC_LIMITS] = left - w[KC_NAME];
}

static void line(const char *cells[KC_N], int cols, char *out, size_t n)
{
    int w[KC_N];
    char cell[512];
    size_t o = 0;
    widths(cols, w);
    out[0] = '\0';
    for (int c = 0; c < KC_N && o + 1 < n; c++) {
        tx_fit(cells[c], w[c], true, kcol[c].right, cell, sizeof(cell));
        int k = snprintf(out + o, n - o, "%s%s", c ? " " : "", cell);
        if (k < 0)
            break;
        o = o + (size_t)k >= n ? n - 1 : o + (size_t)k;
    }
    char cut[2048];
    tx_fit(out, cols, true, false, cut, sizeof(cut));
    snprintf(out, n, "%s", cut);
}

void kf_header(int cols, char *out, size_t n)
{
    const char *cells[KC_N];
    for (int c = 0; c < KC_N; c++)
        cells[c] = kcol[c].title;
    line(cells, cols, out, n);
}

void kf_row(const cJSON *key, int64_t now_ms, int cols, char *out, size_t n)
{
    char id[32], exp[32], lim[600], req[32], tok[32], err[32], flt[32];
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(key, "usage");
    snprintf(id, sizeof(id), "%lld", js_int(key, "id", -1));
    int64_t e = js_time(key, "expires_at");
    if (e <= 0)
        snprintf(exp, sizeof(exp), "never");
    else if (e <= now_ms)
        snprintf(exp, sizeof(exp), "passed");
    else if (e - now_ms > 86400000LL) {
        gg_rfc3339(e, exp, sizeof(exp));
        exp[10] = '\0'; /* the UTC date */
    }
    else
        tx_until(e, now_ms, exp, sizeof(exp));
    kf_limits(cJSON_GetObjectItemCaseSensitive(key, "limits"), lim, sizeof(lim));
    snprintf(req, sizeof(req), "%lld", js_int(u, "day_requests", 0));
    compact(js_int(u, "day_tokens", 0), tok, sizeof(tok));
    snprintf(err, sizeof(err), "%lld", js_int(u, "day_errors", 0));
    snprintf(flt, sizeof(flt), "%lld", js_int(u, "inflight", 0) + js_int(u, "cluster_inflight", 0));
    const char *name = js_str(key, "name"), *prefix = js_str(key, "prefix");
    const char *cells[KC_N] = { id, name ? name : "", prefix ? prefix : "", kf_state(key, now_ms),
                                exp, lim, req, tok, err, flt };
    line(cells, cols, out, n);
}

static int whole(const char *s, long long *v)
{
    char *end;
    errno = 0;
    if (!s || *s < '0' || *s > '9')
        return -1;
    long long x = strtoll(s, &end, 10);
    if (errno || *end || x < 0)
        return -1;
    *v = x;
    return 0;
}

int kf_set_limit(cJSON *limits, const char *name, const char *value, char *why, size_t n)
{
    static const struct { const char *alias, *api; } map[] = {
        { "rpm", "rpm" }, { "tpm", "tpm" }, { "day", "tokens_day" },
        { "tokens_day", "tokens_day" }, { "month", "tokens_month" },
        { "tokens_month", "tokens_month" }, { "concurrent", "max_concurrent" },
        { "max_concurrent", "max_concurrent" }, { "models", "models" }, { "group", "group" },
    };
    const char *api = NULL;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(name, map[i].alias) == 0)
            api = map[i].api;
    if (!api) {
        snprintf(why, n, "unknown limit '%.40s' (rpm, tpm, day, month, concurrent, models, group)",
                 name);
        return -1;
    }
    bool text = strcmp(api, "models") == 0 || strcmp(api, "group") == 0;
    long long v = 0;
    if (!text && whole(value, &v) < 0) {
        snprintf(why, n, "%s: '%.40s' is not a whole number >= 0", name, value);
        return -1; /* limits unchanged */
    }
    cJSON_DeleteItemFromObjectCaseSensitive(limits, api);
    if (text)
        return cJSON_AddStringToObject(limits, api, value) ? 0 : -2;
    return cJSON_AddNumberToObject(limits, api, (double)v) ? 0 : -2;
}

int kf_parse_limits(const char *text, cJSON *limits, char *why, size_t n)
{
    char buf[1024];
    if (strlen(text) >= sizeof(buf)) {
        snprintf(why, n, "limits text too long");
        return -1;
    }
    snprintf(buf, sizeof(buf), "%s", text);
    char *save = NULL;
    for (char *tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            snprintf(why, n, "'%.40s': expected name=value", tok);
            return -1;
        }
        *eq = '\0';
        int rc = kf_set_limit(limits, tok, eq + 1, why, n);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int kf_set_expires(cJSON *body, const char *value)
{
    long long ms;
    cJSON *v;
    cJSON_DeleteItemFromObjectCaseSensitive(body, "expires_at");
    if (!value || !*value || strcmp(value, "never") == 0 || strcmp(value, "0") == 0)
        v = cJSON_AddNullToObject(body, "expires_at");
    else if (whole(value, &ms) == 0)
        v = cJSON_AddNumberToObject(body, "expires_at", (double)ms);
    else
        v = cJSON_AddStringToObject(body, "expires_at", value);
    return v ? 0 : -2;
}

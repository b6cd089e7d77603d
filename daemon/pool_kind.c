/* pool_kind.c -- see pool_kind.h */
#include "pool_kind.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "gg_time.h"

static const char *const kind_names[WK_N] = {"text", "image", "video"};

const char *pool_kind_name(enum work_kind k)
{
    return (unsigned)k < WK_N ? kind_names[k] : "text";
}

static int64_t quota_secs(int64_t fails)
{
    int64_t secs = cfg.cooldown_429;
    for (int64_t k = 0; k < fails && secs < cfg.cooldown_429_max; k++)
        secs *= 2;
    return secs > cfg.cooldown_429_max ? cfg.cooldown_429_max : secs;
}

void pk_rate_limit(struct account *a, enum work_kind kind, enum outcome o, const char *detail, int64_t now)
{
    if ((unsigned)kind >= WK_N)
        kind = WK_TEXT;
    struct kind_cool *k = &a->kcool[kind];
    bool busy = o == OUT_OVERLOADED;
    int64_t secs;
    if (busy) {
        secs = cfg.cooldown_overloaded < cfg.cooldown_429 ? cfg.cooldown_overloaded : cfg.cooldown_429;
    } else {
        /* text keeps the account-wide count (it also counts other failures) */
        secs = quota_secs(kind == WK_TEXT ? a->fail_count : k->fail_count);
        if (kind == WK_TEXT)
            a->fail_count++;
        k->fail_count++;
    }
    k->until_ms = now + secs * 1000;
    snprintf(k->reason, sizeof(k->reason), "429 %s", detail && *detail ? detail
             : busy ? "LLM_OVERLOADED" : "RESOURCE_EXHAUSTED");
    if (kind == WK_TEXT) {
        a->status = ST_COOLDOWN;
        a->until_ms = k->until_ms;
        a->cool_is_text_rl = true;
        snprintf(a->reason, sizeof(a->reason), "%s", k->reason);
    }
}

void pk_ok(struct account *a, enum work_kind kind)
{
    if ((unsigned)kind < WK_N)
        a->kcool[kind].fail_count = 0;
}

bool pk_usable(const struct account *a, enum work_kind kind, int64_t now)
{
    if (!a->is_active)
        return false;
    if (a->status == ST_COOLDOWN) {
        /* a text rate limit does not keep image / video work away */
        if (kind == WK_TEXT || !a->cool_is_text_rl)
            return false;
    } else if (a->status != ST_ACTIVE) {
        return false;
    }
    if (kind != WK_TEXT && (unsigned)kind < WK_N && a->kcool[kind].until_ms > now)
        return false;
    return true;
}

int64_t pk_cooling_until(const struct account *a, enum work_kind kind, int64_t now, bool *rate_limit)
{
    *rate_limit = false;
    if (!a->is_active)
        return 0;
    if (a->status == ST_COOLDOWN && (kind == WK_TEXT || !a->cool_is_text_rl)) {
        *rate_limit = a->cool_is_text_rl || strncmp(a->reason, "429", 3) == 0;
        return a->until_ms;
    }
    if (kind != WK_TEXT && (unsigned)kind < WK_N && a->kcool[kind].until_ms > now &&
        (a->status == ST_ACTIVE || a->status == ST_COOLDOWN)) {
        *rate_limit = true;
        return a->kcool[kind].until_ms;
    }
    return 0;
}

static void add_time(cJSON *o, const char *k, int64_t ms)
{
    if (!ms) {
        cJSON_AddNullToObject(o, k);
        return;
    }
    char t[40];
    gg_rfc3339(ms, t, sizeof(t));
    cJSON_AddStringToObject(o, k, t);
}

void pk_json(cJSON *o, const struct account *a, int64_t now)
{
    cJSON *cd = cJSON_AddObjectToObject(o, "cooldowns");
    for (int i = 0; i < WK_N && cd; i++) {
        const struct kind_cool *k = &a->kcool[i];
        bool on = k->until_ms > now && (i != WK_TEXT || (a->status == ST_COOLDOWN && a->cool_is_text_rl));
        if (!on && k->fail_count == 0)
            continue;
        cJSON *e = cJSON_AddObjectToObject(cd, kind_names[i]);
        if (!e)
            continue;
        add_time(e, "until", on ? k->until_ms : 0);
        if (on)
            cJSON_AddStringToObject(e, "reason", k->reason);
        else
            cJSON_AddNullToObject(e, "reason");
        cJSON_AddNumberToObject(e, "fail_count", (double)k->fail_count);
    }
    add_time(o, "last_signin_at", a->last_signin_ms);
    cJSON_AddNumberToObject(o, "refresh_count", (double)a->refresh_count);
}

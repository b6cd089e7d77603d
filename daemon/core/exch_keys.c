/* exch_keys.c -- see exch_keys.h */
#include "exch_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acct_tags.h"
#include "auth.h"
#include "call.h"
#include "gg_time.h"
#include "http.h"
#include "keys.h"

static void ticket_free(void *p)
{
    struct key_ticket *t = p;
    if (t && t->key_id)
        keys_finish(t, NULL, 0, 0, true, gg_now_ms());
    free(t);
}

static const char *verdict_code(enum key_verdict v)
{
    switch (v) {
    case KEY_UNKNOWN: return "invalid_api_key";
    case KEY_DISABLED: return "api_key_disabled";
    case KEY_EXPIRED: return "api_key_expired";
    case KEY_MODEL: return "model_not_allowed";
    case KEY_DAY:
    case KEY_MONTH: return "insufficient_quota";
    default: return "rate_limit_exceeded";
    }
}

static void deny(struct exch_error *e, const struct key_denial *kd)
{
    enum exch_err_kind kind = kd->status == 401 ? EXCH_ERR_AUTH : kd->status == 403 ? EXCH_ERR_PERMISSION
                                                                                  : EXCH_ERR_RATE_LIMIT;
    const char *code = verdict_code(kd->verdict);
    exch_set_error(e, kd->status, kind, kd->verdict == KEY_MODEL ? "model" : NULL, code, "%s", kd->message);
    e->retry_after = kd->retry_after;
}

int exch_keys_auth(const char *tok, char key_id[24], struct exch_error *e)
{
    bool have = keys_count() > 0;
    if (!have)
        return -1;
    if (!keys_shaped(tok)) {
        if (auth_api_required())
            return -1;               /* a root key, or the usual 401 */
        /* no API_KEY but client keys exist: the gateway is not open */
        struct key_denial kd = {.verdict = KEY_UNKNOWN, .status = 401};
        snprintf(kd.message, sizeof(kd.message), "%s",
                 tok && *tok ? "Incorrect API key provided." : "You didn't provide an API key.");
        deny(e, &kd);
        return 0;
    }
    struct key_ticket t;
    struct key_denial kd;
    if (keys_authenticate(tok, gg_now_ms(), &t, &kd) != KEY_OK) {
        if (kd.verdict == KEY_UNKNOWN && auth_api_required())
            return -1;               /* perhaps a root key of the same shape */
        deny(e, &kd);
        return 0;
    }
    snprintf(key_id, 24, "c%lld", (long long)t.key_id);
    return 1;
}

int exch_keys_admit(struct http_req *r, const char *key_id, struct exch_error *e)
{
    if (key_id[0] != 'c')
        return 1;
    const char *tok = http_bearer(r, "x-api-key");
    if (!tok)
        tok = http_header(r, "x-goog-api-key");     /* as exch_http_auth: Gemini clients */
    if (!tok)
        tok = http_query(r, "key");
    struct key_ticket *t = calloc(1, sizeof(*t));
    if (!t)
        return -1;
    struct key_denial kd;
    if (keys_admit(tok, NULL, gg_now_ms(), t, &kd) != KEY_OK) {
        free(t);
        deny(e, &kd);
        return 0;
    }
    r->state = t;
    r->state_free = ticket_free;
    if (t->group[0] && acct_tags_count(t->group) == 0) {
        exch_set_error(e, 503, EXCH_ERR_OVERLOADED, NULL, "no_available_accounts",
                       "No account carries the tag '%s' that key '%s' is bound to.", t->group, t->name);
        e->retry_after = 30;
        return 0;                    /* the ticket ends as an error in completed */
    }
    return 1;
}

bool exch_keys_check(struct http_req *r, struct call *c, struct exch_error *e)
{
    struct key_ticket *t = r->state_free == ticket_free ? r->state : NULL;
    if (!t || !t->key_id)
        return true;
    const char *resolved = c->req.model.model ? c->req.model.model->id : NULL;
    const char *asked = c->req.model_req;
    struct key_denial kd;
    if (keys_check_model(t, resolved, &kd) != KEY_OK &&
        (!asked || keys_check_model(t, asked, &kd) != KEY_OK)) {
        snprintf(kd.message, sizeof(kd.message), "model '%s' is not allowed for key '%s'",
                 asked ? asked : resolved ? resolved : "", t->name);
        deny(e, &kd);
        return false;
    }
    snprintf(c->group, sizeof(c->group), "%s", t->group);
    return true;
}

void exch_keys_finish(struct http_req *r, const char *model, int64_t tokens_in, int64_t tokens_out, bool error)
{
    struct key_ticket *t = r->state_free == ticket_free ? r->state : NULL;
    if (t && t->key_id)
        keys_finish(t, model, tokens_in, tokens_out, error, gg_now_ms());
}

int exch_keys_http_check(const char *tok, char key_id[24], const char **code, char *msg, size_t msgn)
{
    *code = "invalid_api_key";
    if (keys_count() == 0)
        return -1;
    if (!keys_shaped(tok)) {
        if (auth_api_required())
            return -1;
        snprintf(msg, msgn, "%s", tok && *tok ? "Incorrect API key provided." : "You didn't provide an API key.");
        return 0;
    }
    struct key_ticket t;
    struct key_denial kd;
    if (keys_authenticate(tok, gg_now_ms(), &t, &kd) != KEY_OK) {
        if (kd.verdict == KEY_UNKNOWN && auth_api_required())
            return -1;
        *code = verdict_code(kd.verdict);
        snprintf(msg, msgn, "%s", kd.message);
        return 0;
    }
    snprintf(key_id, 24, "c%lld", (long long)t.key_id);
    return 1;
}

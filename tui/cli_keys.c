/* cli_keys.c -- the client-key commands of the non-interactive mode
 * (cli.h: cli_keys_run).  Output rules as in cli.c: server text escaped,
 * exit 0 ok, 1 API error, 2 usage error, 3 cannot connect, 4 auth failed.
 * The secret of a new key is printed once on stdout and kept nowhere. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#include "esc.h"
#include "gg_time.h"
#include "keyfmt.h"
#include "model.h"
#include "text.h"

#define EX_OK 0
#define EX_API 1
#define EX_USAGE 2
#define KEYS_WIDTH 150            /* wide enough for most limit lists */

static const char *safe(const char *s, const char *def, char *buf, size_t n)
{
    esc_text(s ? s : def, buf, n);
    return buf;
}

static void rstrip(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        s[--n] = '\0';
}

static int parse_id(const char *s, long long *id)
{
    char *end;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : -1;
    if (!s || !*s || errno || *end || v < 0) {
        fprintf(stderr, "gemctl-tui: invalid key id '%s' (expected a number)\n", s ? s : "");
        return -1;
    }
    *id = v;
    return 0;
}

static int do_keys(struct gg_admin_client *c, bool json)
{
    struct gg_admin_error err;
    char line[4096];
    cJSON *r = gg_admin_keys_list(c, &err);
    if (!r)
        return cli_fail(c, &err);
    int rc = EX_OK;
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(r, "keys");
    if (json) {
        rc = cli_print_json(r);
    } else if (!cJSON_IsArray(keys)) {
        fprintf(stderr, "gemctl-tui: unexpected reply (no \"keys\" array)\n");
        rc = EX_API;
    } else {
        int64_t now = gg_now_ms();
        const cJSON *k;
        kf_header(KEYS_WIDTH, line, sizeof(line));
        rstrip(line);
        printf("%s\n", line);
        cJSON_ArrayForEach(k, keys) {
            kf_row(k, now, KEYS_WIDTH, line, sizeof(line));
            rstrip(line);
            printf("%s\n", line);
        }
    }
    cJSON_Delete(r);
    return rc;
}

/* limits / note / expires options into body; returns 0, or an exit status */
static int build_body(const struct cli_key_opts *k, cJSON *body)
{
    const struct { const char *name, *val; } lim[] = {
        { "rpm", k->rpm }, { "tpm", k->tpm }, { "day", k->day }, { "month", k->month },
        { "concurrent", k->concurrent }, { "models", k->models }, { "group", k->group },
    };
    char why[200];
    cJSON *limits = cJSON_AddObjectToObject(body, "limits");
    if (!limits)
        goto nomem;
    for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
        if (!lim[i].val)
            continue;
        int rc = kf_set_limit(limits, lim[i].name, lim[i].val, why, sizeof(why));
        if (rc == -2)
            goto nomem;
        if (rc < 0) {
            fprintf(stderr, "gemctl-tui: --%s\n", why);
            return EX_USAGE;
        }
    }
    if (k->note && !cJSON_AddStringToObject(body, "note", k->note))
        goto nomem;
    if (k->expires && kf_set_expires(body, k->expires) < 0)
        goto nomem;
    return EX_OK;
nomem:
    fprintf(stderr, "gemctl-tui: out of memory\n");
    return EX_API;
}

static int print_key_line(const cJSON *key, const char *what)
{
    char name[300], prefix[64], lim[700];
    kf_limits(cJSON_GetObjectItemCaseSensitive(key, "limits"), lim, sizeof(lim));
    printf("#%lld %s (%s): %s, state %s, limits: %s\n", js_int(key, "id", -1),
           safe(js_str(key, "name"), "", name, sizeof(name)),
           safe(js_str(key, "prefix"), "?", prefix, sizeof(prefix)), what,
           kf_state(key, gg_now_ms()), lim);
    return EX_OK;
}

static int do_new_key(struct gg_admin_client *c, const struct cli_opts *o)
{
    struct gg_admin_error err;
    cJSON *body = cJSON_CreateObject();
    if (!body || !cJSON_AddStringToObject(body, "name", o->arg)) {
        cJSON_Delete(body);
        fprintf(stderr, "gemctl-tui: out of memory\n");
        return EX_API;
    }
    int rc = build_body(&o->k, body);
    if (rc != EX_OK) {
        cJSON_Delete(body);
        return rc;
    }
    cJSON *r = gg_admin_key_create(c, body, &err);
    cJSON_Delete(body);
    if (!r)
        return cli_fail(c, &err);
    const char *secret = js_str(r, "secret");
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(r, "key");
    char sec[200];
    if (!secret || !cJSON_IsObject(key)) {
        fprintf(stderr, "gemctl-tui: unexpected reply (no \"secret\" or \"key\")\n");
        rc = EX_API;
    } else if (o->json) {
        rc = cli_print_json(r);
    } else if (o->k.quiet) {
        printf("%s\n", safe(secret, "", sec, sizeof(sec)));
    } else {
        print_key_line(key, "created");
        printf("secret: %s\n", safe(secret, "", sec, sizeof(sec)));
        printf("This is the only time the secret is shown: store it now.\n");
    }
    cJSON_Delete(r);
    return rc;
}

static int do_key_op(struct gg_admin_client *c, const struct cli_opts *o)
{
    struct gg_admin_error err;
    long long id;
    cJSON *r = NULL, *body = NULL;
    const char *what = "updated";
    int rc = EX_OK;
    if (parse_id(o->arg, &id) < 0)
        return EX_USAGE;
    if (strcmp(o->cmd, "key-delete") == 0) {
        r = gg_admin_key_delete(c, id, &err);
    } else {
        body = cJSON_CreateObject();
        if (!body) {
            fprintf(stderr, "gemctl-tui: out of memory\n");
            return EX_API;
        }
        if (strcmp(o->cmd, "key-edit") == 0) {
            rc = build_body(&o->k, body);
        } else {
            bool on = strcmp(o->cmd, "key-enable") == 0;
            what = on ? "enabled" : "disabled";
            if (!cJSON_AddBoolToObject(body, "enabled", on)) {
                fprintf(stderr, "gemctl-tui: out of memory\n");
                rc = EX_API;
            }
        }
        if (rc == EX_OK)
            r = gg_admin_key_update(c, id, body, &err);
        cJSON_Delete(body);
        if (rc != EX_OK)
            return rc;
    }
    if (!r)
        return cli_fail(c, &err);
    if (o->json)
        rc = cli_print_json(r);
    else if (strcmp(o->cmd, "key-delete") == 0)
        printf("key #%lld deleted\n", id);
    else
        rc = print_key_line(r, what);
    cJSON_Delete(r);
    return rc;
}

static int do_key_usage(struct gg_admin_client *c, const struct cli_opts *o)
{
    struct gg_admin_error err;
    long long id, days = 0;
    char *end;
    if (parse_id(o->arg, &id) < 0)
        return EX_USAGE;
    if (o->k.days) {
        errno = 0;
        days = strtoll(o->k.days, &end, 10);
        if (errno || *end || days < 1 || days > 400) {
            fprintf(stderr, "gemctl-tui: --days must be 1..400\n");
            return EX_USAGE;
        }
    }
    cJSON *r = gg_admin_key_usage(c, id, (int)days, &err);
    if (!r)
        return cli_fail(c, &err);
    int rc = EX_OK;
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(r, "days");
    if (o->json) {
        rc = cli_print_json(r);
    } else if (!cJSON_IsArray(rows)) {
        fprintf(stderr, "gemctl-tui: unexpected reply (no \"days\" array)\n");
        rc = EX_API;
    } else {
        const cJSON *d;
        char day[64], model[200];
        long long tr = 0, te = 0, ti = 0, to = 0;
        printf("%-10s %-32s %8s %6s %10s %10s\n", "DAY", "MODEL", "REQ", "ERR", "TOK IN",
               "TOK OUT");
        cJSON_ArrayForEach(d, rows) {
            tx_fit(js_str(d, "day"), 10, true, false, day, sizeof(day));
            const char *mn = js_str(d, "model");
            tx_fit(mn && *mn ? mn : "-", 32, true, false, model, sizeof(model));
            long long rq = js_int(d, "requests", 0), er = js_int(d, "errors", 0);
            long long in = js_int(d, "tokens_in", 0), out = js_int(d, "tokens_out", 0);
            printf("%s %s %8lld %6lld %10lld %10lld\n", day, model, rq, er, in, out);
            tr += rq;
            te += er;
            ti += in;
            to += out;
        }
        printf("%-10s %-32s %8lld %6lld %10lld %10lld\n", "total", "", tr, te, ti, to);
    }
    cJSON_Delete(r);
    return rc;
}

int cli_keys_run(struct gg_admin_client *c, const struct cli_opts *o)
{
    if (strcmp(o->cmd, "keys") == 0)
        return do_keys(c, o->json);
    if (strcmp(o->cmd, "new-key") == 0)
        return do_new_key(c, o);
    if (strcmp(o->cmd, "key-usage") == 0)
        return do_key_usage(c, o);
    return do_key_op(c, o);
}

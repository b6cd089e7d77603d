/* cli.c -- non-interactive mode: one admin call, output on stdout, errors
 * on stderr, and an exit status scripts can rely on:
 *   0 ok, 1 API error, 2 usage error, 3 cannot connect, 4 auth failed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#include "esc.h"
#include "gg_time.h"
#include "model.h"
#include "text.h"

#define EX_OK 0
#define EX_API 1
#define EX_USAGE 2
#define EX_CONNECT 3
#define EX_AUTH 4

#define CLI_WIDTH 100
#define IMPORT_MAX (8u * 1024 * 1024)

/* Server-supplied text made printable (esc.h); NULL gives def. */
static const char *safe(const char *s, const char *def, char *buf, size_t n)
{
    esc_text(s ? s : def, buf, n);
    return buf;
}

int cli_fail(const struct gg_admin_client *c, const struct gg_admin_error *err)
{
    char msg[700], shown[2800];
    gg_admin_strerror(err, c->base_url, msg, sizeof(msg));
    fprintf(stderr, "gemctl-tui: %s\n", safe(msg, "", shown, sizeof(shown)));
    switch (err->kind) {
    case GG_ADMIN_E_CONNECT: return EX_CONNECT;
    case GG_ADMIN_E_AUTH:
    case GG_ADMIN_E_LOCKED: return EX_AUTH;
    case GG_ADMIN_E_ARG: return EX_USAGE;
    default: return EX_API;
    }
}

int cli_print_json(const cJSON *j)
{
    struct gg_buf b;
    gg_buf_init(&b, 256u * 1024 * 1024);
    if (esc_json(j, true, &b) < 0) {
        gg_buf_free(&b);
        fprintf(stderr, "gemctl-tui: out of memory\n");
        return EX_API;
    }
    printf("%s\n", b.p ? b.p : "null");
    gg_buf_free(&b);
    return EX_OK;
}

static void rstrip(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == ' ')
        s[--n] = '\0';
}

static int do_list(struct gg_admin_client *c, bool json)
{
    struct gg_admin_error err;
    struct acct_list l;
    char line[4096];
    cJSON *r = gg_admin_accounts_list(c, NULL, NULL, &err);
    if (!r)
        return cli_fail(c, &err);
    if (json) {
        int rc = cli_print_json(r);
        cJSON_Delete(r);
        return rc;
    }
    acct_list_init(&l);
    if (acct_list_set(&l, cJSON_DetachItemFromObjectCaseSensitive(r, "accounts")) < 0) {
        cJSON_Delete(r);
        acct_list_free(&l);
        fprintf(stderr, "gemctl-tui: unexpected reply (no \"accounts\" array)\n");
        return EX_API;
    }
    cJSON_Delete(r);
    acct_format_header(CLI_WIDTH, AC_ID, false, line, sizeof(line), NULL, NULL);
    /* no sort marker in plain output */
    char *m = strstr(line, "ID^");
    if (m)
        m[2] = ' ';
    rstrip(line);
    printf("%s\n", line);
    int64_t now = gg_now_ms();
    for (size_t i = 0; i < l.nvis; i++) {
        acct_format_row(acct_list_row(&l, i), now, CLI_WIDTH, line, sizeof(line), NULL, NULL);
        rstrip(line);
        printf("%s\n", line);
    }
    acct_list_free(&l);
    return EX_OK;
}

static int read_input(const char *path, struct gg_buf *b)
{
    char chunk[65536];
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t n;
    if (!f) {
        fprintf(stderr, "gemctl-tui: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (gg_buf_add(b, chunk, n) < 0) {
            fprintf(stderr, "gemctl-tui: %s is larger than 8 MiB\n", path);
            if (f != stdin)
                fclose(f);
            return -1;
        }
    }
    int bad = ferror(f);
    if (f != stdin)
        fclose(f);
    if (bad) {
        fprintf(stderr, "gemctl-tui: cannot read %s\n", path);
        return -1;
    }
    return 0;
}

static int do_import(struct gg_admin_client *c, const char *path, bool json)
{
    struct gg_admin_error err;
    struct gg_buf b;
    gg_buf_init(&b, IMPORT_MAX);
    if (read_input(path, &b) < 0) {
        gg_buf_free(&b);
        return EX_USAGE;
    }
    cJSON *r = gg_admin_import(c, b.p ? b.p : "", b.len, &err);
    gg_buf_free(&b);
    if (!r)
        return cli_fail(c, &err);
    int rc = EX_OK;
    if (json) {
        rc = cli_print_json(r);
    } else {
        printf("created %lld, updated %lld, rejected %lld\n", js_int(r, "created", 0),
               js_int(r, "updated", 0), js_int(r, "rejected", 0));
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(r, "entries")) {
            char name[300], reason[600], res[64];
            safe(js_str(e, "name"), "", name, sizeof(name));
            safe(js_str(e, "reason"), "", reason, sizeof(reason));
            long long id = js_int(e, "id", -1);
            char idt[32] = "";
            if (id >= 0)
                snprintf(idt, sizeof(idt), "#%lld", id);
            printf("line %lld: %s%s%s%s%s%s%s\n", js_int(e, "line", 0),
                   safe(js_str(e, "result"), "?", res, sizeof(res)), idt[0] ? " " : "", idt,
                   name[0] ? " " : "", name, reason[0] ? ": " : "", reason);
        }
    }
    cJSON_Delete(r);
    return rc;
}

static int parse_id(const char *s, long long *id)
{
    char *end;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : -1;
    if (!s || !*s || errno || *end || v < 0) {
        fprintf(stderr, "gemctl-tui: invalid account id '%s' (expected a number)\n", s ? s : "");
        return -1;
    }
    *id = v;
    return 0;
}

static int print_account_line(const cJSON *acct, const char *what)
{
    char name[300], reason[300], status[64];
    safe(js_str(acct, "name"), "", name, sizeof(name));
    safe(js_str(acct, "reason"), "", reason, sizeof(reason));
    printf("#%lld %s: %s, status %s%s%s\n", js_int(acct, "id", -1), name, what,
           safe(js_str(acct, "status"), "?", status, sizeof(status)), reason[0] ? " - " : "",
           reason);
    return EX_OK;
}

static int do_account(struct gg_admin_client *c, const char *cmd, const char *arg, bool json)
{
    struct gg_admin_error err;
    long long id;
    cJSON *r = NULL;
    const char *what = cmd;
    if (parse_id(arg, &id) < 0)
        return EX_USAGE;
    if (strcmp(cmd, "enable") == 0) {
        r = gg_admin_account_enable(c, id, &err);
        what = "enabled";
    } else if (strcmp(cmd, "disable") == 0) {
        r = gg_admin_account_disable(c, id, NULL, &err);
        what = "disabled";
    } else if (strcmp(cmd, "reset") == 0) {
        r = gg_admin_account_reset(c, id, &err);
        what = "cooldown reset";
    } else if (strcmp(cmd, "delete") == 0) {
        r = gg_admin_account_delete(c, id, &err);
    } else if (strcmp(cmd, "test") == 0) {
        r = gg_admin_account_test(c, id, &err);
    } else if (strcmp(cmd, "get") == 0) {
        r = gg_admin_account_get(c, id, &err);
        what = "found";
    }
    if (!r)
        return cli_fail(c, &err);
    int rc = EX_OK;
    if (json) {
        rc = cli_print_json(r);
        if (strcmp(cmd, "test") == 0 && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok")))
            rc = EX_API;
    } else if (strcmp(cmd, "delete") == 0) {
        printf("#%lld deleted\n", id);
    } else if (strcmp(cmd, "test") == 0) {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok"))) {
            char ans[200];
            safe(js_str(r, "answer"), "", ans, sizeof(ans));
            printf("#%lld test ok: %lld ms (auth %lld ms), answer \"%s\"\n", id,
                   js_int(r, "latency_ms", 0), js_int(r, "auth_ms", 0), ans);
        } else {
            const cJSON *e = cJSON_GetObjectItemCaseSensitive(r, "error");
            const char *em = cJSON_IsString(e) ? e->valuestring : js_str(e, "message");
            char msg[600];
            safe(em, "unknown error", msg, sizeof(msg));
            fprintf(stderr, "gemctl-tui: #%lld test failed: %s\n", id, msg);
            rc = EX_API;
        }
    } else {
        rc = print_account_line(r, what);
    }
    cJSON_Delete(r);
    return rc;
}

static int do_overview(struct gg_admin_client *c, bool json)
{
    struct gg_admin_error err;
    cJSON *r = gg_admin_overview(c, &err);
    if (!r)
        return cli_fail(c, &err);
    int rc = EX_OK;
    if (json) {
        rc = cli_print_json(r);
    } else {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(r, "pool");
        char up[32], ver[128];
        tx_duration(js_int(r, "uptime_s", 0), up, sizeof(up));
        printf("gemgate %s, up %s, %lld req/min, errors %.1f%%, %lld streams\n",
               safe(js_str(r, "version"), "?", ver, sizeof(ver)), up, js_int(r, "rpm", 0),
               js_num(r, "error_rate", 0) * 100.0, js_int(r, "active_streams", 0));
        printf("pool %lld: %lld active, %lld cooldown, %lld expired, %lld disabled\n",
               js_int(p, "total", 0), js_int(p, "active", 0), js_int(p, "cooldown", 0),
               js_int(p, "expired", 0), js_int(p, "disabled", 0));
        char why[200], dl[256], s1[800], s2[1100];
        int total = 0, down = ov_models_unavailable(r, &total, why, sizeof(why));
        if (total)
            printf("models %d of %d available%s%s\n", total - down, total, down ? ", unavailable: " : "",
                   down ? safe(why, "", s1, sizeof(s1)) : "");
        ov_dialects(r, dl, sizeof(dl));
        printf("requests by dialect (1h): %s\n", dl[0] ? safe(dl, "", s2, sizeof(s2)) : "none");
    }
    cJSON_Delete(r);
    return rc;
}

int cli_run(struct gg_admin_client *c, const struct cli_opts *o)
{
    if (strcmp(o->cmd, "list") == 0)
        return do_list(c, o->json);
    if (strcmp(o->cmd, "import") == 0)
        return do_import(c, o->arg, o->json);
    if (strcmp(o->cmd, "overview") == 0)
        return do_overview(c, o->json);
    if (strcmp(o->cmd, "keys") == 0 || strcmp(o->cmd, "new-key") == 0 ||
        strncmp(o->cmd, "key-", 4) == 0)
        return cli_keys_run(c, o);
    return do_account(c, o->cmd, o->arg, o->json);
}

/* test_tui_logic.c -- unit tests for the curses-free parts of gemctl-tui and
 * the admin client: display-width fitting, the SSE parser, account sorting,
 * filtering and selection by id, the log ring, the table layout, the
 * escaping of server-supplied text (esc.c) and, when built with the curses
 * headers (TUI_TEST_VIEWS), the view-table dispatch (app.c). */
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esc.h"
#include "keyfmt.h"
#include "gg_admin_client.h"
#include "gg_time.h"
#include "model.h"
#include "text.h"
#include "tinytest.h"

/* ---- text ---- */

static void test_width(void)
{
    TT_EQ_INT(tx_width("abc"), 3);
    TT_EQ_INT(tx_width(""), 0);
    TT_EQ_INT(tx_width(NULL), 0);
    TT_EQ_INT(tx_width("日本"), 4);              /* wide CJK */
    TT_EQ_INT(tx_width("e\xcc\x81"), 1);         /* e + combining acute */
    TT_EQ_INT(tx_width("a\x1b[31mb"), 7);        /* ESC shown as '?' */
    TT_EQ_INT(tx_width("\xff\xfe"), 2);          /* invalid bytes: '?' each */
    TT_EQ_INT(tx_width("caf\xc3\xa9"), 4);
}

static void test_fit(void)
{
    char out[256];
    TT_EQ_INT(tx_fit("abc", 5, true, false, out, sizeof(out)), 5);
    TT_EQ_STR(out, "abc  ");
    tx_fit("abc", 5, true, true, out, sizeof(out));
    TT_EQ_STR(out, "  abc");
    tx_fit("abcdef", 4, true, false, out, sizeof(out));
    TT_EQ_STR(out, "abc\xe2\x80\xa6");
    TT_EQ_INT(tx_width(out), 4);
    tx_fit("abcd", 4, false, false, out, sizeof(out));
    TT_EQ_STR(out, "abcd");
    /* a wide character never straddles the edge */
    TT_EQ_INT(tx_fit("日本語テキスト", 6, true, false, out, sizeof(out)), 6);
    TT_EQ_STR(out, "日本\xe2\x80\xa6 ");
    TT_EQ_INT(tx_width(out), 6);
    tx_fit("日本語", 6, true, false, out, sizeof(out));
    TT_EQ_STR(out, "日本語");
    tx_fit("x\ty", 5, true, false, out, sizeof(out));
    TT_EQ_STR(out, "x?y  ");
    tx_fit("abc", 0, true, false, out, sizeof(out));
    TT_EQ_STR(out, "");
    /* small output buffer: truncated but terminated */
    char small[4];
    tx_fit("abcdef", 10, true, false, small, sizeof(small));
    TT_CHECK(strlen(small) < sizeof(small));
}

static void test_durations(void)
{
    char b[32];
    tx_duration(59, b, sizeof(b));
    TT_EQ_STR(b, "59s");
    tx_duration(3725, b, sizeof(b));
    TT_EQ_STR(b, "1h02m");
    tx_duration(90000, b, sizeof(b));
    TT_EQ_STR(b, "1d01h");
    tx_ago(0, 1000, b, sizeof(b));
    TT_EQ_STR(b, "-");
    tx_ago(1000, 181000, b, sizeof(b));
    TT_EQ_STR(b, "3m ago");
    tx_until(61000, 1000, b, sizeof(b));
    TT_EQ_STR(b, "in 1m");
    tx_until(500, 1000, b, sizeof(b));
    TT_EQ_STR(b, "now");
    TT_CHECK(tx_icontains("Team-A", "team"));
    TT_CHECK(!tx_icontains("Team-A", "b"));
    TT_CHECK(tx_icontains("x", ""));
    TT_EQ_INT(tx_prev_char("a日", 4), 1);
    TT_EQ_INT(tx_next_char("a日", 4, 1), 4);
}

/* ---- SSE ---- */

struct ev_log {
    int n;
    char ev[8][32];
    char data[8][128];
    int stop_after;
};

static int ev_cb(void *ctx, const char *event, const char *data, size_t len)
{
    struct ev_log *l = ctx;
    if (l->n < 8) {
        snprintf(l->ev[l->n], sizeof(l->ev[0]), "%s", event);
        snprintf(l->data[l->n], sizeof(l->data[0]), "%.*s", (int)len, data);
    }
    l->n++;
    return l->stop_after && l->n >= l->stop_after ? 7 : 0;
}

static const char sse_text[] =
    ": ping\n\n"
    "event: request\ndata: {\"a\":1}\n\n"
    "event: account\r\ndata: line1\r\ndata:line2\r\n\r\n"
    "data: plain\rid: 5\r\r"
    "event: ignored-without-data\n\n"
    "retry: 100\ndata: last\n\n";

static void check_sse_log(const struct ev_log *l)
{
    TT_EQ_INT(l->n, 4);
    TT_EQ_STR(l->ev[0], "request");
    TT_EQ_STR(l->data[0], "{\"a\":1}");
    TT_EQ_STR(l->ev[1], "account");
    TT_EQ_STR(l->data[1], "line1\nline2");
    TT_EQ_STR(l->ev[2], "message");
    TT_EQ_STR(l->data[2], "plain");
    TT_EQ_STR(l->ev[3], "message");
    TT_EQ_STR(l->data[3], "last");
}

static void test_sse_whole(void)
{
    struct gg_sse_parser p;
    struct ev_log l = { 0 };
    gg_sse_init(&p, 0);
    TT_EQ_INT(gg_sse_feed(&p, sse_text, strlen(sse_text), ev_cb, &l), 0);
    check_sse_log(&l);
    gg_sse_free(&p);
}

static void test_sse_split(void)
{
    /* every split point, and byte by byte: same events */
    size_t n = strlen(sse_text);
    for (size_t cut = 0; cut <= n; cut++) {
        struct gg_sse_parser p;
        struct ev_log l = { 0 };
        gg_sse_init(&p, 0);
        gg_sse_feed(&p, sse_text, cut, ev_cb, &l);
        gg_sse_feed(&p, sse_text + cut, n - cut, ev_cb, &l);
        if (l.n != 4 || strcmp(l.data[1], "line1\nline2") != 0) {
            TT_CHECK(!"split parse differs");
            fprintf(stderr, "  at cut %zu\n", cut);
        }
        gg_sse_free(&p);
    }
    struct gg_sse_parser p;
    struct ev_log l = { 0 };
    gg_sse_init(&p, 0);
    for (size_t i = 0; i < n; i++)
        gg_sse_feed(&p, sse_text + i, 1, ev_cb, &l);
    check_sse_log(&l);
    gg_sse_free(&p);
}

static void test_sse_limits(void)
{
    struct gg_sse_parser p;
    struct ev_log l = { 0 };
    char big[200];
    memset(big, 'x', sizeof(big));
    gg_sse_init(&p, 64);
    TT_EQ_INT(gg_sse_feed(&p, "data: ", 6, ev_cb, &l), 0);
    TT_EQ_INT(gg_sse_feed(&p, big, sizeof(big), ev_cb, &l), -1);
    TT_EQ_INT(gg_sse_feed(&p, "\n\n", 2, ev_cb, &l), -1); /* stays broken */
    TT_EQ_INT(l.n, 0);
    gg_sse_free(&p);

    /* a callback's non-zero value stops parsing and is returned */
    struct ev_log s = { .stop_after = 1 };
    gg_sse_init(&p, 0);
    TT_EQ_INT(gg_sse_feed(&p, "data: a\n\ndata: b\n\n", 18, ev_cb, &s), 7);
    TT_EQ_INT(s.n, 1);
    gg_sse_free(&p);
}

/* ---- accounts ---- */

static cJSON *acct_json(long long id, const char *name, const char *status, const char *until,
                        long long req)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "status", status);
    cJSON_AddStringToObject(o, "csesidx", "123");
    cJSON_AddStringToObject(o, "config_id", "cfg");
    if (until)
        cJSON_AddStringToObject(o, "until", until);
    else
        cJSON_AddNullToObject(o, "until");
    cJSON_AddNumberToObject(o, "requests_today", (double)req);
    return o;
}

static cJSON *sample(void)
{
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, acct_json(1, "zeta", "active", NULL, 5));
    cJSON_AddItemToArray(a, acct_json(2, "Alpha", "disabled", NULL, 50));
    cJSON_AddItemToArray(a, acct_json(3, "mid", "cooldown", "2030-01-01T00:00:10Z", 7));
    cJSON_AddItemToArray(a, acct_json(4, "beta", "cooldown", "2030-01-01T00:00:05Z", 7));
    cJSON_AddItemToArray(a, acct_json(5, "日本", "expired", NULL, 0));
    return a;
}

static long long row_id(const struct acct_list *l, size_t r)
{
    const struct acct *a = acct_list_row(l, r);
    return a ? a->id : -1;
}

static void test_sort(void)
{
    struct acct_list l;
    acct_list_init(&l);
    TT_EQ_INT(acct_list_set(&l, sample()), 0);
    TT_EQ_INT(l.nvis, 5);
    TT_EQ_INT(row_id(&l, 0), 1);
    acct_list_set_sort(&l, AC_NAME, false);
    TT_EQ_INT(row_id(&l, 0), 2); /* Alpha: case-insensitive */
    TT_EQ_INT(row_id(&l, 1), 4); /* beta */
    acct_list_set_sort(&l, AC_STATUS, false);
    TT_EQ_INT(row_id(&l, 0), 1); /* active first */
    TT_EQ_INT(row_id(&l, 1), 3); /* cooldown, tie broken by id */
    TT_EQ_INT(row_id(&l, 2), 4);
    TT_EQ_INT(row_id(&l, 4), 2); /* disabled last */
    acct_list_set_sort(&l, AC_UNTIL, false);
    TT_EQ_INT(row_id(&l, 0), 4); /* earliest deadline first */
    TT_EQ_INT(row_id(&l, 1), 3);
    TT_EQ_INT(row_id(&l, 2), 1); /* then the ones without, by id */
    acct_list_set_sort(&l, AC_REQ, true);
    TT_EQ_INT(row_id(&l, 0), 2);
    TT_EQ_INT(row_id(&l, 4), 5);
    acct_list_free(&l);
}

static void test_filter(void)
{
    struct acct_list l;
    acct_list_init(&l);
    acct_list_set(&l, sample());
    acct_list_set_filter(&l, "ALP");
    TT_EQ_INT(l.nvis, 1);
    TT_EQ_INT(row_id(&l, 0), 2);
    acct_list_set_filter(&l, "cooldown");
    TT_EQ_INT(l.nvis, 2);
    acct_list_set_filter(&l, "#5");
    TT_EQ_INT(l.nvis, 1);
    acct_list_set_filter(&l, "日");
    TT_EQ_INT(l.nvis, 1);
    acct_list_set_filter(&l, "nothing-matches");
    TT_EQ_INT(l.nvis, 0);
    TT_CHECK(acct_list_selected(&l) == NULL);
    acct_list_set_filter(&l, "");
    TT_EQ_INT(l.nvis, 5);
    acct_list_free(&l);
}

static void test_selection_by_id(void)
{
    struct acct_list l;
    acct_list_init(&l);
    acct_list_set(&l, sample());
    acct_list_select_row(&l, 2);
    TT_EQ_INT(l.sel_id, 3);
    /* re-sorting keeps the account selected, not the row */
    acct_list_set_sort(&l, AC_NAME, false);
    TT_EQ_INT(acct_list_selected(&l)->id, 3);
    /* a refresh with a new order and a new account keeps it too */
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, acct_json(9, "aaa", "active", NULL, 0));
    cJSON_AddItemToArray(a, acct_json(3, "mid", "active", NULL, 8));
    cJSON_AddItemToArray(a, acct_json(1, "zeta", "active", NULL, 5));
    acct_list_set(&l, a);
    TT_EQ_INT(acct_list_selected(&l)->id, 3);
    TT_EQ_STR(acct_list_selected(&l)->status, "active");
    TT_EQ_INT(l.sel, 1);
    /* the selected account disappears: the same row stays selected */
    TT_EQ_INT(acct_list_remove(&l, 3), 1);
    TT_EQ_INT(l.sel, 1);
    TT_EQ_INT(acct_list_selected(&l)->id, 1);
    TT_EQ_INT(acct_list_remove(&l, 42), 0);
    /* moves are clamped */
    acct_list_move(&l, -10);
    TT_EQ_INT(acct_list_selected(&l)->id, 9);
    acct_list_move(&l, 10);
    TT_EQ_INT(acct_list_selected(&l)->id, 1);
    /* an SSE account event updates in place and inserts new ones */
    cJSON *u = acct_json(1, "zeta", "cooldown", NULL, 6);
    acct_list_upsert(&l, u);
    cJSON_Delete(u);
    TT_EQ_STR(acct_list_find(&l, 1)->status, "cooldown");
    u = acct_json(10, "new", "active", NULL, 0);
    acct_list_upsert(&l, u);
    cJSON_Delete(u);
    TT_EQ_INT(l.n, 3);
    TT_EQ_INT(acct_list_selected(&l)->id, 1);
    /* scrolling keeps the selection visible */
    acct_list_select_row(&l, 2);
    l.top = 0;
    acct_list_scroll(&l, 2);
    TT_EQ_INT(l.top, 1); /* 3 rows, height 2, last selected */
    acct_list_free(&l);
}

static void test_table_layout(void)
{
    char row[2048], hdr[2048];
    int w[AC_NCOLS];
    struct acct a;
    cJSON *o = acct_json(12, "日本語の名前テストとても長い名前ですよ", "cooldown",
                         "2030-01-01T00:05:00Z", 1234);
    acct_from_json(&a, o);
    for (int cols = 40; cols <= 140; cols += 20) {
        int sx = 0, sw = 0;
        acct_columns(cols, w);
        acct_format_row(&a, 0, cols, row, sizeof(row), &sx, &sw);
        TT_EQ_INT(tx_width(row), cols);
        acct_format_header(cols, AC_NAME, false, hdr, sizeof(hdr), NULL, NULL);
        TT_EQ_INT(tx_width(hdr), cols);
        TT_CHECK(sw == 8);
    }
    acct_format_row(&a, 0, 80, row, sizeof(row), NULL, NULL);
    TT_CHECK(strstr(row, "cooldown") != NULL);
    TT_CHECK(strstr(row, "1234") != NULL);
    TT_CHECK(strstr(row, "\xe2\x80\xa6") != NULL); /* long name truncated */
    cJSON_Delete(o);
}

/* per-kind cooldowns, sign-in and refresh count (issue 18) */
static void test_kind_cooldowns(void)
{
    char out[512], row[2048], hdr[2048];
    struct acct a;
    setenv("TZ", "UTC", 1);
    tzset();
    int64_t now = gg_parse_time("2030-01-01T13:50:00Z");
    cJSON *o = cJSON_Parse("{\"id\":4,\"name\":\"img\",\"status\":\"active\","
                           "\"last_signin_at\":\"2030-01-01T13:45:00Z\",\"refresh_count\":2,"
                           "\"cooldowns\":{\"image\":{\"until\":\"2030-01-01T14:02:33Z\",\"reason\":\"429 quota\",\"fail_count\":1},"
                           "\"text\":{\"until\":null,\"reason\":null,\"fail_count\":3},"
                           "\"video\":{\"until\":\"2030-01-01T13:00:00Z\",\"reason\":\"old\",\"fail_count\":1}}}");
    TT_CHECK(o != NULL);
    acct_from_json(&a, o);
    TT_EQ_INT(a.refresh_count, 2);
    TT_CHECK(a.last_signin_ms == gg_parse_time("2030-01-01T13:45:00Z"));
    TT_EQ_INT(acct_cooldowns_format(&a, now, true, out, sizeof(out)), 1);
    TT_EQ_STR(out, "img 14:02");
    TT_EQ_INT(acct_cooldowns_format(&a, now, false, out, sizeof(out)), 1);
    TT_EQ_STR(out, "image until 14:02:33 (429 quota)");
    /* a second kind: the compact form names both */
    a.kind_until[AK_VIDEO] = now + 60000;
    a.kind_reason[AK_VIDEO] = "";
    TT_EQ_INT(acct_cooldowns_format(&a, now, true, out, sizeof(out)), 2);
    TT_EQ_STR(out, "img,vid");
    TT_EQ_INT(acct_cooldowns_format(&a, now, false, out, sizeof(out)), 2);
    TT_EQ_STR(out, "image until 14:02:33 (429 quota), video until 13:51:00");
    /* ended exactly at until */
    TT_EQ_INT(acct_cooldowns_format(&a, gg_parse_time("2030-01-01T14:02:33Z"), true, out, sizeof(out)), 0);
    TT_EQ_STR(out, "-");
    TT_EQ_INT(acct_cooldowns_format(&a, gg_parse_time("2030-01-01T14:02:33Z"), false, out, sizeof(out)), 0);
    TT_EQ_STR(out, "none");
    /* a small buffer is cut, terminated */
    char small[8];
    acct_cooldowns_format(&a, now, false, small, sizeof(small));
    TT_CHECK(strlen(small) < sizeof(small));
    acct_from_json(&a, o);
    /* the table: sign-in, refreshes and the compact cooldowns at 120 columns */
    acct_format_header(120, AC_ID, false, hdr, sizeof(hdr), NULL, NULL);
    TT_CHECK(strstr(hdr, "FLT SIGN-IN   RFR COOLING") != NULL);
    acct_format_row(&a, now, 120, row, sizeof(row), NULL, NULL);
    TT_CHECK(strstr(row, " 5m ago      2 img 14:02") != NULL);
    TT_EQ_INT(tx_width(row), 120);
    /* at 80 columns the optional columns give way to the name */
    acct_format_header(80, AC_ID, false, hdr, sizeof(hdr), NULL, NULL);
    TT_CHECK(strstr(hdr, "SIGN-IN") == NULL && strstr(hdr, "FLT") != NULL);
    acct_format_row(&a, now, 80, row, sizeof(row), NULL, NULL);
    TT_EQ_INT(tx_width(row), 80);
    TT_CHECK(strstr(row, "img 14:02") == NULL);
    /* sorting by refreshes and by the soonest kind cooldown */
    struct acct b;
    cJSON *ob = acct_json(5, "plain", "active", NULL, 0);
    acct_from_json(&b, ob);
    TT_CHECK(acct_cmp(&a, &b, AC_REFRESH, false) > 0);
    TT_CHECK(acct_cmp(&a, &b, AC_COOLING, false) < 0);   /* cooling first */
    TT_CHECK(acct_cmp(&a, &b, AC_SIGNIN, true) < 0);     /* signed in, newest first */
    /* an account from an older daemon */
    TT_EQ_INT(b.refresh_count, 0);
    TT_CHECK(b.last_signin_ms == 0);
    TT_EQ_INT(acct_cooldowns_format(&b, now, true, out, sizeof(out)), 0);
    cJSON_Delete(ob);
    cJSON_Delete(o);
}

static void test_overview_helpers(void)
{
    char out[256];
    int total = -1;
    setenv("TZ", "UTC", 1);
    tzset();
    cJSON *o = cJSON_Parse("{\"models\":[{\"id\":\"gemini-2.5-flash\",\"available\":true},"
                           "{\"id\":\"gemini-3-pro-preview\",\"available\":false,"
                           "\"unavailable_until\":\"2030-01-01T15:17:41Z\",\"unavailable_reason\":\"gone\"},"
                           "{\"id\":\"gemini-auto\",\"available\":true}],"
                           "\"requests_by_dialect\":{\"openai\":3,\"anthropic\":1,\"responses\":0,\"gemini\":0,\"images\":0}}");
    TT_EQ_INT(ov_models_unavailable(o, &total, out, sizeof(out)), 1);
    TT_EQ_INT(total, 3);
    TT_EQ_STR(out, "gemini-3-pro-preview until 15:17");
    ov_dialects(o, out, sizeof(out));
    TT_EQ_STR(out, "openai 3  anthropic 1");
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(o, "models"),
                         cJSON_Parse("{\"id\":\"gemini-veo\",\"available\":false}"));
    TT_EQ_INT(ov_models_unavailable(o, &total, out, sizeof(out)), 2);
    TT_EQ_STR(out, "gemini-3-pro-preview until 15:17 (+1 more)");
    cJSON_Delete(o);
    /* an older daemon: nothing */
    o = cJSON_Parse("{\"pool\":{}}");
    TT_EQ_INT(ov_models_unavailable(o, &total, out, sizeof(out)), 0);
    TT_EQ_INT(total, 0);
    TT_EQ_STR(out, "");
    ov_dialects(o, out, sizeof(out));
    TT_EQ_STR(out, "");
    cJSON_Delete(o);
}

/* ---- log ring ---- */

static void test_log_ring(void)
{
    struct log_ring r;
    size_t idx[16];
    TT_EQ_INT(log_ring_init(&r, 4), 0);
    TT_EQ_INT(log_ring_add(&r, "one", LOG_OK, "req_1"), 1);
    TT_EQ_INT(log_ring_add(&r, "one again", LOG_OK, "req_1"), 0); /* replay after reconnect */
    TT_EQ_INT(log_ring_add(&r, "two 429", LOG_WARN, "req_2"), 1);
    TT_EQ_INT(log_ring_add(&r, "note", LOG_INFO, NULL), 1);
    TT_EQ_INT(log_ring_add(&r, "note", LOG_INFO, ""), 1);
    TT_EQ_INT(log_ring_add(&r, "five", LOG_OK, "req_5"), 1); /* wraps */
    TT_EQ_INT(r.n, 4);
    TT_EQ_STR(log_ring_at(&r, 0)->text, "two 429");
    TT_EQ_STR(log_ring_at(&r, 3)->text, "five");
    snprintf(r.filter, sizeof(r.filter), "429");
    TT_EQ_INT(log_ring_shown(&r, idx, 16), 1);
    r.filter[0] = '\0';
    r.paused = true;
    r.pause_seq = log_ring_at(&r, 1)->seq;
    TT_EQ_INT(log_ring_shown(&r, idx, 16), 2);
    log_ring_add(&r, "six", LOG_OK, "req_6");
    TT_EQ_INT(log_ring_shown(&r, idx, 16), 1); /* paused view does not grow */
    log_ring_free(&r);
}

static void test_log_format(void)
{
    char line[512], id[64];
    enum log_level lvl;
    cJSON *o = cJSON_Parse("{\"request_id\":\"req_1\",\"ts\":\"2026-11-26T03:36:26.123Z\","
                           "\"model\":\"gemini-2.5-flash\",\"account_id\":3,\"account\":\"team-a\","
                           "\"status\":429,\"error_kind\":\"rate_limit\",\"latency_ms\":1840,"
                           "\"ttft_ms\":null,\"stream\":true}");
    TT_EQ_INT(log_format_request(o, line, sizeof(line), &lvl, id, sizeof(id)), 0);
    TT_EQ_INT(lvl, LOG_WARN);
    TT_EQ_STR(id, "req_1");
    TT_CHECK(strstr(line, "429") && strstr(line, "gemini-2.5-flash") && strstr(line, "team-a"));
    TT_CHECK(strstr(line, "rate_limit") && strstr(line, "1840ms") && strstr(line, "stream"));
    TT_CHECK(strstr(line, " 429 openai    gemini-2.5-flash ") != NULL); /* no dialect: openai */
    cJSON_Delete(o);
    o = cJSON_Parse("{\"request_id\":\"req_2\",\"dialect\":\"anthropic\",\"model\":\"gemini-3.1-pro-preview\","
                    "\"status\":200,\"latency_ms\":5}");
    TT_EQ_INT(log_format_request(o, line, sizeof(line), &lvl, id, sizeof(id)), 0);
    TT_EQ_INT(lvl, LOG_OK);
    TT_CHECK(strstr(line, " 200 anthropic gemini-3.1-pro-preview ") != NULL);
    cJSON_Delete(o);
    o = cJSON_Parse("{\"id\":3,\"name\":\"team-a\",\"status\":\"cooldown\",\"reason\":\"429 RESOURCE_EXHAUSTED\"}");
    TT_EQ_INT(log_format_account(o, line, sizeof(line)), 0);
    TT_CHECK(strstr(line, "#3 team-a is now cooldown: 429 RESOURCE_EXHAUSTED") != NULL);
    cJSON_Delete(o);
    TT_EQ_INT(log_format_request(NULL, line, sizeof(line), NULL, NULL, 0), -1);
}

/* ---- admin client helpers ---- */

static void test_client_helpers(void)
{
    struct gg_buf b;
    struct gg_admin_error e;
    char msg[256];
    gg_buf_init(&b, 256);
    TT_EQ_INT(gg_admin_urlencode(&b, "a b&c=d/é"), 0);
    TT_EQ_STR(b.p, "a%20b%26c%3Dd%2F%C3%A9");
    gg_buf_free(&b);

    memset(&e, 0, sizeof(e));
    e.kind = GG_ADMIN_E_AUTH;
    e.http_status = 401;
    gg_admin_strerror(&e, "http://h:1", msg, sizeof(msg));
    TT_EQ_STR(msg, "admin key rejected (401)");
    e.kind = GG_ADMIN_E_LOCKED;
    e.retry_after_s = 840;
    gg_admin_strerror(&e, "http://h:1", msg, sizeof(msg));
    TT_EQ_STR(msg, "locked out, retry in 840s");
    e.kind = GG_ADMIN_E_CONNECT;
    snprintf(e.message, sizeof(e.message), "Connection refused");
    gg_admin_strerror(&e, "http://h:1", msg, sizeof(msg));
    TT_EQ_STR(msg, "cannot reach http://h:1: Connection refused");
    e.kind = GG_ADMIN_E_HTTP;
    e.http_status = 404;
    snprintf(e.code, sizeof(e.code), "not_found");
    snprintf(e.message, sizeof(e.message), "no such account");
    gg_admin_strerror(&e, "http://h:1", msg, sizeof(msg));
    TT_EQ_STR(msg, "not_found: no such account (404)");

    struct gg_admin_client c;
    TT_EQ_INT(gg_admin_client_init(&c, "http://x:7/", "k"), 0);
    TT_EQ_STR(c.base_url, "http://x:7");
    gg_admin_client_free(&c);
    TT_EQ_INT(gg_admin_client_init(&c, NULL, NULL), 0);
    TT_EQ_STR(c.base_url, GG_ADMIN_DEFAULT_URL);
    TT_CHECK(c.key == NULL);
    gg_admin_client_free(&c);
}


/* ---- escaping of server-supplied text (finding 10) ---- */

/* true when s holds no C0 byte (other than those in `allowed`), no DEL and
 * no UTF-8 encoded C1 code point */
static int no_controls(const char *s, const char *allowed)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p < 0x20 && !strchr(allowed, *p)) || *p == 0x7f)
            return 0;
        if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
            return 0;
    }
    return 1;
}

static void test_esc_text(void)
{
    char out[256];
    esc_text("a\x1b[31mb", out, sizeof(out));
    TT_EQ_STR(out, "a\\x1b[31mb");
    esc_text("del\x7f", out, sizeof(out));
    TT_EQ_STR(out, "del\\x7f");
    esc_text("x\xc2\x9by\xc2\x85", out, sizeof(out));       /* C1 CSI and NEL */
    TT_EQ_STR(out, "x\\u009by\\u0085");
    esc_text("\t\n\r\a", out, sizeof(out));
    TT_EQ_STR(out, "\\x09\\x0a\\x0d\\x07");
    esc_text("caf\xc3\xa9 日本 \xc2\xa0", out, sizeof(out)); /* printable UTF-8 kept */
    TT_EQ_STR(out, "caf\xc3\xa9 日本 \xc2\xa0");
    esc_text("bad\xff\xc0\xaf", out, sizeof(out));           /* invalid and overlong */
    TT_EQ_STR(out, "bad\\xff\\xc0\\xaf");
    esc_text("\xed\xa0\x80", out, sizeof(out));              /* a UTF-16 surrogate */
    TT_EQ_STR(out, "\\xed\\xa0\\x80");
    esc_text("a\\x1b", out, sizeof(out));                    /* backslash escaped */
    TT_EQ_STR(out, "a\\\\x1b");
    esc_text(NULL, out, sizeof(out));
    TT_EQ_STR(out, "");
    /* cut before a whole escape or character, never inside one */
    char small[5];
    TT_EQ_INT(esc_text("ab\x1b", small, sizeof(small)), 2);
    TT_EQ_STR(small, "ab");
    TT_EQ_INT(esc_text("a日", small, 4), 1);
    TT_EQ_STR(small, "a");
    /* every single byte and every C1 code point comes out harmless */
    for (int c = 1; c < 256; c++) {
        char in[2] = { (char)c, 0 };
        esc_text(in, out, sizeof(out));
        TT_CHECK(no_controls(out, ""));
    }
    for (int c = 0x80; c <= 0x9f; c++) {
        char in[3] = { (char)0xc2, (char)c, 0 };
        esc_text(in, out, sizeof(out));
        TT_CHECK(no_controls(out, "") && out[0] == '\\' && out[1] == 'u');
    }
}

static void test_esc_json(void)
{
    struct gg_buf b;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", "a\x1b[2Jb\x7f\xc2\x9b\xc3\xa9");
    cJSON_AddNumberToObject(o, "n", 3);
    cJSON_AddStringToObject(o, "k\x1b", "q\"\\\x7f");
    cJSON_AddStringToObject(o, "tail", "ends\\");
    gg_buf_init(&b, 1 << 20);
    TT_EQ_INT(esc_json(o, false, &b), 0);
    TT_EQ_STR(b.p, "{\"name\":\"a\\u001b[2Jb\\u007f\\u009b\xc3\xa9\",\"n\":3,"
                   "\"k\\u001b\":\"q\\\"\\\\\\u007f\",\"tail\":\"ends\\\\\"}");
    /* the escaped text still parses to the same values */
    cJSON *back = cJSON_Parse(b.p);
    TT_CHECK(back != NULL);
    TT_EQ_STR(cJSON_GetObjectItemCaseSensitive(back, "name")->valuestring,
              "a\x1b[2Jb\x7f\xc2\x9b\xc3\xa9");
    TT_EQ_STR(cJSON_GetObjectItemCaseSensitive(back, "k\x1b")->valuestring, "q\"\\\x7f");
    cJSON_Delete(back);
    /* pretty output: only layout whitespace */
    gg_buf_reset(&b);
    TT_EQ_INT(esc_json(o, true, &b), 0);
    TT_CHECK(no_controls(b.p, "\n\t"));
    TT_CHECK(strstr(b.p, "\\u009b") != NULL);
    cJSON_Delete(o);
    /* invalid UTF-8 becomes U+FFFD */
    o = cJSON_CreateString("x\xff\xfey");
    gg_buf_reset(&b);
    TT_EQ_INT(esc_json(o, false, &b), 0);
    TT_EQ_STR(b.p, "\"x\\ufffd\\ufffdy\"");
    cJSON_Delete(o);
    /* over the cap: -1 */
    struct gg_buf tiny;
    gg_buf_init(&tiny, 4);
    o = cJSON_CreateString("longer than four");
    TT_EQ_INT(esc_json(o, false, &tiny), -1);
    cJSON_Delete(o);
    gg_buf_free(&tiny);
    gg_buf_free(&b);
}

/* ---- client keys: limits parsing and the key table (keyfmt.c) ---- */
static void test_keyfmt(void)
{
    char why[200], line[1024];
    cJSON *l = cJSON_CreateObject();
    TT_EQ_INT(kf_parse_limits("rpm=60 day=2000000 concurrent=4 models=a,b* group=team-a", l, why,
                              sizeof(why)), 0);
    TT_EQ_INT(js_int(l, "rpm", -1), 60);
    TT_EQ_INT(js_int(l, "tokens_day", -1), 2000000);
    TT_EQ_INT(js_int(l, "max_concurrent", -1), 4);
    TT_EQ_STR(js_str(l, "models"), "a,b*");
    TT_EQ_STR(js_str(l, "group"), "team-a");
    TT_EQ_INT(kf_parse_limits("", l, why, sizeof(why)), 0);           /* sets nothing */
    TT_EQ_INT(kf_parse_limits("rpm=1 rpm=2 models=", l, why, sizeof(why)), 0); /* last wins */
    TT_EQ_INT(js_int(l, "rpm", -1), 2);
    TT_EQ_STR(js_str(l, "models"), "");
    TT_EQ_INT(kf_parse_limits("tpm=-1", l, why, sizeof(why)), -1);
    TT_EQ_STR(why, "tpm: '-1' is not a whole number >= 0");
    TT_EQ_INT(kf_parse_limits("rpm=1x", l, why, sizeof(why)), -1);
    TT_EQ_INT(kf_parse_limits("rpm", l, why, sizeof(why)), -1);
    TT_EQ_STR(why, "'rpm': expected name=value");
    TT_EQ_INT(kf_parse_limits("speed=3", l, why, sizeof(why)), -1);
    TT_CHECK(strstr(why, "unknown limit 'speed'") != NULL);
    TT_EQ_INT(kf_set_limit(l, "tokens_month", "99999999999", why, sizeof(why)), 0);
    TT_EQ_INT(js_int(l, "tokens_month", -1), 99999999999LL);
    kf_limits(l, line, sizeof(line));
    TT_EQ_STR(line, "rpm 2, day 2.0M, month 99999M, conc 4, group team-a");
    cJSON_Delete(l);
    l = cJSON_Parse("{\"rpm\":0,\"models\":\"\",\"group\":\"\"}");
    kf_limits(l, line, sizeof(line));
    TT_EQ_STR(line, "unlimited");
    cJSON_Delete(l);

    /* expires_at: never / ms / RFC 3339 text */
    cJSON *b = cJSON_CreateObject();
    TT_EQ_INT(kf_set_expires(b, "never"), 0);
    TT_CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(b, "expires_at")));
    TT_EQ_INT(kf_set_expires(b, "1800000000000"), 0);
    TT_EQ_INT(js_int(b, "expires_at", 0), 1800000000000LL);
    TT_EQ_INT(kf_set_expires(b, "2030-01-01T00:00:00Z"), 0);
    TT_EQ_STR(js_str(b, "expires_at"), "2030-01-01T00:00:00Z");
    cJSON_Delete(b);

    /* rows: exactly `cols` wide, state, expiry as a date, controls as '?' */
    int64_t now = 1796100000000LL; /* 2026-12-01 */
    cJSON *k = cJSON_Parse("{\"id\":7,\"name\":\"al\\u009bice\",\"prefix\":\"gk-3f9a2c1\","
                           "\"enabled\":true,\"expires_at\":\"2030-01-01T00:00:00Z\","
                           "\"limits\":{\"rpm\":60},\"usage\":{\"day_requests\":40,"
                           "\"day_tokens\":81234,\"day_errors\":1,\"inflight\":1,"
                           "\"cluster_inflight\":2}}");
    TT_CHECK(k != NULL);
    kf_row(k, now, 100, line, sizeof(line));
    TT_EQ_INT(tx_width(line), 100);
    TT_CHECK(strstr(line, "   7 al?ice ") == line);
    TT_CHECK(strstr(line, "gk-3f9a2c1 enabled  2030-01-01 rpm 60") != NULL);
    TT_CHECK(strstr(line, "   40   81.2k    1   3") != NULL);
    TT_EQ_STR(kf_state(k, now), "enabled");
    TT_EQ_STR(kf_state(k, 1893456000000LL), "expired");             /* 2030-01-01 */
    cJSON_ReplaceItemInObjectCaseSensitive(k, "enabled", cJSON_CreateFalse());
    TT_EQ_STR(kf_state(k, now), "disabled");
    cJSON_Delete(k);
    kf_header(100, line, sizeof(line));
    TT_EQ_INT(tx_width(line), 100);
    TT_CHECK(strncmp(line, "  ID NAME", 9) == 0);
}

#ifdef TUI_TEST_VIEWS
#include "app.h"

/* ---- the view table: the generic dispatch drives fake views ---- */

struct fake {
    int opened, closed, drawn, events;
    enum action last;
    int text_keys;
};
static struct fake fk[VIEW_N];

static int which(struct app *a)
{
    return (int)a->view;
}
static void f_open(struct app *a) { fk[which(a)].opened++; }
static void f_close(struct app *a) { fk[which(a)].closed++; }
static void f_draw(struct app *a) { fk[which(a)].drawn++; }
/* consumes the moving actions, leaves the rest to the global handling */
static bool f_action(struct app *a, enum action act)
{
    fk[which(a)].last = act;
    return act == ACT_UP || act == ACT_DOWN;
}
/* a text view: every printable key types; curses codes go to the table */
static bool f_text_key(struct app *a, int key, bool is_code)
{
    if (is_code || key < 32 || key == 127)
        return false;
    fk[which(a)].text_keys++;
    return true;
}
static int ev_view;
static void f_ev0(struct app *a, const char *e, const cJSON *d) { (void)a; (void)e; (void)d; fk[0].events++; }
static void f_ev1(struct app *a, const char *e, const cJSON *d) { (void)a; (void)e; (void)d; fk[1].events++; }

static const struct view_ops fv_acc = { "A", " A ", f_open, f_close, f_draw, f_action, NULL, f_ev0, NULL };
static const struct view_ops fv_log = { "L", " L ", f_open, f_close, f_draw, f_action, NULL, f_ev1, NULL };
static const struct view_ops fv_imp = { "I", " I ", f_open, f_close, f_draw, f_action, f_text_key, NULL, NULL };
static const struct view_ops fv_help = { "H", " H ", NULL, NULL, f_draw, NULL, NULL, NULL, NULL };

static void test_view_dispatch(void)
{
    static struct app a;
    memset(&a, 0, sizeof(a));
    memset(fk, 0, sizeof(fk));
    (void)ev_view;
    a.views[VIEW_ACCOUNTS] = &fv_acc;
    a.views[VIEW_LOG] = &fv_log;
    a.views[VIEW_IMPORT] = &fv_imp;
    a.views[VIEW_HELP] = &fv_help;

    /* a view action consumed by the current view */
    TT_EQ_INT(app_key(&a, 'j', false), ACT_NONE);
    TT_EQ_INT(fk[VIEW_ACCOUNTS].last, ACT_DOWN);
    TT_EQ_INT(a.view, VIEW_ACCOUNTS);
    /* a global action the view declines: switch, with close/open hooks */
    a.dirty = 0;
    TT_EQ_INT(app_key(&a, '2', false), ACT_NONE);
    TT_EQ_INT(a.view, VIEW_LOG);
    TT_EQ_INT(fk[VIEW_ACCOUNTS].last, ACT_VIEW_LOG);   /* the view saw it first */
    TT_EQ_INT(fk[VIEW_ACCOUNTS].closed, 1);
    TT_EQ_INT(fk[VIEW_LOG].opened, 1);
    TT_CHECK((a.dirty & (D_TABS | D_BODY | D_HINTS)) == (D_TABS | D_BODY | D_HINTS));
    /* switching to the current view runs no hook */
    app_switch_view(&a, VIEW_LOG);
    TT_EQ_INT(fk[VIEW_LOG].opened, 1);
    TT_EQ_INT(fk[VIEW_LOG].closed, 0);
    /* help toggles back to the previous view; a view without hooks is fine */
    app_key(&a, '?', false);
    TT_EQ_INT(a.view, VIEW_HELP);
    TT_EQ_INT(fk[VIEW_LOG].closed, 1);
    app_key(&a, KEY_F(1), true);
    TT_EQ_INT(a.view, VIEW_LOG);
    TT_EQ_INT(fk[VIEW_LOG].opened, 2);
    /* Esc goes back to the accounts view; Tab cycles without the help */
    app_key(&a, KEY_ESC, false);
    TT_EQ_INT(a.view, VIEW_ACCOUNTS);
    app_key(&a, '\t', false);
    TT_EQ_INT(a.view, VIEW_LOG);
    app_key(&a, '\t', false);
    TT_EQ_INT(a.view, VIEW_IMPORT);
    /* a text view takes letters before the key table: q types, F10 quits */
    TT_EQ_INT(app_key(&a, 'q', false), ACT_NONE);
    TT_EQ_INT(fk[VIEW_IMPORT].text_keys, 1);
    TT_EQ_INT(a.quit, 0);
    app_key(&a, '\t', false);
    TT_EQ_INT(a.view, VIEW_KEYS);                      /* a view without ops is fine */
    app_key(&a, '\t', false);
    TT_EQ_INT(a.view, VIEW_ACCOUNTS);                  /* wraps before the help */
    app_key(&a, 'i', false);
    TT_EQ_INT(a.view, VIEW_IMPORT);
    app_key(&a, KEY_F(10), true);
    TT_EQ_INT(a.quit, 1);
    /* what no view and no global handles comes back to the caller */
    a.quit = 0;
    app_switch_view(&a, VIEW_ACCOUNTS);
    TT_EQ_INT(app_key(&a, 'L' & 0x1f, false), ACT_REFRESH);
    TT_EQ_INT(app_key(&a, 'Z', false), ACT_NONE);      /* unbound key */
    TT_EQ_INT(a.quit, 0);
    app_key(&a, 'q', false);
    TT_EQ_INT(a.quit, 1);
    /* stream events reach every view with an on_event, current or not */
    cJSON *d = cJSON_Parse("{\"id\":1}");
    app_broadcast(&a, "account", d);
    app_broadcast(&a, NULL, NULL);
    TT_EQ_INT(fk[VIEW_ACCOUNTS].events, 2);
    TT_EQ_INT(fk[VIEW_LOG].events, 2);
    cJSON_Delete(d);
    /* app_note lands in the log ring (created on first use) */
    app_note(&a, LOG_WARN, "--- stream lost: %s", "x");
    TT_EQ_INT(a.log.n, 1);
    TT_CHECK(strstr(log_ring_at(&a.log, 0)->text, "--- stream lost: x") != NULL);
    log_ring_free(&a.log);
}
#endif

int main(void)
{
    if (!setlocale(LC_ALL, "C.UTF-8") && !setlocale(LC_ALL, "en_US.UTF-8")) {
        fprintf(stderr, "no UTF-8 locale available\n");
        return 1;
    }
    TT_RUN(test_width);
    TT_RUN(test_fit);
    TT_RUN(test_durations);
    TT_RUN(test_sse_whole);
    TT_RUN(test_sse_split);
    TT_RUN(test_sse_limits);
    TT_RUN(test_sort);
    TT_RUN(test_filter);
    TT_RUN(test_selection_by_id);
    TT_RUN(test_table_layout);
    TT_RUN(test_kind_cooldowns);
    TT_RUN(test_overview_helpers);
    TT_RUN(test_log_ring);
    TT_RUN(test_log_format);
    TT_RUN(test_client_helpers);
    TT_RUN(test_esc_text);
    TT_RUN(test_esc_json);
    TT_RUN(test_keyfmt);
#ifdef TUI_TEST_VIEWS
    TT_RUN(test_view_dispatch);
#endif
    return TT_REPORT();
}

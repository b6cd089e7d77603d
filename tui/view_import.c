/* view_import.c -- import accounts: a multi-line text area (type or paste
 * JSON, .env blocks or `name|secure_c_ses|host_c_oses|csesidx|config_id`
 * lines), or a file path (F2); then the server's per-entry report. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "draw.h"
#include "form.h"
#include "net.h"
#include "text.h"
#include "views.h"

#define IMPORT_MAX (8u * 1024 * 1024)
#define ESC KEY_ESC

static void ensure_buf(struct app *a)
{
    if (a->imp.text.max == 0)
        gg_buf_init(&a->imp.text, IMPORT_MAX);
}

/* line index and byte offset of its start for a byte position */
static size_t line_of(const char *s, size_t pos, size_t *start)
{
    size_t line = 0, st = 0;
    for (size_t i = 0; i < pos; i++) {
        if (s[i] == '\n') {
            line++;
            st = i + 1;
        }
    }
    if (start)
        *start = st;
    return line;
}

static void report_draw(struct app *a)
{
    WINDOW *w = a->w_body;
    const cJSON *r = a->imp.report;
    char line[1200];
    int h = getmaxy(w);
    snprintf(line, sizeof(line), " import report: %lld created, %lld updated, %lld rejected",
             js_int(r, "created", 0), js_int(r, "updated", 0), js_int(r, "rejected", 0));
    draw_put(w, 0, 0, a->cols, draw_attr(R_COLHDR), line);
    const cJSON *es = cJSON_GetObjectItemCaseSensitive(r, "entries");
    size_t i = 0;
    int y = 1;
    const cJSON *e;
    cJSON_ArrayForEach(e, es) {
        if (i++ < a->imp.rep_top)
            continue;
        if (y >= h - 1)
            break;
        const char *res = js_str(e, "result") ? js_str(e, "result") : "?";
        enum role role = strcmp(res, "rejected") == 0 ? R_LOG_ERR
                         : strcmp(res, "updated") == 0 ? R_LOG_WARN : R_ST_ACTIVE;
        long long id = js_int(e, "id", -1);
        char idt[32] = "";
        if (id >= 0)
            snprintf(idt, sizeof(idt), "#%lld", id);
        snprintf(line, sizeof(line), " line %-4lld %-9s %-6s %s%s", js_int(e, "line", 0), res, idt,
                 js_str(e, "name") ? js_str(e, "name") : "",
                 js_str(e, "reason") ? js_str(e, "reason") : "");
        draw_put(w, y++, 0, a->cols, draw_attr(role), line);
    }
    draw_put(w, h - 1, 0, a->cols, draw_attr(R_DIM),
               " F6 or Esc: back to the editor (clears the text)   1: accounts");
}

static void imp_draw(struct app *a)
{
    WINDOW *w = a->w_body;
    ensure_buf(a);
    werase(w);
    if (a->imp.report) {
        report_draw(a);
        return;
    }
    int h = getmaxy(w) - 2;
    if (h < 1)
        h = 1;
    const char *s = a->imp.text.p ? a->imp.text.p : "";
    size_t cst;
    size_t cline = line_of(s, a->imp.cur, &cst);
    if (cline < a->imp.top)
        a->imp.top = cline;
    if (cline >= a->imp.top + (size_t)h)
        a->imp.top = cline - (size_t)h + 1;
    draw_put(w, 0, 0, a->cols, draw_attr(R_COLHDR),
               a->imp.busy ? " import: sending..." : " import accounts: type or paste below, then F5");
    if (a->imp.text.len == 0 && h >= 6) {
        static const char *const ph[] = {
            "formats, detected automatically:",
            "  name|secure_c_ses|host_c_oses|csesidx|config_id     one per line",
            "  SECURE_C_SES=...  CSESIDX=...  CONFIG_ID=...        .env blocks",
            "  [{\"secure_c_ses\":...,\"csesidx\":...,\"config_id\":...}]  JSON",
            "or press F2 to import a file.",
        };
        for (int i = 0; i < 5; i++)
            draw_put(w, 3 + i, 2, a->cols - 2, draw_attr(R_DIM), ph[i]);
    }
    size_t line = 0, pos = 0, len = a->imp.text.len;
    int cy = -1, cx = 0;
    while (pos <= len) {
        size_t e = pos;
        while (e < len && s[e] != '\n')
            e++;
        if (line >= a->imp.top && line < a->imp.top + (size_t)h) {
            char raw[4096], shown[4096 * 2];
            size_t n = e - pos < sizeof(raw) - 1 ? e - pos : sizeof(raw) - 1;
            memcpy(raw, s + pos, n);
            raw[n] = '\0';
            tx_sanitize(raw, shown, sizeof(shown));
            int y = 1 + (int)(line - a->imp.top);
            draw_put(w, y, 0, a->cols, draw_attr(R_NORMAL), shown);
            if (line == cline) {
                char before[4096];
                size_t bn = a->imp.cur - pos < sizeof(before) - 1 ? a->imp.cur - pos : sizeof(before) - 1;
                memcpy(before, s + pos, bn);
                before[bn] = '\0';
                cy = y;
                cx = tx_width(before);
            }
        }
        line++;
        if (e >= len)
            break;
        pos = e + 1;
    }
    char foot[200];
    snprintf(foot, sizeof(foot), " %zu bytes, %zu line%s   F5 submit  F2 import a file  F6 clear  Esc back",
             a->imp.text.len, line, line == 1 ? "" : "s");
    draw_put(w, h + 1, 0, a->cols, draw_attr(R_DIM), foot);
    if (cy >= 0 && !a->form.active) {
        if (cx >= a->cols)
            cx = a->cols - 1;
        /* draw a visible cursor cell (the terminal cursor stays hidden) */
        mvwchgat(w, cy, cx, 1, A_REVERSE, 0, NULL);
    }
}

/* completion of the import request (net.h) */
static void import_done(struct app *a, const struct net_req *rq, struct gg_admin_result *r)
{
    const struct gg_admin_error *err = &r->err;
    cJSON *report = r->json;
    (void)rq;
    r->json = NULL;
    a->next_refresh = 0;
    a->imp.busy = false;
    a->dirty |= D_BODY;
    if (err->kind != GG_ADMIN_OK) {
        char e[600];
        gg_admin_strerror(err, a->cli.base_url, e, sizeof(e));
        app_msg(a, R_MSG_ERR, "import failed: %s", e);
        cJSON_Delete(report);
        return;
    }
    cJSON_Delete(a->imp.report);
    a->imp.report = report;
    a->imp.rep_top = 0;
    app_msg(a, R_MSG_OK, "import: %lld created, %lld updated, %lld rejected",
            js_int(report, "created", 0), js_int(report, "updated", 0), js_int(report, "rejected", 0));
    app_switch_view(a, VIEW_IMPORT);
}

static void submit_text(struct app *a, const char *text, size_t len, const char *what)
{
    char desc[200];
    snprintf(desc, sizeof(desc), "import %s", what);
    if (net_submit(a, "POST", "/api/admin/accounts/import", text, len, "text/plain; charset=utf-8",
                   true, import_done, -1, desc) > 0) {
        a->imp.busy = true;
        app_msg(a, R_MSG_INFO, "importing %s ...", what);
    }
}

static void imp_submit_file(struct app *a, const char *path)
{
    struct gg_buf b;
    char chunk[65536];
    FILE *f = fopen(path, "rb");
    if (!f) {
        app_msg(a, R_MSG_ERR, "cannot open %s: %s", path, strerror(errno));
        return;
    }
    gg_buf_init(&b, IMPORT_MAX);
    size_t n;
    bool toobig = false;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (gg_buf_add(&b, chunk, n) < 0) {
            toobig = true;
            break;
        }
    }
    bool rerr = ferror(f);
    fclose(f);
    if (toobig || rerr) {
        app_msg(a, R_MSG_ERR, "cannot read %s: %s", path, toobig ? "larger than 8 MiB" : "read error");
        gg_buf_free(&b);
        return;
    }
    if (b.len == 0) {
        app_msg(a, R_MSG_ERR, "%s is empty", path);
        gg_buf_free(&b);
        return;
    }
    char what[300];
    snprintf(what, sizeof(what), "from %.250s", path);
    submit_text(a, b.p, b.len, what);
    gg_buf_free(&b);
}

static void file_done(struct app *a, bool ok, const char *v)
{
    if (ok && v[0])
        imp_submit_file(a, v);
}

static void clear_all(struct app *a)
{
    ensure_buf(a);
    gg_buf_reset(&a->imp.text);
    a->imp.cur = 0;
    a->imp.top = 0;
    cJSON_Delete(a->imp.report);
    a->imp.report = NULL;
}

static bool imp_action(struct app *a, enum action act)
{
    switch (act) {
    case ACT_IMP_FILE:
        form_open(a, "import file: ", "", false, file_done, NULL);
        break;
    case ACT_IMP_SUBMIT:
        if (a->imp.report || a->imp.busy)
            break;
        if (a->imp.text.len == 0) {
            app_msg(a, R_MSG_ERR, "nothing to import: type or paste accounts first");
            break;
        }
        submit_text(a, a->imp.text.p, a->imp.text.len, "text");
        break;
    case ACT_IMP_CLEAR:
        clear_all(a);
        break;
    case ACT_BACK:
        if (!a->imp.report)
            return false; /* global: back to the accounts view */
        clear_all(a);
        break;
    case ACT_PGUP:
        if (a->imp.report && a->imp.rep_top > 0)
            a->imp.rep_top = a->imp.rep_top > 10 ? a->imp.rep_top - 10 : 0;
        break;
    case ACT_PGDN:
        if (a->imp.report)
            a->imp.rep_top += 10;
        break;
    default:
        return false;
    }
    a->dirty |= D_BODY;
    return true;
}

/* Editing keys of the text area.  Returns true when the key was consumed. */
static bool imp_text_key(struct app *a, int key, bool is_code)
{
    ensure_buf(a);
    if (a->imp.report) {
        if (!is_code && key == '1')
            return false;
        if (is_code && (key == KEY_UP || key == KEY_DOWN)) {
            if (key == KEY_UP && a->imp.rep_top > 0)
                a->imp.rep_top--;
            if (key == KEY_DOWN)
                a->imp.rep_top++;
            a->dirty |= D_BODY;
            return true;
        }
        return false;
    }
    struct gg_buf *b = &a->imp.text;
    const char *s = b->p ? b->p : "";
    size_t st;
    if (is_code) {
        switch (key) {
        case KEY_LEFT: a->imp.cur = tx_prev_char(s, a->imp.cur); break;
        case KEY_RIGHT: a->imp.cur = tx_next_char(s, b->len, a->imp.cur); break;
        case KEY_HOME: line_of(s, a->imp.cur, &st); a->imp.cur = st; break;
        case KEY_END:
            while (a->imp.cur < b->len && s[a->imp.cur] != '\n')
                a->imp.cur++;
            break;
        case KEY_UP:
        case KEY_DOWN: {
            size_t col_bytes;
            line_of(s, a->imp.cur, &st);
            col_bytes = a->imp.cur - st;
            size_t target;
            if (key == KEY_UP) {
                if (st == 0)
                    break;
                size_t pst;
                line_of(s, st - 1, &pst);
                target = pst + col_bytes < st - 1 ? pst + col_bytes : st - 1;
            } else {
                size_t e = a->imp.cur;
                while (e < b->len && s[e] != '\n')
                    e++;
                if (e >= b->len)
                    break;
                size_t ne = e + 1;
                while (ne < b->len && s[ne] != '\n')
                    ne++;
                target = e + 1 + col_bytes < ne ? e + 1 + col_bytes : ne;
            }
            while (target > 0 && target < b->len && ((unsigned char)s[target] & 0xC0) == 0x80)
                target--;
            a->imp.cur = target;
            break;
        }
        case KEY_BACKSPACE:
            if (a->imp.cur > 0) {
                size_t p = tx_prev_char(s, a->imp.cur);
                memmove(b->p + p, b->p + a->imp.cur, b->len - a->imp.cur + 1);
                b->len -= a->imp.cur - p;
                a->imp.cur = p;
            }
            break;
        case KEY_DC:
            if (a->imp.cur < b->len) {
                size_t p = tx_next_char(s, b->len, a->imp.cur);
                memmove(b->p + a->imp.cur, b->p + p, b->len - p + 1);
                b->len -= p - a->imp.cur;
            }
            break;
        case KEY_ENTER:
            key = '\n';
            is_code = false;
            break;
        default:
            return false; /* F-keys, PgUp/PgDn: the key table */
        }
        if (is_code) {
            a->dirty |= D_BODY;
            return true;
        }
    }
    if (key == ESC || key == '\t' || key == 12 /* ^L */)
        return false;
    if (key == 127 || key == 8)
        return imp_text_key(a, KEY_BACKSPACE, true);
    char mb[MB_LEN_MAX];
    size_t n;
    if (key == '\r' || key == '\n') {
        mb[0] = '\n';
        n = 1;
    } else if (key == '\t' || key >= 32) {
        mbstate_t ms;
        memset(&ms, 0, sizeof(ms));
        n = wcrtomb(mb, (wchar_t)key, &ms);
        if (n == (size_t)-1)
            return true;
    } else {
        return true; /* other control characters are ignored */
    }
    /* insert at the cursor: append then rotate the tail into place */
    size_t old = b->len;
    if (gg_buf_add(b, mb, n) < 0) {
        app_msg(a, R_MSG_ERR, "import text is limited to 8 MiB");
        return true;
    }
    memmove(b->p + a->imp.cur + n, b->p + a->imp.cur, old - a->imp.cur);
    memcpy(b->p + a->imp.cur, mb, n);
    b->p[b->len] = '\0';
    a->imp.cur += n;
    a->dirty |= D_BODY;
    return true;
}

const struct view_ops view_import = {
    .name = "Import",
    .tab = " 3 Import ",
    .draw = imp_draw,
    .action = imp_action,
    .text_key = imp_text_key,
};

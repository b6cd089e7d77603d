/* xlate.c -- see xlate.h */
#include "xlate.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "gg_buf.h"
#include "xfast.h"

/* Headings Gemini puts at the top of thought summaries (seed filter). */
static const char *const thinking_headings[] = {
    "Assessing the Request", "Generating Response", "Analyzing the Request",
    "Formulating the Response", "Formulating a Response", "Understanding the Request",
    "Considering the Request", "Crafting the Response", "Drafting the Response",
    NULL,
};

bool xlate_fastpath = true;

void xlate_init(struct xlate *x, const struct xlate_sink *sink)
{
    memset(x, 0, sizeof(*x));
    x->sink = *sink;
    const char *env = getenv("XLATE_FASTPATH");
    x->fastpath = xlate_fastpath && !(env && strcmp(env, "0") == 0);
    x->at_line_start = true;
}

void xlate_set_inline(struct xlate *x, xlate_inline_fn fn)
{
    x->on_inline = fn;
}

bool xlate_is_thinking_heading(const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')) {
        s++;
        n--;
    }
    if (n < 4 || s[0] != '*' || s[1] != '*')
        return false;
    for (int i = 0; thinking_headings[i]; i++) {
        size_t l = strlen(thinking_headings[i]);
        if (n >= l + 4 && memcmp(s + 2, thinking_headings[i], l) == 0 && s[l + 2] == '*' && s[l + 3] == '*')
            return true;
    }
    return false;
}

static bool is_true(const cJSON *j)
{
    return cJSON_IsTrue(j) || (cJSON_IsString(j) && strcmp(j->valuestring, "true") == 0);
}

static const char *str_of(const cJSON *obj, const char *key)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(j) ? j->valuestring : NULL;
}

static const char CTRL[] = "<ctrl46>";
#define CTRL_N (sizeof(CTRL) - 1)

/* 2 = s (leading whitespace skipped, first line only) is a thinking
 * heading, 1 = it could still become one, 0 = it cannot. */
static int heading_state(const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')) {
        s++;
        n--;
    }
    const char *nl = memchr(s, '\n', n);
    bool line_done = nl != NULL;
    if (nl)
        n = (size_t)(nl - s);
    if (n >= 4 && xlate_is_thinking_heading(s, n))
        return 2;
    if (line_done)
        return 0;
    if (n == 0)
        return 1;
    for (int i = 0; thinking_headings[i]; i++) {
        size_t l = strlen(thinking_headings[i]);
        /* "**" heading "**" compared piecewise against the n bytes held */
        size_t k = 0;
        bool ok = true;
        for (; k < n && ok; k++) {
            char want = k < 2 ? '*' : k < l + 2 ? thinking_headings[i][k - 2] : k < l + 4 ? '*' : '\0';
            if (!want || s[k] != want)
                ok = false;
        }
        if (ok)
            return 1;
    }
    return 0;
}

/* Release a held "<ctrl46>" prefix that never completed; end a dropped line. */
static void release_ctrl(struct xlate *x)
{
    if (x->hold_n && x->sink.text)
        x->sink.text(x->sink.ctx, x->hold, x->hold_n, x->line_thought);
    x->hold_n = 0;
    x->dropping = false;
    x->eat_nl = false;
    x->at_line_start = true;
}

/* The "<ctrl46>" line filter over text of one kind: kept bytes into b. */
static void ctrl_filter(struct xlate *x, const char *t, size_t n, struct gg_buf *b)
{
    if (x->eat_nl) {
        x->eat_nl = false;
        if (t[0] == '\n') {
            t++;
            if (--n == 0)
                return;
        }
    }
    if (!x->dropping && !x->hold_n && !memchr(t, '<', n)) {
        gg_buf_add(b, t, n);
        x->at_line_start = t[n - 1] == '\n';
        return;
    }
    size_t run = 0;      /* start of the bytes kept in a row */
    for (size_t i = 0; i < n; i++) {
        char ch = t[i];
        if (x->dropping) {
            if (ch == '\n') {
                x->dropping = false;
                x->at_line_start = true;
            }
            x->drop_last = ch;
            run = i + 1;
            continue;
        }
        if (x->hold_n) {
            x->hold[x->hold_n++] = ch;
            run = i + 1;
            if (memcmp(x->hold, CTRL, x->hold_n) != 0) {
                gg_buf_add(b, x->hold, x->hold_n);
                x->hold_n = 0;
                x->at_line_start = ch == '\n';
            } else if (x->hold_n == CTRL_N) {
                x->hold_n = 0;
                x->status_lines++;
                x->dropping = true;
                x->drop_last = '>';
            }
            continue;
        }
        if (x->at_line_start && ch == '<') {
            gg_buf_add(b, t + run, i - run);
            x->hold[0] = '<';
            x->hold_n = 1;
            x->at_line_start = false;
            run = i + 1;
            continue;
        }
        x->at_line_start = ch == '\n';
    }
    if (!x->dropping && !x->hold_n && run < n)
        gg_buf_add(b, t + run, n - run);
    /* a status line whose fragment ends like a finished line ends with it
     * ("...Pro.", "(8, 8)"): the next fragment is text again */
    if (x->dropping && (x->drop_last == '.' || x->drop_last == ')' || x->drop_last == '!')) {
        x->dropping = false;
        x->at_line_start = true;
        x->eat_nl = true;      /* its newline may open the next fragment */
    }
}

/* Text of one kind through the status-line filter to the sink. */
static void emit_text(struct xlate *x, const char *t, size_t n, bool thought)
{
    if (!x->sink.text || n == 0)
        return;
    if (x->line_thought != thought) {
        release_ctrl(x);
        x->line_thought = thought;
    }
    struct gg_buf b;
    gg_buf_init(&b, n + XL_HOLD + 1);
    ctrl_filter(x, t, n, &b);
    if (b.len)
        x->sink.text(x->sink.ctx, b.p, b.len, thought);
    gg_buf_free(&b);
}

/* Held unflagged text that might have become a heading. */
static void release_head(struct xlate *x, bool thought)
{
    if (!x->head_pending)
        return;
    x->head_pending = false;
    size_t n = x->hold_n;
    char tmp[XL_HOLD];
    memcpy(tmp, x->hold, n);
    x->hold_n = 0;
    if (!thought)
        x->answer_seen = true;
    emit_text(x, tmp, n, thought);
}

/* Unflagged text before any answer: the heading fallback, on lines. */
static void route_unflagged(struct xlate *x, const char *t, size_t n)
{
    char buf[XL_HOLD];
    size_t hn = x->head_pending ? x->hold_n : 0;
    size_t m = n < XL_HOLD - hn ? n : XL_HOLD - hn;
    memcpy(buf, x->hold, hn);
    memcpy(buf + hn, t, m);
    int st = heading_state(buf, hn + m);
    if (st == 1 && m == n && hn + m < XL_HOLD) {
        /* could still be a heading: hold (at most one line) */
        if (!x->head_pending) {
            release_ctrl(x);
            x->head_pending = true;
        }
        memcpy(x->hold + hn, t, n);
        x->hold_n = hn + n;
        return;
    }
    bool thought = st == 2;
    release_head(x, thought);
    if (!thought)
        x->answer_seen = true;
    emit_text(x, t, n, thought);
}

void xlate_flush(struct xlate *x)
{
    if (x->head_pending) {
        release_head(x, false);
        return;
    }
    release_ctrl(x);
}

/* One non-empty reply text: thought routing (flag, then the heading fallback
 * on lines), then emit.  Shared by the cJSON and the fast path. */
static void reply_text(struct xlate *x, const char *text, bool thought)
{
    if (thought)
        release_head(x, true);
    if (!thought && !x->answer_seen)
        route_unflagged(x, text, strlen(text));
    else
        emit_text(x, text, strlen(text), thought);
}

static void do_reply(struct xlate *x, const cJSON *reply)
{
    const cJSON *gc = cJSON_GetObjectItemCaseSensitive(reply, "groundedContent");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(gc ? gc : reply, "content");
    if (!cJSON_IsObject(content))
        return;
    const char *text = str_of(content, "text");
    if (text && *text)
        reply_text(x, text, is_true(cJSON_GetObjectItemCaseSensitive(content, "thought")));
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(content, "file");
    const cJSON *inl = cJSON_GetObjectItemCaseSensitive(content, "inlineData");
    if (cJSON_IsObject(file) || cJSON_IsObject(inl))
        xlate_flush(x);      /* a status line never runs past a file */
    if (cJSON_IsObject(file) && x->sink.file) {
        const char *id = str_of(file, "fileId");
        if (id && *id)
            x->sink.file(x->sink.ctx, id, str_of(file, "mimeType"), str_of(file, "name"));
    }
    if (cJSON_IsObject(inl) && x->on_inline) {
        const char *data = str_of(inl, "data");
        if (data && *data)
            x->on_inline(x->sink.ctx, str_of(inl, "mimeType"), data);
    }
}

static void do_skipped(struct xlate *x, const cJSON *answer, const char *state)
{
    struct gg_buf d;
    gg_buf_init(&d, 8192);
    const cJSON *reasons = cJSON_GetObjectItemCaseSensitive(answer, "assistSkippedReasons");
    const cJSON *r;
    cJSON_ArrayForEach(r, reasons) {
        if (cJSON_IsString(r))
            gg_buf_printf(&d, "%s%s", d.len ? ", " : "", r->valuestring);
    }
    const cJSON *cper = cJSON_GetObjectItemCaseSensitive(answer, "customerPolicyEnforcementResult");
    const cJSON *prs = cJSON_GetObjectItemCaseSensitive(cper, "policyResults");
    const cJSON *pr;
    cJSON_ArrayForEach(pr, prs) {
        const cJSON *ma = cJSON_GetObjectItemCaseSensitive(pr, "modelArmorEnforcementResult");
        const char *v = str_of(ma, "modelArmorViolation");
        if (v)
            gg_buf_printf(&d, "%s%s", d.len ? ": " : "", v);
    }
    x->sink.state(x->sink.ctx, state, d.len ? d.p : NULL);
    gg_buf_free(&d);
}

/* The fast path (xfast.c) for the common text-only IN_PROGRESS element:
 * true when it handled the element, with the same sink calls in the same
 * order as below; false leaves everything to cJSON. */
static bool fast_element(struct xlate *x, const char *json, size_t n)
{
    char stackbuf[4096], *buf = stackbuf;
    struct xfast_result r;
    if (n >= sizeof stackbuf && !(buf = malloc(n + 1)))
        return false;
    bool ok = xfast_parse(json, n, buf, buf == stackbuf ? sizeof stackbuf : n + 1, &r);
    if (ok) {
        x->elements++;
        for (size_t i = 0; i < r.ntext; i++)
            reply_text(x, r.text[i].s, r.text[i].thought);
        if (r.session && x->sink.session)
            x->sink.session(x->sink.ctx, r.session);
        if (x->sink.state)
            x->sink.state(x->sink.ctx, "IN_PROGRESS", NULL);
    }
    if (buf != stackbuf)
        free(buf);
    return ok;
}

int xlate_element(struct xlate *x, const char *json, size_t n)
{
    if (x->fastpath && fast_element(x, json, n))
        return 0;
    cJSON *root = cJSON_ParseWithLength(json, n);
    if (!root)
        return -1;
    x->elements++;
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (cJSON_IsObject(err)) {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
        if (x->sink.error)
            x->sink.error(x->sink.ctx, cJSON_IsNumber(code) ? code->valueint : 0,
                          str_of(err, "status"), str_of(err, "message"));
        cJSON_Delete(root);
        return 0;
    }
    if (cJSON_GetObjectItemCaseSensitive(root, "uToken"))
        x->utoken_seen = true;
    const cJSON *sar = cJSON_GetObjectItemCaseSensitive(root, "streamAssistResponse");
    if (sar)
        x->sar_seen = true;
    const cJSON *answer = cJSON_GetObjectItemCaseSensitive(sar, "answer");
    const cJSON *replies = cJSON_GetObjectItemCaseSensitive(answer, "replies");
    const cJSON *reply;
    cJSON_ArrayForEach(reply, replies)
        do_reply(x, reply);
    const cJSON *si = cJSON_GetObjectItemCaseSensitive(sar, "sessionInfo");
    const char *sess = str_of(si, "session");
    if (sess && *sess && x->sink.session)
        x->sink.session(x->sink.ctx, sess);
    const char *state = str_of(answer, "state");
    if (state && x->sink.state) {
        if (strcmp(state, "SKIPPED") == 0 || strcmp(state, "FAILED") == 0)
            do_skipped(x, answer, state);
        else
            x->sink.state(x->sink.ctx, state, NULL);
    }
    cJSON_Delete(root);
    return 0;
}

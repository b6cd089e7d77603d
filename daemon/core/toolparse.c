/* toolparse.c -- finding tool calls in the model's answer text: one scanner
 * shared by the one-shot parser and the streaming detector, so the two agree
 * by construction.  The scanner walks the text once; at a position where a
 * call may start (`<tool_call`, a ``` fence at a line start, a `{`/`[` at a
 * line start) a resolver looks ahead and answers MORE (cannot tell yet:
 * hold), TEXT (the next `end` bytes are plain text) or DONE (the next `end`
 * bytes were calls).  A resolver only answers TEXT/DONE from bytes it has
 * seen, so a decision on a prefix is the decision on the whole reply.
 * Candidates are documented in docs/TOOLS.md ("What counts as a call"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toolsint.h"

enum cand_kind { C_MORE, C_TEXT, C_DONE };
struct cand {
    enum cand_kind kind;
    size_t end;
};

static const char OPEN_TAG[] = "<tool_call";
static const char END_TAG[] = "</tool_call>";
#define OPEN_LEN (sizeof OPEN_TAG - 1)
#define END_LEN (sizeof END_TAG - 1)
#define ATTR_MAX 200
#define INFO_MAX 24

static struct cand more(void) { return (struct cand){C_MORE, 0}; }
static struct cand text(size_t end) { return (struct cand){C_TEXT, end ? end : 1}; }
static struct cand done(size_t end) { return (struct cand){C_DONE, end}; }

static size_t skip_ws(const char *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

/* p[0..n) starts with the first n bytes of lit (n < strlen(lit)). */
static bool partial(const char *p, size_t n, const char *lit, size_t litlen)
{
    return n < litlen && memcmp(p, lit, n) == 0;
}

static void add_error(struct tools_result *res, const char *msg)
{
    if (res->n_errors++ == 0)
        snprintf(res->error, sizeof res->error, "%s", msg);
}

/* Value of attribute `key` in a[0..n) (key="v", key='v' or key=v) into out. */
static bool attr(const char *a, size_t n, const char *key, char *out, size_t outlen)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl < n; i++) {
        if ((i > 0 && a[i - 1] != ' ' && a[i - 1] != '\t') || memcmp(a + i, key, kl) != 0)
            continue;
        size_t j = i + kl;
        while (j < n && a[j] == ' ')
            j++;
        if (j >= n || a[j] != '=')
            continue;
        j++;
        while (j < n && a[j] == ' ')
            j++;
        char q = j < n && (a[j] == '"' || a[j] == '\'') ? a[j++] : 0;
        size_t k = j;
        while (k < n && (q ? a[k] != q : (a[k] != ' ' && a[k] != '/')))
            k++;
        size_t l = k - j < outlen - 1 ? k - j : outlen - 1;
        memcpy(out, a + j, l);
        out[l] = 0;
        return true;
    }
    return false;
}

/* A marked block that failed: it is text (kept) and an error; it extends
 * through its closing tag (or the end of the reply). */
static struct cand marked_fail(const char *p, size_t n, size_t from, bool eof, struct tools_result *res,
                               const char *msg)
{
    size_t lim = n - from < TOOLS_MAX_CALL_BYTES ? n : from + TOOLS_MAX_CALL_BYTES;
    const char *e = memmem(p + from, lim - from, END_TAG, END_LEN);
    size_t end;
    if (e)
        end = (size_t)(e - p) + END_LEN;
    else if (!eof && lim == n)
        return more();
    else
        end = lim;
    add_error(res, msg);
    return text(end);
}

static bool info_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
           c == '.' || c == '-';
}

/* A ``` fence line opening the body of a block at p[*j]: 1 = skipped (*j at
 * the content), 0 = none, -1 = cannot tell yet. */
static int inner_fence_open(const char *p, size_t n, bool eof, size_t *j)
{
    if (*j == n || p[*j] != '`')
        return 0;
    if (n - *j < 3)
        return eof ? 0 : -1;
    if (memcmp(p + *j, "```", 3) != 0)
        return 0;
    size_t q = *j + 3;
    while (q < n && q < *j + 3 + INFO_MAX && info_char(p[q]))
        q++;
    if (q == n)
        return eof ? 0 : -1;
    if (p[q] != '\n' && p[q] != '\r')
        return 0;
    *j = skip_ws(p, n, q);
    return *j == n && !eof ? -1 : 1;
}

static struct cand tag(const struct tools_spec *s, const char *p, size_t n, bool eof, bool ls,
                       struct tools_result *res)
{
    if (n <= OPEN_LEN)
        return !eof && memcmp(p, OPEN_TAG, n) == 0 ? more() : text(1);
    if (memcmp(p, OPEN_TAG, OPEN_LEN) != 0)
        return text(1);
    char c = p[OPEN_LEN];
    if (c != ' ' && c != '\t' && c != '>')
        return text(OPEN_LEN);
    size_t gt = OPEN_LEN, lim = OPEN_LEN + ATTR_MAX;
    while (gt < n && gt < lim && p[gt] != '>' && p[gt] != '<' && p[gt] != '\n')
        gt++;
    if (gt == n && !eof && gt < lim)
        return more();
    if (gt >= n || gt >= lim || p[gt] != '>')   /* never look at p[lim]: same answer on any prefix */
        return text(OPEN_LEN);
    char mk[TOOLS_MARKER_LEN + 8], name[128];
    bool has_mk = attr(p + OPEN_LEN, gt - OPEN_LEN, "marker", mk, sizeof mk);
    bool marked = has_mk && strcmp(mk, s->marker) == 0;
    bool has_name = attr(p + OPEN_LEN, gt - OPEN_LEN, "name", name, sizeof name);
    size_t body = gt + 1;
    if (!marked && !ls)
        return text(body);
    size_t j = skip_ws(p, n, body);
    if (j == n && !eof)
        return more();
    int inner = inner_fence_open(p, n, eof, &j);  /* <tool_call ...> ```json { ... } ``` </tool_call> */
    if (inner < 0)
        return more();
    if (j == n || (p[j] != '{' && p[j] != '[')) {
        if (!marked)
            return text(body);
        return marked_fail(p, n, body, eof, res, "the tool call block does not contain a JSON object");
    }
    size_t e = 0;
    enum tj_span sp = tj_span(p + j, n - j, eof, true, &e);
    if (sp == TJ_MORE)
        return more();
    if (sp == TJ_BAD) {
        if (!marked)
            return text(body);
        return marked_fail(p, n, body, eof, res, "the tool call's JSON is malformed or truncated");
    }
    size_t after = j + e, k = skip_ws(p, n, after), end;
    unsigned rep = inner ? TOOLS_REP_FENCE : 0;
    if (inner && n - k >= 3 && memcmp(p + k, "```", 3) == 0)
        after = k + 3, k = skip_ws(p, n, k + 3);
    else if (inner && !eof && partial(p + k, n - k, "```", 3))
        return more();
    if (n - k >= END_LEN && memcmp(p + k, END_TAG, END_LEN) == 0) {
        end = k + END_LEN;
    } else if (!eof && (k == n || partial(p + k, n - k, END_TAG, END_LEN))) {
        return more();
    } else {
        /* something else follows the JSON: junk inside a block that closes
         * later, or a block whose closing tag was forgotten */
        size_t to = n - k < TOOLS_MAX_CALL_BYTES ? n : k + TOOLS_MAX_CALL_BYTES;
        const char *ce = k < n ? memmem(p + k, to - k, END_TAG, END_LEN) : NULL;
        const char *no = k < n ? memmem(p + k, to - k, OPEN_TAG, OPEN_LEN) : NULL;
        if (sp == TJ_OPEN || (ce && (!no || ce < no)))
            return marked ? marked_fail(p, n, body, eof, res, "the tool call block is malformed: text after the JSON")
                          : text(body);
        if (!no && !eof && to == n)
            return more();
        end = k == n ? n : after;
        rep |= TOOLS_REP_CLOSE_TAG;
    }
    cJSON *root = tj_parse(p + j, e, sp == TJ_OPEN, &rep);
    char err[400] = "";
    enum tj_outcome o = TJ_NOT_CALL;
    if (root)
        o = tj_calls(s, root, has_name ? name : NULL, res, &rep, err, sizeof err);
    cJSON_Delete(root);
    if (o == TJ_CALLS) {
        res->repairs |= rep | (marked ? 0 : TOOLS_REP_MARKER);
        return done(end);
    }
    if (o == TJ_INVALID) {
        add_error(res, err);
        return text(end);
    }
    if (!marked)
        return text(body);
    if (!root)
        snprintf(err, sizeof err, "the tool call's JSON could not be parsed");
    else if (!err[0])
        snprintf(err, sizeof err, "the tool call block must hold {\"name\": ..., \"arguments\": {...}}");
    add_error(res, err);
    return text(end);
}

static void result_move_calls(struct tools_result *to, struct tools_result *from)
{
    for (size_t i = 0; i < from->n_calls; i++) {
        struct exch_tool_call *c = &from->calls[i];
        struct exch_tool_call *n = to->n_calls < TOOLS_MAX_CALLS
                                       ? realloc(to->calls, (to->n_calls + 1) * sizeof *n) : NULL;
        if (!n) {
            free(c->id);
            free(c->name);
            free(c->args_json);
            continue;
        }
        to->calls = n;
        to->calls[to->n_calls++] = *c;
    }
    free(from->calls);
    from->calls = NULL;
    from->n_calls = 0;
}

static struct cand fence(const struct tools_spec *s, const char *p, size_t n, bool eof, struct tools_result *res)
{
    if (n < 3)
        return !eof && partial(p, n, "```", 3) ? more() : text(1);
    if (memcmp(p, "```", 3) != 0)
        return text(1);
    size_t i = 3;
    while (i < n && i < 3 + INFO_MAX && info_char(p[i]))
        i++;
    bool tool_code = i - 3 == 9 && memcmp(p + 3, "tool_code", 9) == 0;
    while (i < n && i < 3 + INFO_MAX + 8 && (p[i] == ' ' || p[i] == '\r'))
        i++;
    if (i == n)
        return eof ? text(3) : more();
    if (p[i] != '\n')
        return text(3);
    size_t body = i + 1, k = body, items = 0;
    struct tools_result tmp;
    struct cand r = text(body);
    memset(&tmp, 0, sizeof tmp);
    for (;;) {
        k = skip_ws(p, n, k);
        if (k == n) {
            r = eof ? text(body) : more();
            break;
        }
        if (n - k >= 3 && memcmp(p + k, "```", 3) == 0) {
            r = items ? done(k + 3) : text(body);
            break;
        }
        if (n - k < 3 && !eof && partial(p + k, n - k, "```", 3)) {
            r = more();
            break;
        }
        if (p[k] == ',') {
            k++;
            continue;
        }
        if (p[k] == '<') {
            struct cand t = tag(s, p + k, n - k, eof, true, &tmp);
            if (t.kind == C_MORE || (t.kind == C_TEXT && tmp.n_errors == 0)) {
                r = t.kind == C_MORE ? more() : text(body);
                break;
            }
            k += t.end;
            if (t.kind == C_TEXT)
                goto error;
            items++;
            continue;
        }
        if (tool_code && p[k] != '{' && p[k] != '[') {
            size_t e = 0;
            unsigned rep = 0;
            char err[400] = "";
            enum py_res pr = tj_pycall(s, p + k, n - k, eof, &tmp, &rep, &e, err, sizeof err);
            if (pr == PY_MORE || pr == PY_NOT) {
                r = pr == PY_MORE ? more() : text(body);
                break;
            }
            k += e;
            if (pr == PY_INVALID) {
                add_error(&tmp, err);
                goto error;
            }
            tmp.repairs |= rep | TOOLS_REP_TOOL_CODE;
            items++;
            continue;
        }
        if (p[k] != '{' && p[k] != '[')
            break;      /* r = text(body) */
        size_t e = 0;
        enum tj_span sp = tj_span(p + k, n - k, eof, false, &e);
        if (sp != TJ_OK) {
            r = sp == TJ_MORE ? more() : text(body);
            break;
        }
        unsigned rep = 0;
        char err[400] = "";
        cJSON *root = tj_parse(p + k, e, false, &rep);
        enum tj_outcome o = root ? tj_calls(s, root, NULL, &tmp, &rep, err, sizeof err) : TJ_NOT_CALL;
        cJSON_Delete(root);
        k += e;
        if (o == TJ_NOT_CALL)
            break;      /* r = text(body) */
        tmp.repairs |= rep;
        if (o == TJ_INVALID) {
            add_error(&tmp, err);
            goto error;
        }
        items++;
    }
    if (r.kind == C_DONE) {
        result_move_calls(res, &tmp);
        res->repairs |= tmp.repairs | TOOLS_REP_FENCE;
    }
    tools_result_free(&tmp);
    return r;
error: {
        /* a call attempt inside the fence is invalid: the whole fence is
         * text, the errors count */
        const char *e = k < n ? memmem(p + k, n - k, "```", 3) : NULL;
        if (!e && !eof) {
            tools_result_free(&tmp);
            return more();
        }
        res->n_errors += tmp.n_errors;
        if (!res->error[0])
            memcpy(res->error, tmp.error, sizeof res->error);
        tools_result_free(&tmp);
        return text(e ? (size_t)(e - p) + 3 : n);
    }
}

static struct cand bare(const struct tools_spec *s, const char *p, size_t n, bool eof, struct tools_result *res)
{
    size_t k = skip_ws(p, n, 1);
    if (k == n)
        return eof ? text(1) : more();
    if (p[0] == '{' ? (p[k] != '"' && p[k] != '\'') : p[k] != '{')
        return text(1);
    size_t e = 0;
    enum tj_span sp = tj_span(p, n, eof, false, &e);
    if (sp == TJ_MORE)
        return more();
    if (sp != TJ_OK)
        return text(e);
    unsigned rep = 0;
    char err[400] = "";
    cJSON *root = tj_parse(p, e, false, &rep);
    enum tj_outcome o = root ? tj_calls(s, root, NULL, res, &rep, err, sizeof err) : TJ_NOT_CALL;
    cJSON_Delete(root);
    if (o == TJ_CALLS) {
        res->repairs |= rep | TOOLS_REP_BARE;
        return done(e);
    }
    if (o == TJ_INVALID)
        add_error(res, err);
    return text(e);
}

static int emit(struct tools_result *res, struct gg_buf *out, const char *p, size_t n)
{
    if (n == 0)
        return 0;
    if (gg_buf_add(&res->text, p, n) < 0)
        return -1;
    return out ? gg_buf_add(out, p, n) : 0;
}

static bool next_ls(bool ls, char c)
{
    return c == '\n' ? true : (c == ' ' || c == '\t') ? ls : false;
}

/* Decide as much of p[0..n) as possible; *used = bytes decided. */
static int scan(const struct tools_spec *s, const char *p, size_t n, bool eof, bool *ls,
                struct tools_result *res, struct gg_buf *out, size_t *used)
{
    size_t i = 0, t = 0;
    bool l = *ls;
    while (i < n) {
        char c = p[i];
        struct cand r;
        if (c == '<')
            r = tag(s, p + i, n - i, eof, l, res);
        else if (l && c == '`')
            r = fence(s, p + i, n - i, eof, res);
        else if (l && (c == '{' || c == '['))
            r = bare(s, p + i, n - i, eof, res);
        else {
            l = next_ls(l, c);
            i++;
            continue;
        }
        if (r.kind == C_MORE)
            break;
        if (r.kind == C_DONE) {
            if (emit(res, out, p + t, i - t) < 0)
                return -1;
            i += r.end;
            t = i;
            l = true;
            continue;
        }
        for (size_t e = i + r.end; i < e; i++)
            l = next_ls(l, p[i]);
    }
    if (emit(res, out, p + t, i - t) < 0)
        return -1;
    *used = i;
    *ls = l;
    return 0;
}

/* tool_choice and parallel_tool_calls, once the whole reply is known. */
static void finalize(const struct tools_spec *s, struct tools_result *res)
{
    if (s->choice == EXCH_TOOLS_NAMED && s->choice_name) {
        size_t k = 0;
        for (size_t i = 0; i < res->n_calls; i++) {
            struct exch_tool_call *c = &res->calls[i];
            if (strcmp(c->name, s->choice_name) == 0) {
                res->calls[k++] = *c;
            } else {
                free(c->id);
                free(c->name);
                free(c->args_json);
            }
        }
        res->n_calls = k;
        if (k == 0 && res->n_errors == 0) {
            char m[200];
            snprintf(m, sizeof m, "the reply must call the tool \"%.100s\"", s->choice_name);
            add_error(res, m);
        }
    }
    if (s->choice == EXCH_TOOLS_REQUIRED && res->n_calls == 0 && res->n_errors == 0)
        add_error(res, "the reply must call one of the tools");
    if (!s->parallel && res->n_calls > 1) {
        for (size_t i = 1; i < res->n_calls; i++) {
            free(res->calls[i].id);
            free(res->calls[i].name);
            free(res->calls[i].args_json);
        }
        res->n_calls = 1;
        res->repairs |= TOOLS_REP_PARALLEL;
    }
}

static void result_init(struct tools_result *res)
{
    memset(res, 0, sizeof *res);
    gg_buf_init(&res->text, TOOLS_MAX_REPLY);
}

void tools_result_free(struct tools_result *res)
{
    if (!res)
        return;
    gg_buf_free(&res->text);
    for (size_t i = 0; i < res->n_calls; i++) {
        free(res->calls[i].id);
        free(res->calls[i].name);
        free(res->calls[i].args_json);
    }
    free(res->calls);
    res->calls = NULL;
    res->n_calls = 0;
}

int tools_parse_reply(const struct tools_spec *s, const char *reply, size_t len, struct tools_result *res)
{
    bool ls = true;
    size_t used = 0;
    result_init(res);
    if (len > TOOLS_MAX_REPLY || scan(s, reply, len, true, &ls, res, NULL, &used) < 0)
        return -1;
    finalize(s, res);
    return 0;
}

/* ---- streaming -------------------------------------------------------------- */

int tools_stream_init(struct tools_stream *st, const struct tools_spec *s)
{
    memset(st, 0, sizeof *st);
    st->spec = s;
    st->line_start = true;
    gg_buf_init(&st->hold, TOOLS_MAX_REPLY);
    result_init(&st->res);
    return 0;
}

static int stream_scan(struct tools_stream *st, bool eof, struct gg_buf *out)
{
    size_t used = 0;
    if (st->hold.len == 0)
        return 0;
    if (scan(st->spec, st->hold.p, st->hold.len, eof, &st->line_start, &st->res, out, &used) < 0)
        return -1;
    gg_buf_consume(&st->hold, used);
    st->scanned = st->hold.len;
    return 0;
}

int tools_stream_feed(struct tools_stream *st, const char *p, size_t n, struct gg_buf *out)
{
    if (n == 0)
        return 0;
    st->total += n;
    if (st->total > TOOLS_MAX_REPLY || gg_buf_add(&st->hold, p, n) < 0)
        return -1;
    /* undecided candidates are rescanned only as the hold grows by a
     * quarter (small holds: always), which keeps the total work linear */
    if (st->hold.len < 4096 || st->hold.len >= st->scanned + st->scanned / 4)
        return stream_scan(st, false, out);
    return 0;
}

int tools_stream_finish(struct tools_stream *st, struct gg_buf *out, struct tools_result *res)
{
    if (stream_scan(st, true, out) < 0)
        return -1;
    finalize(st->spec, &st->res);
    *res = st->res;
    result_init(&st->res);
    return 0;
}

void tools_stream_free(struct tools_stream *st)
{
    gg_buf_free(&st->hold);
    tools_result_free(&st->res);
}

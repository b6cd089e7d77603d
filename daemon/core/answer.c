/* answer.c -- see answer.h */
#include "answer.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "pool.h"
#include "config.h"
#include "gg_b64.h"
#include "gg_log.h"
#include "results.h"
#include "gg_time.h"
#include "exch_limits.h"
#include "media.h"
#include "tokens.h"
#include "toolcall.h"

#define SCRATCH_MAX (64u << 20)
#define FRAME_SLACK (64u * 1024u)    /* a dialect's framing around its strings */

static __thread struct gg_buf scratch = {NULL, 0, 0, SCRATCH_MAX};  /* one per upstream loop */
static __thread struct gg_buf released = {NULL, 0, 0, SCRATCH_MAX}; /* tool detector output, same loop */

/* An upper bound of a JSON-escaped copy of s, every escape at its longest
 * form (controls, DEL and C1 as \u00XX).  Dialects append to a capped
 * buffer and cannot fail (exch.h), so the core checks the bound first and
 * never hands a dialect more than fits: a cut frame would be malformed. */
static size_t json_bound(const char *s, size_t n)
{
    size_t m = n + 2;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\')
            m += 5;
        else if (ch == 0xC2)
            m += 4;
    }
    return m;
}

/* The output cannot take this frame: close the connection hard. */
static void abort_oversized(struct call *c, const char *what)
{
    GG_WARN("[%s] %s above the %u MiB output cap: connection closed", c->request_id, what, SCRATCH_MAX >> 20);
    pthread_mutex_lock(&c->mu);
    c->aborted = true;
    if (!c->error_kind)
        c->error_kind = "too_large";
    call_wake_locked(c);
    pthread_mutex_unlock(&c->mu);
}

/* c->answer is empty: count it (c->answer_tok: no pass over a long answer
 * at its end, answer_usage) and hash it for the conversation key (chat
 * calls; machine.c's up_complete_ok) from here */
static void answer_start(struct call *c)
{
    if (c->kind == CALL_CHAT)
        exch_convhash_begin(&c->convkey, c->key_id, &c->req, c->req.n_msgs);
    exch_tokcount_init(&c->answer_tok);
}

/* Every append to c->answer goes through here (-1: above its cap). */
static int answer_add(struct call *c, const char *s, size_t n)
{
    if (gg_buf_add(&c->answer, s, n) != 0)
        return -1;
    exch_convhash_feed(&c->convkey, c->answer.p, c->answer.len);
    exch_tokcount_feed(&c->answer_tok, s, n);
    return 0;
}

/* The running count when it covers exactly c->answer (it always should:
 * every change goes through answer_start / answer_add), else the whole
 * text counted now: the result is the same either way. */
static int64_t answer_tokens(const struct call *c)
{
    if (c->answer_tok.len == c->answer.len)
        return exch_tokcount_total(&c->answer_tok);
    return exch_estimate_tokens(c->answer.p ? c->answer.p : "", c->answer.len);
}

void answer_cleanup(void)
{
    gg_buf_free(&scratch);
    gg_buf_free(&released);
}

static __thread struct call *held;       /* wake-ups of this call deferred (answer_hold) */
static __thread bool held_wake;          /* output appended while held */

void answer_hold(struct call *c)
{
    if (held == c)
        return;
    if (held)
        answer_release(held);
    held = c;
    held_wake = false;
}

void answer_release(struct call *c)
{
    if (held != c)
        return;
    held = NULL;
    if (!held_wake)
        return;
    held_wake = false;
    pthread_mutex_lock(&c->mu);
    call_wake_locked(c);
    pthread_mutex_unlock(&c->mu);
}

void answer_release_held(void)
{
    if (held)
        answer_release(held);
}

/* Output was appended (c->mu held): resume the connection now, or at
 * answer_release when held and these are not the response's first bytes. */
static void wake_out_locked(struct call *c, bool first)
{
    if (held == c && !first) {
        held_wake = true;
        return;
    }
    call_wake_locked(c);
}

/* Append bytes to the client's stream (the first byte commits the 200). */
static void out_append(struct call *c, const char *data, size_t n)
{
    pthread_mutex_lock(&c->mu);
    if (!c->conn_gone) {
        bool first = c->phase == PH_WAIT;
        if (first)
            c->phase = PH_STREAM;
        if (gg_buf_add(&c->out, data, n) != 0)
            c->aborted = true;
        wake_out_locked(c, first || c->aborted);
    }
    pthread_mutex_unlock(&c->mu);
    c->last_out_ms = gg_mono_ms();
}

static bool streaming(const struct call *c)
{
    return c->req.stream && c->dialect && !c->dialect->images;
}

static void begin_once(struct call *c, struct gg_buf *b)
{
    if (!c->begun) {
        c->dialect->begin(&c->x, b);
        c->begun = true;
    }
}

/* The event path without the scratch copy (bench/ssebench.c, "direct"):
 * the dialect writes its frame straight into the client's buffer under the
 * call's lock.  Taken only when the buffer's cap leaves room for the worst
 * case (bound), so no append can fail and no frame is cut; false = not
 * taken (client gone, buffer near its cap): the scratch path decides. */
static bool emit_event_direct(struct call *c, const struct exch_event *ev, size_t bound)
{
    pthread_mutex_lock(&c->mu);
    if (c->conn_gone || c->out.len + bound > c->out.max) {
        pthread_mutex_unlock(&c->mu);
        return false;
    }
    size_t len0 = c->out.len;
    if (!c->begun) {
        c->dialect->begin(&c->x, &c->out);
        c->begun = true;
    }
    c->dialect->event(&c->x, ev, &c->out);
    bool wrote = c->out.len > len0;
    if (wrote) {
        bool first = c->phase == PH_WAIT;
        if (first)
            c->phase = PH_STREAM;
        wake_out_locked(c, first);
    }
    pthread_mutex_unlock(&c->mu);
    if (wrote)
        c->last_out_ms = gg_mono_ms();
    return true;
}

static void emit_event(struct call *c, const struct exch_event *ev)
{
    /* json_bound's own worst case (every byte \u00XX) needs no scan of the text */
    size_t worst = FRAME_SLACK + 6 * ((ev->text ? ev->len : 0) + (ev->file ? strlen(ev->file->url) : 0)) + 4;
    if (worst <= SCRATCH_MAX && emit_event_direct(c, ev, worst))
        return;
    size_t bound = FRAME_SLACK + (ev->text ? json_bound(ev->text, ev->len) : 0) +
                   (ev->file ? json_bound(ev->file->url, strlen(ev->file->url)) : 0);
    if (bound > SCRATCH_MAX) {
        abort_oversized(c, "an answer event");
        return;
    }
    struct gg_buf *b = &scratch;
    gg_buf_reset(b);
    begin_once(c, b);
    c->dialect->event(&c->x, ev, b);
    if (b->len)
        out_append(c, b->p, b->len);
}

static void emit_text_ev(struct call *c, enum exch_ev_kind k, const char *s, size_t n)
{
    struct exch_event ev = {.kind = k, .text = s, .len = n};
    emit_event(c, &ev);
}

/* Answer text the tool-call detector let through (streaming). */
static void release_text(struct call *c, const char *s, size_t n)
{
    if (n == 0)
        return;
    if (answer_add(c, s, n) != 0)
        GG_WARN("[%s] answer above its cap; the conversation key will not match", c->request_id);
    emit_text_ev(c, EXCH_EV_TEXT, s, n);
    c->content_sent = true;
}

/* Tools offered: streamed text goes through the detector (held only while
 * it may be a call); unstreamed text is kept whole for tools_parse_reply. */
static void tool_text(struct call *c, const char *s, size_t n)
{
    if (!streaming(c)) {
        if (answer_add(c, s, n) != 0)
            GG_WARN("[%s] answer above its cap", c->request_id);
        return;
    }
    if (!c->tst_on) {
        tools_stream_init(&c->tst, &c->tspec);
        c->tst_on = true;
    }
    gg_buf_reset(&released);
    unsigned errs = c->tst.res.n_errors;
    if (tools_stream_feed(&c->tst, s, n, &released) != 0) {
        /* above the detector's cap: no call can follow; plain text from here */
        GG_WARN("[%s] answer above the tool detector's cap: passed through as text", c->request_id);
        gg_buf_reset(&released);
        tools_stream_finish(&c->tst, &released, &c->tres);
        tools_result_free(&c->tres);
        release_text(c, released.p, released.len);
        release_text(c, c->tst.hold.p, c->tst.hold.len);
        tools_stream_free(&c->tst);
        c->tst_on = false;
        c->tools_on = false;
        release_text(c, s, n);
        return;
    }
    /* an invalid call attempt is decided: it and the rest of this reply are
     * not sent (the corrective retry's answer follows, or the error) */
    if (c->tst.res.n_errors > errs)
        c->tool_withhold = true;
    if (!c->tool_withhold)
        release_text(c, released.p, released.len);
}

/* limits_emit_fn: answer text the client may see */
static void text_out(void *ctx, const char *s, size_t n)
{
    struct call *c = ctx;
    if (c->tools_on) {
        tool_text(c, s, n);
        return;
    }
    if (answer_add(c, s, n) != 0)
        GG_WARN("[%s] answer above its cap; the conversation key will not match", c->request_id);
    if (streaming(c)) {
        emit_text_ev(c, EXCH_EV_TEXT, s, n);
        c->content_sent = true;
    }
}

void answer_reset(struct call *c)
{
    /* a corrective retry in a stream continues after the text already sent */
    if (!(c->tool_fixing && streaming(c))) {
        gg_buf_reset(&c->answer);
        answer_start(c);
    }
    if (c->tst_on)
        tools_stream_free(&c->tst);
    c->tst_on = false;
    c->tool_withhold = false;
    tools_result_free(&c->tres);
    limits_configure(&c->lim, &c->req);
    limits_reset(&c->lim);
    if (!c->req.stream)
        gg_buf_reset(&c->reasoning);
}

void answer_reasoning(struct call *c, const char *s, size_t n)
{
    if (!c->req.want_reasoning || n == 0)
        return;
    gg_buf_add(&c->reasoning, s, n);
    if (streaming(c))
        emit_text_ev(c, EXCH_EV_REASONING, s, n);
}

void answer_text(struct call *c, const char *s, size_t n)
{
    if (n)
        limits_feed(&c->lim, s, n, text_out, c);
}

bool answer_complete(const struct call *c)
{
    return c->lim.done;
}

/* Link or data URL of a downloaded file (malloc'd, NULL on failure): a
 * link stores the bytes for IMAGE_URL_TTL under /images/<token>.<ext>;
 * data URLs when links are not wanted or the store refused. */
static char *file_ref(const struct call *c, const struct gen_file *g)
{
    struct gg_buf b;
    gg_buf_init(&b, 128u << 20);
    char tok[33];
    int rc;
    if (c->req.file_urls && media_store_put(g->data, g->len, g->mime, cfg.image_url_ttl, tok) == 0) {
        rc = gg_buf_printf(&b, "%s/images/%s.%s", c->base_url, tok, media_ext(g->mime));
    } else {
        rc = gg_buf_printf(&b, "data:%s;base64,", g->mime);
        if (rc == 0 && (rc = gg_buf_reserve(&b, gg_b64_enc_len(g->len) + 1)) == 0) {
            b.len += gg_b64_encode(g->data, g->len, b.p + b.len);
            b.p[b.len] = '\0';
        }
    }
    size_t n;
    char *s = rc == 0 ? gg_buf_steal(&b, &n) : NULL;
    gg_buf_free(&b);
    return s;
}

void answer_files(struct call *c)
{
    bool md_links = c->dialect && !c->dialect->images;
    struct gg_buf md;
    gg_buf_init(&md, 64u << 20);
    bool lead = c->answer.len > 0;
    for (size_t i = 0; i < c->n_gen && c->n_files < CALL_MAX_GEN; i++) {
        const struct gen_file *g = &c->gen[i];
        char *ref = g->data ? file_ref(c, g) : NULL;
        if (md_links) {
            if (lead)
                gg_buf_adds(&md, "\n\n");
            lead = true;
        }
        if (!ref) {
            if (md_links)
                gg_buf_adds(&md, "[image unavailable: the download failed]");
            continue;
        }
        struct exch_file *f = &c->files[c->n_files];
        c->file_url[c->n_files++] = ref;
        f->mime = g->mime;
        f->url = ref;
        f->name = NULL;
        if (streaming(c)) {
            struct exch_event ev = {.kind = EXCH_EV_FILE, .file = f};
            emit_event(c, &ev);
        }
        if (md_links) {
            gg_buf_adds(&md, "![image](");
            gg_buf_adds(&md, ref);
            gg_buf_adds(&md, ")");
        }
    }
    if (md.len) {
        /* gateway-made text: not subject to stop sequences / max_tokens */
        answer_add(c, md.p, md.len);
        if (streaming(c)) {
            emit_text_ev(c, EXCH_EV_TEXT, md.p, md.len);
            c->content_sent = true;
        }
    }
    gg_buf_free(&md);
}

void answer_ping(struct call *c)
{
    if (c->dialect && c->dialect->ping && *c->dialect->ping)
        out_append(c, c->dialect->ping, strlen(c->dialect->ping));
}

static int64_t prompt_estimate(const struct call *c)
{
    int64_t t = 0;
    for (size_t i = 0; i < c->req.n_msgs; i++)
        t += exch_estimate_tokens(c->req.msgs[i].text, strlen(c->req.msgs[i].text)) + 4;
    for (size_t i = 0; c->tools_on && i < c->req.n_tools; i++) {     /* the tool block went upstream too */
        const struct exch_tool *tl = &c->req.tools[i];
        t += exch_estimate_tokens(tl->name, strlen(tl->name)) + 8;
        if (tl->description)
            t += exch_estimate_tokens(tl->description, strlen(tl->description));
        if (tl->params_json)
            t += exch_estimate_tokens(tl->params_json, strlen(tl->params_json));
    }
    return t;
}

static int64_t reasoning_tokens(const struct call *c)
{
    return c->reasoning.len ? exch_estimate_tokens(c->reasoning.p, c->reasoning.len) : 0;
}

/* completion_tokens = the answer (tool-call arguments included) + the
 * reasoning the client receives (OpenAI counts reasoning in it, also in
 * completion_tokens_details).  max_tokens caps the answer only: the
 * upstream's thinking cannot be stopped, so a model that thought reports
 * more than max_tokens (README, "max_tokens"). */
void answer_usage(struct call *c)
{
    int64_t pt = prompt_estimate(c);
    int64_t ct = answer_tokens(c) + reasoning_tokens(c);
    for (size_t i = 0; i < c->tres.n_calls; i++)
        ct += exch_estimate_tokens(c->tres.calls[i].args_json, strlen(c->tres.calls[i].args_json)) + 4;
    pthread_mutex_lock(&c->mu);
    c->prompt_tokens = pt;
    c->completion_tokens = ct;
    pthread_mutex_unlock(&c->mu);
}

/* Dialects whose results can be read back or continued (Responses): keep
 * the rendered object and the session it ran on.  A failure to keep it is
 * logged; the answer itself still goes out. */
static void keep_result(struct call *c, const struct exch_result *res, struct gg_buf *b)
{
    const struct exch_dialect *d = c->dialect;
    if (!d->keeps || !d->keeps(&c->req))
        return;
    char id[128];
    d->result_id(&c->x, id, sizeof(id));
    gg_buf_reset(b);
    d->result_body(&c->x, res, b);
    if (results_put(c->key_id, id, b->p ? b->p : "", b->len, c->acct ? c->acct->id : -1,
                    c->acct ? c->session_name : NULL, c->x.model) != 0)
        GG_WARN("[%s] result %s not kept (size %zu or memory)", c->request_id, id, b->len);
}

int answer_tools_settle(struct call *c)
{
    if (!c->tools_on || !c->dialect)
        return 0;
    limits_flush(&c->lim, text_out, c);
    struct tools_result res;
    int rc;
    if (streaming(c)) {
        if (!c->tst_on) {
            tools_stream_init(&c->tst, &c->tspec);
            c->tst_on = true;
        }
        gg_buf_reset(&released);
        rc = tools_stream_finish(&c->tst, &released, &res);
        if (rc == 0 && !c->tool_withhold && !(res.n_errors && !c->lim.done))
            release_text(c, released.p, released.len);
    } else {
        rc = tools_parse_reply(&c->tspec, c->answer.p ? c->answer.p : "", c->answer.len, &res);
        if (rc == 0) {
            gg_buf_reset(&c->answer);
            answer_start(c);
            if (answer_add(c, res.text.p ? res.text.p : "", res.text.len) != 0)
                rc = -1;
        }
    }
    if (rc != 0) {
        tools_result_free(&res);
        GG_WARN("[%s] tool-call parsing hit a cap: the answer is returned as text", c->request_id);
        return 0;
    }
    toolcall_count_result(&res);
    /* a reply cut by max_tokens / a stop sequence is not retried: its calls
     * are returned when valid, its text as it is */
    if (res.n_errors && !c->lim.done) {
        snprintf(c->tool_error, sizeof(c->tool_error), "%s", res.error[0] ? res.error : "the tool call was invalid");
        tools_result_free(&res);
        if (c->tool_retries < cfg.tool_retry) {
            c->tool_retries++;
            c->continuing = c->tool_fixing = true;  /* toolcall_query sends the correction */
            toolcall_count_retry();
            GG_INFO("[%s] invalid tool call (%s): corrective retry %d on the same session", c->request_id,
                    c->tool_error, c->tool_retries);
            return 1;
        }
        toolcall_count_giveup();
        struct exch_error e;
        exch_set_error(&e, 502, EXCH_ERR_UPSTREAM, NULL, "tool_call_invalid",
                       "the model did not produce a valid tool call: %s", c->tool_error);
        answer_fail(c, &e, "tool_call_invalid");
        return -1;
    }
    if (res.n_errors) {
        for (size_t i = 0; i < res.n_calls; i++) {
            free(res.calls[i].id);
            free(res.calls[i].name);
            free(res.calls[i].args_json);
        }
        res.n_calls = 0;
    }
    tools_result_free(&c->tres);
    c->tres = res;
    return 0;
}

/* The calls of the settled answer as events (streaming). */
static void emit_calls(struct call *c)
{
    for (size_t i = 0; i < c->tres.n_calls; i++) {
        const struct exch_tool_call *tc = &c->tres.calls[i];
        struct exch_event ev = {.kind = EXCH_EV_TOOL_CALL_BEGIN, .call = tc, .call_index = (int)i};
        emit_event(c, &ev);
        ev = (struct exch_event){.kind = EXCH_EV_TOOL_CALL_ARGS, .text = tc->args_json,
                                 .len = strlen(tc->args_json), .call = tc, .call_index = (int)i};
        emit_event(c, &ev);
        ev = (struct exch_event){.kind = EXCH_EV_TOOL_CALL_END, .call = tc, .call_index = (int)i};
        emit_event(c, &ev);
    }
    if (c->tres.n_calls)
        c->content_sent = true;
}

/* Would the final frame pass SCRATCH_MAX?  The worst case of json_bound
 * (6 bytes a byte) decides without scanning a long answer; only near the
 * limit is the text scanned for its exact bound. */
static bool result_too_large(const struct call *c, const struct exch_result *res)
{
    size_t raw = res->text_len + res->reasoning_len;
    for (size_t i = 0; i < c->n_files; i++)
        raw += strlen(c->files[i].url);
    for (size_t i = 0; i < c->tres.n_calls; i++)
        raw += strlen(c->tres.calls[i].args_json) + strlen(c->tres.calls[i].name) + 22;
    if (raw <= SCRATCH_MAX / 8 && FRAME_SLACK + 6 * raw + 2 * (2 + c->n_files) <= SCRATCH_MAX)
        return false;
    size_t bound = FRAME_SLACK + json_bound(res->text, res->text_len) + json_bound(res->reasoning, res->reasoning_len);
    for (size_t i = 0; i < c->n_files; i++)
        bound += json_bound(c->files[i].url, strlen(c->files[i].url));
    for (size_t i = 0; i < c->tres.n_calls; i++)
        bound += json_bound(c->tres.calls[i].args_json, strlen(c->tres.calls[i].args_json)) +
                 json_bound(c->tres.calls[i].name, strlen(c->tres.calls[i].name)) + 128;
    return bound > SCRATCH_MAX;
}

void answer_finish(struct call *c, enum exch_finish fin)
{
    limits_flush(&c->lim, text_out, c);
    if (c->lim.done && c->lim.hit == EXCH_FIN_LENGTH)
        fin = EXCH_FIN_LENGTH;
    else if (c->lim.done && fin == EXCH_FIN_STOP)
        fin = EXCH_FIN_STOP_SEQUENCE;
    if (c->tres.n_calls && fin != EXCH_FIN_CONTENT_FILTER)
        fin = EXCH_FIN_TOOL_CALLS;
    answer_usage(c);
    if (!c->dialect) {
        char *a = strdup(c->answer.p ? c->answer.p : "");
        pthread_mutex_lock(&c->mu);
        c->test_answer = a;
        if (!a)
            snprintf(c->test_error, sizeof(c->test_error), "out of memory");
        c->phase = PH_DONE;
        c->final_status = 200;
        c->out_done = true;
        call_wake_locked(c);
        pthread_mutex_unlock(&c->mu);
        return;
    }
    struct exch_result res = {
        .text = c->answer.p ? c->answer.p : "",
        .text_len = c->answer.len,
        .reasoning = c->reasoning.p ? c->reasoning.p : "",
        .reasoning_len = c->reasoning.len,
        .files = c->files,
        .n_files = c->n_files,
        .calls = c->tres.calls,
        .n_calls = c->tres.n_calls,
        .finish = fin,
        .stop_sequence = fin == EXCH_FIN_STOP_SEQUENCE ? c->lim.matched : NULL,
        .usage = {.prompt_tokens = c->prompt_tokens, .completion_tokens = c->completion_tokens,
                  .reasoning_tokens = reasoning_tokens(c)},
    };
    if (result_too_large(c, &res)) {
        struct exch_error e;
        exch_set_error(&e, 502, EXCH_ERR_UPSTREAM, NULL, "response_too_large",
                       "The answer is larger than this gateway's %u MiB response limit.", SCRATCH_MAX >> 20);
        answer_fail(c, &e, "too_large");
        return;
    }
    struct gg_buf *b = &scratch;
    keep_result(c, &res, b);
    gg_buf_reset(b);
    bool stream = streaming(c);
    if (stream) {
        emit_calls(c);
        gg_buf_reset(b);
        begin_once(c, b);
    }
    c->dialect->finish(&c->x, &res, b);
    pthread_mutex_lock(&c->mu);
    if (stream) {
        if (!c->conn_gone) {
            c->phase = PH_STREAM;
            if (gg_buf_add(&c->out, b->p, b->len) != 0)
                c->aborted = true;
        }
    } else {
        gg_buf_reset(&c->out);
        if (gg_buf_add(&c->out, b->p, b->len) != 0)
            c->aborted = true;
        c->phase = PH_DONE;
    }
    c->final_status = 200;
    c->tool_calls = (int)c->tres.n_calls;
    c->out_done = true;
    call_wake_locked(c);
    pthread_mutex_unlock(&c->mu);
}

void answer_fail(struct call *c, const struct exch_error *e, const char *log_kind)
{
    answer_usage(c);
    struct gg_buf *b = &scratch;
    gg_buf_reset(b);
    pthread_mutex_lock(&c->mu);
    c->error_kind = log_kind;
    if (!c->dialect)
        snprintf(c->test_error, sizeof(c->test_error), "%s", e->message);
    if (c->phase == PH_WAIT) {
        c->phase = PH_FAILED;
        c->err = *e;
        c->final_status = e->status;
    } else {
        if (c->dialect)
            c->dialect->fail(&c->x, e, b);
        if (!c->conn_gone && gg_buf_add(&c->out, b->p, b->len) != 0)
            c->aborted = true;
        c->final_status = 200;
    }
    c->out_done = true;
    call_wake_locked(c);
    pthread_mutex_unlock(&c->mu);
    GG_DEBUG("[%s] failed: %d %s", c->request_id, e->status, e->message);
}

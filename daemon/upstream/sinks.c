/* sinks.c -- see up.h: what the translator reports about the streamed
 * answer, applied to the call (upstream loop thread only): answer and
 * reasoning text (invalid UTF-8 replaced, first-byte time), generated and
 * inline files, the stream's session name, the final state, in-band errors;
 * and the splitter callback that hands each element to the translator. */
#include "up.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "gg_log.h"
#include "gg_time.h"
#include "gg_util.h"

/* Replace invalid UTF-8 with U+FFFD so clients never see broken text. */
static const char *clean_utf8(const char *s, size_t n, size_t *outn, struct gg_buf *tmp)
{
    if (gg_utf8_valid(s, n)) {
        *outn = n;
        return s;
    }
    gg_buf_reset(tmp);
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t k = u[i] < 0x80 ? 1 : (u[i] & 0xE0) == 0xC0 ? 2 : (u[i] & 0xF0) == 0xE0 ? 3 : (u[i] & 0xF8) == 0xF0 ? 4 : 0;
        if (k && i + k <= n && gg_utf8_valid(s + i, k)) {
            gg_buf_add(tmp, s + i, k);
            i += k;
        } else {
            gg_buf_adds(tmp, "\xEF\xBF\xBD");
            i++;
        }
    }
    *outn = tmp->len;
    return tmp->p ? tmp->p : "";
}

static __thread struct gg_buf utf8_tmp = {NULL, 0, 0, 64u << 20};   /* per loop */

void up_sinks_cleanup(void)
{
    gg_buf_free(&utf8_tmp);
}

void up_sink_text(void *ctx, const char *s0, size_t n0, bool thought)
{
    struct call *c = ctx;
    size_t n;
    const char *s = clean_utf8(s0, n0, &n, &utf8_tmp);
    if (n == 0)
        return;
    c->any_text = c->any_text || !thought;
    if (c->t_first_us == 0) {
        pthread_mutex_lock(&c->mu);
        c->t_first_us = gg_mono_us();
        pthread_mutex_unlock(&c->mu);
    }
    if (thought)
        answer_reasoning(c, s, n);
    else
        answer_text(c, s, n);
}

/* Generated files: the stream repeats them on its last element, so keep
 * each id once. */
static void sink_file(void *ctx, const char *file_id, const char *mime, const char *name)
{
    struct call *c = ctx;
    (void)name;
    c->any_file = true;
    up_add_gen(c, file_id, mime);
}

static void sink_inline(void *ctx, const char *mime, const char *b64)
{
    struct call *c = ctx;
    c->any_file = true;
    up_inline_file(c, mime, b64);
}

/* sessionInfo.session: the projects/... name the media calls use (§3.4). */
static void sink_session(void *ctx, const char *session)
{
    struct call *c = ctx;
    if (c->stream_session && strcmp(c->stream_session, session) == 0)
        return;
    char *s = strdup(session);
    if (!s)
        return;                  /* the created name is the fallback */
    free(c->stream_session);
    c->stream_session = s;
}

static void sink_state(void *ctx, const char *state, const char *detail)
{
    struct call *c = ctx;
    static const char *const finals[] = {"SUCCEEDED", "SKIPPED", "FAILED"};
    for (size_t i = 0; i < sizeof(finals) / sizeof(finals[0]); i++)
        if (strcmp(state, finals[i]) == 0)
            c->final_state = finals[i];
    if (detail) {
        free(c->skip_detail);
        c->skip_detail = strdup(detail); /* checksrc: nullable (NULL: the message lacks the detail) */
    }
}

static void sink_error(void *ctx, int code, const char *status, const char *message)
{
    struct call *c = ctx;
    c->inband_code = code ? code : 500;
    snprintf(c->inband_status, sizeof(c->inband_status), "%s", status ? status : "");
    snprintf(c->inband_msg, sizeof(c->inband_msg), "%s", message ? message : "");
}

int up_on_element(void *ctx, const char *elem, size_t n)
{
    struct call *c = ctx;
    answer_hold(c);     /* released once this socket read is handled (loop.c) */
    c->last_elem_ms = gg_mono_ms();
    if (xlate_element(&c->xl, elem, n) != 0)
        GG_WARN("[%s] unparsable upstream element (%zu bytes) skipped", c->request_id, n);
    return 0;
}

void up_sinks_init(struct call *c)
{
    struct xlate_sink sink = {c, up_sink_text, sink_file, sink_session, sink_state, sink_error};
    xlate_init(&c->xl, &sink);
    xlate_set_inline(&c->xl, sink_inline);
}

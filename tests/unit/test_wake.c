/* test_wake.c -- batched client wake-ups (core/answer.c, issue 14): a held
 * call's events are appended without resuming its connection, except the
 * response's first bytes; answer_release_held (the upstream loop, after
 * each socket read) resumes it once; the end of the answer and the end of
 * the call wake at once.  MHD_resume_connection is replaced here by a
 * counter (the executable's definition wins over libmicrohttpd's).
 */
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "call.h"
#include "openai_chat.h"
#include "tinytest.h"
#include "tokens.h"

struct MHD_Connection;
static int resumes;

void MHD_resume_connection(struct MHD_Connection *conn);
void MHD_resume_connection(struct MHD_Connection *conn)
{
    (void)conn;
    resumes++;
}

static struct call *stream_call(void)
{
    static const char body[] = "{\"model\":\"gemini-2.5-flash\",\"stream\":true,"
                               "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    struct call *c = call_new(CALL_CHAT);
    c->dialect = &dialect_openai_chat;
    c->x.state = calloc(1, c->dialect->state_size);
    struct oai_error e;
    TT_EQ_INT(oai_parse_chat(body, strlen(body), &c->req, &e), 0);
    c->x.req = &c->req;
    c->x.id = "chatcmpl-x";
    c->x.model = "gemini-2.5-flash";
    c->x.created_s = 1700000000;
    c->conn = (struct MHD_Connection *)c;     /* never dereferenced: the counter above */
    answer_reset(c);
    return c;
}

/* the HTTP side sent what it had and suspended again */
static void suspend(struct call *c)
{
    c->suspended = true;
}

static void test_wake_batched(void)
{
    struct call *c = stream_call();
    suspend(c);
    resumes = 0;
    answer_hold(c);
    answer_text(c, "Hello", 5);               /* the first bytes: pushed at once */
    TT_EQ_INT(resumes, 1);
    TT_EQ_INT(c->phase, PH_STREAM);
    suspend(c);
    size_t len0 = c->out.len;
    for (int i = 0; i < 10; i++)
        answer_text(c, " more", 5);           /* the rest of this read: no wake-up yet */
    TT_CHECK(c->out.len > len0);
    TT_EQ_INT(resumes, 1);
    answer_release_held();                    /* the socket read is handled: one wake-up */
    TT_EQ_INT(resumes, 2);
    answer_release_held();                    /* nothing held, nothing appended */
    TT_EQ_INT(resumes, 2);
    suspend(c);
    answer_hold(c);
    answer_release_held();                    /* held but nothing appended: no wake-up */
    TT_EQ_INT(resumes, 2);
    answer_hold(c);
    answer_text(c, "!", 1);
    TT_EQ_INT(resumes, 2);
    answer_finish(c, EXCH_FIN_STOP);          /* the end wakes at once */
    TT_EQ_INT(resumes, 3);
    TT_CHECK(c->out_done);
    answer_release(c);                        /* the end of the call: nothing more */
    answer_release_held();
    TT_EQ_INT(resumes, 3);
    TT_EQ_INT(c->completion_tokens, exch_estimate_tokens("Hello more more more more more more more more more more!",
                                                         56));
    call_put(c);
    call_put(c);
}

/* one call held per thread: holding another releases the first */
static void test_wake_two_calls(void)
{
    struct call *a = stream_call(), *b = stream_call();
    answer_hold(a);
    answer_text(a, "a", 1);
    answer_hold(b);
    answer_text(b, "b", 1);
    suspend(a);
    suspend(b);
    resumes = 0;
    answer_hold(a);
    answer_text(a, "aa", 2);
    TT_EQ_INT(resumes, 0);
    answer_hold(b);                           /* a released: woken */
    TT_EQ_INT(resumes, 1);
    TT_CHECK(!a->suspended);
    answer_text(b, "bb", 2);
    TT_EQ_INT(resumes, 1);
    answer_release(a);                        /* not the held one: nothing */
    TT_EQ_INT(resumes, 1);
    answer_release(b);                        /* the end of b's call */
    TT_EQ_INT(resumes, 2);
    TT_CHECK(!b->suspended);
    answer_release_held();
    TT_EQ_INT(resumes, 2);
    for (int i = 0; i < 2; i++) {
        call_put(a);
        call_put(b);
    }
}

int main(void)
{
    TT_RUN(test_wake_batched);
    TT_RUN(test_wake_two_calls);
    answer_cleanup();
    return TT_REPORT();
}

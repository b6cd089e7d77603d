/* test_exch.c -- the protocol-neutral exchange: stop sequences and
 * max_tokens on the answer (core/exch_limits.c), the whole event path of a
 * call through core/answer.c into the OpenAI dialect's exact bytes, the
 * OpenAI encoder on its own, and the SSRF address policy (media.c). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "answer.h"
#include "call.h"
#include "exch_limits.h"
#include "gg_buf.h"
#include "media.h"
#include "openai_chat.h"
#include "tinytest.h"
#include "tokens.h"

/* ---- limits ------------------------------------------------------------------ */

struct sink {
    struct gg_buf b;
    int calls;
};

static void collect(void *ctx, const char *s, size_t n)
{
    struct sink *k = ctx;
    gg_buf_add(&k->b, s, n);
    gg_buf_addc(&k->b, '\0');
    k->b.len--;     /* keep it a C string */
    k->calls++;
}

static void limits_with(struct exch_limits *l, const char *stop0, const char *stop1, int64_t max_tokens)
{
    static struct exch_request req;
    memset(&req, 0, sizeof(req));
    req.stop[0] = (char *)stop0;
    req.stop[1] = (char *)stop1;
    req.max_tokens = max_tokens;
    limits_init(l, &req);
}

static void test_stop_never_matches(void)
{
    struct exch_limits l;
    limits_with(&l, "STOP!", NULL, 0);
    struct sink k = {.calls = 0};
    gg_buf_init(&k.b, 1 << 16);
    const char *parts[] = {"Hello ", "wor", "ld, no stop here", " S", "TO"};
    for (size_t i = 0; i < 5; i++)
        TT_CHECK(!limits_feed(&l, parts[i], strlen(parts[i]), collect, &k));
    /* the last 4 bytes (" STO") could still start "STOP!": held back */
    TT_EQ_INT(k.b.len, strlen("Hello world, no stop here STO") - 4);
    limits_flush(&l, collect, &k);
    TT_EQ_STR(k.b.p, "Hello world, no stop here STO");
    TT_CHECK(!l.done);
    limits_free(&l);
    gg_buf_free(&k.b);
}

static void test_stop_split_across_events(void)
{
    struct exch_limits l;
    limits_with(&l, "<END>", "zzz", 0);
    struct sink k = {.calls = 0};
    gg_buf_init(&k.b, 1 << 16);
    TT_CHECK(!limits_feed(&l, "The answer is 42.<E", 19, collect, &k));
    TT_CHECK(!limits_feed(&l, "N", 1, collect, &k));
    TT_CHECK(limits_feed(&l, "D> and more text", 16, collect, &k));
    TT_CHECK(l.done);
    TT_EQ_INT(l.hit, EXCH_FIN_STOP_SEQUENCE);
    TT_EQ_STR(l.matched, "<END>");
    /* later text is ignored, flush adds nothing */
    TT_CHECK(limits_feed(&l, "ignored", 7, collect, &k));
    limits_flush(&l, collect, &k);
    TT_EQ_STR(k.b.p, "The answer is 42.");
    /* the earliest of two stop sequences wins */
    limits_reset(&l);
    gg_buf_reset(&k.b);
    TT_CHECK(limits_feed(&l, "a zzz b <END>", 13, collect, &k));
    TT_EQ_STR(k.b.p ? k.b.p : "", "a ");
    TT_EQ_STR(l.matched, "zzz");
    limits_free(&l);
    gg_buf_free(&k.b);
}

static void test_max_tokens(void)
{
    struct exch_limits l;
    limits_with(&l, NULL, NULL, 5);
    struct sink k = {.calls = 0};
    gg_buf_init(&k.b, 1 << 16);
    /* "abcd" is 1 token per 4 letters: 3 + 3 tokens offered, 5 allowed */
    TT_CHECK(!limits_feed(&l, "abcdabcdabcd", 12, collect, &k));
    TT_CHECK(limits_feed(&l, "efghefghefgh", 12, collect, &k));
    TT_EQ_INT(l.hit, EXCH_FIN_LENGTH);
    TT_EQ_STR(k.b.p, "abcdabcdabcdefghefgh");
    TT_CHECK(exch_estimate_tokens(k.b.p, k.b.len) <= 5);
    /* UTF-8 is never cut inside a character, and the estimate stays <= max */
    limits_reset(&l);
    l.max_tokens = 3;
    gg_buf_reset(&k.b);
    const char *cjk = "春眠不觉晓处处闻啼鸟";
    TT_CHECK(limits_feed(&l, cjk, strlen(cjk), collect, &k));
    TT_EQ_STR(k.b.p, "春眠不");
    TT_EQ_INT(exch_estimate_tokens(k.b.p, k.b.len), 3);
    /* max_tokens with a stop sequence: the held-back text is released at the cut */
    limits_free(&l);
    limits_with(&l, "####", NULL, 2);
    gg_buf_reset(&k.b);
    TT_CHECK(limits_feed(&l, "abcdefgh##ijkl", 14, collect, &k));
    TT_EQ_INT(l.hit, EXCH_FIN_LENGTH);
    TT_CHECK(exch_estimate_tokens(k.b.p, k.b.len) <= 2);
    TT_EQ_STR(k.b.p, "abcdefgh");    /* the longest prefix that fits: "abcdefgh#" would be 3 */
    limits_free(&l);
    /* overlapping stop sequences: the one that completes first wins, in one
     * piece as in fragments ("bc" is complete before "abcd" is) */
    for (int split = 0; split <= 6; split++) {
        limits_with(&l, "abcd", "bc", 0);
        gg_buf_reset(&k.b);
        bool done = split ? limits_feed(&l, "xxabcdyy", (size_t)split, collect, &k) : false;
        if (!done)
            done = limits_feed(&l, "xxabcdyy" + split, 8 - (size_t)split, collect, &k);
        TT_CHECK(done);
        TT_EQ_INT(l.hit, EXCH_FIN_STOP_SEQUENCE);
        TT_EQ_STR(l.matched, "bc");
        TT_EQ_INT((int)k.b.len, 3);
        TT_CHECK(memcmp(k.b.p, "xxa", 3) == 0);
        limits_free(&l);
    }
    gg_buf_free(&k.b);
}

/* ---- the OpenAI encoder -------------------------------------------------------- */

#define PFX "data: {\"id\":\"chatcmpl-x\",\"object\":\"chat.completion.chunk\",\"created\":1700000000," \
            "\"model\":\"gemini-2.5-flash\",\"system_fingerprint\":null,\"choices\":["
#define DELTA(d) PFX "{\"index\":0,\"delta\":{" d "},\"logprobs\":null,\"finish_reason\":null}]"

static int parse(const char *body, struct exch_request *req)
{
    struct oai_error e;
    return oai_parse_chat(body, strlen(body), req, &e);
}

static void test_openai_stream_bytes(void)
{
    struct exch_request req;
    TT_EQ_INT(parse("{\"model\":\"gemini-2.5-flash\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
                    "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &req), 0);
    const struct exch_dialect *d = &dialect_openai_chat;
    struct exch_ctx x = {.req = &req, .id = "chatcmpl-x", .model = "gemini-2.5-flash", .created_s = 1700000000};
    x.state = calloc(1, d->state_size);
    struct gg_buf out;
    gg_buf_init(&out, 1 << 16);
    d->begin(&x, &out);
    struct exch_event ev = {.kind = EXCH_EV_REASONING, .text = "hm", .len = 2};
    d->event(&x, &ev, &out);
    ev.kind = EXCH_EV_TEXT;
    ev.text = "Hi \"you\"";
    ev.len = strlen(ev.text);
    d->event(&x, &ev, &out);
    struct exch_result res = {.text = "Hi \"you\"", .text_len = 8, .reasoning = "hm", .reasoning_len = 2,
                              .finish = EXCH_FIN_STOP_SEQUENCE,
                              .usage = {.prompt_tokens = 5, .completion_tokens = 3, .reasoning_tokens = 1}};
    d->finish(&x, &res, &out);
    gg_buf_addc(&out, '\0');
    TT_EQ_STR(out.p,
              DELTA("\"role\":\"assistant\",\"content\":\"\"") ",\"usage\":null}\n\n"
              DELTA("\"reasoning_content\":\"hm\"") ",\"usage\":null}\n\n"
              DELTA("\"content\":\"Hi \\\"you\\\"\"") ",\"usage\":null}\n\n"
              PFX "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n"
              PFX "],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,\"total_tokens\":8,"
                  "\"prompt_tokens_details\":{\"cached_tokens\":0},"
                  "\"completion_tokens_details\":{\"reasoning_tokens\":1}}}\n\n"
              "data: [DONE]\n\n");
    free(x.state);
    exch_request_free(&req);

    /* no include_usage: no "usage" key at all; nothing but the role chunk
     * before the end still gets an empty content delta; an error frame and
     * no [DONE] after a failure */
    TT_EQ_INT(parse("{\"model\":\"gemini-2.5-flash\",\"stream\":true,"
                    "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &req), 0);
    x.req = &req;
    x.state = calloc(1, d->state_size);
    gg_buf_reset(&out);
    d->begin(&x, &out);
    struct exch_result r2 = {.text = "", .finish = EXCH_FIN_LENGTH};
    d->finish(&x, &r2, &out);
    gg_buf_addc(&out, '\0');
    TT_EQ_STR(out.p,
              DELTA("\"role\":\"assistant\",\"content\":\"\"") "}\n\n"
              DELTA("\"content\":\"\"") "}\n\n"
              PFX "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"length\"}]}\n\n"
              "data: [DONE]\n\n");
    gg_buf_reset(&out);
    struct exch_error e;
    exch_set_error(&e, 502, EXCH_ERR_UPSTREAM, NULL, "stream_truncated", "cut");
    d->fail(&x, &e, &out);
    gg_buf_addc(&out, '\0');
    TT_EQ_STR(out.p, "data: {\"error\":{\"message\":\"cut\",\"type\":\"api_error\",\"param\":null,"
                     "\"code\":\"stream_truncated\"}}\n\n");
    TT_EQ_STR(d->ping, ": ping\n\n");
    free(x.state);
    exch_request_free(&req);
    gg_buf_free(&out);
}

/* The chunk head is built once per stream (dialect state); one that does
 * not fit the state's buffer (a very long model name) is formatted each
 * time: the same bytes either way. */
static void test_openai_chunk_prefix(void)
{
    for (int big = 0; big < 2; big++) {
        struct exch_request req;
        TT_EQ_INT(parse("{\"model\":\"gemini-2.5-flash\",\"stream\":true,"
                        "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &req), 0);
        char model[600];
        memset(model, 'm', sizeof(model) - 1);
        model[big ? sizeof(model) - 1 : 16] = '\0';
        const struct exch_dialect *d = &dialect_openai_chat;
        struct exch_ctx x = {.req = &req, .id = "chatcmpl-y", .model = model, .created_s = 1700000001};
        x.state = calloc(1, d->state_size);
        struct gg_buf out, want;
        gg_buf_init(&out, 1 << 16);
        gg_buf_init(&want, 1 << 16);
        d->begin(&x, &out);
        struct exch_event ev = {.kind = EXCH_EV_TEXT, .text = "a\"b", .len = 3};
        d->event(&x, &ev, &out);
        d->event(&x, &ev, &out);
        gg_buf_addc(&out, '\0');
        for (int i = 0; i < 3; i++)
            gg_buf_printf(&want, "data: {\"id\":\"chatcmpl-y\",\"object\":\"chat.completion.chunk\",\"created\":1700000001,"
                          "\"model\":\"%s\",\"system_fingerprint\":null,\"choices\":[{\"index\":0,\"delta\":{%s},"
                          "\"logprobs\":null,\"finish_reason\":null}]}\n\n",
                          model, i ? "\"content\":\"a\\\"b\"" : "\"role\":\"assistant\",\"content\":\"\"");
        TT_EQ_STR(out.p, want.p);
        free(x.state);
        exch_request_free(&req);
        gg_buf_free(&out);
        gg_buf_free(&want);
    }
}

/* A whole call through core/answer.c: events in, the dialect's bytes out,
 * the stop sequence applied on the way (streamed and not). */
static struct call *answer_call(const char *body)
{
    struct call *c = call_new(CALL_CHAT);
    c->dialect = &dialect_openai_chat;
    c->x.state = calloc(1, c->dialect->state_size);
    TT_EQ_INT(parse(body, &c->req), 0);
    c->x.req = &c->req;
    c->x.id = "chatcmpl-x";
    c->x.model = "gemini-2.5-flash";
    c->x.created_s = 1700000000;
    answer_reset(c);
    return c;
}

static void test_answer_path(void)
{
    struct call *c = answer_call("{\"model\":\"gemini-2.5-flash\",\"stream\":true,\"stop\":\"<END>\","
                                 "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    answer_reasoning(c, "think", 5);
    answer_text(c, "Hello<E", 7);
    TT_CHECK(!answer_complete(c));
    answer_text(c, "ND>tail", 7);
    TT_CHECK(answer_complete(c));
    answer_finish(c, EXCH_FIN_STOP);
    gg_buf_addc(&c->out, '\0');
    TT_EQ_INT(c->phase, PH_STREAM);
    TT_CHECK(c->out_done && c->content_sent);
    TT_EQ_STR(c->out.p,
              DELTA("\"role\":\"assistant\",\"content\":\"\"") "}\n\n"
              DELTA("\"reasoning_content\":\"think\"") "}\n\n"
              DELTA("\"content\":\"Hel\"") "}\n\n"      /* "lo<E" held back: could start <END> */
              DELTA("\"content\":\"lo\"") "}\n\n"
              PFX "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n"
              "data: [DONE]\n\n");
    TT_EQ_INT(c->completion_tokens, exch_estimate_tokens("Hello", 5) + exch_estimate_tokens("think", 5));
    call_put(c);
    call_put(c);

    /* non-streamed, max_tokens: the body carries the cut answer and "length" */
    c = answer_call("{\"model\":\"gemini-2.5-flash\",\"max_tokens\":2,"
                    "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    answer_text(c, "abcdefgh", 8);
    answer_text(c, "ijkl", 4);
    answer_finish(c, EXCH_FIN_STOP);
    gg_buf_addc(&c->out, '\0');
    TT_EQ_INT(c->phase, PH_DONE);
    TT_CHECK(strstr(c->out.p, "\"content\":\"abcdefgh\",\"refusal\":null},\"logprobs\":null,"
                              "\"finish_reason\":\"length\"}") != NULL);
    TT_CHECK(c->completion_tokens <= 2);
    call_put(c);
    call_put(c);
}

/* ---- SSRF address policy ----------------------------------------------------- */

static void test_ssrf_policy(void)
{
    static const struct { const char *addr; bool blocked; } cases[] = {
        {"10.0.0.0", true}, {"10.255.255.255", true}, {"127.0.0.1", true}, {"127.255.0.1", true},
        {"169.254.169.254", true}, {"169.253.255.255", false},
        {"172.15.255.255", false}, {"172.16.0.0", true}, {"172.31.255.255", true}, {"172.32.0.0", false},
        {"100.63.255.255", false}, {"100.64.0.0", true}, {"100.127.255.255", true}, {"100.128.0.0", false},
        {"192.168.0.1", true}, {"192.169.0.1", false}, {"0.0.0.0", true}, {"224.0.0.1", true},
        {"8.8.8.8", false}, {"1.1.1.1", false},
        {"::1", true}, {"::", true}, {"fc00::1", true}, {"fdff:ffff::1", true}, {"fe80::1", true},
        {"febf::1", true}, {"ff02::1", true},
        {"::ffff:10.0.0.1", true}, {"::ffff:8.8.8.8", false},
        {"64:ff9b::10.0.0.1", true}, {"64:ff9b::8.8.8.8", false},
        {"64:ff9b:1::1", true}, {"64:ff9b:1:ffff::8.8.8.8", true}, {"64:ff9b:2::1", false},
        {"2002:0a00:0001::", true}, {"2002:0808:0808::", false},
        {"2001:0::1", true}, {"2001:0:ffff:ffff::1", true}, {"2001:1::1", false},
        {"2001:db8::1", true},
        {"2001:4860:4860::8888", false}, {"2606:4700:4700::1111", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof(ss));
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, cases[i].addr, &s4->sin_addr) == 1) {
            s4->sin_family = AF_INET;
        } else {
            TT_EQ_INT(inet_pton(AF_INET6, cases[i].addr, &s6->sin6_addr), 1);
            s6->sin6_family = AF_INET6;
        }
        bool b = media_addr_blocked((struct sockaddr *)&ss);
        if (b != cases[i].blocked)
            fprintf(stderr, "SSRF policy: %s should be %s\n", cases[i].addr, cases[i].blocked ? "blocked" : "allowed");
        TT_CHECK(b == cases[i].blocked);
    }
}

/* media_url_check: what passes, with which host and port (the fuzz
 * regressions in tests/fuzz/regressions/url among them) */
static void test_url_check(void)
{
    static const struct { const char *url; bool ok; const char *host; int port; } cases[] = {
        {"http://example.com/a.png", true, "example.com", 80},
        {"https://example.com:8443/a.png", true, "example.com", 8443},
        {"http://[2606:4700::1]/x", true, "2606:4700::1", 80},
        {"http://h:0/x", false, NULL, 0},                 /* port 0 */
        {"http:/%", false, NULL, 0},                      /* empty / % host */
        {"http:/%3127.1/x", false, NULL, 0},              /* percent-encoded 127.1: not stable */
        {"http://127.1/x", false, NULL, 0}, {"http://0x7f.1/x", false, NULL, 0},
        {"http://2130706433/x", false, NULL, 0}, {"http://[::ffff:127.0.0.1]/x", false, NULL, 0},
        {"http://localhost:8080/x", false, NULL, 0}, {"http://a.localhost/x", false, NULL, 0},
        {"http://10.0.0.1/x", false, NULL, 0}, {"ftp://example.com/x", false, NULL, 0},
        {"http://8.8.8.8:65535/x", true, "8.8.8.8", 65535},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char host[256] = "", msg[300] = "";
        int port = -1;
        char *norm = NULL;
        int rc = media_url_check(cases[i].url, false, host, sizeof(host), &port, &norm, msg, sizeof(msg));
        if ((rc == 0) != cases[i].ok)
            fprintf(stderr, "url check: %s should %s (%s)\n", cases[i].url, cases[i].ok ? "pass" : "fail", msg);
        TT_CHECK((rc == 0) == cases[i].ok);
        if (rc == 0 && cases[i].ok) {
            TT_EQ_STR(host, cases[i].host);
            TT_EQ_INT(port, cases[i].port);
            char host2[256], *norm2 = NULL;
            int port2 = 0;
            TT_EQ_INT(media_url_check(norm, false, host2, sizeof(host2), &port2, &norm2, msg, sizeof(msg)), 0);
            TT_EQ_STR(norm2, norm);
            free(norm2);
        } else {
            TT_CHECK(norm == NULL && msg[0]);
        }
        free(norm);
    }
    /* the same private URLs pass with FETCH_ALLOW_PRIVATE, the malformed ones do not */
    char msg[300];
    TT_EQ_INT(media_url_check("http://127.1/x", true, NULL, 0, NULL, NULL, msg, sizeof(msg)), 0);
    TT_EQ_INT(media_url_check("http://h:0/x", true, NULL, 0, NULL, NULL, msg, sizeof(msg)), -1);
    TT_EQ_INT(media_url_check("http:/%", true, NULL, 0, NULL, NULL, msg, sizeof(msg)), -1);
}

static void test_error_kinds(void)
{
    static const struct { int status; enum exch_err_kind kind; bool retry; const char *type; } t[] = {
        {400, EXCH_ERR_INVALID, false, "invalid_request_error"}, {401, EXCH_ERR_AUTH, false, "invalid_request_error"},
        {403, EXCH_ERR_PERMISSION, false, "invalid_request_error"}, {404, EXCH_ERR_NOT_FOUND, false, "invalid_request_error"},
        {405, EXCH_ERR_INVALID, false, "invalid_request_error"}, {413, EXCH_ERR_TOO_LARGE, false, "invalid_request_error"},
        {429, EXCH_ERR_RATE_LIMIT, true, "rate_limit_error"}, {500, EXCH_ERR_SERVER, true, "api_error"},
        {502, EXCH_ERR_UPSTREAM, true, "api_error"}, {503, EXCH_ERR_OVERLOADED, true, "api_error"},
        {504, EXCH_ERR_TIMEOUT, true, "api_error"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct exch_error e;
        exch_set_error(&e, t[i].status, exch_kind_of_status(t[i].status), "p", NULL, "m %d", t[i].status);
        TT_EQ_INT(e.kind, t[i].kind);
        TT_EQ_INT(e.retryable, t[i].retry);
        struct oai_error o;
        oai_error_from_exch(&e, &o);
        TT_EQ_STR(o.type, t[i].type);
        TT_EQ_INT(o.status, t[i].status);
    }
}

int main(void)
{
    TT_RUN(test_error_kinds);
    TT_RUN(test_stop_never_matches);
    TT_RUN(test_stop_split_across_events);
    TT_RUN(test_max_tokens);
    TT_RUN(test_openai_stream_bytes);
    TT_RUN(test_openai_chunk_prefix);
    TT_RUN(test_answer_path);
    TT_RUN(test_ssrf_policy);
    TT_RUN(test_url_check);
    answer_cleanup();
    return TT_REPORT();
}

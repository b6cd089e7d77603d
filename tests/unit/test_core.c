/* test_core.c -- unit tests of the gateway's pure pieces: splitter (any
 * chunking), translator, JWT (fixed vector), base64, UTF-8 helpers, history
 * flattening, conversation keys, token estimator, request validation,
 * import and .env parsers, thread roles. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gg_b64.h"
#include "gg_buf.h"
#include "gg_env.h"
#include "gg_util.h"
#include "import.h"
#include "jwt.h"
#include "flatten.h"
#include "openai_chat.h"
#include "tokens.h"
#include "splitter.h"
#include "tinytest.h"
#include "xlate.h"

/* ---- splitter ---------------------------------------------------------------- */

static const char PRETTY[] =
    "[{\n  \"uToken\": \"AO\",\n  \"streamAssistResponse\": {\n    \"answer\": {\n      \"state\": \"IN_PROGRESS\",\n"
    "      \"replies\": [\n        {\"groundedContent\": {\"content\": {\"role\": \"model\", \"text\": \"**Assessing the Request**\\n\\nhm {not} [json]\", \"thought\": true}}}\n"
    "      ]\n    },\n    \"sessionInfo\": {}\n  }\n}\n,\r\n"
    "{\n  \"streamAssistResponse\": {\"answer\": {\"state\": \"IN_PROGRESS\", \"replies\": [{\"groundedContent\": {\"content\": {\"role\": \"model\", \"text\": \"春眠不觉晓，\"}}}]}}\n}\n,\r\n"
    "{\n  \"streamAssistResponse\": {\"answer\": {\"state\": \"IN_PROGRESS\", \"replies\": [{\"groundedContent\": {\"content\": {\"role\": \"model\", \"text\": \"处处闻啼鸟。\\\"}\\\\\"}}}]}}\n}\n,\r\n"
    "{\n  \"streamAssistResponse\": {\"answer\": {\"state\": \"SUCCEEDED\"}, \"sessionInfo\": {\"session\": \"projects/1/locations/global/collections/default_collection/engines/agentspace-engine/sessions/42\"}}\n}\n]";

struct collect {
    struct gg_buf answer, thought;
    int elements, files;
    char state[32];
    char session[160];
    int err_code;
};

static void c_text(void *ctx, const char *s, size_t n, bool thought)
{
    struct collect *c = ctx;
    gg_buf_add(thought ? &c->thought : &c->answer, s, n);
}
static void c_file(void *ctx, const char *id, const char *mime, const char *name)
{
    (void)id; (void)mime; (void)name;
    ((struct collect *)ctx)->files++;
}
static void c_session(void *ctx, const char *s)
{
    snprintf(((struct collect *)ctx)->session, 160, "%s", s);
}
static void c_state(void *ctx, const char *st, const char *d)
{
    (void)d;
    snprintf(((struct collect *)ctx)->state, 32, "%s", st);
}
static void c_error(void *ctx, int code, const char *st, const char *m)
{
    (void)st; (void)m;
    ((struct collect *)ctx)->err_code = code;
}

struct feedctx {
    struct xlate x;
    struct collect col;
};

static int on_elem(void *ctx, const char *e, size_t n)
{
    struct feedctx *f = ctx;
    f->col.elements++;
    TT_CHECK(n > 2 && e[0] == '{' && e[n - 1] == '}');
    TT_CHECK(gg_utf8_valid(e, n));
    return xlate_element(&f->x, e, n);
}

static void run_split(const char *data, size_t n, unsigned seed, size_t maxchunk, struct feedctx *f, int *final)
{
    memset(f, 0, sizeof(*f));
    gg_buf_init(&f->col.answer, 1 << 20);
    gg_buf_init(&f->col.thought, 1 << 20);
    struct xlate_sink sink = {&f->col, c_text, c_file, c_session, c_state, c_error};
    xlate_init(&f->x, &sink);
    struct splitter sp;
    split_init(&sp, 1 << 20);
    srand(seed);
    size_t pos = 0;
    while (pos < n) {
        size_t k = maxchunk == 1 ? 1 : 1 + (size_t)rand() % maxchunk;
        if (k > n - pos)
            k = n - pos;
        TT_CHECK(split_feed(&sp, data + pos, k, on_elem, f) == 0);
        pos += k;
    }
    *final = split_finish(&sp);
    split_free(&sp);
}

static void test_splitter_chunkings(void)
{
    size_t n = strlen(PRETTY);
    for (unsigned seed = 0; seed < 300; seed++) {
        struct feedctx f;
        int fin;
        size_t maxc = seed == 0 ? 1 : seed % 3 == 0 ? 7 : seed % 3 == 1 ? 64 : 4096;
        run_split(PRETTY, n, seed, maxc, &f, &fin);
        TT_EQ_INT(fin, SPLIT_COMPLETE);
        TT_EQ_INT(f.col.elements, 4);
        TT_EQ_STR(f.col.answer.p, "春眠不觉晓，处处闻啼鸟。\"}\\");
        TT_CHECK(f.col.thought.p && strstr(f.col.thought.p, "hm {not} [json]"));
        TT_EQ_STR(f.col.state, "SUCCEEDED");
        TT_CHECK(strstr(f.col.session, "sessions/42") != NULL);
        gg_buf_free(&f.col.answer);
        gg_buf_free(&f.col.thought);
    }
}

static void test_splitter_truncation(void)
{
    size_t n = strlen(PRETTY);
    /* every prefix that stops before the closing bracket is truncated */
    for (size_t cut = 0; cut < n; cut += 13) {
        struct feedctx f;
        int fin;
        run_split(PRETTY, cut, 7, 5, &f, &fin);
        TT_EQ_INT(fin, SPLIT_TRUNCATED);
        gg_buf_free(&f.col.answer);
        gg_buf_free(&f.col.thought);
    }
    /* compact layout, XSSI prefix, bare object, garbage, size cap */
    const char *compact = ")]}'\n[{\"a\":1},{\"b\":\"]\"}]";
    struct splitter sp;
    int count = 0;
    split_init(&sp, 1024);
    struct feedctx f;
    memset(&f, 0, sizeof(f));
    struct xlate_sink sink = {&f.col, c_text, c_file, c_session, c_state, c_error};
    xlate_init(&f.x, &sink);
    TT_EQ_INT(split_feed(&sp, compact, strlen(compact), on_elem, &f), 0);
    TT_EQ_INT(split_finish(&sp), SPLIT_COMPLETE);
    count = f.col.elements;
    TT_EQ_INT(count, 2);
    split_free(&sp);
    split_init(&sp, 1024);
    const char *bare = "{\"error\":{\"code\":429,\"status\":\"RESOURCE_EXHAUSTED\"}}";
    TT_EQ_INT(split_feed(&sp, bare, strlen(bare), on_elem, &f), 0);
    TT_EQ_INT(split_finish(&sp), SPLIT_COMPLETE);
    TT_EQ_INT(f.col.err_code, 429);
    split_free(&sp);
    split_init(&sp, 1024);
    TT_EQ_INT(split_feed(&sp, "[{\"a\":1} x", 10, on_elem, &f), SPLIT_ERR_SYNTAX);
    split_free(&sp);
    split_init(&sp, 16);
    TT_EQ_INT(split_feed(&sp, "[{\"aaaaaaaaaaaaaaaaaaaaaaaa\":1}]", 31, on_elem, &f), SPLIT_ERR_SIZE);
    split_free(&sp);
}

static void test_xlate_rules(void)
{
    struct collect col;
    memset(&col, 0, sizeof(col));
    gg_buf_init(&col.answer, 1 << 16);
    gg_buf_init(&col.thought, 1 << 16);
    struct xlate_sink sink = {&col, c_text, c_file, c_session, c_state, c_error};
    struct xlate x;
    xlate_init(&x, &sink);
    /* unflagged heading before any answer = thinking (seed filter) */
    const char *e1 = "{\"streamAssistResponse\":{\"answer\":{\"replies\":[{\"groundedContent\":{\"content\":{\"text\":\"**Generating Response**\\n\\nx\"}}}]}}}";
    const char *e2 = "{\"streamAssistResponse\":{\"answer\":{\"replies\":[{\"groundedContent\":{\"content\":{\"text\":\"t\",\"thought\":\"true\"}}},"
                     "{\"groundedContent\":{\"content\":{\"text\":\"<ctrl46>Image size: (8, 8)\\nAnswer\"}}},"
                     "{\"groundedContent\":{\"content\":{\"file\":{\"fileId\":\"f1\",\"mimeType\":\"image/png\"}}}}]}}}";
    const char *e3 = "{\"streamAssistResponse\":{\"answer\":{\"replies\":[{\"groundedContent\":{\"content\":{\"text\":\"**Assessing the Request** after answer stays\"}}}]}}}";
    const char *e4 = "{\"streamAssistResponse\":{\"answer\":{\"state\":\"SKIPPED\",\"assistSkippedReasons\":[\"CUSTOMER_POLICY_VIOLATION\"]}}}";
    TT_EQ_INT(xlate_element(&x, e1, strlen(e1)), 0);
    TT_EQ_INT(xlate_element(&x, e2, strlen(e2)), 0);
    TT_EQ_INT(xlate_element(&x, e3, strlen(e3)), 0);
    TT_EQ_INT(xlate_element(&x, e4, strlen(e4)), 0);
    TT_EQ_INT(xlate_element(&x, "{bad", 4), -1);
    TT_EQ_STR(col.thought.p, "**Generating Response**\n\nxt");
    TT_EQ_STR(col.answer.p, "Answer**Assessing the Request** after answer stays");
    TT_EQ_INT(col.files, 1);
    TT_EQ_STR(col.state, "SKIPPED");
    TT_CHECK(xlate_is_thinking_heading("  **Assessing the Request**", 27));
    TT_CHECK(!xlate_is_thinking_heading("**Hello**", 9));
    gg_buf_free(&col.answer);
    gg_buf_free(&col.thought);
}

/* ---- JWT, base64 ------------------------------------------------------------- */

static void test_jwt_vector(void)
{
    /* expected token computed independently (node crypto) from protocol §2.2 */
    const char *expect =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InRlc3Rfa2V5X2lkXzEyMyJ9."
        "eyJpc3MiOiJodHRwczovL2J1c2luZXNzLmdlbWluaS5nb29nbGUiLCJhdWQiOiJodHRwczovL2Jpei1kaXNjb3ZlcnllbmdpbmUuZ29vZ2xlYXBpcy5jb20iLCJzdWIiOiJjc2VzaWR4LzIwMjYyNTk1OTUiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMDMwMCwibmJmIjoxNzAwMDAwMDAwfQ."
        "eMlDP-Ue_DJ8C59P8z4mGgrmd_VAsmJnnZVYQlLdhmw";
    char out[JWT_MAX];
    int n = jwt_sign("dGVzdF94c3JmX3Rva2VuX2tleV8zMmJ5dGVzISE", "test_key_id_123", "2026259595", 1700000000, out, sizeof(out));
    TT_EQ_INT(n, (int)strlen(expect));
    TT_EQ_STR(out, expect);
    /* padded token decodes to the same key */
    n = jwt_sign("dGVzdF94c3JmX3Rva2VuX2tleV8zMmJ5dGVzISE=", "test_key_id_123", "2026259595", 1700000000, out, sizeof(out));
    TT_EQ_STR(out, expect);
    n = jwt_sign("dGVzdF94c3JmX3Rva2VuX2tleV8zMmJ5dGVzISE===", "test_key_id_123", "2026259595", 1700000000, out, sizeof(out));
    TT_EQ_STR(out, expect);
    TT_EQ_INT(jwt_sign("!!!", "k", "1", 1, out, sizeof(out)), -1);
    TT_EQ_INT(jwt_sign("YWJj", "k", "12a", 1, out, sizeof(out)), -1);
    /* the bounds of jwt.h: the longest accepted inputs fit JWT_MAX; a keyId
     * of control characters, an empty or over-long keyId or csesidx do not sign */
    char kid[JWT_KID_MAX + 2], cses[JWT_CSESIDX_MAX + 2];
    memset(kid, '"', JWT_KID_MAX);
    kid[JWT_KID_MAX] = '\0';
    memset(cses, '9', JWT_CSESIDX_MAX);
    cses[JWT_CSESIDX_MAX] = '\0';
    n = jwt_sign("YWJj", kid, cses, INT64_MAX - JWT_TTL_S, out, sizeof(out));
    TT_CHECK(n > 0 && (size_t)n == strlen(out) && n < JWT_MAX);
    kid[JWT_KID_MAX] = 'x';
    kid[JWT_KID_MAX + 1] = '\0';
    TT_EQ_INT(jwt_sign("YWJj", kid, "1", 1, out, sizeof(out)), -1);
    cses[JWT_CSESIDX_MAX] = '1';
    cses[JWT_CSESIDX_MAX + 1] = '\0';
    TT_EQ_INT(jwt_sign("YWJj", "k", cses, 1, out, sizeof(out)), -1);
    TT_EQ_INT(jwt_sign("YWJj", "k\x01", "1", 1, out, sizeof(out)), -1);
    TT_EQ_INT(jwt_sign("YWJj", "k\x7f", "1", 1, out, sizeof(out)), -1);
    TT_EQ_INT(jwt_sign("YWJj", "k\xc3\xa9", "1", 1, out, sizeof(out)), -1);
    TT_EQ_INT(jwt_sign("YWJj", "", "1", 1, out, sizeof(out)), -1);
    TT_EQ_INT(jwt_sign("YWJj", "k", "", 1, out, sizeof(out)), -1);
}

/* The signature against OpenSSL's one-shot HMAC() for keys shorter than,
 * equal to and longer than SHA-256's block (longer keys are hashed first). */
static void test_jwt_hmac_keys(void)
{
    static const size_t lens[] = {1, 31, 32, 63, 64, 65, 100, 384};
    for (size_t t = 0; t < sizeof(lens) / sizeof(lens[0]); t++) {
        unsigned char key[384];
        for (size_t i = 0; i < lens[t]; i++)
            key[i] = (unsigned char)(i * 37 + t * 11 + 1);
        char tok[600], out[JWT_MAX], want[64];
        tok[gg_b64url_encode(key, lens[t], tok)] = '\0';
        int n = jwt_sign(tok, "kid-1", "42", 1700000000 + (int64_t)t, out, sizeof(out));
        TT_CHECK(n > 0);
        if (n <= 0)
            continue;
        const char *dot = strrchr(out, '.');
        TT_CHECK(dot != NULL);
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int ml = 0;
        TT_CHECK(HMAC(EVP_sha256(), key, (int)lens[t], (const unsigned char *)out, (size_t)(dot - out), mac, &ml) != NULL);
        want[gg_b64url_encode(mac, ml, want)] = '\0';
        TT_EQ_STR(dot + 1, want);
    }
}

static void test_b64(void)
{
    char enc[64];
    unsigned char dec[64];
    TT_EQ_INT(gg_b64_encode("hello", 5, enc), 8);
    TT_EQ_STR(enc, "aGVsbG8=");
    TT_EQ_INT(gg_b64url_encode("\xfb\xff", 2, enc), 3);
    TT_EQ_STR(enc, "-_8");
    TT_EQ_INT(gg_b64url_decode("-_8", 3, dec), 2);
    TT_EQ_INT(dec[0], 0xfb);
    TT_EQ_INT(gg_b64_decode("aGVsbG8=", 8, dec), 5);
    TT_EQ_INT(gg_b64_decode("aGV sbG8", 8, dec), -1);
    TT_EQ_INT(gg_b64_decode("a", 1, dec), -1);
    TT_EQ_INT(gg_b64_decode("aGVsbG8===", 10, dec), -1);   /* excess padding */
    TT_EQ_INT(gg_b64_decode("aGVsbA=", 7, dec), -1);       /* padding that does not complete 4 */
    TT_EQ_INT(gg_b64_decode("aGVsbA", 6, dec), 4);
}

/* ---- UTF-8 ------------------------------------------------------------------- */

static void test_utf8(void)
{
    const char *s = "a春b😀";
    size_t n = strlen(s);
    TT_CHECK(gg_utf8_valid(s, n));
    TT_CHECK(!gg_utf8_valid("\xe6\x98", 2));
    TT_CHECK(!gg_utf8_valid("\xc0\xaf", 2));
    TT_CHECK(!gg_utf8_valid("\xed\xa0\x80", 3));
    /* every cut point: the complete prefix never ends inside a character */
    for (size_t k = 0; k <= n; k++) {
        size_t p = gg_utf8_complete_prefix(s, k);
        TT_CHECK(p <= k);
        TT_CHECK(gg_utf8_valid(s, p));
        TT_CHECK(k - p < 4);
    }
    TT_EQ_INT(gg_utf8_complete_prefix(s, 2), 1);   /* inside 春 */
    TT_EQ_INT(gg_utf8_complete_prefix(s, 4), 4);
}

/* ---- OpenAI request, flattening, keys, tokens ------------------------------------ */

static void test_parse_and_flatten(void)
{
    struct exch_request req;
    struct oai_error err;
    const char *body =
        "{\"model\":\"gpt-4o\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
        "\"messages\":[{\"role\":\"system\",\"content\":\"Be terse.\"},"
        "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is this?\"},"
        "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,iVBORw0KGgo=\"}}]},"
        "{\"role\":\"assistant\",\"content\":\"A cat.\"},"
        "{\"role\":\"tool\",\"name\":\"lookup\",\"content\":\"cat: felis\"},"
        "{\"role\":\"user\",\"content\":\"And its latin name?\"}]}";
    TT_EQ_INT(oai_parse_chat(body, strlen(body), &req, &err), 0);
    TT_CHECK(req.stream && oai_include_usage(&req));
    TT_EQ_STR(req.model.model->id, "gemini-2.5-flash");
    TT_CHECK(req.model.upgraded);
    TT_EQ_INT(req.n_msgs, 5);
    TT_EQ_INT(req.first_new, 3);
    TT_EQ_INT(req.n_att, 1);
    TT_EQ_STR(req.att[0].mime, "image/png");
    struct gg_buf b;
    gg_buf_init(&b, 1 << 16);
    TT_EQ_INT(exch_flatten(&req, 0, true, &b), 0);
    TT_EQ_STR(b.p, "System: Be terse.\n\nUser: What is this? [image]\n\nAssistant: A cat.\n\n"
                   "Tool result (lookup): cat: felis\n\nUser: And its latin name?");
    gg_buf_reset(&b);
    TT_EQ_INT(exch_flatten(&req, req.first_new, false, &b), 0);
    TT_EQ_STR(b.p, "Tool result (lookup): cat: felis\n\nUser: And its latin name?");
    /* conversation keys: the prefix key of this turn equals the full key of
     * the previous turn (history + its answer) */
    char k_prev[65], k_full[65];
    exch_conv_key("k1", &req, req.first_new, NULL, 0, k_prev);
    struct exch_request first;
    const char *b1 = "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"system\",\"content\":\"Be terse.\"},"
                     "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"What is this?\"},"
                     "{\"type\":\"image_url\",\"image_url\":{\"url\":\"https://x/y.png\"}}]}]}";
    TT_EQ_INT(oai_parse_chat(b1, strlen(b1), &first, &err), 0);
    exch_conv_key("k1", &first, first.n_msgs, " A cat.\n", 8, k_full);
    TT_EQ_STR(k_prev, k_full);
    exch_conv_key("k2", &first, first.n_msgs, "A cat.", 6, k_full);
    TT_CHECK(strcmp(k_prev, k_full) != 0);   /* other API key, other conversation */
    gg_buf_reset(&b);
    TT_EQ_INT(exch_flatten(&first, 0, true, &b), 0);
    TT_CHECK(strncmp(b.p, "System: Be terse.", 17) == 0);
    exch_request_free(&first);
    exch_request_free(&req);
    /* single user message goes as-is */
    const char *b2 = "{\"model\":\"gemini-auto\",\"messages\":[{\"role\":\"user\",\"content\":\"hi there\"}]}";
    TT_EQ_INT(oai_parse_chat(b2, strlen(b2), &req, &err), 0);
    gg_buf_reset(&b);
    exch_flatten(&req, 0, true, &b);
    TT_EQ_STR(b.p, "hi there");
    exch_request_free(&req);
    gg_buf_free(&b);
}

static void test_parse_errors(void)
{
    struct { const char *body; int status; const char *param; } cases[] = {
        {"", 400, ""},
        {"[]", 400, ""},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "model"},
        {"{\"model\":\"gemini-auto\",\"messages\":[{\"role\":\"user\"}]}", 400, "messages[0].content"},
        {"{\"model\":\"gemini-auto\",\"messages\":[{\"content\":\"x\"}]}", 400, "messages[0].role"},
        {"{\"model\":\"gemini-auto\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"audio\"}]}]}", 400, "messages[0].content[0].type"},
        {"{\"model\":\"gemini-auto\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"ftp://x\"}}]}]}", 400, "messages[0].content[0].image_url.url"},
        {"{\"model\":\"gemini-auto\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream_options\":{\"include_usage\":true}}", 400, "stream_options"},
        {"{\"model\":\"gemini-auto\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":0}", 400, "max_tokens"},
        {"{\"model\":\"gemini-auto\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":[1]}", 400, "stop"},
        {"{\"model\":\"gemini-auto\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"content\":\"y\"}]}", 400, "messages"},
        {"{\"model\":\"unknown-model\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 404, "model"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct exch_request req;
        struct oai_error err;
        TT_EQ_INT(oai_parse_chat(cases[i].body, strlen(cases[i].body), &req, &err), -1);
        TT_EQ_INT(err.status, cases[i].status);
        TT_EQ_STR(err.param, cases[i].param);
        struct gg_buf b;
        gg_buf_init(&b, 4096);
        TT_EQ_INT(oai_error_json(&err, &b), 0);
        TT_CHECK(strstr(b.p, "{\"error\":{\"message\":") == b.p);
        gg_buf_free(&b);
    }
}

static void test_tokens(void)
{
    TT_EQ_INT(exch_estimate_tokens("", 0), 0);
    TT_EQ_INT(exch_estimate_tokens("a", 1), 1);
    TT_CHECK(exch_estimate_tokens(".", 1) >= 1);
    const char *cjk = "春眠不觉晓处处闻啼鸟";
    TT_EQ_INT(exch_estimate_tokens(cjk, strlen(cjk)), 10);
    const char *en = "The quick brown fox jumps over the lazy dog.";
    int64_t t = exch_estimate_tokens(en, strlen(en));
    TT_CHECK(t >= 9 && t <= 16);
}

/* ---- buffers, env, import ------------------------------------------------------------ */

static void test_buf_cap(void)
{
    struct gg_buf b;
    gg_buf_init(&b, 10);
    TT_EQ_INT(gg_buf_adds(&b, "12345"), 0);
    TT_EQ_INT(gg_buf_adds(&b, "123456"), -1);
    TT_EQ_INT(b.len, 5);
    TT_EQ_INT(gg_buf_add_json_str(&b, "\"\n", 2), -1);   /* 7 more bytes do not fit */
    TT_EQ_STR(b.p, "12345");
    b.max = 20;
    TT_EQ_INT(gg_buf_add_json_str(&b, "\"\n", 2), 0);
    TT_EQ_STR(b.p, "12345\"\\\"\\n\"");
    gg_buf_free(&b);
    gg_buf_init(&b, 100);
    gg_buf_add_json_str(&b, "\x01", 1);
    TT_EQ_STR(b.p, "\"\\u0001\"");
    gg_buf_free(&b);
}

static int env_cb(void *ctx, const char *k, const char *v, int line)
{
    (void)line;
    struct gg_buf *b = ctx;
    gg_buf_printf(b, "%s=[%s];", k, v);
    return 0;
}

static void test_env(void)
{
    const char *t = "# c\nexport A=1\nB = two words # comment\nC='lit # x'\nD=\"a\\nb\"\nbad line\nE=\r\n";
    struct gg_buf b;
    gg_buf_init(&b, 4096);
    gg_env_parse(t, strlen(t), env_cb, NULL, &b);
    TT_EQ_STR(b.p, "A=[1];B=[two words];C=[lit # x];D=[a\nb];E=[];");
    gg_buf_free(&b);
}

static void test_import(void)
{
    struct import_entry *e;
    size_t n;
    const char *lines = "# header\nalpha|CSE.aaa|COS.bbb|111|cfg-1\n\nCSE.ccc||222|cfg-2\nbroken line\n";
    TT_EQ_INT(import_parse(lines, strlen(lines), &e, &n), 0);
    TT_EQ_INT(n, 3);
    TT_EQ_STR(e[0].name, "alpha");
    TT_EQ_STR(e[0].csesidx, "111");
    TT_EQ_INT(e[0].line, 2);
    TT_EQ_STR(e[1].secure_c_ses, "CSE.ccc");
    TT_EQ_STR(e[1].host_c_oses, "");
    TT_CHECK(e[2].error[0] != 0);
    TT_EQ_INT(e[2].line, 5);
    import_free(e, n);
    const char *env = "SECURE_C_SES=s1\nCSESIDX=1\nCONFIG_ID=c1\n\nSECURE_C_SES=s2\nCSESIDX=2\nCONFIG_ID=c2\nSECURE_C_SES=s3\nCSESIDX=3\nCONFIG_ID=c3\nNAME=three\n";
    TT_EQ_INT(import_parse(env, strlen(env), &e, &n), 0);
    TT_EQ_INT(n, 3);
    TT_EQ_STR(e[2].name, "three");
    TT_EQ_STR(e[1].config_id, "c2");
    import_free(e, n);
    const char *js = "{\"accounts\":[{\"secure_c_ses\":\"x\",\"csesidx\":5,\"config_id\":\"c\"},7]}";
    TT_EQ_INT(import_parse(js, strlen(js), &e, &n), 0);
    TT_EQ_INT(n, 2);
    TT_EQ_STR(e[0].csesidx, "5");
    TT_CHECK(e[1].error[0] != 0);
    import_free(e, n);
}

/* gg_thread_role names the calling thread and lowers only its priority. */
static void *role_thread(void *arg)
{
    int *out = arg;
    gg_thread_role("gg-test-role-long-name", true);
    char path[64], comm[32] = "";
    snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)gettid());
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(comm, sizeof(comm), f))
            comm[0] = 0;
        fclose(f);
    }
    out[0] = strcmp(comm, "gg-test-role-lo\n") == 0;       /* 15 bytes kept */
    errno = 0;
    out[1] = getpriority(PRIO_PROCESS, (id_t)gettid());
    /* the idle class and back (leaving it needs CAP_SYS_NICE / RLIMIT_NICE) */
    out[2] = gg_thread_idle(true) && sched_getscheduler(0) == SCHED_IDLE;
    out[3] = gg_thread_idle(false) ? sched_getscheduler(0) == SCHED_OTHER : errno == EPERM ? 2 : 0;
    return NULL;
}

static void test_thread_role(void)
{
    int out[4] = {0, -1, 0, 0};
    errno = 0;
    int before = getpriority(PRIO_PROCESS, (id_t)gettid());
    pthread_t t;
    TT_EQ_INT(pthread_create(&t, NULL, role_thread, out), 0);
    pthread_join(t, NULL);
    TT_CHECK(out[0]);
    TT_EQ_INT(out[1], before + 10 > 19 ? 19 : before + 10);
    TT_EQ_INT(getpriority(PRIO_PROCESS, (id_t)gettid()), before);   /* this thread untouched */
    TT_CHECK(out[2]);
    TT_CHECK(out[3] != 0);                      /* back to normal, or refused for lack of privilege */
    TT_EQ_INT(sched_getscheduler(0), SCHED_OTHER);
}

int main(void)
{
    TT_RUN(test_splitter_chunkings);
    TT_RUN(test_splitter_truncation);
    TT_RUN(test_xlate_rules);
    TT_RUN(test_jwt_vector);
    TT_RUN(test_jwt_hmac_keys);
    TT_RUN(test_b64);
    TT_RUN(test_utf8);
    TT_RUN(test_parse_and_flatten);
    TT_RUN(test_parse_errors);
    TT_RUN(test_tokens);
    TT_RUN(test_buf_cap);
    TT_RUN(test_env);
    TT_RUN(test_import);
    TT_RUN(test_thread_role);
    return TT_REPORT();
}

/* flatten.c -- see flatten.h */
#include "flatten.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <string.h>

#include "gg_util.h"
#include "tools.h"

static const char *role_label(const struct exch_message *m)
{
    switch (m->role) {
    case EXCH_SYSTEM: return "System";
    case EXCH_USER: return "User";
    case EXCH_ASSISTANT: return "Assistant";
    case EXCH_TOOL: return "Tool result";
    }
    return "User";
}

/* The name of the tool whose call `id` an earlier assistant turn made, or NULL. */
static const char *call_name(const struct exch_request *req, const char *id)
{
    for (size_t i = 0; id && i < req->n_msgs; i++)
        for (size_t k = 0; k < req->msgs[i].n_tool_calls; k++)
            if (req->msgs[i].tool_calls[k].id && strcmp(req->msgs[i].tool_calls[k].id, id) == 0)
                return req->msgs[i].tool_calls[k].name;
    return NULL;
}

/* One message, label included.  With a spec, calls and results use the
 * prompt contract's format; without one, calls stay readable as text. */
static int flatten_msg(const struct exch_request *req, const struct exch_message *m,
                       const struct tools_spec *spec, struct gg_buf *out)
{
    int rc = 0;
    if (m->role == EXCH_TOOL && spec) {
        const char *name = m->name ? m->name : call_name(req, m->tool_call_id);
        return tools_render_result(spec, m->tool_call_id, name, m->text, m->tool_error, out);
    }
    if (m->role == EXCH_TOOL && m->name)
        rc = gg_buf_printf(out, "Tool result (%s): ", m->name);
    else
        rc = gg_buf_printf(out, "%s: ", role_label(m));
    rc |= gg_buf_adds(out, m->text);
    for (int k = 0; rc == 0 && k < m->n_images; k++)
        rc = gg_buf_adds(out, " [image]");
    for (size_t k = 0; rc == 0 && k < m->n_tool_calls; k++) {
        const struct exch_tool_call *tc = &m->tool_calls[k];
        if (spec) {
            rc = gg_buf_adds(out, "\n");
            rc |= tools_render_call(spec, tc, out);
        } else {
            rc = gg_buf_printf(out, "%s[called tool %s(%s)]", *m->text || k ? "\n" : "", tc->name ? tc->name : "?",
                               tc->args_json ? tc->args_json : "");
        }
    }
    return rc ? -1 : 0;
}

int exch_flatten_tools(const struct exch_request *req, size_t from, bool include_system,
                       const struct tools_spec *spec, struct gg_buf *out)
{
    if (spec && (spec->choice == EXCH_TOOLS_NONE || spec->n_tools == 0))
        spec = NULL;
    size_t nsys = 0, nother = 0;
    const struct exch_message *only = NULL;
    for (size_t i = 0; i < req->n_msgs; i++) {
        const struct exch_message *m = &req->msgs[i];
        if (m->role == EXCH_SYSTEM && (include_system || i >= from))
            nsys++;
        else if (i >= from && m->role != EXCH_SYSTEM) {
            nother++;
            only = m;
        }
    }
    if (nsys == 0 && nother == 1 && only->role == EXCH_USER) {
        int rc = 0;
        if (spec) {
            rc = tools_render_prompt(spec, out);
            rc |= gg_buf_adds(out, "\n");
        }
        rc |= gg_buf_adds(out, only->text);
        for (int k = 0; rc == 0 && k < only->n_images; k++)
            rc = gg_buf_adds(out, k == 0 && !*only->text ? "[image]" : "\n[image]");
        if (spec && rc == 0) {
            rc = gg_buf_adds(out, "\n\n");
            rc |= tools_render_reminder(spec, out);
        }
        return rc ? -1 : 0;
    }
    int first = 1;
    bool prompted = spec == NULL;
    for (size_t i = 0; i < req->n_msgs; i++) {
        const struct exch_message *m = &req->msgs[i];
        bool take = i >= from || (include_system && m->role == EXCH_SYSTEM);
        if (!take)
            continue;
        if (!first && gg_buf_adds(out, "\n\n") != 0)
            return -1;
        if (!prompted && m->role != EXCH_SYSTEM) {
            /* the tool instructions go after the system text */
            if (tools_render_prompt(spec, out) != 0 || gg_buf_adds(out, "\n") != 0)
                return -1;
            prompted = true;
        }
        first = 0;
        if (flatten_msg(req, m, spec, out) != 0)
            return -1;
    }
    if (spec) {
        if (!prompted && (gg_buf_adds(out, first ? "" : "\n\n") != 0 || tools_render_prompt(spec, out) != 0))
            return -1;
        if (gg_buf_adds(out, "\n\n") != 0 || tools_render_reminder(spec, out) != 0)
            return -1;
    }
    return 0;
}

int exch_flatten(const struct exch_request *req, size_t from, bool include_system, struct gg_buf *out)
{
    return exch_flatten_tools(req, from, include_system, NULL, out);
}

/* A trimmed text goes into the key as itself up to LONG_TEXT bytes (the
 * keys of earlier versions), longer as "\x01U" + its uhash: under half of
 * SHA-256's time per byte over a long answer. */
#define LONG_TEXT 1024

static void hash_long(EVP_MD_CTX *c, const unsigned char d[UHASH_LEN])
{
    EVP_DigestUpdate(c, "\x01U", 2);
    EVP_DigestUpdate(c, d, UHASH_LEN);
    EVP_DigestUpdate(c, "\0", 1);
}

static void hash_text(EVP_MD_CTX *c, const char *s, size_t n)
{
    while (n > 0 && isspace((unsigned char)*s)) { s++; n--; }
    while (n > 0 && isspace((unsigned char)s[n - 1])) n--;
    if (n > LONG_TEXT) {
        unsigned char d[UHASH_LEN];
        uhash(s, n, d);
        hash_long(c, d);
        return;
    }
    EVP_DigestUpdate(c, s, n);
    EVP_DigestUpdate(c, "\0", 1);
}

/* Tool calls are hashed by name only: every dialect round-trips names, not
 * always ids (Gemini) or the exact argument text (re-serialised objects). */
static void hash_calls(EVP_MD_CTX *c, const struct exch_tool_call *calls, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        const char *nm = calls[k].name ? calls[k].name : "";
        EVP_DigestUpdate(c, "\x02", 1);
        EVP_DigestUpdate(c, nm, strlen(nm) + 1);
    }
}

void exch_conv_key(const char *key_id, const struct exch_request *req, size_t upto,
                  const char *extra_answer, size_t extra_len, char out[65])
{
    exch_conv_key_calls(key_id, req, upto, extra_answer, extra_len, NULL, 0, out);
}

static void hash_prefix(EVP_MD_CTX *c, const char *key_id, const struct exch_request *req, size_t upto)
{
    EVP_DigestUpdate(c, key_id ? key_id : "", strlen(key_id ? key_id : "") + 1);
    for (size_t i = 0; i < upto && i < req->n_msgs; i++) {
        const struct exch_message *m = &req->msgs[i];
        char r = (char)('0' + m->role);
        EVP_DigestUpdate(c, &r, 1);
        hash_text(c, m->text, strlen(m->text));
        hash_calls(c, m->tool_calls, m->n_tool_calls);
    }
}

static void hex_digest(EVP_MD_CTX *c, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_DigestFinal_ex(c, md, &mdlen);
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

void exch_conv_key_calls(const char *key_id, const struct exch_request *req, size_t upto, const char *extra_answer,
                         size_t extra_len, const struct exch_tool_call *calls, size_t n_calls, char out[65])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c) {
        /* no digest context: a random key that matches no conversation */
        gg_random_hex(out, 32);
        return;
    }
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    hash_prefix(c, key_id, req, upto);
    if (extra_answer) {
        char r = (char)('0' + EXCH_ASSISTANT);
        EVP_DigestUpdate(c, &r, 1);
        hash_text(c, extra_answer, extra_len);
        hash_calls(c, calls, n_calls);
    }
    hex_digest(c, out);
    EVP_MD_CTX_free(c);
}

void exch_convhash_begin(struct exch_convhash *h, const char *key_id, const struct exch_request *req, size_t upto)
{
    h->live = false;
    if (!h->md && !(h->md = EVP_MD_CTX_new()))
        return;
    EVP_MD_CTX *c = h->md;
    if (EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
        return;
    hash_prefix(c, key_id, req, upto);
    char r = (char)('0' + EXCH_ASSISTANT);
    EVP_DigestUpdate(c, &r, 1);
    h->upto = upto;
    h->seen = h->fed = h->start = h->uh_at = 0;
    h->lead = false;
    h->live = true;
}

/* hash_text's trimming, incrementally: answer[start, fed) is the trimmed
 * text so far, answer[fed, seen) whitespace that joins it only when
 * non-space text follows; uhash has taken answer[start, uh_at) */
void exch_convhash_feed(struct exch_convhash *h, const char *answer, size_t len)
{
    if (!h->live || len <= h->seen) {
        if (len < h->seen)
            h->live = false;
        return;
    }
    size_t i = h->seen;
    h->seen = len;
    if (!h->lead) {
        /* leading whitespace is never hashed */
        while (i < len && isspace((unsigned char)answer[i]))
            i++;
        if (i == len)
            return;
        h->lead = true;
        h->start = h->fed = h->uh_at = i;
        uhash_init(&h->uh);
    }
    size_t e = len;
    while (e > i && isspace((unsigned char)answer[e - 1]))
        e--;
    if (e > i) {                /* non-space text: the held-back run goes with it */
        h->fed = e;
        h->uh_at += uhash_blocks(&h->uh, answer + h->uh_at, e - h->uh_at);
    }
}

bool exch_convhash_final(struct exch_convhash *h, const char *answer, size_t upto, size_t len,
                         const struct exch_tool_call *calls, size_t n_calls, char out[65])
{
    if (!h->live || h->upto != upto || h->seen != len)
        return false;
    h->live = false;
    if (h->lead && h->fed - h->start > LONG_TEXT) {
        unsigned char d[UHASH_LEN];
        uhash_final(&h->uh, answer + h->uh_at, h->fed - h->uh_at, d);
        hash_long(h->md, d);
    } else {
        if (h->lead)
            EVP_DigestUpdate(h->md, answer + h->start, h->fed - h->start);
        EVP_DigestUpdate(h->md, "\0", 1);
    }
    hash_calls(h->md, calls, n_calls);
    hex_digest(h->md, out);
    return true;
}

void exch_convhash_free(struct exch_convhash *h)
{
    EVP_MD_CTX_free(h->md);
    h->md = NULL;
    h->live = false;
}

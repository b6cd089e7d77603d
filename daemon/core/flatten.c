/* flatten.c -- see flatten.h */
#include "flatten.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <string.h>

#include "gg_util.h"

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

int exch_flatten(const struct exch_request *req, size_t from, bool include_system, struct gg_buf *out)
{
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
        int rc = gg_buf_adds(out, only->text);
        for (int k = 0; rc == 0 && k < only->n_images; k++)
            rc = gg_buf_adds(out, k == 0 && !*only->text ? "[image]" : "\n[image]");
        return rc;
    }
    int first = 1;
    for (size_t i = 0; i < req->n_msgs; i++) {
        const struct exch_message *m = &req->msgs[i];
        bool take = i >= from || (include_system && m->role == EXCH_SYSTEM);
        if (!take)
            continue;
        if (!first && gg_buf_adds(out, "\n\n") != 0)
            return -1;
        first = 0;
        if (m->role == EXCH_TOOL && m->name) {
            if (gg_buf_printf(out, "Tool result (%s): ", m->name) != 0)
                return -1;
        } else if (gg_buf_printf(out, "%s: ", role_label(m)) != 0) {
            return -1;
        }
        if (gg_buf_adds(out, m->text) != 0)
            return -1;
        for (int k = 0; k < m->n_images; k++)
            if (gg_buf_adds(out, " [image]") != 0)
                return -1;
    }
    return 0;
}

static void hash_text(EVP_MD_CTX *c, const char *s, size_t n)
{
    while (n > 0 && isspace((unsigned char)*s)) { s++; n--; }
    while (n > 0 && isspace((unsigned char)s[n - 1])) n--;
    EVP_DigestUpdate(c, s, n);
    EVP_DigestUpdate(c, "\0", 1);
}

void exch_conv_key(const char *key_id, const struct exch_request *req, size_t upto,
                  const char *extra_answer, size_t extra_len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c) {
        /* no digest context: a random key that matches no conversation */
        gg_random_hex(out, 32);
        return;
    }
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_DigestInit_ex(c, EVP_sha256(), NULL);
    EVP_DigestUpdate(c, key_id ? key_id : "", strlen(key_id ? key_id : "") + 1);
    for (size_t i = 0; i < upto && i < req->n_msgs; i++) {
        const struct exch_message *m = &req->msgs[i];
        char r = (char)('0' + m->role);
        EVP_DigestUpdate(c, &r, 1);
        hash_text(c, m->text, strlen(m->text));
    }
    if (extra_answer) {
        char r = (char)('0' + EXCH_ASSISTANT);
        EVP_DigestUpdate(c, &r, 1);
        hash_text(c, extra_answer, extra_len);
    }
    EVP_DigestFinal_ex(c, md, &mdlen);
    EVP_MD_CTX_free(c);
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}


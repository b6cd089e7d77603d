/* secretbox.c -- AES-256-GCM sealing of secrets at rest; see secretbox.h. */
#include "secretbox.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "gg_b64.h"
#include "gg_util.h"

#define SB_KEYLEN 32
#define SB_NONCELEN 12
#define SB_TAGLEN 16
#define SB_KIDLEN 8
#define SB_MAXKEYS 16

struct sb_key {
    unsigned char key[SB_KEYLEN];
    char kid[SB_KIDLEN + 1];
};

struct secretbox {
    bool has_current;
    struct sb_key cur;
    size_t nold;
    struct sb_key old[SB_MAXKEYS];
};

/* Derive key and kid from a secret string.  Cannot fail. */
static void derive(const char *secret, size_t len, struct sb_key *k)
{
    unsigned int mdlen = 0;
    char hex[65];

    EVP_Digest(secret, len, k->key, &mdlen, EVP_sha256(), NULL);
    gg_sha256_hex(k->key, SB_KEYLEN, hex);
    memcpy(k->kid, hex, SB_KIDLEN);
    k->kid[SB_KIDLEN] = '\0';
    OPENSSL_cleanse(hex, sizeof(hex));
}

struct secretbox *secretbox_new(const char *key, const char *old_keys, char *err, size_t errlen)
{
    struct secretbox *b = calloc(1, sizeof(*b));

    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (key && *key) {
        derive(key, strlen(key), &b->cur);
        b->has_current = true;
    }
    for (const char *p = old_keys; p && *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *s = p;
        size_t sn = n;

        while (sn > 0 && (*s == ' ' || *s == '\t')) {
            s++;
            sn--;
        }
        while (sn > 0 && (s[sn - 1] == ' ' || s[sn - 1] == '\t'))
            sn--;
        if (sn > 0 && b->nold < SB_MAXKEYS)
            derive(s, sn, &b->old[b->nold++]);
        p = e ? e + 1 : p + n;
    }
    return b;
}

void secretbox_free(struct secretbox *b)
{
    if (!b)
        return;
    OPENSSL_cleanse(b, sizeof(*b));
    free(b);
}

bool secretbox_can_seal(const struct secretbox *b)
{
    return b && b->has_current;
}

const char *secretbox_kid(const struct secretbox *b)
{
    return secretbox_can_seal(b) ? b->cur.kid : "";
}

static const struct sb_key *find_key(const struct secretbox *b, const char *kid)
{
    if (!b)
        return NULL;
    if (b->has_current && strcmp(b->cur.kid, kid) == 0)
        return &b->cur;
    for (size_t i = 0; i < b->nold; i++)
        if (strcmp(b->old[i].kid, kid) == 0)
            return &b->old[i];
    return NULL;
}

int secretbox_seal(const struct secretbox *b, const char *plain, char **out, char *err, size_t errlen)
{
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *raw = NULL;
    char aad[sizeof(SECRETBOX_PREFIX) + SB_KIDLEN + 1];
    size_t plen, rawlen, hlen;
    char *res = NULL;
    int len = 0, rc = -1;

    *out = NULL;
    if (!plain)
        return 0;
    if (!secretbox_can_seal(b)) {
        res = strdup(plain);
        if (!res) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        rc = 0;
        goto out;
    }
    plen = strlen(plain);
    if (plen > (1u << 20)) {
        snprintf(err, errlen, "secret too long to seal (%zu bytes)", plen);
        goto out;
    }
    hlen = (size_t)snprintf(aad, sizeof(aad), SECRETBOX_PREFIX "%s", b->cur.kid);
    rawlen = SB_NONCELEN + plen + SB_TAGLEN;
    raw = malloc(rawlen);
    res = malloc(hlen + 1 + gg_b64_enc_len(rawlen));
    ctx = EVP_CIPHER_CTX_new();
    if (!raw || !res || !ctx) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (gg_random(raw, SB_NONCELEN) != 0) {
        snprintf(err, errlen, "no randomness for a nonce");
        goto out;
    }
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SB_NONCELEN, NULL) != 1 ||
        EVP_EncryptInit_ex(ctx, NULL, NULL, b->cur.key, raw) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)hlen) != 1 ||
        EVP_EncryptUpdate(ctx, raw + SB_NONCELEN, &len, (const unsigned char *)plain, (int)plen) != 1 ||
        EVP_EncryptFinal_ex(ctx, raw + SB_NONCELEN + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SB_TAGLEN, raw + SB_NONCELEN + plen) != 1) {
        snprintf(err, errlen, "aes-256-gcm encryption failed");
        goto out;
    }
    memcpy(res, aad, hlen);
    res[hlen] = ':';
    gg_b64_encode(raw, rawlen, res + hlen + 1);
    rc = 0;

out:
    EVP_CIPHER_CTX_free(ctx);
    if (raw) {
        OPENSSL_cleanse(raw, rawlen);
        free(raw);
    }
    if (rc != 0) {
        free(res);
        res = NULL;
    }
    *out = res;
    return rc;
}

int secretbox_open(const struct secretbox *b, const char *stored, char **out, char *err, size_t errlen)
{
    const size_t plen0 = sizeof(SECRETBOX_PREFIX) - 1;
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *raw = NULL;
    const struct sb_key *k;
    char kid[SB_KIDLEN + 1];
    const char *b64;
    char *res = NULL;
    ssize_t rawlen = 0;
    size_t clen = 0;
    int len = 0, rc = -1;

    *out = NULL;
    if (!stored)
        return 0;
    if (strncmp(stored, "enc:", 4) != 0) {
        res = strdup(stored);
        if (!res)
            snprintf(err, errlen, "out of memory");
        else
            rc = 0;
        goto out;
    }
    if (strncmp(stored, SECRETBOX_PREFIX, plen0) != 0 ||
        strlen(stored) < plen0 + SB_KIDLEN + 1 || stored[plen0 + SB_KIDLEN] != ':') {
        snprintf(err, errlen, "sealed secret has an unknown format");
        goto out;
    }
    memcpy(kid, stored + plen0, SB_KIDLEN);
    kid[SB_KIDLEN] = '\0';
    k = find_key(b, kid);
    if (!k) {
        snprintf(err, errlen, "no key for sealed secret (kid %s): set SECRET_KEY or add the old key", kid);
        goto out;
    }
    b64 = stored + plen0 + SB_KIDLEN + 1;
    raw = malloc(gg_b64_dec_len(strlen(b64)));
    if (!raw) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rawlen = gg_b64_decode(b64, strlen(b64), raw);
    if (rawlen < SB_NONCELEN + SB_TAGLEN) {
        snprintf(err, errlen, "sealed secret (kid %s) is malformed", kid);
        goto out;
    }
    clen = (size_t)rawlen - SB_NONCELEN - SB_TAGLEN;
    res = malloc(clen + 1);
    ctx = EVP_CIPHER_CTX_new();
    if (!res || !ctx) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SB_NONCELEN, NULL) != 1 ||
        EVP_DecryptInit_ex(ctx, NULL, NULL, k->key, raw) != 1 ||
        EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)stored,
                          (int)(plen0 + SB_KIDLEN)) != 1 ||
        EVP_DecryptUpdate(ctx, (unsigned char *)res, &len, raw + SB_NONCELEN, (int)clen) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SB_TAGLEN, raw + SB_NONCELEN + clen) != 1 ||
        EVP_DecryptFinal_ex(ctx, (unsigned char *)res + len, &len) != 1) {
        snprintf(err, errlen, "sealed secret (kid %s) failed authentication", kid);
        goto out;
    }
    res[clen] = '\0';
    if (memchr(res, '\0', clen)) {
        snprintf(err, errlen, "sealed secret (kid %s) contains a NUL byte", kid);
        goto out;
    }
    rc = 0;

out:
    EVP_CIPHER_CTX_free(ctx);
    if (raw) {
        OPENSSL_cleanse(raw, rawlen > 0 ? (size_t)rawlen : 0);
        free(raw);
    }
    if (rc != 0 && res) {
        OPENSSL_cleanse(res, clen + 1);
        free(res);
        res = NULL;
    }
    *out = res;
    return rc;
}

bool secretbox_is_current(const struct secretbox *b, const char *stored)
{
    const size_t plen0 = sizeof(SECRETBOX_PREFIX) - 1;

    if (!stored)
        return true;
    if (!secretbox_can_seal(b))
        return strncmp(stored, "enc:", 4) != 0;
    return strncmp(stored, SECRETBOX_PREFIX, plen0) == 0 &&
           strncmp(stored + plen0, b->cur.kid, SB_KIDLEN) == 0 &&
           stored[plen0 + SB_KIDLEN] == ':';
}

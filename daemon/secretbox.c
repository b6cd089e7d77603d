/* secretbox.c -- AES-256-GCM sealing of secrets at rest; see secretbox.h. */
#include "secretbox.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gg_b64.h"
#include "gg_util.h"

#define SB_KEYLEN 32
#define SB_NONCELEN 12
#define SB_TAGLEN 16
#define SB_KIDLEN 8
#define SB_MAXKEYS 16
#define SB_HKDF_SALT "gemgate secretbox v2"
#define SB_PBKDF2_SALT "gemgate secretbox v2 passphrase"

struct sb_key {
    unsigned char key1[SB_KEYLEN];   /* v1: SHA-256(secret) */
    char kid1[SB_KIDLEN + 1];
    unsigned char key2[SB_KEYLEN];   /* v2: HKDF (after PBKDF2 for a passphrase) */
    char kid2[SB_KIDLEN + 1];
};

struct secretbox {
    bool has_current;
    struct sb_key cur;
    size_t nold;
    struct sb_key old[SB_MAXKEYS];
};

/* HKDF-SHA256 (RFC 5869) with one output block: out = T(1). */
static void hkdf32(const unsigned char *ikm, size_t ikmlen, const char *info, unsigned char out[32])
{
    unsigned char prk[32], blk[128];
    unsigned int l = 0;
    size_t il = strlen(info);

    HMAC(EVP_sha256(), SB_HKDF_SALT, (int)strlen(SB_HKDF_SALT), ikm, ikmlen, prk, &l);
    if (il > sizeof(blk) - 1)
        il = sizeof(blk) - 1;
    memcpy(blk, info, il);
    blk[il] = 0x01;
    HMAC(EVP_sha256(), prk, sizeof(prk), blk, il + 1, out, &l);
    OPENSSL_cleanse(prk, sizeof(prk));
}

static bool all_in(const char *s, size_t n, const char *set)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(set, s[i]) || !s[i])
            return false;
    return true;
}

/* Decode a high-entropy key into out (>= 32 bytes, at most outlen);
 * returns the length or 0 for a passphrase. */
static size_t random_key_bytes(const char *s, size_t n, unsigned char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdefABCDEF";
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    static const char b64u[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    if (n >= 64 && n % 2 == 0 && n / 2 <= outlen && all_in(s, n, hex)) {
        for (size_t i = 0; i < n / 2; i++) {
            char b[3] = {s[2 * i], s[2 * i + 1], 0};
            out[i] = (unsigned char)strtoul(b, NULL, 16);
        }
        return n / 2;
    }
    if (n < 43 || gg_b64_dec_len(n) > outlen)
        return 0;
    bool digit = false, up = false, low = false;
    for (size_t i = 0; i < n; i++) {
        digit |= s[i] >= '0' && s[i] <= '9';
        up |= s[i] >= 'A' && s[i] <= 'Z';
        low |= s[i] >= 'a' && s[i] <= 'z';
    }
    if (!digit || !up || !low)
        return 0;
    ssize_t r = -1;
    if (all_in(s, n, b64))
        r = gg_b64_decode(s, n, out);
    else if (all_in(s, n, b64u))
        r = gg_b64url_decode(s, n, out);
    return r >= 32 ? (size_t)r : 0;
}

bool secretbox_key_is_random(const char *key, size_t len)
{
    unsigned char buf[512];
    size_t n = random_key_bytes(key, len, buf, sizeof(buf));
    OPENSSL_cleanse(buf, sizeof(buf));
    return n > 0;
}

/* Derive both key generations and their kids from a secret string. */
static int derive(const char *secret, size_t len, struct sb_key *k)
{
    unsigned int mdlen = 0;
    unsigned char ikm[512], kidb[32];
    char hex[65];
    size_t ikmlen;
    int rc = -1;

    /* v1 (read only) */
    EVP_Digest(secret, len, k->key1, &mdlen, EVP_sha256(), NULL);
    gg_sha256_hex(k->key1, SB_KEYLEN, hex);
    memcpy(k->kid1, hex, SB_KIDLEN);
    k->kid1[SB_KIDLEN] = '\0';
    /* v2 */
    ikmlen = random_key_bytes(secret, len, ikm, sizeof(ikm));
    if (ikmlen == 0) {
        if (PKCS5_PBKDF2_HMAC(secret, (int)len, (const unsigned char *)SB_PBKDF2_SALT,
                              (int)strlen(SB_PBKDF2_SALT), SECRETBOX_PBKDF2_ITER, EVP_sha256(),
                              SB_KEYLEN, ikm) != 1)
            goto out;
        ikmlen = SB_KEYLEN;
    }
    hkdf32(ikm, ikmlen, "aes-256-gcm key", k->key2);
    hkdf32(ikm, ikmlen, "key id", kidb);
    for (int i = 0; i < SB_KIDLEN / 2; i++)
        snprintf(k->kid2 + 2 * i, 3, "%02x", kidb[i]);
    rc = 0;
out:
    OPENSSL_cleanse(ikm, sizeof(ikm));
    OPENSSL_cleanse(kidb, sizeof(kidb));
    OPENSSL_cleanse(hex, sizeof(hex));
    return rc;
}

struct secretbox *secretbox_new(const char *key, const char *old_keys, char *err, size_t errlen)
{
    struct secretbox *b = calloc(1, sizeof(*b));

    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (key && *key) {
        if (derive(key, strlen(key), &b->cur) != 0)
            goto fail;
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
        if (sn > 0 && b->nold < SB_MAXKEYS) {
            if (derive(s, sn, &b->old[b->nold]) != 0)
                goto fail;
            b->nold++;
        }
        p = e ? e + 1 : p + n;
    }
    return b;
fail:
    snprintf(err, errlen, "key derivation failed");
    secretbox_free(b);
    return NULL;
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
    return secretbox_can_seal(b) ? b->cur.kid2 : "";
}

/* The key for kid in format v (1 or 2), or NULL. */
static const unsigned char *find_key(const struct secretbox *b, int v, const char *kid)
{
    if (!b)
        return NULL;
    if (b->has_current && strcmp(v == 1 ? b->cur.kid1 : b->cur.kid2, kid) == 0)
        return v == 1 ? b->cur.key1 : b->cur.key2;
    for (size_t i = 0; i < b->nold; i++)
        if (strcmp(v == 1 ? b->old[i].kid1 : b->old[i].kid2, kid) == 0)
            return v == 1 ? b->old[i].key1 : b->old[i].key2;
    return NULL;
}

/* AAD: header, then for v2 "|" and the context.  malloc'd. */
static char *make_aad(const char *hdr, size_t hlen, int v, const char *ctx, size_t *alen)
{
    size_t cl = v == 2 && ctx ? strlen(ctx) : 0;
    char *a = malloc(hlen + 2 + cl);
    if (!a)
        return NULL;
    memcpy(a, hdr, hlen);
    *alen = hlen;
    if (v == 2) {
        a[hlen] = '|';
        memcpy(a + hlen + 1, ctx ? ctx : "", cl);
        *alen = hlen + 1 + cl;
    }
    a[*alen] = '\0';
    return a;
}

int secretbox_seal(const struct secretbox *b, const char *plain, const char *ctx,
                   char **out, char *err, size_t errlen)
{
    EVP_CIPHER_CTX *cx = NULL;
    unsigned char *raw = NULL;
    char hdr[sizeof(SECRETBOX_PREFIX) + SB_KIDLEN + 1];
    char *aad = NULL;
    size_t plen, rawlen = 0, hlen, alen = 0;
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
    hlen = (size_t)snprintf(hdr, sizeof(hdr), SECRETBOX_PREFIX "%s", b->cur.kid2);
    aad = make_aad(hdr, hlen, 2, ctx, &alen);
    rawlen = SB_NONCELEN + plen + SB_TAGLEN;
    raw = malloc(rawlen);
    res = malloc(hlen + 1 + gg_b64_enc_len(rawlen));
    cx = EVP_CIPHER_CTX_new();
    if (!aad || !raw || !res || !cx) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (gg_random(raw, SB_NONCELEN) != 0) {
        snprintf(err, errlen, "no randomness for a nonce");
        goto out;
    }
    if (EVP_EncryptInit_ex(cx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_IVLEN, SB_NONCELEN, NULL) != 1 ||
        EVP_EncryptInit_ex(cx, NULL, NULL, b->cur.key2, raw) != 1 ||
        EVP_EncryptUpdate(cx, NULL, &len, (const unsigned char *)aad, (int)alen) != 1 ||
        EVP_EncryptUpdate(cx, raw + SB_NONCELEN, &len, (const unsigned char *)plain, (int)plen) != 1 ||
        EVP_EncryptFinal_ex(cx, raw + SB_NONCELEN + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_GET_TAG, SB_TAGLEN, raw + SB_NONCELEN + plen) != 1) {
        snprintf(err, errlen, "aes-256-gcm encryption failed");
        goto out;
    }
    memcpy(res, hdr, hlen);
    res[hlen] = ':';
    gg_b64_encode(raw, rawlen, res + hlen + 1);
    rc = 0;

out:
    EVP_CIPHER_CTX_free(cx);
    free(aad);
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

int secretbox_open(const struct secretbox *b, const char *stored, const char *ctx,
                   char **out, char *err, size_t errlen)
{
    const size_t plen0 = sizeof(SECRETBOX_PREFIX) - 1;
    EVP_CIPHER_CTX *cx = NULL;
    unsigned char *raw = NULL;
    const unsigned char *k;
    char kid[SB_KIDLEN + 1];
    const char *b64;
    char *res = NULL, *aad = NULL;
    ssize_t rawlen = 0;
    size_t clen = 0, alen = 0;
    int len = 0, rc = -1, v;

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
    if (strncmp(stored, SECRETBOX_PREFIX, plen0) == 0)
        v = 2;
    else if (strncmp(stored, SECRETBOX_PREFIX_V1, plen0) == 0)
        v = 1;
    else
        v = 0;
    if (v == 0 || strlen(stored) < plen0 + SB_KIDLEN + 1 || stored[plen0 + SB_KIDLEN] != ':') {
        snprintf(err, errlen, "sealed secret has an unknown format");
        goto out;
    }
    memcpy(kid, stored + plen0, SB_KIDLEN);
    kid[SB_KIDLEN] = '\0';
    k = find_key(b, v, kid);
    if (!k) {
        snprintf(err, errlen, "no key for sealed secret (v%d kid %s): set SECRET_KEY or add the old key", v, kid);
        goto out;
    }
    b64 = stored + plen0 + SB_KIDLEN + 1;
    raw = malloc(gg_b64_dec_len(strlen(b64)));
    aad = make_aad(stored, plen0 + SB_KIDLEN, v, ctx, &alen);
    if (!raw || !aad) {
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
    cx = EVP_CIPHER_CTX_new();
    if (!res || !cx) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (EVP_DecryptInit_ex(cx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_IVLEN, SB_NONCELEN, NULL) != 1 ||
        EVP_DecryptInit_ex(cx, NULL, NULL, k, raw) != 1 ||
        EVP_DecryptUpdate(cx, NULL, &len, (const unsigned char *)aad, (int)alen) != 1 ||
        EVP_DecryptUpdate(cx, (unsigned char *)res, &len, raw + SB_NONCELEN, (int)clen) != 1 ||
        EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_TAG, SB_TAGLEN, raw + SB_NONCELEN + clen) != 1 ||
        EVP_DecryptFinal_ex(cx, (unsigned char *)res + len, &len) != 1) {
        snprintf(err, errlen, "sealed secret (kid %s) failed authentication (wrong key, or moved "
                 "from another record or field)", kid);
        goto out;
    }
    res[clen] = '\0';
    if (memchr(res, '\0', clen)) {
        snprintf(err, errlen, "sealed secret (kid %s) contains a NUL byte", kid);
        goto out;
    }
    rc = 0;

out:
    EVP_CIPHER_CTX_free(cx);
    free(aad);
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
           strncmp(stored + plen0, b->cur.kid2, SB_KIDLEN) == 0 &&
           stored[plen0 + SB_KIDLEN] == ':';
}

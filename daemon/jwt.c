/* jwt.c -- see jwt.h */
#include "jwt.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "gg_b64.h"
#include "gg_buf.h"

#define JWT_ISS "https://business.gemini.google"
#define JWT_AUD "https://biz-discoveryengine.googleapis.com"

/* The longest token the bounds of jwt.h allow, as `need` below counts it:
 * a keyId of '"' or '\\' escapes to 2 bytes a character; the payload's
 * numbers are at most 20 characters each. */
#define HDR_MAX (sizeof("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"\"}") - 1 + 2 * JWT_KID_MAX)
#define PL_MAX (sizeof("{\"iss\":\"" JWT_ISS "\",\"aud\":\"" JWT_AUD "\",\"sub\":\"csesidx/\","     \
                       "\"iat\":,\"exp\":,\"nbf\":}") - 1 + JWT_CSESIDX_MAX + 3 * 20)
#define B64(n) (((n) + 2) / 3 * 4)
_Static_assert(B64(HDR_MAX) + B64(PL_MAX) + B64(32) + 5 <= JWT_MAX, "JWT_MAX too small for the bounds");

/* HMAC-SHA256 (RFC 2104) over one fetched SHA-256: OpenSSL 3's one-shot
 * HMAC() fetches the MAC and the digest again on every call, which was a
 * visible share of a request's CPU (two signatures per request). */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void) { sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL); }

static int hmac_sha256(const unsigned char *key, size_t kl, const unsigned char *msg, size_t n,
                       unsigned char mac[32])
{
    enum { BLOCK = 64 };
    pthread_once(&sha256_once, sha256_fetch);
    if (!sha256_md)
        return -1;
    unsigned char k0[BLOCK], pad[BLOCK], inner[32];
    unsigned int il = 0, ml = 0;
    int rc = -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return -1;
    memset(k0, 0, sizeof(k0));
    if (kl > BLOCK) {
        if (!EVP_Digest(key, kl, k0, &il, sha256_md, NULL))
            goto out;
    } else {
        memcpy(k0, key, kl);
    }
    for (size_t i = 0; i < BLOCK; i++)
        pad[i] = k0[i] ^ 0x36;
    if (!EVP_DigestInit_ex(ctx, sha256_md, NULL) || !EVP_DigestUpdate(ctx, pad, BLOCK) ||
        !EVP_DigestUpdate(ctx, msg, n) || !EVP_DigestFinal_ex(ctx, inner, &il) || il != 32)
        goto out;
    for (size_t i = 0; i < BLOCK; i++)
        pad[i] = k0[i] ^ 0x5c;
    if (!EVP_DigestInit_ex(ctx, sha256_md, NULL) || !EVP_DigestUpdate(ctx, pad, BLOCK) ||
        !EVP_DigestUpdate(ctx, inner, 32) || !EVP_DigestFinal_ex(ctx, mac, &ml) || ml != 32)
        goto out;
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    explicit_bzero(k0, sizeof(k0));
    explicit_bzero(pad, sizeof(pad));
    explicit_bzero(inner, sizeof(inner));
    return rc;
}

int jwt_sign(const char *xsrf_token, const char *key_id, const char *csesidx,
             int64_t now_s, char *out, size_t outlen)
{
    unsigned char key[512];
    size_t tl = strlen(xsrf_token);
    while (tl > 0 && xsrf_token[tl - 1] == '=')
        tl--; /* any padding, even excess (peers append "==" blindly) */
    if (tl == 0 || gg_b64_dec_len(tl) > sizeof(key))
        return -1;
    ssize_t kl = gg_b64url_decode(xsrf_token, tl, key);
    if (kl <= 0)
        return -1;
    size_t cl = 0, kidl = 0;
    for (; csesidx[cl]; cl++)
        if (csesidx[cl] < '0' || csesidx[cl] > '9' || cl >= JWT_CSESIDX_MAX)
            return -1;
    for (; key_id[kidl]; kidl++)
        if ((unsigned char)key_id[kidl] < 0x20 || (unsigned char)key_id[kidl] > 0x7e || kidl >= JWT_KID_MAX)
            return -1;
    if (cl == 0 || kidl == 0)
        return -1;

    int rc = -1;
    struct gg_buf hdr, pl;
    gg_buf_init(&hdr, 1024);
    gg_buf_init(&pl, 1024);
    if (gg_buf_adds(&hdr, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":") != 0 ||
        gg_buf_add_json_str(&hdr, key_id, strlen(key_id)) != 0 || gg_buf_addc(&hdr, '}') != 0)
        goto out;
    if (gg_buf_printf(&pl, "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"csesidx/%s\","
                      "\"iat\":%lld,\"exp\":%lld,\"nbf\":%lld}",
                      JWT_ISS, JWT_AUD, csesidx, (long long)now_s,
                      (long long)(now_s + JWT_TTL_S), (long long)now_s) != 0)
        goto out;
    size_t need = gg_b64_enc_len(hdr.len) + gg_b64_enc_len(pl.len) + gg_b64_enc_len(32) + 2;
    if (need > outlen)
        goto out;
    size_t o = gg_b64url_encode(hdr.p, hdr.len, out);
    out[o++] = '.';
    o += gg_b64url_encode(pl.p, pl.len, out + o);
    unsigned char mac[32];
    if (hmac_sha256(key, (size_t)kl, (const unsigned char *)out, o, mac) != 0)
        goto out;
    out[o++] = '.';
    o += gg_b64url_encode(mac, sizeof(mac), out + o);
    rc = (int)o;
out:
    explicit_bzero(key, sizeof(key));
    gg_buf_free(&hdr);
    gg_buf_free(&pl);
    return rc;
}

/* fuzz_jwt.c -- libFuzzer harness for the bearer JWT (daemon/jwt.c:
 * jwt_sign).
 *
 * Input: xsrfToken NUL keyId NUL csesidx NUL (8 bytes of now), missing parts
 * empty.
 *
 * Invariants:
 *   - success: the return value is strlen(out) < JWT_MAX; three base64url
 *     parts without padding; the header is {"alg":"HS256","typ":"JWT",
 *     "kid":<keyId>}; the payload has iss, aud, sub "csesidx/<csesidx>",
 *     iat = nbf = now and exp = now + 300 (what the strict fake requires);
 *     the signature is HMAC-SHA256 over the first two parts with the key
 *     the xsrfToken decodes to;
 *   - failure (-1) exactly when the inputs are outside jwt.h's bounds: an
 *     undecodable/empty xsrfToken or one decoding to more than 512 bytes, a
 *     csesidx that is not 1..64 digits, a keyId that is not 1..256 bytes of
 *     printable ASCII (so JWT_MAX is always enough within them).
 */
#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "gg_b64.h"
#include "jwt.h"

/* base64url (no padding) of a part into a malloc'd buffer; -1 if not */
static ssize_t dec(const char *p, size_t n, unsigned char **out)
{
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(p[i] != '=' && p[i] != '+' && p[i] != '/');
    *out = malloc(gg_b64_dec_len(n) + 1);
    if (!*out)
        return -1;
    ssize_t l = gg_b64url_decode(p, n, *out);
    if (l >= 0)
        (*out)[l] = '\0';
    return l;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
    FUZZ_CHECK(cJSON_IsNumber(it));
    return it->valuedouble;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    if (size > 4096)
        return 0;
    char *buf = calloc(1, size + 4);
    if (!buf)
        return 0;
    memcpy(buf, in, size);
    const char *xsrf = buf;
    const char *kid = xsrf + strlen(xsrf) + 1 <= buf + size ? xsrf + strlen(xsrf) + 1 : buf + size;
    const char *cses = kid + strlen(kid) + 1 <= buf + size ? kid + strlen(kid) + 1 : buf + size;
    const char *tail = cses + strlen(cses) + 1 <= buf + size ? cses + strlen(cses) + 1 : buf + size;
    int64_t now = 1700000000;
    if ((size_t)(buf + size - tail) >= 5) {
        uint32_t v;
        memcpy(&v, tail, 4);
        now = (int64_t)v;   /* 1970..2106: fits every int and double exactly */
    }

    char out[JWT_MAX];
    int n = jwt_sign(xsrf, kid, cses, now, out, sizeof(out));
    bool digits = *cses != '\0';
    for (const char *p = cses; *p; p++)
        digits = digits && *p >= '0' && *p <= '9';
    size_t tl = strlen(xsrf);
    while (tl && xsrf[tl - 1] == '=')
        tl--;   /* the signer accepts any padding */
    unsigned char *key = malloc(gg_b64_dec_len(size) + 1);
    ssize_t kl = key && tl ? gg_b64url_decode(xsrf, tl, key) : -1;
    /* jwt.h's bounds: keyId 1..JWT_KID_MAX printable ASCII, csesidx
     * 1..JWT_CSESIDX_MAX digits, a key that decodes to 1..512 bytes */
    bool kid_ok = *kid != '\0' && strlen(kid) <= JWT_KID_MAX;
    for (const char *q = kid; *q; q++)
        kid_ok = kid_ok && (unsigned char)*q >= 0x20 && (unsigned char)*q < 0x7f;
    bool inputs_ok = digits && strlen(cses) <= JWT_CSESIDX_MAX && kid_ok && tl > 0 &&
                     gg_b64_dec_len(tl) <= 512 && kl > 0;
    /* within the bounds JWT_MAX is always enough: -1 exactly when outside */
    FUZZ_CHECK((n >= 0) == inputs_ok);
    if (n < 0) {
        free(key);
        free(buf);
        return 0;
    }
    FUZZ_CHECK((size_t)n == strlen(out) && (size_t)n < JWT_MAX);
    const char *d1 = strchr(out, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    FUZZ_CHECK(d1 && d2 && !strchr(d2 + 1, '.'));
    unsigned char *h = NULL, *p = NULL, *s = NULL;
    FUZZ_CHECK(dec(out, (size_t)(d1 - out), &h) > 0);
    FUZZ_CHECK(dec(d1 + 1, (size_t)(d2 - d1 - 1), &p) > 0);
    ssize_t sl = dec(d2 + 1, strlen(d2 + 1), &s);
    FUZZ_CHECK(sl == 32);
    cJSON *hj = cJSON_Parse((char *)h), *pj = cJSON_Parse((char *)p);
    FUZZ_CHECK(hj && pj);
    FUZZ_CHECK(jstr(hj, "alg") && strcmp(jstr(hj, "alg"), "HS256") == 0);
    FUZZ_CHECK(jstr(hj, "typ") && strcmp(jstr(hj, "typ"), "JWT") == 0);
    FUZZ_CHECK(jstr(hj, "kid") && strcmp(jstr(hj, "kid"), kid) == 0);
    FUZZ_CHECK(jstr(pj, "iss") && strcmp(jstr(pj, "iss"), "https://business.gemini.google") == 0);
    FUZZ_CHECK(jstr(pj, "aud") && strcmp(jstr(pj, "aud"), "https://biz-discoveryengine.googleapis.com") == 0);
    FUZZ_CHECK(jstr(pj, "sub") && strncmp(jstr(pj, "sub"), "csesidx/", 8) == 0 &&
               strcmp(jstr(pj, "sub") + 8, cses) == 0);
    FUZZ_CHECK(jnum(pj, "iat") == (double)now && jnum(pj, "nbf") == (double)now);
    FUZZ_CHECK(jnum(pj, "exp") - jnum(pj, "nbf") == JWT_TTL_S && JWT_TTL_S <= 300);
    /* the signature */
    FUZZ_CHECK(kl > 0);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    FUZZ_CHECK(HMAC(EVP_sha256(), key, (int)kl, (const unsigned char *)out, (size_t)(d2 - out), mac, &ml));
    FUZZ_CHECK(ml == 32 && CRYPTO_memcmp(mac, s, 32) == 0);
    free(key);
    cJSON_Delete(hj);
    cJSON_Delete(pj);
    free(h);
    free(p);
    free(s);
    free(buf);
    return 0;
}

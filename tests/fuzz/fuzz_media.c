/* fuzz_media.c -- libFuzzer harness for data: URL decoding and type
 * sniffing (daemon/media.c: media_decode, media_sniff, media_mime_norm,
 * media_mime_allowed).
 *
 * Input: byte 0 picks the mode (bit 0: raw base64 as for OpenAI file_data;
 * bit 1: a name hint), the rest is the URL text.
 *
 * Invariants:
 *   - success: data set, 0 < len <= max, the MIME type is non-empty,
 *     normalised (media_mime_norm is idempotent on it) and allowed upstream;
 *     re-encoding the bytes as data:<mime>;base64,<b64> decodes to the same
 *     bytes and the same type (round trip);
 *   - a data: URL decodes only when each ;parameter is base64 or attr=value
 *     (regressions/media/unknown-encoding-base28.txt);
 *   - failure: one of the documented codes, data NULL, len 0 and a message;
 *   - media_sniff never reads past n: sniffing a heap copy of exactly n
 *     bytes (ASan) gives the same answer as the original buffer.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_check.h"
#include "gg_b64.h"
#include "media.h"

#define MAX_DECODED (64u << 10)

static void check_mime(const char *mime)
{
    char again[128];
    FUZZ_CHECK(mime[0] != '\0');
    media_mime_norm(mime, strlen(mime), again, sizeof(again));
    FUZZ_CHECK(strcmp(again, mime) == 0);
    FUZZ_CHECK(media_mime_allowed(mime));
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = in[0];
    char *url = malloc(size);
    if (!url)
        return 0;
    memcpy(url, in + 1, size - 1);
    url[size - 1] = '\0';

    /* sniffing on an exact-size heap copy: an over-read is an ASan report */
    unsigned char *exact = malloc(size - 1 ? size - 1 : 1);
    if (exact) {
        memcpy(exact, in + 1, size - 1);
        const char *s1 = media_sniff(exact, size - 1), *s2 = media_sniff(in + 1, size - 1);
        FUZZ_CHECK(s1 == s2 || (s1 && s2 && strcmp(s1, s2) == 0));
        free(exact);
    }

    unsigned char *data = (unsigned char *)"sentinel";
    size_t len = 12345;
    char mime[128], msg[300];
    mime[0] = msg[0] = '\0';
    int rc = media_decode(url, MAX_DECODED, (mode & 1) != 0, (mode & 2) ? "upload.png" : NULL, &data, &len,
                          mime, sizeof(mime), msg, sizeof(msg));
    if (rc == MEDIA_OK) {
        FUZZ_CHECK(data != NULL && len > 0 && len <= MAX_DECODED);
        /* RFC 2397: every ;parameter before the ',' is "base64" or attr=value */
        if (strncmp(url, "data:", 5) == 0) {
            const char *comma = strchr(url, ','), *p = strchr(url, ';');
            for (; p && comma && p < comma; p = strchr(p + 1, ';')) {
                const char *e = strchr(p + 1, ';');
                size_t tl = (size_t)((e && e < comma ? e : comma) - p - 1);
                bool ok = (tl == 6 && strncasecmp(p + 1, "base64", 6) == 0) || memchr(p + 1, '=', tl) != NULL;
                FUZZ_CHECK(ok);
            }
        }
        check_mime(mime);
        /* round trip through a canonical base64 data: URL */
        size_t cap = strlen(mime) + gg_b64_enc_len(len) + 32;
        char *canon = malloc(cap);
        if (canon) {
            size_t o = (size_t)snprintf(canon, cap, "data:%s;base64,", mime);
            gg_b64_encode(data, len, canon + o);
            unsigned char *d2 = NULL;
            size_t l2 = 0;
            char m2[128], msg2[300];
            int rc2 = media_decode(canon, MAX_DECODED, false, NULL, &d2, &l2, m2, sizeof(m2), msg2, sizeof(msg2));
            FUZZ_CHECK(rc2 == MEDIA_OK);
            FUZZ_CHECK(l2 == len && memcmp(d2, data, len) == 0);
            FUZZ_CHECK(strcmp(m2, mime) == 0);
            free(d2);
            free(canon);
        }
        free(data);
    } else {
        FUZZ_CHECK(rc == MEDIA_MALFORMED || rc == MEDIA_TOO_LARGE || rc == MEDIA_UNSUPPORTED || rc == MEDIA_NOMEM);
        FUZZ_CHECK(data == NULL && len == 0);
        FUZZ_CHECK(msg[0] != '\0');
    }
    free(url);
    return 0;
}

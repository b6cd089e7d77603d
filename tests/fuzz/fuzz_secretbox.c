/* fuzz_secretbox.c -- libFuzzer harness for cookie encryption at rest
 * (daemon/secretbox.c: secretbox_open on stored text, seal/open round trips).
 *
 * Invariants:
 *   - opening arbitrary stored text never "succeeds with garbage": text
 *     without the enc: prefix comes back unchanged; text with it never opens
 *     (a fuzz input cannot carry a valid GCM tag for these keys, so any
 *     success is a forgery or a missing check); failures leave *out NULL
 *     and a message that does not contain the key;
 *   - the input as a plaintext: seal then open gives it back, the sealed
 *     form starts with enc:v1:<kid>: and is current; with one byte of the
 *     sealed text changed it no longer opens; a box without that key cannot
 *     open it; a box holding the key only as an old key can.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "secretbox.h"

/* High-entropy keys (64 hex digits) take the HKDF path: a passphrase would
 * cost 600,000 PBKDF2 rounds per box, which under the fuzzer's
 * instrumentation exceeds its per-input timeout at start-up. */
#define KEY "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0"
#define OLD "a0b1c2d3e4f5061728394a5b6c7d8e9f00ffeeddccbbaa998877665544332211"

/* Format v2 (SECRETBOX_PREFIX_V1 defined) binds a caller context into the
 * associated data: seal/open take it, and another context must not open. */
#ifdef SECRETBOX_PREFIX_V1
#define CTX "1000001/cfg:secure_c_ses"
#define SB_SEAL(b, p, o, e, n) secretbox_seal(b, p, CTX, o, e, n)
#define SB_OPEN(b, t, o, e, n) secretbox_open(b, t, CTX, o, e, n)
#define SB_OPEN_CTX(b, t, c, o, e, n) secretbox_open(b, t, c, o, e, n)
#else
#define SB_SEAL(b, p, o, e, n) secretbox_seal(b, p, o, e, n)
#define SB_OPEN(b, t, o, e, n) secretbox_open(b, t, o, e, n)
#endif

static struct secretbox *cur, *other, *rotated;

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    char err[256];
    if (!cur) {
        cur = secretbox_new(KEY, OLD, err, sizeof(err));
        other = secretbox_new("5555555555555555555555555555555555555555555555555555555555555555", NULL, err, sizeof(err));
        rotated = secretbox_new("9999999999999999999999999999999999999999999999999999999999999999", KEY, err, sizeof(err));
        FUZZ_CHECK(cur && other && rotated && secretbox_can_seal(cur));
    }
    if (size > 65536)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, in, size);
    text[size] = '\0';

    /* 1. open arbitrary stored text */
    char *out = (char *)"sentinel";
    err[0] = '\0';
    int rc = SB_OPEN(cur, text, &out, err, sizeof(err));
    if (strncmp(text, "enc:", 4) != 0) {
        FUZZ_CHECK(rc == 0 && out && strcmp(out, text) == 0);
        free(out);
    } else if (rc == 0) {
        FUZZ_CHECK(!"an enc: value the fuzzer made up was accepted (forged or unauthenticated)");
    } else {
        FUZZ_CHECK(out == NULL && err[0] != '\0');
        FUZZ_CHECK(!strstr(err, KEY) && !strstr(err, OLD));
    }

    /* 2. the input as a secret: round trips */
    if (memchr(in, '\0', size) == NULL) {
        char *sealed = NULL, *back = NULL;
        FUZZ_CHECK(SB_SEAL(cur, text, &sealed, err, sizeof(err)) == 0 && sealed);
        FUZZ_CHECK(strncmp(sealed, SECRETBOX_PREFIX, strlen(SECRETBOX_PREFIX)) == 0);
        FUZZ_CHECK(strncmp(sealed + strlen(SECRETBOX_PREFIX), secretbox_kid(cur), strlen(secretbox_kid(cur))) == 0);
        FUZZ_CHECK(secretbox_is_current(cur, sealed));
        FUZZ_CHECK(SB_OPEN(cur, sealed, &back, err, sizeof(err)) == 0 && back && strcmp(back, text) == 0);
        free(back);
        back = NULL;
        FUZZ_CHECK(SB_OPEN(rotated, sealed, &back, err, sizeof(err)) == 0 && back && strcmp(back, text) == 0);
        FUZZ_CHECK(!secretbox_is_current(rotated, sealed));
        free(back);
        back = NULL;
        FUZZ_CHECK(SB_OPEN(other, sealed, &back, err, sizeof(err)) != 0 && back == NULL);
#ifdef SB_OPEN_CTX
        /* moved to another record or field: must not open */
        FUZZ_CHECK(SB_OPEN_CTX(cur, sealed, "1000002/cfg:secure_c_ses", &back, err, sizeof(err)) != 0 && back == NULL);
#endif
        /* flip one character of the payload (after the header, before the
         * last base64 quantum, whose low bits may be unused padding) */
        size_t sl = strlen(sealed), hdr = strlen(SECRETBOX_PREFIX) + strlen(secretbox_kid(cur)) + 1;
        if (sl > hdr + 4) {
            size_t at = hdr + (size ? in[0] : 0) % (sl - 4 - hdr);
            char c = sealed[at];
            sealed[at] = c == 'A' ? 'B' : 'A';
            back = NULL;
            int r2 = SB_OPEN(cur, sealed, &back, err, sizeof(err));
            FUZZ_CHECK(r2 != 0 && back == NULL);
        }
        free(sealed);
    }
    free(text);
    return 0;
}

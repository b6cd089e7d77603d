/* fuzz_url.c -- libFuzzer harness for the image-URL check of the fetch
 * guard (daemon/media.c: media_url_check, media_addr_blocked).
 *
 * Input: byte 0 bit 0 = allow_private; the rest is the URL.
 *
 * Invariants:
 *   - success: host non-empty, 1 <= port <= 65535, the normalised URL starts
 *     with http:// or https://, and checking the normalised URL again
 *     succeeds with the same host, port and normalised form (idempotent);
 *   - what passes without FETCH_ALLOW_PRIVATE also passes with it
 *     (monotonic), and an IP-literal host that passes without it is not a
 *     blocked address;
 *   - failure: a message, no normalised URL.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "media.h"

static int check(const char *url, bool allow, char *host, size_t hostn, int *port, char **norm)
{
    char msg[300];
    msg[0] = '\0';
    *norm = NULL;
    int rc = media_url_check(url, allow, host, hostn, port, norm, msg, sizeof(msg));
    if (rc == 0) {
        FUZZ_CHECK(host[0] != '\0');
        FUZZ_CHECK(*port >= 1 && *port <= 65535);
        FUZZ_CHECK(*norm && (strncmp(*norm, "http://", 7) == 0 || strncmp(*norm, "https://", 8) == 0));
    } else {
        FUZZ_CHECK(rc == -1 && msg[0] != '\0' && *norm == NULL);
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    bool allow = in[0] & 1;
    char *url = malloc(size);
    if (!url)
        return 0;
    memcpy(url, in + 1, size - 1);
    url[size - 1] = '\0';

    char host[256], host2[256];
    int port = 0, port2 = 0;
    char *norm = NULL, *norm2 = NULL;
    if (check(url, allow, host, sizeof(host), &port, &norm) == 0) {
        int rc2 = check(norm, allow, host2, sizeof(host2), &port2, &norm2);
        FUZZ_CHECK(rc2 == 0);
        FUZZ_CHECK(strcmp(host, host2) == 0 && port == port2);
        FUZZ_CHECK(strcmp(norm, norm2) == 0);
        free(norm2);
        if (!allow) {
            FUZZ_CHECK(check(url, true, host2, sizeof(host2), &port2, &norm2) == 0);
            free(norm2);
            struct sockaddr_in v4;
            struct sockaddr_in6 v6;
            memset(&v4, 0, sizeof(v4));
            memset(&v6, 0, sizeof(v6));
            if (inet_pton(AF_INET, host, &v4.sin_addr) == 1) {
                v4.sin_family = AF_INET;
                FUZZ_CHECK(!media_addr_blocked((struct sockaddr *)&v4));
            } else if (inet_pton(AF_INET6, host, &v6.sin6_addr) == 1) {
                v6.sin6_family = AF_INET6;
                FUZZ_CHECK(!media_addr_blocked((struct sockaddr *)&v6));
            }
        }
        free(norm);
    }
    free(url);
    return 0;
}

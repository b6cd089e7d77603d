/* media.h -- attachments in, generated media out: the pieces of the
 * multimodal path that do not depend on the upstream state machine.
 *
 *   - MIME types: normalisation, the allow-list of types the upstream
 *     accepts (protocol doc §3.3/§7.1), magic-byte sniffing, extensions.
 *   - data: URLs (RFC 2397, base64 or percent-encoded) decoded once into a
 *     size-capped heap buffer.
 *   - The fetch guard (SSRF): http(s) URL checks, the address policy
 *     (loopback, private, link-local, CGNAT, multicast, documentation ranges,
 *     IPv4-mapped / NAT64 (64:ff9b::/96, 64:ff9b:1::/48) / 6to4 / Teredo IPv6 forms) and an asynchronous resolver
 *     that checks every address a name resolves to.
 *   - The image store for IMAGE_OUTPUT=url: generated files kept in memory
 *     under unguessable 128-bit tokens with an expiry, served at
 *     GET /images/<token>.<ext>.
 *
 * Ownership and failure: functions that allocate hand the memory to the
 * caller (free()); on failure they return a negative code, leave the out
 * parameters NULL/0 and fill `msg` with a client-facing reason.  Everything
 * here is thread-safe: the store has its own lock, the rest is pure except
 * media_resolve_async(), which runs getaddrinfo() on a detached thread.
 */
#ifndef MEDIA_H
#define MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>


/* Normalise a MIME type into out (lower case, parameters dropped, common
 * aliases such as image/jpg mapped); "" when none. */
void media_mime_norm(const char *in, size_t n, char *out, size_t outn);
/* True when the upstream accepts uploads of this (normalised) type. */
bool media_mime_allowed(const char *mime);
/* The type recognised from the first bytes, or NULL. */
const char *media_sniff(const unsigned char *p, size_t n);
/* File extension for a type ("png", "pdf", ...; "bin" when unknown). */
const char *media_ext(const char *mime);
/* Type from a file name's extension, or NULL. */
const char *media_mime_from_name(const char *name);

enum {
    MEDIA_OK = 0,
    MEDIA_MALFORMED = -1,     /* not a data: URL / bad base64 / bad escape */
    MEDIA_TOO_LARGE = -2,     /* decoded size above max */
    MEDIA_UNSUPPORTED = -3,   /* type missing or not accepted upstream */
    MEDIA_NOMEM = -4,
};

/* Check a data: URL's header (RFC 2397: "data:[type][;name=value]*[;base64],"):
 * every ';' token before the first ',' must be "base64" or name=value.
 * Fills mime (normalised, "" when the URL names none), *b64 and *payload
 * (the text after the ',') when those are non-NULL.  MEDIA_OK or
 * MEDIA_MALFORMED with msg.  Used for earlier turns' attachments, which are
 * checked but not decoded. */
int media_data_header(const char *url, char *mime, size_t mimen, bool *b64, const char **payload,
                      char *msg, size_t msgn);

/* Decode a data: URL of at most `max` decoded bytes.  On success *data
 * (malloc'd, caller frees), *len and mime (normalised; sniffed when the URL
 * has none or a generic one) are set.  `raw_b64` accepts a bare base64
 * string instead of a data: URL (OpenAI file_data), typed by `name_hint`'s
 * extension or by sniffing. */
int media_decode(const char *url, size_t max, bool raw_b64, const char *name_hint,
                 unsigned char **data, size_t *len, char *mime, size_t mimen,
                 char *msg, size_t msgn);

/* Type of fetched bytes: the Content-Type when it is specific, else sniffed,
 * else from the URL path's extension.  Returns 0 or MEDIA_UNSUPPORTED. */
int media_type_of_fetch(const char *content_type, const unsigned char *p, size_t n,
                        const char *url, char *mime, size_t mimen, char *msg, size_t msgn);

/* True when the gateway must not connect to this address unless
 * FETCH_ALLOW_PRIVATE is set.  Test hook: the single "ip:port" named by the
 * environment variable GEMGATE_TEST_FETCH_EXEMPT is not blocked (read once,
 * logged as a warning), so an integration test can serve a first hop from
 * loopback while the redirect re-check stays on; never set it in production. */
bool media_addr_blocked(const struct sockaddr *sa);

/* Parse and check an http(s) URL: scheme, host, port 1..65535 (default by
 * scheme).  The normalised URL is what is judged (a URL whose normal form
 * changes when parsed again, e.g. a percent-encoded host, is refused); an
 * empty host or a '%' outside an IPv6 literal is refused.  When the host is
 * an IP literal in any form the resolver accepts (127.1, 0x7f.1, ...) it is
 * checked against the policy right away.  Fills host (without brackets), port and the normalised URL
 * (malloc'd) when those pointers are non-NULL.  0 or -1 with msg. */
int media_url_check(const char *url, bool allow_private, char *host, size_t hostn, int *port,
                    char **norm_url, char *msg, size_t msgn);

struct media_resolved {
    int rc;                            /* 0 ok, -1 failed (msg says why) */
    struct sockaddr_storage addr;      /* the checked address to pin */
    socklen_t addrlen;
    char addr_text[64];                /* numeric form for CURLOPT_RESOLVE */
    char msg[200];
};
/* Resolve host on a detached thread, check every address, then call
 * done(arg, res) on that thread; `res` is owned by the callee (free()).
 * Returns 0, or -1 when the thread could not be started (done not called). */
int media_resolve_async(const char *host, int port, bool allow_private,
                        void (*done)(void *arg, struct media_resolved *res), void *arg);

/* Image store (IMAGE_OUTPUT=url).  Copies the bytes; writes the token
 * (32 hex chars + NUL).  Expired entries are dropped on every put/get; the
 * total is capped (oldest evicted first).  0 or -1 (allocation). */
int media_store_put(const void *data, size_t n, const char *mime, int64_t ttl_s, char token[33]);
/* GET /images/<token>[.ext]: 200 with the bytes, 404 when unknown or
 * expired. */
/* A stored file by its 32-hex token (tl = token length): a malloc'd copy in
 * *data (caller frees), its type and seconds left; -1 when unknown or
 * expired (or out of memory). */
int media_store_get(const char *tok, size_t tl, unsigned char **data, size_t *len, char mime[64], int64_t *left_s);

#endif

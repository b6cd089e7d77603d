/* media.c -- see media.h */
#include "media.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gg_b64.h"
#include "gg_log.h"
#include "gg_time.h"
#include "gg_util.h"

#define STORE_MAX_BYTES (512u << 20)

/* ---- MIME types ------------------------------------------------------------ */

struct mime_info { const char *mime, *ext; };

/* What Gemini Business takes as context files (protocol doc §3.3/§7.1 and
 * the peers' supported-type lists).  Anything else is refused at parse
 * time; the upstream may still refuse a listed type ("Unsupported file
 * type"), which is reported the same way. */
static const struct mime_info mimes[] = {
    {"image/png", "png"}, {"image/jpeg", "jpg"}, {"image/webp", "webp"}, {"image/gif", "gif"},
    {"image/heic", "heic"}, {"image/heif", "heif"}, {"image/bmp", "bmp"},
    {"application/pdf", "pdf"}, {"application/json", "json"}, {"application/rtf", "rtf"},
    {"application/xml", "xml"}, {"application/javascript", "js"},
    {"text/plain", "txt"}, {"text/csv", "csv"}, {"text/html", "html"}, {"text/markdown", "md"},
    {"text/css", "css"}, {"text/xml", "xml"}, {"text/rtf", "rtf"}, {"text/javascript", "js"},
    {"text/x-python", "py"}, {"text/x-c", "c"}, {"text/x-java", "java"}, {"text/x-typescript", "ts"},
    {"application/msword", "doc"},
    {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"},
    {"application/vnd.ms-excel", "xls"},
    {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"},
    {"application/vnd.ms-powerpoint", "ppt"},
    {"application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"},
    {"audio/mpeg", "mp3"}, {"audio/mp3", "mp3"}, {"audio/wav", "wav"}, {"audio/x-wav", "wav"},
    {"audio/ogg", "ogg"}, {"audio/flac", "flac"}, {"audio/aac", "aac"},
    {"video/mp4", "mp4"}, {"video/webm", "webm"}, {"video/quicktime", "mov"}, {"video/mpeg", "mpeg"},
};
#define NMIMES (sizeof(mimes) / sizeof(mimes[0]))

void media_mime_norm(const char *in, size_t n, char *out, size_t outn)
{
    size_t o = 0;
    while (n > 0 && (*in == ' ' || *in == '\t')) {
        in++;
        n--;
    }
    for (size_t i = 0; i < n && in[i] != ';' && in[i] != ' ' && o + 1 < outn; i++)
        out[o++] = (char)tolower((unsigned char)in[i]);
    out[o] = '\0';
    if (strcmp(out, "image/jpg") == 0 || strcmp(out, "image/pjpeg") == 0)
        snprintf(out, outn, "image/jpeg");
    else if (strcmp(out, "image/x-png") == 0)
        snprintf(out, outn, "image/png");
    else if (strcmp(out, "application/x-pdf") == 0)
        snprintf(out, outn, "application/pdf");
}

bool media_mime_allowed(const char *mime)
{
    for (size_t i = 0; mime && i < NMIMES; i++)
        if (strcmp(mimes[i].mime, mime) == 0)
            return true;
    return false;
}

const char *media_ext(const char *mime)
{
    for (size_t i = 0; mime && i < NMIMES; i++)
        if (strcmp(mimes[i].mime, mime) == 0)
            return mimes[i].ext;
    return "bin";
}

const char *media_mime_from_name(const char *name)
{
    const char *dot = name ? strrchr(name, '.') : NULL;
    if (!dot || !dot[1] || strlen(dot + 1) > 8)
        return NULL;
    char ext[12];
    size_t i = 0;
    for (const char *p = dot + 1; *p && i + 1 < sizeof(ext); p++)
        ext[i++] = (char)tolower((unsigned char)*p);
    ext[i] = '\0';
    if (strcmp(ext, "jpeg") == 0)
        return "image/jpeg";
    for (size_t k = 0; k < NMIMES; k++)
        if (strcmp(mimes[k].ext, ext) == 0)
            return mimes[k].mime;
    return NULL;
}

const char *media_sniff(const unsigned char *p, size_t n)
{
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) return "image/png";
    if (n >= 3 && memcmp(p, "\xff\xd8\xff", 3) == 0) return "image/jpeg";
    if (n >= 6 && (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0)) return "image/gif";
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0) return "image/webp";
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WAVE", 4) == 0) return "audio/wav";
    if (n >= 5 && memcmp(p, "%PDF-", 5) == 0) return "application/pdf";
    if (n >= 12 && memcmp(p + 4, "ftypheic", 8) == 0) return "image/heic";
    if (n >= 12 && memcmp(p + 4, "ftyp", 4) == 0) return "video/mp4";
    if (n >= 2 && p[0] == 'B' && p[1] == 'M' && n >= 26) return "image/bmp";
    return NULL;
}

static bool generic_mime(const char *m)
{
    return !*m || strcmp(m, "application/octet-stream") == 0 || strcmp(m, "binary/octet-stream") == 0 ||
           strcmp(m, "application/binary") == 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int media_data_header(const char *url, char *mime, size_t mimen, bool *b64, const char **payload,
                      char *msg, size_t msgn)
{
    mime[0] = '\0';
    if (strncmp(url, "data:", 5) != 0) {
        snprintf(msg, msgn, "Invalid URL: expected a data: URL.");
        return MEDIA_MALFORMED;
    }
    const char *comma = strchr(url + 5, ',');
    if (!comma) {
        snprintf(msg, msgn, "Invalid data URL: missing ','.");
        return MEDIA_MALFORMED;
    }
    const char *semi = memchr(url + 5, ';', (size_t)(comma - url - 5));
    bool is_b64 = false;
    /* RFC 2397: each ";token" before the ',' is "base64" or attribute=value */
    for (const char *p = semi; p && p < comma; p = memchr(p + 1, ';', (size_t)(comma - p - 1))) {
        size_t tl = (size_t)(comma - p - 1);
        const char *next = memchr(p + 1, ';', tl);
        if (next)
            tl = (size_t)(next - p - 1);
        const char *eq = memchr(p + 1, '=', tl);
        if (tl == 6 && strncasecmp(p + 1, "base64", 6) == 0) {
            is_b64 = true;
        } else if (!eq || eq == p + 1) {
            snprintf(msg, msgn, "Invalid data URL: a parameter before ',' is neither ';base64' nor ';name=value'.");
            return MEDIA_MALFORMED;
        }
    }
    media_mime_norm(url + 5, (size_t)((semi ? semi : comma) - url - 5), mime, mimen);
    if (b64)
        *b64 = is_b64;
    if (payload)
        *payload = comma + 1;
    return MEDIA_OK;
}

int media_decode(const char *url, size_t max, bool raw_b64, const char *name_hint,
                 unsigned char **data, size_t *len, char *mime, size_t mimen,
                 char *msg, size_t msgn)
{
    *data = NULL;
    *len = 0;
    mime[0] = '\0';
    const char *payload;
    bool b64 = true;
    int rc = MEDIA_MALFORMED;
    unsigned char *buf = NULL;
    if (strncmp(url, "data:", 5) == 0) {
        if (media_data_header(url, mime, mimen, &b64, &payload, msg, msgn) != MEDIA_OK)
            goto out;
    } else if (raw_b64) {
        payload = url;
    } else {
        snprintf(msg, msgn, "Invalid URL: expected a data: URL.");
        goto out;
    }
    size_t pn = strlen(payload);
    if (b64) {
        if (pn / 4 * 3 > max + 3) {
            rc = MEDIA_TOO_LARGE;
            snprintf(msg, msgn, "The attachment is larger than the limit of %zu bytes.", max);
            goto out;
        }
        buf = malloc(gg_b64_dec_len(pn) + 1);
        if (!buf) {
            rc = MEDIA_NOMEM;
            snprintf(msg, msgn, "out of memory");
            goto out;
        }
        ssize_t dn = pn ? gg_b64_decode(payload, pn, buf) : 0;
        if (dn < 0) {
            snprintf(msg, msgn, "Invalid base64 data in the attachment.");
            goto out;
        }
        *len = (size_t)dn;
    } else {
        buf = malloc(pn + 1);
        if (!buf) {
            rc = MEDIA_NOMEM;
            snprintf(msg, msgn, "out of memory");
            goto out;
        }
        size_t o = 0;
        for (size_t i = 0; i < pn; i++) {
            if (payload[i] == '%') {
                int h = i + 2 < pn ? hexval((unsigned char)payload[i + 1]) : -1;
                int l = h >= 0 ? hexval((unsigned char)payload[i + 2]) : -1;
                if (l < 0) {
                    snprintf(msg, msgn, "Invalid percent-escape in the data URL.");
                    goto out;
                }
                buf[o++] = (unsigned char)(h << 4 | l);
                i += 2;
            } else {
                buf[o++] = (unsigned char)payload[i];
            }
        }
        *len = o;
        if (!*mime)
            snprintf(mime, mimen, "text/plain");
    }
    if (*len == 0) {
        snprintf(msg, msgn, "The attachment is empty.");
        goto out;
    }
    if (*len > max) {
        rc = MEDIA_TOO_LARGE;
        snprintf(msg, msgn, "The attachment is %zu bytes; the limit is %zu bytes.", *len, max);
        goto out;
    }
    if (generic_mime(mime)) {
        const char *t = media_sniff(buf, *len);
        if (!t && name_hint)
            t = media_mime_from_name(name_hint);
        snprintf(mime, mimen, "%s", t ? t : "");
    }
    if (!*mime) {
        rc = MEDIA_UNSUPPORTED;
        snprintf(msg, msgn, "The attachment's file type could not be determined; send it as a data URL with its MIME type.");
        goto out;
    }
    if (!media_mime_allowed(mime)) {
        rc = MEDIA_UNSUPPORTED;
        snprintf(msg, msgn, "Unsupported file type: %.80s (images, PDF, text, office documents, audio and video are accepted).", mime);
        goto out;
    }
    *data = buf;
    buf = NULL;
    rc = MEDIA_OK;
out:
    free(buf);
    if (rc != MEDIA_OK)
        *len = 0;
    return rc;
}

int media_type_of_fetch(const char *content_type, const unsigned char *p, size_t n,
                        const char *url, char *mime, size_t mimen, char *msg, size_t msgn)
{
    media_mime_norm(content_type ? content_type : "", content_type ? strlen(content_type) : 0, mime, mimen);
    if (generic_mime(mime)) {
        const char *t = media_sniff(p, n);
        if (!t && url) {
            /* the path's extension, ignoring query and fragment */
            char path[512];
            snprintf(path, sizeof(path), "%s", url);
            path[strcspn(path, "?#")] = '\0';
            const char *slash = strrchr(path, '/');
            t = media_mime_from_name(slash ? slash + 1 : path);
        }
        snprintf(mime, mimen, "%s", t ? t : "");
    }
    if (!*mime || !media_mime_allowed(mime)) {
        snprintf(msg, msgn, "Unsupported file type: %.80s.", *mime ? mime : "unknown");
        return MEDIA_UNSUPPORTED;
    }
    return MEDIA_OK;
}

/* ---- fetch guard ----------------------------------------------------------- */

static bool v4_blocked(const unsigned char *a)
{
    if (a[0] == 0 || a[0] == 10 || a[0] == 127) return true;            /* this net, private, loopback */
    if (a[0] == 100 && (a[1] & 0xC0) == 64) return true;                /* 100.64/10 CGNAT */
    if (a[0] == 169 && a[1] == 254) return true;                        /* link-local, cloud metadata */
    if (a[0] == 172 && (a[1] & 0xF0) == 16) return true;                /* 172.16/12 */
    if (a[0] == 192 && a[1] == 168) return true;                        /* 192.168/16 */
    if (a[0] == 192 && a[1] == 0 && (a[2] == 0 || a[2] == 2)) return true; /* IETF, TEST-NET-1 */
    if (a[0] == 198 && (a[1] & 0xFE) == 18) return true;                /* 198.18/15 benchmarking */
    if (a[0] == 198 && a[1] == 51 && a[2] == 100) return true;          /* TEST-NET-2 */
    if (a[0] == 203 && a[1] == 0 && a[2] == 113) return true;           /* TEST-NET-3 */
    if (a[0] >= 224) return true;                                       /* multicast, reserved, broadcast */
    return false;
}

/* Test hook: the one address named by GEMGATE_TEST_FETCH_EXEMPT
 * ("ip:port" or "[ip6]:port") passes the policy, so an integration test can
 * make a server on loopback the first hop of a fetch while every other
 * loopback address and port stays blocked (tests/node/media.test.mjs, the
 * redirect re-check).  Read once and logged as a warning; never set it in
 * production. */
static struct sockaddr_storage exempt;
static bool exempt_set;
static pthread_once_t exempt_once = PTHREAD_ONCE_INIT;

static void exempt_load(void)
{
    const char *v = getenv("GEMGATE_TEST_FETCH_EXEMPT");
    const char *colon = v ? strrchr(v, ':') : NULL;
    if (!v || !*v)
        return;
    char host[64];
    long long port = 0;
    size_t hl = colon ? (size_t)(colon - v) : 0;
    if (hl >= 2 && v[0] == '[' && v[hl - 1] == ']') {
        v++;
        hl -= 2;
    }
    memset(&exempt, 0, sizeof(exempt));
    struct sockaddr_in *s4 = (struct sockaddr_in *)&exempt;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&exempt;
    if (!colon || hl == 0 || hl >= sizeof(host) || gg_parse_int(colon + 1, 1, 65535, &port) != 0) {
        GG_WARN("GEMGATE_TEST_FETCH_EXEMPT ignored: expected ip:port");
        return;
    }
    memcpy(host, v, hl);
    host[hl] = '\0';
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
    } else {
        GG_WARN("GEMGATE_TEST_FETCH_EXEMPT ignored: expected ip:port");
        return;
    }
    exempt_set = true;
    GG_WARN("GEMGATE_TEST_FETCH_EXEMPT: the fetch guard lets %s:%lld through (a test hook)", host, port);
}

static bool exempt_match(const struct sockaddr *sa)
{
    pthread_once(&exempt_once, exempt_load);
    if (!exempt_set || sa->sa_family != exempt.ss_family)
        return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa, *b = (const struct sockaddr_in *)&exempt;
        return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa, *b = (const struct sockaddr_in6 *)&exempt;
    return a->sin6_port == b->sin6_port && memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0;
}

bool media_addr_blocked(const struct sockaddr *sa)
{
    if (exempt_match(sa))
        return false;
    if (sa->sa_family == AF_INET)
        return v4_blocked((const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr);
    if (sa->sa_family != AF_INET6)
        return true;
    const unsigned char *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
    static const unsigned char zero12[12] = {0};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
        return v4_blocked(a + 12);                                      /* ::ffff:a.b.c.d, 64:ff9b::a.b.c.d */
    if (memcmp(a, zero12, 12) == 0)
        return true;                                                    /* ::, ::1, IPv4-compatible */
    if (a[0] == 0x20 && a[1] == 0x02)
        return v4_blocked(a + 2);                                       /* 6to4 2002:a.b.c.d:: */
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0)
        return true;                                                    /* Teredo 2001::/32 (tunnels to any v4) */
    if (a[0] == 0 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b && a[4] == 0 && a[5] == 1)
        return true;                                                    /* 64:ff9b:1::/48 local-use NAT64 */
    if ((a[0] & 0xFE) == 0xFC) return true;                             /* fc00::/7 unique local */
    if (a[0] == 0xFE && (a[1] & 0xC0) == 0x80) return true;             /* fe80::/10 link-local */
    if (a[0] == 0xFE && (a[1] & 0xC0) == 0xC0) return true;             /* fec0::/10 site-local */
    if (a[0] == 0xFF) return true;                                      /* multicast */
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return true; /* documentation */
    if (a[0] == 0x01 && a[1] == 0 && a[2] == 0 && a[3] == 0) return true; /* 100::/64 discard */
    return false;
}

/* An IP literal in any form the resolver accepts (getaddrinfo with
 * AI_NUMERICHOST: also inet_aton's shorthands such as 127.1 or 0x7f.1),
 * with the port, as media_resolve_async() would see it. */
static bool literal_addr(const char *host, int port, struct sockaddr_storage *ss)
{
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    hints.ai_socktype = SOCK_STREAM;
    char ps[8];
    snprintf(ps, sizeof(ps), "%d", port);
    memset(ss, 0, sizeof(*ss));
    if (getaddrinfo(host, ps, &hints, &ai) != 0 || !ai)
        return false;
    bool ok = ai->ai_addrlen <= sizeof(*ss);
    if (ok)
        memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    return ok;
}

int media_url_check(const char *url, bool allow_private, char *host, size_t hostn, int *port,
                    char **norm_url, char *msg, size_t msgn)
{
    int rc = -1;
    char *scheme = NULL, *h = NULL, *p = NULL, *full = NULL, *full2 = NULL;
    CURLU *u = curl_url(), *u2 = curl_url();
    if (norm_url)
        *norm_url = NULL;
    if (!u || !u2) {
        snprintf(msg, msgn, "out of memory");
        goto out;
    }
    /* Judge the normalised URL, the one that is fetched: curl percent-decodes
     * a host once and normalises an IPv4 shorthand only in what it parses
     * (http:/%3127.1/ -> http://127.1/ -> http://127.0.0.1/), so parse the
     * normalised form again and refuse a URL that is not stable. */
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK ||
        curl_url_set(u2, CURLUPART_URL, full, 0) != CURLUE_OK ||
        curl_url_get(u2, CURLUPART_URL, &full2, 0) != CURLUE_OK ||
        curl_url_get(u2, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u2, CURLUPART_HOST, &h, 0) != CURLUE_OK || !*h) {
        snprintf(msg, msgn, "Invalid image URL.");
        goto out;
    }
    if (strcmp(full, full2) != 0) {
        snprintf(msg, msgn, "Invalid image URL: its host is not in normal form (percent-encoded?).");
        goto out;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        snprintf(msg, msgn, "Invalid image URL: only http and https URLs are fetched.");
        goto out;
    }
    long long pn = 0;
    if (curl_url_get(u2, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        gg_parse_int(p, 1, 65535, &pn) != 0) {
        snprintf(msg, msgn, "Invalid image URL: bad port.");
        goto out;
    }
    char bare[256];
    size_t hl = strlen(h);
    if (h[0] == '[' && hl > 2 && h[hl - 1] == ']') {
        snprintf(bare, sizeof(bare), "%.*s", (int)(hl - 2), h + 1);
        bare[strcspn(bare, "%")] = '\0';   /* zone id */
    } else {
        snprintf(bare, sizeof(bare), "%s", h);
    }
    if (!bare[0] || strchr(bare, '%') || hl >= sizeof(bare)) {
        snprintf(msg, msgn, "Invalid image URL: bad host.");
        goto out;
    }
    struct sockaddr_storage ss;
    if (!allow_private && literal_addr(bare, (int)pn, &ss) && media_addr_blocked((struct sockaddr *)&ss)) {
        snprintf(msg, msgn, "The image URL points to a loopback or private address, which this gateway does not fetch.");
        goto out;
    }
    size_t bl = strlen(bare);
    if (!allow_private && (strcasecmp(bare, "localhost") == 0 ||
                           (bl > 10 && strcasecmp(bare + bl - 10, ".localhost") == 0))) {
        snprintf(msg, msgn, "The image URL points to localhost, which this gateway does not fetch.");
        goto out;
    }
    if (host)
        snprintf(host, hostn, "%s", bare);
    if (port)
        *port = (int)pn;
    if (norm_url) {
        *norm_url = strdup(full);
        if (!*norm_url) {
            snprintf(msg, msgn, "out of memory");
            goto out;
        }
    }
    rc = 0;
out:
    curl_free(scheme);
    curl_free(h);
    curl_free(p);
    curl_free(full);
    curl_free(full2);
    curl_url_cleanup(u);
    curl_url_cleanup(u2);
    return rc;
}

struct resolve_job {
    struct media_resolved res;     /* first: free(res) frees the job */
    char host[256];
    int port;
    bool allow_private;
    void (*done)(void *arg, struct media_resolved *res);
    void *arg;
};

static void *resolve_main(void *vp)
{
    struct resolve_job *j = vp;
    struct media_resolved *res = &j->res;
    gg_thread_role("gg-resolve", false);
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char port[8];
    snprintf(port, sizeof(port), "%d", j->port);
    int gai = getaddrinfo(j->host, port, &hints, &ai);
    res->rc = -1;
    if (gai != 0 || !ai) {
        snprintf(res->msg, sizeof(res->msg), "The image URL's host could not be resolved (%s).",
                 gai ? gai_strerror(gai) : "no address");
        goto out;
    }
    for (struct addrinfo *p = ai; p; p = p->ai_next) {
        if (!j->allow_private && media_addr_blocked(p->ai_addr)) {
            snprintf(res->msg, sizeof(res->msg),
                     "The image URL's host resolves to a loopback or private address, which this gateway does not fetch.");
            goto out;
        }
    }
    for (struct addrinfo *p = ai; p; p = p->ai_next) {
        if (p->ai_family != AF_INET && p->ai_family != AF_INET6)
            continue;
        memcpy(&res->addr, p->ai_addr, p->ai_addrlen);
        res->addrlen = p->ai_addrlen;
        const void *src = p->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)p->ai_addr)->sin_addr
                                                  : (const void *)&((struct sockaddr_in6 *)p->ai_addr)->sin6_addr;
        char txt[INET6_ADDRSTRLEN];
        inet_ntop(p->ai_family, src, txt, sizeof(txt));
        if (p->ai_family == AF_INET6)
            snprintf(res->addr_text, sizeof(res->addr_text), "[%s]", txt);
        else
            snprintf(res->addr_text, sizeof(res->addr_text), "%s", txt);
        res->rc = 0;
        break;
    }
    if (res->rc != 0)
        snprintf(res->msg, sizeof(res->msg), "The image URL's host has no usable address.");
out:
    if (ai)
        freeaddrinfo(ai);
    j->done(j->arg, res);   /* hands the job over: the callee frees res */
    return NULL;
}

int media_resolve_async(const char *host, int port, bool allow_private,
                        void (*done)(void *arg, struct media_resolved *res), void *arg)
{
    struct resolve_job *j = calloc(1, sizeof(*j));
    if (!j)
        return -1;
    snprintf(j->host, sizeof(j->host), "%s", host);
    j->port = port;
    j->allow_private = allow_private;
    j->done = done;
    j->arg = arg;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, 256 * 1024);
    pthread_t t;
    int rc = pthread_create(&t, &at, resolve_main, j);
    pthread_attr_destroy(&at);
    if (rc != 0) {
        free(j);
        return -1;
    }
    return 0;
}

/* ---- image store ----------------------------------------------------------- */

struct stored {
    char token[33];
    char mime[64];
    unsigned char *data;
    size_t len;
    int64_t expires_ms;
    struct stored *next;       /* oldest first */
};

static pthread_mutex_t store_mu = PTHREAD_MUTEX_INITIALIZER;
static struct stored *store_head, *store_tail;
static size_t store_bytes;

static void store_drop_head(void)
{
    struct stored *s = store_head;
    store_head = s->next;
    if (!store_head)
        store_tail = NULL;
    store_bytes -= s->len;
    free(s->data);
    free(s);
}

/* Drop expired entries (the list is in expiry order when every entry has
 * the same TTL; a reload may change it, so scan the whole list). */
static void store_expire(int64_t now)
{
    struct stored **pp = &store_head, *prev = NULL;
    while (*pp) {
        struct stored *s = *pp;
        if (s->expires_ms <= now) {
            *pp = s->next;
            if (store_tail == s)
                store_tail = prev;
            store_bytes -= s->len;
            free(s->data);
            free(s);
        } else {
            prev = s;
            pp = &s->next;
        }
    }
}

int media_store_put(const void *data, size_t n, const char *mime, int64_t ttl_s, char token[33])
{
    struct stored *s = calloc(1, sizeof(*s));
    if (!s)
        return -1;
    s->data = malloc(n ? n : 1);
    if (!s->data) {
        free(s);
        return -1;
    }
    memcpy(s->data, data, n);
    s->len = n;
    snprintf(s->mime, sizeof(s->mime), "%s", mime && *mime ? mime : "application/octet-stream");
    gg_random_hex(s->token, 16);
    snprintf(token, 33, "%s", s->token);
    int64_t now = gg_now_ms();
    s->expires_ms = now + ttl_s * 1000;
    pthread_mutex_lock(&store_mu);
    store_expire(now);
    while (store_head && store_bytes + n > STORE_MAX_BYTES)
        store_drop_head();
    if (store_tail)
        store_tail->next = s;
    else
        store_head = s;
    store_tail = s;
    store_bytes += n;
    pthread_mutex_unlock(&store_mu);
    return 0;
}

int media_store_get(const char *tok, size_t tl, unsigned char **data, size_t *len, char mime[64], int64_t *left_s)
{
    int rc = -1;
    pthread_mutex_lock(&store_mu);
    int64_t now = gg_now_ms();
    store_expire(now);
    for (struct stored *s = store_head; tl == 32 && s; s = s->next) {
        if (gg_ct_equal(s->token, 32, tok, 32)) {
            *data = malloc(s->len ? s->len : 1);
            if (*data) {
                memcpy(*data, s->data, s->len);
                *len = s->len;
                snprintf(mime, 64, "%s", s->mime);
                *left_s = (s->expires_ms - now) / 1000;
                rc = 0;
            }
            break;
        }
    }
    pthread_mutex_unlock(&store_mu);
    return rc;
}

/* gg_util.c -- see gg_util.h */
#include "gg_util.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include "gg_scan.h"

bool gg_ct_equal(const void *a, size_t an, const void *b, size_t bn)
{
    const unsigned char *x = a, *y = b;
    size_t n = an > bn ? an : bn;
    unsigned diff = (unsigned)(an ^ bn);
    for (size_t i = 0; i < n; i++) {
        unsigned char cx = i < an ? x[i] : 0;
        unsigned char cy = i < bn ? y[i] : 0;
        diff |= (unsigned)(cx ^ cy);
    }
    return diff == 0;
}

void gg_mask(const char *secret, char *out, size_t n)
{
    if (!secret || !*secret) {
        if (n) out[0] = '\0';
        return;
    }
    size_t len = strlen(secret);
    size_t show = len >= 16 ? 4 : len >= 8 ? 2 : 0;
    snprintf(out, n, "%.*s\xe2\x80\xa6[%zu]", (int)show, secret, len);
}

void gg_mask_url(const char *url, char *out, size_t n)
{
    if (n == 0)
        return;
    out[0] = '\0';
    if (!url)
        return;
    const char *auth = strstr(url, "://");
    auth = auth ? auth + 3 : url;
    size_t alen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)    /* the last '@' of the authority */
        if (auth[i] == '@')
            at = auth + i;
    if (!at) {
        snprintf(out, n, "%s", url);
        return;
    }
    snprintf(out, n, "%.*s***%s", (int)(auth - url), url, at);
}

int gg_random(void *out, size_t n)
{
    unsigned char *p = out;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

void gg_random_hex(char *out, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char tmp[64];
    size_t done = 0;
    while (done < nbytes) {
        size_t k = nbytes - done > sizeof(tmp) ? sizeof(tmp) : nbytes - done;
        if (gg_random(tmp, k) != 0)
            memset(tmp, 0, k);
        for (size_t i = 0; i < k; i++) {
            out[2 * (done + i)] = hex[tmp[i] >> 4];
            out[2 * (done + i) + 1] = hex[tmp[i] & 15];
        }
        done += k;
    }
    out[2 * nbytes] = '\0';
}

void gg_sha256_hex(const void *data, size_t n, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(data, n, md, &mdlen, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

char *gg_trim(char *s)
{
    char *e;
    while (*s && isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

char *gg_strdup0(const char *s)
{
    return s ? strdup(s) : NULL;
}

int gg_parse_int(const char *s, long long min, long long max, long long *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

bool gg_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        i += gg_scan_nonascii(str + i, n - i);     /* ASCII runs in bulk */
        if (i >= n)
            break;
        unsigned char c = s[i];
        size_t k;
        unsigned cp;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) { k = 1; cp = c & 0x1F; if (c < 0xC2) return false; }
        else if ((c & 0xF0) == 0xE0) { k = 2; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { k = 3; cp = c & 0x07; if (c > 0xF4) return false; }
        else return false;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        i += k + 1;
    }
    return true;
}

size_t gg_utf8_complete_prefix(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    /* look back at most 3 bytes for a lead byte whose sequence is cut */
    size_t back = 0;
    while (back < 4 && back < n) {
        unsigned char c = s[n - 1 - back];
        if ((c & 0xC0) != 0x80) {
            size_t need = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                        : (c & 0xF8) == 0xF0 ? 4 : 1;
            if (back + 1 < need)
                return n - 1 - back;
            return n;
        }
        back++;
    }
    return n;
}

char *gg_utf8_sanitize(char *str)
{
    unsigned char *s = (unsigned char *)str;
    size_t n = strlen(str);
    size_t keep = gg_utf8_complete_prefix(str, n);
    s[keep] = '\0';
    n = keep;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (k && i + k <= n && gg_utf8_valid(str + i, k)) {
            i += k;
        } else {
            s[i++] = '?';
        }
    }
    return str;
}

/* Background threads run at this nice value (Linux: per thread). */
static void background_nice(void)
{
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
}

bool gg_thread_idle(bool idle)
{
    struct sched_param sp = {.sched_priority = 0};
    int rc = pthread_setschedparam(pthread_self(), idle ? SCHED_IDLE : SCHED_OTHER, &sp);
    if (rc != 0) {
        errno = rc;
        return false;
    }
    if (!idle)
        background_nice();
    return true;
}

void gg_thread_role(const char *name, bool background)
{
    char n[16];
    snprintf(n, sizeof(n), "%s", name);
    (void)pthread_setname_np(pthread_self(), n);
    if (background)
        background_nice();
}

/* gg_log.c -- see gg_log.h */
#include "gg_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

int gg_log_level = GG_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

int gg_log_parse_level(const char *s)
{
    for (int i = 0; i <= GG_LOG_OFF; i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return i;
    if (strcasecmp(s, "warning") == 0)
        return GG_LOG_WARN;
    return -1;
}

/* Length of the valid UTF-8 sequence at s (n bytes left) and its code
 * point, or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n, unsigned *cp)
{
    size_t len;
    unsigned c = s[0], min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2; c &= 0x1f; min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3; c &= 0x0f; min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4; c &= 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

size_t gg_log_escape(char *dst, size_t dstlen, const char *src, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)src;
    size_t o = 0;
    if (dstlen == 0)
        return 0;
    for (size_t i = 0; i < n;) {
        char e[8];
        size_t el = 0, adv = 1;
        unsigned c = s[i], cp = 0;
        if (c == '\n' || c == '\r' || c == '\t') {
            e[0] = '\\';
            e[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
            el = 2;
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(e, "\\x", 2);
            e[2] = hex[c >> 4];
            e[3] = hex[c & 15];
            el = 4;
        } else if (c < 0x80) {
            e[0] = (char)c;
            el = 1;
        } else if ((adv = utf8_seq(s + i, n - i, &cp)) == 0) {
            adv = 1;
            memcpy(e, "\\x", 2);
            e[2] = hex[c >> 4];
            e[3] = hex[c & 15];
            el = 4;
        } else if (cp <= 0x9f) {            /* C1 control */
            memcpy(e, "\\u00", 4);
            e[4] = hex[cp >> 4];
            e[5] = hex[cp & 15];
            el = 6;
        } else {
            memcpy(e, s + i, adv);
            el = adv;
        }
        if (o + el >= dstlen)
            break;
        memcpy(dst + o, e, el);
        o += el;
        i += adv;
    }
    dst[o] = '\0';
    return o;
}

void gg_log_write(int level, const char *fmt, ...)
{
    char msg[2048], line[8192];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000,
                     level_names[level < 0 || level > GG_LOG_ERROR ? GG_LOG_ERROR : level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t ml = m < 0 ? 0 : (size_t)m >= sizeof(msg) ? sizeof(msg) - 1 : (size_t)m;
    /* one call is one line: every control character is escaped */
    size_t len = (size_t)n + gg_log_escape(line + n, sizeof(line) - (size_t)n - 1, msg, ml);
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}

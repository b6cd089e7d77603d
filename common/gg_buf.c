/* gg_buf.c -- see gg_buf.h */
#include "gg_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gg_scan.h"

void gg_buf_init(struct gg_buf *b, size_t max)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void gg_buf_free(struct gg_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

void gg_buf_reset(struct gg_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

int gg_buf_reserve(struct gg_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return -1;
    size_t need = b->len + extra;
    if (need <= b->cap && b->p)
        return 0;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap = ncap > b->max / 2 ? b->max : ncap * 2;
    if (ncap < need)
        ncap = need;
    char *np = realloc(b->p, ncap + 1);
    if (!np)
        return -1;
    if (!b->p)
        np[0] = '\0';
    b->p = np;
    b->cap = ncap;
    return 0;
}

int gg_buf_add(struct gg_buf *b, const void *data, size_t n)
{
    if (gg_buf_reserve(b, n) != 0)
        return -1;
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

int gg_buf_adds(struct gg_buf *b, const char *s)
{
    return gg_buf_add(b, s, strlen(s));
}

int gg_buf_addc(struct gg_buf *b, char c)
{
    return gg_buf_add(b, &c, 1);
}

int gg_buf_vprintf(struct gg_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof(tmp), fmt, cp);
    va_end(cp);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof(tmp))
        return gg_buf_add(b, tmp, (size_t)n);
    if (gg_buf_reserve(b, (size_t)n) != 0)
        return -1;
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int gg_buf_printf(struct gg_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = gg_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int gg_buf_add_json_str(struct gg_buf *b, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t start_len = b->len;
    /* invariant: room for what is left of the input unescaped plus the
     * closing quote; an escape reserves exactly its extra bytes, so the
     * call fails only when the result itself would pass the cap */
    if (gg_buf_reserve(b, n + 2) != 0)
        return -1;
    b->p[b->len++] = '"';
    size_t i = 0;
    for (;;) {
        size_t run = gg_scan_json_escape(str + i, n - i);
        memcpy(b->p + b->len, s + i, run);
        b->len += run;
        i += run;
        if (i >= n)
            break;
        unsigned char c = s[i];
        char esc[6];
        size_t elen = 2, used = 1;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            if (c == 0xc2) {
                unsigned char d = i + 1 < n ? s[i + 1] : 0;
                if (d < 0x80 || d > 0x9f) {
                    /* a plain U+00A0..U+00BF lead (or a stray byte): kept */
                    esc[0] = (char)c;
                    elen = 1;
                    break;
                }
                c = d;      /* C1 control U+0080..U+009F (UTF-8 C2 80..C2 9F) */
                used = 2;
            }
            esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
            esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
            elen = 6;
        }
        if (elen > used && gg_buf_reserve(b, elen - used + (n - i) + 1) != 0)
            goto fail;
        memcpy(b->p + b->len, esc, elen);
        b->len += elen;
        i += used;
    }
    b->p[b->len++] = '"';
    b->p[b->len] = '\0';
    return 0;
fail:
    b->len = start_len;
    if (b->p)
        b->p[b->len] = '\0';
    return -1;
}

void gg_buf_consume(struct gg_buf *b, size_t n)
{
    if (n >= b->len) {
        gg_buf_reset(b);
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
    b->p[b->len] = '\0';
}

char *gg_buf_steal(struct gg_buf *b, size_t *len)
{
    char *p = b->p;
    if (len)
        *len = b->len;
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

/* gg_buf.c -- see gg_buf.h */
#include "gg_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int gg_buf_add_json_str(struct gg_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t start_len = b->len;
    if (gg_buf_reserve(b, n + 2) != 0)
        return -1;
    b->p[b->len++] = '"';
    size_t run = 0; /* start of pending unescaped run */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char ubuf[7];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                ubuf[0] = '\\'; ubuf[1] = 'u'; ubuf[2] = '0'; ubuf[3] = '0';
                ubuf[4] = hex[c >> 4]; ubuf[5] = hex[c & 15]; ubuf[6] = 0;
                esc = ubuf;
            } else if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
                       (unsigned char)s[i + 1] <= 0x9f) {
                /* C1 control U+0080..U+009F (UTF-8 C2 80..C2 9F) */
                unsigned char d = (unsigned char)s[i + 1];
                ubuf[0] = '\\'; ubuf[1] = 'u'; ubuf[2] = '0'; ubuf[3] = '0';
                ubuf[4] = hex[d >> 4]; ubuf[5] = hex[d & 15]; ubuf[6] = 0;
                if (gg_buf_add(b, s + run, i - run) != 0 || gg_buf_adds(b, ubuf) != 0)
                    goto fail;
                i++;
                run = i + 1;
                continue;
            }
        }
        if (esc) {
            if (gg_buf_add(b, s + run, i - run) != 0 || gg_buf_adds(b, esc) != 0)
                goto fail;
            run = i + 1;
        }
    }
    if (gg_buf_add(b, s + run, n - run) != 0 || gg_buf_addc(b, '"') != 0)
        goto fail;
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

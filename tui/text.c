/* text.c -- see text.h */
#define _XOPEN_SOURCE 700
#include "text.h"

#include <langinfo.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

/* Decode one character at s (n bytes left).  Returns bytes consumed (>= 1)
 * and stores the character and its width; invalid or unprintable input
 * becomes '?' of width 1. */
static size_t next_cell(const char *s, size_t n, wchar_t *wc, int *w)
{
    mbstate_t st;
    memset(&st, 0, sizeof(st));
    unsigned char c = (unsigned char)*s;
    if (c < 0x80) {
        if (c < 0x20 || c == 0x7f) {
            *wc = L'?';
        } else {
            *wc = (wchar_t)c;
        }
        *w = 1;
        return 1;
    }
    size_t r = mbrtowc(wc, s, n, &st);
    if (r == (size_t)-1 || r == (size_t)-2 || r == 0) {
        *wc = L'?';
        *w = 1;
        return 1;
    }
    int cw = wcwidth(*wc);
    if (cw < 0) {
        *wc = L'?';
        cw = 1;
    }
    *w = cw;
    return r;
}

int tx_width(const char *s)
{
    if (!s)
        return 0;
    size_t n = strlen(s);
    int total = 0;
    size_t i = 0;
    while (i < n) {
        wchar_t wc;
        int w;
        i += next_cell(s + i, n - i, &wc, &w);
        total += w;
    }
    return total;
}

/* Append the representation of a cell; returns 0 or -1 when out is full. */
static int put_cell(char *out, size_t outsz, size_t *o, const char *src, size_t srcn, wchar_t wc)
{
    if (wc == L'?' && !(srcn == 1 && src[0] == '?')) {
        src = "?";
        srcn = 1;
    }
    if (*o + srcn + 1 > outsz)
        return -1;
    memcpy(out + *o, src, srcn);
    *o += srcn;
    out[*o] = '\0';
    return 0;
}

static const char *ellipsis(size_t *len)
{
    /* U+2026 when the locale can display it, else "~" */
    static int ok = -1;
    if (ok < 0) {
        wchar_t wc;
        mbstate_t st;
        memset(&st, 0, sizeof(st));
        ok = mbrtowc(&wc, "\xe2\x80\xa6", 3, &st) == 3 && wcwidth(wc) == 1;
    }
    *len = ok ? 3 : 1;
    return ok ? "\xe2\x80\xa6" : "~";
}

int tx_fit(const char *s, int width, bool pad, bool right, char *out, size_t outsz)
{
    if (!outsz)
        return 0;
    out[0] = '\0';
    if (width <= 0)
        return 0;
    if (!s)
        s = "";
    size_t n = strlen(s);
    int total = tx_width(s);
    int used = 0;
    size_t o = 0;
    int padn = pad && total < width ? width - total : 0;
    if (right && padn) {
        while (padn > 0 && o + 2 <= outsz) {
            out[o++] = ' ';
            padn--;
            used++;
        }
        out[o] = '\0';
    }
    int limit = total > width ? width - 1 : width; /* keep 1 column for "…" */
    size_t i = 0;
    while (i < n) {
        wchar_t wc;
        int w;
        size_t k = next_cell(s + i, n - i, &wc, &w);
        if (used + w > limit)
            break;
        if (put_cell(out, outsz, &o, s + i, k, wc) < 0)
            return used;
        used += w;
        i += k;
    }
    if (total > width) {
        size_t el;
        const char *e = ellipsis(&el);
        if (o + el + 1 <= outsz) {
            memcpy(out + o, e, el);
            o += el;
            out[o] = '\0';
            used++;
        }
    }
    if (pad) {
        while (used < width && o + 2 <= outsz) {
            out[o++] = ' ';
            used++;
        }
        out[o] = '\0';
    }
    return used;
}

void tx_sanitize(const char *s, char *out, size_t outsz)
{
    size_t o = 0;
    if (!outsz)
        return;
    out[0] = '\0';
    if (!s)
        return;
    size_t n = strlen(s), i = 0;
    while (i < n) {
        wchar_t wc;
        int w;
        size_t k = next_cell(s + i, n - i, &wc, &w);
        if (put_cell(out, outsz, &o, s + i, k, wc) < 0)
            return;
        i += k;
    }
}

void tx_duration(int64_t sec, char *out, size_t n)
{
    if (sec < 0)
        sec = 0;
    if (sec < 60)
        snprintf(out, n, "%llds", (long long)sec);
    else if (sec < 3600)
        snprintf(out, n, "%lldm", (long long)(sec / 60));
    else if (sec < 86400)
        snprintf(out, n, "%lldh%02lldm", (long long)(sec / 3600), (long long)(sec % 3600 / 60));
    else
        snprintf(out, n, "%lldd%02lldh", (long long)(sec / 86400), (long long)(sec % 86400 / 3600));
}

void tx_ago(int64_t then_ms, int64_t now_ms, char *out, size_t n)
{
    char d[32];
    if (then_ms <= 0) {
        snprintf(out, n, "-");
        return;
    }
    int64_t s = (now_ms - then_ms) / 1000;
    if (s < 5) {
        snprintf(out, n, "just now");
        return;
    }
    tx_duration(s, d, sizeof(d));
    snprintf(out, n, "%s ago", d);
}

void tx_until(int64_t until_ms, int64_t now_ms, char *out, size_t n)
{
    char d[32];
    if (until_ms <= 0) {
        snprintf(out, n, "-");
        return;
    }
    int64_t s = (until_ms - now_ms + 999) / 1000;
    if (s <= 0) {
        snprintf(out, n, "now");
        return;
    }
    tx_duration(s, d, sizeof(d));
    snprintf(out, n, "in %s", d);
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

bool tx_icontains(const char *hay, const char *needle)
{
    if (!needle || !*needle)
        return true;
    if (!hay)
        return false;
    size_t nl = strlen(needle);
    for (const char *h = hay; *h; h++) {
        size_t k = 0;
        while (k < nl && h[k] && lower((unsigned char)h[k]) == lower((unsigned char)needle[k]))
            k++;
        if (k == nl)
            return true;
    }
    return false;
}

size_t tx_prev_char(const char *s, size_t pos)
{
    if (pos == 0)
        return 0;
    pos--;
    while (pos > 0 && ((unsigned char)s[pos] & 0xC0) == 0x80)
        pos--;
    return pos;
}

size_t tx_next_char(const char *s, size_t len, size_t pos)
{
    if (pos >= len)
        return len;
    pos++;
    while (pos < len && ((unsigned char)s[pos] & 0xC0) == 0x80)
        pos++;
    return pos;
}

bool tx_utf8(void)
{
    static int utf8 = -1;
    if (utf8 < 0) {
        const char *cs = nl_langinfo(CODESET);
        utf8 = cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
    }
    return utf8;
}

const char *tx_dash(void)
{
    return tx_utf8() ? "\xe2\x80\x94" : "-";
}

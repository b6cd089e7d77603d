/* esc.c -- see esc.h */
#include "esc.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Decode one UTF-8 character at s (n bytes left, n >= 1).  Returns its
 * length and stores the code point, or 0 when the bytes are not valid
 * UTF-8 (overlong forms, surrogates and values over U+10FFFF included). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2; v = c & 0x1Fu; min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3; v = c & 0x0Fu; min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4; v = c & 0x07u; min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

static bool is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

size_t esc_text(const char *s, char *out, size_t n)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t o = 0, len = strlen((const char *)p), i = 0;
    if (n == 0)
        return 0;
    out[0] = '\0';
    while (i < len) {
        char tmp[8];
        const char *piece = tmp;
        size_t pl;
        uint32_t cp;
        size_t k = utf8_next(p + i, len - i, &cp);
        if (k == 0) {
            pl = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", p[i]);
            k = 1;
        } else if (cp == '\\') {
            piece = "\\\\";
            pl = 2;
        } else if (is_control(cp)) {
            pl = (size_t)snprintf(tmp, sizeof(tmp), cp < 0x80 ? "\\x%02x" : "\\u%04x",
                                  (unsigned)cp);
        } else {
            piece = (const char *)p + i;
            pl = k;
        }
        if (o + pl + 1 > n)
            break;
        memcpy(out + o, piece, pl);
        o += pl;
        out[o] = '\0';
        i += k;
    }
    return o;
}

int esc_json(const cJSON *j, bool pretty, struct gg_buf *out)
{
    char *txt = pretty ? cJSON_Print(j) : cJSON_PrintUnformatted(j);
    int rc = 0;
    if (!txt)
        return -1;
    const unsigned char *p = (const unsigned char *)txt;
    size_t len = strlen(txt), i = 0, run = 0;
    bool in_str = false;
    while (i < len && rc == 0) {
        unsigned char c = p[i];
        uint32_t cp = c;
        size_t k = 1;
        char tmp[8];
        if (c == '"' && in_str) {
            /* the quote ends the string unless an odd number of
             * backslashes precede it */
            size_t bs = 0;
            while (bs < i && p[i - 1 - bs] == '\\')
                bs++;
            if (bs % 2 == 0)
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        }
        if (c >= 0x80)
            k = utf8_next(p + i, len - i, &cp);
        bool bad = k == 0 || (in_str && is_control(cp)) || (!in_str && c >= 0x7F);
        if (!bad) {
            run += k;
            i += k;
            continue;
        }
        if (run && gg_buf_add(out, txt + i - run, run) < 0)
            rc = -1;
        run = 0;
        if (k == 0) {
            snprintf(tmp, sizeof(tmp), "\\ufffd");
            k = 1;
        } else {
            snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned)cp);
        }
        if (rc == 0 && gg_buf_add(out, tmp, 6) < 0)
            rc = -1;
        i += k;
    }
    if (rc == 0 && run && gg_buf_add(out, txt + i - run, run) < 0)
        rc = -1;
    cJSON_free(txt);
    return rc;
}

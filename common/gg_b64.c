/* gg_b64.c -- see gg_b64.h */
#include "gg_b64.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

static const char std_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t gg_b64_enc_len(size_t n) { return (n + 2) / 3 * 4 + 1; }
size_t gg_b64_dec_len(size_t n) { return n / 4 * 3 + 3; }

static size_t encode(const unsigned char *in, size_t n, char *out, const char *al, int pad)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = al[v >> 18 & 63];
        out[o++] = al[v >> 12 & 63];
        out[o++] = al[v >> 6 & 63];
        out[o++] = al[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = al[v >> 18 & 63];
        out[o++] = al[v >> 12 & 63];
        if (pad) { out[o++] = '='; out[o++] = '='; }
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = al[v >> 18 & 63];
        out[o++] = al[v >> 12 & 63];
        out[o++] = al[v >> 6 & 63];
        if (pad) out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

size_t gg_b64_encode(const void *in, size_t n, char *out) { return encode(in, n, out, std_alpha, 1); }
size_t gg_b64url_encode(const void *in, size_t n, char *out) { return encode(in, n, out, url_alpha, 0); }

/* Table-driven decoding, 4 characters per step.  Padding is optional but,
 * when present, must make the length a multiple of 4 (at most two '='). */
static signed char tables[2][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void)
{
    memset(tables, -1, sizeof(tables));
    for (int i = 0; i < 64; i++) {
        tables[0][(unsigned char)std_alpha[i]] = (signed char)i;
        tables[1][(unsigned char)url_alpha[i]] = (signed char)i;
    }
}

static ssize_t decode(const char *in, size_t n, unsigned char *out, int url)
{
    pthread_once(&tables_once, tables_init);
    size_t pad = 0;
    while (n > 0 && in[n - 1] == '=') {
        n--;
        pad++;
    }
    if (pad > 2 || n % 4 == 1 || (pad && (n + pad) % 4 != 0))
        return -1;
    const unsigned char *p = (const unsigned char *)in;
    const signed char *t = tables[url];
    size_t i = 0, o = 0;
    for (; i + 4 <= n; i += 4) {
        int a = t[p[i]], b = t[p[i + 1]], c = t[p[i + 2]], d = t[p[i + 3]];
        if ((a | b | c | d) < 0)
            return -1;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        out[o++] = (unsigned char)(v >> 16);
        out[o++] = (unsigned char)(v >> 8);
        out[o++] = (unsigned char)v;
    }
    size_t r = n - i;
    if (r) {
        int a = t[p[i]], b = t[p[i + 1]], c = r == 3 ? t[p[i + 2]] : 0;
        if ((a | b | c) < 0)
            return -1;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6;
        out[o++] = (unsigned char)(v >> 16);
        if (r == 3)
            out[o++] = (unsigned char)(v >> 8);
    }
    return (ssize_t)o;
}

ssize_t gg_b64_decode(const char *in, size_t n, unsigned char *out) { return decode(in, n, out, 0); }
ssize_t gg_b64url_decode(const char *in, size_t n, unsigned char *out) { return decode(in, n, out, 1); }

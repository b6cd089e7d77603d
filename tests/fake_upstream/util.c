/*
 * util.c - shared helpers.  See util.h.
 */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <errno.h>

int log_quiet;

uint64_t now_mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t now_wall_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int64_t clock_offset_ms;

uint64_t fake_now_ms(void)
{
  return (uint64_t)((int64_t)now_wall_ms() + clock_offset_ms);
}

int64_t fake_clock_offset_ms(void)
{
  return clock_offset_ms;
}

void fake_clock_set_offset_ms(int64_t off)
{
  clock_offset_ms = off;
}

void rand_bytes(void *buf, size_t n)
{
  unsigned char *p = buf;
  while(n) {
    ssize_t r = getrandom(p, n, 0);
    if(r < 0) {
      if(errno == EINTR)
        continue;
      log_msg("getrandom failed: %s", strerror(errno));
      abort();
    }
    p += r;
    n -= (size_t)r;
  }
}

static uint64_t rng_state;

uint64_t rand_u64(void)
{
  uint64_t x;
  if(!rng_state) {
    rand_bytes(&rng_state, sizeof(rng_state));
    rng_state |= 1;
  }
  /* xorshift64* */
  x = rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng_state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

void rand_hex(char *out, size_t n)
{
  static const char hx[] = "0123456789abcdef";
  size_t i;
  uint64_t r = 0;
  for(i = 0; i < n; i++) {
    if(!(i % 16))
      r = rand_u64();
    out[i] = hx[r & 15];
    r >>= 4;
  }
  out[n] = '\0';
}

void rand_digits(char *out)
{
  size_t n = 19 + (rand_u64() & 1);
  size_t i;
  out[0] = (char)('1' + rand_u64() % 9);
  for(i = 1; i < n; i++)
    out[i] = (char)('0' + rand_u64() % 10);
  out[n] = '\0';
}

void fmt_rfc3339(char *out, size_t outlen, uint64_t ms)
{
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  char tmp[32];
  gmtime_r(&t, &tm);
  strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, outlen, "%s.%03uZ", tmp, (unsigned)(ms % 1000));
}

void fmt_http_date(char *out, size_t outlen)
{
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, outlen, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void vlog(const char *fmt, va_list ap)
{
  char line[2048];
  int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
  if(n < 0)
    return;
  if((size_t)n > sizeof(line) - 2)
    n = (int)sizeof(line) - 2;
  line[n++] = '\n';
  fwrite("fake_upstream: ", 1, 15, stderr);
  fwrite(line, 1, (size_t)n, stderr);
}

void log_msg(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vlog(fmt, ap);
  va_end(ap);
}

void log_req(const char *fmt, ...)
{
  va_list ap;
  if(log_quiet)
    return;
  va_start(ap, fmt);
  vlog(fmt, ap);
  va_end(ap);
}

static int hexval(int c)
{
  if(c >= '0' && c <= '9')
    return c - '0';
  if(c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if(c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int pct_decode(struct dbuf *out, const char *s, size_t n, int plus_space)
{
  size_t i;
  for(i = 0; i < n; i++) {
    char c = s[i];
    if(c == '%' && i + 2 < n &&
       hexval((unsigned char)s[i + 1]) >= 0 &&
       hexval((unsigned char)s[i + 2]) >= 0) {
      c = (char)(hexval((unsigned char)s[i + 1]) * 16 +
                 hexval((unsigned char)s[i + 2]));
      i += 2;
    }
    else if(c == '+' && plus_space)
      c = ' ';
    if(dbuf_addc(out, c))
      return -1;
  }
  return 0;
}

char *query_param(const char *query, const char *name)
{
  size_t nl = strlen(name);
  const char *p = query;
  if(!p)
    return NULL;
  while(*p) {
    const char *amp = strchr(p, '&');
    size_t seg = amp ? (size_t)(amp - p) : strlen(p);
    if(seg >= nl && !strncmp(p, name, nl) && (seg == nl || p[nl] == '=')) {
      struct dbuf d;
      const char *v = p + nl + (seg > nl ? 1 : 0);
      size_t vl = seg > nl ? seg - nl - 1 : 0;
      char *res;
      dbuf_init(&d, 1 << 20);
      if(pct_decode(&d, v, vl, 1)) {
        dbuf_free(&d);
        return NULL;
      }
      res = xstrndup(dbuf_cstr(&d), d.len);
      dbuf_free(&d);
      return res;
    }
    if(!amp)
      break;
    p = amp + 1;
  }
  return NULL;
}

size_t utf8_cut(const char *s, size_t n)
{
  size_t i = n, back = 0;
  const unsigned char *u = (const unsigned char *)s;
  /* walk back over continuation bytes to the lead byte */
  while(i > 0 && back < 4 && (u[i - 1] & 0xC0) == 0x80) {
    i--;
    back++;
  }
  if(i == 0)
    return n;
  {
    unsigned char lead = u[i - 1];
    size_t need;
    if(lead < 0x80)
      return n;        /* ends on ASCII */
    if((lead & 0xE0) == 0xC0)
      need = 1;
    else if((lead & 0xF0) == 0xE0)
      need = 2;
    else if((lead & 0xF8) == 0xF0)
      need = 3;
    else
      return n;        /* invalid lead: leave as is */
    if(back >= need)
      return n;        /* complete sequence */
    return i - 1;      /* drop the incomplete sequence */
  }
}

size_t utf8_next_boundary(const char *s, size_t n, size_t off)
{
  const unsigned char *u = (const unsigned char *)s;
  while(off < n && (u[off] & 0xC0) == 0x80)
    off++;
  return off;
}

static const char b64std[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int b64_enc(struct dbuf *out, const unsigned char *p, size_t n,
                   const char *alpha, int pad)
{
  size_t i, olen = (n + 2) / 3 * 4;
  char *o = dbuf_reserve(out, olen);
  size_t k = 0;
  if(!o)
    return -1;
  for(i = 0; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    o[k++] = alpha[v >> 18];
    o[k++] = alpha[(v >> 12) & 63];
    o[k++] = alpha[(v >> 6) & 63];
    o[k++] = alpha[v & 63];
  }
  if(i < n) {
    uint32_t v = (uint32_t)p[i] << 16;
    if(i + 1 < n)
      v |= (uint32_t)p[i + 1] << 8;
    o[k++] = alpha[v >> 18];
    o[k++] = alpha[(v >> 12) & 63];
    if(i + 1 < n)
      o[k++] = alpha[(v >> 6) & 63];
    else if(pad)
      o[k++] = '=';
    if(pad)
      o[k++] = '=';
  }
  dbuf_commit(out, k);
  return 0;
}

int b64_encode(struct dbuf *out, const void *p, size_t n)
{
  return b64_enc(out, p, n, b64std, 1);
}

int b64url_encode(struct dbuf *out, const void *p, size_t n)
{
  return b64_enc(out, p, n, b64url, 0);
}

static int b64val(int c, int url)
{
  if(c >= 'A' && c <= 'Z')
    return c - 'A';
  if(c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if(c >= '0' && c <= '9')
    return c - '0' + 52;
  if(url) {
    if(c == '-')
      return 62;
    if(c == '_')
      return 63;
  }
  else {
    if(c == '+')
      return 62;
    if(c == '/')
      return 63;
  }
  return -1;
}

/* Decodes n characters (no padding inside) of the given alphabet. */
static int b64_dec(struct dbuf *out, const char *s, size_t n, int url)
{
  size_t i;
  uint32_t acc = 0;
  int bits = 0;
  char *o;
  size_t k = 0;
  if(n % 4 == 1)
    return -1;
  o = dbuf_reserve(out, n / 4 * 3 + 3);
  if(!o)
    return -1;
  for(i = 0; i < n; i++) {
    int v = b64val((unsigned char)s[i], url);
    if(v < 0)
      return -1;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if(bits >= 8) {
      bits -= 8;
      o[k++] = (char)((acc >> bits) & 0xFF);
    }
  }
  dbuf_commit(out, k);
  return 0;
}

int b64_decode_strict(struct dbuf *out, const char *s, size_t n)
{
  size_t pad = 0;
  if(n % 4)
    return -1;
  if(n && s[n - 1] == '=')
    pad++;
  if(n > 1 && s[n - 2] == '=')
    pad++;
  return b64_dec(out, s, n - pad, 0);
}

int b64url_decode(struct dbuf *out, const char *s, size_t n)
{
  return b64_dec(out, s, n, 1);
}

void hex_encode(char *out, const unsigned char *p, size_t n)
{
  static const char hx[] = "0123456789abcdef";
  size_t i;
  for(i = 0; i < n; i++) {
    out[2 * i] = hx[p[i] >> 4];
    out[2 * i + 1] = hx[p[i] & 15];
  }
  out[2 * n] = '\0';
}

int ieq(const char *a, const char *b)
{
  return !strcasecmp(a, b);
}

int ieqn(const char *a, const char *b, size_t n)
{
  return !strncasecmp(a, b, n);
}

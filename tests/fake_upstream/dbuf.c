/*
 * dbuf.c - size-capped growable byte buffer.  See dbuf.h.
 */
#include "dbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
  fprintf(stderr, "fake_upstream: out of memory (%zu bytes)\n", n);
  abort();
}

void *xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if(!p)
    oom(n);
  return p;
}

void *xcalloc(size_t n, size_t m)
{
  void *p = calloc(n ? n : 1, m ? m : 1);
  if(!p)
    oom(n * m);
  return p;
}

void *xrealloc(void *p, size_t n)
{
  void *q = realloc(p, n ? n : 1);
  if(!q)
    oom(n);
  return q;
}

char *xstrdup(const char *s)
{
  return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
  char *p = xmalloc(n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

void dbuf_init(struct dbuf *b, size_t max)
{
  b->p = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
}

void dbuf_free(struct dbuf *b)
{
  free(b->p);
  b->p = NULL;
  b->len = 0;
  b->cap = 0;
}

void dbuf_reset(struct dbuf *b, size_t keep)
{
  b->len = 0;
  if(b->cap > keep)
    dbuf_free(b);
}

char *dbuf_reserve(struct dbuf *b, size_t n)
{
  size_t need;
  if(n > b->max || b->len > b->max - n)
    return NULL;
  need = b->len + n + 1;
  if(need > b->cap) {
    size_t ncap = b->cap ? b->cap : 256;
    while(ncap < need)
      ncap *= 2;
    b->p = xrealloc(b->p, ncap);
    b->cap = ncap;
  }
  return b->p + b->len;
}

void dbuf_commit(struct dbuf *b, size_t n)
{
  b->len += n;
}

int dbuf_add(struct dbuf *b, const void *p, size_t n)
{
  char *dst;
  if(!n)
    return 0;
  dst = dbuf_reserve(b, n);
  if(!dst)
    return -1;
  memcpy(dst, p, n);
  b->len += n;
  return 0;
}

int dbuf_adds(struct dbuf *b, const char *s)
{
  return dbuf_add(b, s, strlen(s));
}

int dbuf_addc(struct dbuf *b, char c)
{
  if(b->len + 1 < b->cap && b->len < b->max) {
    b->p[b->len++] = c;
    return 0;
  }
  return dbuf_add(b, &c, 1);
}

int dbuf_addf(struct dbuf *b, const char *fmt, ...)
{
  va_list ap;
  int n;
  char small[256];
  va_start(ap, fmt);
  n = vsnprintf(small, sizeof(small), fmt, ap);
  va_end(ap);
  if(n < 0)
    return -1;
  if((size_t)n < sizeof(small))
    return dbuf_add(b, small, (size_t)n);
  {
    char *dst = dbuf_reserve(b, (size_t)n);
    if(!dst)
      return -1;
    va_start(ap, fmt);
    vsnprintf(dst, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
  }
  return 0;
}

void dbuf_consume(struct dbuf *b, size_t n)
{
  if(n >= b->len) {
    b->len = 0;
    return;
  }
  memmove(b->p, b->p + n, b->len - n);
  b->len -= n;
}

const char *dbuf_cstr(struct dbuf *b)
{
  if(!b->p) {
    /* cap 0: allocate the terminator slot (ignores max, 1 byte) */
    b->p = xmalloc(16);
    b->cap = 16;
  }
  b->p[b->len] = '\0';
  return b->p;
}

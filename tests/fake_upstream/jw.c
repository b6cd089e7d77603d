/*
 * jw.c - streaming JSON writer.  See jw.h.
 */
#include "jw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_init(struct jw *w, struct dbuf *b, int pretty)
{
  memset(w, 0, sizeof(*w));
  w->b = b;
  w->pretty = pretty;
}

static void put(struct jw *w, const char *s, size_t n)
{
  if(!w->err && dbuf_add(w->b, s, n))
    w->err = 1;
}

static void indent(struct jw *w, int depth)
{
  static const char sp[] = "                                ";
  int n = depth * 2;
  while(n > 0) {
    int k = n > 32 ? 32 : n;
    put(w, sp, (size_t)k);
    n -= k;
  }
}

/* Emits the separator/newline/indent before a member or element. */
static void pre_value(struct jw *w)
{
  if(w->after_key) {
    w->after_key = 0;
    return;
  }
  if(w->depth > 0) {
    if(w->has[w->depth])
      put(w, ",", 1);
    w->has[w->depth] = 1;
    if(w->pretty) {
      put(w, "\n", 1);
      indent(w, w->depth);
    }
  }
}

static void open_c(struct jw *w, char c)
{
  pre_value(w);
  put(w, &c, 1);
  if(w->depth + 1 >= JW_MAX_DEPTH) {
    fprintf(stderr, "jw: nesting too deep\n");
    abort();
  }
  w->depth++;
  w->has[w->depth] = 0;
}

static void close_c(struct jw *w, char c)
{
  int had = w->has[w->depth];
  w->depth--;
  if(had && w->pretty) {
    put(w, "\n", 1);
    indent(w, w->depth);
  }
  put(w, &c, 1);
}

void jw_obj(struct jw *w)
{
  open_c(w, '{');
}

void jw_obj_end(struct jw *w)
{
  close_c(w, '}');
}

void jw_arr(struct jw *w)
{
  open_c(w, '[');
}

void jw_arr_end(struct jw *w)
{
  close_c(w, ']');
}

void jw_key(struct jw *w, const char *k)
{
  pre_value(w);
  put(w, "\"", 1);
  if(!w->err && json_escape(w->b, k, strlen(k), w->escape_html))
    w->err = 1;
  if(w->pretty)
    put(w, "\": ", 3);
  else
    put(w, "\":", 2);
  w->after_key = 1;
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
  pre_value(w);
  put(w, "\"", 1);
  if(!w->err && json_escape(w->b, s, n, w->escape_html))
    w->err = 1;
  put(w, "\"", 1);
}

void jw_str(struct jw *w, const char *s)
{
  if(!s) {
    jw_null(w);
    return;
  }
  jw_strn(w, s, strlen(s));
}

void jw_int(struct jw *w, long long v)
{
  char tmp[32];
  int n = snprintf(tmp, sizeof(tmp), "%lld", v);
  pre_value(w);
  put(w, tmp, (size_t)n);
}

void jw_bool(struct jw *w, int v)
{
  pre_value(w);
  if(v)
    put(w, "true", 4);
  else
    put(w, "false", 5);
}

void jw_null(struct jw *w)
{
  pre_value(w);
  put(w, "null", 4);
}

void jw_raw(struct jw *w, const char *json, size_t n)
{
  pre_value(w);
  put(w, json, n);
}

void jw_kstr(struct jw *w, const char *k, const char *s)
{
  jw_key(w, k);
  jw_str(w, s);
}

void jw_kint(struct jw *w, const char *k, long long v)
{
  jw_key(w, k);
  jw_int(w, v);
}

void jw_kbool(struct jw *w, const char *k, int v)
{
  jw_key(w, k);
  jw_bool(w, v);
}

/* Length of a valid UTF-8 sequence starting at s (n bytes available), or
 * 0 when the bytes are not valid UTF-8. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
  unsigned char c = s[0];
  size_t need, i;
  unsigned int cp;
  if(c < 0x80)
    return 1;
  if(c >= 0xC2 && c <= 0xDF) {
    need = 2;
    cp = c & 0x1F;
  }
  else if(c >= 0xE0 && c <= 0xEF) {
    need = 3;
    cp = c & 0x0F;
  }
  else if(c >= 0xF0 && c <= 0xF4) {
    need = 4;
    cp = c & 0x07;
  }
  else
    return 0;
  if(n < need)
    return 0;
  for(i = 1; i < need; i++) {
    if((s[i] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if((need == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
     (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return 0;
  return need;
}

int json_escape(struct dbuf *b, const char *s, size_t n, int escape_html)
{
  static const char hx[] = "0123456789abcdef";
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0, run = 0;
  while(i < n) {
    unsigned char c = u[i];
    const char *rep = NULL;
    char ubuf[7];
    size_t replen = 0;
    if(c >= 0x20 && c != '"' && c != '\\' && c < 0x80 &&
       !(escape_html && (c == '<' || c == '>' || c == '&' || c == '=' ||
                         c == '\''))) {
      i++;
      continue;
    }
    if(c >= 0x80) {
      size_t k = utf8_seq(u + i, n - i);
      if(k) {
        i += k;
        continue;
      }
      rep = "\\ufffd";
      replen = 6;
    }
    else if(c == '"') {
      rep = "\\\"";
      replen = 2;
    }
    else if(c == '\\') {
      rep = "\\\\";
      replen = 2;
    }
    else if(c == '\n') {
      rep = "\\n";
      replen = 2;
    }
    else if(c == '\r') {
      rep = "\\r";
      replen = 2;
    }
    else if(c == '\t') {
      rep = "\\t";
      replen = 2;
    }
    else {
      ubuf[0] = '\\';
      ubuf[1] = 'u';
      ubuf[2] = '0';
      ubuf[3] = '0';
      ubuf[4] = hx[c >> 4];
      ubuf[5] = hx[c & 15];
      rep = ubuf;
      replen = 6;
    }
    /* flush the clean run before i, then the replacement */
    if(i > run && dbuf_add(b, s + run, i - run))
      return -1;
    if(dbuf_add(b, rep, replen))
      return -1;
    i++;
    run = i;
  }
  if(n > run && dbuf_add(b, s + run, n - run))
    return -1;
  return 0;
}

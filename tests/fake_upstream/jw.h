/*
 * jw.h - streaming JSON writer used for every JSON body the fake emits.
 *
 * Two layouts: compact (no whitespace) and "Google pretty" (2-space
 * indentation, `"key": value`, one member per line, empty containers as
 * `{}` / `[]`), which is the layout of Google's REST streaming bodies.
 *
 * The writer appends to a caller-owned dbuf and never allocates beyond
 * that buffer.  Strings are escaped per RFC 8259; invalid UTF-8 is
 * replaced by U+FFFD so the output is always valid JSON.  Nesting deeper
 * than JW_MAX_DEPTH is a programming error (aborts).
 *
 * Errors (buffer cap exceeded) are sticky: check w->err at the end.
 */
#ifndef FU_JW_H
#define FU_JW_H

#include <stddef.h>

#include "dbuf.h"

#define JW_MAX_DEPTH 48

struct jw {
  struct dbuf *b;
  int pretty;
  int escape_html;            /* escape < > & = ' as \u00XX (Google) */
  int depth;
  int after_key;
  int err;
  unsigned char has[JW_MAX_DEPTH]; /* container at depth d has members */
};

void jw_init(struct jw *w, struct dbuf *b, int pretty);

void jw_obj(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *k);
void jw_str(struct jw *w, const char *s);          /* NULL -> null */
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, long long v);
void jw_bool(struct jw *w, int v);
void jw_null(struct jw *w);
/* Inserts an already serialised JSON value verbatim. */
void jw_raw(struct jw *w, const char *json, size_t n);

/* Convenience: key + value. */
void jw_kstr(struct jw *w, const char *k, const char *s);
void jw_kint(struct jw *w, const char *k, long long v);
void jw_kbool(struct jw *w, const char *k, int v);

/* Appends the JSON-escaped form of s[0..n) (without quotes) to b.
 * Returns 0 or -1 on cap overflow. */
int json_escape(struct dbuf *b, const char *s, size_t n, int escape_html);

#endif

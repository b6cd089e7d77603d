/*
 * dbuf.h - size-capped growable byte buffer (fake upstream).
 *
 * Every buffer is created with a maximum size.  Appending beyond that
 * maximum fails with -1 and leaves the buffer contents unchanged, so a
 * caller can turn the failure into an HTTP 413/431 reply.  Allocation
 * failure is fatal (the process aborts with a message): this is a test
 * tool and an out-of-memory fake server is useless anyway.
 *
 * The buffer always keeps one spare byte so that p[len] can be set to NUL
 * (dbuf_cstr) without reallocating.
 */
#ifndef FU_DBUF_H
#define FU_DBUF_H

#include <stddef.h>

struct dbuf {
  char *p;     /* owned storage, NULL until the first append */
  size_t len;  /* bytes in use */
  size_t cap;  /* bytes allocated */
  size_t max;  /* hard cap on len */
};

/* Initialises an empty buffer that may hold at most `max` bytes.
 * Allocates nothing; cannot fail. */
void dbuf_init(struct dbuf *b, size_t max);

/* Releases the storage and leaves the buffer empty but usable. */
void dbuf_free(struct dbuf *b);

/* Drops the contents; keeps the storage unless it is larger than
 * `keep` bytes, in which case the storage is released. */
void dbuf_reset(struct dbuf *b, size_t keep);

/* Appends n bytes.  Returns 0, or -1 when the cap would be exceeded
 * (the buffer is then unchanged). */
int dbuf_add(struct dbuf *b, const void *p, size_t n);

/* Appends a NUL-terminated string.  Same contract as dbuf_add. */
int dbuf_adds(struct dbuf *b, const char *s);

/* Appends one byte.  Same contract as dbuf_add. */
int dbuf_addc(struct dbuf *b, char c);

/* Appends printf-formatted text.  Same contract as dbuf_add. */
int dbuf_addf(struct dbuf *b, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));

/* Makes room for n more bytes and returns a pointer to them, or NULL when
 * the cap would be exceeded.  The bytes are not counted until
 * dbuf_commit(b, used) is called. */
char *dbuf_reserve(struct dbuf *b, size_t n);
void dbuf_commit(struct dbuf *b, size_t n);

/* Removes the first n bytes (memmove). */
void dbuf_consume(struct dbuf *b, size_t n);

/* Returns the contents NUL-terminated (never NULL). */
const char *dbuf_cstr(struct dbuf *b);

/* Aborting allocators used by every module of the fake. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif

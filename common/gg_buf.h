/* gg_buf.h -- growable byte buffer with a hard size cap.
 *
 * A gg_buf owns its heap storage.  Every append either succeeds completely
 * or fails with -1 leaving the buffer unchanged; it fails when the result
 * would exceed `max` bytes (the cap set at init) or when allocation fails.
 * The content is always NUL-terminated (the NUL is not counted in len), so
 * `b->p` can be passed to string functions when the data is text.
 * Not thread-safe: callers serialise access.
 */
#ifndef GG_BUF_H
#define GG_BUF_H

#include <stddef.h>
#include <stdarg.h>

struct gg_buf {
    char *p;        /* data, NUL-terminated; NULL until the first append */
    size_t len;     /* bytes used */
    size_t cap;     /* bytes allocated (excluding the NUL slot) */
    size_t max;     /* hard cap on len */
};

void gg_buf_init(struct gg_buf *b, size_t max);
void gg_buf_free(struct gg_buf *b);              /* releases storage; b reusable after init */
void gg_buf_reset(struct gg_buf *b);             /* len = 0, keeps storage */
int gg_buf_reserve(struct gg_buf *b, size_t extra);
int gg_buf_add(struct gg_buf *b, const void *data, size_t n);
int gg_buf_adds(struct gg_buf *b, const char *s);
int gg_buf_addc(struct gg_buf *b, char c);
int gg_buf_printf(struct gg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int gg_buf_vprintf(struct gg_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Append s as a JSON string literal (with quotes), escaping as RFC 8259;
 * DEL and C1 controls (U+0080..U+009F) are escaped too (\u007f, \u0080..):
 * the output never carries a raw control character. */
int gg_buf_add_json_str(struct gg_buf *b, const char *s, size_t n);
/* Remove the first n bytes (n <= len). */
void gg_buf_consume(struct gg_buf *b, size_t n);
/* Hand the storage to the caller (malloc'd, NUL-terminated, may be NULL when
 * empty); the buffer is left empty. */
char *gg_buf_steal(struct gg_buf *b, size_t *len);

#endif

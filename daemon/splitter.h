/* splitter.h -- incremental splitter for widgetStreamAssist's streamed JSON
 * array ("[ {elem}, {elem} ... ]").
 *
 * Feed it the response body in chunks of any size (one byte at a time is
 * fine).  Every complete top-level object is handed to the callback as the
 * exact bytes of that object, which are always whole UTF-8 characters since
 * JSON structure bytes are ASCII.  The bytes (not NUL-terminated) are valid
 * during the callback only: they may point into the fed chunk.  Whitespace,
 * CR, LF and commas between elements are skipped; text before the opening
 * '[' is skipped (an XSSI prefix or BOM); a bare top-level object with no
 * array is accepted as a single element.
 *
 * split_feed() returns 0, SPLIT_ERR_SIZE when an element exceeds the cap,
 * SPLIT_ERR_SYNTAX on an unexpected byte between elements, or the
 * callback's non-zero return (which stops feeding).  After an error the
 * splitter must not be fed again.  split_finish() says whether the stream
 * ended cleanly (SPLIT_COMPLETE: the closing ']' or the end of a bare
 * object was seen) or was cut (SPLIT_TRUNCATED: EOF inside an element,
 * before ']' or before anything).  The splitter owns its element buffer;
 * release it with split_free().
 */
#ifndef SPLITTER_H
#define SPLITTER_H

#include <stdbool.h>
#include <stddef.h>

#include "gg_buf.h"

enum { SPLIT_ERR_SIZE = -2, SPLIT_ERR_SYNTAX = -3 };
enum { SPLIT_COMPLETE = 0, SPLIT_TRUNCATED = 1 };

typedef int (*split_cb)(void *ctx, const char *elem, size_t n);

struct splitter {
    int state;          /* internal */
    int depth;
    bool in_str, esc, bare;
    size_t elements;    /* elements emitted so far */
    struct gg_buf elem;
};

void split_init(struct splitter *s, size_t max_element);
int split_feed(struct splitter *s, const char *data, size_t n, split_cb cb, void *ctx);
int split_finish(const struct splitter *s);
void split_free(struct splitter *s);

#endif

/* splitter.c -- see splitter.h
 *
 * States: BEFORE (looking for '[' or a bare '{'), BETWEEN (inside the array,
 * between elements), IN (inside an element), DONE (after ']' or after a bare
 * object).  Inside an element only four bytes matter: '"', '\\', '{', '}'.
 * Plain runs inside strings and the bytes between structural ones are
 * skipped 16 or 8 bytes at a time (gg_scan.h); an element that lies whole in one chunk is
 * handed over in place, the others are gathered in the element buffer.
 */
#include "splitter.h"

#include <string.h>

#include "gg_scan.h"

enum { ST_BEFORE, ST_BETWEEN, ST_IN, ST_DONE };

void split_init(struct splitter *s, size_t max_element)
{
    memset(s, 0, sizeof(*s));
    s->state = ST_BEFORE;
    gg_buf_init(&s->elem, max_element);
}

void split_free(struct splitter *s)
{
    gg_buf_free(&s->elem);
}

int split_finish(const struct splitter *s)
{
    return s->state == ST_DONE ? SPLIT_COMPLETE : SPLIT_TRUNCATED;
}

/* Scan an element body from data[i]; returns the index just past the closing
 * brace of the element, or n when the element continues past this chunk. */
static size_t scan_elem(struct splitter *s, const char *data, size_t i, size_t n)
{
    int depth = s->depth;
    bool in_str = s->in_str, esc = s->esc;
    while (i < n) {
        char c = data[i];
        if (in_str) {
            if (esc) {
                esc = false;
                i++;
            } else if (c == '\\') {
                esc = true;
                i++;
            } else if (c == '"') {
                in_str = false;
                i++;
            } else {
                i = i + 1 + gg_scan_quote(data + i + 1, n - i - 1);
            }
            continue;
        }
        if (c == '"') {
            in_str = true;
            i = i + 1 + gg_scan_quote(data + i + 1, n - i - 1);
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0) {
                s->depth = 0;
                s->in_str = false;
                s->esc = false;
                return i + 1;
            }
        }
        i = i + 1 + gg_scan_struct(data + i + 1, n - i - 1);
    }
    s->depth = depth;
    s->in_str = in_str;
    s->esc = esc;
    return n;
}

static int feed(struct splitter *s, const char *data, size_t n, split_cb cb, void *ctx)
{
    size_t i = 0;
    while (i < n) {
        char c = data[i];
        switch (s->state) {
        case ST_BEFORE:
            if (c == '[') {
                s->state = ST_BETWEEN;
            } else if (c == '{') {
                s->bare = true;
                s->state = ST_IN;
                continue; /* re-read '{' in ST_IN */
            }
            i++;
            break;
        case ST_BETWEEN:
            if (c == '{') {
                s->state = ST_IN;
                continue;
            }
            if (c == ']') {
                s->state = ST_DONE;
            } else if (c != ',' && c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                return SPLIT_ERR_SYNTAX;
            }
            i++;
            break;
        case ST_IN: {
            size_t end = scan_elem(s, data, i, n);
            const char *el;
            size_t elen;
            if (s->depth == 0 && s->elem.len == 0 && end < n) {
                /* the whole element is in this chunk and a byte follows it
                 * (cJSON may look one byte past its length): handed over
                 * in place */
                el = data + i;
                elen = end - i;
                if (elen > s->elem.max)
                    return SPLIT_ERR_SIZE;
            } else {
                if (gg_buf_add(&s->elem, data + i, end - i) != 0)
                    return SPLIT_ERR_SIZE;
                el = s->elem.p;
                elen = s->elem.len;
            }
            i = end;
            if (s->depth == 0) { /* scan_elem stopped just past the closing brace */
                if (el[elen - 1] != '}')
                    return SPLIT_ERR_SYNTAX; /* "{...]": brackets do not match */
                s->elements++;
                int rc = cb(ctx, el, elen);
                gg_buf_reset(&s->elem);
                s->state = s->bare ? ST_DONE : ST_BETWEEN;
                if (rc != 0)
                    return rc;
            }
            break;
        }
        case ST_DONE:
        default:
            i = n; /* ignore trailing bytes */
            break;
        }
    }
    return 0;
}

int split_feed(struct splitter *s, const char *data, size_t n, split_cb cb, void *ctx)
{
    return feed(s, data, n, cb, ctx);
}

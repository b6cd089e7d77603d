/* gg_admin_sse.c -- the incremental server-sent-events parser
 * (gg_admin_client.h, layer 2): pure, no I/O.  Lines are capped by the
 * parser's max_line; an overlong line poisons it (gg_sse_feed returns -1
 * from then on).
 */
#include "gg_admin_client_internal.h"

#include <string.h>

/* ---- SSE parser ---------------------------------------------------------- */

void gg_sse_init(struct gg_sse_parser *p, size_t max_line)
{
    memset(p, 0, sizeof(*p));
    if (!max_line)
        max_line = SSE_LINE_MAX;
    gg_buf_init(&p->line, max_line);
    gg_buf_init(&p->event, 256);
    gg_buf_init(&p->data, max_line * 4);
}

void gg_sse_free(struct gg_sse_parser *p)
{
    gg_buf_free(&p->line);
    gg_buf_free(&p->event);
    gg_buf_free(&p->data);
}

/* Handle one complete line (without its terminator). */
static int sse_line(struct gg_sse_parser *p, const char *l, size_t n, gg_sse_cb cb, void *ctx)
{
    if (n == 0) {
        int rc = 0;
        if (p->have_data)
            rc = cb(ctx, p->event.len ? p->event.p : "message", p->data.p ? p->data.p : "",
                    p->data.len);
        gg_buf_reset(&p->event);
        gg_buf_reset(&p->data);
        p->have_data = false;
        return rc;
    }
    if (l[0] == ':')
        return 0;
    const char *colon = memchr(l, ':', n);
    size_t fn = colon ? (size_t)(colon - l) : n;
    const char *v = colon ? colon + 1 : l + n;
    size_t vn = colon ? n - fn - 1 : 0;
    if (vn > 0 && v[0] == ' ') {
        v++;
        vn--;
    }
    if (fn == 5 && memcmp(l, "event", 5) == 0) {
        gg_buf_reset(&p->event);
        if (gg_buf_add(&p->event, v, vn) < 0)
            return -1;
    } else if (fn == 4 && memcmp(l, "data", 4) == 0) {
        if (p->have_data && gg_buf_addc(&p->data, '\n') < 0)
            return -1;
        if (gg_buf_add(&p->data, v, vn) < 0)
            return -1;
        p->have_data = true;
    }
    /* "id", "retry" and unknown fields are ignored */
    return 0;
}

int gg_sse_feed(struct gg_sse_parser *p, const char *buf, size_t n, gg_sse_cb cb, void *ctx)
{
    size_t i = 0;
    if (p->broken)
        return -1;
    while (i < n) {
        if (p->skip_lf) {
            p->skip_lf = false;
            if (buf[i] == '\n') {
                i++;
                continue;
            }
        }
        size_t j = i;
        while (j < n && buf[j] != '\n' && buf[j] != '\r')
            j++;
        if (j == n) { /* partial line: keep it */
            if (gg_buf_add(&p->line, buf + i, n - i) < 0)
                goto broken;
            return 0;
        }
        int rc;
        if (p->line.len) {
            if (gg_buf_add(&p->line, buf + i, j - i) < 0)
                goto broken;
            rc = sse_line(p, p->line.p, p->line.len, cb, ctx);
            gg_buf_reset(&p->line);
        } else {
            rc = sse_line(p, buf + i, j - i, cb, ctx);
        }
        if (buf[j] == '\r')
            p->skip_lf = true;
        i = j + 1;
        if (rc < 0)
            goto broken;
        if (rc)
            return rc;
    }
    return 0;
broken:
    p->broken = true;
    return -1;
}

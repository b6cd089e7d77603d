/* xlate.h -- translate widgetStreamAssist elements into answer events.
 *
 * xlate_element() parses one element (exact JSON bytes from the splitter)
 * with cJSON and reports, in order, through the callbacks in struct
 * xlate_sink: text fragments (answer or thought), generated files, the
 * session path, the answer state, and in-band errors.  Thought routing:
 * `content.thought` true (or the string "true") is thinking; as a fallback
 * for unflagged thinking, a fragment that arrives before any answer text and
 * starts with one of the known thinking headings ("**Assessing the
 * Request**", "**Generating Response**", ...) is also treated as thinking.
 * Text containing "<ctrl46>" status lines (image generation) is reported
 * with those lines removed.
 *
 * The common text-only element (xfast.h) is handled without cJSON when the
 * fast path is on; the sink sees exactly the same calls either way.
 *
 * Returns 0, or -1 when the element is not valid JSON (the caller decides
 * whether that is fatal).  The sink's strings are only valid during the
 * callback.  No allocation survives the call.
 */
#ifndef XLATE_H
#define XLATE_H

#include <stdbool.h>
#include <stddef.h>

struct xlate_sink {
    void *ctx;
    void (*text)(void *ctx, const char *s, size_t n, bool thought);
    void (*file)(void *ctx, const char *file_id, const char *mime, const char *name);
    void (*session)(void *ctx, const char *session);
    /* state: "IN_PROGRESS" | "SUCCEEDED" | "FAILED" | "SKIPPED"; detail is
     * the skip reasons / policy text for SKIPPED, else NULL */
    void (*state)(void *ctx, const char *state, const char *detail);
    void (*error)(void *ctx, int code, const char *status, const char *message);
};

struct xlate {
    struct xlate_sink sink;
    bool answer_seen;      /* any non-thought text so far */
    size_t elements;
    bool fastpath;         /* try xfast.c first (set by xlate_init) */
};

/* Fast path switch, read by xlate_init(): default true; false (or the
 * environment variable XLATE_FASTPATH=0) makes every element go through
 * cJSON.  Tests and benchmarks set it before xlate_init(). */
extern bool xlate_fastpath;

void xlate_init(struct xlate *x, const struct xlate_sink *sink);
int xlate_element(struct xlate *x, const char *json, size_t n);
/* True when text begins with a known thinking heading (exposed for tests). */
bool xlate_is_thinking_heading(const char *s, size_t n);

#endif

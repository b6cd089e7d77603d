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
 * Both filters work on lines across fragment boundaries:
 *   - a "<ctrl46>" status line (image generation) is removed even when it
 *     arrives in pieces; only a line start that could still become
 *     "<ctrl46>" is held back (at most 8 bytes), and a status line ends at
 *     its newline, at a file / inlineData reply, at a change of the thought
 *     flag or at xlate_flush();
 *   - the heading fallback holds unflagged text before any answer while it
 *     could still be a thinking heading (at most one line, XL_HOLD bytes);
 *     a heading completed in a later fragment makes that fragment thought.
 * xlate_flush() releases what is held (call it when the stream ends).
 * `inlineData` replies go to the optional inline callback (xlate_set_inline);
 * `sar_seen` / `utoken_seen` tell a uToken-only body from an answer.
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

#define XL_HOLD 96

typedef void (*xlate_inline_fn)(void *ctx, const char *mime, const char *b64);

struct xlate {
    struct xlate_sink sink;
    xlate_inline_fn on_inline;
    bool answer_seen;      /* any non-thought text so far */
    bool sar_seen;         /* an element carried streamAssistResponse */
    bool utoken_seen;      /* an element carried uToken */
    size_t status_lines;   /* <ctrl46> lines removed (generation under way) */
    size_t elements;
    /* line filter state */
    bool at_line_start;    /* the next byte starts a line */
    bool dropping;         /* inside a <ctrl46> line */
    char drop_last;        /* last byte dropped */
    bool eat_nl;           /* a status line ended with its fragment: drop one leading newline */
    bool line_thought;     /* thought flag of the text being filtered */
    bool head_pending;     /* hold[] is a possible heading (unflagged) */
    char hold[XL_HOLD];    /* bytes held back at a line start */
    size_t hold_n;
    bool fastpath;         /* try xfast.c first (set by xlate_init) */
};

/* Fast path switch, read by xlate_init(): default true; false (or the
 * environment variable XLATE_FASTPATH=0) makes every element go through
 * cJSON.  Tests and benchmarks set it before xlate_init(). */
extern bool xlate_fastpath;

void xlate_init(struct xlate *x, const struct xlate_sink *sink);
void xlate_set_inline(struct xlate *x, xlate_inline_fn fn);
int xlate_element(struct xlate *x, const char *json, size_t n);
/* Release held text (end of stream). */
void xlate_flush(struct xlate *x);
/* True when text begins with a known thinking heading (exposed for tests). */
bool xlate_is_thinking_heading(const char *s, size_t n);

#endif

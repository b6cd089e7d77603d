/* gemini_int.h -- internal to the Gemini dialect (gemini.c encodes,
 * gemini_in.c parses). */
#ifndef GEMINI_INT_H
#define GEMINI_INT_H

#include <stdbool.h>

#include "exch.h"
#include "gg_buf.h"

struct cJSON;

/* A parsed GenerateContentRequest object (see gemini.h).  Same contract as
 * dialect->parse; `root` stays the caller's. */
int gem_parse_obj(const struct cJSON *root, const char *path_model, bool stream, struct exch_request *req,
                  struct exch_error *err);
int gem_parse(const struct exch_parse_in *in, struct exch_request *req, struct exch_error *err);
/* 400 INVALID_ARGUMENT with a printf message. */
int gem_invalid(struct exch_error *err, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- JSON mode (gemini_json.c) ----------------------------------------------
 * generationConfig.responseMimeType "application/json": the upstream has no
 * structured output, so the gateway asks for it in words and cleans the
 * answer.  Nothing validates the answer against the schema. */

/* exch_request.opts of a Gemini request (NULL when no option is set). */
struct gem_opts {
    bool json;                  /* responseMimeType application/json */
};

/* Append to the current turn's last user message an instruction to answer
 * with one JSON value only (matching `schema`, printed, when not NULL).
 * 0, or -1 with *err (no memory, 400 for a schema over 32 KiB). */
int gem_json_instruct(struct exch_request *req, const struct cJSON *schema, struct exch_error *err);
/* A whole answer without its markdown fence (the first fenced block's body
 * when there is one) and surrounding whitespace: out and n index into s. */
void gem_json_whole(const char *s, size_t len, const char **out, size_t *n);

/* The same while streaming: a leading "```<tag>\n" is dropped, a trailing
 * run of whitespace and backticks is held back until more text shows it is
 * not the closing fence.  No heap memory (lives in the dialect state). */
struct gem_json_filter {
    bool head_done;
    size_t n_hold;
    char hold[64];
};
/* Text of one answer delta in; what may be sent now is appended to `text`. */
void gem_json_feed(struct gem_json_filter *f, const char *s, size_t n, struct gg_buf *text);
/* End of the answer: what is still held and is not a fence, into `text`. */
void gem_json_end(struct gem_json_filter *f, struct gg_buf *text);

#endif

/* gemini_int.h -- internal to the Gemini dialect (gemini.c encodes,
 * gemini_in.c parses). */
#ifndef GEMINI_INT_H
#define GEMINI_INT_H

#include <stdbool.h>

#include "exch.h"

struct cJSON;

/* A parsed GenerateContentRequest object (see gemini.h).  Same contract as
 * dialect->parse; `root` stays the caller's. */
int gem_parse_obj(const struct cJSON *root, const char *path_model, bool stream, struct exch_request *req,
                  struct exch_error *err);
int gem_parse(const struct exch_parse_in *in, struct exch_request *req, struct exch_error *err);
/* 400 INVALID_ARGUMENT with a printf message. */
int gem_invalid(struct exch_error *err, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

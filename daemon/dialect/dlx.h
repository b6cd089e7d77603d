/* dlx.h -- small helpers shared by the Responses and Gemini dialects:
 * growing the message / tool-call / tool arrays of an exch_request,
 * attachments through the media module (media_decode for data: URLs and
 * bare base64, media_url_check for the http(s) SSRF policy), JSON type
 * names for error messages, and camelCase/snake_case field lookup (Google's
 * JSON accepts both spellings).
 *
 * Ownership: everything added is owned by the request and released by
 * exch_request_free().  Failure: functions returning int give 0, or -1 with
 * *err filled (400 for a client error, 500 for an allocation failure); the
 * request is left consistent (safe to free) either way.
 */
#ifndef DLX_H
#define DLX_H

#include <stdbool.h>
#include <stddef.h>

#include "exch.h"

struct cJSON;

const char *dlx_json_type(const struct cJSON *j);
/* 400 invalid_type "Invalid type for 'param': expected X, but got Y instead." */
int dlx_type_error(struct exch_error *err, const char *param, const char *expected, const struct cJSON *got);
int dlx_missing(struct exch_error *err, const char *param);
int dlx_oom(struct exch_error *err);
/* An integer in [lo, hi] (no float-cast UB). */
bool dlx_int_in(const struct cJSON *j, double lo, double hi);

/* obj[camel], else obj[snake_case(camel)]; NULL when neither (or obj is not
 * an object). */
const struct cJSON *dlx_get(const struct cJSON *obj, const char *camel);

/* A new message at the end of req->msgs (text "" allocated, rest zero). */
struct exch_message *dlx_push_msg(struct exch_request *req, enum exch_role role, struct exch_error *err);
/* Append s to m->text, with `sep` first when the text is not empty. */
int dlx_msg_append(struct exch_message *m, const char *s, size_t n, const char *sep, struct exch_error *err);
/* Append a tool call to an assistant message (strings copied). */
int dlx_push_call(struct exch_message *m, const char *id, const char *name, const char *args_json,
                  struct exch_error *err);
/* Append a declared tool (strings copied; desc / params_json may be NULL). */
int dlx_push_tool(struct exch_request *req, const char *name, const char *desc, const char *params_json,
                  struct exch_error *err);

/* Add an attachment of message mi, part pi.  `src` is a data: URL, an
 * http(s) URL (only when allow_http) or, with raw_b64, bare base64 typed by
 * `mime_hint` (and sniffing).  Parts of earlier turns (mi < first_new, so
 * first_new must be final) are only recorded; parts of the current turn are
 * decoded (size cap IMAGE_MAX_BYTES) or URL-checked (FETCH_ALLOW_PRIVATE)
 * now.  `param` names the part in error messages. */
int dlx_attach(struct exch_request *req, int mi, int pi, const char *param, const char *src, bool raw_b64,
               const char *mime_hint, const char *filename, bool is_file, bool allow_http,
               struct exch_error *err);

#endif

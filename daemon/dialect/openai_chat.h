/* openai_chat.h -- the OpenAI dialect: POST /v1/chat/completions and
 * POST /v1/images/generations as exch_dialect tables.
 *
 * dialect_openai_chat: request parsing and validation into an exch_request
 * (messages, content parts and attachments, stream / stream_options,
 * stop, max_tokens / max_completion_tokens, n, web_search_options), the
 * chat.completion body, chat.completion.chunk SSE frames (role-first delta,
 * `reasoning_content` deltas, the finish chunk, the include_usage chunk
 * only when asked, `data: [DONE]`), the in-stream error frame (no [DONE]
 * after it), `: ping` keep-alives and the {"error":{...}} envelope.
 *
 * dialect_openai_images: {prompt, model?, n?, response_format?, size?,
 * quality?, style?, user?} into a one-message request for an image model
 * (gemini-imagen unless a catalogue model is named; DALL-E / gpt-image names
 * map to gemini-imagen), answered with {"created","data":[{b64_json|url,
 * revised_prompt}]}.  Non-streamed only.
 *
 * Parsers never read past the body, never crash on any input (fuzz target)
 * and fill an exch_error on a client error.  Encoders only append to the
 * caller's capped buffer.
 *
 * Compatibility for http.c and older tests: struct oai_error, oai_set_error
 * and oai_error_json build OpenAI's envelope directly; oai_parse_chat parses
 * a body into an exch_request with an oai_error.
 */
#ifndef OPENAI_CHAT_H
#define OPENAI_CHAT_H

#include <stdbool.h>
#include <stddef.h>

#include "exch.h"
#include "gg_buf.h"

extern const struct exch_dialect dialect_openai_chat;
extern const struct exch_dialect dialect_openai_images;

struct oai_error {
    int status;             /* HTTP status */
    const char *type;       /* invalid_request_error, rate_limit_error, api_error */
    char param[64];         /* "" = null */
    const char *code;       /* NULL = null */
    char message[512];
    int retry_after;        /* seconds, 0 = none */
};

void oai_set_error(struct oai_error *e, int status, const char *type, const char *param,
                   const char *code, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* {"error":{...}} into out; 0 or -1 when out hit its cap. */
int oai_error_json(const struct oai_error *e, struct gg_buf *out);
/* The OpenAI view of a neutral error (type from kind). */
void oai_error_from_exch(const struct exch_error *x, struct oai_error *e);
/* dialect->error_body of both OpenAI tables. */
void oai_error_body(const struct exch_error *x, struct gg_buf *out);

int oai_parse_chat(const char *body, size_t n, struct exch_request *req, struct oai_error *err);
/* stream_options.include_usage of a parsed chat request. */
bool oai_include_usage(const struct exch_request *req);

/* Shared by the two OpenAI parsers (openai_chat.c, openai_images.c). */
struct cJSON;
int oai_type_error(struct exch_error *err, const char *param, const char *expected, const struct cJSON *got);
bool oai_json_int_in(const struct cJSON *j, double lo, double hi);
void oai_err(struct exch_error *e, int status, const char *param, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* openai_tools.c: tools, tool_choice, parallel_tool_calls of the body (0 or
 * -1 with *err); a message's tool_calls (assistant) or tool_call_id (tool);
 * ,"tool_calls":[...] of a result; the delta object of a TOOL_CALL event
 * (false: nothing to send). */
int oai_parse_tools(const struct cJSON *root, struct exch_request *req, struct exch_error *err);
int oai_parse_msg_tools(const struct cJSON *m, int i, struct exch_message *om, struct exch_error *err);
void oai_tool_calls_json(const struct exch_result *res, struct gg_buf *b);
bool oai_tool_delta(const struct exch_event *ev, struct gg_buf *b);

#endif

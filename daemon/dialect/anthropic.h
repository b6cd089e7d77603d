/* anthropic.h -- the Anthropic Messages dialect (POST /v1/messages and
 * POST /v1/messages/count_tokens) on the protocol-neutral exchange
 * (core/exch.h).
 *
 * Three sources, one module (prefix anth_):
 *   anthropic_req.c  request parsing: messages and content blocks,
 *                    attachments, system, the top level, count_tokens;
 *   anthropic_opts.c thinking, stop_sequences, tools, tool_choice, the
 *                    input-token estimate (anthropic_int.h: shared helpers);
 *   anthropic.c      the dialect table: SSE encoding (message_start,
 *                    content_block_start/_delta/_stop, message_delta,
 *                    message_stop, ping, error), the non-streaming
 *                    `message` body, the error envelope and status mapping.
 *
 * Parsing contract: anth_parse() (dialect_anthropic.parse) never reads past
 * in->len and never crashes on any input.  It returns 0 with *req filled, or
 * -1 with *err filled (status, kind, param as an Anthropic path such as
 * "messages.0.content.1.source.media_type", message "<path>: <reason>") and
 * *req released.  Current-turn attachments (after the last assistant
 * message) are decoded (base64) or policy-checked (url) here, with the same
 * media.h functions the OpenAI dialect uses; earlier-turn ones are counted.
 * req->opts is a struct anth_opts (released by dialect_anthropic.opts_free).
 *
 * Mapping (details and every field accepted but ignored: docs/API.md):
 *   system (string | text blocks)       -> one EXCH_SYSTEM message first
 *   user text / image / document        -> EXCH_USER (+ attachments)
 *   user tool_result                    -> EXCH_TOOL (tool_call_id, tool_error,
 *                                          name of the matching tool_use)
 *   assistant text / tool_use           -> EXCH_ASSISTANT (+ tool_calls)
 *   thinking {enabled|adaptive}         -> want_reasoning (unless THINKING=drop)
 *   tools: custom -> exch_tool; web_search_* -> grounding
 *   tool_choice auto|any|tool|none      -> AUTO|REQUIRED|NAMED|NONE,
 *   disable_parallel_tool_use           -> parallel_tool_calls = false
 *
 * Encoding: callbacks only append to `out` (see exch.h).  Generated files
 * reach the client as the markdown links the core adds to the answer text
 * ("![image](url)", dialect_anthropic.images is false); EXCH_EV_FILE is
 * ignored so that they are not sent twice.
 * Citations are not emitted.  Thinking blocks carry an opaque, non-empty
 * signature ("gemgate." + message id) that is ignored when sent back.
 * The message id is "msg_" + the exchange id's alphanumerics.
 */
#ifndef ANTHROPIC_H
#define ANTHROPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/exch.h"

extern const struct exch_dialect dialect_anthropic;

/* Dialect-private options (exch_request.opts). */
struct anth_opts {
    int64_t input_tokens;       /* estimate of the whole request (system, history, tools) */
    int64_t thinking_budget;    /* thinking.budget_tokens, 0 = none */
};

/* dialect_anthropic.parse and .opts_free */
int anth_parse(const struct exch_parse_in *in, struct exch_request *req, struct exch_error *err);
void anth_opts_free(void *opts);

/* POST /v1/messages/count_tokens: the same validation as a messages request
 * except that max_tokens is optional; *tokens (> 0) is the estimate that
 * message_start / usage.input_tokens would report.  The body to send is
 * {"input_tokens":N}.  0, or -1 with *err filled. */
int anth_count_tokens(const struct exch_parse_in *in, int64_t *tokens, struct exch_error *err);

/* The HTTP status to send for an error: e->status, except 529 for
 * EXCH_ERR_OVERLOADED (Anthropic's overloaded_error).  The core should use
 * this instead of e->status for this dialect. */
int anth_http_status(const struct exch_error *e);

/* The Anthropic envelope for a refusal made before the handler runs (auth,
 * body limit, 415, rate limit: http.c), by status; fits http_error_body_fn
 * for the route table. */
void anth_route_error(int status, const char *code, const char *msg, struct gg_buf *out);

/* GET /v1/models in Anthropic's shape (for a client that sends
 * anthropic-version): {"data":[ModelInfo...],"has_more":false,"first_id",
 * "last_id"}, ModelInfo = {"type":"model","id","display_name","created_at"}. */
void anth_models_json(const char *const *ids, size_t n, struct gg_buf *out);
void anth_model_json(const char *id, struct gg_buf *out);

/* The error `type` string for an error kind ("invalid_request_error", ...). */
const char *anth_error_type(enum exch_err_kind kind);

#endif

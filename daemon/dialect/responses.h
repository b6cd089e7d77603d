/* responses.h -- the OpenAI Responses dialect (POST /v1/responses) as an
 * exch_dialect table.
 *
 * Request: `input` as a string or items (`message` with roles user /
 * assistant / system / developer and parts input_text, output_text,
 * refusal, input_image, input_file; `function_call` items become the tool
 * calls of an assistant message, `function_call_output` items EXCH_TOOL
 * messages; `reasoning` items of earlier turns are dropped), `instructions`
 * (a system message first), `max_output_tokens`, `reasoning` (summary set ->
 * reasoning returned), `tools` (function tools; web_search* -> grounding;
 * other hosted tool types ignored), `tool_choice`, `parallel_tool_calls`,
 * `stream`, `store`, `previous_response_id`, `metadata`, and the echoed
 * settings temperature / top_p / user / truncation / text.
 *
 * Streaming: `event: <type>` + `data: {type, sequence_number, ...}` frames,
 * sequence numbers from 0 without gaps: response.created,
 * response.in_progress, then per output item output_item.added ->
 * (reasoning: reasoning_summary_part.added, reasoning_summary_text.delta...,
 * .done, part.done | message: content_part.added, output_text.delta...,
 * output_text.done, content_part.done | function_call:
 * function_call_arguments.delta..., .done) -> output_item.done, and finally
 * response.completed (or response.incomplete when max_output_tokens cut the
 * answer) with the whole response and usage.  A failure is response.failed
 * (status "failed" + error), preceded by response.created when nothing was
 * sent yet.  Keep-alive: an SSE comment.
 *
 * The text of the open item is kept in the request's options (released by
 * opts_free with the request), so an exchange that ends with neither
 * finish() nor fail() -- a client that disconnected -- leaks nothing.
 */
#ifndef RESPONSES_H
#define RESPONSES_H

#include <stdbool.h>
#include <stddef.h>

#include "exch.h"
#include "gg_buf.h"

extern const struct exch_dialect dialect_responses;

/* Hooks for the core (stored responses, previous_response_id). */

/* previous_response_id of a parsed request, or NULL. */
const char *responses_previous_id(const struct exch_request *req);
/* `store` of a parsed request (default true). */
bool responses_store(const struct exch_request *req);
/* The response id of an exchange: "resp_" + the exchange id (kept as is
 * when the id already starts with "resp_"), characters outside
 * [A-Za-z0-9_-] dropped. */
void responses_id(const struct exch_ctx *x, char *out, size_t n);
/* The whole response object (what a non-streamed call returns and what
 * GET /v1/responses/{id} returns later). */
void responses_object(const struct exch_ctx *x, const struct exch_result *res, struct gg_buf *out);
/* DELETE /v1/responses/{id}: {"id","object":"response","deleted":true}. */
void responses_deleted_body(const char *id, struct gg_buf *out);
/* An unknown / expired / other key's previous_response_id: 400
 * previous_response_not_found with `param`; GET / DELETE of an unknown id
 * (param NULL): 404. */
void responses_not_found(const char *id, const char *param, struct exch_error *err);

#endif

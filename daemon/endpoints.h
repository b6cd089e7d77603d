/* endpoints.h -- the HTTP entry points of the non-OpenAI dialects: thin
 * handlers that hand a request to the generic exchange (core/exch_http.h)
 * with the right dialect table, plus the few bodyless or non-exchange
 * routes each dialect has (count_tokens, stored results, model lists).
 * The route table (routes.c) points at these; nothing here knows MHD beyond
 * the handler signature.
 *
 *   ep_messages          POST /v1/messages (?beta=true)           Anthropic
 *   ep_count_tokens      POST /v1/messages/count_tokens           Anthropic
 *   ep_responses         POST /v1/responses                       OpenAI Responses
 *   ep_response_item     GET|DELETE /v1/responses/{id}            OpenAI Responses
 *   ep_gemini            /v1beta/models[/{m}[:method]]            Gemini
 *   ep_completed         completion hook for every exchange route
 *
 * Handlers follow http.h's contract: MHD_YES after queueing a reply or
 * suspending, MHD_NO to drop the connection (allocation failure).
 */
#ifndef ENDPOINTS_H
#define ENDPOINTS_H

#include <microhttpd.h>

struct http_req;

enum MHD_Result ep_messages(struct http_req *r);
enum MHD_Result ep_count_tokens(struct http_req *r);
enum MHD_Result ep_responses(struct http_req *r);
enum MHD_Result ep_response_item(struct http_req *r);
enum MHD_Result ep_gemini(struct http_req *r);
void ep_completed(struct http_req *r, enum MHD_RequestTerminationCode toe);

#endif

/* chat.h -- the OpenAI routes: POST /v1/chat/completions (streamed or
 * not) and POST /v1/images/generations run the generic exchange
 * (core/exch_http.h) with the OpenAI dialect tables (dialect/openai_chat.h);
 * GET /v1/models[/{id}] lists the catalogue.  chat_handle() / chat_images()
 * are called when the request body is complete and again each time the
 * suspended connection is resumed; chat_completed() runs from MHD's
 * request-completed callback (cancel, log line, request log, metrics).
 * chat_auth() checks the API key and queues OpenAI's 401 on failure.
 * Failure contract: handlers return MHD_YES after queueing or suspending,
 * MHD_NO to drop the connection (allocation failure). */
#ifndef CHAT_H
#define CHAT_H

#include <microhttpd.h>

struct http_req;

enum MHD_Result chat_handle(struct http_req *r);
enum MHD_Result chat_images(struct http_req *r);
enum MHD_Result chat_models(struct http_req *r);
void chat_completed(struct http_req *r, enum MHD_RequestTerminationCode toe);
/* Check the OpenAI API key; on failure queues the 401 and returns false. */
int chat_auth(struct http_req *r, char key_id[24]);

#endif

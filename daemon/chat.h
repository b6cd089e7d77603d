/* chat.h -- the OpenAI endpoints: POST /v1/chat/completions (streamed or
 * not), POST /v1/images/generations (a non-streamed exchange with an image
 * model whose generated files come back as b64_json or /images/ URLs) and
 * GET /v1/models[/{id}].  chat_handle() is called when the request
 * body is complete and again each time the suspended connection is resumed
 * by the upstream thread; chat_completed() runs from MHD's
 * request-completed callback, cancels an unfinished upstream exchange, logs
 * the request line and records it for the admin feed and metrics. */
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

/* media_serve.h -- GET /images/<token>.<ext>: generated files kept by
 * media_store_put() (IMAGE_OUTPUT=url), served through http_reply_media
 * (allow-listed types only, nosniff, a sandbox CSP) with a Cache-Control
 * that ends with the file's lifetime; 404 when unknown or expired.  Follows
 * http.h's handler contract. */
#ifndef MEDIA_SERVE_H
#define MEDIA_SERVE_H

#include <microhttpd.h>

struct http_req;

enum MHD_Result media_serve(struct http_req *r);

#endif

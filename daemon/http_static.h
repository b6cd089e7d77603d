/* http_static.h -- the web console's files under /admin/ (part of http):
 * found once at start (WEB_DIR, next to the binary, the build tree, or
 * ./web/dist), served with a Content-Security-Policy that forbids framing
 * (frame-ancestors 'none' and X-Frame-Options DENY) and nosniff. */
#ifndef HTTP_STATIC_H
#define HTTP_STATIC_H

#include "http.h"

void http_static_init(void);
enum MHD_Result http_static_serve(struct http_req *r);   /* GET/HEAD /admin[/...] */
void http_static_headers(struct MHD_Response *resp);   /* CSP, frame and sniffing headers */

#endif

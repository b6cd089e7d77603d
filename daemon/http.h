/* http.h -- the HTTP front: libmicrohttpd in epoll thread-pool mode with
 * suspend/resume, request routing, and small reply helpers in the spirit of
 * Taler's MHD helpers.
 *
 * Every request gets a struct http_req (MHD's con_cls), freed by the
 * request-completed callback.  Handlers return MHD_YES after queueing a
 * response (or after suspending the connection) and MHD_NO to drop the
 * connection.  Reply helpers add x-request-id and CORS headers and never
 * fail silently: on allocation failure they return MHD_NO.
 */
#ifndef HTTP_H
#define HTTP_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "gg_buf.h"

struct call;
struct cJSON;
struct oai_error;

struct http_req {
    char request_id[40];
    struct MHD_Connection *conn;
    const char *method;
    char *url;
    struct gg_buf body;
    bool too_large;
    bool body_done;
    int64_t t_start_us;
    int status;                    /* last status queued */
    struct call *call;             /* chat / test exchanges */
    int route;                     /* handler id, see http.c */
    void *state;                   /* handler-owned */
    void (*state_free)(void *);
    char client_ip[64];
};

int http_start(void);              /* 0 or -1 (message logged) */
void http_quiesce(void);           /* stop accepting new connections */
void http_stop(void);
uint16_t http_port(void);
int http_connections(void);

enum MHD_Result http_reply(struct http_req *r, int status, const char *ctype, const void *data, size_t n);
enum MHD_Result http_reply_json(struct http_req *r, int status, const char *json, size_t n);
enum MHD_Result http_reply_cjson(struct http_req *r, int status, struct cJSON *j); /* frees j */
enum MHD_Result http_reply_oai_error(struct http_req *r, const struct oai_error *e);
void http_add_common_headers(struct http_req *r, struct MHD_Response *resp);
const char *http_header(struct http_req *r, const char *name);
const char *http_query(struct http_req *r, const char *name);
/* Bearer token from Authorization, or x-api-key / x-admin-key (alt). */
const char *http_bearer(struct http_req *r, const char *alt_header);

#endif

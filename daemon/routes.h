/* routes.h -- the gateway's route table: which handler serves which path,
 * with its auth kind, body limit and error envelope (see struct http_route
 * in http.h).  This module is the one place that knows every handler; http
 * knows none of them.  A dialect adds its routes here and may supply its
 * own error envelope function.
 *
 * Envelopes for early refusals (http.c, before the handler runs):
 *   routes_oai_error   {"error":{"message","type","param":null,"code"}}
 *   routes_admin_error {"error":{"code","message"}}
 */
#ifndef ROUTES_H
#define ROUTES_H

#include <stddef.h>

#include "http.h"

const struct http_route *routes_table(size_t *n);
void routes_oai_error(int status, const char *code, const char *msg, struct gg_buf *out);
void routes_admin_error(int status, const char *code, const char *msg, struct gg_buf *out);

#endif

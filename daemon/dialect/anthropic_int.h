/* anthropic_int.h -- internal to the Anthropic dialect (anthropic_req.c,
 * anthropic_opts.c): the parse context and the validation helpers shared by
 * the two request sources.  Not for other modules.
 *
 * Every helper that reports a client error fills p->err (400
 * invalid_request_error, message "<path>: <reason>") and returns -1. */
#ifndef ANTHROPIC_INT_H
#define ANTHROPIC_INT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "dialect/anthropic.h"

struct anth_pctx {
    struct exch_request *req;
    struct exch_error *err;
    size_t cap_msgs;        /* allocated entries of req->msgs */
    int last_asst;          /* index (client's array) of the last assistant message, -1 none */
};

int anth_bad(struct anth_pctx *p, const char *param, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "Field required" when got is NULL, else "Input should be <what> (got <type>)" */
int anth_want(struct anth_pctx *p, const char *param, const char *what, const cJSON *got);
int anth_oom(struct anth_pctx *p);                          /* 500 api_error */
const cJSON *anth_get(const cJSON *o, const char *k);       /* case-sensitive member or NULL */
bool anth_present(const cJSON *j);                          /* there and not null */
bool anth_int_in(const cJSON *j, double lo, double hi);     /* an integer in [lo, hi] */
/* o[k] as a string into *out (borrowed; NULL when absent and optional). */
int anth_str_field(struct anth_pctx *p, const cJSON *o, const char *k, const char *path, bool required,
                   const char **out);

/* Top-level options (anthropic_opts.c); each 0 or -1 with p->err. */
int anth_number_in(struct anth_pctx *p, const cJSON *root, const char *k, double lo, double hi, bool integer);
int anth_parse_stops(struct anth_pctx *p, const cJSON *ss);
int anth_parse_thinking(struct anth_pctx *p, const cJSON *th, struct anth_opts *o);
int anth_parse_tools(struct anth_pctx *p, const cJSON *tools);
int anth_parse_tool_choice(struct anth_pctx *p, const cJSON *tc);   /* after tools */
/* The input-token estimate of a parsed request (> 0). */
int64_t anth_input_tokens(const struct exch_request *r);

#endif

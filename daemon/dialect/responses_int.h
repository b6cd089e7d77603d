/* responses_int.h -- internal to the Responses dialect (responses.c encodes,
 * responses_in.c parses): the dialect-private options of a parsed request,
 * released by resp_opts_free. */
#ifndef RESPONSES_INT_H
#define RESPONSES_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "exch.h"
#include "gg_buf.h"

struct resp_opts {
    char *previous_response_id;     /* or NULL */
    bool store;                     /* default true */
    /* echoed in the response object as given (compact JSON text, or NULL
     * for the API's default) */
    char *instructions;             /* JSON string literal */
    char *metadata;
    char *tools;
    char *tool_choice;
    char *text;
    char *temperature, *top_p;
    char *user;                     /* JSON string literal */
    char *truncation;               /* JSON string literal */
    char *effort;                   /* reasoning.effort, JSON */
    char *summary;                  /* reasoning.summary, JSON */
    int64_t max_output_tokens;      /* 0 = null */
    /* streaming: the text of the open item (responses.c); here rather than
     * in the dialect state so that resp_opts_free releases it whatever
     * happened to the stream */
    struct gg_buf acc;
};

int resp_parse(const struct exch_parse_in *in, struct exch_request *req, struct exch_error *err);
void resp_opts_free(void *opts);
/* continue_result hook: the names of function_call_output items that give
 * only a call_id, from the continued response's function_call items. */
void responses_continued(struct exch_request *req, const char *body, size_t len);

#endif

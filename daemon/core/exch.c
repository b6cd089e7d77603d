/* exch.c -- see exch.h: request release and the neutral error. */
#include "exch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void tool_call_free(struct exch_tool_call *t)
{
    free(t->id);
    free(t->name);
    free(t->args_json);
}

void exch_request_free(struct exch_request *req)
{
    free(req->model_req);
    for (size_t i = 0; i < req->n_msgs; i++) {
        struct exch_message *m = &req->msgs[i];
        free(m->text);
        free(m->name);
        for (size_t k = 0; k < m->n_tool_calls; k++)
            tool_call_free(&m->tool_calls[k]);
        free(m->tool_calls);
        free(m->tool_call_id);
    }
    free(req->msgs);
    for (size_t i = 0; i < req->n_att; i++) {
        free(req->att[i].data);
        free(req->att[i].url);
        free(req->att[i].mime);
        free(req->att[i].filename);
    }
    free(req->att);
    for (int i = 0; i < EXCH_MAX_STOP; i++)
        free(req->stop[i]);
    for (size_t i = 0; i < req->n_tools; i++) {
        free(req->tools[i].name);
        free(req->tools[i].description);
        free(req->tools[i].params_json);
    }
    free(req->tools);
    free(req->tool_choice_name);
    /* opts belong to the dialect (dialect->opts_free) */
    memset(req, 0, sizeof(*req));
}

void exch_set_error(struct exch_error *e, int status, enum exch_err_kind kind, const char *param,
                    const char *code, const char *fmt, ...)
{
    e->status = status;
    e->kind = kind;
    snprintf(e->param, sizeof(e->param), "%s", param ? param : "");
    e->code = code;
    e->retry_after = 0;
    e->retryable = exch_status_retryable(status);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
}

enum exch_err_kind exch_kind_of_status(int status)
{
    switch (status) {
    case 401: return EXCH_ERR_AUTH;
    case 403: return EXCH_ERR_PERMISSION;
    case 404: return EXCH_ERR_NOT_FOUND;
    case 413: return EXCH_ERR_TOO_LARGE;
    case 429: return EXCH_ERR_RATE_LIMIT;
    case 502: return EXCH_ERR_UPSTREAM;
    case 503: return EXCH_ERR_OVERLOADED;
    case 504: return EXCH_ERR_TIMEOUT;
    default: return status >= 500 ? EXCH_ERR_SERVER : EXCH_ERR_INVALID;
    }
}

bool exch_status_retryable(int status)
{
    return status == 408 || status == 429 || status >= 500;
}

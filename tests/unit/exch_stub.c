/* exch_stub.c -- exch_request_free / exch_set_error for the dialect unit
 * tests, used only while daemon/core/exch.c does not exist yet (the core
 * branch provides the real ones; tests/unit/CMakeLists.txt picks). */
#include "exch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void exch_request_free(struct exch_request *req)
{
    free(req->model_req);
    for (size_t i = 0; i < req->n_msgs; i++) {
        struct exch_message *m = &req->msgs[i];
        free(m->text);
        free(m->name);
        for (size_t k = 0; k < m->n_tool_calls; k++) {
            free(m->tool_calls[k].id);
            free(m->tool_calls[k].name);
            free(m->tool_calls[k].args_json);
        }
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
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
}

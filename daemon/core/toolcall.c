/* toolcall.c -- see toolcall.h */
#include "toolcall.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "call.h"
#include "flatten.h"
#include "gg_util.h"

static atomic_ullong n_requests, n_calls, n_replies_with_calls, n_errors, n_retries, n_giveups;
static atomic_ullong n_repairs[TOOLS_REP_COUNT];

void toolcall_marker(const char *session, char out[TOOLS_MARKER_LEN + 1])
{
    char buf[600], hex[65];
    int n = snprintf(buf, sizeof(buf), "gemgate-tools\n%s", session ? session : "");
    gg_sha256_hex(buf, n > 0 && (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1, hex);
    memcpy(out, hex, TOOLS_MARKER_LEN);
    out[TOOLS_MARKER_LEN] = '\0';
}

int toolcall_prepare(struct call *c)
{
    if (c->tools_init)
        return 0;
    c->tools_init = true;
    const struct exch_request *r = &c->req;
    if (c->kind != CALL_CHAT || r->n_tools == 0 || r->tool_choice == EXCH_TOOLS_NONE)
        return 0;
    if (tools_spec_init(&c->tspec, r->tools, r->n_tools, r->tool_choice, r->tool_choice_name,
                        r->parallel_tool_calls, NULL) != 0)
        return -1;
    c->tools_on = true;
    atomic_fetch_add(&n_requests, 1);
    return 0;
}

int toolcall_query(struct call *c, struct gg_buf *q)
{
    if (c->kind == CALL_TEST)
        return gg_buf_adds(q, "Reply with exactly one word: pong");
    if (toolcall_prepare(c) != 0)
        return -1;
    const struct tools_spec *spec = NULL;
    if (c->tools_on) {
        toolcall_marker(c->session_name, c->tspec.marker);
        spec = &c->tspec;
        if (c->tool_fixing && c->continuing) {
            c->tool_fixing = false;
            return tools_render_correction(spec, c->tool_error, q);
        }
    }
    c->tool_fixing = false;     /* a new session: the whole question again */
    if (c->continuing)
        return exch_flatten_tools(&c->req, c->req.first_new, false, spec, q);
    return exch_flatten_tools(&c->req, 0, true, spec, q);
}

void toolcall_count_result(const struct tools_result *res)
{
    if (res->n_calls) {
        atomic_fetch_add(&n_calls, res->n_calls);
        atomic_fetch_add(&n_replies_with_calls, 1);
    }
    if (res->n_errors)
        atomic_fetch_add(&n_errors, 1);
    for (int i = 0; i < TOOLS_REP_COUNT; i++)
        if (res->repairs & (1u << i))
            atomic_fetch_add(&n_repairs[i], 1);
}

void toolcall_count_retry(void)
{
    atomic_fetch_add(&n_retries, 1);
}

void toolcall_count_giveup(void)
{
    atomic_fetch_add(&n_giveups, 1);
}

static void counter(struct gg_buf *b, const char *name, const char *help, unsigned long long v)
{
    gg_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, v);
}

void toolcall_metrics(struct gg_buf *b)
{
    counter(b, "gemgate_tool_requests_total", "Exchanges that offered tools upstream (tool_choice not none).",
            atomic_load(&n_requests));
    counter(b, "gemgate_tool_calls_total", "Tool calls returned to clients.", atomic_load(&n_calls));
    counter(b, "gemgate_tool_call_replies_total", "Model replies that contained valid tool calls.",
            atomic_load(&n_replies_with_calls));
    counter(b, "gemgate_tool_invalid_replies_total",
            "Model replies with an invalid or unparseable call or a tool_choice violation.", atomic_load(&n_errors));
    counter(b, "gemgate_tool_retries_total", "Corrective retries sent on the same upstream session.",
            atomic_load(&n_retries));
    counter(b, "gemgate_tool_giveups_total", "Exchanges that ended in tool_call_invalid after the retries.",
            atomic_load(&n_giveups));
    gg_buf_adds(b, "# HELP gemgate_tool_repairs_total Model replies whose calls needed a repair, by repair.\n"
                   "# TYPE gemgate_tool_repairs_total counter\n");
    for (int i = 0; i < TOOLS_REP_COUNT; i++)
        gg_buf_printf(b, "gemgate_tool_repairs_total{repair=\"%s\"} %llu\n", tools_repair_name(1u << i),
                      atomic_load(&n_repairs[i]));
}

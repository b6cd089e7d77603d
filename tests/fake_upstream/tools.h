/*
 * tools.h - the fake's side of gemgate's emulated tool calling
 * (docs/TOOLS.md): when the query carries the gateway's tool prompt (a
 * `<tool_call marker="XXXXXXXX">` block), answer in that format.
 */
#ifndef FU_TOOLS_H
#define FU_TOOLS_H

#include <stddef.h>

struct fx;
struct session;

/* The answer text for a query in tool mode, malloc'ed, or NULL when the
 * query has no tool prompt (or correction) in it or no plan applies (the
 * default echo answers then).  May update the
 * session's remembered plan (s->tool_plan). See README.md "Tool mode". */
char *tools_answer(struct session *s, const struct fx *fx, const char *q,
                   size_t n);

#endif

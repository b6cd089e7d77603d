/* toolcall.h -- emulated tool calling wired into one exchange: whether a
 * call offers tools, the per-session marker, the upstream query of each
 * attempt (history with the tool contract, or the corrective message) and
 * the tool counters of /metrics.  The answer side (stream detector, calls
 * as events, the corrective retry decision) is in answer.c; the format and
 * the policy are in docs/TOOLS.md.
 *
 * Marker: derived, not stored: the first 8 hex digits of SHA-256 of
 * "gemgate-tools" and the upstream session name.  It is therefore the same
 * for every turn that continues that session (and after a gateway restart,
 * sessions being persisted), and new for a new session (failover), whose
 * query carries the whole history again, rendered with the new marker.
 * The session name never reaches the client, so the marker is not known
 * to anything the model quotes.
 *
 * Thread: the upstream thread (toolcall_query, toolcall_count_*); counters
 * are atomic, toolcall_metrics runs on the scrape thread.
 * Failure: toolcall_query returns 0, or -1 when the query hits its cap or an
 * allocation fails (the caller answers 413 / 500 as for plain history).
 */
#ifndef TOOLCALL_H
#define TOOLCALL_H

#include <stddef.h>

#include "gg_buf.h"
#include "tools.h"

struct call;

/* Decide once per call: tools offered (n_tools > 0 and tool_choice is not
 * none) -> c->tools_on and c->tspec.  -1 on allocation failure. */
int toolcall_prepare(struct call *c);
/* The query of this attempt: CALL_TEST's probe, the correction (after an
 * invalid call, on the same session), or the flattened history (all of it
 * on a new session, the new messages on a continuing one) with the tools. */
int toolcall_query(struct call *c, struct gg_buf *q);
void toolcall_marker(const char *session, char out[TOOLS_MARKER_LEN + 1]);

void toolcall_count_result(const struct tools_result *res);
void toolcall_count_retry(void);
void toolcall_count_giveup(void);
/* metrics_register_text renderer: gemgate_tool_* families. */
void toolcall_metrics(struct gg_buf *b);

#endif

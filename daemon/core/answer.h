/* answer.h -- the answer of one exchange: neutral events from the upstream
 * side in, the dialect's bytes out (struct call's output buffer), with stop
 * sequences and max_tokens applied once here for every dialect.
 *
 * The upstream state machine reports what the model said (answer_text,
 * answer_reasoning), generated files once they are downloaded
 * (answer_files) and the end (answer_finish or answer_fail); this module
 * decides what the client sees: reasoning only when req.want_reasoning,
 * text through the limits, streamed events through dialect->begin/event
 * (begin once, before the first event), a whole body through
 * dialect->finish otherwise, the error as an HTTP status before the first
 * byte or as dialect->fail's frame after it.  CALL_TEST calls (no dialect)
 * only keep the answer text.
 *
 * Thread: the upstream thread only; the shared part of the call (out,
 * phase, flags) is written under c->mu and the HTTP side is woken.
 * Failure: nothing here returns an error.  Before calling a dialect the
 * core bounds the JSON size of what it hands over: an event that could not
 * fit the 64 MiB output closes the connection hard (call aborted), a final
 * answer that could not fit becomes a 502 response_too_large.  An output
 * append that still hits the buffer's cap marks the call aborted.
 */
#ifndef ANSWER_H
#define ANSWER_H

#include <stdbool.h>
#include <stddef.h>

#include "exch.h"

struct call;

void answer_reset(struct call *c);                              /* a new attempt */
void answer_reasoning(struct call *c, const char *s, size_t n);
void answer_text(struct call *c, const char *s, size_t n);      /* through the limits */
bool answer_complete(const struct call *c);                     /* a limit ended the answer */
/* Generated files (c->gen) are settled: their links / data: URLs, FILE
 * events and, unless the dialect is an images endpoint, markdown image
 * links appended to the answer. */
void answer_files(struct call *c);
void answer_ping(struct call *c);                               /* keep-alive (commits the stream) */
void answer_usage(struct call *c);                              /* token estimates into the call */
/* Tools offered (c->tools_on): the end of the answer text.  Flushes the
 * limits and the call detector (streaming) or parses the whole answer,
 * counts the result, and decides: 0 = settled (c->tres holds the calls,
 * c->answer the text without them: what the conversation key and
 * answer_finish use), 1 = invalid call and a corrective retry is allowed
 * (c->tool_error names the problem; the caller sends the correction on the
 * same session), -1 = retries used up: the call was failed here (502
 * tool_call_invalid).  Without tools: 0 and nothing done. */
int answer_tools_settle(struct call *c);
/* With settled calls the finish becomes EXCH_FIN_TOOL_CALLS, the calls go
 * out as TOOL_CALL_BEGIN/ARGS/END events (streaming; the arguments as one
 * ARGS piece) before the end, and in exch_result.calls. */
void answer_finish(struct call *c, enum exch_finish fin);
/* `log_kind` is the error class for logs and metrics ("upstream", ...). */
void answer_fail(struct call *c, const struct exch_error *e, const char *log_kind);
void answer_cleanup(void);                                      /* at upstream shutdown */
/* Batched client wake-ups (issue 14): while c is held (answer_hold, by
 * the upstream loop's element callback) the answer's events are appended
 * without resuming c's HTTP connection, except the response's first bytes,
 * which are pushed at once; answer_release_held, which the loop calls
 * after every curl_multi_socket_action (one upstream socket read, however
 * many write callbacks it made) and after unpausing a transfer (libcurl
 * may deliver kept data there), resumes it once when anything was
 * appended.  One call is held per upstream thread: holding another
 * releases the previous one; answer_release(c) releases c if it is the one
 * held (the end of a call, before its last reference goes).  The end of
 * the answer (answer_finish, answer_fail, an abort) wakes at once. */
void answer_hold(struct call *c);
void answer_release(struct call *c);
void answer_release_held(void);

#endif

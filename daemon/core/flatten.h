/* flatten.h -- what every dialect's history becomes upstream, and the key
 * that finds the conversation again.  Pure functions over an exch_request;
 * thread-safe; no allocation survives a call.
 *
 * exch_flatten() appends messages [from, n_msgs) as one upstream query text
 * (docs/PROTOCOL.md "history"): a lone user message with no system message
 * goes as-is; otherwise "System:/User:/Assistant:/Tool result" blocks
 * separated by blank lines, attachments as "[image]" markers.  Returns 0, or
 * -1 when `out` hits its cap.
 *
 * exch_conv_key() hashes the client's key id and messages [0, upto) (role +
 * trimmed text) into 64 hex chars + NUL: SHA-256 over the key id and each
 * message's role, text and tool-call names; a trimmed text above 1 KiB
 * goes in as its 16-byte uhash (uhash.h) instead of itself, so that a long
 * answer costs a fifth of the hashing.  `extra_answer`, when non-NULL, is
 * hashed as one more assistant message (the answer just produced), so the
 * key stored after a turn equals the key of the next turn's history.
 * Tool calls of a message (and `calls` of the answer, exch_conv_key_calls)
 * are hashed by name after its text, so a turn that ended in calls is found
 * again when the client sends it back with the results; a message without
 * calls hashes as before.
 *
 * exch_convhash_*: the same key as exch_conv_key_calls(key_id, req, upto,
 * answer, len, calls, n) built while the answer grows, so that no pass over
 * a long answer is left for its end.  begin() hashes the key id and the
 * messages (again on a new attempt: the state is reused); feed() takes the
 * whole answer so far (a prefix-extension of what it saw before) and
 * hashes the new bytes, holding back a trailing whitespace run (the key
 * hashes trimmed text) until more non-space text follows; final() takes
 * the whole answer again (it reads the bytes not hashed yet: the trimmed
 * text of a short answer, the last partial block of a long one), writes
 * the key and ends the state, or returns false (nothing written) when the
 * state does not cover exactly that answer (not begun, another `upto`, a
 * length it did not see, no memory): the caller then uses
 * exch_conv_key_calls.  free() releases the digest context (idempotent;
 * a zeroed struct is a valid, not-begun state).  Not thread-safe per state.
 *
 * exch_flatten_tools() is exch_flatten() with the emulated tools of
 * docs/TOOLS.md: with a spec (NULL, or tool_choice none: plain flattening)
 * the tool instructions (tools_render_prompt) go after the system text,
 * earlier calls and tool results are written in the call format
 * (tools_render_call / tools_render_result; a result without a name takes
 * the name of the call it answers) and tools_render_reminder ends the
 * query.  Without a spec, earlier calls are kept as "[called tool
 * NAME(ARGS)]" text and results as "Tool result (NAME): ...".
 */
#ifndef EXCH_FLATTEN_H
#define EXCH_FLATTEN_H

#include <stdbool.h>
#include <stddef.h>

#include "exch.h"
#include "gg_buf.h"
#include "uhash.h"

struct tools_spec;

int exch_flatten(const struct exch_request *req, size_t from, bool include_system, struct gg_buf *out);
int exch_flatten_tools(const struct exch_request *req, size_t from, bool include_system,
                       const struct tools_spec *spec, struct gg_buf *out);
void exch_conv_key_calls(const char *key_id, const struct exch_request *req, size_t upto, const char *extra_answer,
                         size_t extra_len, const struct exch_tool_call *calls, size_t n_calls, char out[65]);
struct exch_convhash {
    void *md;                   /* EVP_MD_CTX, NULL until begun */
    size_t upto;                /* messages hashed before the answer */
    size_t seen;                /* answer bytes looked at */
    size_t start;               /* the first non-space byte */
    size_t fed;                 /* end of the trimmed text so far (last non-space + 1) */
    size_t uh_at;               /* answer bytes uhash has taken */
    struct uhash uh;            /* the long-text hash of answer[start, uh_at) */
    bool live;                  /* begun and not ended or failed */
    bool lead;                  /* the answer's leading whitespace is behind */
};

void exch_convhash_begin(struct exch_convhash *h, const char *key_id, const struct exch_request *req, size_t upto);
void exch_convhash_feed(struct exch_convhash *h, const char *answer, size_t len);
bool exch_convhash_final(struct exch_convhash *h, const char *answer, size_t upto, size_t len,
                         const struct exch_tool_call *calls, size_t n_calls, char out[65]);
void exch_convhash_free(struct exch_convhash *h);
void exch_conv_key(const char *key_id, const struct exch_request *req, size_t upto,
                   const char *extra_answer, size_t extra_len, char out[65]);

#endif

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
 * trimmed text) into 64 hex chars + NUL.  `extra_answer`, when non-NULL, is
 * hashed as one more assistant message (the answer just produced), so the
 * key stored after a turn equals the key of the next turn's history.
 */
#ifndef EXCH_FLATTEN_H
#define EXCH_FLATTEN_H

#include <stdbool.h>
#include <stddef.h>

#include "exch.h"
#include "gg_buf.h"

int exch_flatten(const struct exch_request *req, size_t from, bool include_system, struct gg_buf *out);
void exch_conv_key(const char *key_id, const struct exch_request *req, size_t upto,
                   const char *extra_answer, size_t extra_len, char out[65]);

#endif

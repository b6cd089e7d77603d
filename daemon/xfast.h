/* xfast.h -- fast path for the common widgetStreamAssist element.
 *
 * xfast_parse() recognises one element (the exact JSON bytes the splitter
 * delivers) of the common text-only shape and extracts its text fragments
 * without building a tree:
 *
 *   { "uToken": S?,
 *     "streamAssistResponse": {
 *       "answer": { "state": "IN_PROGRESS",
 *                   "replies": [ REPLY, ... ]?,
 *                   "adkAuthor": S? },
 *       "sessionInfo": { "session": S?, "queryId": S?, "turnId": S? }?,
 *       "assistToken": S? } }
 *   REPLY = { "groundedContent": { "content": { "role": S?, "text": S?,
 *               "thought": true | false | "true" | "false" ? } },
 *             "replyId": S? }
 *
 * (S = a JSON string; `?` = optional; "streamAssistResponse", "answer",
 * "state", "groundedContent" and "content" are required.)  Keys may come in
 * any order, separated by any JSON whitespace (Google's pretty layout or
 * compact).  Strings are unescaped exactly as cJSON does (\n \t \" \\ \/ \b
 * \f \r \uXXXX with surrogate pairs -> UTF-8; other bytes copied as-is).
 *
 * Everything else makes it return false ("not handled", the caller must use
 * the general cJSON translator): any other key at any level (file,
 * inlineData, error, name, textGroundingMetadata, ...), a duplicate key, a
 * key written with escapes, another state (or one written with escapes),
 * numbers, null, nested values where strings are expected, invalid or
 * unusual escapes (bad hex, lone or reversed surrogates, \u0000), raw control
 * bytes inside strings, a BOM, anything after the closing brace but
 * whitespace, more than XFAST_MAX_TEXTS non-empty texts, a too small buffer,
 * and any malformed JSON.  Being stricter than cJSON is always safe: an
 * element handled here is one cJSON parses to the same values.
 *
 * Output: on true, r->text[0..ntext) are the non-empty `content.text`
 * strings in reply order, each NUL-terminated inside buf (no interior NUL)
 * with `thought` set when content.thought is true or "true"; r->session is
 * the non-empty sessionInfo.session (NUL-terminated in buf) or NULL.  The
 * element's state is always IN_PROGRESS.  Routing (thinking-heading
 * fallback, <ctrl46> lines) is the caller's (xlate.c).  buf must hold the
 * unescaped strings plus their NULs; cap >= n + 1 always suffices.  On false
 * r and buf are unspecified.  No allocation, no global state: thread-safe.
 */
#ifndef XFAST_H
#define XFAST_H

#include <stdbool.h>
#include <stddef.h>

#define XFAST_MAX_TEXTS 16

struct xfast_text {
    const char *s;      /* NUL-terminated, in the caller's buffer */
    size_t n;           /* > 0 */
    bool thought;       /* content.thought true or "true" */
};

struct xfast_result {
    size_t ntext;
    struct xfast_text text[XFAST_MAX_TEXTS];
    const char *session;    /* non-empty, NUL-terminated, or NULL */
    size_t session_len;
};

bool xfast_parse(const char *json, size_t n, char *buf, size_t cap, struct xfast_result *r);

#endif

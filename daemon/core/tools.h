/* tools.h -- emulated tool calling: the prompt contract, the tolerant reply
 * parser, the streaming call detector and the JSON-schema subset validator.
 * The format and every repair are documented in docs/TOOLS.md.
 *
 *   request tools -> tools_spec_init -> tools_render_prompt (+ history via
 *   tools_render_call / tools_render_result) -> upstream query
 *   answer text   -> tools_stream_feed (releases plain text at once)
 *                 -> tools_stream_finish -> struct tools_result (calls, errors)
 *   or, unstreamed: tools_parse_reply(whole answer) -> the same tools_result
 *
 * Only the answer text is fed here: reasoning/thinking text is never parsed,
 * so a call quoted inside the model's thoughts is not a call.
 *
 * Ownership: a tools_spec borrows the exch_tool array and choice name (they
 * must outlive it) and owns the parsed schemas (tools_spec_free).  A
 * tools_result owns its text and calls (tools_result_free); calls can be
 * moved out by taking `calls`/`n_calls` and zeroing them.
 * Failure: functions returning int give 0, or -1 on allocation failure or a
 * size cap (the output buffer's or TOOLS_MAX_REPLY); a malformed reply is
 * never a failure -- it is reported in tools_result.errors.
 * Bounds: parsing is linear in the reply (amortised linear when streamed),
 * JSON nesting is capped at TOOLS_MAX_DEPTH, a call block at
 * TOOLS_MAX_CALL_BYTES, calls per reply at TOOLS_MAX_CALLS.
 * Thread-safety: none needed; every object belongs to one exchange.
 */
#ifndef TOOLS_H
#define TOOLS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "exch.h"
#include "gg_buf.h"

#define TOOLS_MARKER_LEN 8                  /* hex digits of a marker */
#define TOOLS_MAX_DEPTH 64                  /* JSON nesting in a call */
#define TOOLS_MAX_CALL_BYTES (1u << 20)     /* one call block */
#define TOOLS_MAX_CALLS 64                  /* calls kept per reply */
#define TOOLS_MAX_REPLY (32u << 20)         /* answer text */

/* Repairs applied to the calls of a reply (bit set in tools_result.repairs). */
enum tools_repair {
    TOOLS_REP_FENCE = 1u << 0,          /* call inside a ``` fence */
    TOOLS_REP_BARE = 1u << 1,           /* bare JSON call, no block */
    TOOLS_REP_MARKER = 1u << 2,         /* block without (or with a wrong) marker */
    TOOLS_REP_CLOSE_TAG = 1u << 3,      /* closing </tool_call> missing */
    TOOLS_REP_TRAILING_COMMA = 1u << 4, /* ,} and ,] */
    TOOLS_REP_SINGLE_QUOTES = 1u << 5,  /* 'strings' */
    TOOLS_REP_UNQUOTED_KEYS = 1u << 6,  /* {city: ...} */
    TOOLS_REP_RAW_CONTROL = 1u << 7,    /* raw newline/tab inside a string */
    TOOLS_REP_BAD_ESCAPE = 1u << 8,     /* \' or \d inside a string */
    TOOLS_REP_PY_LITERALS = 1u << 9,    /* True / False / None */
    TOOLS_REP_CLOSE_BRACKETS = 1u << 10,/* missing } or ] before </tool_call> */
    TOOLS_REP_ARGS_STRING = 1u << 11,   /* "arguments": "{\"city\": ...}" */
    TOOLS_REP_SHAPE = 1u << 12,         /* parameters/args/input, function wrapper, name attribute */
    TOOLS_REP_NAME_CASE = 1u << 13,     /* tool name matched case-insensitively */
    TOOLS_REP_PARALLEL = 1u << 14,      /* parallel_tool_calls=false: extra calls dropped */
    TOOLS_REP_TOOL_CODE = 1u << 15,     /* Gemini's ```tool_code fence with a Python-style call */
};
#define TOOLS_REP_COUNT 16
/* Short snake_case name of one repair bit ("trailing_comma"), "" if unknown. */
const char *tools_repair_name(unsigned bit);

/* What the request declared, plus this exchange's marker. */
struct tools_spec {
    const struct exch_tool *tools;      /* borrowed */
    size_t n_tools;
    cJSON **schemas;                    /* owned, one per tool, NULL = accept any object */
    enum exch_tool_choice choice;
    const char *choice_name;            /* borrowed, EXCH_TOOLS_NAMED */
    bool parallel;
    char marker[TOOLS_MARKER_LEN + 1];  /* lowercase hex */
};

/* Fill a fresh random marker (TOOLS_MARKER_LEN hex digits + NUL). */
void tools_new_marker(char out[TOOLS_MARKER_LEN + 1]);
/* marker: TOOLS_MARKER_LEN lowercase hex digits (e.g. from tools_new_marker;
 * keep it stable for one upstream session so the history agrees with it), or
 * NULL for a fresh one.  A tool whose params_json does not parse gets no
 * schema (any object is accepted).  0, or -1 (allocation; spec zeroed). */
int tools_spec_init(struct tools_spec *s, const struct exch_tool *tools, size_t n_tools,
                    enum exch_tool_choice choice, const char *choice_name, bool parallel,
                    const char *marker);
void tools_spec_free(struct tools_spec *s);
/* The declared tool named `name` (exact, then case-insensitive), or -1. */
int tools_find(const struct tools_spec *s, const char *name, bool *case_folded);

/* ---- prompt contract (toolprompt.c) ------------------------------------ */

/* The instruction block (tools, schemas, the call format, the tool_choice
 * rule).  Renders nothing for EXCH_TOOLS_NONE or no tools. */
int tools_render_prompt(const struct tools_spec *s, struct gg_buf *out);
/* One line restating the format and the choice, for the end of the query. */
int tools_render_reminder(const struct tools_spec *s, struct gg_buf *out);
/* An earlier assistant call, in the exact format the model is asked to use. */
int tools_render_call(const struct tools_spec *s, const struct exch_tool_call *c, struct gg_buf *out);
/* An earlier tool result (role tool): call id, tool name (may be NULL),
 * content, error flag. */
int tools_render_result(const struct tools_spec *s, const char *call_id, const char *name,
                        const char *content, bool is_error, struct gg_buf *out);
/* The corrective message sent on the same session after a bad reply. */
int tools_render_correction(const struct tools_spec *s, const char *error, struct gg_buf *out);

/* ---- parsing (toolparse.c, tooljson.c, toolpy.c) ---------------------- */

struct tools_result {
    struct gg_buf text;                 /* the reply minus recognised calls, byte-exact */
    struct exch_tool_call *calls;       /* owned, valid against their schemas */
    size_t n_calls;
    unsigned repairs;                   /* enum tools_repair bits */
    unsigned n_errors;                  /* invalid calls + tool_choice violations */
    char error[512];                    /* the first error, human readable, "" if none */
};

/* One-shot parse of a whole answer.  res is initialised here. */
int tools_parse_reply(const struct tools_spec *s, const char *reply, size_t len, struct tools_result *res);
void tools_result_free(struct tools_result *res);

/* Streaming detector: feed answer pieces, get plain text back as soon as it
 * cannot be part of a call; text that may start a call (a `<tool_call`
 * tag, a ``` fence or a `{`/`[` at a line start) is held until decided.
 * The released text, concatenated, equals tools_parse_reply's text, and
 * finish yields the same calls and errors. */
struct tools_stream {
    const struct tools_spec *spec;      /* borrowed */
    struct gg_buf hold;                 /* undecided bytes */
    bool line_start;                    /* the byte before hold[0] was '\n' (or none) */
    size_t scanned;                     /* hold.len at the last undecided scan */
    size_t total;                       /* bytes fed */
    struct tools_result res;
};
int tools_stream_init(struct tools_stream *st, const struct tools_spec *s);
/* Appends releasable text to out. */
int tools_stream_feed(struct tools_stream *st, const char *p, size_t n, struct gg_buf *out);
/* Releases what is left (into out) and moves the result into *res (the
 * stream must still be freed). */
int tools_stream_finish(struct tools_stream *st, struct gg_buf *out, struct tools_result *res);
void tools_stream_free(struct tools_stream *st);

/* ---- schema validation (toolschema.c) ---------------------------------- */

/* Validate value against the documented subset of JSON Schema.  0 = valid;
 * -1 = invalid with a message naming the path ("$.city: expected string").
 * A NULL schema accepts everything. */
int tools_validate(const cJSON *schema, const cJSON *value, char *err, size_t errlen);

#endif

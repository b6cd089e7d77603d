/* exch.h -- the protocol-neutral exchange: what a client dialect hands the
 * core (struct exch_request), what the core hands back (a stream of
 * struct exch_event, then one struct exch_result), and the table of
 * functions every dialect provides (struct exch_dialect).
 *
 *   client bytes -> dialect->parse -> exch_request
 *                                        | core: pool, session, media, limits,
 *                                        | retries, stop / max_tokens (once)
 *   upstream bytes -> splitter -> translator -> exch_event ...
 *                                        |
 *                     dialect->begin / event / finish / fail -> client bytes
 *
 * Rules of the road:
 * - Nothing in this header, nor in the core or upstream modules, knows a
 *   dialect's wire strings.  A dialect never sees Google JSON.
 * - Stop sequences and max_tokens are applied by the core before events
 *   reach a dialect: a dialect only maps exch_finish to its own words.
 * - Reasoning events are only delivered when req->want_reasoning is set.
 * - Ownership: every pointer inside an exch_request is owned by the request
 *   and released by exch_request_free(); event payloads are borrowed for the
 *   duration of the callback only.
 * - Failure: encoder callbacks cannot fail; they append to `out` (a capped
 *   gg_buf).  The core checks, before each call, that the strings it hands
 *   over fit the cap even fully JSON-escaped (plus 64 KiB of framing), and
 *   aborts the exchange otherwise (core/answer.h), so a dialect never
 *   produces a cut frame.
 */
#ifndef EXCH_H
#define EXCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gg_buf.h"
#include "models.h"

#define EXCH_MAX_STOP 4
#define EXCH_MAX_ATTACHMENTS 32
#define EXCH_MAX_TOOLS 128

/* ---- request ------------------------------------------------------------ */

enum exch_role { EXCH_SYSTEM, EXCH_USER, EXCH_ASSISTANT, EXCH_TOOL };

/* An attachment (image, PDF, any file part).  Parts of the current turn
 * (msg_index >= first_new) have `upload` set: inline data is decoded and
 * checked at parse time (data/len/mime filled, url NULL); http(s) URLs are
 * syntax- and policy-checked at parse time and fetched later by the
 * upstream side, which then fills data/len/mime.  Parts of earlier turns are
 * only counted (they become "[image]" markers in the flattened history). */
struct exch_attachment {
    int msg_index, part_index;
    bool upload;            /* current turn: goes upstream */
    bool is_file;           /* a file/document part (else an image) */
    char param[64];         /* the part's path, for error messages */
    char *url;              /* http(s) URL (normalised), owned, or NULL */
    char *mime;             /* normalised type, or NULL until known */
    char *filename;         /* or NULL */
    unsigned char *data;    /* decoded bytes, owned, or NULL */
    size_t len;
};

/* A tool call the assistant made in an earlier turn (history), or one the
 * core found in this turn's answer (results).  `id` round-trips: a tool
 * result names the call it answers by this id. */
struct exch_tool_call {
    char *id;               /* owned; never NULL once parsed */
    char *name;             /* owned */
    char *args_json;        /* owned; a JSON object as text ("{}" when none) */
};

struct exch_message {
    enum exch_role role;
    char *text;             /* text parts joined, owned, never NULL */
    char *name;             /* optional participant / tool name, or NULL */
    int n_images;           /* attachments in this message */
    /* assistant turns: the tool calls it made (owned array) */
    struct exch_tool_call *tool_calls;
    size_t n_tool_calls;
    /* EXCH_TOOL: the id of the call this result answers, owned, or NULL */
    char *tool_call_id;
    bool tool_error;        /* the client marked the result as an error */
};

/* A client-declared function tool. */
struct exch_tool {
    char *name;             /* owned */
    char *description;      /* owned, may be NULL */
    char *params_json;      /* JSON schema of the arguments as text, owned, may be NULL */
};

enum exch_tool_choice {
    EXCH_TOOLS_AUTO = 0,    /* default */
    EXCH_TOOLS_NONE,        /* tools are not offered upstream at all */
    EXCH_TOOLS_REQUIRED,    /* some tool must be called */
    EXCH_TOOLS_NAMED,       /* `tool_choice_name` must be called */
};

struct exch_request {
    char *model_req;                /* as the client wrote it, owned */
    struct model_choice model;      /* resolved */
    bool stream;
    bool want_reasoning;            /* the dialect's decision (THINKING default, request flags) */
    bool grounding;                 /* the client asked for web search (tool / flag) */
    bool file_urls;                 /* generated files as gateway links (/images/...), else data: URLs
                                     * (dialects default it from IMAGE_OUTPUT) */
    struct exch_message *msgs;      /* owned array */
    size_t n_msgs;
    size_t first_new;               /* first message after the last assistant message */
    struct exch_attachment *att;    /* attachments of the new messages, owned array */
    size_t n_att;
    char *stop[EXCH_MAX_STOP];      /* stop sequences, NULL-terminated when fewer */
    int64_t max_tokens;             /* 0 = none */
    /* tools (emulated by the core; see docs/TOOLS.md) */
    struct exch_tool *tools;        /* owned array */
    size_t n_tools;
    enum exch_tool_choice tool_choice;
    char *tool_choice_name;         /* EXCH_TOOLS_NAMED, owned */
    bool parallel_tool_calls;       /* default true */
    /* dialect-private parsed options (e.g. OpenAI include_usage), released
     * by dialect->opts_free */
    void *opts;
};

/* Neutral error: a dialect maps kind + status to its own envelope. */
enum exch_err_kind {
    EXCH_ERR_INVALID = 0,   /* 400 bad request */
    EXCH_ERR_AUTH,          /* 401 */
    EXCH_ERR_PERMISSION,    /* 403 */
    EXCH_ERR_NOT_FOUND,     /* 404 (model, route, stored object) */
    EXCH_ERR_TOO_LARGE,     /* 413 */
    EXCH_ERR_RATE_LIMIT,    /* 429 */
    EXCH_ERR_SERVER,        /* 500 */
    EXCH_ERR_UPSTREAM,      /* 502: the upstream failed */
    EXCH_ERR_OVERLOADED,    /* 503: no usable account */
    EXCH_ERR_TIMEOUT,       /* 504 */
};

struct exch_error {
    int status;             /* HTTP status */
    enum exch_err_kind kind;
    char param[64];         /* offending field path, "" = none */
    const char *code;       /* short machine code ("model_not_found"), NULL = none */
    char message[512];
    int retry_after;        /* seconds, 0 = none */
    bool retryable;         /* the same request may succeed later (408, 429, 5xx);
                             * exch_set_error sets it from the status */
};

/* ---- events ------------------------------------------------------------- */

enum exch_finish {
    EXCH_FIN_STOP = 0,          /* natural end */
    EXCH_FIN_LENGTH,            /* max_tokens reached */
    EXCH_FIN_STOP_SEQUENCE,     /* a stop sequence matched (exch_result.stop_sequence) */
    EXCH_FIN_CONTENT_FILTER,    /* the upstream refused */
    EXCH_FIN_TOOL_CALLS,        /* the answer is one or more tool calls */
};

enum exch_ev_kind {
    EXCH_EV_REASONING = 0,  /* text: a piece of thinking */
    EXCH_EV_TEXT,           /* text: a piece of the answer */
    EXCH_EV_FILE,           /* file: a generated file, ready to reference */
    EXCH_EV_CITATION,       /* cite: a grounding source */
    EXCH_EV_TOOL_CALL_BEGIN,/* call: id + name known; args follow */
    EXCH_EV_TOOL_CALL_ARGS, /* text: a piece of the current call's arguments JSON */
    EXCH_EV_TOOL_CALL_END,  /* call: the complete call (args_json whole) */
};

struct exch_file {
    const char *mime;
    const char *url;        /* gateway link (url mode) or a data: URL */
    const char *name;       /* may be NULL */
};

struct exch_citation {
    const char *url;
    const char *title;      /* may be NULL */
};

struct exch_event {
    enum exch_ev_kind kind;
    const char *text;       /* REASONING, TEXT, TOOL_CALL_ARGS */
    size_t len;
    const struct exch_file *file;
    const struct exch_citation *cite;
    const struct exch_tool_call *call;  /* TOOL_CALL_BEGIN / _END */
    int call_index;                     /* 0-based index of the call in this answer */
};

struct exch_usage {
    int64_t prompt_tokens;
    int64_t completion_tokens;      /* answer + reasoning */
    int64_t reasoning_tokens;
};

/* Everything the answer was, handed to dialect->finish in both modes. */
struct exch_result {
    const char *text;               /* the whole answer (after stop/max_tokens) */
    size_t text_len;
    const char *reasoning;          /* "" when none or not wanted */
    size_t reasoning_len;
    const struct exch_file *files;
    size_t n_files;
    const struct exch_citation *cites;
    size_t n_cites;
    const struct exch_tool_call *calls;
    size_t n_calls;
    enum exch_finish finish;
    const char *stop_sequence;      /* EXCH_FIN_STOP_SEQUENCE: which one matched */
    struct exch_usage usage;
};

/* ---- the dialect table -------------------------------------------------- */

/* What a dialect's callbacks may read about the exchange. */
struct exch_ctx {
    const struct exch_request *req;
    const char *id;             /* the exchange id (request id based, unique) */
    const char *model;          /* model name to report back */
    int64_t created_s;          /* unix seconds at start */
    void *state;                /* dialect-owned, state_size bytes, zeroed */
};

/* Inputs to parse beyond the body. */
struct exch_parse_in {
    const char *body;
    size_t len;
    const char *path_model;     /* model named in the path (Gemini), or NULL */
    bool path_stream;           /* the path itself asks for a stream */
    const char *key_id;         /* caller's key id (per-key state such as stored responses) */
};

struct exch_dialect {
    const char *name;           /* "openai", "anthropic", "responses", "gemini": logs, metrics */
    size_t state_size;          /* bytes of exch_ctx.state */
    const char *stream_ctype;   /* "text/event-stream", ... */
    const char *ping;           /* keep-alive bytes for a started stream */
    const char *id_prefix;      /* exchange id prefix ("chatcmpl-", "msg_", ...) */
    bool images;                /* an image-generation endpoint: no markdown links in the
                                 * answer, and an answer without a file is a 502 */
    /* Parse and validate; 0, or -1 with *err filled. Never crashes on any input. */
    int (*parse)(const struct exch_parse_in *in, struct exch_request *req, struct exch_error *err);
    void (*opts_free)(void *opts);
    /* Streaming: once before the first event (the 200 is committed then). */
    void (*begin)(struct exch_ctx *x, struct gg_buf *out);
    void (*event)(struct exch_ctx *x, const struct exch_event *ev, struct gg_buf *out);
    /* Both modes: the end.  Streaming: closing frames; otherwise the whole body. */
    void (*finish)(struct exch_ctx *x, const struct exch_result *res, struct gg_buf *out);
    /* A failure once the stream is committed (after begin, or after only
     * keep-alive pings were sent and begin was not called yet): the
     * dialect's in-stream error frame. */
    void (*fail)(struct exch_ctx *x, const struct exch_error *e, struct gg_buf *out);
    /* The dialect's error envelope (a whole response body, JSON). */
    void (*error_body)(const struct exch_error *e, struct gg_buf *out);
    /* Optional: the HTTP status for an error (Anthropic answers 529 when no
     * account is usable); NULL = e->status. */
    int (*http_status)(const struct exch_error *e);
    /* Optional (all NULL or all set): exchanges a client continues by id and
     * reads back later (OpenAI Responses).  The core keeps the result body
     * and the upstream session under (key id, result id) for SESSION_TTL;
     * a request naming an unknown id gets result_missing's error. */
    const char *(*continue_id)(const struct exch_request *req);  /* id this request continues, or NULL */
    bool (*keeps)(const struct exch_request *req);                /* keep this exchange's result */
    void (*result_id)(const struct exch_ctx *x, char *out, size_t n);
    void (*result_body)(const struct exch_ctx *x, const struct exch_result *res, struct gg_buf *out);
    void (*result_deleted)(const char *id, struct gg_buf *out);
    void (*result_missing)(const char *id, const char *param, struct exch_error *err);
    /* Optional (NULL = none): called with the kept result's body (as
     * result_body rendered it) when a request continues it and one of its
     * new tool results has a call id but no tool name, before the query is
     * built; fills those names from the kept result's calls. */
    void (*continue_result)(struct exch_request *req, const char *body, size_t len);
};

/* Releases everything but req->opts (the dialect's opts_free does that);
 * leaves *req zeroed.  Safe on a zeroed request. */
void exch_request_free(struct exch_request *req);
/* True for statuses a client may retry unchanged (408, 429, 5xx). */
bool exch_status_retryable(int status);
/* The neutral kind for an HTTP status (400 -> INVALID ... 504 -> TIMEOUT;
 * other 4xx INVALID, other 5xx SERVER). */
enum exch_err_kind exch_kind_of_status(int status);
void exch_set_error(struct exch_error *e, int status, enum exch_err_kind kind, const char *param,
                    const char *code, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif

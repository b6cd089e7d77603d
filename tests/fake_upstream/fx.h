/*
 * fx.h - misbehaviour switches ("effects") of the fake upstream.
 *
 * A struct fx describes how one request should be answered.  It is filled
 * from two sources, in this order:
 *   1. the first matching queued scenario (control API, per account and
 *      endpoint, FIFO), then
 *   2. `[[fake:NAME,NAME=VALUE,...]]` directives found in the query text
 *      (streamAssist only); these override the scenario.
 * See README.md for the list of names.
 */
#ifndef FU_FX_H
#define FU_FX_H

#include <stddef.h>
#include <stdint.h>

#include "jw.h"

struct cJSON;

#define FX_MAX_TOOLCALLS 8

enum fx_mode {
  FX_NORMAL,
  FX_HTTP,           /* plain HTTP error, status in http_status */
  FX_INBAND429,
  FX_NOTFOUND,
  FX_NOTOWNED,
  FX_TRUNCATE,
  FX_TRUNCATE_CLEAN,
  FX_THOUGHTS_ONLY,
  FX_SKIPPED,
  FX_HANG,
  FX_EXPIRED,        /* getoxsrf 401 EXPIRED_SIGN_IN */
  FX_REDIRECT,       /* getoxsrf 302 to refreshcookies */
  FX_FAIL_ONCE,      /* download: first attempt per file -> 503 */
  FX_OVERLOADED,     /* 429 with reason LLM_OVERLOADED (service busy) */
  FX_QUOTA,          /* 429 quota exhausted (reason RATE_LIMIT_EXCEEDED) */
  FX_UTOKEN_ONLY     /* stream: 200 whose only element holds a uToken */
};

enum endpoint {
  EP_GETOXSRF,
  EP_REFRESHCOOKIES,
  EP_CREATE_SESSION,
  EP_STREAM,
  EP_ADD_FILE,
  EP_LIST_FILES,
  EP_DOWNLOAD,
  EP_LIST_SESSIONS,
  EP_GET_SESSION,
  EP_DELETE_SESSION,
  EP_COUNT
};

struct fx {
  enum fx_mode mode;
  int http_status;
  int headers_ms;        /* delay before the status line */
  int first_byte_ms;     /* delay between headers and first body byte */
  int delay_ms;          /* delay between stream elements */
  int split_utf8;        /* drip body bytes, splitting UTF-8 sequences */
  int split_ms;          /* pause between drips (default 2) */
  int compact;           /* single-line array layout */
  int nogzip;
  int image;
  int images;            /* number of generated images (default 1) */
  int batch;             /* coalesce elements into ~64 KiB writes; -1 =
                          * auto (on when fragments >= 1000) */
  int escape_html;       /* Google-style \u003c escapes */
  int rotate;            /* redirect: rotate the __Secure-C_SES cookie */
  int thoughts;          /* number of thought elements (default 2) */
  long fragments;        /* answer fragments, 0 = as many as the text needs */
  int fragment_bytes;    /* default 12 */
  int truncate_after;    /* complete elements before a truncation */
  int mid;               /* truncate_clean: also send half an element */
  int error_after;       /* inband429: normal elements before the error */
  char *answer;          /* owned; replaces the default answer text */
  int strict_names;      /* list_files/download: only projects/... names */
  long files_after_ms;   /* image/video: no file in the stream; the files
                          * join the session list this long after the
                          * stream ended (-1 = off) */
  int inline_data;       /* image: inlineData replies instead of files */
  int video;             /* video mode (needs videoGenerationSpec) */
  long video_ms;         /* video: silence before the file (default 5000) */
  long key_lifetime_ms;  /* getoxsrf: lifetime of the issued key (0 = the
                          * account's / global setting) */
  /* tool mode (tools.c): calls to answer with when the query carries the
   * gateway's tool prompt */
  int ntool;
  char *tool_name[FX_MAX_TOOLCALLS]; /* owned */
  char *tool_args[FX_MAX_TOOLCALLS]; /* owned JSON text, NULL = {} */
  int toolbad;           /* the first N tool replies of the session are broken */
  int toolfence;         /* calls in a ```json fence, no tag (a repair) */
  char *tooltext;        /* owned; text before the calls */
};

extern const char *const endpoint_names[EP_COUNT];
/* Returns the endpoint for a name, or -1. */
int endpoint_by_name(const char *name);

void fx_init(struct fx *fx);
void fx_free(struct fx *fx);

/* Applies one switch.  `value` may be NULL (flag form).  Returns 0, or -1
 * for an unknown name or malformed value (fx unchanged). */
int fx_apply(struct fx *fx, const char *name, const char *value);

/* Applies every [[fake:...]] directive found in text[0..n).  Returns the
 * number applied, or -1 at the first unknown name or malformed value
 * (copied into bad[badlen]); a typo must fail the request, never turn a
 * fault test into a success. */
int fx_parse_text(struct fx *fx, const char *text, size_t n, char *bad,
                  size_t badlen);

/* Copies text without its [[fake:...]] blocks, trimmed of surrounding
 * whitespace, into a malloc'ed string. */
char *fx_strip(const char *text, size_t n);

/* ---- scenario queue ---- */

/* Validates and queues one scenario object.  Returns 0, or -1 with a
 * message in err. */
int scenario_add(const struct cJSON *obj, char *err, size_t errlen);
/* Consumes the first scenario matching (csesidx, ep) and applies it to
 * fx.  csesidx may be NULL (matches only "any account" scenarios).
 * Returns 1 when one was applied, else 0. */
int scenario_take(const char *csesidx, enum endpoint ep, struct fx *fx);
void scenario_clear(void);
/* Writes the pending queue as a JSON array. */
void scenario_dump(struct jw *w);

#endif

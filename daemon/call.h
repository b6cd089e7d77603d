/* call.h -- one exchange shared by an HTTP connection (MHD worker threads)
 * and the upstream thread (libcurl multi): the parsed request, the client
 * dialect's table and context, the output buffer the dialect's bytes go
 * into, and the upstream state.
 *
 * Lifetime: created by the HTTP side with two references, one for each
 * side; each side drops its own with call_put() when it is finished with
 * the call (HTTP: request-completed callback; upstream: after the final
 * output is written or on cancel).  The last put frees it.
 *
 * Locking: fields marked [mu] are read and written under `mu` only; fields
 * marked [up] belong to the upstream thread; [ro] fields are set before
 * submission and never change.  The HTTP side suspends its connection when
 * it has nothing to send and sets `suspended`; whoever produces output or
 * ends the call resumes it exactly once via call_wake_locked(), never
 * after `conn_gone`.
 *
 * call_new() returns NULL on allocation failure.  call_put() releases the
 * request (dialect->opts_free for req.opts, then exch_request_free) and
 * the dialect state x.state (calloc'd by the HTTP side, state_size bytes).
 * The per-file arrays (uploaded file ids, generated media) are allocated
 * only by calls that use them, so that a plain chat call zeroes ~6 KiB
 * instead of ~12 KiB.
 */
#ifndef CALL_H
#define CALL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "gg_buf.h"
#include "exch.h"
#include "exch_limits.h"
#include "flatten.h"
#include "tokens.h"
#include "splitter.h"
#include "tools.h"
#include "xlate.h"

struct MHD_Connection;
struct account;
struct up_loop;

enum call_phase {
    PH_WAIT = 0,    /* nothing decided: no response queued yet */
    PH_STREAM,      /* 200 + stream committed; bytes flow through out */
    PH_DONE,        /* non-stream: out holds the whole 200 body */
    PH_FAILED,      /* error before any byte: err holds it (dialect->error_body) */
};

enum call_kind { CALL_CHAT = 0, CALL_TEST, CALL_IMAGES };

#define CALL_MAX_EXCLUDE 64
#define CALL_MAX_UPLOADS EXCH_MAX_ATTACHMENTS
#define CALL_MAX_GEN 16         /* generated files kept per answer */

/* A generated file reported by the stream (`content.file`), de-duplicated
 * by id, then described by widgetListSessionFileMetadata and downloaded. */
struct gen_file {
    char id[96];
    char mime[64];
    char *session;              /* the projects/... path from metadata, or NULL */
    unsigned char *data;        /* downloaded bytes, owned */
    size_t len;
    int tries;
    bool auth_retried;          /* a 401 got one retry with a new key */
    bool failed;
};

struct call_media {
    struct gen_file gen[CALL_MAX_GEN];
    struct exch_file files[CALL_MAX_GEN];
    char *file_url[CALL_MAX_GEN];
};

struct call {
    pthread_mutex_t mu;
    int refs;                           /* [mu] */

    /* [ro] */
    enum call_kind kind;
    struct exch_request req;
    const struct exch_dialect *dialect; /* NULL for CALL_TEST */
    struct exch_ctx x;                  /* the dialect's view; x.state owned (dialect->state_size) */
    char request_id[40];
    char chat_id[48];
    char key_id[24];                    /* short hash of the API key */
    char group[64];                     /* account tag of a client key ("" = any account) */
    int64_t created_s;
    int64_t t_start_us;
    int64_t forced_account;             /* CALL_TEST: account id, else -1 */
    char prev_key[65];                  /* conversation key of earlier messages */
    int64_t pref_account;               /* conversation's account or -1 */
    char *pref_session;                 /* conversation's upstream session */
    char base_url[256];                 /* prefix of /images/ links */

    /* [mu] shared state */
    struct MHD_Connection *conn;
    int client_fd;
    bool suspended;
    bool conn_gone;
    bool aborted;                       /* client vanished: close hard */
    enum call_phase phase;
    struct gg_buf out;
    bool out_done;
    struct exch_error err;
    bool upstream_paused;
    bool unpause_posted;
    int64_t account_id;                 /* for logs: account used (-1 none) */
    char account_name[64];
    int64_t t_first_us;                 /* first content/reasoning byte */
    int64_t prompt_tokens, completion_tokens;
    const char *error_kind;             /* NULL on success */
    int tool_calls;                     /* calls returned (request log) */
    int final_status;                   /* status the client saw */
    char *test_answer;                  /* CALL_TEST result */
    char test_error[256];
    int64_t test_auth_ms;

    /* [up] upstream state */
    struct up_loop *up_loop;            /* the loop owning the call (set by upstream_submit) */
    int step;
    struct account *acct;
    int64_t exclude[CALL_MAX_EXCLUDE];
    int nex;
    int attempts;
    int last_outcome;                   /* enum outcome of the last failed attempt */
    char last_detail[200];
    void *xfer;                         /* current transfer */
    struct call *next_waiter;
    bool waiting_oxsrf;
    bool jwt_retried, session_retried;
    bool continuing;
    char *session_name;
    char *stream_session;               /* sessionInfo.session (projects/... form) or NULL */
    int key_resume;                     /* R_*: step after a sign-in (up.h) */
    bool list_retried;                  /* list 401: one retry with a new key */
    bool utoken_retried;                /* uToken-only 200 body: one retry */
    int64_t poll_until_ms;              /* S_MEDIA polling the file list (0 = not) */
    struct splitter sp;
    struct xlate xl;
    bool begun;                         /* dialect->begin ran (stream) */
    bool content_sent, any_text, any_file;
    char *skip_detail;
    const char *final_state;
    int inband_code;
    char inband_status[48];
    char inband_msg[256];
    struct gg_buf answer;               /* full answer text (conversation key, non-stream body) */
    struct exch_convhash convkey;       /* the conversation key of `answer`, hashed as it grows (answer.c) */
    struct exch_tokcount answer_tok;    /* the running token count of `answer` (answer.c) */
    struct exch_limits lim;             /* stop sequences / max_tokens on the answer */
    struct gg_buf reasoning;            /* non-stream reasoning text */
    int64_t last_out_ms;                /* last byte queued to the client (pings) */
    int64_t stream_start_ms, last_elem_ms;
    struct call *act_prev, *act_next;   /* active list */
    bool finished;
    /* [up] attachments: fetch (before an account is taken) and upload (into
     * each new session; file ids are per session, so a failover uploads
     * again).  req.att[].data/len/mime of http(s) parts are written here. */
    size_t att_i;                       /* next attachment to fetch / upload */
    int fetch_hops;                     /* redirects followed so far */
    char *fetch_url;                    /* current hop */
    char (*file_ids)[96];               /* CALL_MAX_UPLOADS of them, calloc'd at the first upload (NULL before) */
    size_t n_file_ids;
    /* [up] generated media: one block (struct call_media, owned) allocated
     * with the first generated file (call_media_get); gen / files /
     * file_url point into it, all NULL while a call has no file (most) */
    struct call_media *media;
    struct gen_file *gen;               /* CALL_MAX_GEN entries */
    size_t n_gen, gen_i;
    int64_t retry_at_ms;                /* next download attempt (0 = none) */
    /* [up] the files as handed to the dialect (exch_result.files) */
    struct exch_file *files;            /* CALL_MAX_GEN entries */
    char **file_url;                    /* owned strings: gateway link or data: URL */
    size_t n_files;
    /* [up] emulated tools (docs/TOOLS.md; core/toolcall.c, answer.c) */
    bool tools_init;                    /* tools_on decided, tspec built */
    bool tools_on;                      /* tools offered: parse the answer */
    struct tools_spec tspec;            /* marker set per upstream session */
    bool tst_on;                        /* tst initialised (streaming) */
    struct tools_stream tst;
    struct tools_result tres;           /* the settled answer's calls */
    int tool_retries;                   /* corrective retries used */
    bool tool_fixing;                   /* the next query is the correction */
    bool tool_withhold;                 /* stream: an invalid call was seen, send no more of this reply */
    char tool_error[512];               /* what the correction names */
};

struct call *call_new(enum call_kind kind);
void call_put(struct call *c);
/* The call's media block, allocated (zeroed) on first use; false when out
 * of memory.  Upstream thread. */
bool call_media_get(struct call *c);
/* Resume the HTTP connection if it is suspended (caller holds mu). */
void call_wake_locked(struct call *c);

#endif

/*
 * app.h - request dispatch and helpers shared by the endpoint modules
 * (auth.c, api.c, stream.c, control.c).
 *
 * Handlers are called synchronously from dispatch with the connection and
 * must leave it with a complete response or a running job.  The helpers
 * below always produce a response; they honour the current request's
 * headers_ms delay (set with app_set_delay) by running a small job.
 */
#ifndef FU_APP_H
#define FU_APP_H

#include <stddef.h>

#include "dbuf.h"
#include "fx.h"
#include "httpd.h"
#include "record.h"

struct cJSON;
struct account;

/* Fake-wide settings (POST /__fake/config; /__fake/reset restores the
 * defaults).  Accounts and scenarios can override some per account /
 * request (README "Upstream behaviours"). */
#define RETIRED_MAX 16
struct fake_cfg {
  long key_lifetime_ms;            /* signing keys (default KEY_LIFETIME_MS) */
  int strict_names;                /* list/download want projects/... names */
  char *retired[RETIRED_MAX];      /* modelIds answered 404 */
  int nretired;
};
extern struct fake_cfg fake_cfg;
void fake_cfg_reset(void);
/* Is modelId m on the retired list? */
int fake_cfg_retired(const char *m);
/* Applies {"key_lifetime_ms"?, "strict_names"?, "retired_models"?}; all or
 * nothing.  Returns 0, or -1 with a message in err. */
int fake_cfg_apply(const struct cJSON *j, char *err, size_t errlen);
void fake_cfg_dump(struct jw *w);
/* Key lifetime for a getoxsrf of account a under fx. */
long fake_key_lifetime(const struct account *a, const struct fx *fx);

/* Dispatch/finished hooks for httpd. */
extern const struct http_app fake_app;

/* Delay (ms) applied to the next reply of the current request. */
void app_set_delay(int ms);

/* Sends a complete response (after the current delay, if any).  The body
 * is copied. */
void app_reply(struct conn *c, int status, const char *ctype,
               const char *extra_headers, const void *body, size_t n);
/* Sends a JSON body from a dbuf (copied). */
void app_reply_json(struct conn *c, int status, struct dbuf *body);
/* Sends a Google-style error {"error":{"code","message","status"}}.
 * gstatus NULL = derived from the HTTP status.  429 carries the
 * LLM_OVERLOADED ErrorInfo detail. */
void app_error(struct conn *c, int status, const char *gstatus,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Canonical Google status name / default message for an HTTP status. */
const char *google_status(int status);
const char *google_message(int status);
/* Never answers (keeps the connection open until the client leaves). */
void app_hang(struct conn *c);

/* Verifies the bearer JWT of the request.  On success returns the account
 * and copies csesidx into the record and c->csesidx.  On failure sends
 * the 401 reply and returns NULL. */
struct account *app_auth(struct conn *c);
/* Parses the body as a JSON object.  On failure sends 400 and returns
 * NULL.  The caller owns the result (cJSON_Delete). */
struct cJSON *app_json_body(struct conn *c);
/* Checks body.configId against the account.  On mismatch sends 403 and
 * returns -1. */
int app_check_config(struct conn *c, const struct cJSON *body,
                     const struct account *a);
/* The 429 body of an exhausted quota (reason RATE_LIMIT_EXCEEDED), as
 * opposed to app_error(429)'s LLM_OVERLOADED body. */
void app_error_quota(struct conn *c);
/* Handles the generic error modes of fx (FX_HTTP, FX_NOTFOUND,
 * FX_NOTOWNED, FX_HANG, FX_OVERLOADED, FX_QUOTA).  Returns 1 when a reply
 * was produced. */
int app_fx_errors(struct conn *c, const struct fx *fx, const char *session);

/* Common start of every POST widget call: method, JWT, JSON body,
 * configId, then the first matching scenario for ep is applied to fx and
 * its headers_ms becomes the reply delay.  Returns 0 with *pa and *pbody
 * set (caller deletes *pbody), or -1 after a reply was produced. */
int app_api_prologue(struct conn *c, enum endpoint ep, struct account **pa,
                     struct cJSON **pbody, struct fx *fx);
/* Resolves a session name owned by a.  On failure replies 400 (bad
 * name), 404 (unknown) or 403 (not owned) and returns NULL. */
struct session *app_session(struct conn *c, const char *name,
                            const struct account *a);

/* The current request's record (may be NULL if evicted). */
struct rec_req *app_rec(struct conn *c);

/* Verifies "Bearer <jwt>" (auth.c).  Returns the account or NULL with a
 * short reason in *why (for logs only). */
struct account *jwt_verify(const char *authz, const char **why);

/* Endpoint handlers. */
void h_getoxsrf(struct conn *c);
void h_refreshcookies(struct conn *c);
void h_create_session(struct conn *c);
void h_stream(struct conn *c);
void h_add_file(struct conn *c);
void h_list_files(struct conn *c);
void h_download(struct conn *c, int download_form);
void h_list_sessions(struct conn *c);
void h_get_session(struct conn *c);
void h_delete_session(struct conn *c);
void h_control(struct conn *c);

/* Adds accounts from a JSON object or array of objects
 * {"csesidx","secure_c_ses","host_c_oses"?,"config_id"}.  All-or-nothing:
 * everything is validated first.  Returns the number added, or -1 with a
 * message in err. */
int accounts_from_json(const struct cJSON *j, char *err, size_t errlen);

/* Full "projects/.../sessions/<id>" name into out. */
void session_full_name(char *out, size_t n, const char *id);
void session_short_name(char *out, size_t n, const char *id);

#endif

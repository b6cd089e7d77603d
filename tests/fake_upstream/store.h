/*
 * store.h - in-memory state of the fake upstream: accounts and their
 * signing keys, sessions, and the files attached to sessions.
 *
 * Everything is owned by this module.  Pointers returned by lookups stay
 * valid until the object is deleted (account_del, session_del,
 * store_reset_sessions); callers running in the single event-loop thread
 * must not keep them across event-loop iterations.
 */
#ifndef FU_STORE_H
#define FU_STORE_H

#include <stddef.h>
#include <stdint.h>

#define KEYS_KEPT 4
#define PROJECT_NUMBER "372889301682"
#define SESSION_PREFIX \
  "collections/default_collection/engines/agentspace-engine/sessions/"
#define FULL_PREFIX "projects/" PROJECT_NUMBER "/locations/global/"

/* Default signing-key lifetime: the getoxsrf expirationTime (5 min). */
#define KEY_LIFETIME_MS 300000

struct sign_key {
  char kid[40];
  unsigned char key[32];
  uint64_t issued_ms;      /* fake clock */
  uint64_t expires_ms;     /* fake clock; JWTs signed with it fail after */
};

struct account {
  char *csesidx;
  char *secure_c_ses;
  char *host_c_oses;       /* NULL = not required */
  char *config_id;
  struct sign_key keys[KEYS_KEPT];
  int nkeys;               /* valid entries */
  int key_next;            /* ring position of the next key */
  int rotate_pending;      /* next refreshcookies issues a new cookie */
  long key_lifetime_ms;    /* 0 = the global setting (fake_cfg) */
  int strict_names;        /* list/download accept only projects/... names */
  struct account *next;
};

struct sfile {
  char file_id[40];
  char *name;
  char *mime;
  size_t size;
  char sha256[65];
  long token_count;
  int ai_generated;
  uint64_t upload_ms;
  int download_attempts;
  uint64_t visible_ms;     /* 0 = listed now; else listed (and downloadable)
                            * from this wall-clock time on (files_after_ms) */
  struct sfile *next;
};

struct turn {
  char *query;             /* truncated copy */
  char state[16];
  uint64_t at_ms;
  struct turn *next;
};

struct session {
  char id[24];
  char *owner;             /* csesidx */
  char *display_name;
  uint64_t created_ms, updated_ms;
  uint64_t epoch;          /* record epoch it was created in */
  struct sfile *files;     /* newest first */
  struct turn *turns, *turns_tail;
  int nturns;
  struct fx *tool_plan;    /* owned (tools.c): the calls of the last tool
                            * directive, for the turns that follow */
  struct session *hnext;   /* hash chain */
  struct session *prev, *next; /* creation order */
};

/* ---- accounts ---- */
/* Adds or replaces (by csesidx) an account; keys survive a replace.
 * host_c_oses may be NULL or "".  Returns the account. */
struct account *account_put(const char *csesidx, const char *secure_c_ses,
                            const char *host_c_oses, const char *config_id);
struct account *account_find(const char *csesidx);
/* Returns 0, or -1 when there is no such account. */
int account_del(const char *csesidx);
struct account *account_first(void);
size_t account_count(void);
/* Issues a new random key (oldest of KEYS_KEPT is dropped) that expires
 * lifetime_ms after now on the fake clock. */
struct sign_key *account_new_key(struct account *a, long lifetime_ms);
struct sign_key *account_key(struct account *a, const char *kid);
void account_revoke_keys(struct account *a);

/* ---- sessions ---- */
/* Creates a session with a fresh 19-20 digit id owned by csesidx. */
struct session *session_new(const char *owner);
/* Looks a session up by any accepted form of its name: bare id,
 * "collections/.../sessions/<id>" or "projects/.../sessions/<id>"
 * (a trailing ":downloadFile" etc. must be cut by the caller). */
struct session *session_find(const char *name);
/* Extracts the id from any accepted name form into out (needs 24 bytes).
 * Returns 0 or -1 when the name is not a session name. */
int session_parse_id(const char *name, size_t n, char *out);
void session_del(struct session *s);
struct session *session_first(void);    /* oldest first */
size_t session_count(void);
/* Drops all sessions. */
void store_reset_sessions(void);
/* Record epoch: sessions created before the last store_new_epoch() are
 * not listed in /__fake/record. */
void store_new_epoch(void);
uint64_t store_epoch(void);

struct sfile *session_add_file(struct session *s, const char *name,
                               const char *mime, size_t size,
                               const char *sha256hex, int ai_generated);
struct sfile *session_file(struct session *s, const char *file_id);
void session_add_turn(struct session *s, const char *query,
                      const char *state);

#endif

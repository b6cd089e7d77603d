/*
 * record.h - what the fake saw, for GET /__fake/record.
 *
 * Requests are kept in a ring of at most REC_MAX_REQUESTS entries and
 * REC_MAX_TEXT bytes of stored text (oldest dropped first).  Each entry is
 * addressed by its sequence number; rec_get returns NULL once an entry
 * has been dropped, so holders of a seq never see a dangling pointer.
 */
#ifndef FU_RECORD_H
#define FU_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "jw.h"

#define REC_MAX_REQUESTS 10000
#define REC_MAX_TEXT ((size_t)256 * 1024 * 1024)

struct rec_req {
  uint64_t seq;
  const char *endpoint;    /* static string */
  char *method;
  char *path;
  char csesidx[32];
  int status;
  char *session;
  char *query_text;
  char **file_ids;
  int nfile_ids;
  char *model_id;          /* NULL = absent */
  char *tools_spec;        /* compact JSON or NULL */
  char *language_code;
  char *mode;              /* effective fx mode name, NULL = normal */
  uint64_t at_ms;
  int done;
  int disconnected;
  int gzip;                /* the answer went out gzip-encoded */
  uint64_t bytes_sent;
  size_t text_bytes;       /* accounted size */
};

/* Creates an entry; returns its seq (never 0). */
uint64_t rec_new(const char *endpoint, const char *method, const char *path);
/* The entry, or NULL when it was evicted (or seq is 0). */
struct rec_req *rec_get(uint64_t seq);
/* Stores a copy of s in *slot (freeing the old value) and accounts for
 * its size. */
void rec_set_str(struct rec_req *r, char **slot, const char *s, size_t n);
void rec_add_file_id(struct rec_req *r, const char *id);

void rec_getoxsrf(const char *csesidx, int status);
void rec_upload(const char *session, const char *file_name,
                const char *mime, size_t size, const char *sha256,
                const char *file_id);
void rec_download(const char *file_id, int status);

extern uint64_t rec_active_streams;
extern uint64_t rec_total_disconnects;

/* Forgets all entries (counters reset too, active_streams kept). */
void rec_reset(void);
/* Writes the whole record object; only requests with seq > since. */
void rec_dump(struct jw *w, uint64_t since);

#endif

/*
 * record.c - request/auth/upload/download records.  See record.h.
 */
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbuf.h"
#include "store.h"
#include "util.h"

uint64_t rec_active_streams;
uint64_t rec_total_disconnects;

static struct rec_req *ring[REC_MAX_REQUESTS];
static uint64_t first_seq = 1, next_seq = 1;  /* live: [first_seq,next_seq) */
static size_t text_total;


/* getoxsrf / uploads / downloads: simple arrays capped at 10000 */
struct gx { char csesidx[32]; int status; uint64_t at_ms; };
struct up { char *session, *name, *mime, *sha, *fid; size_t size;
            uint64_t at_ms; };
struct dl { char fid[40]; int status; uint64_t at_ms; };

#define SMALL_MAX 10000
static struct gx gxs[SMALL_MAX];
static size_t ngx, gx_start;
static struct up ups[SMALL_MAX];
static size_t nup, up_start;
static struct dl dls[SMALL_MAX];
static size_t ndl, dl_start;

static void free_req(struct rec_req *r)
{
  int i;
  text_total -= r->text_bytes;
  free(r->method);
  free(r->path);
  free(r->session);
  free(r->query_text);
  for(i = 0; i < r->nfile_ids; i++)
    free(r->file_ids[i]);
  free(r->file_ids);
  free(r->model_id);
  free(r->tools_spec);
  free(r->language_code);
  free(r->mode);
  free(r);
}

static void evict_one(void)
{
  struct rec_req **slot = &ring[first_seq % REC_MAX_REQUESTS];
  if(*slot) {
    free_req(*slot);
    *slot = NULL;
  }
  first_seq++;
}

uint64_t rec_new(const char *endpoint, const char *method, const char *path)
{
  struct rec_req *r = xcalloc(1, sizeof(*r));
  if(next_seq - first_seq >= REC_MAX_REQUESTS)
    evict_one();
  r->seq = next_seq++;
  r->endpoint = endpoint;
  r->at_ms = now_wall_ms();
  r->method = xstrdup(method);
  rec_set_str(r, &r->path, path, strlen(path));
  ring[r->seq % REC_MAX_REQUESTS] = r;
  return r->seq;
}

struct rec_req *rec_get(uint64_t seq)
{
  if(!seq || seq < first_seq || seq >= next_seq)
    return NULL;
  return ring[seq % REC_MAX_REQUESTS];
}

void rec_set_str(struct rec_req *r, char **slot, const char *s, size_t n)
{
  if(*slot) {
    size_t old = strlen(*slot);
    r->text_bytes -= old;
    text_total -= old;
    free(*slot);
    *slot = NULL;
  }
  if(!s)
    return;
  *slot = xstrndup(s, n);
  r->text_bytes += n;
  text_total += n;
  /* keep the total bounded, never evicting the entry being written */
  while(text_total > REC_MAX_TEXT && first_seq < r->seq)
    evict_one();
}

void rec_add_file_id(struct rec_req *r, const char *id)
{
  r->file_ids = xrealloc(r->file_ids,
                         (size_t)(r->nfile_ids + 1) * sizeof(char *));
  r->file_ids[r->nfile_ids++] = xstrdup(id);
}

void rec_getoxsrf(const char *csesidx, int status)
{
  struct gx *g;
  if(ngx == SMALL_MAX) {
    gx_start = (gx_start + 1) % SMALL_MAX;
    ngx--;
  }
  g = &gxs[(gx_start + ngx++) % SMALL_MAX];
  snprintf(g->csesidx, sizeof(g->csesidx), "%s", csesidx ? csesidx : "");
  g->status = status;
  g->at_ms = now_wall_ms();
}

static void up_free(struct up *u)
{
  free(u->session);
  free(u->name);
  free(u->mime);
  free(u->sha);
  free(u->fid);
  memset(u, 0, sizeof(*u));
}

void rec_upload(const char *session, const char *file_name,
                const char *mime, size_t size, const char *sha256,
                const char *file_id)
{
  struct up *u;
  if(nup == SMALL_MAX) {
    up_free(&ups[up_start]);
    up_start = (up_start + 1) % SMALL_MAX;
    nup--;
  }
  u = &ups[(up_start + nup++) % SMALL_MAX];
  u->session = xstrdup(session);
  u->name = xstrdup(file_name);
  u->mime = xstrdup(mime);
  u->sha = xstrdup(sha256);
  u->fid = xstrdup(file_id);
  u->size = size;
  u->at_ms = now_wall_ms();
}

void rec_download(const char *file_id, int status)
{
  struct dl *d;
  if(ndl == SMALL_MAX) {
    dl_start = (dl_start + 1) % SMALL_MAX;
    ndl--;
  }
  d = &dls[(dl_start + ndl++) % SMALL_MAX];
  snprintf(d->fid, sizeof(d->fid), "%s", file_id ? file_id : "");
  d->status = status;
  d->at_ms = now_wall_ms();
}

void rec_reset(void)
{
  size_t i;
  while(first_seq < next_seq)
    evict_one();
  ngx = gx_start = 0;
  for(i = 0; i < nup; i++)
    up_free(&ups[(up_start + i) % SMALL_MAX]);
  nup = up_start = 0;
  ndl = dl_start = 0;
  rec_total_disconnects = 0;
}

static void dump_req(struct jw *w, const struct rec_req *r)
{
  int i;
  jw_obj(w);
  jw_kint(w, "seq", (long long)r->seq);
  jw_kstr(w, "endpoint", r->endpoint);
  jw_kstr(w, "method", r->method);
  jw_kstr(w, "path", r->path);
  jw_kstr(w, "csesidx", r->csesidx[0] ? r->csesidx : NULL);
  jw_kint(w, "status", r->status);
  jw_kstr(w, "session", r->session);
  jw_kstr(w, "query_text", r->query_text);
  jw_key(w, "file_ids");
  jw_arr(w);
  for(i = 0; i < r->nfile_ids; i++)
    jw_str(w, r->file_ids[i]);
  jw_arr_end(w);
  jw_kstr(w, "model_id", r->model_id);
  jw_kbool(w, "gzip", r->gzip);
  jw_key(w, "tools_spec");
  if(r->tools_spec)
    jw_raw(w, r->tools_spec, strlen(r->tools_spec));
  else
    jw_null(w);
  jw_kstr(w, "language_code", r->language_code);
  jw_kstr(w, "mode", r->mode);
  jw_kint(w, "at_ms", (long long)r->at_ms);
  jw_kbool(w, "done", r->done);
  jw_kbool(w, "disconnected", r->disconnected);
  jw_kint(w, "bytes_sent", (long long)r->bytes_sent);
  jw_obj_end(w);
}

void rec_dump(struct jw *w, uint64_t since)
{
  uint64_t s;
  size_t i;
  struct session *ss;
  jw_obj(w);
  jw_key(w, "getoxsrf");
  jw_arr(w);
  for(i = 0; i < ngx; i++) {
    struct gx *g = &gxs[(gx_start + i) % SMALL_MAX];
    jw_obj(w);
    jw_kstr(w, "csesidx", g->csesidx);
    jw_kint(w, "status", g->status);
    jw_kint(w, "at_ms", (long long)g->at_ms);
    jw_obj_end(w);
  }
  jw_arr_end(w);
  jw_key(w, "requests");
  jw_arr(w);
  for(s = first_seq > since ? first_seq : since + 1; s < next_seq; s++) {
    struct rec_req *r = rec_get(s);
    if(r)
      dump_req(w, r);
  }
  jw_arr_end(w);
  jw_key(w, "sessions");
  jw_arr(w);
  for(ss = session_first(); ss; ss = ss->next) {
    char full[256];
    if(ss->epoch != store_epoch())
      continue;
    snprintf(full, sizeof(full), SESSION_PREFIX "%s", ss->id);
    jw_obj(w);
    jw_kstr(w, "name", full);
    jw_kstr(w, "csesidx", ss->owner);
    jw_obj_end(w);
  }
  jw_arr_end(w);
  jw_key(w, "uploads");
  jw_arr(w);
  for(i = 0; i < nup; i++) {
    struct up *u = &ups[(up_start + i) % SMALL_MAX];
    jw_obj(w);
    jw_kstr(w, "session", u->session);
    jw_kstr(w, "file_name", u->name);
    jw_kstr(w, "mime_type", u->mime);
    jw_kint(w, "size", (long long)u->size);
    jw_kstr(w, "sha256", u->sha);
    jw_kstr(w, "file_id", u->fid);
    jw_kint(w, "at_ms", (long long)u->at_ms);
    jw_obj_end(w);
  }
  jw_arr_end(w);
  jw_key(w, "downloads");
  jw_arr(w);
  for(i = 0; i < ndl; i++) {
    struct dl *d = &dls[(dl_start + i) % SMALL_MAX];
    jw_obj(w);
    jw_kstr(w, "file_id", d->fid);
    jw_kint(w, "status", d->status);
    jw_kint(w, "at_ms", (long long)d->at_ms);
    jw_obj_end(w);
  }
  jw_arr_end(w);
  jw_kint(w, "active_streams", (long long)rec_active_streams);
  jw_kint(w, "total_disconnects", (long long)rec_total_disconnects);
  jw_kint(w, "last_seq", (long long)(next_seq - 1));
  jw_obj_end(w);
}

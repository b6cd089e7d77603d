/*
 * store.c - accounts, keys, sessions and files.  See store.h.
 */
#include "store.h"
#include "fx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbuf.h"
#include "util.h"

static struct account *accounts;
static size_t naccounts;

static struct session **buckets;
static size_t nbuckets, nsessions;
static struct session *s_head, *s_tail;
static uint64_t epoch;

/* ------------------------------------------------------------ accounts */

struct account *account_find(const char *csesidx)
{
  struct account *a;
  if(!csesidx)
    return NULL;
  for(a = accounts; a; a = a->next)
    if(!strcmp(a->csesidx, csesidx))
      return a;
  return NULL;
}

struct account *account_put(const char *csesidx, const char *secure_c_ses,
                            const char *host_c_oses, const char *config_id)
{
  struct account *a = account_find(csesidx);
  if(!a) {
    a = xcalloc(1, sizeof(*a));
    a->csesidx = xstrdup(csesidx);
    /* append to keep configuration order */
    if(!accounts)
      accounts = a;
    else {
      struct account *t = accounts;
      while(t->next)
        t = t->next;
      t->next = a;
    }
    naccounts++;
  }
  free(a->secure_c_ses);
  free(a->host_c_oses);
  free(a->config_id);
  a->secure_c_ses = xstrdup(secure_c_ses);
  a->host_c_oses = host_c_oses && *host_c_oses ? xstrdup(host_c_oses) : NULL;
  a->config_id = xstrdup(config_id);
  return a;
}

int account_del(const char *csesidx)
{
  struct account **pp = &accounts;
  while(*pp) {
    struct account *a = *pp;
    if(!strcmp(a->csesidx, csesidx)) {
      *pp = a->next;
      free(a->csesidx);
      free(a->secure_c_ses);
      free(a->host_c_oses);
      free(a->config_id);
      free(a);
      naccounts--;
      return 0;
    }
    pp = &a->next;
  }
  return -1;
}

struct account *account_first(void)
{
  return accounts;
}

size_t account_count(void)
{
  return naccounts;
}

struct sign_key *account_new_key(struct account *a, long lifetime_ms)
{
  struct sign_key *k = &a->keys[a->key_next];
  unsigned char kb[12];
  struct dbuf d;
  a->key_next = (a->key_next + 1) % KEYS_KEPT;
  if(a->nkeys < KEYS_KEPT)
    a->nkeys++;
  rand_bytes(k->key, sizeof(k->key));
  rand_bytes(kb, sizeof(kb));
  dbuf_init(&d, 64);
  b64url_encode(&d, kb, sizeof(kb));
  snprintf(k->kid, sizeof(k->kid), "%s", dbuf_cstr(&d));
  dbuf_free(&d);
  k->issued_ms = fake_now_ms();
  k->expires_ms = k->issued_ms + (uint64_t)lifetime_ms;
  return k;
}

struct sign_key *account_key(struct account *a, const char *kid)
{
  int i;
  for(i = 0; i < a->nkeys; i++)
    if(!strcmp(a->keys[i].kid, kid))
      return &a->keys[i];
  return NULL;
}

void account_revoke_keys(struct account *a)
{
  memset(a->keys, 0, sizeof(a->keys));
  a->nkeys = 0;
  a->key_next = 0;
}

/* ------------------------------------------------------------ sessions */

static size_t hash_id(const char *s)
{
  uint64_t h = 1469598103934665603ULL;
  while(*s) {
    h ^= (unsigned char)*s++;
    h *= 1099511628211ULL;
  }
  return (size_t)h;
}

static void rehash(size_t n)
{
  struct session **nb = xcalloc(n, sizeof(*nb));
  size_t i;
  for(i = 0; i < nbuckets; i++) {
    struct session *s = buckets[i];
    while(s) {
      struct session *nx = s->hnext;
      size_t b = hash_id(s->id) & (n - 1);
      s->hnext = nb[b];
      nb[b] = s;
      s = nx;
    }
  }
  free(buckets);
  buckets = nb;
  nbuckets = n;
}

static struct session *find_id(const char *id)
{
  struct session *s;
  if(!nbuckets)
    return NULL;
  for(s = buckets[hash_id(id) & (nbuckets - 1)]; s; s = s->hnext)
    if(!strcmp(s->id, id))
      return s;
  return NULL;
}

struct session *session_new(const char *owner)
{
  struct session *s = xcalloc(1, sizeof(*s));
  size_t b;
  do
    rand_digits(s->id);
  while(find_id(s->id));
  s->owner = xstrdup(owner);
  s->display_name = xstrdup("");
  s->created_ms = s->updated_ms = now_wall_ms();
  s->epoch = epoch;
  if(nsessions + 1 > nbuckets)
    rehash(nbuckets ? nbuckets * 2 : 1024);
  b = hash_id(s->id) & (nbuckets - 1);
  s->hnext = buckets[b];
  buckets[b] = s;
  s->prev = s_tail;
  if(s_tail)
    s_tail->next = s;
  else
    s_head = s;
  s_tail = s;
  nsessions++;
  return s;
}

int session_parse_id(const char *name, size_t n, char *out)
{
  size_t i, start = 0;
  const char *p;
  /* the id is whatever follows the last "sessions/" (or the whole name) */
  for(p = name; p + 9 <= name + n; p++)
    if(!memcmp(p, "sessions/", 9))
      start = (size_t)(p - name) + 9;
  if(start) {
    /* the prefix must be one of the two accepted forms */
    static const char full[] = FULL_PREFIX SESSION_PREFIX;
    if(!(start == strlen(SESSION_PREFIX) &&
         !memcmp(name, SESSION_PREFIX, start)) &&
       !(start == strlen(full) && !memcmp(name, full, start)))
      return -1;
  }
  if(n - start == 0 || n - start > 22)
    return -1;
  for(i = start; i < n; i++)
    if(name[i] < '0' || name[i] > '9')
      return -1;
  memcpy(out, name + start, n - start);
  out[n - start] = '\0';
  return 0;
}

struct session *session_find(const char *name)
{
  char id[24];
  if(!name || session_parse_id(name, strlen(name), id))
    return NULL;
  return find_id(id);
}

static void free_session(struct session *s)
{
  struct sfile *f = s->files;
  struct turn *t = s->turns;
  while(f) {
    struct sfile *nx = f->next;
    free(f->name);
    free(f->mime);
    free(f);
    f = nx;
  }
  while(t) {
    struct turn *nx = t->next;
    free(t->query);
    free(t);
    t = nx;
  }
  free(s->owner);
  free(s->display_name);
  if(s->tool_plan) {
    fx_free(s->tool_plan);
    free(s->tool_plan);
  }
  free(s);
}

void session_del(struct session *s)
{
  struct session **pp = &buckets[hash_id(s->id) & (nbuckets - 1)];
  while(*pp && *pp != s)
    pp = &(*pp)->hnext;
  if(*pp)
    *pp = s->hnext;
  if(s->prev)
    s->prev->next = s->next;
  else
    s_head = s->next;
  if(s->next)
    s->next->prev = s->prev;
  else
    s_tail = s->prev;
  nsessions--;
  free_session(s);
}

struct session *session_first(void)
{
  return s_head;
}

size_t session_count(void)
{
  return nsessions;
}

void store_reset_sessions(void)
{
  struct session *s = s_head;
  while(s) {
    struct session *nx = s->next;
    free_session(s);
    s = nx;
  }
  s_head = s_tail = NULL;
  free(buckets);
  buckets = NULL;
  nbuckets = nsessions = 0;
}

void store_new_epoch(void)
{
  epoch++;
}

uint64_t store_epoch(void)
{
  return epoch;
}

struct sfile *session_add_file(struct session *s, const char *name,
                               const char *mime, size_t size,
                               const char *sha256hex, int ai_generated)
{
  struct sfile *f = xcalloc(1, sizeof(*f));
  rand_hex(f->file_id, 32);
  f->name = xstrdup(name);
  f->mime = xstrdup(mime);
  f->size = size;
  snprintf(f->sha256, sizeof(f->sha256), "%s", sha256hex);
  f->ai_generated = ai_generated;
  f->upload_ms = now_wall_ms();
  if(!strncmp(mime, "image/", 6))
    f->token_count = 258;
  else
    f->token_count = size / 4 ? (long)(size / 4) : 1;
  f->next = s->files;
  s->files = f;
  s->updated_ms = now_wall_ms();
  return f;
}

struct sfile *session_file(struct session *s, const char *file_id)
{
  struct sfile *f;
  for(f = s->files; f; f = f->next)
    if(!strcmp(f->file_id, file_id))
      return f;
  return NULL;
}

void session_add_turn(struct session *s, const char *query,
                      const char *state)
{
  struct turn *t;
  size_t ql = strlen(query);
  if(s->nturns >= 100) {
    /* keep the newest 100 turns */
    t = s->turns;
    s->turns = t->next;
    free(t->query);
    free(t);
    s->nturns--;
    if(!s->turns)
      s->turns_tail = NULL;
  }
  t = xcalloc(1, sizeof(*t));
  if(ql > 4096)
    ql = utf8_cut(query, 4096);
  t->query = xstrndup(query, ql);
  snprintf(t->state, sizeof(t->state), "%s", state);
  t->at_ms = now_wall_ms();
  if(s->turns_tail)
    s->turns_tail->next = t;
  else
    s->turns = t;
  s->turns_tail = t;
  s->nturns++;
  s->updated_ms = t->at_ms;
}

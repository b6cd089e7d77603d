/*
 * fx.c - directive parsing and the scenario queue.  See fx.h.
 */
#include "fx.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbuf.h"
#include "util.h"

const char *const endpoint_names[EP_COUNT] = {
  "getoxsrf", "refreshcookies", "create_session", "stream", "add_file",
  "list_files", "download", "list_sessions", "get_session", "delete_session"
};

int endpoint_by_name(const char *name)
{
  int i;
  for(i = 0; i < EP_COUNT; i++)
    if(!strcmp(endpoint_names[i], name))
      return i;
  return -1;
}

void fx_init(struct fx *fx)
{
  memset(fx, 0, sizeof(*fx));
  fx->mode = FX_NORMAL;
  fx->images = 1;
  fx->thoughts = 2;
  fx->fragment_bytes = 12;
  fx->split_ms = 2;
  fx->truncate_after = 3;
  fx->batch = -1;
  fx->files_after_ms = -1;
  fx->video_ms = 5000;
}

void fx_free(struct fx *fx)
{
  int i;
  free(fx->answer);
  fx->answer = NULL;
  for(i = 0; i < fx->ntool; i++) {
    free(fx->tool_name[i]);
    free(fx->tool_args[i]);
  }
  fx->ntool = 0;
  free(fx->tooltext);
  fx->tooltext = NULL;
}

/* Parses a non-negative decimal int (<= max) into *out. */
static int parse_num(const char *v, long max, long *out)
{
  long n = 0;
  if(!v || !*v)
    return -1;
  for(; *v; v++) {
    if(*v < '0' || *v > '9')
      return -1;
    n = n * 10 + (*v - '0');
    if(n > max)
      return -1;
  }
  *out = n;
  return 0;
}

static int parse_flag(const char *v, int *out)
{
  if(!v || !*v || !strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "on"))
    *out = 1;
  else if(!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "off"))
    *out = 0;
  else
    return -1;
  return 0;
}

static int apply_mode(struct fx *fx, const char *m)
{
  static const struct {
    const char *name;
    enum fx_mode mode;
    int status;
  } modes[] = {
    {"normal", FX_NORMAL, 0},
    {"inband429", FX_INBAND429, 0},
    {"notfound", FX_NOTFOUND, 404},
    {"notowned", FX_NOTOWNED, 403},
    {"truncate", FX_TRUNCATE, 0},
    {"truncate_clean", FX_TRUNCATE_CLEAN, 0},
    {"thoughts_only", FX_THOUGHTS_ONLY, 0},
    {"skipped", FX_SKIPPED, 0},
    {"hang", FX_HANG, 0},
    {"expired", FX_EXPIRED, 401},
    {"redirect", FX_REDIRECT, 302},
    {"forbidden", FX_HTTP, 403},
    {"fail_once", FX_FAIL_ONCE, 503},
    {"overloaded", FX_OVERLOADED, 429},
    {"quota", FX_QUOTA, 429},
    {"utoken_only", FX_UTOKEN_ONLY, 0},
  };
  size_t i;
  for(i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
    if(!strcmp(modes[i].name, m)) {
      fx->mode = modes[i].mode;
      fx->http_status = modes[i].status;
      return 0;
    }
  if(!strncmp(m, "http", 4) && strlen(m) == 7) {
    long st;
    if(parse_num(m + 4, 599, &st) || st < 400)
      return -1;
    fx->mode = FX_HTTP;
    fx->http_status = (int)st;
    return 0;
  }
  return -1;
}

int fx_apply(struct fx *fx, const char *name, const char *value)
{
  long n;
  int b;
  if(!strcmp(name, "mode"))
    return value ? apply_mode(fx, value) : -1;
  if(!value && !apply_mode(fx, name))
    return 0;
#define NUMOPT(key, field, max)                 \
  if(!strcmp(name, key)) {                      \
    if(parse_num(value, max, &n))               \
      return -1;                                \
    fx->field = (int)n;                         \
    return 0;                                   \
  }
#define FLAGOPT(key, field)                     \
  if(!strcmp(name, key)) {                      \
    if(parse_flag(value, &b))                   \
      return -1;                                \
    fx->field = b;                              \
    return 0;                                   \
  }
  NUMOPT("headers_ms", headers_ms, 3600000)
  NUMOPT("first_byte_ms", first_byte_ms, 3600000)
  NUMOPT("delay_ms", delay_ms, 3600000)
  NUMOPT("split_ms", split_ms, 60000)
  NUMOPT("images", images, 16)
  NUMOPT("thoughts", thoughts, 1000)
  NUMOPT("fragment_bytes", fragment_bytes, 1 << 20)
  NUMOPT("truncate_after", truncate_after, 1000000)
  NUMOPT("error_after", error_after, 1000000)
  FLAGOPT("split_utf8", split_utf8)
  FLAGOPT("compact", compact)
  FLAGOPT("nogzip", nogzip)
  FLAGOPT("image", image)
  FLAGOPT("batch", batch)
  FLAGOPT("escape_html", escape_html)
  FLAGOPT("rotate", rotate)
  FLAGOPT("mid", mid)
  FLAGOPT("strict_names", strict_names)
  FLAGOPT("inline_data", inline_data)
  FLAGOPT("video", video)
#undef NUMOPT
#undef FLAGOPT
  if(!strcmp(name, "pretty")) {
    if(parse_flag(value, &b))
      return -1;
    fx->compact = !b;
    return 0;
  }
  if(!strcmp(name, "gzip")) {
    if(parse_flag(value, &b))
      return -1;
    fx->nogzip = !b;
    return 0;
  }
  if(!strcmp(name, "nothoughts")) {
    fx->thoughts = 0;
    return 0;
  }
  if(!strcmp(name, "files_after_ms")) {
    if(parse_num(value, 3600000, &n))
      return -1;
    fx->files_after_ms = n;
    return 0;
  }
  if(!strcmp(name, "video_ms")) {
    if(parse_num(value, 3600000, &n))
      return -1;
    fx->video_ms = n;
    return 0;
  }
  if(!strcmp(name, "key_lifetime_ms")) {
    if(parse_num(value, 86400000, &n) || n == 0)
      return -1;
    fx->key_lifetime_ms = n;
    return 0;
  }
  if(!strcmp(name, "fragments")) {
    if(parse_num(value, 100000000, &n))
      return -1;
    fx->fragments = n;
    return 0;
  }
  if(!strcmp(name, "toolcall")) {
    if(!value || !*value || fx->ntool >= FX_MAX_TOOLCALLS)
      return -1;
    fx->tool_name[fx->ntool] = xstrdup(value);
    fx->tool_args[fx->ntool++] = NULL;
    return 0;
  }
  if(!strcmp(name, "args")) {
    if(!value || fx->ntool == 0)
      return -1;
    free(fx->tool_args[fx->ntool - 1]);
    fx->tool_args[fx->ntool - 1] = xstrdup(value);
    return 0;
  }
  if(!strcmp(name, "toolbad")) {
    if(parse_num(value ? value : "1", 100, &n))
      return -1;
    fx->toolbad = (int)n;
    return 0;
  }
  if(!strcmp(name, "toolfence")) {
    fx->toolfence = 1;
    return 0;
  }
  if(!strcmp(name, "tooltext")) {
    if(!value)
      return -1;
    free(fx->tooltext);
    fx->tooltext = xstrdup(value);
    return 0;
  }
  if(!strcmp(name, "answer")) {
    if(!value)
      return -1;
    free(fx->answer);
    fx->answer = xstrdup(value);
    return 0;
  }
  return -1;
}

#define DIR_OPEN "[[fake:"

int fx_parse_text(struct fx *fx, const char *text, size_t n, char *bad,
                  size_t badlen)
{
  const char *p = text, *end = text + n;
  int applied = 0;
  while(p < end) {
    const char *open = memmem(p, (size_t)(end - p), DIR_OPEN, 7);
    const char *close, *q;
    if(!open)
      break;
    q = open + 7;
    close = memmem(q, (size_t)(end - q), "]]", 2);
    if(!close)
      break;
    while(q < close) {
      const char *comma = memchr(q, ',', (size_t)(close - q));
      const char *ie = comma ? comma : close;
      const char *eq;
      const char *ns = q, *ne;
      while(ns < ie && (*ns == ' ' || *ns == '\t'))
        ns++;
      eq = ns < ie ? memchr(ns, '=', (size_t)(ie - ns)) : NULL;
      ne = eq ? eq : ie;
      while(ne > ns && (ne[-1] == ' ' || ne[-1] == '\t'))
        ne--;
      if(ne > ns) {
        char *name = xstrndup(ns, (size_t)(ne - ns));
        char *val = NULL;
        if(eq) {
          struct dbuf d;
          dbuf_init(&d, 64 * 1024 * 1024);
          pct_decode(&d, eq + 1, (size_t)(ie - eq - 1), 0);
          val = xstrndup(dbuf_cstr(&d), d.len);
          dbuf_free(&d);
        }
        if(fx_apply(fx, name, val)) {
          log_msg("unknown directive '%s'", name);
          snprintf(bad, badlen, "%s%s%s", name, val ? "=" : "",
                   val ? val : "");
          free(name);
          free(val);
          return -1;
        }
        applied++;
        free(name);
        free(val);
      }
      q = ie + 1;
    }
    p = close + 2;
  }
  return applied;
}

char *fx_strip(const char *text, size_t n)
{
  struct dbuf d;
  const char *p = text, *end = text + n;
  size_t s, e;
  char *res;
  dbuf_init(&d, n + 1);
  while(p < end) {
    const char *open = memmem(p, (size_t)(end - p), DIR_OPEN, 7);
    const char *close = open ? memmem(open, (size_t)(end - open), "]]", 2)
                             : NULL;
    if(!open || !close) {
      dbuf_add(&d, p, (size_t)(end - p));
      break;
    }
    dbuf_add(&d, p, (size_t)(open - p));
    p = close + 2;
  }
  dbuf_cstr(&d);
  s = 0;
  e = d.len;
  while(s < e && strchr(" \t\r\n", d.p[s]))
    s++;
  while(e > s && strchr(" \t\r\n", d.p[e - 1]))
    e--;
  res = xstrndup(d.p + s, e - s);
  dbuf_free(&d);
  return res;
}

/* ------------------------------------------------------------ scenarios */

struct scenario {
  uint64_t id;
  char *csesidx;           /* NULL = any account */
  enum endpoint ep;
  long count;              /* remaining uses, -1 = unlimited */
  int nkv;
  char **k, **v;
  struct scenario *next;
};

static struct scenario *sc_head, *sc_tail;
static uint64_t sc_next_id = 1;

static void sc_free(struct scenario *s)
{
  int i;
  for(i = 0; i < s->nkv; i++) {
    free(s->k[i]);
    free(s->v[i]);
  }
  free(s->k);
  free(s->v);
  free(s->csesidx);
  free(s);
}

/* Converts a JSON scalar into the string form used by fx_apply. */
static char *json_scalar(const cJSON *it)
{
  char tmp[64];
  if(cJSON_IsString(it))
    return xstrdup(it->valuestring);
  if(cJSON_IsBool(it))
    return xstrdup(cJSON_IsTrue(it) ? "1" : "0");
  if(cJSON_IsNumber(it)) {
    if(it->valuedouble < 0)
      return NULL;
    snprintf(tmp, sizeof(tmp), "%.0f", it->valuedouble);
    return xstrdup(tmp);
  }
  return NULL;
}

int scenario_add(const cJSON *obj, char *err, size_t errlen)
{
  const cJSON *it;
  struct scenario *s;
  struct fx probe;
  const cJSON *ep = cJSON_GetObjectItemCaseSensitive(obj, "endpoint");
  const cJSON *mode = cJSON_GetObjectItemCaseSensitive(obj, "mode");
  const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(obj, "count");
  const cJSON *acct = cJSON_GetObjectItemCaseSensitive(obj, "csesidx");
  int epi;

  if(!cJSON_IsObject(obj)) {
    snprintf(err, errlen, "scenario must be an object");
    return -1;
  }
  epi = cJSON_IsString(ep) ? endpoint_by_name(ep->valuestring) :
        ep ? -1 : EP_STREAM;
  if(epi < 0) {
    snprintf(err, errlen, "unknown endpoint");
    return -1;
  }
  if(cnt && !cJSON_IsNumber(cnt)) {
    snprintf(err, errlen, "count must be a number");
    return -1;
  }
  if(acct && !cJSON_IsString(acct) && !cJSON_IsNumber(acct) &&
     !cJSON_IsNull(acct)) {
    snprintf(err, errlen, "csesidx must be a string");
    return -1;
  }
  s = xcalloc(1, sizeof(*s));
  s->ep = (enum endpoint)epi;
  s->count = cnt ? (long)cnt->valuedouble : 1;
  if(s->count == 0 || s->count < -1) {
    sc_free(s);
    snprintf(err, errlen, "count must be >= 1 or -1");
    return -1;
  }
  if(acct && !cJSON_IsNull(acct))
    s->csesidx = json_scalar(acct);
  fx_init(&probe);
  for(it = obj->child; it; it = it->next) {
    char *val;
    const char *key = it->string;
    if(!strcmp(key, "endpoint") || !strcmp(key, "count") ||
       !strcmp(key, "csesidx"))
      continue;
    if(it == mode && !cJSON_IsString(mode)) {
      snprintf(err, errlen, "mode must be a string");
      goto fail;
    }
    val = json_scalar(it);
    if(!val) {
      snprintf(err, errlen, "bad value for '%s'", key);
      goto fail;
    }
    if(fx_apply(&probe, key, val)) {
      snprintf(err, errlen, "unknown mode or parameter '%s'='%s'", key, val);
      free(val);
      goto fail;
    }
    s->k = xrealloc(s->k, (size_t)(s->nkv + 1) * sizeof(char *));
    s->v = xrealloc(s->v, (size_t)(s->nkv + 1) * sizeof(char *));
    s->k[s->nkv] = xstrdup(key);
    s->v[s->nkv] = val;
    s->nkv++;
  }
  fx_free(&probe);
  s->id = sc_next_id++;
  if(sc_tail)
    sc_tail->next = s;
  else
    sc_head = s;
  sc_tail = s;
  return 0;
fail:
  fx_free(&probe);
  sc_free(s);
  return -1;
}

int scenario_take(const char *csesidx, enum endpoint ep, struct fx *fx)
{
  struct scenario *s, *prev = NULL;
  int i;
  for(s = sc_head; s; prev = s, s = s->next) {
    if(s->ep != ep)
      continue;
    if(s->csesidx && (!csesidx || strcmp(s->csesidx, csesidx)))
      continue;
    for(i = 0; i < s->nkv; i++)
      fx_apply(fx, s->k[i], s->v[i]);
    if(s->count > 0 && --s->count == 0) {
      if(prev)
        prev->next = s->next;
      else
        sc_head = s->next;
      if(sc_tail == s)
        sc_tail = prev;
      sc_free(s);
    }
    return 1;
  }
  return 0;
}

void scenario_clear(void)
{
  struct scenario *s = sc_head;
  while(s) {
    struct scenario *nx = s->next;
    sc_free(s);
    s = nx;
  }
  sc_head = sc_tail = NULL;
}

void scenario_dump(struct jw *w)
{
  struct scenario *s;
  int i;
  jw_arr(w);
  for(s = sc_head; s; s = s->next) {
    jw_obj(w);
    jw_kint(w, "id", (long long)s->id);
    jw_kstr(w, "csesidx", s->csesidx);
    jw_kstr(w, "endpoint", endpoint_names[s->ep]);
    jw_kint(w, "count", s->count);
    for(i = 0; i < s->nkv; i++)
      jw_kstr(w, s->k[i], s->v[i]);
    jw_obj_end(w);
  }
  jw_arr_end(w);
}

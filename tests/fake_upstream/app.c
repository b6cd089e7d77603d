/*
 * app.c - routing, records, logging and reply helpers.  See app.h.
 */
#include "app.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jw.h"
#include "store.h"
#include "util.h"

static int cur_delay_ms;

void app_set_delay(int ms)
{
  cur_delay_ms = ms;
}

struct rec_req *app_rec(struct conn *c)
{
  return rec_get(c->rec_seq);
}

void session_full_name(char *out, size_t n, const char *id)
{
  snprintf(out, n, FULL_PREFIX SESSION_PREFIX "%s", id);
}

void session_short_name(char *out, size_t n, const char *id)
{
  snprintf(out, n, SESSION_PREFIX "%s", id);
}

/* ------------------------------------------------------ delayed replies */

struct delayed {
  int status;
  int started;
  char *ctype;
  char *hdrs;
  struct dbuf body;
};

static void delayed_run(struct conn *c, void *arg)
{
  struct delayed *d = arg;
  http_respond(c, d->status, d->ctype, d->hdrs, d->body.p, d->body.len);
  http_job_finish(c);
}

static void delayed_done(struct conn *c, void *arg, int disconnected)
{
  struct delayed *d = arg;
  (void)c;
  (void)disconnected;
  free(d->ctype);
  free(d->hdrs);
  dbuf_free(&d->body);
  free(d);
}

static const struct http_job_ops delayed_ops = {delayed_run, delayed_done};

void app_reply(struct conn *c, int status, const char *ctype,
               const char *extra_headers, const void *body, size_t n)
{
  struct delayed *d;
  if(cur_delay_ms <= 0) {
    http_respond(c, status, ctype, extra_headers, body, n);
    return;
  }
  d = xcalloc(1, sizeof(*d));
  d->status = status;
  d->ctype = ctype ? xstrdup(ctype) : NULL;
  d->hdrs = extra_headers ? xstrdup(extra_headers) : NULL;
  dbuf_init(&d->body, HTTP_MAX_BODY);
  dbuf_add(&d->body, body, n);
  http_job_start(c, &delayed_ops, d);
  http_job_sleep(c, (uint64_t)cur_delay_ms);
  c->status = status;
  cur_delay_ms = 0;
}

void app_reply_json(struct conn *c, int status, struct dbuf *body)
{
  app_reply(c, status, "application/json; charset=UTF-8",
            "Vary: Origin\r\nVary: X-Origin\r\nVary: Referer\r\n"
            "Server: ESF\r\nX-Content-Type-Options: nosniff\r\n",
            body->p ? body->p : "", body->len);
}

static void hang_run(struct conn *c, void *arg)
{
  (void)arg;
  http_job_idle(c);
}

static void hang_done(struct conn *c, void *arg, int disconnected)
{
  (void)c;
  (void)arg;
  (void)disconnected;
}

static const struct http_job_ops hang_ops = {hang_run, hang_done};

void app_hang(struct conn *c)
{
  http_job_start(c, &hang_ops, NULL);
  http_job_idle(c);
  cur_delay_ms = 0;
}

const char *google_status(int status)
{
  switch(status) {
  case 400: return "INVALID_ARGUMENT";
  case 401: return "UNAUTHENTICATED";
  case 403: return "PERMISSION_DENIED";
  case 404: return "NOT_FOUND";
  case 409: return "ABORTED";
  case 413: return "INVALID_ARGUMENT";
  case 429: return "RESOURCE_EXHAUSTED";
  case 499: return "CANCELLED";
  case 500: return "INTERNAL";
  case 501: return "UNIMPLEMENTED";
  case 503: return "UNAVAILABLE";
  case 504: return "DEADLINE_EXCEEDED";
  default: return status < 500 ? "FAILED_PRECONDITION" : "UNKNOWN";
  }
}

const char *google_message(int status)
{
  switch(status) {
  case 400: return "Request contains an invalid argument.";
  case 401: return "Request had invalid authentication credentials.";
  case 403: return "The caller does not have permission";
  case 404: return "Requested entity was not found.";
  case 429: return "Resource has been exhausted (e.g. check quota).";
  case 500: return "Internal error encountered.";
  case 503: return "The service is currently unavailable.";
  case 504: return "The request timed out.";
  default: return "Request failed.";
  }
}

void app_error(struct conn *c, int status, const char *gstatus,
               const char *fmt, ...)
{
  struct dbuf b, msg;
  struct jw w;
  va_list ap;
  char small[1024];
  dbuf_init(&b, 1 << 20);
  dbuf_init(&msg, 1 << 20);
  if(fmt) {
    va_start(ap, fmt);
    vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    dbuf_adds(&msg, small);
  }
  else
    dbuf_adds(&msg, google_message(status));
  jw_init(&w, &b, 1);
  jw_obj(&w);
  jw_key(&w, "error");
  jw_obj(&w);
  jw_kint(&w, "code", status);
  jw_kstr(&w, "message", dbuf_cstr(&msg));
  jw_kstr(&w, "status", gstatus ? gstatus : google_status(status));
  if(status == 429) {
    jw_key(&w, "details");
    jw_arr(&w);
    jw_obj(&w);
    jw_kstr(&w, "@type", "type.googleapis.com/google.rpc.ErrorInfo");
    jw_kstr(&w, "reason", "LLM_OVERLOADED");
    jw_kstr(&w, "domain", "discoveryengine.googleapis.com");
    jw_obj_end(&w);
    jw_arr_end(&w);
  }
  jw_obj_end(&w);
  jw_obj_end(&w);
  dbuf_addc(&b, '\n');
  app_reply_json(c, status, &b);
  dbuf_free(&b);
  dbuf_free(&msg);
}

void app_error_quota(struct conn *c)
{
  struct dbuf b;
  struct jw w;
  dbuf_init(&b, 1 << 16);
  jw_init(&w, &b, 1);
  jw_obj(&w);
  jw_key(&w, "error");
  jw_obj(&w);
  jw_kint(&w, "code", 429);
  jw_kstr(&w, "message", "Quota exceeded for quota metric 'Assist requests' "
          "and limit 'Assist requests per day per user'.");
  jw_kstr(&w, "status", "RESOURCE_EXHAUSTED");
  jw_key(&w, "details");
  jw_arr(&w);
  jw_obj(&w);
  jw_kstr(&w, "@type", "type.googleapis.com/google.rpc.ErrorInfo");
  jw_kstr(&w, "reason", "RATE_LIMIT_EXCEEDED");
  jw_kstr(&w, "domain", "discoveryengine.googleapis.com");
  jw_obj_end(&w);
  jw_arr_end(&w);
  jw_obj_end(&w);
  jw_obj_end(&w);
  dbuf_addc(&b, '\n');
  app_reply_json(c, 429, &b);
  dbuf_free(&b);
}

/* ---------------------------------------------------------- fake config */

struct fake_cfg fake_cfg = {KEY_LIFETIME_MS, 0, {NULL}, 0};

void fake_cfg_reset(void)
{
  int i;
  for(i = 0; i < fake_cfg.nretired; i++)
    free(fake_cfg.retired[i]);
  memset(&fake_cfg, 0, sizeof(fake_cfg));
  fake_cfg.key_lifetime_ms = KEY_LIFETIME_MS;
}

int fake_cfg_retired(const char *m)
{
  int i;
  for(i = 0; m && i < fake_cfg.nretired; i++)
    if(!strcmp(fake_cfg.retired[i], m))
      return 1;
  return 0;
}

int fake_cfg_apply(const cJSON *j, char *err, size_t errlen)
{
  const cJSON *it, *kl, *sn, *rm;
  int i;
  if(!cJSON_IsObject(j)) {
    snprintf(err, errlen, "config must be an object");
    return -1;
  }
  for(it = j->child; it; it = it->next)
    if(strcmp(it->string, "key_lifetime_ms") &&
       strcmp(it->string, "strict_names") &&
       strcmp(it->string, "retired_models")) {
      snprintf(err, errlen, "unknown config key '%.64s'", it->string);
      return -1;
    }
  kl = cJSON_GetObjectItemCaseSensitive(j, "key_lifetime_ms");
  sn = cJSON_GetObjectItemCaseSensitive(j, "strict_names");
  rm = cJSON_GetObjectItemCaseSensitive(j, "retired_models");
  if(kl && (!cJSON_IsNumber(kl) || kl->valuedouble < 1 ||
            kl->valuedouble > 86400000)) {
    snprintf(err, errlen, "key_lifetime_ms must be 1..86400000");
    return -1;
  }
  if(sn && !cJSON_IsBool(sn)) {
    snprintf(err, errlen, "strict_names must be a boolean");
    return -1;
  }
  if(rm) {
    if(!cJSON_IsArray(rm) || cJSON_GetArraySize(rm) > RETIRED_MAX) {
      snprintf(err, errlen, "retired_models must be an array of at most %d "
               "strings", RETIRED_MAX);
      return -1;
    }
    cJSON_ArrayForEach(it, rm)
      if(!cJSON_IsString(it) || !*it->valuestring) {
        snprintf(err, errlen, "retired_models must hold non-empty strings");
        return -1;
      }
  }
  if(kl)
    fake_cfg.key_lifetime_ms = (long)kl->valuedouble;
  if(sn)
    fake_cfg.strict_names = cJSON_IsTrue(sn);
  if(rm) {
    for(i = 0; i < fake_cfg.nretired; i++)
      free(fake_cfg.retired[i]);
    fake_cfg.nretired = 0;
    cJSON_ArrayForEach(it, rm)
      fake_cfg.retired[fake_cfg.nretired++] = xstrdup(it->valuestring);
  }
  return 0;
}

void fake_cfg_dump(struct jw *w)
{
  int i;
  jw_obj(w);
  jw_kbool(w, "ok", 1);
  jw_kint(w, "key_lifetime_ms", fake_cfg.key_lifetime_ms);
  jw_kbool(w, "strict_names", fake_cfg.strict_names);
  jw_key(w, "retired_models");
  jw_arr(w);
  for(i = 0; i < fake_cfg.nretired; i++)
    jw_str(w, fake_cfg.retired[i]);
  jw_arr_end(w);
  jw_obj_end(w);
}

long fake_key_lifetime(const struct account *a, const struct fx *fx)
{
  if(fx && fx->key_lifetime_ms > 0)
    return fx->key_lifetime_ms;
  if(a && a->key_lifetime_ms > 0)
    return a->key_lifetime_ms;
  return fake_cfg.key_lifetime_ms;
}

/* ------------------------------------------------------------ API glue */

struct account *app_auth(struct conn *c)
{
  const char *why = NULL;
  struct account *a = jwt_verify(http_header(&c->req, "authorization"),
                                 &why);
  struct rec_req *r = app_rec(c);
  if(!a) {
    log_req("auth failed for %s: %s", c->req.path, why ? why : "?");
    app_error(c, 401, "UNAUTHENTICATED", NULL);
    return NULL;
  }
  snprintf(c->csesidx, sizeof(c->csesidx), "%s", a->csesidx);
  if(r)
    snprintf(r->csesidx, sizeof(r->csesidx), "%s", a->csesidx);
  return a;
}

cJSON *app_json_body(struct conn *c)
{
  cJSON *j;
  if(!c->req.body.len) {
    app_error(c, 400, NULL, "Invalid JSON payload received. Empty body.");
    return NULL;
  }
  j = cJSON_ParseWithLength(c->req.body.p, c->req.body.len);
  if(!j) {
    app_error(c, 400, NULL,
              "Invalid JSON payload received. Unexpected token.");
    return NULL;
  }
  if(!cJSON_IsObject(j)) {
    cJSON_Delete(j);
    app_error(c, 400, NULL,
              "Invalid JSON payload received. Expected an object.");
    return NULL;
  }
  return j;
}

int app_check_config(struct conn *c, const cJSON *body,
                     const struct account *a)
{
  const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(body, "configId");
  if(!cJSON_IsString(cfg) || strcmp(cfg->valuestring, a->config_id)) {
    app_error(c, 403, "PERMISSION_DENIED",
              "Permission denied on resource configId '%.200s' "
              "(or it may not exist).",
              cJSON_IsString(cfg) ? cfg->valuestring : "");
    return -1;
  }
  return 0;
}

int app_fx_errors(struct conn *c, const struct fx *fx, const char *session)
{
  switch(fx->mode) {
  case FX_HTTP:
    app_error(c, fx->http_status, NULL, NULL);
    return 1;
  case FX_NOTFOUND:
    app_error(c, 404, "NOT_FOUND", "Session %.300s not found.",
              session ? session : "");
    return 1;
  case FX_NOTOWNED:
    app_error(c, 403, "PERMISSION_DENIED",
              "Permission denied: session is not owned by the provided "
              "user.");
    return 1;
  case FX_HANG:
    app_hang(c);
    return 1;
  case FX_OVERLOADED:
    app_error(c, 429, NULL, NULL);
    return 1;
  case FX_QUOTA:
    app_error_quota(c);
    return 1;
  default:
    return 0;
  }
}

/* ------------------------------------------------------------- routing */

#define API_PREFIX "/v1alpha/locations/global/"

static int has_suffix(const char *s, const char *suf)
{
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && !strcmp(s + a - b, suf);
}

static void route(struct conn *c)
{
  const char *p = c->req.path;
  const char *m = c->req.method;
  const char *ep = NULL;
  enum { R_NONE, R_OX, R_REFRESH, R_CREATE, R_STREAM, R_ADD, R_LIST,
         R_DL_A, R_DL_B, R_LS, R_GS, R_DS, R_CONTROL } r = R_NONE;

  app_set_delay(0);
  if(!strncmp(p, "/__fake/", 8) || !strcmp(p, "/__fake")) {
    c->endpoint = "control";
    h_control(c);
    return;
  }
  if(!strcmp(p, "/auth/getoxsrf")) {
    r = R_OX;
    ep = "getoxsrf";
  }
  else if(!strcmp(p, "/auth/refreshcookies")) {
    r = R_REFRESH;
    ep = "refreshcookies";
  }
  else if(!strncmp(p, API_PREFIX, strlen(API_PREFIX))) {
    const char *op = p + strlen(API_PREFIX);
    static const struct { const char *op; int r; const char *ep; } ops[] = {
      {"widgetCreateSession", R_CREATE, "create_session"},
      {"widgetStreamAssist", R_STREAM, "stream"},
      {"widgetAddContextFile", R_ADD, "add_file"},
      {"widgetListSessionFileMetadata", R_LIST, "list_files"},
      {"widgetListSessions", R_LS, "list_sessions"},
      {"widgetGetSession", R_GS, "get_session"},
      {"widgetDeleteSession", R_DS, "delete_session"},
    };
    size_t i;
    for(i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
      if(!strcmp(op, ops[i].op)) {
        r = ops[i].r;
        ep = ops[i].ep;
      }
  }
  if(r == R_NONE && has_suffix(p, ":downloadFile")) {
    if(!strncmp(p, "/v1alpha/", 9)) {
      r = R_DL_A;
      ep = "download";
    }
    else if(!strncmp(p, "/download/v1alpha/", 18)) {
      r = R_DL_B;
      ep = "download";
    }
  }
  c->endpoint = ep ? ep : "unknown";
  c->rec_seq = rec_new(c->endpoint, m, p);

  switch(r) {
  case R_OX: h_getoxsrf(c); return;
  case R_REFRESH: h_refreshcookies(c); return;
  case R_CREATE: h_create_session(c); return;
  case R_STREAM: h_stream(c); return;
  case R_ADD: h_add_file(c); return;
  case R_LIST: h_list_files(c); return;
  case R_DL_A: h_download(c, 0); return;
  case R_DL_B: h_download(c, 1); return;
  case R_LS: h_list_sessions(c); return;
  case R_GS: h_get_session(c); return;
  case R_DS: h_delete_session(c); return;
  default:
    app_error(c, 404, "NOT_FOUND", "Method not found.");
    return;
  }
}

static void finished(struct conn *c, int disconnected)
{
  struct rec_req *r = app_rec(c);
  uint64_t ms = now_mono_ms() - c->start_ms;
  if(r) {
    r->status = c->status;
    r->done = 1;
    r->disconnected = disconnected;
    r->bytes_sent = c->bytes_sent;
  }
  if(disconnected)
    rec_total_disconnects++;
  if(c->endpoint && !strcmp(c->endpoint, "control"))
    return;  /* keep test logs readable */
  log_req("%s %s -> %d %lluB %llums%s%s%s", c->req.method ? c->req.method
          : "-", c->req.path ? c->req.path : "-", c->status,
          (unsigned long long)c->bytes_sent, (unsigned long long)ms,
          c->csesidx[0] ? " csesidx=" : "", c->csesidx,
          disconnected ? " DISCONNECTED" : "");
}

const struct http_app fake_app = {route, finished};

int app_api_prologue(struct conn *c, enum endpoint ep, struct account **pa,
                     cJSON **pbody, struct fx *fx)
{
  struct account *a;
  cJSON *body;
  if(strcmp(c->req.method, "POST")) {
    app_error(c, 405, "INVALID_ARGUMENT", "Method %s not allowed.",
              c->req.method);
    return -1;
  }
  a = app_auth(c);
  if(!a)
    return -1;
  body = app_json_body(c);
  if(!body)
    return -1;
  if(app_check_config(c, body, a)) {
    cJSON_Delete(body);
    return -1;
  }
  scenario_take(a->csesidx, ep, fx);
  app_set_delay(fx->headers_ms);
  *pa = a;
  *pbody = body;
  return 0;
}

struct session *app_session(struct conn *c, const char *name,
                            const struct account *a)
{
  char id[24];
  struct session *s;
  if(!name || session_parse_id(name, strlen(name), id)) {
    app_error(c, 400, "INVALID_ARGUMENT",
              "Invalid session name '%.300s'.", name ? name : "");
    return NULL;
  }
  s = session_find(id);
  if(!s) {
    char full[256];
    session_full_name(full, sizeof(full), id);
    app_error(c, 404, "NOT_FOUND", "Session %s not found.", full);
    return NULL;
  }
  if(strcmp(s->owner, a->csesidx)) {
    app_error(c, 403, "PERMISSION_DENIED",
              "Permission denied: session is not owned by the provided "
              "user.");
    return NULL;
  }
  return s;
}

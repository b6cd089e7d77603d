/*
 * control.c - the unauthenticated test control API under /__fake/.
 * See README.md for the reference.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "evloop.h"
#include "png.h"
#include "store.h"
#include "util.h"

static void ctl_json(struct conn *c, int status, struct dbuf *b)
{
  dbuf_addc(b, '\n');
  http_respond(c, status, "application/json", "Cache-Control: no-store\r\n",
               b->p, b->len);
}

static void ctl_ok(struct conn *c, const char *extra_key, long long v)
{
  struct dbuf b;
  struct jw w;
  dbuf_init(&b, 4096);
  jw_init(&w, &b, 0);
  jw_obj(&w);
  jw_kbool(&w, "ok", 1);
  if(extra_key)
    jw_kint(&w, extra_key, v);
  jw_obj_end(&w);
  ctl_json(c, 200, &b);
  dbuf_free(&b);
}

static void ctl_fail(struct conn *c, int status, const char *msg)
{
  struct dbuf b;
  struct jw w;
  dbuf_init(&b, 4096);
  jw_init(&w, &b, 0);
  jw_obj(&w);
  jw_kbool(&w, "ok", 0);
  jw_kstr(&w, "error", msg);
  jw_obj_end(&w);
  ctl_json(c, status, &b);
  dbuf_free(&b);
}

/* Returns a malloc'ed string form of a string-or-number item, or NULL. */
static char *str_or_num(const cJSON *it)
{
  char tmp[64];
  if(cJSON_IsString(it))
    return xstrdup(it->valuestring);
  if(cJSON_IsNumber(it) && it->valuedouble >= 0) {
    snprintf(tmp, sizeof(tmp), "%.0f", it->valuedouble);
    return xstrdup(tmp);
  }
  return NULL;
}

static int account_valid(const cJSON *o, char *err, size_t errlen)
{
  char *cs;
  const char *p;
  const cJSON *ses, *cfg, *host;
  if(!cJSON_IsObject(o)) {
    snprintf(err, errlen, "account must be an object");
    return -1;
  }
  cs = str_or_num(cJSON_GetObjectItemCaseSensitive(o, "csesidx"));
  if(!cs || !*cs || strlen(cs) > 24) {
    free(cs);
    snprintf(err, errlen, "csesidx must be 1-24 decimal digits");
    return -1;
  }
  for(p = cs; *p; p++)
    if(*p < '0' || *p > '9') {
      free(cs);
      snprintf(err, errlen, "csesidx must be 1-24 decimal digits");
      return -1;
    }
  free(cs);
  ses = cJSON_GetObjectItemCaseSensitive(o, "secure_c_ses");
  cfg = cJSON_GetObjectItemCaseSensitive(o, "config_id");
  host = cJSON_GetObjectItemCaseSensitive(o, "host_c_oses");
  if(!cJSON_IsString(ses) || !*ses->valuestring) {
    snprintf(err, errlen, "secure_c_ses must be a non-empty string");
    return -1;
  }
  if(!cJSON_IsString(cfg) || !*cfg->valuestring) {
    snprintf(err, errlen, "config_id must be a non-empty string");
    return -1;
  }
  if(host && !cJSON_IsString(host) && !cJSON_IsNull(host)) {
    snprintf(err, errlen, "host_c_oses must be a string");
    return -1;
  }
  {
    const cJSON *kl = cJSON_GetObjectItemCaseSensitive(o, "key_lifetime_ms");
    const cJSON *sn = cJSON_GetObjectItemCaseSensitive(o, "strict_names");
    const cJSON *it;
    if(kl && (!cJSON_IsNumber(kl) || kl->valuedouble < 1 ||
              kl->valuedouble > 86400000)) {
      snprintf(err, errlen, "key_lifetime_ms must be 1..86400000");
      return -1;
    }
    if(sn && !cJSON_IsBool(sn)) {
      snprintf(err, errlen, "strict_names must be a boolean");
      return -1;
    }
    for(it = o->child; it; it = it->next)
      if(strcmp(it->string, "csesidx") && strcmp(it->string, "secure_c_ses") &&
         strcmp(it->string, "host_c_oses") && strcmp(it->string, "config_id") &&
         strcmp(it->string, "key_lifetime_ms") &&
         strcmp(it->string, "strict_names")) {
        snprintf(err, errlen, "unknown account field '%.64s'", it->string);
        return -1;
      }
  }
  return 0;
}

int accounts_from_json(const cJSON *j, char *err, size_t errlen)
{
  const cJSON *it;
  int n = 0;
  if(cJSON_IsArray(j)) {
    cJSON_ArrayForEach(it, j)
      if(account_valid(it, err, errlen))
        return -1;
  }
  else if(account_valid(j, err, errlen))
    return -1;
  for(it = cJSON_IsArray(j) ? j->child : j; it;
      it = cJSON_IsArray(j) ? it->next : NULL) {
    char *cs = str_or_num(cJSON_GetObjectItemCaseSensitive(it, "csesidx"));
    const cJSON *host = cJSON_GetObjectItemCaseSensitive(it, "host_c_oses");
    const cJSON *kl = cJSON_GetObjectItemCaseSensitive(it, "key_lifetime_ms");
    struct account *a = account_put(cs,
      cJSON_GetObjectItemCaseSensitive(it, "secure_c_ses")->valuestring,
      cJSON_IsString(host) ? host->valuestring : NULL,
      cJSON_GetObjectItemCaseSensitive(it, "config_id")->valuestring);
    a->key_lifetime_ms = kl ? (long)kl->valuedouble : 0;
    a->strict_names = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
                                     it, "strict_names"));
    free(cs);
    n++;
  }
  return n;
}

static cJSON *ctl_body(struct conn *c)
{
  cJSON *j = NULL;
  if(c->req.body.len)
    j = cJSON_ParseWithLength(c->req.body.p, c->req.body.len);
  if(!j)
    ctl_fail(c, 400, "body must be valid JSON");
  return j;
}

static void accounts_list(struct conn *c)
{
  struct dbuf b;
  struct jw w;
  struct account *a;
  dbuf_init(&b, 16 * 1024 * 1024);
  jw_init(&w, &b, 0);
  jw_arr(&w);
  for(a = account_first(); a; a = a->next) {
    jw_obj(&w);
    jw_kstr(&w, "csesidx", a->csesidx);
    jw_kstr(&w, "config_id", a->config_id);
    jw_kbool(&w, "host_c_oses_required", a->host_c_oses != NULL);
    jw_kint(&w, "keys", a->nkeys);
    jw_obj_end(&w);
  }
  jw_arr_end(&w);
  ctl_json(c, 200, &b);
  dbuf_free(&b);
}

static void scenario_post(struct conn *c)
{
  cJSON *j = ctl_body(c);
  const cJSON *it;
  char err[256];
  int n = 0;
  if(!j)
    return;
  if(cJSON_IsArray(j)) {
    cJSON_ArrayForEach(it, j) {
      if(scenario_add(it, err, sizeof(err))) {
        ctl_fail(c, 400, err);
        goto out;
      }
      n++;
    }
  }
  else {
    if(scenario_add(j, err, sizeof(err))) {
      ctl_fail(c, 400, err);
      goto out;
    }
    n = 1;
  }
  ctl_ok(c, "queued", n);
out:
  cJSON_Delete(j);
}

static void info(struct conn *c)
{
  struct dbuf b;
  struct jw w;
  dbuf_init(&b, 4096);
  jw_init(&w, &b, 0);
  jw_obj(&w);
  jw_kstr(&w, "png_sha256", png_sha256());
  jw_kint(&w, "png_size", (long long)png_size());
  jw_kstr(&w, "mp4_sha256", mp4_sha256());
  jw_kint(&w, "accounts", (long long)account_count());
  jw_kint(&w, "sessions", (long long)session_count());
  jw_kint(&w, "connections", (long long)http_conns_open);
  jw_kint(&w, "timers", (long long)ev_timer_count());
  jw_kint(&w, "active_streams", (long long)rec_active_streams);
  jw_obj_end(&w);
  ctl_json(c, 200, &b);
  dbuf_free(&b);
}

void h_control(struct conn *c)
{
  const char *p = c->req.path + 7;  /* at "/..." after "/__fake" */
  const char *m = c->req.method;
  int get = !strcmp(m, "GET"), post = !strcmp(m, "POST"),
      del = !strcmp(m, "DELETE");

  if(!strcmp(p, "/health") && get) {
    http_respond(c, 200, "text/plain", NULL, "ok", 2);
    return;
  }
  if(!strcmp(p, "/info") && get) {
    info(c);
    return;
  }
  if(!strcmp(p, "/accounts")) {
    if(get) {
      accounts_list(c);
      return;
    }
    if(post) {
      cJSON *j = ctl_body(c);
      char err[256];
      int n;
      if(!j)
        return;
      n = accounts_from_json(j, err, sizeof(err));
      cJSON_Delete(j);
      if(n < 0)
        ctl_fail(c, 400, err);
      else
        ctl_ok(c, "added", n);
      return;
    }
  }
  if(!strncmp(p, "/accounts/", 10)) {
    const char *cs = p + 10;
    const char *slash = strchr(cs, '/');
    if(slash && post && !strcmp(slash, "/revoke_keys")) {
      char *id = xstrndup(cs, (size_t)(slash - cs));
      struct account *a = account_find(id);
      free(id);
      if(!a) {
        ctl_fail(c, 404, "no such account");
        return;
      }
      account_revoke_keys(a);
      ctl_ok(c, NULL, 0);
      return;
    }
    if(!slash && del) {
      if(account_del(cs))
        ctl_fail(c, 404, "no such account");
      else
        ctl_ok(c, NULL, 0);
      return;
    }
  }
  if(!strcmp(p, "/scenario") || !strcmp(p, "/scenarios")) {
    if(post) {
      scenario_post(c);
      return;
    }
    if(del) {
      scenario_clear();
      ctl_ok(c, NULL, 0);
      return;
    }
    if(get) {
      struct dbuf b;
      struct jw w;
      dbuf_init(&b, 16 * 1024 * 1024);
      jw_init(&w, &b, 0);
      scenario_dump(&w);
      ctl_json(c, 200, &b);
      dbuf_free(&b);
      return;
    }
  }
  if(!strcmp(p, "/record") && get) {
    struct dbuf b;
    struct jw w;
    char *since = query_param(c->req.query, "since");
    uint64_t s = since ? strtoull(since, NULL, 10) : 0;
    free(since);
    dbuf_init(&b, (size_t)2 * 1024 * 1024 * 1024);
    jw_init(&w, &b, 0);
    rec_dump(&w, s);
    ctl_json(c, 200, &b);
    dbuf_free(&b);
    return;
  }
  if(!strcmp(p, "/clock")) {
    if(post) {
      cJSON *j = ctl_body(c);
      const cJSON *adv, *set;
      if(!j)
        return;
      adv = cJSON_GetObjectItemCaseSensitive(j, "advance_ms");
      set = cJSON_GetObjectItemCaseSensitive(j, "set_ms");
      if(cJSON_GetArraySize(j) != 1 || (!cJSON_IsNumber(adv) &&
                                         !cJSON_IsNumber(set)) ||
         (adv && (adv->valuedouble < 0 || adv->valuedouble > 1e11)) ||
         (set && (set->valuedouble < 0 || set->valuedouble > 1e14))) {
        cJSON_Delete(j);
        ctl_fail(c, 400, "body must be {\"advance_ms\":N>=0} or "
                 "{\"set_ms\":EPOCH_MS}");
        return;
      }
      if(adv)
        fake_clock_set_offset_ms(fake_clock_offset_ms() +
                                 (int64_t)adv->valuedouble);
      else
        fake_clock_set_offset_ms((int64_t)set->valuedouble -
                                 (int64_t)now_wall_ms());
      cJSON_Delete(j);
    }
    if(post || get) {
      struct dbuf b;
      struct jw w;
      dbuf_init(&b, 4096);
      jw_init(&w, &b, 0);
      jw_obj(&w);
      jw_kbool(&w, "ok", 1);
      jw_kint(&w, "now_ms", (long long)fake_now_ms());
      jw_kint(&w, "offset_ms", (long long)fake_clock_offset_ms());
      jw_obj_end(&w);
      ctl_json(c, 200, &b);
      dbuf_free(&b);
      return;
    }
  }
  if(!strcmp(p, "/config")) {
    if(post) {
      cJSON *j = ctl_body(c);
      char err[256];
      int rc;
      if(!j)
        return;
      rc = fake_cfg_apply(j, err, sizeof(err));
      cJSON_Delete(j);
      if(rc) {
        ctl_fail(c, 400, err);
        return;
      }
    }
    if(post || get) {
      struct dbuf b;
      struct jw w;
      dbuf_init(&b, 4096);
      jw_init(&w, &b, 0);
      fake_cfg_dump(&w);
      ctl_json(c, 200, &b);
      dbuf_free(&b);
      return;
    }
  }
  if(!strcmp(p, "/reset") && post) {
    char *ss = query_param(c->req.query, "sessions");
    rec_reset();
    scenario_clear();
    fake_cfg_reset();
    fake_clock_set_offset_ms(0);
    store_new_epoch();
    if(ss && strcmp(ss, "0"))
      store_reset_sessions();
    free(ss);
    ctl_ok(c, NULL, 0);
    return;
  }
  ctl_fail(c, 404, "unknown control route or method");
}

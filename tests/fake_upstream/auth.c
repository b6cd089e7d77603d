/*
 * auth.c - GET /auth/getoxsrf, GET /auth/refreshcookies and bearer JWT
 * verification (protocol section 2).
 *
 * Keys: every successful getoxsrf issues a fresh 32-byte key; the last
 * KEYS_KEPT keys of an account stay valid so a JWT signed with a key that
 * was just replaced still verifies, but only until the key's expiry (the
 * announced expirationTime, 5 min by default; shorter per account, per
 * getoxsrf scenario or fake-wide).  A JWT needs iat, nbf and exp, at most
 * JWT_MAX_LIFE seconds between nbf (or iat) and exp, as the real service
 * issues them; all times are on the fake's clock (POST /__fake/clock).
 */
#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "store.h"
#include "util.h"

#define XSSI ")]}'\n"
#define OX_CTYPE "application/json; charset=utf-8"
#define JWT_AUD "https://biz-discoveryengine.googleapis.com"
#define JWT_ISS "https://business.gemini.google"
#define JWT_SKEW 5.0
#define JWT_MAX_LIFE 300.0
#define JWT_MAX 8192

/* Value of cookie `name` from all Cookie headers (malloc'ed) or NULL. */
static char *cookie_get(const struct http_req *r, const char *name)
{
  size_t nl = strlen(name);
  int i;
  for(i = 0; i < r->nhdr; i++) {
    const char *p;
    if(!ieq(r->hdr[i].name, "cookie"))
      continue;
    p = r->hdr[i].value;
    while(*p) {
      const char *e = strchr(p, ';');
      const char *eq;
      size_t seg;
      while(*p == ' ' || *p == '\t')
        p++;
      e = strchr(p, ';');
      seg = e ? (size_t)(e - p) : strlen(p);
      eq = memchr(p, '=', seg);
      if(eq && (size_t)(eq - p) == nl && !memcmp(p, name, nl)) {
        const char *v = eq + 1;
        size_t vl = seg - nl - 1;
        while(vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
          vl--;
        if(vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
          v++;
          vl -= 2;
        }
        return xstrndup(v, vl);
      }
      if(!e)
        break;
      p = e + 1;
    }
  }
  return NULL;
}

/* Does the request carry the account's cookies? */
static int cookies_ok(const struct http_req *r, const struct account *a)
{
  char *ses = cookie_get(r, "__Secure-C_SES");
  char *oses = cookie_get(r, "__Host-C_OSES");
  int ok = ses && !strcmp(ses, a->secure_c_ses) &&
           (!a->host_c_oses || (oses && !strcmp(oses, a->host_c_oses)));
  free(ses);
  free(oses);
  return ok;
}

static void ox_reply(struct conn *c, int status, const char *json,
                     const char *extra)
{
  struct dbuf b;
  dbuf_init(&b, 4096);
  dbuf_adds(&b, XSSI);
  dbuf_adds(&b, json);
  app_reply(c, status, OX_CTYPE, extra, b.p, b.len);
  dbuf_free(&b);
}

static void ox_expired(struct conn *c)
{
  ox_reply(c, 401, "{\"message\":\"Session has expired.\","
                   "\"status\":\"EXPIRED_SIGN_IN\"}", NULL);
}

static void ox_redirect(struct conn *c, const char *csesidx)
{
  struct dbuf hdr, cont, enc;
  const char *host = http_header(&c->req, "host");
  size_t i;
  dbuf_init(&hdr, 8192);
  dbuf_init(&cont, 4096);
  dbuf_init(&enc, 8192);
  dbuf_addf(&cont, "http://%s/auth/getoxsrf?csesidx=%s",
            host ? host : "localhost", csesidx);
  for(i = 0; i < cont.len; i++) {
    unsigned char ch = (unsigned char)cont.p[i];
    if((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
       (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.')
      dbuf_addc(&enc, (char)ch);
    else
      dbuf_addf(&enc, "%%%02X", ch);
  }
  dbuf_addf(&hdr, "Location: /auth/refreshcookies?continue=%s\r\n",
            dbuf_cstr(&enc));
  app_reply(c, 302, "text/html; charset=UTF-8", dbuf_cstr(&hdr),
            "<HTML><BODY>Moved</BODY></HTML>\n", 32);
  dbuf_free(&hdr);
  dbuf_free(&cont);
  dbuf_free(&enc);
}

void h_getoxsrf(struct conn *c)
{
  char *csesidx = query_param(c->req.query, "csesidx");
  struct account *a;
  struct fx fx;
  struct rec_req *r = app_rec(c);

  fx_init(&fx);
  if(csesidx) {
    snprintf(c->csesidx, sizeof(c->csesidx), "%s", csesidx);
    if(r)
      snprintf(r->csesidx, sizeof(r->csesidx), "%s", csesidx);
  }
  if(strcmp(c->req.method, "GET")) {
    ox_reply(c, 405, "{\"message\":\"Method not allowed.\"}", NULL);
    goto out;
  }
  scenario_take(csesidx, EP_GETOXSRF, &fx);
  app_set_delay(fx.headers_ms);
  a = account_find(csesidx);
  switch(fx.mode) {
  case FX_EXPIRED:
    ox_expired(c);
    goto out;
  case FX_REDIRECT:
    if(a)
      a->rotate_pending = fx.rotate;
    ox_redirect(c, csesidx ? csesidx : "");
    goto out;
  case FX_HANG:
    app_hang(c);
    goto out;
  case FX_HTTP:
    if(fx.http_status == 401)
      ox_expired(c);
    else if(fx.http_status == 403)
      ox_reply(c, 403, "{\"message\":\"Access Restricted\","
                       "\"status\":\"PERMISSION_DENIED\"}", NULL);
    else if(fx.http_status == 429)
      ox_reply(c, 429, "{\"message\":\"Too many requests.\","
                       "\"status\":\"RESOURCE_EXHAUSTED\"}", NULL);
    else {
      char body[160];
      snprintf(body, sizeof(body),
               "{\"message\":\"Backend error.\",\"status\":\"%s\"}",
               google_status(fx.http_status));
      ox_reply(c, fx.http_status, body, NULL);
    }
    goto out;
  default:
    break;
  }
  if(!a || !cookies_ok(&c->req, a)) {
    ox_expired(c);
    goto out;
  }
  {
    struct sign_key *k = account_new_key(a, fake_key_lifetime(a, &fx));
    struct dbuf tok, body;
    struct jw w;
    char exp[40];
    dbuf_init(&tok, 128);
    dbuf_init(&body, 1024);
    b64url_encode(&tok, k->key, sizeof(k->key));
    fmt_rfc3339(exp, sizeof(exp), k->expires_ms);
    dbuf_adds(&body, XSSI);
    jw_init(&w, &body, 0);
    jw_obj(&w);
    jw_kstr(&w, "xsrfToken", dbuf_cstr(&tok));
    jw_kstr(&w, "keyId", k->kid);
    jw_kstr(&w, "expirationTime", exp);
    jw_obj_end(&w);
    app_reply(c, 200, OX_CTYPE, NULL, body.p, body.len);
    dbuf_free(&tok);
    dbuf_free(&body);
  }
out:
  rec_getoxsrf(csesidx, c->status);
  fx_free(&fx);
  free(csesidx);
}

void h_refreshcookies(struct conn *c)
{
  char *cont = query_param(c->req.query, "continue");
  char *csesidx = NULL;
  struct account *a;
  const char *q = cont ? strchr(cont, '?') : NULL;
  struct dbuf hdr;

  dbuf_init(&hdr, 8192);
  if(q)
    csesidx = query_param(q + 1, "csesidx");
  a = account_find(csesidx);
  if(csesidx)
    snprintf(c->csesidx, sizeof(c->csesidx), "%s", csesidx);
  if(!cont || !a || !cookies_ok(&c->req, a)) {
    ox_expired(c);
    goto out;
  }
  if(a->rotate_pending) {
    /* both cookies rotate; from now on only the new values sign in */
    char nv[40];
    rand_hex(nv, 24);
    free(a->secure_c_ses);
    a->secure_c_ses = xstrdup(nv);
    if(a->host_c_oses) {
      rand_hex(nv, 24);
      free(a->host_c_oses);
      a->host_c_oses = xstrdup(nv);
    }
    a->rotate_pending = 0;
  }
  dbuf_addf(&hdr, "Location: %s\r\nSet-Cookie: __Secure-C_SES=%s; "
            "Path=/; Secure; HttpOnly; SameSite=None\r\n", cont,
            a->secure_c_ses);
  if(a->host_c_oses)
    dbuf_addf(&hdr, "Set-Cookie: __Host-C_OSES=%s; Path=/; Secure; "
              "HttpOnly; SameSite=None\r\n", a->host_c_oses);
  app_reply(c, 302, "text/html; charset=UTF-8", dbuf_cstr(&hdr),
            "<HTML><BODY>Moved</BODY></HTML>\n", 32);
out:
  dbuf_free(&hdr);
  free(cont);
  free(csesidx);
}

/* ----------------------------------------------------------------- JWT */

static cJSON *decode_part(const char *s, size_t n)
{
  struct dbuf d;
  cJSON *j = NULL;
  dbuf_init(&d, JWT_MAX);
  if(!b64url_decode(&d, s, n) && d.len)
    j = cJSON_ParseWithLength(d.p, d.len);
  dbuf_free(&d);
  if(j && !cJSON_IsObject(j)) {
    cJSON_Delete(j);
    j = NULL;
  }
  return j;
}

static const char *jstr(const cJSON *o, const char *k)
{
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(it) ? it->valuestring : NULL;
}

struct account *jwt_verify(const char *authz, const char **why)
{
  const char *tok, *d1, *d2;
  cJSON *hdr = NULL, *pl = NULL;
  struct account *a = NULL, *res = NULL;
  struct sign_key *k;
  const char *s;
  const cJSON *exp, *nbf, *iat;
  struct dbuf sig;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int maclen = 0;
  double now;

  dbuf_init(&sig, 256);
  *why = "missing authorization";
  if(!authz || !ieqn(authz, "Bearer ", 7))
    goto out;
  tok = authz + 7;
  while(*tok == ' ')
    tok++;
  *why = "malformed token";
  if(strlen(tok) > JWT_MAX)
    goto out;
  d1 = strchr(tok, '.');
  d2 = d1 ? strchr(d1 + 1, '.') : NULL;
  if(!d1 || !d2 || strchr(d2 + 1, '.'))
    goto out;
  hdr = decode_part(tok, (size_t)(d1 - tok));
  pl = decode_part(d1 + 1, (size_t)(d2 - d1 - 1));
  if(!hdr || !pl || b64url_decode(&sig, d2 + 1, strlen(d2 + 1)))
    goto out;
  *why = "bad header";
  s = jstr(hdr, "alg");
  if(!s || strcmp(s, "HS256"))
    goto out;
  s = jstr(hdr, "typ");
  if(cJSON_GetObjectItemCaseSensitive(hdr, "typ") && (!s || strcmp(s, "JWT")))
    goto out;
  *why = "bad claims";
  s = jstr(pl, "sub");
  if(!s || strncmp(s, "csesidx/", 8))
    goto out;
  *why = "unknown account";
  a = account_find(s + 8);
  if(!a)
    goto out;
  *why = "unknown kid";
  s = jstr(hdr, "kid");
  k = s ? account_key(a, s) : NULL;
  if(!k)
    goto out;
  *why = "bad signature";
  if(!HMAC(EVP_sha256(), k->key, sizeof(k->key),
           (const unsigned char *)tok, (size_t)(d2 - tok), mac, &maclen) ||
     sig.len != maclen || CRYPTO_memcmp(sig.p, mac, maclen))
    goto out;
  *why = "bad aud/iss";
  s = jstr(pl, "aud");
  if(!s || strcmp(s, JWT_AUD))
    goto out;
  s = jstr(pl, "iss");
  if(!s || strcmp(s, JWT_ISS))
    goto out;
  *why = "missing iat/nbf/exp";
  exp = cJSON_GetObjectItemCaseSensitive(pl, "exp");
  nbf = cJSON_GetObjectItemCaseSensitive(pl, "nbf");
  iat = cJSON_GetObjectItemCaseSensitive(pl, "iat");
  if(!cJSON_IsNumber(exp) || !cJSON_IsNumber(nbf) || !cJSON_IsNumber(iat))
    goto out;
  *why = "lifetime over 300 s";
  if(exp->valuedouble <= nbf->valuedouble ||
     exp->valuedouble - nbf->valuedouble > JWT_MAX_LIFE ||
     exp->valuedouble - iat->valuedouble > JWT_MAX_LIFE)
    goto out;
  *why = "bad time window";
  now = (double)fake_now_ms() / 1000.0;
  if(nbf->valuedouble > now + JWT_SKEW || iat->valuedouble > now + JWT_SKEW ||
     now >= exp->valuedouble + JWT_SKEW)
    goto out;
  *why = "signing key expired";
  if(fake_now_ms() >= k->expires_ms)
    goto out;
  *why = NULL;
  res = a;
out:
  cJSON_Delete(hdr);
  cJSON_Delete(pl);
  dbuf_free(&sig);
  return res;
}

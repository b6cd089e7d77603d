/*
 * api.c - widget endpoints other than streamAssist: createSession,
 * addContextFile, listSessionFileMetadata, downloadFile (both URL forms),
 * listSessions, getSession, deleteSession (protocol sections 3.1, 3.3-3.6).
 *
 * JSON replies use Google's pretty layout; empty repeated fields are
 * omitted, as proto3 JSON does.
 */
#include <cjson/cJSON.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "png.h"
#include "store.h"
#include "util.h"

static const char *jstr(const cJSON *o, const char *k)
{
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(it) ? it->valuestring : NULL;
}

static const cJSON *jobj(const cJSON *o, const char *k)
{
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsObject(it) ? it : NULL;
}

/* ------------------------------------------------------- createSession */

void h_create_session(struct conn *c)
{
  struct account *a;
  cJSON *body = NULL;
  struct fx fx;
  const cJSON *csr, *sess = NULL;
  const char *dn = NULL;
  struct session *s;
  struct dbuf b;
  struct jw w;
  char name[256];

  fx_init(&fx);
  dbuf_init(&b, 4096);
  if(app_api_prologue(c, EP_CREATE_SESSION, &a, &body, &fx))
    goto out;
  if(app_fx_errors(c, &fx, NULL))
    goto out;
  csr = cJSON_GetObjectItemCaseSensitive(body, "createSessionRequest");
  if(csr && !cJSON_IsObject(csr)) {
    app_error(c, 400, NULL, "Invalid value at 'create_session_request'.");
    goto out;
  }
  if(csr)
    sess = jobj(csr, "session");
  if(sess)
    dn = jstr(sess, "displayName");
  s = session_new(a->csesidx);
  if(dn) {
    free(s->display_name);
    s->display_name = xstrdup(dn);
  }
  session_short_name(name, sizeof(name), s->id);
  {
    struct rec_req *r = app_rec(c);
    if(r)
      rec_set_str(r, &r->session, name, strlen(name));
  }
  jw_init(&w, &b, 1);
  jw_obj(&w);
  jw_key(&w, "session");
  jw_obj(&w);
  jw_kstr(&w, "name", name);
  jw_kstr(&w, "displayName", s->display_name);
  jw_obj_end(&w);
  jw_obj_end(&w);
  dbuf_addc(&b, '\n');
  app_reply_json(c, 200, &b);
out:
  cJSON_Delete(body);
  dbuf_free(&b);
  fx_free(&fx);
}

/* ------------------------------------------------------ addContextFile */

static int mime_allowed(const char *mime)
{
  static const char *const ok[] = {
    "image/jpeg", "image/png", "image/webp", "image/gif", "image/heic",
    "image/heif", "application/pdf", "text/plain", "text/csv", "text/html",
    "text/markdown", "application/json",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml."
    "presentation",
    "audio/mpeg", "audio/mp3", "audio/wav", "audio/x-wav", "video/mp4",
  };
  size_t i, n = strcspn(mime, "; ");
  for(i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
    if(strlen(ok[i]) == n && ieqn(ok[i], mime, n))
      return 1;
  return 0;
}

void h_add_file(struct conn *c)
{
  struct account *a;
  cJSON *body = NULL;
  struct fx fx;
  const cJSON *req;
  const char *name, *fname, *mime, *contents;
  struct session *s;
  struct dbuf raw, b;
  struct jw w;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  char hex[65], full[256], tc[32];
  struct sfile *f;
  struct rec_req *r;

  fx_init(&fx);
  dbuf_init(&raw, HTTP_MAX_BODY);
  dbuf_init(&b, 4096);
  if(app_api_prologue(c, EP_ADD_FILE, &a, &body, &fx))
    goto out;
  req = jobj(body, "addContextFileRequest");
  name = req ? jstr(req, "name") : NULL;
  if((r = app_rec(c)) && name)
    rec_set_str(r, &r->session, name, strlen(name));
  if(app_fx_errors(c, &fx, name))
    goto out;
  if(!req) {
    app_error(c, 400, NULL, "addContextFileRequest is required.");
    goto out;
  }
  fname = jstr(req, "fileName");
  mime = jstr(req, "mimeType");
  contents = jstr(req, "fileContents");
  if(jstr(req, "fileUri") && !contents) {
    app_error(c, 400, NULL, "fileUri is not supported for this request.");
    goto out;
  }
  if(!name || !mime || !contents) {
    app_error(c, 400, NULL,
              "name, mimeType and fileContents are required.");
    goto out;
  }
  s = app_session(c, name, a);
  if(!s)
    goto out;
  if(!mime_allowed(mime)) {
    app_error(c, 400, NULL, "Unsupported file type: %.200s", mime);
    goto out;
  }
  if(b64_decode_strict(&raw, contents, strlen(contents))) {
    app_error(c, 400, NULL,
              "Invalid value at 'add_context_file_request.file_contents' "
              "(TYPE_BYTES), Base64 decoding failed.");
    goto out;
  }
  SHA256((const unsigned char *)(raw.p ? raw.p : ""), raw.len, digest);
  hex_encode(hex, digest, sizeof(digest));
  f = session_add_file(s, fname ? fname : "", mime, raw.len, hex, 0);
  session_full_name(full, sizeof(full), s->id);
  rec_upload(full, f->name, f->mime, f->size, f->sha256, f->file_id);
  snprintf(tc, sizeof(tc), "%ld", f->token_count);
  jw_init(&w, &b, 1);
  jw_obj(&w);
  jw_key(&w, "addContextFileResponse");
  jw_obj(&w);
  jw_kstr(&w, "session", full);
  jw_kstr(&w, "fileId", f->file_id);
  jw_kstr(&w, "tokenCount", tc);
  jw_obj_end(&w);
  jw_obj_end(&w);
  dbuf_addc(&b, '\n');
  app_reply_json(c, 200, &b);
out:
  cJSON_Delete(body);
  dbuf_free(&raw);
  dbuf_free(&b);
  fx_free(&fx);
}

/* --------------------------------------------- listSessionFileMetadata */

static void file_meta(struct jw *w, const struct session *s,
                      const struct sfile *f)
{
  char full[256], tmp[512], t[40];
  session_full_name(full, sizeof(full), s->id);
  jw_obj(w);
  jw_kstr(w, "fileId", f->file_id);
  jw_kstr(w, "name", f->name);
  jw_kstr(w, "mimeType", f->mime);
  snprintf(tmp, sizeof(tmp), "%zu", f->size);
  jw_kstr(w, "byteSize", tmp);
  snprintf(tmp, sizeof(tmp), "%ld", f->token_count);
  jw_kstr(w, "tokenCount", tmp);
  jw_key(w, "quotaPercentage");
  jw_raw(w, "0.01", 4);
  /* the real service points at the wrong host/version; so do we */
  snprintf(tmp, sizeof(tmp),
           "https://discoveryengine.googleapis.com/v1/%s:downloadFile"
           "?file_id=%s&alt=media", full, f->file_id);
  jw_kstr(w, "downloadUri", tmp);
  fmt_rfc3339(t, sizeof(t), f->upload_ms);
  jw_kstr(w, "uploadTime", t);
  jw_kstr(w, "fileOriginType", f->ai_generated ? "AI_GENERATED"
                                               : "USER_UPLOADED");
  jw_kstr(w, "session", full);
  if(f->ai_generated && !strcmp(f->mime, "image/png")) {
    jw_key(w, "views");
    jw_obj(w);
    jw_key(w, "thumbnail_256x256");
    jw_obj(w);
    snprintf(tmp, sizeof(tmp), "%s-thumb", f->file_id);
    jw_kstr(w, "viewId", tmp);
    snprintf(tmp, sizeof(tmp), "https://discoveryengine.googleapis.com/v1/"
             "%s:downloadFile?file_id=%s&view_id=thumbnail_256x256"
             "&alt=media", full, f->file_id);
    jw_kstr(w, "uri", tmp);
    jw_kstr(w, "mimeType", "image/png");
    snprintf(tmp, sizeof(tmp), "%zu", f->size);
    jw_kstr(w, "byteSize", tmp);
    jw_key(w, "imageCharacteristics");
    jw_obj(w);
    jw_kint(w, "width", 8);
    jw_kint(w, "height", 8);
    jw_obj_end(w);
    jw_obj_end(w);
    jw_obj_end(w);
  }
  jw_obj_end(w);
}

/* Generated files of a files_after_ms stream are listed (and can be
 * downloaded) only from their visible_ms on. */
static int file_visible(const struct sfile *f)
{
  return !f->visible_ms || now_wall_ms() >= f->visible_ms;
}

/* Strict names (fake-wide, per account or per scenario): list and
 * download accept only the projects/<n>/locations/global/... form that
 * the stream's sessionInfo.session carries.  Replies 400 and returns 1
 * when the name is rejected. */
static int strict_name_rejected(struct conn *c, const struct account *a,
                                const struct fx *fx, const char *name,
                                size_t n)
{
  if(!fake_cfg.strict_names && !a->strict_names && !fx->strict_names)
    return 0;
  if(name && n > 9 && !strncmp(name, "projects/", 9))
    return 0;
  app_error(c, 400, "INVALID_ARGUMENT", "Invalid session name '%.*s': "
            "expected projects/*/locations/*/collections/*/engines/*/"
            "sessions/*.", (int)(n > 200 ? 200 : n), name ? name : "");
  return 1;
}

void h_list_files(struct conn *c)
{
  struct account *a;
  cJSON *body = NULL;
  struct fx fx;
  const cJSON *req;
  const char *name, *filter;
  struct session *s;
  struct dbuf b;
  struct jw w;
  int want = -1;  /* -1 all, 0 user, 1 ai */
  struct sfile *f, **arr = NULL;
  size_t n = 0, i;
  struct rec_req *r;

  fx_init(&fx);
  dbuf_init(&b, 64 * 1024 * 1024);
  if(app_api_prologue(c, EP_LIST_FILES, &a, &body, &fx))
    goto out;
  req = jobj(body, "listSessionFileMetadataRequest");
  name = req ? jstr(req, "name") : NULL;
  if((r = app_rec(c)) && name)
    rec_set_str(r, &r->session, name, strlen(name));
  if(app_fx_errors(c, &fx, name))
    goto out;
  if(!req) {
    app_error(c, 400, NULL, "listSessionFileMetadataRequest is required.");
    goto out;
  }
  if(strict_name_rejected(c, a, &fx, name, name ? strlen(name) : 0))
    goto out;
  filter = jstr(req, "filter");
  if(filter && *filter) {
    if(strstr(filter, "file_origin_type") && strstr(filter, "AI_GENERATED"))
      want = 1;
    else if(strstr(filter, "file_origin_type") &&
            strstr(filter, "USER_UPLOADED"))
      want = 0;
    else {
      app_error(c, 400, NULL, "Invalid filter: %.200s", filter);
      goto out;
    }
  }
  s = app_session(c, name, a);
  if(!s)
    goto out;
  for(f = s->files; f; f = f->next)
    if((want < 0 || f->ai_generated == want) && file_visible(f)) {
      arr = xrealloc(arr, (n + 1) * sizeof(*arr));
      arr[n++] = f;
    }
  jw_init(&w, &b, 1);
  jw_obj(&w);
  jw_key(&w, "listSessionFileMetadataResponse");
  jw_obj(&w);
  if(n) {
    jw_key(&w, "fileMetadata");
    jw_arr(&w);
    for(i = n; i > 0; i--)  /* oldest first */
      file_meta(&w, s, arr[i - 1]);
    jw_arr_end(&w);
  }
  jw_obj_end(&w);
  jw_obj_end(&w);
  dbuf_addc(&b, '\n');
  app_reply_json(c, 200, &b);
out:
  free(arr);
  cJSON_Delete(body);
  dbuf_free(&b);
  fx_free(&fx);
}

/* --------------------------------------------------------- downloadFile */

void h_download(struct conn *c, int download_form)
{
  struct account *a;
  struct fx fx;
  const char *p = c->req.path + (download_form ? 17 : 8);  /* at "/" */
  const char *colon;
  char id[24];
  char *file_id = query_param(c->req.query, "fileId");
  char *alt = query_param(c->req.query, "alt");
  struct session *s;
  struct sfile *f;
  struct rec_req *r = app_rec(c);
  const char *enc;

  fx_init(&fx);
  if(strcmp(c->req.method, "GET")) {
    app_error(c, 405, "INVALID_ARGUMENT", "Method %s not allowed.",
              c->req.method);
    goto out;
  }
  a = app_auth(c);
  if(!a)
    goto out;
  p++;  /* skip '/' */
  colon = strrchr(p, ':');
  if(r)
    rec_set_str(r, &r->session, p, (size_t)(colon - p));
  scenario_take(a->csesidx, EP_DOWNLOAD, &fx);
  app_set_delay(fx.headers_ms);
  if(app_fx_errors(c, &fx, NULL))
    goto out;
  if(session_parse_id(p, (size_t)(colon - p), id)) {
    app_error(c, 404, "NOT_FOUND", "Requested entity was not found.");
    goto out;
  }
  if(strict_name_rejected(c, a, &fx, p, (size_t)(colon - p)))
    goto out;
  if(!file_id || !*file_id) {
    app_error(c, 400, NULL, "fileId is required.");
    goto out;
  }
  if(!alt || strcmp(alt, "media")) {
    app_error(c, 400, NULL, "Only alt=media is supported.");
    goto out;
  }
  s = app_session(c, id, a);
  if(!s)
    goto out;
  f = session_file(s, file_id);
  if(!f || !f->ai_generated || !file_visible(f)) {
    app_error(c, 404, "NOT_FOUND", "File %.64s not found.", file_id);
    goto out;
  }
  f->download_attempts++;
  if(fx.mode == FX_FAIL_ONCE && f->download_attempts == 1) {
    app_error(c, 503, NULL, NULL);
    goto out;
  }
  enc = http_header(&c->req, "x-goog-encode-response-if-executable");
  if(!strcmp(f->mime, "video/mp4"))
    app_reply(c, 200, "video/mp4", "Content-Disposition: attachment\r\n",
              mp4_data(), mp4_size());
  else if(download_form && enc && ieq(enc, "base64"))
    app_reply(c, 200, "application/octet-stream",
              "X-Goog-Safety-Encoding: base64\r\n"
              "X-Goog-Safety-Content-Type: image/png\r\n"
              "Content-Disposition: attachment\r\n",
              png_base64(), png_base64_len());
  else
    app_reply(c, 200, "image/png", "Content-Disposition: attachment\r\n",
              png_data(), png_size());
out:
  rec_download(file_id, c->status);
  free(file_id);
  free(alt);
  fx_free(&fx);
}

/* ----------------------------------------- list / get / delete session */

static void session_obj(struct jw *w, const struct session *s, int turns)
{
  char name[256], t[40];
  const struct turn *tu;
  session_short_name(name, sizeof(name), s->id);
  jw_obj(w);
  jw_kstr(w, "name", name);
  jw_kstr(w, "displayName", s->display_name);
  jw_kstr(w, "state", "IN_PROGRESS");
  fmt_rfc3339(t, sizeof(t), s->created_ms);
  jw_kstr(w, "startTime", t);
  fmt_rfc3339(t, sizeof(t), s->updated_ms);
  jw_kstr(w, "updateTime", t);
  if(turns && s->turns) {
    jw_key(w, "turns");
    jw_arr(w);
    for(tu = s->turns; tu; tu = tu->next) {
      jw_obj(w);
      jw_key(w, "query");
      jw_obj(w);
      jw_kstr(w, "text", tu->query);
      jw_obj_end(w);
      jw_key(w, "detailedAssistAnswer");
      jw_obj(w);
      jw_kstr(w, "state", tu->state);
      jw_obj_end(w);
      fmt_rfc3339(t, sizeof(t), tu->at_ms);
      jw_kstr(w, "createdAt", t);
      jw_obj_end(w);
    }
    jw_arr_end(w);
  }
  jw_obj_end(w);
}

void h_list_sessions(struct conn *c)
{
  struct account *a;
  cJSON *body = NULL;
  struct fx fx;
  struct dbuf b;
  struct jw w;
  struct session *s;
  int any = 0;

  fx_init(&fx);
  dbuf_init(&b, 64 * 1024 * 1024);
  if(app_api_prologue(c, EP_LIST_SESSIONS, &a, &body, &fx))
    goto out;
  if(app_fx_errors(c, &fx, NULL))
    goto out;
  jw_init(&w, &b, 1);
  jw_obj(&w);
  jw_key(&w, "listSessionsResponse");
  jw_obj(&w);
  for(s = session_first(); s; s = s->next) {
    if(strcmp(s->owner, a->csesidx))
      continue;
    if(!any) {
      jw_key(&w, "sessions");
      jw_arr(&w);
      any = 1;
    }
    session_obj(&w, s, 0);
  }
  if(any)
    jw_arr_end(&w);
  jw_obj_end(&w);
  jw_obj_end(&w);
  dbuf_addc(&b, '\n');
  app_reply_json(c, 200, &b);
out:
  cJSON_Delete(body);
  dbuf_free(&b);
  fx_free(&fx);
}

static void get_or_delete(struct conn *c, int del)
{
  struct account *a;
  cJSON *body = NULL;
  struct fx fx;
  struct dbuf b;
  struct jw w;
  struct session *s;
  const cJSON *req;
  const char *name;

  fx_init(&fx);
  dbuf_init(&b, 64 * 1024 * 1024);
  if(app_api_prologue(c, del ? EP_DELETE_SESSION : EP_GET_SESSION, &a,
                      &body, &fx))
    goto out;
  req = jobj(body, del ? "deleteSessionRequest" : "getSessionRequest");
  name = req ? jstr(req, "name") : NULL;
  if(app_fx_errors(c, &fx, name))
    goto out;
  s = app_session(c, name, a);
  if(!s)
    goto out;
  jw_init(&w, &b, 1);
  jw_obj(&w);
  if(del) {
    session_del(s);
    jw_key(&w, "deleteSessionResponse");
    jw_obj(&w);
    jw_obj_end(&w);
  }
  else {
    jw_key(&w, "getSessionResponse");
    jw_obj(&w);
    jw_key(&w, "session");
    session_obj(&w, s, 1);
    jw_obj_end(&w);
  }
  jw_obj_end(&w);
  dbuf_addc(&b, '\n');
  app_reply_json(c, 200, &b);
out:
  cJSON_Delete(body);
  dbuf_free(&b);
  fx_free(&fx);
}

void h_get_session(struct conn *c)
{
  get_or_delete(c, 0);
}

void h_delete_session(struct conn *c)
{
  get_or_delete(c, 1);
}

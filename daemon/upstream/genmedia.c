/* genmedia.c -- see up.h: files the model generated (images, video):
 * inline replies, their metadata, then one download each (3 attempts with
 * back-off, the tick starts retries), then the answer (answer_files).
 *
 * Every list and download signs a fresh JWT from a key still valid (it
 * waits for getoxsrf when the key is near its end), and a 401 on either
 * gets one retry with a new key.  Both use the session name the stream
 * returned (sessionInfo.session, projects/... form; §3.4), the created
 * short name only as a fallback.  When image / video work ends its stream
 * without a file, the session's file list is polled every POLL_EVERY_MS
 * for up to IMAGE_POLL_TIMEOUT (the client gets keep-alive pings from the
 * tick meanwhile). */
#include "up.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "gg_log.h"
#include "gg_time.h"
#include "gg_util.h"
#include "gg_b64.h"
#include "media.h"

static const char *media_session(const struct call *c, const struct gen_file *g)
{
    if (g && g->session)
        return g->session;
    if (c->stream_session)
        return c->stream_session;
    return c->session_name ? c->session_name : "";
}

struct gen_file *up_add_gen(struct call *c, const char *file_id, const char *mime)
{
    for (size_t i = 0; i < c->n_gen; i++)
        if (strcmp(c->gen[i].id, file_id) == 0)
            return NULL;
    if (c->n_gen >= CALL_MAX_GEN || strlen(file_id) >= sizeof(c->gen[0].id)) {
        GG_WARN("[%s] generated file %.40s ignored (limit %d)", c->request_id, file_id, CALL_MAX_GEN);
        return NULL;
    }
    if (!call_media_get(c)) {
        GG_ERROR("[%s] out of memory keeping generated file %.40s", c->request_id, file_id);
        return NULL;
    }
    struct gen_file *g = &c->gen[c->n_gen++];
    memset(g, 0, sizeof(*g));
    snprintf(g->id, sizeof(g->id), "%s", file_id);
    if (mime && *mime)
        media_mime_norm(mime, strlen(mime), g->mime, sizeof(g->mime));
    else
        snprintf(g->mime, sizeof(g->mime), "image/png");
    return g;
}

unsigned char *up_b64_media(const char *p, size_t n, size_t *outn, const char **sniffed)
{
    while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' '))
        n--;
    if (n < 8)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '+' ||
              ch == '/' || ch == '=' || ch == '-' || ch == '_'))
            return NULL;
    }
    unsigned char *raw = malloc(gg_b64_dec_len(n) + 1);
    ssize_t k = raw ? gg_b64_decode(p, n, raw) : -1;
    const char *t = k > 0 ? media_sniff(raw, (size_t)k) : NULL;
    if (!t || (strncmp(t, "image/", 6) != 0 && strncmp(t, "video/", 6) != 0) || !media_mime_allowed(t)) {
        free(raw);
        return NULL;
    }
    *outn = (size_t)k;
    *sniffed = t;
    return raw;
}

void up_inline_file(struct call *c, const char *mime, const char *b64)
{
    char id[48];
    snprintf(id, sizeof(id), "inline-%zu", c->n_gen + 1);
    struct gen_file *g = up_add_gen(c, id, mime);
    if (!g)
        return;
    size_t n = strlen(b64);
    unsigned char *raw = malloc(gg_b64_dec_len(n) + 1);
    ssize_t k = raw ? gg_b64_decode(b64, n, raw) : -1;
    if (k <= 0) {
        free(raw);
        GG_WARN("[%s] inlineData reply with undecodable data dropped", c->request_id);
        c->n_gen--;
        return;
    }
    const char *t = media_sniff(raw, (size_t)k);
    if (t)
        snprintf(g->mime, sizeof(g->mime), "%s", t);
    g->data = raw;
    g->len = (size_t)k;
}

/* ---- generated media (S_MEDIA) ---------------------------------------------- */

static void start_list(struct call *c)
{
    struct creds cr;
    if (pool_creds(c->acct, &cr) != 0) {
        up_step_download(c);
        return;
    }
    char url[2048];
    snprintf(url, sizeof(url), "%s/v1alpha/locations/global/widgetListSessionFileMetadata", cfg.api_url);
    struct xfer *x = up_xfer_new(X_LIST, url, cr.proxy);
    if (!x) {
        pool_creds_free(&cr);
        up_step_download(c);
        return;
    }
    x->post = google_list_body(cr.config_id, media_session(c, NULL));
    pool_creds_free(&cr);
    if (!x->post) {
        up_xfer_free(x);
        up_step_download(c);
        return;
    }
    up_api_headers(x, c->acct);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, (long)LIST_TIMEOUT_S);
    up_start_for(c, x);
}

void up_step_media(struct call *c)
{
    c->step = S_MEDIA;
    c->gen_i = 0;
    bool need = c->poll_until_ms != 0;
    for (size_t i = 0; i < c->n_gen; i++)
        if (!c->gen[i].data)
            need = true;
    if (!need) {
        up_step_download(c);      /* inline files only: nothing to fetch */
        return;
    }
    if (up_key_or_wait(c, R_LIST))
        return;
    c->step = S_MEDIA;
    start_list(c);
}

void up_step_poll(struct call *c)
{
    if (!c->poll_until_ms) {
        c->poll_until_ms = gg_mono_ms() + cfg.image_poll_timeout * 1000;
        GG_INFO("[%s] stream ended without a file: polling the session's files for up to %lld s", c->request_id,
                (long long)cfg.image_poll_timeout);
    }
    up_step_media(c);
}

/* A listed file that is new to this call (polling): files of earlier
 * turns of a continued session are older than the request. */
static bool poll_takes(const struct call *c, const cJSON *md)
{
    if (!c->continuing)
        return true;
    const cJSON *ut = cJSON_GetObjectItemCaseSensitive(md, "uploadTime");
    int64_t at = cJSON_IsString(ut) ? gg_parse_time(ut->valuestring) : -1;
    return at < 0 || at >= c->created_s * 1000 - 5000;
}

/* Metadata gives each file's exact session path and type; without it the
 * stream's session name and type are used. */
void up_list_done(struct xfer *x, CURLcode res)
{
    struct call *c = x->call;
    c->xfer = NULL;
    long st = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
    if (res == CURLE_OK && st == 401 && !c->list_retried) {
        c->list_retried = true;
        up_xfer_free(x);
        up_key_invalidate(c->acct);
        up_step_media(c);
        return;
    }
    bool polling = c->poll_until_ms != 0 && c->n_gen == 0;
    if (res != CURLE_OK || st != 200) {
        GG_WARN("[%s] listSessionFileMetadata failed (%ld %s); downloading with the stream's data",
                c->request_id, st, res != CURLE_OK ? curl_easy_strerror(res) : "");
    } else {
        cJSON *j = cJSON_Parse(x->resp.p ? x->resp.p : "");
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "listSessionFileMetadataResponse");
        const cJSON *md;
        cJSON_ArrayForEach(md, cJSON_GetObjectItemCaseSensitive(r, "fileMetadata")) {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(md, "fileId");
            const cJSON *sess = cJSON_GetObjectItemCaseSensitive(md, "session");
            const cJSON *mt = cJSON_GetObjectItemCaseSensitive(md, "mimeType");
            if (polling && cJSON_IsString(id) && poll_takes(c, md))
                up_add_gen(c, id->valuestring, cJSON_IsString(mt) ? mt->valuestring : NULL);
            for (size_t i = 0; cJSON_IsString(id) && i < c->n_gen; i++) {
                struct gen_file *g = &c->gen[i];
                if (strcmp(g->id, id->valuestring) != 0)
                    continue;
                if (cJSON_IsString(sess) && *sess->valuestring && !g->session)
                    g->session = strdup(sess->valuestring); /* checksrc: nullable (call's session) */
                if (cJSON_IsString(mt) && *mt->valuestring)
                    media_mime_norm(mt->valuestring, strlen(mt->valuestring), g->mime, sizeof(g->mime));
            }
        }
        cJSON_Delete(j);
    }
    up_xfer_free(x);
    if (polling && c->n_gen == 0) {
        if (gg_mono_ms() < c->poll_until_ms) {
            c->list_retried = false;
            c->retry_at_ms = gg_mono_ms() + POLL_EVERY_MS;
            return;   /* tick() polls again */
        }
        GG_WARN("[%s] no generated file appeared within %lld s", c->request_id, (long long)cfg.image_poll_timeout);
    }
    c->poll_until_ms = 0;
    up_step_download(c);
}

static void media_finish(struct call *c);

void up_step_download(struct call *c)
{
    c->step = S_MEDIA;
    while (c->gen_i < c->n_gen && (c->gen[c->gen_i].data || c->gen[c->gen_i].failed))
        c->gen_i++;
    if (c->gen_i >= c->n_gen) {
        media_finish(c);
        return;
    }
    if (up_key_or_wait(c, R_DOWNLOAD))
        return;
    c->step = S_MEDIA;
    struct gen_file *g = &c->gen[c->gen_i];
    g->tries++;
    struct creds cr;
    if (pool_creds(c->acct, &cr) != 0) {
        g->failed = true;
        up_step_download(c);
        return;
    }
    char *eid = curl_easy_escape(NULL, g->id, 0);
    if (!eid) {
        pool_creds_free(&cr);
        g->failed = true;
        up_step_download(c);
        return;
    }
    char url[2048];
    /* protocol doc §3.5 form A: raw bytes, possibly after a redirect */
    snprintf(url, sizeof(url), "%s/v1alpha/%s:downloadFile?fileId=%s&alt=media", cfg.api_url,
             media_session(c, g), eid);
    curl_free(eid);
    struct xfer *x = up_xfer_new(X_DOWNLOAD, url, cr.proxy);
    pool_creds_free(&cr);
    if (!x) {
        g->failed = true;
        up_step_download(c);
        return;
    }
    up_api_headers(x, c->acct);
    gg_buf_free(&x->resp);
    gg_buf_init(&x->resp, DOWNLOAD_MAX);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, up_write_capped);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, (long)DOWNLOAD_TIMEOUT_S);
    curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(x->easy, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(x->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    up_start_for(c, x);
}

void up_download_done(struct xfer *x, CURLcode res)
{
    struct call *c = x->call;
    struct gen_file *g = &c->gen[c->gen_i];
    c->xfer = NULL;
    long st = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
    if (res == CURLE_OK && st == 200 && x->resp.len > 0) {
        /* some forms answer with base64 text of the file (§3.5) */
        size_t n = 0;
        const char *t = NULL;
        unsigned char *raw = up_b64_media(x->resp.p, x->resp.len, &n, &t);
        if (raw) {
            g->data = raw;
            g->len = n;
            snprintf(g->mime, sizeof(g->mime), "%s", t);
        } else {
            g->data = (unsigned char *)gg_buf_steal(&x->resp, &g->len);
        }
        GG_DEBUG("[%s] downloaded %s: %zu bytes in %lld ms (attempt %d)", c->request_id, g->id, g->len,
                 (long long)(gg_mono_ms() - x->t0_ms), g->tries);
        up_xfer_free(x);
        c->gen_i++;
        up_step_download(c);
        return;
    }
    up_xfer_free(x);
    if (res == CURLE_OK && st == 401 && !g->auth_retried) {
        /* the key ended meanwhile: sign in again, retry (not an attempt) */
        g->auth_retried = true;
        g->tries--;
        up_key_invalidate(c->acct);
        up_step_download(c);
        return;
    }
    GG_WARN("[%s] download of %s failed (attempt %d/%d): %ld %s", c->request_id, g->id, g->tries,
            DOWNLOAD_ATTEMPTS, st, res != CURLE_OK ? curl_easy_strerror(res) : "");
    if (g->tries < DOWNLOAD_ATTEMPTS) {
        c->retry_at_ms = gg_mono_ms() + ((int64_t)DOWNLOAD_BACKOFF_MS << (g->tries - 1));
        return;   /* tick() starts the next attempt */
    }
    g->failed = true;
    c->gen_i++;
    up_step_download(c);
}

void up_media_signin_failed(struct call *c, const char *detail)
{
    GG_WARN("[%s] sign-in for the generated files failed: %s", c->request_id, detail ? detail : "");
    c->step = S_MEDIA;
    c->poll_until_ms = 0;
    for (size_t i = 0; i < c->n_gen; i++)
        if (!c->gen[i].data)
            c->gen[i].failed = true;
    c->gen_i = c->n_gen;
    media_finish(c);
}

/* All downloads settled: images into the answer (chat) or the images API
 * body, then the normal end. */
static void media_finish(struct call *c)
{
    size_t ok = 0, failed = 0;
    for (size_t i = 0; i < c->n_gen; i++) {
        if (c->gen[i].data)
            ok++;
        else
            failed++;
    }
    if (c->n_gen == 0) {
        /* polling found nothing */
        if (c->kind == CALL_IMAGES || !c->any_text) {
            up_finish_err(c, 502, "no_image_generated", 0, "upstream",
                          "The model generated no file within %lld s.", (long long)cfg.image_poll_timeout);
            up_call_done(c);
            return;
        }
        up_complete_ok(c);
        return;
    }
    if (ok == 0 && (c->kind == CALL_IMAGES || !c->any_text)) {
        pool_report_kind(c->acct, up_work_kind(c), OUT_SERVER, "generated files could not be downloaded");
        up_finish_err(c, 502, "image_download_failed", 0, "upstream",
                   "The model generated %zu file(s), but none could be downloaded from the upstream.", c->n_gen);
        up_call_done(c);
        return;
    }
    if (failed)
        GG_WARN("[%s] %zu of %zu generated files could not be downloaded", c->request_id, failed, c->n_gen);
    answer_files(c);
    up_complete_ok(c);
}

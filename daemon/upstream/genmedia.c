/* genmedia.c -- see up.h: files the model generated (images, video):
 * their metadata, then one download each (3 attempts with back-off, the
 * tick starts retries), then the answer (answer_files). */
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

/* ---- generated media (S_MEDIA) ---------------------------------------------- */

void up_step_media(struct call *c)
{
    c->step = S_MEDIA;
    c->gen_i = 0;
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
    x->post = google_list_body(cr.config_id, c->session_name ? c->session_name : "");
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

/* Metadata gives each file's exact session path and type; without it the
 * created session name and the stream's type are used. */
void up_list_done(struct xfer *x, CURLcode res)
{
    struct call *c = x->call;
    c->xfer = NULL;
    long st = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
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
            for (size_t i = 0; cJSON_IsString(id) && i < c->n_gen; i++) {
                struct gen_file *g = &c->gen[i];
                if (strcmp(g->id, id->valuestring) != 0)
                    continue;
                if (cJSON_IsString(sess) && *sess->valuestring && !g->session)
                    g->session = strdup(sess->valuestring);
                if (cJSON_IsString(mt) && *mt->valuestring)
                    media_mime_norm(mt->valuestring, strlen(mt->valuestring), g->mime, sizeof(g->mime));
            }
        }
        cJSON_Delete(j);
    }
    up_xfer_free(x);
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
             g->session ? g->session : c->session_name, eid);
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
        const char *p = x->resp.p;
        if (x->resp.len > 8 && (strncmp(p, "iVBORw0KGgo", 11) == 0 || strncmp(p, "/9j/", 4) == 0)) {
            unsigned char *raw = malloc(gg_b64_dec_len(x->resp.len) + 1);
            ssize_t n = raw ? gg_b64_decode(p, x->resp.len, raw) : -1;
            if (n > 0) {
                g->data = raw;
                g->len = (size_t)n;
            } else {
                free(raw);
            }
        }
        if (!g->data)
            g->data = (unsigned char *)gg_buf_steal(&x->resp, &g->len);
        GG_DEBUG("[%s] downloaded %s: %zu bytes in %lld ms (attempt %d)", c->request_id, g->id, g->len,
                 (long long)(gg_mono_ms() - x->t0_ms), g->tries);
        up_xfer_free(x);
        c->gen_i++;
        up_step_download(c);
        return;
    }
    GG_WARN("[%s] download of %s failed (attempt %d/%d): %ld %s", c->request_id, g->id, g->tries,
            DOWNLOAD_ATTEMPTS, st, res != CURLE_OK ? curl_easy_strerror(res) : "");
    up_xfer_free(x);
    if (g->tries < DOWNLOAD_ATTEMPTS) {
        c->retry_at_ms = gg_mono_ms() + ((int64_t)DOWNLOAD_BACKOFF_MS << (g->tries - 1));
        return;   /* tick() starts the next attempt */
    }
    g->failed = true;
    c->gen_i++;
    up_step_download(c);
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
    if (ok == 0 && (c->kind == CALL_IMAGES || !c->any_text)) {
        pool_report(c->acct, OUT_SERVER, "generated files could not be downloaded");
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


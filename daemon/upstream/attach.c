/* attach.c -- see up.h: attachments of the current turn.  http(s) URLs
 * are resolved off-thread, every address is checked (media.h policy), the
 * fetch is pinned to the checked address and checked again at connect
 * time; then each attachment is uploaded into the attempt's session. */
#include "up.h"

#include <arpa/inet.h>
#include <sys/socket.h>

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

/* ---- attachments: fetch (S_FETCH) and upload (S_UPLOAD) ------------------- */

static struct exch_attachment *next_att(struct call *c, bool want_fetch)
{
    for (; c->att_i < c->req.n_att; c->att_i++) {
        struct exch_attachment *a = &c->req.att[c->att_i];
        if (!a->upload)
            continue;
        if (want_fetch ? (!a->data && a->url) : a->data != NULL)
            return a;
    }
    return NULL;
}

/* Resolve the current hop's host off-thread; the answer comes back as
 * CMD_RESOLVED. */
static void fetch_resolve(struct call *c)
{
    struct exch_attachment *a = &c->req.att[c->att_i];
    char host[256], msg[200];
    int port = 0;
    if (media_url_check(c->fetch_url, cfg.fetch_allow_private, host, sizeof(host), &port, NULL,
                        msg, sizeof(msg)) != 0) {
        up_finish_part_err(c, a->param, "invalid_image_url", "%s", msg);
        up_call_done(c);
        return;
    }
    pthread_mutex_lock(&c->mu);
    c->refs++;
    pthread_mutex_unlock(&c->mu);
    if (media_resolve_async(host, port, cfg.fetch_allow_private, up_resolved_cb, c) != 0) {
        call_put(c);
        up_finish_err(c, 500, NULL, 0, "upstream", "could not start the resolver");
        up_call_done(c);
    }
}

void up_step_fetch(struct call *c)
{
    c->step = S_FETCH;
    struct exch_attachment *a = next_att(c, true);
    if (!a) {
        up_step_acquire(c);
        return;
    }
    free(c->fetch_url);
    c->fetch_url = strdup(a->url);
    c->fetch_hops = 0;
    if (!c->fetch_url) {
        up_finish_err(c, 500, NULL, 0, "upstream", "out of memory");
        up_call_done(c);
        return;
    }
    fetch_resolve(c);
}

/* Every connection of a fetch is checked again at connect time, so the
 * transfer can only reach the address the resolver approved. */
static curl_socket_t fetch_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct xfer *x = ud;
    (void)purpose;
    if (!x->allow_private && media_addr_blocked(&addr->addr)) {
        GG_WARN("fetch: connection to a blocked address refused");
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

void up_fetch_resolved(struct call *c, struct media_resolved *res)
{
    struct exch_attachment *a = &c->req.att[c->att_i];
    if (res->rc != 0) {
        up_finish_part_err(c, a->param, "invalid_image_url", "%s", res->msg);
        up_call_done(c);
        return;
    }
    struct xfer *x = up_xfer_new(X_FETCH, c->fetch_url, NULL);
    if (!x) {
        up_finish_err(c, 500, NULL, 0, "upstream", "out of memory");
        up_call_done(c);
        return;
    }
    char host[256], pin[400], msg[200];
    int port = 0;
    if (media_url_check(c->fetch_url, true, host, sizeof(host), &port, NULL, msg, sizeof(msg)) == 0) {
        struct in6_addr tmp;
        if (inet_pton(AF_INET, host, &tmp) != 1 && inet_pton(AF_INET6, host, &tmp) != 1) {
            snprintf(pin, sizeof(pin), "%s:%d:%s", host, port, res->addr_text);
            x->resolve = curl_slist_append(NULL, pin);
            if (!x->resolve)
                x->oom = true;
            curl_easy_setopt(x->easy, CURLOPT_RESOLVE, x->resolve);
        }
    }
    /* a plain client: no upstream headers, no proxy, no shared connections */
    up_xfer_clear_headers(x);
    up_xfer_header(x, "user-agent: " UA);
    up_xfer_header(x, "accept: image/*,application/pdf,*/*;q=0.8");
    curl_easy_setopt(x->easy, CURLOPT_PROXY, "");
    curl_easy_setopt(x->easy, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(x->easy, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(x->easy, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, (long)cfg.fetch_timeout);
    curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT, (long)(cfg.fetch_timeout < 10 ? cfg.fetch_timeout : 10));
    /* each file up to IMAGE_MAX_BYTES, all fetched files of a call up to
     * twice that (the bytes stay in memory for re-uploads) */
    size_t used = 0, cap = (size_t)cfg.image_max_bytes;
    for (size_t i = 0; i < c->req.n_att; i++)
        used += c->req.att[i].upload && c->req.att[i].url ? c->req.att[i].len : 0;
    if (used + cap > 2 * (size_t)cfg.image_max_bytes)
        cap = used < 2 * (size_t)cfg.image_max_bytes ? 2 * (size_t)cfg.image_max_bytes - used : 0;
    curl_easy_setopt(x->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)cap);
    curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETFUNCTION, fetch_open_socket);
    curl_easy_setopt(x->easy, CURLOPT_OPENSOCKETDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, up_write_capped);
    gg_buf_free(&x->resp);
    gg_buf_init(&x->resp, cap);
    x->allow_private = cfg.fetch_allow_private;
    up_start_for(c, x);
}

void up_fetch_done(struct xfer *x, CURLcode res)
{
    struct call *c = x->call;
    struct exch_attachment *a = &c->req.att[c->att_i];
    c->xfer = NULL;
    long st = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
    char msg[300];
    if (x->too_large || res == CURLE_FILESIZE_EXCEEDED) {
        up_xfer_free(x);
        up_finish_part_err(c, a->param, "file_too_large",
                        "The file at the URL is larger than the limit (%lld bytes per file, twice that per request).",
                        (long long)cfg.image_max_bytes);
        up_call_done(c);
        return;
    }
    if (res != CURLE_OK) {
        snprintf(msg, sizeof(msg), "The image URL could not be fetched: %s.", curl_easy_strerror(res));
        up_xfer_free(x);
        up_finish_part_err(c, a->param, "invalid_image_url", "%s", msg);
        up_call_done(c);
        return;
    }
    if (st >= 300 && st < 400) {
        char *loc = NULL;
        curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &loc);
        char *next = NULL;
        int rc = loc ? media_url_check(loc, cfg.fetch_allow_private, NULL, 0, NULL, &next, msg, sizeof(msg)) : -1;
        up_xfer_free(x);
        if (!loc)
            snprintf(msg, sizeof(msg), "The image URL redirected without a location.");
        else if (rc == 0 && ++c->fetch_hops > FETCH_MAX_HOPS)
            snprintf(msg, sizeof(msg), "The image URL redirected more than %d times.", FETCH_MAX_HOPS);
        if (rc != 0 || c->fetch_hops > FETCH_MAX_HOPS) {
            free(next);
            up_finish_part_err(c, a->param, "invalid_image_url", "%s", msg);
            up_call_done(c);
            return;
        }
        free(c->fetch_url);
        c->fetch_url = next;
        fetch_resolve(c);
        return;
    }
    if (st < 200 || st >= 300) {
        up_xfer_free(x);
        up_finish_part_err(c, a->param, "invalid_image_url", "The image URL could not be fetched: HTTP %ld.", st);
        up_call_done(c);
        return;
    }
    char *ct = NULL, mime[128];
    curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
    if (x->resp.len == 0) {
        up_xfer_free(x);
        up_finish_part_err(c, a->param, "invalid_image_url", "The image URL returned an empty body.");
        up_call_done(c);
        return;
    }
    if (media_type_of_fetch(ct, (const unsigned char *)x->resp.p, x->resp.len, c->fetch_url, mime, sizeof(mime),
                            msg, sizeof(msg)) != 0) {
        up_xfer_free(x);
        up_finish_part_err(c, a->param, "unsupported_file_type", "%s", msg);
        up_call_done(c);
        return;
    }
    free(a->mime);
    a->mime = strdup(mime);
    a->data = (unsigned char *)gg_buf_steal(&x->resp, &a->len);
    GG_DEBUG("[%s] fetched %s: %zu bytes %s in %lld ms", c->request_id, a->param, a->len, mime,
             (long long)(gg_mono_ms() - x->t0_ms));
    up_xfer_free(x);
    if (!a->mime || !a->data) {
        up_finish_err(c, 500, NULL, 0, "upstream", "out of memory");
        up_call_done(c);
        return;
    }
    c->att_i++;
    up_step_fetch(c);
}

void up_step_upload(struct call *c)
{
    c->step = S_UPLOAD;
    struct exch_attachment *a = c->kind == CALL_TEST ? NULL : next_att(c, false);
    if (!a || c->n_file_ids >= CALL_MAX_UPLOADS) {
        up_step_stream(c);
        return;
    }
    struct creds cr;
    if (pool_creds(c->acct, &cr) != 0) {
        up_failover(c, OUT_EXPIRED, "account has no credentials");
        return;
    }
    char url[2048];
    snprintf(url, sizeof(url), "%s/v1alpha/locations/global/widgetAddContextFile", cfg.api_url);
    struct xfer *x = up_xfer_new(X_UPLOAD, url, cr.proxy);
    if (x)
        x->post = google_upload_body(cr.config_id, c->session_name, a);
    pool_creds_free(&cr);
    if (!x || !x->post) {
        up_xfer_free(x);
        up_finish_err(c, 500, NULL, 0, "upstream", "out of memory building the upload");
        up_call_done(c);
        return;
    }
    up_api_headers(x, c->acct);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, (long)UPLOAD_TIMEOUT_S);
    up_start_for(c, x);
}

void up_upload_done(struct xfer *x, CURLcode res)
{
    struct call *c = x->call;
    struct exch_attachment *a = &c->req.att[c->att_i];
    c->xfer = NULL;
    long st = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &st);
    char detail[300], gs[64], gm[200];
    if (res != CURLE_OK) {
        snprintf(detail, sizeof(detail), "addContextFile: %s", curl_easy_strerror(res));
        up_xfer_free(x);
        up_failover(c, OUT_NETWORK, detail);
        return;
    }
    if (st != 200) {
        google_error(&x->resp, gs, sizeof(gs), gm, sizeof(gm), NULL, 0);
        snprintf(detail, sizeof(detail), "addContextFile %ld %s%s%s", st, gs, gm[0] ? ": " : "", gm);
        up_xfer_free(x);
        if (st == 400) {
            /* the file itself was refused: the client's problem, no penalty */
            pool_report(c->acct, OUT_CLIENT, detail);
            bool unsupported = strstr(gm, "Unsupported file type") != NULL;
            up_finish_part_err(c, a->param, unsupported ? "unsupported_file_type" : "invalid_value",
                            "%s%s", unsupported ? "" : "The upstream rejected the attachment: ",
                            gm[0] ? gm : "400");
            up_call_done(c);
            return;
        }
        if (up_retry_once(c, st, gm))
            return;
        up_failover(c, google_outcome(G_UPLOAD, st), detail);
        return;
    }
    cJSON *j = cJSON_Parse(x->resp.p ? x->resp.p : "");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "addContextFileResponse");
    const cJSON *fid = cJSON_GetObjectItemCaseSensitive(r, "fileId");
    if (!cJSON_IsString(fid) || !*fid->valuestring || strlen(fid->valuestring) >= sizeof(c->file_ids[0])) {
        cJSON_Delete(j);
        up_xfer_free(x);
        up_failover(c, OUT_SERVER, "addContextFile answer without fileId");
        return;
    }
    if (!c->file_ids && !(c->file_ids = calloc(CALL_MAX_UPLOADS, sizeof(c->file_ids[0])))) {
        cJSON_Delete(j);
        up_xfer_free(x);
        up_finish_err(c, 500, NULL, 0, "upstream", "out of memory keeping an uploaded file id");
        up_call_done(c);
        return;
    }
    snprintf(c->file_ids[c->n_file_ids++], sizeof(c->file_ids[0]), "%s", fid->valuestring);
    GG_DEBUG("[%s] uploaded %s (%zu bytes, %s) as %s in %lld ms", c->request_id, a->param, a->len, a->mime,
             fid->valuestring, (long long)(gg_mono_ms() - x->t0_ms));
    cJSON_Delete(j);
    up_xfer_free(x);
    c->att_i++;
    up_step_upload(c);
}


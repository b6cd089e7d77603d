/* call.c -- see call.h */
#include "call.h"

#include <microhttpd.h>
#include <stdlib.h>

#include "pool.h"

struct call *call_new(enum call_kind kind)
{
    struct call *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    pthread_mutex_init(&c->mu, NULL);
    c->refs = 2;
    c->kind = kind;
    c->forced_account = -1;
    c->pref_account = -1;
    c->account_id = -1;
    c->client_fd = -1;
    gg_buf_init(&c->out, 64u << 20);
    gg_buf_init(&c->answer, 64u << 20);
    limits_init(&c->lim, NULL);
    gg_buf_init(&c->reasoning, 64u << 20);
    split_init(&c->sp, 16u << 20);
    return c;
}

void call_put(struct call *c)
{
    pthread_mutex_lock(&c->mu);
    bool dead = --c->refs == 0;
    pthread_mutex_unlock(&c->mu);
    if (!dead)
        return;
    if (c->dialect && c->dialect->opts_free)
        c->dialect->opts_free(c->req.opts);
    c->req.opts = NULL;
    tools_stream_free(&c->tst);
    tools_result_free(&c->tres);
    tools_spec_free(&c->tspec);
    exch_request_free(&c->req);
    free(c->x.state);
    gg_buf_free(&c->out);
    gg_buf_free(&c->answer);
    exch_convhash_free(&c->convkey);
    limits_free(&c->lim);
    for (size_t i = 0; c->file_url && i < c->n_files; i++)
        free(c->file_url[i]);
    gg_buf_free(&c->reasoning);
    split_free(&c->sp);
    free(c->pref_session);
    free(c->session_name);
    free(c->skip_detail);
    free(c->test_answer);
    free(c->fetch_url);
    for (size_t i = 0; c->gen && i < c->n_gen; i++) {
        free(c->gen[i].session);
        free(c->gen[i].data);
    }
    free(c->media);
    free(c->file_ids);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

bool call_media_get(struct call *c)
{
    if (c->media)
        return true;
    c->media = calloc(1, sizeof(*c->media));
    if (!c->media)
        return false;
    c->gen = c->media->gen;
    c->files = c->media->files;
    c->file_url = c->media->file_url;
    return true;
}

void call_wake_locked(struct call *c)
{
    if (c->suspended && !c->conn_gone && c->conn) {
        c->suspended = false;
        MHD_resume_connection(c->conn);
    }
}

/* test_sessions.c -- the conversation map (daemon/sessions.c): a bounded
 * LRU cache over the store.  Cap and LRU order, take() removing, TTL
 * against a fake clock, drop_account, strings too long for a slot, and a
 * mapping evicted from memory read back from a real SQLite store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "gg_time.h"
#include "sessions.h"
#include "store.h"
#include "storeq.h"
#include "tinytest.h"

#define T0 1700000000000LL
#define SESS "collections/default_collection/engines/agentspace-engine/sessions/18399586466940005660"

static void key_of(int i, char out[65])
{
    snprintf(out, 65, "%064x", i);
}

static void put_n(int from, int to, int64_t acct)
{
    for (int i = from; i < to; i++) {
        char k[65], s[128];
        key_of(i, k);
        snprintf(s, sizeof(s), SESS "-%d", i);
        sessions_put(k, acct, s, "gemini-2.5-flash");
    }
}

/* 1: found with these strings, 0: not found */
static int take_is(int i, int64_t acct)
{
    char k[65], want[128];
    key_of(i, k);
    snprintf(want, sizeof(want), SESS "-%d", i);
    int64_t a = -1;
    char *s = NULL, *m = NULL;
    if (sessions_take(k, &a, &s, &m) != 0)
        return 0;
    int ok = a == acct && s && strcmp(s, want) == 0 && m && strcmp(m, "gemini-2.5-flash") == 0;
    free(s);
    free(m);
    return ok ? 1 : -1;
}

static void reset(int64_t cap, int64_t ttl)
{
    sessions_shutdown();
    cfg.session_cache_max = cap;
    cfg.session_ttl = ttl;
    gg_time_fake(T0);
}

static void test_take_removes(void)
{
    reset(8, 60);
    put_n(0, 3, 7);
    TT_EQ_INT(sessions_count(), 3);
    TT_EQ_INT(sessions_capacity(), 8);
    TT_EQ_INT(take_is(1, 7), 1);
    TT_EQ_INT(take_is(1, 7), 0);       /* a turn consumes its key */
    TT_EQ_INT(sessions_count(), 2);
    TT_EQ_INT(take_is(0, 7), 1);
    TT_EQ_INT(take_is(2, 7), 1);
    TT_EQ_INT(sessions_count(), 0);
    /* a put of a key already there replaces it */
    char k[65];
    key_of(5, k);
    sessions_put(k, 1, "sessions/a", NULL);
    sessions_put(k, 2, "sessions/b", "m");
    TT_EQ_INT(sessions_count(), 1);
    int64_t a = 0;
    char *s = NULL, *m = NULL;
    TT_EQ_INT(sessions_take(k, &a, &s, &m), 0);
    TT_EQ_INT(a, 2);
    TT_EQ_STR(s, "sessions/b");
    TT_EQ_STR(m, "m");
    free(s);
    free(m);
    /* no model */
    sessions_put(k, 3, "sessions/c", NULL);
    s = m = (char *)"x";
    TT_EQ_INT(sessions_take(k, &a, &s, &m), 0);
    TT_EQ_STR(s, "sessions/c");
    TT_CHECK(m == NULL);
    free(s);
}

static void test_cap_evicts_lru(void)
{
    reset(4, 60);
    put_n(0, 4, 1);
    TT_EQ_INT(sessions_count(), 4);
    put_n(4, 6, 1);                    /* full: 0 then 1 go */
    TT_EQ_INT(sessions_count(), 4);
    TT_EQ_INT(take_is(0, 1), 0);
    TT_EQ_INT(take_is(1, 1), 0);
    /* 2 is now the oldest: re-storing it makes 3 the next to go */
    char k[65];
    key_of(2, k);
    sessions_put(k, 1, SESS "-2", "gemini-2.5-flash");
    put_n(6, 7, 1);
    TT_EQ_INT(take_is(3, 1), 0);
    TT_EQ_INT(take_is(2, 1), 1);
    TT_EQ_INT(take_is(4, 1), 1);
    TT_EQ_INT(take_is(5, 1), 1);
    TT_EQ_INT(take_is(6, 1), 1);
    TT_EQ_INT(sessions_count(), 0);
    /* a long run through a small cache stays at the cap and keeps the newest */
    put_n(100, 10100, 1);
    TT_EQ_INT(sessions_count(), 4);
    for (int i = 10096; i < 10100; i++)
        TT_EQ_INT(take_is(i, 1), 1);
    TT_EQ_INT(take_is(10095, 1), 0);
}

static void test_ttl(void)
{
    reset(16, 10);
    put_n(0, 2, 1);
    gg_time_advance(6000);
    put_n(2, 4, 1);
    gg_time_advance(4000);             /* 0 and 1 are 10 s old: expired */
    TT_EQ_INT(take_is(0, 1), 0);
    sessions_expire();
    TT_EQ_INT(sessions_count(), 2);    /* 1 left with 0 */
    TT_EQ_INT(take_is(1, 1), 0);
    TT_EQ_INT(take_is(2, 1), 1);
    gg_time_advance(6000);
    TT_EQ_INT(take_is(3, 1), 0);       /* expired, though still in memory */
    TT_EQ_INT(sessions_count(), 0);
    /* expired entries leave on a put too */
    put_n(10, 13, 1);
    gg_time_advance(10000);
    put_n(13, 14, 1);
    TT_EQ_INT(sessions_count(), 1);
    /* SESSION_TTL=0: nothing is kept */
    cfg.session_ttl = 0;
    put_n(20, 21, 1);
    TT_EQ_INT(take_is(20, 1), 0);
}

static void test_drop_account(void)
{
    reset(32, 60);
    put_n(0, 10, 1);
    put_n(10, 20, 2);
    put_n(20, 25, 1);
    sessions_drop_account(1);
    TT_EQ_INT(sessions_count(), 10);
    TT_EQ_INT(take_is(3, 1), 0);
    TT_EQ_INT(take_is(22, 1), 0);
    TT_EQ_INT(take_is(15, 2), 1);
    /* the LRU list is intact after removals from its middle */
    put_n(30, 52, 3);                  /* 9 + 22 = 31 entries */
    put_n(52, 54, 3);                  /* one over the cap: 10 (the oldest left) goes */
    TT_EQ_INT(sessions_count(), 32);
    TT_EQ_INT(take_is(10, 2), 0);
    TT_EQ_INT(take_is(11, 2), 1);
    TT_EQ_INT(take_is(53, 3), 1);
}

static void test_too_long_and_off(void)
{
    reset(8, 60);
    char big[300];
    memset(big, 's', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    char k[65];
    key_of(1, k);
    sessions_put(k, 1, big, "m");      /* no store: not kept anywhere */
    TT_EQ_INT(sessions_count(), 0);
    big[140] = '\0';                   /* 65 + 141 + 2 = 208 of 216 bytes: fits */
    sessions_put(k, 1, big, "m");
    TT_EQ_INT(sessions_count(), 1);
    int64_t a;
    char *s = NULL, *m = NULL;
    TT_EQ_INT(sessions_take(k, &a, &s, &m), 0);
    TT_CHECK(s && strlen(s) == 140);
    free(s);
    free(m);
    reset(0, 60);                      /* SESSION_CACHE_MAX=0: the store alone */
    put_n(0, 3, 1);
    TT_EQ_INT(sessions_count(), 0);
    TT_EQ_INT(sessions_capacity(), 0);
}

/* An entry evicted from memory is read back from the store; take() deletes
 * it there too. */
static void test_store_fallback(void)
{
    char tmpl[] = "/tmp/gemsess-test-XXXXXX";
    char *dir = mkdtemp(tmpl);
    TT_CHECK(dir != NULL);
    if (!dir)
        return;
    char err[256] = "";
    struct store *st = store_open(NULL, dir, NULL, NULL, err, sizeof(err));
    TT_CHECK(st != NULL);
    if (!st) {
        fprintf(stderr, "store_open: %s\n", err);
        return;
    }
    struct store_account acct = {.name = (char *)"a", .secure_c_ses = (char *)"c", .csesidx = (char *)"1",
                                 .config_id = (char *)"cfg", .is_active = true};
    TT_EQ_INT(store_account_insert(st, &acct), STORE_OK);
    struct storeq *q = storeq_start(st, 1000);
    TT_CHECK(q != NULL);
    reset(2, 60);
    gg_time_real();                    /* the store compares with its own rows' times */
    sessions_init(st, q);
    put_n(0, 3, acct.id);              /* 0 leaves memory */
    TT_EQ_INT(sessions_count(), 2);
    TT_EQ_INT(storeq_flush(q, 5000), 0);
    TT_EQ_INT(take_is(0, acct.id), 1); /* from the store */
    TT_EQ_INT(storeq_flush(q, 5000), 0);
    TT_EQ_INT(take_is(0, acct.id), 0); /* and deleted there */
    TT_EQ_INT(take_is(2, acct.id), 1); /* from memory */
    TT_EQ_INT(storeq_flush(q, 5000), 0);
    struct store_session ss;
    memset(&ss, 0, sizeof(ss));
    char k[65];
    key_of(2, k);
    TT_CHECK(store_session_get(st, k, &ss) != STORE_OK);
    store_session_clear(&ss);
    key_of(1, k);
    TT_EQ_INT(store_session_get(st, k, &ss), STORE_OK);
    store_session_clear(&ss);
    /* the environment account (id 0) is no store row: memory only */
    put_n(7, 10, 0);                   /* 7 leaves memory */
    TT_EQ_INT(storeq_flush(q, 5000), 0);
    TT_EQ_INT(take_is(7, 0), 0);
    TT_EQ_INT(take_is(9, 0), 1);
    storeq_stop(q, gg_now_ms() + 5000);
    sessions_shutdown();
    store_close(st);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

int main(void)
{
    TT_RUN(test_take_removes);
    TT_RUN(test_cap_evicts_lru);
    TT_RUN(test_ttl);
    TT_RUN(test_drop_account);
    TT_RUN(test_too_long_and_off);
    TT_RUN(test_store_fallback);
    sessions_shutdown();
    return TT_REPORT();
}

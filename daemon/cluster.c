/* cluster.c -- see cluster.h */
#include "cluster.h"

#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gg_log.h"
#include "gg_time.h"
#include "gg_util.h"
#include "leasetab.h"
#include "pool.h"
#include "store.h"

#define RECONCILE_MS 15000

static bool enabled;
static atomic_bool stopping;
static atomic_bool listen_ok;
static pthread_t thr;
static char *conninfo;
static struct store *store;

/* lease connection (advisory locks live in this session) */
static pthread_mutex_t lease_mu = PTHREAD_MUTEX_INITIALIZER;
static PGconn *lease_conn;

static PGconn *connect_db(void)
{
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {conninfo, "2", "gemgated-cluster", NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(c) != CONNECTION_OK) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* Lock key: (account id, slot) as two int4s in the gemgate class space. */
static bool try_lock(PGconn *c, int64_t id, int slot, bool *ok)
{
    char k1[24], k2[24];
    snprintf(k1, sizeof(k1), "%d", (int)(id & 0x7fffffff));
    snprintf(k2, sizeof(k2), "%d", 0x47470000 | (slot & 0xffff));
    const char *p[2] = {k1, k2};
    PGresult *r = PQexecParams(c, "SELECT pg_try_advisory_lock($1::int, $2::int)", 2, NULL, p, NULL, NULL, 0);
    bool got = false;
    *ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (*ok)
        got = PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return got;
}

static void unlock_slot(PGconn *c, int64_t id, int slot)
{
    char k1[24], k2[24];
    snprintf(k1, sizeof(k1), "%d", (int)(id & 0x7fffffff));
    snprintf(k2, sizeof(k2), "%d", 0x47470000 | (slot & 0xffff));
    const char *p[2] = {k1, k2};
    PQclear(PQexecParams(c, "SELECT pg_advisory_unlock($1::int, $2::int)", 2, NULL, p, NULL, NULL, 0));
}

/* Slots this instance holds, per account, so it never "re-takes" its own
 * (advisory locks are re-entrant within a session).  Only accounts with a
 * lease in flight are in the table.  Guarded by lease_mu. */
static struct leasetab held;

static void drop_lease_conn(void)
{
    if (lease_conn)
        PQfinish(lease_conn);
    lease_conn = NULL;
    leasetab_clear(&held);   /* the server released them with the session */
}

static int lease_take(int64_t id, int limit)
{
    if (limit > 64)
        limit = 64;
    pthread_mutex_lock(&lease_mu);
    int rc = -2;   /* no connection: the cluster thread reconnects it */
    if (lease_conn) {
        uint64_t *m = leasetab_get(&held, id, true);
        rc = -1;
        for (int s = 0; m && s < limit; s++) {
            if (*m & (1ull << s))
                continue;
            bool ok;
            if (try_lock(lease_conn, id, s, &ok)) {
                *m |= 1ull << s;
                rc = s;
                break;
            }
            if (!ok) {
                GG_WARN("cluster: lease query failed (%s); using local limits until PostgreSQL is back",
                        PQerrorMessage(lease_conn));
                drop_lease_conn();
                rc = -2;
                break;
            }
        }
    }
    if (lease_conn)
        leasetab_prune(&held, id);
    pthread_mutex_unlock(&lease_mu);
    return rc;
}

static void lease_release(int64_t id, int slot)
{
    pthread_mutex_lock(&lease_mu);
    uint64_t *m = leasetab_get(&held, id, false);
    if (m && (*m & (1ull << slot)) && lease_conn) {
        /* unlock right away: the next request may need the slot */
        unlock_slot(lease_conn, id, slot);
        *m &= ~(1ull << slot);
        leasetab_prune(&held, id);
    }
    pthread_mutex_unlock(&lease_mu);
}

static void reconcile(void)
{
    struct store_account *rows = NULL;
    size_t n = 0;
    if (store_account_list(store, &rows, &n) != STORE_OK)
        return;
    int64_t *ids = calloc(n ? n : 1, sizeof(*ids));
    for (size_t i = 0; ids && i < n; i++) {
        ids[i] = rows[i].id;
        pool_sync_row(&rows[i]);
    }
    if (ids)
        pool_retain(ids, n);
    free(ids);
    store_account_list_free(rows, n);
}

static void apply_notification(const char *payload)
{
    cJSON *j = cJSON_Parse(payload);
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(j, "op");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    if (cJSON_IsString(op) && cJSON_IsNumber(id) && id->valuedouble >= 1 && id->valuedouble < 9e15) {
        int64_t aid = (int64_t)id->valuedouble;
        if (strcmp(op->valuestring, "DELETE") == 0) {
            pool_remove(aid);
        } else {
            struct store_account a;
            memset(&a, 0, sizeof(a));
            int rc = store_account_get(store, aid, &a);
            if (rc == STORE_OK)
                pool_sync_row(&a);
            else if (rc == STORE_NOTFOUND)
                pool_remove(aid);
            store_account_clear(&a);
        }
    }
    cJSON_Delete(j);
}

static void *thread_main(void *arg)
{
    (void)arg;
    gg_thread_role("gg-cluster", true);
    PGconn *c = NULL;
    int64_t backoff = 250, last_reconcile = 0;
    while (!stopping) {
        if (!c) {
            c = connect_db();
            if (c) {
                PGresult *r = PQexec(c, "LISTEN gemgate_accounts");
                bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
                PQclear(r);
                if (!ok) {
                    PQfinish(c);
                    c = NULL;
                }
            }
            if (!c) {
                if (listen_ok)
                    GG_WARN("cluster: cannot listen for account changes; serving from memory, retrying");
                listen_ok = false;
                for (int64_t t = 0; t < backoff && !stopping; t += 50)
                    usleep(50 * 1000);
                backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
                continue;
            }
            if (!listen_ok)
                GG_INFO("cluster: listening for account changes");
            listen_ok = true;
            backoff = 250;
            reconcile();
            last_reconcile = gg_mono_ms();
        }
        pthread_mutex_lock(&lease_mu);
        bool need_lease = lease_conn == NULL;
        pthread_mutex_unlock(&lease_mu);
        if (need_lease) {
            PGconn *lc = connect_db();   /* off the hot path */
            pthread_mutex_lock(&lease_mu);
            if (!lease_conn)
                lease_conn = lc;
            else if (lc)
                PQfinish(lc);
            pthread_mutex_unlock(&lease_mu);
        }
        struct pollfd pfd = {PQsocket(c), POLLIN, 0};
        int pr = poll(&pfd, 1, 200);
        if (pr < 0)
            continue;
        if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK) {
            PQfinish(c);
            c = NULL;
            listen_ok = false;
            GG_WARN("cluster: lost the PostgreSQL connection; serving from memory");
            continue;
        }
        PGnotify *nt;
        while ((nt = PQnotifies(c))) {
            apply_notification(nt->extra);
            PQfreemem(nt);
        }
        if (gg_mono_ms() - last_reconcile > RECONCILE_MS) {
            reconcile();
            last_reconcile = gg_mono_ms();
        }
    }
    if (c)
        PQfinish(c);
    return NULL;
}

int cluster_start(const char *database_url, struct store *st)
{
    if (!database_url || (strncmp(database_url, "postgres://", 11) != 0 &&
                          strncmp(database_url, "postgresql://", 13) != 0))
        return 0;
    conninfo = strdup(database_url);
    if (!conninfo)
        return -1;
    store = st;
    enabled = true;
    pool_set_lease_hooks(lease_take, lease_release);
    if (pthread_create(&thr, NULL, thread_main, NULL) != 0) {
        pool_set_lease_hooks(NULL, NULL);
        enabled = false;
        free(conninfo);
        conninfo = NULL;
        return -1;
    }
    return 0;
}

void cluster_stop(void)
{
    if (!enabled)
        return;
    stopping = true;
    pthread_join(thr, NULL);
    pool_set_lease_hooks(NULL, NULL);
    pthread_mutex_lock(&lease_mu);
    if (lease_conn)
        PQfinish(lease_conn);
    lease_conn = NULL;
    leasetab_free(&held);
    pthread_mutex_unlock(&lease_mu);
    free(conninfo);
    conninfo = NULL;
    enabled = false;
}

bool cluster_enabled(void)
{
    return enabled;
}

bool cluster_ok(void)
{
    return !enabled || listen_ok;
}

/* store_pg_query.c -- store_ops.query for PostgreSQL (see store_internal.h):
 * one parameterised statement on a pooled connection, text results. */
#include "store_pg_internal.h"

#include <stdlib.h>
#include <string.h>

int pg_query(void *be, const char *sql, const char *const *params, int nparams, struct store_rows *rows)
{
    struct pg *p = be;
    int i, rc = STORE_ERR, oom = 0;
    PGresult *r;

    if (rows)
        memset(rows, 0, sizeof(*rows));
    i = spg_acquire(p);
    if (i < 0)
        return STORE_ERR;
    r = PQexecParams(CONN(p, i), sql, nparams, NULL, params, NULL, NULL, 0);
    if (r && (PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK)) {
        rc = STORE_OK;
        if (rows && PQresultStatus(r) == PGRES_TUPLES_OK) {
            size_t nr = (size_t)PQntuples(r), nc = (size_t)PQnfields(r);

            rows->cell = calloc(nr * nc > 0 ? nr * nc : 1, sizeof(*rows->cell));
            if (!rows->cell) {
                store_set_error("out of memory");
                rc = STORE_ERR;
            } else {
                rows->nrows = nr;
                rows->ncols = nc;
                for (size_t y = 0; y < nr; y++)
                    for (size_t x = 0; x < nc; x++)
                        rows->cell[y * nc + x] = spg_gs(r, (int)y, (int)x, &oom);
                if (oom) {
                    store_set_error("out of memory");
                    rc = STORE_ERR;
                }
            }
        }
    } else {
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

        rc = state && strcmp(state, "23505") == 0 ? STORE_CONFLICT : STORE_ERR;
        spg_set_error(CONN(p, i), "query");
    }
    PQclear(r);
    spg_release(p, i);
    if (rc != STORE_OK && rows)
        store_rows_free(rows);
    return rc;
}

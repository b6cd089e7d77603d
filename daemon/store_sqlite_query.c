/* store_sqlite_query.c -- store_ops.query for SQLite (see store_internal.h):
 * one parameterised statement; the $N placeholders are SQLite named
 * parameters ("$1"), bound by their number. */
#include "store_sqlite_internal.h"

#include <stdlib.h>
#include <string.h>

int sq_query(void *be, const char *sql, const char *const *params, int nparams, struct store_rows *rows)
{
    struct sq *q = be;
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int r, rc = STORE_ERR, oom = 0;

    if (rows)
        memset(rows, 0, sizeof(*rows));
    pthread_mutex_lock(&q->mu);
    if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK) {
        sq_fail(q, "prepare");
        goto out;
    }
    for (int i = 1; i <= sqlite3_bind_parameter_count(st); i++) {
        const char *nm = sqlite3_bind_parameter_name(st, i);
        long k = nm && nm[0] == '$' ? strtol(nm + 1, NULL, 10) : i;

        sq_bind_str(st, i, k >= 1 && k <= nparams ? params[k - 1] : NULL);
    }
    if (rows)
        rows->ncols = (size_t)sqlite3_column_count(st);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (!rows || rows->ncols == 0)
            continue;
        if (rows->nrows * rows->ncols + rows->ncols > cap) {
            size_t nc = cap ? cap * 2 : rows->ncols * 16;
            char **cell = realloc(rows->cell, nc * sizeof(*cell));

            if (!cell) {
                store_set_error("out of memory");
                goto out;
            }
            rows->cell = cell;
            cap = nc;
        }
        for (size_t c = 0; c < rows->ncols; c++)
            rows->cell[rows->nrows * rows->ncols + c] = sq_col_str(st, (int)c, &oom);
        rows->nrows++;
        if (oom) {
            store_set_error("out of memory");
            goto out;
        }
    }
    if (r != SQLITE_DONE) {
        rc = sqlite3_extended_errcode(q->db) == SQLITE_CONSTRAINT_UNIQUE ? STORE_CONFLICT : STORE_ERR;
        sq_fail(q, "query");
        goto out;
    }
    rc = STORE_OK;
out:
    sqlite3_finalize(st);
    pthread_mutex_unlock(&q->mu);
    if (rc != STORE_OK && rows)
        store_rows_free(rows);
    return rc;
}

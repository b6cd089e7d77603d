/* import.h -- parser for bulk account imports (POST /api/admin/accounts/import).
 *
 * Accepted formats (detected from the text):
 *   1. JSON: an array of account objects, or {"accounts":[...]}.
 *   2. .env-style blocks: SECURE_C_SES=, HOST_C_OSES=, CSESIDX=, CONFIG_ID=,
 *      NAME=, PROXY=, NOTE= (any case); a blank line or a repeated key
 *      starts the next account.
 *   3. One account per line, '|' or tab separated:
 *      name|secure_c_ses|host_c_oses|csesidx|config_id  (5 fields) or
 *      secure_c_ses|host_c_oses|csesidx|config_id       (4 fields).
 *      Blank lines and lines starting with '#' are skipped.
 * Each entry records its 1-based line (JSON: index + 1) and, when it cannot
 * be read, an error message; field validation is the caller's job.
 * import_parse() never fails on bad input; it returns -1 only when memory
 * runs out or the entry cap (100,000) is passed.  Output strings are owned
 * by the entries; release with import_free().
 */
#ifndef IMPORT_H
#define IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#define IMPORT_MAX_ENTRIES 100000

struct import_entry {
    int line;
    char *name, *secure_c_ses, *host_c_oses, *csesidx, *config_id, *proxy, *note;
    int is_active;      /* -1 = not given */
    char error[160];    /* non-empty: unreadable entry */
};

int import_parse(const char *text, size_t n, struct import_entry **out, size_t *count);
void import_free(struct import_entry *e, size_t n);

#endif

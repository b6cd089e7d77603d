/* gg_config.h -- table-driven configuration (pgbouncer/Redis style).
 *
 * One static table per program lists every setting once: name, type,
 * target field (an offset into the program's settings struct), default,
 * bounds, flags and help.  gg_cfg_load() fills the fields of `base` from, in order of precedence, the process environment, a `.env`
 * file, then the defaults, validating each value.  It returns 0, or -1 with
 * a one-line message in err naming the setting and the allowed values; on
 * failure targets may be partly filled (call gg_cfg_free).  String targets
 * are malloc'd and owned by the config until gg_cfg_free().  Secret values
 * are never printed by gg_cfg_dump().
 */
#ifndef GG_CONFIG_H
#define GG_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum gg_cfg_type { GG_CFG_STR, GG_CFG_INT, GG_CFG_BOOL, GG_CFG_ENUM };

#define GG_CFG_SECRET 0x1u  /* never shown in dumps or logs */
#define GG_CFG_RELOAD 0x2u  /* may change on SIGHUP */

struct gg_cfg_entry {
    const char *name;
    enum gg_cfg_type type;
    size_t off;                  /* offsetof: char * | int64_t | bool | int (enum index) */
    const char *def;             /* default as text; NULL = unset (strings: NULL) */
    int64_t min, max;            /* INT bounds */
    const char *const *choices;  /* ENUM values, NULL-terminated */
    unsigned flags;
    const char *help;
};

int gg_cfg_load(const struct gg_cfg_entry *t, size_t n, void *base, const char *dotenv_path,
                char *err, size_t errlen);
/* Look up a key the way gg_cfg_load does (env, then .env file).  Returns a
 * malloc'd copy or NULL. */
char *gg_cfg_lookup(const char *name, const char *dotenv_path);
void gg_cfg_help(const struct gg_cfg_entry *t, size_t n, FILE *out);
void gg_cfg_dump(const struct gg_cfg_entry *t, size_t n, const void *base, FILE *out);
void gg_cfg_free(const struct gg_cfg_entry *t, size_t n, void *base);
/* Copy entry e's value from src to dst (strings duplicated; the old dst
 * string freed).  0, or -1 on allocation failure (dst unchanged). */
int gg_cfg_copy(const struct gg_cfg_entry *e, void *dst, const void *src);
/* true when entry e has the same value in a and b. */
int gg_cfg_equal(const struct gg_cfg_entry *e, const void *a, const void *b);

#endif

/* gg_log.h -- leveled logging to stderr, one line per call.
 *
 * The GG_LOG* macros check the level before evaluating their arguments, so
 * expensive formatting costs nothing when the level is off.  Each line is
 * written with a single write(2), so lines from different threads never
 * interleave.  Callers must never pass secrets (cookies, keys, JWTs): use
 * gg_mask() from gg_util.h for anything credential-like.
 *
 * The formatted message is escaped before it is written, so account names
 * or upstream error text cannot drive the operator's terminal: every C0
 * control (ESC included), DEL, and C1 control (U+0080..U+009F) becomes
 * \n, \r, \t or \xNN / \u00NN, and bytes that are not valid UTF-8 become
 * \xNN.  A line is at most about 8 KiB.
 */
#ifndef GG_LOG_H
#define GG_LOG_H

#include <stddef.h>

enum gg_log_level { GG_LOG_DEBUG = 0, GG_LOG_INFO, GG_LOG_WARN, GG_LOG_ERROR, GG_LOG_OFF };

extern int gg_log_level;

/* Parse "debug|info|warn|error|off"; returns -1 when unknown. */
int gg_log_parse_level(const char *s);
/* Escape src[0..n) as described above into dst (NUL-terminated, cut at a
 * whole escape when dst is too small).  Returns the length written. */
size_t gg_log_escape(char *dst, size_t dstlen, const char *src, size_t n);
void gg_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define GG_LOG(lvl, ...) do { if ((lvl) >= gg_log_level) gg_log_write((lvl), __VA_ARGS__); } while (0)
#define GG_DEBUG(...) GG_LOG(GG_LOG_DEBUG, __VA_ARGS__)
#define GG_INFO(...)  GG_LOG(GG_LOG_INFO, __VA_ARGS__)
#define GG_WARN(...)  GG_LOG(GG_LOG_WARN, __VA_ARGS__)
#define GG_ERROR(...) GG_LOG(GG_LOG_ERROR, __VA_ARGS__)

#endif

/* loadgen.h -- shared by the load generator's parts: lg_req.c (utilities,
 * options, the upstream identity for direct runs, request builders) and
 * lg_stats.c (process samples, percentiles, usage) and loadgen.c
 * (connections, the event loop, main).  A benchmark
 * tool: allocation failure and bad usage end the process (die). */
#ifndef LOADGEN_H
#define LOADGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jwt.h"

struct sbuf { char *p; size_t len, cap; };

enum target { T_GW, T_GW_CONT, T_DIRECT, T_DIRECT_SA };

struct lg_opt {
    enum target target;
    int port;
    const char *key;
    double rate;
    double duration;
    long count;
    int conns;
    bool closed;
    bool stream;
    bool gzip;
    const char *msg;
    const char *model;
    const char *marker;
    double timeout;
    double drain;
    int npids;
    int pids[4];
    const char *pid_names[4];
    double answer_bytes;
    const char *raw;
    const char *label;
    const char *dump;
    int prime_conns;
};
extern struct lg_opt opt;

extern char g_xsrf[256], g_keyid[64], g_jwt[JWT_MAX], g_session[512];
extern int64_t g_jwt_at;
extern const char *CSESIDX;

int64_t now_us(void);
void die(const char *m);
void *xrealloc(void *p, size_t n);
void sb_add(struct sbuf *b, const void *d, size_t n);
void sb_adds(struct sbuf *b, const char *s);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_json_str(struct sbuf *b, const char *s);
int tcp_connect(int port, bool nonblock);
int simple_http(const char *req, struct sbuf *resp);
int json_field(const char *s, const char *name, char *out, size_t outlen);
void sign_jwt(void);
void api_headers(struct sbuf *b, const char *path, size_t body_len, bool gzip);
void build_create_session(struct sbuf *out, bool keepalive_close);
void build_stream_assist(struct sbuf *out, const char *session, const char *text);
void direct_setup(void);
void parse_args(int argc, char **argv);
void build_gw(struct sbuf *out, long idx, bool prime);
void push_lat(int64_t **a, size_t *n, size_t *cap, int64_t v);
/* Find marker m in a stream of pieces d[0..n) (a tail keeps what may be a split marker). */
void marker_scan(char *tail, size_t *tail_len, const char *m, const char *d, size_t n, bool *seen);

extern int active, peak_active;     /* loadgen.c: requests in flight and their peak */

/* lg_stats.c: the measured processes (RSS, CPU from /proc), percentiles, usage */
struct psamp { long rss_start, rss_max, rss_end; double cpu_start, cpu_end; long rss_at_peak; };
extern struct psamp ps[4];
long read_rss_kb(int pid);
double read_cpu_s(int pid);
void sample_pids(bool start, bool end);
int cmp64(const void *a, const void *b);
void print_pcts(const char *name, int64_t *a, size_t n);
void usage(void);

#endif

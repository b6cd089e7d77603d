/* lg_stats.c -- what the load generator measures besides latency: RSS and
 * CPU of the processes named with --pid (from /proc), exact percentiles
 * printed as JSON, and the usage text; see loadgen.h. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loadgen.h"

struct psamp ps[4];

long read_rss_kb(int pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long v = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) {
            v = atol(line + 6);
            break;
        }
    fclose(f);
    return v;
}

double read_cpu_s(int pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long ut = 0, st = 0;
    /* fields after ')': state(3) ... utime(14) stime(15) */
    int field = 2;
    for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " ")) {
        field++;
        if (field == 14)
            ut = strtoul(tok, NULL, 10);
        else if (field == 15) {
            st = strtoul(tok, NULL, 10);
            break;
        }
    }
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

void sample_pids(bool start, bool end)
{
    for (int i = 0; i < opt.npids; i++) {
        long r = read_rss_kb(opt.pids[i]);
        if (start) {
            ps[i].rss_start = r;
            ps[i].cpu_start = read_cpu_s(opt.pids[i]);
        }
        if (r > ps[i].rss_max)
            ps[i].rss_max = r;
        if (active >= peak_active && active > 0)
            ps[i].rss_at_peak = r > ps[i].rss_at_peak ? r : ps[i].rss_at_peak;
        if (end) {
            ps[i].rss_end = r;
            ps[i].cpu_end = read_cpu_s(opt.pids[i]);
        }
    }
}

/* ---------------------------------------------------------------- report */

int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

void print_pcts(const char *name, int64_t *a, size_t n)
{
    qsort(a, n, sizeof *a, cmp64);
    printf(",\"%s\":{\"n\":%zu", name, n);
    if (n) {
        static const double q[] = {50, 90, 99, 99.9};
        static const char *qn[] = {"p50", "p90", "p99", "p999"};
        double sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += (double)a[i];
        for (int k = 0; k < 4; k++) {
            size_t idx = (size_t)((q[k] / 100.0) * (double)n + 0.5);
            if (idx > 0)
                idx--;
            if (idx >= n)
                idx = n - 1;
            printf(",\"%s\":%lld", qn[k], (long long)a[idx]);
        }
        printf(",\"min\":%lld,\"max\":%lld,\"mean\":%.1f", (long long)a[0], (long long)a[n - 1], sum / (double)n);
    }
    printf("}");
}

void usage(void)
{
    fprintf(stderr,
            "usage: loadgen --target gw|gw-cont|direct|direct-sa --port N [--key K]\n"
            "  [--rate R | --closed] [--duration S] [--count N] [--conns N]\n"
            "  [--stream 0|1] [--gzip 0|1] [--msg TEXT] [--model M] [--marker BYTES]\n"
            "  [--timeout S] [--drain S] [--pid PID NAME]... [--answer-bytes N]\n"
            "  [--raw FILE] [--label L] [--dump FILE]\n");
    exit(2);
}

/*
 * main.c - fake_upstream: a faithful fake of the Gemini Business widget
 * API (auth + biz-discoveryengine) for gemgate's tests and benchmarks.
 *
 *   fake_upstream [--host 127.0.0.1] [--port 0] [--port-file PATH]
 *                 [--accounts FILE.json] [--quiet]
 *
 * Exit status: 0 after SIGTERM/SIGINT, 1 on start-up failure.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "app.h"
#include "evloop.h"
#include "httpd.h"
#include "png.h"
#include "store.h"
#include "util.h"

#define DEMO_CSESIDX "1000001"
#define DEMO_SES "demo-ses"
#define DEMO_CONFIG "demo-config"

static struct ev_io sig_io;

static void usage(FILE *f)
{
  fprintf(f,
          "usage: fake_upstream [--host ADDR] [--port N] [--port-file PATH]\n"
          "                     [--accounts FILE.json] [--quiet]\n"
          "Fake Gemini Business upstream.  See tests/fake_upstream/"
          "README.md.\n");
}

static void raise_nofile(void)
{
  struct rlimit rl;
  if(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if(setrlimit(RLIMIT_NOFILE, &rl) < 0)
      log_msg("setrlimit(NOFILE): %s", strerror(errno));
  }
}

static void sig_cb(struct ev_io *io, uint32_t events)
{
  struct signalfd_siginfo si;
  (void)events;
  if(read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
    log_req("signal %u: shutting down", si.ssi_signo);
  ev_stop();
}

static int load_accounts(const char *path)
{
  FILE *f = fopen(path, "rb");
  struct dbuf d;
  char buf[8192], err[256];
  size_t n;
  cJSON *j;
  int rc = -1;
  if(!f) {
    log_msg("cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  dbuf_init(&d, 64 * 1024 * 1024);
  while((n = fread(buf, 1, sizeof(buf), f)) > 0)
    if(dbuf_add(&d, buf, n)) {
      log_msg("%s: too large", path);
      goto out;
    }
  j = cJSON_ParseWithLength(d.p ? d.p : "", d.len);
  if(!j) {
    log_msg("%s: invalid JSON", path);
    goto out;
  }
  if(accounts_from_json(j, err, sizeof(err)) < 0)
    log_msg("%s: %s", path, err);
  else
    rc = 0;
  cJSON_Delete(j);
out:
  fclose(f);
  dbuf_free(&d);
  return rc;
}

static int write_port_file(const char *path, int port)
{
  char tmp[4096];
  FILE *f;
  snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
  f = fopen(tmp, "w");
  if(!f) {
    log_msg("cannot write %s: %s", tmp, strerror(errno));
    return -1;
  }
  fprintf(f, "%d\n", port);
  if(fclose(f) || rename(tmp, path)) {
    log_msg("cannot write %s: %s", path, strerror(errno));
    unlink(tmp);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv)
{
  const char *host = "127.0.0.1", *port_file = NULL, *accounts = NULL;
  int port = 0, bound, i;
  sigset_t mask;

  for(i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if(!strcmp(a, "--quiet") || !strcmp(a, "-q"))
      log_quiet = 1;
    else if(!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return 0;
    }
    else if(v && !strcmp(a, "--host")) {
      host = v;
      i++;
    }
    else if(v && !strcmp(a, "--port")) {
      char *end;
      long p = strtol(v, &end, 10);
      if(*end || p < 0 || p > 65535) {
        usage(stderr);
        return 1;
      }
      port = (int)p;
      i++;
    }
    else if(v && !strcmp(a, "--port-file")) {
      port_file = v;
      i++;
    }
    else if(v && !strcmp(a, "--accounts")) {
      accounts = v;
      i++;
    }
    else {
      usage(stderr);
      return 1;
    }
  }

  raise_nofile();
  signal(SIGPIPE, SIG_IGN);
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  if(sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
    return 1;
  if(ev_init() < 0 || png_init() < 0) {
    log_msg("initialisation failed: %s", strerror(errno));
    return 1;
  }
  sig_io.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  sig_io.cb = sig_cb;
  if(sig_io.fd < 0 || ev_io_set(&sig_io, EPOLLIN) < 0) {
    log_msg("signalfd: %s", strerror(errno));
    return 1;
  }
  if(accounts) {
    if(load_accounts(accounts) < 0)
      return 1;
  }
  else
    account_put(DEMO_CSESIDX, DEMO_SES, NULL, DEMO_CONFIG);

  bound = http_listen(host, port, &fake_app);
  if(bound < 0)
    return 1;
  if(port_file && write_port_file(port_file, bound) < 0)
    return 1;
  printf("listening on %s:%d\n", host, bound);
  fflush(stdout);

  if(ev_run() < 0) {
    log_msg("event loop failed: %s", strerror(errno));
    return 1;
  }
  http_close_all();
  return 0;
}

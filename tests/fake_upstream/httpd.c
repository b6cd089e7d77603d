/*
 * httpd.c - event-driven HTTP/1.1 server.  See httpd.h.
 */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define IN_READ_CHUNK   (16 * 1024)
#define IN_MAX_WHILE_RESP (1024 * 1024)
#define OUT_MAX ((size_t)512 * 1024 * 1024)
#define RUN_BUDGET 64

enum { CS_SIZE, CS_DATA, CS_DATA_END, CS_TRAILER, CS_DONE };

uint64_t http_conns_open;
static struct conn *all_conns;

static struct {
  struct ev_io io;
  struct ev_timer retry;
  struct http_app app;
} lsn;

#define CONN_OF_IO(p) ((struct conn *)((char *)(p) - offsetof(struct conn, io)))
#define CONN_OF_TIMER(p) \
  ((struct conn *)((char *)(p) - offsetof(struct conn, timer)))

static int conn_run(struct conn *c);

const char *http_reason(int status)
{
  switch(status) {
  case 100: return "Continue";
  case 200: return "OK";
  case 204: return "No Content";
  case 302: return "Found";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 409: return "Conflict";
  case 411: return "Length Required";
  case 413: return "Payload Too Large";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 505: return "HTTP Version Not Supported";
  default: return "Status";
  }
}

/* ---------------------------------------------------------------- events */

static void conn_events(struct conn *c)
{
  uint32_t ev = EPOLLRDHUP;
  size_t cap = c->state == C_RESP ? IN_MAX_WHILE_RESP : HTTP_MAX_HEAD * 2;
  if(!c->peer_eof && c->in.len < cap)
    ev |= EPOLLIN;
  if(http_pending(c))
    ev |= EPOLLOUT;
  if(ev_io_set(&c->io, ev) < 0)
    log_msg("epoll_ctl: %s", strerror(errno));
}

static void req_reset(struct conn *c)
{
  free(c->req.head);
  dbuf_free(&c->req.body);
  memset(&c->req, 0, sizeof(c->req));
  dbuf_init(&c->req.body, HTTP_MAX_BODY);
  c->req.clen = -1;
  c->cstate = CS_SIZE;
  c->cremain = 0;
  c->continue_sent = 0;
  c->status = 0;
  c->resp_started = c->resp_chunked = c->resp_done = 0;
  c->bytes_sent = 0;
  c->rec_seq = 0;
  c->endpoint = NULL;
  c->csesidx[0] = '\0';
  c->job = NULL;
  c->job_arg = NULL;
  c->job_sleeping = c->job_idle = 0;
}

static void conn_free(struct conn *c, int disconnected)
{
  ev_timer_stop(&c->timer);
  ev_io_del(&c->io);
  if(c->state == C_RESP) {
    if(c->job) {
      const struct http_job_ops *ops = c->job;
      c->job = NULL;
      ops->done(c, c->job_arg, 1);
      disconnected = 1;
    }
    else if(!c->resp_done || http_pending(c))
      disconnected = 1;
    if(lsn.app.finished)
      lsn.app.finished(c, disconnected);
  }
  if(c->all_prev)
    c->all_prev->all_next = c->all_next;
  else
    all_conns = c->all_next;
  if(c->all_next)
    c->all_next->all_prev = c->all_prev;
  close(c->io.fd);
  free(c->req.head);
  dbuf_free(&c->req.body);
  dbuf_free(&c->in);
  dbuf_free(&c->out);
  free(c);
  http_conns_open--;
}

/* ----------------------------------------------------------- responses */

static const char *date_header(void)
{
  static char buf[64];
  static time_t last;
  time_t t = time(NULL);
  if(t != last) {
    char d[48];
    fmt_http_date(d, sizeof(d));
    snprintf(buf, sizeof(buf), "Date: %s\r\n", d);
    last = t;
  }
  return buf;
}

static void out_add(struct conn *c, const void *p, size_t n)
{
  if(dbuf_add(&c->out, p, n)) {
    /* a client that does not read 512 MiB: give up on it */
    log_msg("output buffer cap exceeded; closing connection");
    c->close_after = 1;
  }
}

void http_begin(struct conn *c, int status, const char *extra_headers,
                long long body_len)
{
  char line[128];
  int n;
  c->status = status;
  c->resp_started = 1;
  if(!c->req.keep_alive)
    c->close_after = 1;
  n = snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", status,
               http_reason(status));
  out_add(c, line, (size_t)n);
  out_add(c, date_header(), strlen(date_header()));
  if(extra_headers)
    out_add(c, extra_headers, strlen(extra_headers));
  if(body_len >= 0) {
    n = snprintf(line, sizeof(line), "Content-Length: %lld\r\n", body_len);
    out_add(c, line, (size_t)n);
  }
  else if(c->req.minor >= 1) {
    c->resp_chunked = 1;
    out_add(c, "Transfer-Encoding: chunked\r\n", 28);
  }
  else
    c->close_after = 1;  /* HTTP/1.0: close-delimited body */
  if(c->close_after)
    out_add(c, "Connection: close\r\n\r\n", 21);
  else
    out_add(c, "\r\n", 2);
}

void http_write(struct conn *c, const void *p, size_t n)
{
  if(!n)
    return;
  if(c->resp_chunked) {
    char hdr[24];
    int k = snprintf(hdr, sizeof(hdr), "%zx\r\n", n);
    char *dst = dbuf_reserve(&c->out, (size_t)k + n + 2);
    if(!dst) {
      out_add(c, hdr, 0);
      log_msg("output buffer cap exceeded; closing connection");
      c->close_after = 1;
      return;
    }
    memcpy(dst, hdr, (size_t)k);
    memcpy(dst + k, p, n);
    memcpy(dst + k + n, "\r\n", 2);
    dbuf_commit(&c->out, (size_t)k + n + 2);
  }
  else
    out_add(c, p, n);
}

void http_end(struct conn *c)
{
  if(c->resp_chunked)
    out_add(c, "0\r\n\r\n", 5);
  c->resp_done = 1;
}

void http_abort(struct conn *c)
{
  c->resp_done = 1;
  c->close_after = 1;
}

void http_respond(struct conn *c, int status, const char *ctype,
                  const char *extra_headers, const void *body, size_t n)
{
  struct dbuf h;
  dbuf_init(&h, 64 * 1024);
  if(ctype)
    dbuf_addf(&h, "Content-Type: %s\r\n", ctype);
  if(extra_headers)
    dbuf_adds(&h, extra_headers);
  http_begin(c, status, dbuf_cstr(&h), (long long)n);
  dbuf_free(&h);
  if(strcmp(c->req.method ? c->req.method : "", "HEAD"))
    out_add(c, body, n);
  c->resp_done = 1;
}

/* ---------------------------------------------------------------- jobs */

void http_job_start(struct conn *c, const struct http_job_ops *ops,
                    void *arg)
{
  c->job = ops;
  c->job_arg = arg;
  c->job_sleeping = 0;
  c->job_idle = 0;
}

void http_job_sleep(struct conn *c, uint64_t ms)
{
  c->job_sleeping = 1;
  ev_timer_arm(&c->timer, ms);
}

void http_job_idle(struct conn *c)
{
  c->job_idle = 1;
}

void http_job_finish(struct conn *c)
{
  const struct http_job_ops *ops = c->job;
  void *arg = c->job_arg;
  c->job = NULL;
  c->job_arg = NULL;
  c->job_sleeping = c->job_idle = 0;
  ev_timer_stop(&c->timer);
  if(ops)
    ops->done(c, arg, 0);
}

static void conn_timer_cb(struct ev_timer *t)
{
  struct conn *c = CONN_OF_TIMER(t);
  c->job_sleeping = 0;
  conn_run(c);
}

/* ------------------------------------------------------------- parsing */

const char *http_header(const struct http_req *r, const char *name)
{
  int i;
  for(i = 0; i < r->nhdr; i++)
    if(ieq(r->hdr[i].name, name))
      return r->hdr[i].value;
  return NULL;
}

/* Does the comma-separated header value contain token tok? */
static int has_token(const char *v, const char *tok)
{
  size_t tl = strlen(tok);
  while(v && *v) {
    const char *e;
    while(*v == ' ' || *v == '\t' || *v == ',')
      v++;
    e = v;
    while(*e && *e != ',')
      e++;
    {
      const char *t = e;
      while(t > v && (t[-1] == ' ' || t[-1] == '\t'))
        t--;
      if((size_t)(t - v) == tl && ieqn(v, tok, tl))
        return 1;
    }
    v = e;
  }
  return 0;
}

/* Queues an error response produced by the parser and closes after it. */
static void parse_fail(struct conn *c, int status, const char *msg)
{
  char body[256];
  int n = snprintf(body, sizeof(body),
                   "{\"error\":{\"code\":%d,\"message\":\"%s\","
                   "\"status\":\"%s\"}}", status, msg,
                   status == 413 ? "RESOURCE_EXHAUSTED" : "INVALID_ARGUMENT");
  c->req.keep_alive = 0;
  c->state = C_RESP;
  c->endpoint = "bad_request";
  if(!c->req.minor)
    c->req.minor = 1;
  http_respond(c, status, "application/json; charset=UTF-8", NULL, body,
               (size_t)n);
  c->close_after = 1;
}

static int is_tchar(int ch)
{
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
         (ch >= '0' && ch <= '9') || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Parses the head in c->req.head (len bytes, NUL-terminated).
 * Returns 0 or -1 after queueing an error response. */
static int parse_head(struct conn *c, size_t len)
{
  struct http_req *r = &c->req;
  char *p = r->head, *end = r->head + len, *line, *nl, *sp1, *sp2;
  const char *v;
  /* skip leading empty lines (RFC 9112 2.2 robustness) */
  while(p < end && (*p == '\r' || *p == '\n'))
    p++;
  nl = memchr(p, '\n', (size_t)(end - p));
  if(!nl) {
    parse_fail(c, 400, "Malformed request line.");
    return -1;
  }
  *nl = '\0';
  if(nl > p && nl[-1] == '\r')
    nl[-1] = '\0';
  line = p;
  p = nl + 1;
  sp1 = strchr(line, ' ');
  sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
  if(!sp1 || !sp2 || strchr(sp2 + 1, ' ')) {
    parse_fail(c, 400, "Malformed request line.");
    return -1;
  }
  *sp1 = *sp2 = '\0';
  r->method = line;
  r->target = sp1 + 1;
  if(!*r->method || !*r->target) {
    parse_fail(c, 400, "Malformed request line.");
    return -1;
  }
  for(v = r->method; *v; v++)
    if(!is_tchar((unsigned char)*v)) {
      parse_fail(c, 400, "Malformed method.");
      return -1;
    }
  if(!strcmp(sp2 + 1, "HTTP/1.1"))
    r->minor = 1;
  else if(!strcmp(sp2 + 1, "HTTP/1.0"))
    r->minor = 0;
  else {
    r->minor = 1;
    parse_fail(c, strncmp(sp2 + 1, "HTTP/", 5) ? 400 : 505,
               "Unsupported protocol version.");
    return -1;
  }
  if(r->target[0] != '/') {
    parse_fail(c, 400, "Malformed request target.");
    return -1;
  }
  /* headers */
  while(p < end) {
    char *colon, *val, *ve;
    nl = memchr(p, '\n', (size_t)(end - p));
    if(!nl)
      nl = end;
    *nl = '\0';
    if(nl > p && nl[-1] == '\r')
      nl[-1] = '\0';
    line = p;
    p = nl + 1;
    if(!*line)
      break;
    if(*line == ' ' || *line == '\t') {
      parse_fail(c, 400, "Obsolete header line folding.");
      return -1;
    }
    colon = strchr(line, ':');
    if(!colon || colon == line) {
      parse_fail(c, 400, "Malformed header line.");
      return -1;
    }
    for(v = line; v < colon; v++)
      if(!is_tchar((unsigned char)*v)) {
        parse_fail(c, 400, "Malformed header name.");
        return -1;
      }
    *colon = '\0';
    val = colon + 1;
    while(*val == ' ' || *val == '\t')
      val++;
    ve = val + strlen(val);
    while(ve > val && (ve[-1] == ' ' || ve[-1] == '\t'))
      *--ve = '\0';
    if(r->nhdr >= HTTP_MAX_HEADERS) {
      parse_fail(c, 431, "Too many header lines.");
      return -1;
    }
    r->hdr[r->nhdr].name = line;
    r->hdr[r->nhdr].value = val;
    r->nhdr++;
  }
  /* split target */
  {
    char *q = strchr((char *)r->target, '?');
    /* target is inside head (mutable); keep target intact by copying
     * the path into the tail of the request line is not possible, so
     * we NUL-split and rebuild target only for logging via path. */
    r->path = r->target;
    if(q) {
      *q = '\0';
      r->query = q + 1;
    }
    else
      r->query = "";
  }
  /* framing */
  {
    int i;
    long long clen = -1;
    for(i = 0; i < r->nhdr; i++) {
      if(ieq(r->hdr[i].name, "content-length")) {
        const char *d = r->hdr[i].value;
        long long vlen = 0;
        if(!*d) {
          parse_fail(c, 400, "Bad Content-Length.");
          return -1;
        }
        for(; *d; d++) {
          if(*d < '0' || *d > '9' || vlen > (1LL << 50)) {
            parse_fail(c, 400, "Bad Content-Length.");
            return -1;
          }
          vlen = vlen * 10 + (*d - '0');
        }
        if(clen >= 0 && clen != vlen) {
          parse_fail(c, 400, "Conflicting Content-Length.");
          return -1;
        }
        clen = vlen;
      }
      else if(ieq(r->hdr[i].name, "transfer-encoding")) {
        if(!ieq(r->hdr[i].value, "chunked")) {
          parse_fail(c, 501, "Unsupported Transfer-Encoding.");
          return -1;
        }
        r->chunked = 1;
      }
    }
    if(r->chunked && clen >= 0) {
      parse_fail(c, 400, "Both Content-Length and Transfer-Encoding.");
      return -1;
    }
    r->clen = clen;
    if(clen > (long long)HTTP_MAX_BODY) {
      parse_fail(c, 413, "Request body too large.");
      return -1;
    }
  }
  v = http_header(r, "connection");
  if(r->minor >= 1)
    r->keep_alive = !(v && has_token(v, "close"));
  else
    r->keep_alive = v && has_token(v, "keep-alive");
  v = http_header(r, "expect");
  r->expect_continue = v && ieq(v, "100-continue") && r->minor >= 1;
  return 0;
}

/* Finds the end of the head in c->in; returns the head length (including
 * the terminating blank line) or 0 when not complete yet. */
static size_t find_head_end(struct conn *c)
{
  const char *b = c->in.p;
  size_t i = c->scan, n = c->in.len;
  for(; i < n; i++) {
    if(b[i] != '\n')
      continue;
    if(i + 1 < n && b[i + 1] == '\n')
      return i + 2;
    if(i + 2 < n && b[i + 1] == '\r' && b[i + 2] == '\n')
      return i + 3;
  }
  c->scan = n > 2 ? n - 2 : 0;
  return 0;
}

/* Moves body bytes from c->in into c->req.body.
 * Returns 1 when the body is complete, 0 when more is needed, -1 error. */
static int read_body(struct conn *c)
{
  struct http_req *r = &c->req;
  if(c->cstate == CS_DONE)
    return 1;
  if(!r->chunked) {
    size_t need = (size_t)r->clen - r->body.len;
    size_t take = c->in.len < need ? c->in.len : need;
    if(take) {
      if(dbuf_add(&r->body, c->in.p, take)) {
        parse_fail(c, 413, "Request body too large.");
        return -1;
      }
      dbuf_consume(&c->in, take);
    }
    return r->body.len == (size_t)r->clen;
  }
  for(;;) {
    char *nl;
    size_t off;
    switch(c->cstate) {
    case CS_SIZE:
    case CS_TRAILER:
      nl = c->in.len ? memchr(c->in.p, '\n', c->in.len) : NULL;
      if(!nl) {
        if(c->in.len > 4096) {
          parse_fail(c, 400, "Chunk line too long.");
          return -1;
        }
        return 0;
      }
      off = (size_t)(nl - c->in.p) + 1;
      if(c->cstate == CS_SIZE) {
        uint64_t sz = 0;
        size_t i, digits = 0;
        for(i = 0; i < off - 1; i++) {
          int ch = (unsigned char)c->in.p[i];
          int hv = (ch >= '0' && ch <= '9') ? ch - '0' :
                   (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10 :
                   (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10 : -1;
          if(hv < 0)
            break;
          if(sz > HTTP_MAX_BODY) {
            parse_fail(c, 413, "Request body too large.");
            return -1;
          }
          sz = sz * 16 + (uint64_t)hv;
          digits++;
        }
        if(!digits || (i < off - 1 && c->in.p[i] != ';' &&
                       c->in.p[i] != '\r' && c->in.p[i] != ' ' &&
                       c->in.p[i] != '\t')) {
          parse_fail(c, 400, "Bad chunk size.");
          return -1;
        }
        dbuf_consume(&c->in, off);
        if(sz > HTTP_MAX_BODY - r->body.len) {
          parse_fail(c, 413, "Request body too large.");
          return -1;
        }
        c->cremain = sz;
        c->cstate = sz ? CS_DATA : CS_TRAILER;
      }
      else {
        int empty = off == 1 || (off == 2 && c->in.p[0] == '\r');
        dbuf_consume(&c->in, off);
        if(empty) {
          c->cstate = CS_DONE;
          return 1;
        }
      }
      break;
    case CS_DATA: {
      size_t take = c->in.len < c->cremain ? c->in.len : (size_t)c->cremain;
      if(!take)
        return 0;
      if(dbuf_add(&r->body, c->in.p, take)) {
        parse_fail(c, 413, "Request body too large.");
        return -1;
      }
      dbuf_consume(&c->in, take);
      c->cremain -= take;
      if(!c->cremain)
        c->cstate = CS_DATA_END;
      break;
    }
    case CS_DATA_END:
      if(c->in.len < 1)
        return 0;
      if(c->in.p[0] == '\n') {
        dbuf_consume(&c->in, 1);
        c->cstate = CS_SIZE;
        break;
      }
      if(c->in.len < 2)
        return 0;
      if(c->in.p[0] != '\r' || c->in.p[1] != '\n') {
        parse_fail(c, 400, "Bad chunk terminator.");
        return -1;
      }
      dbuf_consume(&c->in, 2);
      c->cstate = CS_SIZE;
      break;
    default:
      return -1;
    }
  }
}

/* Tries to complete a request from buffered input.
 * Returns 1 (request ready), 0 (need more), -1 (error response queued). */
static int conn_parse(struct conn *c)
{
  if(c->state == C_HEAD) {
    size_t hl;
    if(!c->in.len)
      return 0;
    hl = find_head_end(c);
    if(!hl) {
      if(c->in.len > HTTP_MAX_HEAD) {
        c->req.minor = 1;
        parse_fail(c, 431, "Request head too large.");
        return -1;
      }
      return 0;
    }
    if(hl > HTTP_MAX_HEAD) {
      c->req.minor = 1;
      parse_fail(c, 431, "Request head too large.");
      return -1;
    }
    c->req.head = xstrndup(c->in.p, hl);
    dbuf_consume(&c->in, hl);
    c->scan = 0;
    c->start_ms = now_mono_ms();
    if(parse_head(c, hl) < 0)
      return -1;
    if(!c->req.chunked && c->req.clen <= 0)
      return 1;
    c->state = C_BODY;
  }
  if(c->state == C_BODY) {
    int r = read_body(c);
    if(r == 0 && c->req.expect_continue && !c->continue_sent) {
      c->continue_sent = 1;
      out_add(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    }
    return r;
  }
  return 0;
}

/* ------------------------------------------------------------- driving */

/* Writes as much queued output as the socket takes.
 * Returns 0, or -1 when the peer is gone. */
static int conn_flush(struct conn *c)
{
  while(http_pending(c)) {
    ssize_t n = send(c->io.fd, c->out.p + c->out_off, http_pending(c),
                     MSG_NOSIGNAL);
    if(n < 0) {
      if(errno == EINTR)
        continue;
      if(errno == EAGAIN || errno == EWOULDBLOCK)
        return 0;
      return -1;
    }
    c->out_off += (size_t)n;
    if(c->state == C_RESP)
      c->bytes_sent += (uint64_t)n;
  }
  c->out_off = 0;
  dbuf_reset(&c->out, 256 * 1024);
  return 0;
}

/* Drives the connection as far as possible.  Returns 0, or -1 when the
 * connection was closed and freed. */
static int conn_run(struct conn *c)
{
  int budget = RUN_BUDGET;
  for(;;) {
    if(http_pending(c)) {
      if(conn_flush(c) < 0) {
        conn_free(c, 1);
        return -1;
      }
      if(http_pending(c))
        break;
    }
    if(c->state == C_RESP) {
      if(c->job) {
        if(c->job_sleeping || c->job_idle)
          break;
        if(--budget <= 0) {
          http_job_sleep(c, 0);  /* yield to other connections */
          break;
        }
        c->job->run(c, c->job_arg);
        continue;
      }
      if(!c->resp_done) {
        /* handler forgot to respond: fail safe */
        log_msg("internal: request without response");
        http_respond(c, 500, "text/plain", NULL, "internal\n", 9);
        c->close_after = 1;
        continue;
      }
      if(lsn.app.finished)
        lsn.app.finished(c, 0);
      if(c->close_after) {
        c->state = C_HEAD;  /* finished() already reported */
        conn_free(c, 0);
        return -1;
      }
      req_reset(c);
      c->state = C_HEAD;
      if(c->in.cap > 64 * 1024 && !c->in.len)
        dbuf_free(&c->in);
    }
    {
      int r = conn_parse(c);
      if(r == 1) {
        c->state = C_RESP;
        lsn.app.dispatch(c);
        continue;
      }
      if(r < 0)
        continue;
      if(http_pending(c))
        continue;  /* 100 Continue */
    }
    if(c->peer_eof) {
      conn_free(c, 0);
      return -1;
    }
    break;
  }
  conn_events(c);
  return 0;
}

/* Reads everything available.  Returns 0, or -1 on a hard error. */
static int conn_read(struct conn *c)
{
  size_t cap = c->state == C_RESP ? IN_MAX_WHILE_RESP : HTTP_MAX_HEAD * 2;
  while(!c->peer_eof && c->in.len < cap) {
    char *dst = dbuf_reserve(&c->in, IN_READ_CHUNK);
    ssize_t n;
    if(!dst)
      return -1;
    n = recv(c->io.fd, dst, IN_READ_CHUNK, 0);
    if(n > 0) {
      dbuf_commit(&c->in, (size_t)n);
      if(c->state == C_BODY) {
        /* keep the input buffer small while streaming a large body */
        int r = conn_parse(c);
        if(r != 0)
          return 0;
      }
      continue;
    }
    if(n == 0) {
      c->peer_eof = 1;
      break;
    }
    if(errno == EINTR)
      continue;
    if(errno == EAGAIN || errno == EWOULDBLOCK)
      break;
    return -1;
  }
  return 0;
}

static void conn_io_cb(struct ev_io *io, uint32_t events)
{
  struct conn *c = CONN_OF_IO(io);
  if(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    if(conn_read(c) < 0) {
      conn_free(c, 1);
      return;
    }
    if(events & (EPOLLHUP | EPOLLERR))
      c->peer_eof = 1;
  }
  if(conn_run(c) < 0)
    return;
  if(c->peer_eof && c->state == C_RESP) {
    /* client went away while we were still answering */
    conn_free(c, 1);
    return;
  }
  if(c->peer_eof && c->state != C_RESP && !http_pending(c))
    conn_free(c, 0);
}

/* ------------------------------------------------------------ listener */

static void listen_retry_cb(struct ev_timer *t)
{
  (void)t;
  ev_io_set(&lsn.io, EPOLLIN);
}

static void accept_cb(struct ev_io *io, uint32_t events)
{
  int i;
  (void)events;
  for(i = 0; i < 256; i++) {
    struct conn *c;
    int one = 1;
    int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if(fd < 0) {
      if(errno == EINTR || errno == ECONNABORTED)
        continue;
      if(errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
         errno == ENOMEM) {
        log_msg("accept: %s; pausing accepts for 100 ms", strerror(errno));
        ev_io_set(&lsn.io, 0);
        ev_timer_arm(&lsn.retry, 100);
      }
      return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c = xcalloc(1, sizeof(*c));
    c->io.fd = fd;
    c->io.cb = conn_io_cb;
    c->timer.cb = conn_timer_cb;
    dbuf_init(&c->in, HTTP_MAX_HEAD * 2 + IN_READ_CHUNK + IN_MAX_WHILE_RESP);
    dbuf_init(&c->out, OUT_MAX);
    dbuf_init(&c->req.body, HTTP_MAX_BODY);
    c->req.clen = -1;
    c->state = C_HEAD;
    c->all_next = all_conns;
    if(all_conns)
      all_conns->all_prev = c;
    all_conns = c;
    http_conns_open++;
    conn_events(c);
  }
}

void http_close_all(void)
{
  while(all_conns)
    conn_free(all_conns, 1);
}

int http_listen(const char *host, int port, const struct http_app *app)
{
  struct addrinfo hints, *res = NULL, *ai;
  char portstr[16];
  int fd = -1, one = 1, rc;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof(ss);

  lsn.app = *app;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  snprintf(portstr, sizeof(portstr), "%d", port);
  rc = getaddrinfo(host, portstr, &hints, &res);
  if(rc) {
    log_msg("getaddrinfo(%s): %s", host, gai_strerror(rc));
    return -1;
  }
  for(ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                ai->ai_protocol);
    if(fd < 0)
      continue;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if(!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 65535))
      break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if(fd < 0) {
    log_msg("cannot listen on %s:%d: %s", host, port, strerror(errno));
    return -1;
  }
  if(getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
    close(fd);
    return -1;
  }
  lsn.io.fd = fd;
  lsn.io.cb = accept_cb;
  lsn.retry.cb = listen_retry_cb;
  if(ev_io_set(&lsn.io, EPOLLIN) < 0) {
    close(fd);
    return -1;
  }
  if(ss.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

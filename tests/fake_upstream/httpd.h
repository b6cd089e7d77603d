/*
 * httpd.h - minimal event-driven HTTP/1.1 server for the fake upstream.
 *
 * Single thread, epoll, non-blocking sockets, keep-alive, pipelining
 * (requests are answered strictly one after another), Content-Length and
 * chunked request bodies, `Expect: 100-continue`, chunked responses.
 *
 * Limits: request head <= HTTP_MAX_HEAD bytes (else 431), body <=
 * HTTP_MAX_BODY bytes (else 413, connection closed), <= HTTP_MAX_HEADERS
 * header lines (else 431).  Malformed requests get 400 and a close.
 *
 * Life of a request: the app's dispatch() hook is called with a complete
 * request in c->req.  It must either produce a complete response
 * (http_respond, or http_begin/http_write/http_end) or start a job
 * (http_job_start) that produces it over time.  When the response has
 * been written completely, or the connection dies first, the finished()
 * hook is called exactly once for that request.
 *
 * Ownership: struct conn is owned by this module; the app may keep a
 * pointer only while a job runs on it (the job's done() callback is the
 * last moment the pointer is valid).
 */
#ifndef FU_HTTPD_H
#define FU_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include "dbuf.h"
#include "evloop.h"

#define HTTP_MAX_HEAD    (64 * 1024)
#define HTTP_MAX_BODY    ((size_t)64 * 1024 * 1024)
#define HTTP_MAX_HEADERS 100

struct http_hdr {
  const char *name;
  const char *value;
};

struct http_req {
  char *head;              /* owned copy of the request head */
  const char *method;
  const char *target;      /* raw request target */
  const char *path;        /* target before '?' (not decoded) */
  const char *query;       /* after '?', or "" */
  int minor;               /* HTTP/1.<minor> */
  int nhdr;
  struct http_hdr hdr[HTTP_MAX_HEADERS];
  struct dbuf body;        /* decoded body */
  long long clen;          /* Content-Length, -1 if none */
  int chunked;
  int expect_continue;
  int keep_alive;
};

struct conn;

struct http_job_ops {
  /* Called whenever the job may produce more output: right after start,
   * after a sleep ends, and after earlier output has been flushed. */
  void (*run)(struct conn *c, void *arg);
  /* Called once when the job ends: after http_job_finish (disconnected 0)
   * or when the connection dies (disconnected 1).  Must free arg. */
  void (*done)(struct conn *c, void *arg, int disconnected);
};

enum conn_state { C_HEAD, C_BODY, C_RESP };

struct conn {
  struct conn *all_prev, *all_next;   /* every open connection */
  struct ev_io io;
  struct ev_timer timer;
  enum conn_state state;
  struct dbuf in;
  size_t scan;             /* head terminator search offset */
  struct dbuf out;
  size_t out_off;
  struct http_req req;
  int cstate;              /* chunked request decoder state */
  uint64_t cremain;
  int continue_sent;
  /* response */
  int status;
  int resp_started, resp_chunked, resp_done, close_after;
  uint64_t bytes_sent;
  uint64_t start_ms;
  const struct http_job_ops *job;
  void *job_arg;
  int job_sleeping, job_idle;
  int peer_eof;
  /* app data for the current request */
  uint64_t rec_seq;
  const char *endpoint;
  char csesidx[32];
};

struct http_app {
  void (*dispatch)(struct conn *c);
  void (*finished)(struct conn *c, int disconnected);
};

/* Binds and listens on host:port (port 0 = ephemeral) and registers the
 * listener with the event loop.  Returns the bound port, or -1. */
int http_listen(const char *host, int port, const struct http_app *app);
/* Close and free every open connection (at shutdown, after ev_run). */
void http_close_all(void);

/* Case-insensitive header lookup; first match or NULL. */
const char *http_header(const struct http_req *r, const char *name);

/* Starts a response.  extra_headers: zero or more "Name: value\r\n" lines
 * (may be NULL).  body_len < 0 selects chunked encoding (or a
 * close-delimited body for HTTP/1.0 clients). */
void http_begin(struct conn *c, int status, const char *extra_headers,
                long long body_len);
/* Appends body bytes (framed as one chunk when chunked). */
void http_write(struct conn *c, const void *p, size_t n);
/* Ends the body (chunked terminator) and marks the response complete. */
void http_end(struct conn *c);
/* Ends the response without a proper terminator: the connection is closed
 * once queued bytes are flushed. */
void http_abort(struct conn *c);
/* One-shot complete response. */
void http_respond(struct conn *c, int status, const char *ctype,
                  const char *extra_headers, const void *body, size_t n);

/* Jobs (see struct http_job_ops). */
void http_job_start(struct conn *c, const struct http_job_ops *ops,
                    void *arg);
void http_job_sleep(struct conn *c, uint64_t ms);
/* The job wants no further run() calls (it waits for a disconnect). */
void http_job_idle(struct conn *c);
/* Ends the job normally; call after http_end or http_abort. */
void http_job_finish(struct conn *c);

/* Bytes queued but not yet written. */
static inline size_t http_pending(const struct conn *c)
{
  return c->out.len - c->out_off;
}

/* Counters. */
extern uint64_t http_conns_open;

const char *http_reason(int status);

#endif

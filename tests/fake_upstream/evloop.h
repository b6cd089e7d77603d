/*
 * evloop.h - single-threaded epoll event loop with a min-heap of timers.
 *
 * File events: one callback per registered fd (struct ev_io embedded in
 * the owner's struct).  Timers: struct ev_timer embedded in the owner;
 * each timer is either armed (in the heap) or not, and re-arming moves it.
 * A timer fires at most once per arming.  Callbacks may freely add, remove
 * or re-arm any fd or timer, including the one being dispatched, and may
 * free the owner after removing it.
 */
#ifndef FU_EVLOOP_H
#define FU_EVLOOP_H

#include <stddef.h>
#include <stdint.h>

struct ev_io;
struct ev_timer;

typedef void (*ev_io_cb)(struct ev_io *io, uint32_t events);
typedef void (*ev_timer_cb)(struct ev_timer *t);

struct ev_io {
  int fd;
  uint32_t events;  /* currently registered EPOLL* mask, 0 = not added */
  ev_io_cb cb;
};

struct ev_timer {
  uint64_t due;     /* CLOCK_MONOTONIC ms */
  size_t idx;       /* heap slot + 1, 0 = not armed */
  ev_timer_cb cb;
};

/* Creates the epoll instance.  Returns 0 or -1 (errno set). */
int ev_init(void);

/* Registers or updates interest for io->fd (mask of EPOLLIN/OUT/RDHUP).
 * A zero mask removes the fd.  Returns 0 or -1. */
int ev_io_set(struct ev_io *io, uint32_t events);
/* Removes the fd from the loop (it is not closed). */
void ev_io_del(struct ev_io *io);

/* Arms t to fire `ms` milliseconds from now (re-arms if armed). */
void ev_timer_arm(struct ev_timer *t, uint64_t ms);
/* Disarms t; harmless when not armed. */
void ev_timer_stop(struct ev_timer *t);
static inline int ev_timer_armed(const struct ev_timer *t)
{
  return t->idx != 0;
}

/* Runs until ev_stop() is called.  Returns 0, or -1 on epoll failure. */
int ev_run(void);
void ev_stop(void);

/* Number of armed timers (diagnostics). */
size_t ev_timer_count(void);

#endif

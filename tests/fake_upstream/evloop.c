/*
 * evloop.c - epoll + binary min-heap timers.  See evloop.h.
 */
#include "evloop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "dbuf.h"
#include "util.h"

static int epfd = -1;
static int stopping;
static struct ev_timer **heap;
static size_t heap_len, heap_cap;

int ev_init(void)
{
  epfd = epoll_create1(EPOLL_CLOEXEC);
  return epfd < 0 ? -1 : 0;
}

int ev_io_set(struct ev_io *io, uint32_t events)
{
  struct epoll_event ee;
  int op;
  if(events == io->events)
    return 0;
  memset(&ee, 0, sizeof(ee));
  ee.events = events;
  ee.data.ptr = io;
  if(!events)
    op = EPOLL_CTL_DEL;
  else if(!io->events)
    op = EPOLL_CTL_ADD;
  else
    op = EPOLL_CTL_MOD;
  if(epoll_ctl(epfd, op, io->fd, &ee) < 0)
    return -1;
  io->events = events;
  return 0;
}

void ev_io_del(struct ev_io *io)
{
  if(io->events)
    ev_io_set(io, 0);
}

/* heap helpers: slot i holds a timer whose idx == i + 1 */
static void heap_place(size_t i, struct ev_timer *t)
{
  heap[i] = t;
  t->idx = i + 1;
}

static void sift_up(size_t i)
{
  struct ev_timer *t = heap[i];
  while(i > 0) {
    size_t parent = (i - 1) / 2;
    if(heap[parent]->due <= t->due)
      break;
    heap_place(i, heap[parent]);
    i = parent;
  }
  heap_place(i, t);
}

static void sift_down(size_t i)
{
  struct ev_timer *t = heap[i];
  for(;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    uint64_t mdue = t->due;
    if(l < heap_len && heap[l]->due < mdue) {
      m = l;
      mdue = heap[l]->due;
    }
    if(r < heap_len && heap[r]->due < mdue)
      m = r;
    if(m == i)
      break;
    heap_place(i, heap[m]);
    i = m;
  }
  heap_place(i, t);
}

void ev_timer_stop(struct ev_timer *t)
{
  size_t i;
  struct ev_timer *last;
  if(!t->idx)
    return;
  i = t->idx - 1;
  t->idx = 0;
  last = heap[--heap_len];
  if(i == heap_len)
    return;
  heap[i] = last;
  last->idx = i + 1;
  if(i > 0 && heap[(i - 1) / 2]->due > last->due)
    sift_up(i);
  else
    sift_down(i);
}

void ev_timer_arm(struct ev_timer *t, uint64_t ms)
{
  ev_timer_stop(t);
  t->due = now_mono_ms() + ms;
  if(heap_len == heap_cap) {
    heap_cap = heap_cap ? heap_cap * 2 : 1024;
    heap = xrealloc(heap, heap_cap * sizeof(*heap));
  }
  heap[heap_len] = t;
  t->idx = heap_len + 1;
  heap_len++;
  sift_up(heap_len - 1);
}

size_t ev_timer_count(void)
{
  return heap_len;
}

void ev_stop(void)
{
  stopping = 1;
}

static void run_timers(void)
{
  uint64_t now = now_mono_ms();
  /* bounded so timers re-armed with 0 ms cannot starve I/O */
  size_t budget = heap_len + 16;
  while(heap_len && heap[0]->due <= now && budget--) {
    struct ev_timer *t = heap[0];
    ev_timer_stop(t);
    t->cb(t);
  }
}

int ev_run(void)
{
  struct epoll_event evs[512];
  while(!stopping) {
    int timeout = -1, n, i;
    if(heap_len) {
      uint64_t now = now_mono_ms();
      timeout = heap[0]->due <= now ? 0 : (int)(heap[0]->due - now);
    }
    n = epoll_wait(epfd, evs, 512, timeout);
    if(n < 0) {
      if(errno == EINTR)
        continue;
      return -1;
    }
    for(i = 0; i < n; i++) {
      struct ev_io *io = evs[i].data.ptr;
      io->cb(io, evs[i].events);
      if(stopping)
        break;
    }
    run_timers();
  }
  return 0;
}

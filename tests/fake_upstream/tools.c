/*
 * tools.c - tool mode of the fake upstream.  See tools.h and README.md.
 *
 * The marker is read from the query (`<tool_call marker="..."`); the plan
 * (which calls to make) comes from the `toolcall=`/`args=` directives and
 * is remembered in the session, so a corrective message (which carries no
 * directive) is answered from it.  A query carrying `<tool_result ...>`
 * blocks in a session with a plan gets a final text answer naming the
 * results.
 */
#include "tools.h"

#include <stdlib.h>
#include <string.h>

#include "dbuf.h"
#include "fx.h"
#include "store.h"

#define FIX_TEXT "Your previous reply could not be used"

static void plan_copy(struct fx *dst, const struct fx *src)
{
  int i;
  fx_init(dst);
  for(i = 0; i < src->ntool; i++) {
    dst->tool_name[i] = xstrdup(src->tool_name[i]);
    dst->tool_args[i] = src->tool_args[i] ? xstrdup(src->tool_args[i]) : NULL;
  }
  dst->ntool = src->ntool;
  dst->toolbad = src->toolbad;
  dst->toolfence = src->toolfence;
  dst->tooltext = src->tooltext ? xstrdup(src->tooltext) : NULL;
}

/* "Final answer. Tool results: NAME=CONTENT; ..." from <tool_result> blocks */
static char *final_answer(const char *q, size_t n)
{
  struct dbuf d;
  const char *p = q, *end = q + n;
  dbuf_init(&d, 1 << 20);
  dbuf_adds(&d, "Final answer. Tool results:");
  while(p < end) {
    const char *b = memmem(p, (size_t)(end - p), "<tool_result ", 13);
    const char *gt, *close, *nm;
    if(!b)
      break;
    gt = memchr(b, '>', (size_t)(end - b));
    close = gt ? memmem(gt, (size_t)(end - gt), "</tool_result>", 14) : NULL;
    if(!close)
      break;
    nm = memmem(b, (size_t)(gt - b), "name=\"", 6);
    dbuf_adds(&d, " ");
    if(nm) {
      const char *ne = memchr(nm + 6, '"', (size_t)(gt - nm - 6));
      if(ne)
        dbuf_add(&d, nm + 6, (size_t)(ne - nm - 6));
    }
    dbuf_adds(&d, "=");
    gt++;
    while(gt < close && (*gt == '\n' || *gt == ' '))
      gt++;
    {
      const char *ce = close;
      while(ce > gt && (ce[-1] == '\n' || ce[-1] == ' '))
        ce--;
      dbuf_add(&d, gt, (size_t)(ce - gt) > 200 ? 200 : (size_t)(ce - gt));
    }
    dbuf_adds(&d, ";");
    p = close + 14;
  }
  dbuf_cstr(&d);
  {
    char *r = xstrndup(d.p, d.len);
    dbuf_free(&d);
    return r;
  }
}

char *tools_answer(struct session *s, const struct fx *fx, const char *q,
                   size_t n)
{
  const char *mk = memmem(q, n, "<tool_call marker=\"", 19);
  char marker[9];
  int fix = memmem(q, n, FIX_TEXT, strlen(FIX_TEXT)) != NULL;
  const struct fx *plan;
  struct dbuf d;
  char *r;
  int i, bad = 0;
  if(!mk || (size_t)(q + n - mk) < 19 + 8)
    return NULL;
  memcpy(marker, mk + 19, 8);
  marker[8] = '\0';
  if(fx->ntool > 0) {
    if(s->tool_plan) {
      fx_free(s->tool_plan);
      free(s->tool_plan);
    }
    s->tool_plan = xcalloc(1, sizeof(*s->tool_plan));
    plan_copy(s->tool_plan, fx);
  }
  /* without a plan (a toolcall directive now, or earlier in this session)
   * the default echo answers (stream.c defuses the echoed tool syntax) */
  plan = fx->ntool > 0 ? fx : s->tool_plan;
  if(!plan || plan->ntool == 0)
    return NULL;
  if(!fix && memmem(q, n, "<tool_result ", 13))
    return final_answer(q, n);
  if(!fix && fx->ntool == 0)
    return NULL;
  if(s->tool_plan && s->tool_plan->toolbad > 0) {
    s->tool_plan->toolbad--;
    bad = 1;
  }
  dbuf_init(&d, 64u << 20);
  dbuf_adds(&d, plan->tooltext ? plan->tooltext : "Let me use a tool.");
  dbuf_adds(&d, "\n\n");
  for(i = 0; i < plan->ntool; i++) {
    const char *args = plan->tool_args[i] ? plan->tool_args[i] : "{}";
    if(plan->toolfence)
      dbuf_adds(&d, "```json\n");
    else {
      dbuf_adds(&d, "<tool_call marker=\"");
      dbuf_adds(&d, marker);
      dbuf_adds(&d, "\">\n");
    }
    dbuf_adds(&d, "{\"name\": \"");
    dbuf_adds(&d, plan->tool_name[i]);
    dbuf_adds(&d, "\", \"arguments\": ");
    /* broken: a missing colon, which no repair guesses */
    dbuf_adds(&d, bad ? "{\"city\" \"Paris\"}" : args);
    dbuf_adds(&d, "}\n");
    dbuf_adds(&d, plan->toolfence ? "```\n" : "</tool_call>\n");
  }
  dbuf_cstr(&d);
  r = xstrndup(d.p, d.len);
  dbuf_free(&d);
  return r;
}

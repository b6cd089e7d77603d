/*
 * stream.c - POST widgetStreamAssist: request validation and the
 * streaming job that writes the JSON array element by element
 * (protocol sections 3.2 and 5).
 *
 * Element plan (normal mode):
 *   [0]      uToken + thought 1 ("**Assessing the Request**") +
 *            sessionInfo {} + assistToken
 *   [1]      thought 2 ("**Generating Response**")
 *   [2..k]   answer fragments (~fragment_bytes each, cut at UTF-8
 *            boundaries), or for image requests: "<ctrl46>Image size"
 *            text, one file reply per image, a closing text line
 *   [last]   answer.state SUCCEEDED + answer.name + full sessionInfo
 *            (image requests repeat the file replies here)
 * Each element is one HTTP chunk (optionally gzip, Z_SYNC_FLUSH per
 * element) written with its own send().  With batching (directive batch,
 * automatic for fragments >= 1000 without delay_ms) elements are
 * coalesced into ~64 KiB chunks, one flush and one send() per chunk.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "app.h"
#include "png.h"
#include "store.h"
#include "tools.h"
#include "util.h"

#define DEFAULT_ANSWER "\xe6\x98\xa5\xe7\x9c\xa0\xe4\xb8\x8d\xe8\xa7\x89" \
  "\xe6\x99\x93\xef\xbc\x8c\xe5\xa4\x84\xe5\xa4\x84\xe9\x97\xbb\xe5\x95" \
  "\xbc\xe9\xb8\x9f\xe3\x80\x82 echo: "
#define ECHO_MAX 200
#define BATCH_BYTES (64 * 1024)
#define MAX_IMAGES 16

static const char *const known_models[] = {
  "gemini-2.5-flash", "gemini-2.5-pro", "gemini-3-flash-preview",
  "gemini-3-pro-preview", "gemini-3.1-pro-preview",
};

enum phase { PH_HEADERS, PH_BODY, PH_DRIP, PH_END, PH_DONE };
enum step { S_THOUGHT, S_ANSWER, S_IMG_TEXT, S_VIDEO_WAIT, S_IMG_FILE,
            S_IMG_DONE, S_FINAL, S_CLOSE };
#define BUILD_PAUSE 2   /* build_next: no element, sleep video_ms first */

struct sj {
  struct fx fx;
  char sid[24];
  char *query;
  char *answer;
  size_t alen, acur;
  long frags_done;
  enum phase phase;
  enum step step;
  int thought_i;
  int img_i;
  int nfiles;
  char files[MAX_IMAGES][40];
  int elems;               /* elements fully queued */
  int img_mode;
  int video_mode;          /* video directive + videoGenerationSpec */
  int inline_mode;         /* image: inlineData replies, no stored files */
  int late_files;          /* files_after_ms: no file in the stream */
  int video_waited;
  int gzip;
  int zinit;
  z_stream z;
  struct dbuf stage;       /* current element text (uncompressed) */
  size_t stage_off;
  struct dbuf frag;        /* current fragment (fragments=N mode) */
  struct dbuf tpl;         /* answer element: prefix MARK suffix */
  size_t tpl_pre, tpl_suf;
  struct dbuf batch;       /* elements coalesced into one write */
  int batching;
  char utoken[48], atoken[48], qid[24], tid[24], aid[24];
  const char *final_state;
};

static struct dbuf zscratch;

/* ------------------------------------------------------------ output */

/* Writes p[0..n) to the body, through gzip when enabled.  finish closes
 * the gzip stream. */
static void body_out(struct conn *c, struct sj *j, const char *p, size_t n,
                     int finish)
{
  if(!j->gzip) {
    http_write(c, p, n);
    return;
  }
  j->z.next_in = (Bytef *)(uintptr_t)p;
  j->z.avail_in = (uInt)n;
  dbuf_reset(&zscratch, 1 << 20);
  do {
    char *dst = dbuf_reserve(&zscratch, 16384);
    if(!dst)
      break;
    j->z.next_out = (Bytef *)dst;
    j->z.avail_out = 16384;
    deflate(&j->z, finish ? Z_FINISH : Z_SYNC_FLUSH);
    dbuf_commit(&zscratch, 16384 - j->z.avail_out);
  } while(j->z.avail_out == 0);
  http_write(c, zscratch.p, zscratch.len);
}

/* --------------------------------------------------------- elements */

static void reply_text(struct jw *w, const char *text, size_t n,
                       int thought)
{
  jw_obj(w);
  jw_key(w, "groundedContent");
  jw_obj(w);
  jw_key(w, "content");
  jw_obj(w);
  jw_kstr(w, "role", "model");
  jw_key(w, "text");
  jw_strn(w, text, n);
  if(thought)
    jw_kbool(w, "thought", 1);
  jw_obj_end(w);
  jw_obj_end(w);
  jw_obj_end(w);
}

static void reply_file(struct jw *w, const char *file_id, int idx, int video)
{
  char name[64];
  if(video)
    snprintf(name, sizeof(name), "generated_video_%d.mp4", idx + 1);
  else
    snprintf(name, sizeof(name), "generated_image_%d.png", idx + 1);
  jw_obj(w);
  jw_key(w, "groundedContent");
  jw_obj(w);
  jw_key(w, "content");
  jw_obj(w);
  jw_kstr(w, "role", "model");
  jw_key(w, "file");
  jw_obj(w);
  jw_kstr(w, "fileId", file_id);
  jw_kstr(w, "mimeType", video ? "video/mp4" : "image/png");
  jw_kstr(w, "name", name);
  jw_obj_end(w);
  jw_obj_end(w);
  jw_obj_end(w);
  jw_obj_end(w);
}

/* An image carried in the stream itself (no stored file). */
static void reply_inline(struct jw *w)
{
  jw_obj(w);
  jw_key(w, "groundedContent");
  jw_obj(w);
  jw_key(w, "content");
  jw_obj(w);
  jw_kstr(w, "role", "model");
  jw_key(w, "inlineData");
  jw_obj(w);
  jw_kstr(w, "mimeType", "image/png");
  jw_key(w, "data");
  jw_strn(w, png_base64(), png_base64_len());
  jw_obj_end(w);
  jw_obj_end(w);
  jw_obj_end(w);
  jw_obj_end(w);
}

static void session_info_full(struct jw *w, struct sj *j)
{
  char full[256];
  session_full_name(full, sizeof(full), j->sid);
  jw_key(w, "sessionInfo");
  jw_obj(w);
  jw_kstr(w, "session", full);
  jw_kstr(w, "queryId", j->qid);
  jw_kstr(w, "turnId", j->tid);
  jw_obj_end(w);
}

/* Opens an IN_PROGRESS element; the first element of the stream also
 * carries uToken.  Leaves the writer inside answer.replies[]. */
static void elem_open(struct jw *w, struct sj *j)
{
  jw_obj(w);
  if(!j->elems)
    jw_kstr(w, "uToken", j->utoken);
  jw_key(w, "streamAssistResponse");
  jw_obj(w);
  jw_key(w, "answer");
  jw_obj(w);
  jw_kstr(w, "state", "IN_PROGRESS");
  jw_key(w, "replies");
  jw_arr(w);
}

static void elem_close(struct jw *w, struct sj *j)
{
  jw_arr_end(w);
  jw_kstr(w, "adkAuthor", "root_agent");
  jw_obj_end(w);  /* answer */
  if(!j->elems) {
    jw_key(w, "sessionInfo");
    jw_obj(w);
    jw_obj_end(w);
    jw_kstr(w, "assistToken", j->atoken);
  }
  jw_obj_end(w);  /* streamAssistResponse */
  jw_obj_end(w);
}

static const char *thought_text(int i, char *buf, size_t n, size_t qlen)
{
  if(i == 0)
    snprintf(buf, n, "**Assessing the Request**\n\nThe user sent a %zu-byte "
             "message. I will answer with the spring quatrain and echo the "
             "end of the message back.", qlen);
  else if(i == 1)
    snprintf(buf, n, "**Generating Response**\n\nDrafting the lines and "
             "the echo now.");
  else
    snprintf(buf, n, "**Refining the Answer**\n\nPass %d over the draft.",
             i - 1);
  return buf;
}

/* Next answer fragment into (*p, *n); returns 0 when done.  Plain mode
 * walks the answer once; fragments=N mode takes fragment_bytes from the
 * endless repetition of the answer.  Cuts fall on UTF-8 boundaries. */
static int next_fragment(struct sj *j, const char **p, size_t *n)
{
  size_t fb = j->fx.fragment_bytes ? (size_t)j->fx.fragment_bytes : 12;
  size_t end;
  if(!j->alen)
    return 0;
  if(j->fx.fragments > 0) {
    if(j->frags_done >= j->fx.fragments)
      return 0;
    dbuf_reset(&j->frag, 1 << 20);
    while(j->frag.len < fb) {
      if(j->acur >= j->alen)
        j->acur = 0;  /* wrap around */
      end = j->acur + (fb - j->frag.len);
      if(end < j->alen) {
        while(end > j->acur && (j->answer[end] & 0xC0) == 0x80)
          end--;
        if(end == j->acur) {
          if(j->frag.len)
            break;
          end = utf8_next_boundary(j->answer, j->alen, j->acur + 1);
        }
      }
      else
        end = j->alen;
      dbuf_add(&j->frag, j->answer + j->acur, end - j->acur);
      j->acur = end;
      if(end < j->alen)
        break;
    }
    j->frags_done++;
    *p = j->frag.p;
    *n = j->frag.len;
    return 1;
  }
  if(j->acur >= j->alen)
    return 0;
  end = j->acur + fb;
  if(end >= j->alen)
    end = j->alen;
  else {
    while(end > j->acur && (j->answer[end] & 0xC0) == 0x80)
      end--;
    if(end == j->acur)
      end = utf8_next_boundary(j->answer, j->alen, j->acur + 1);
  }
  *p = j->answer + j->acur;
  *n = end - j->acur;
  j->acur = end;
  j->frags_done++;
  return 1;
}

static void elem_error429(struct jw *w)
{
  jw_obj(w);
  jw_key(w, "error");
  jw_obj(w);
  jw_kint(w, "code", 429);
  jw_kstr(w, "message", "Resource has been exhausted (e.g. check quota).");
  jw_kstr(w, "status", "RESOURCE_EXHAUSTED");
  jw_obj_end(w);
  jw_obj_end(w);
}

static void elem_final(struct jw *w, struct sj *j, const char *state)
{
  char name[320];
  int i;
  snprintf(name, sizeof(name), FULL_PREFIX SESSION_PREFIX "%s/answers/%s",
           j->sid, j->aid);
  jw_obj(w);
  if(!j->elems)
    jw_kstr(w, "uToken", j->utoken);
  jw_key(w, "streamAssistResponse");
  jw_obj(w);
  jw_key(w, "answer");
  jw_obj(w);
  jw_kstr(w, "name", name);
  jw_kstr(w, "state", state);
  if(!strcmp(state, "SKIPPED")) {
    jw_key(w, "assistSkippedReasons");
    jw_arr(w);
    jw_str(w, "CUSTOMER_POLICY_VIOLATION");
    jw_arr_end(w);
    jw_key(w, "customerPolicyEnforcementResult");
    jw_obj(w);
    jw_key(w, "policyResults");
    jw_arr(w);
    jw_obj(w);
    jw_key(w, "modelArmorEnforcementResult");
    jw_obj(w);
    jw_kstr(w, "modelArmorViolation",
            "The prompt violated the organization's Model Armor policy "
            "(fake upstream: skipped directive).");
    jw_obj_end(w);
    jw_obj_end(w);
    jw_arr_end(w);
    jw_obj_end(w);
  }
  if(j->nfiles && (j->img_mode || j->video_mode) && !j->late_files) {
    /* repeated on purpose: clients must de-duplicate fileIds */
    jw_key(w, "replies");
    jw_arr(w);
    for(i = 0; i < j->nfiles; i++)
      reply_file(w, j->files[i], i, j->video_mode);
    jw_arr_end(w);
  }
  jw_obj_end(w);  /* answer */
  session_info_full(w, j);
  if(!j->elems)
    jw_kstr(w, "assistToken", j->atoken);
  jw_obj_end(w);
  jw_obj_end(w);
  j->final_state = state;
}

#define TPL_MARK "@@FAKE_FRAGMENT@@"

/* Renders an answer-fragment element (not the first one) once with a
 * marker text, so later fragments are prefix + escaped text + suffix. */
static void build_template(struct sj *j)
{
  struct jw w;
  const char *m;
  dbuf_init(&j->tpl, 64 * 1024);
  jw_init(&w, &j->tpl, !j->fx.compact);
  w.escape_html = j->fx.escape_html;
  elem_open(&w, j);
  reply_text(&w, TPL_MARK, strlen(TPL_MARK), 0);
  elem_close(&w, j);
  m = memmem(j->tpl.p, j->tpl.len, TPL_MARK, strlen(TPL_MARK));
  j->tpl_pre = (size_t)(m - j->tpl.p);
  j->tpl_suf = j->tpl_pre + strlen(TPL_MARK);
}

/* Builds the next element (with its leading separator) into j->stage.
 * Returns 0 when the stream has no further elements (the closing bracket
 * is then due). */
static int build_next(struct sj *j)
{
  struct jw w;
  char tbuf[256];
  const char *fp;
  size_t fn;
  int pretty = !j->fx.compact;

  dbuf_reset(&j->stage, 256 * 1024);
  j->stage_off = 0;
  if(!j->elems)
    dbuf_addc(&j->stage, '[');
  else
    dbuf_adds(&j->stage, pretty ? "\n,\r\n" : ",");
  jw_init(&w, &j->stage, pretty);
  w.escape_html = j->fx.escape_html;

  if(j->fx.mode == FX_INBAND429 && j->elems >= j->fx.error_after) {
    if(j->step == S_CLOSE)
      return 0;
    elem_error429(&w);
    j->step = S_CLOSE;
    j->final_state = "ERROR";
    return 1;
  }
  if(j->fx.mode == FX_SKIPPED) {
    if(j->step == S_CLOSE)
      return 0;
    elem_final(&w, j, "SKIPPED");
    j->step = S_CLOSE;
    return 1;
  }
  for(;;) {
    switch(j->step) {
    case S_THOUGHT:
      if(j->thought_i >= j->fx.thoughts) {
        j->step = j->fx.mode == FX_THOUGHTS_ONLY ? S_FINAL :
                  j->video_mode ? S_VIDEO_WAIT :
                  j->img_mode ? S_IMG_TEXT : S_ANSWER;
        continue;
      }
      elem_open(&w, j);
      thought_text(j->thought_i++, tbuf, sizeof(tbuf), strlen(j->query));
      reply_text(&w, tbuf, strlen(tbuf), 1);
      elem_close(&w, j);
      return 1;
    case S_ANSWER:
      if(!next_fragment(j, &fp, &fn)) {
        j->step = S_FINAL;
        continue;
      }
      if(j->elems) {
        /* fast path: no per-member writer calls */
        if(!j->tpl.len)
          build_template(j);
        dbuf_add(&j->stage, j->tpl.p, j->tpl_pre);
        json_escape(&j->stage, fp, fn, j->fx.escape_html);
        dbuf_add(&j->stage, j->tpl.p + j->tpl_suf, j->tpl.len - j->tpl_suf);
        return 1;
      }
      elem_open(&w, j);
      reply_text(&w, fp, fn, 0);
      elem_close(&w, j);
      return 1;
    case S_IMG_TEXT:
      elem_open(&w, j);
      reply_text(&w, "<ctrl46>Image size: (8, 8)\n", 27, 0);
      elem_close(&w, j);
      j->step = S_IMG_FILE;
      return 1;
    case S_VIDEO_WAIT:
      if(!j->video_waited)
        return BUILD_PAUSE;  /* rendering: silence on the wire */
      j->step = S_IMG_FILE;
      continue;
    case S_IMG_FILE:
      if(j->late_files || j->img_i >= (j->inline_mode ? j->fx.images
                                                      : j->nfiles)) {
        j->step = S_IMG_DONE;
        continue;
      }
      elem_open(&w, j);
      if(j->inline_mode)
        reply_inline(&w);
      else
        reply_file(&w, j->files[j->img_i], j->img_i, j->video_mode);
      j->img_i++;
      elem_close(&w, j);
      return 1;
    case S_IMG_DONE:
      elem_open(&w, j);
      if(j->video_mode)
        reply_text(&w, "<ctrl46>Video generated by Veo.", 31, 0);
      else
        reply_text(&w, "<ctrl46>Image generated by Nano Banana Pro.", 43,
                   0);
      elem_close(&w, j);
      j->step = j->fx.answer ? S_ANSWER : S_FINAL;
      return 1;
    case S_FINAL:
      elem_final(&w, j, "SUCCEEDED");
      j->step = S_CLOSE;
      return 1;
    case S_CLOSE:
    default:
      return 0;
    }
  }
}

/* End of a stage piece for split_utf8: cut right after the lead byte of
 * the first multi-byte character, else after at most 7 bytes. */
static size_t drip_end(const struct sj *j)
{
  const unsigned char *u = (const unsigned char *)j->stage.p;
  size_t i, lim = j->stage_off + 7;
  if(lim > j->stage.len)
    lim = j->stage.len;
  for(i = j->stage_off; i < lim; i++)
    if((u[i] & 0xC0) == 0xC0 && i + 1 < j->stage.len)
      return i + 1;
  return lim;
}

static void flush_batch(struct conn *c, struct sj *j)
{
  if(j->batch.len) {
    body_out(c, j, j->batch.p, j->batch.len, 0);
    dbuf_reset(&j->batch, 256 * 1024);
  }
}

static void end_body(struct conn *c, struct sj *j, int with_bracket)
{
  const char *close = j->fx.compact ? "]" : "\n]";
  if(j->gzip)
    body_out(c, j, with_bracket ? close : "", with_bracket ? strlen(close)
             : 0, 1);
  else if(with_bracket)
    http_write(c, close, strlen(close));
  http_end(c);
  j->phase = PH_DONE;
}

static void stream_run(struct conn *c, void *arg)
{
  struct sj *j = arg;

  switch(j->phase) {
  case PH_HEADERS: {
    char hdrs[512];
    snprintf(hdrs, sizeof(hdrs),
             "Content-Type: application/json; charset=UTF-8\r\n"
             "Vary: Origin\r\nVary: X-Origin\r\nVary: Referer\r\n"
             "%sServer: ESF\r\nX-XSS-Protection: 0\r\n"
             "X-Frame-Options: SAMEORIGIN\r\n"
             "X-Content-Type-Options: nosniff\r\n",
             j->gzip ? "Content-Encoding: gzip\r\n" : "");
    http_begin(c, 200, hdrs, -1);
    if(j->fx.mode == FX_HANG) {
      http_job_idle(c);
      return;
    }
    j->phase = PH_BODY;
    if(j->fx.first_byte_ms)
      http_job_sleep(c, (uint64_t)j->fx.first_byte_ms);
    return;
  }
  case PH_DRIP: {
    size_t e = drip_end(j);
    body_out(c, j, j->stage.p + j->stage_off, e - j->stage_off, 0);
    j->stage_off = e;
    if(j->stage_off < j->stage.len) {
      http_job_sleep(c, (uint64_t)j->fx.split_ms);
      return;
    }
    j->elems++;
    j->phase = PH_BODY;
    if(j->fx.delay_ms)
      http_job_sleep(c, (uint64_t)j->fx.delay_ms);
    else if(j->fx.split_ms)
      http_job_sleep(c, (uint64_t)j->fx.split_ms);
    return;
  }
  case PH_BODY:
    for(;;) {
      int more = build_next(j);
      int cut = 0;
      if(more == BUILD_PAUSE) {
        flush_batch(c, j);
        j->video_waited = 1;
        http_job_sleep(c, (uint64_t)j->fx.video_ms);
        return;
      }
      if(!more) {
        flush_batch(c, j);
        j->phase = PH_END;
        return;
      }
      if((j->fx.mode == FX_TRUNCATE || j->fx.mode == FX_TRUNCATE_CLEAN) &&
         (j->elems >= j->fx.truncate_after || j->step == S_CLOSE))
        cut = 1;
      if(cut) {
        flush_batch(c, j);
        j->final_state = "TRUNCATED";
        if(j->fx.mode == FX_TRUNCATE) {
          body_out(c, j, j->stage.p, j->stage.len / 2, 0);
          http_abort(c);
          j->phase = PH_DONE;
          http_job_finish(c);
          return;
        }
        if(j->fx.mid)
          body_out(c, j, j->stage.p, j->stage.len / 2, 0);
        end_body(c, j, 0);
        http_job_finish(c);
        return;
      }
      if(j->fx.split_utf8) {
        j->phase = PH_DRIP;
        stream_run(c, arg);
        return;
      }
      j->elems++;
      if(j->batching) {
        dbuf_add(&j->batch, j->stage.p, j->stage.len);
        if(j->batch.len >= BATCH_BYTES) {
          flush_batch(c, j);
          return;
        }
        continue;
      }
      body_out(c, j, j->stage.p, j->stage.len, 0);
      if(j->fx.delay_ms)
        http_job_sleep(c, (uint64_t)j->fx.delay_ms);
      return;  /* one element per send() */
    }
  case PH_END:
    end_body(c, j, 1);
    http_job_finish(c);
    return;
  case PH_DONE:
  default:
    http_job_finish(c);
    return;
  }
}

static void stream_done(struct conn *c, void *arg, int disconnected)
{
  struct sj *j = arg;
  struct session *s = session_find(j->sid);
  int i;
  (void)c;
  if(s)
    session_add_turn(s, j->query, disconnected ? "CANCELLED" :
                     j->final_state ? j->final_state : "FAILED");
  if(s && j->late_files) {
    /* generation finishes after the stream: the files join the list later */
    uint64_t at = now_wall_ms() + (uint64_t)j->fx.files_after_ms;
    for(i = 0; i < j->nfiles; i++) {
      struct sfile *f = session_file(s, j->files[i]);
      if(f)
        f->visible_ms = at ? at : 1;
    }
  }
  if(j->zinit)
    deflateEnd(&j->z);
  rec_active_streams--;
  dbuf_free(&j->stage);
  dbuf_free(&j->frag);
  dbuf_free(&j->tpl);
  dbuf_free(&j->batch);
  free(j->query);
  free(j->answer);
  fx_free(&j->fx);
  free(j);
}

static const struct http_job_ops stream_ops = {stream_run, stream_done};

/* ----------------------------------------------------------- request */

static int accepts_gzip(const char *ae)
{
  const char *p = ae;
  while(p && *p) {
    const char *e = strchr(p, ',');
    size_t seg = e ? (size_t)(e - p) : strlen(p);
    const char *semi;
    size_t tl;
    while(seg && (*p == ' ' || *p == '\t')) {
      p++;
      seg--;
    }
    semi = memchr(p, ';', seg);
    tl = semi ? (size_t)(semi - p) : seg;
    while(tl && (p[tl - 1] == ' ' || p[tl - 1] == '\t'))
      tl--;
    if((tl == 4 && ieqn(p, "gzip", 4)) || (tl == 6 && ieqn(p, "x-gzip", 6))
       || (tl == 1 && *p == '*')) {
      const char *q = semi ? strstr(semi, "q=") : NULL;
      if(!q || (size_t)(q - p) > seg || strtod(q + 2, NULL) > 0)
        return 1;
    }
    if(!e)
      break;
    p = e + 1;
  }
  return 0;
}

static const char *fx_mode_name(const struct fx *fx, char *buf, size_t n)
{
  static const char *const names[] = {
    NULL, "http", "inband429", "notfound", "notowned", "truncate",
    "truncate_clean", "thoughts_only", "skipped", "hang", "expired",
    "redirect", "fail_once", "overloaded", "quota", "utoken_only"
  };
  if(fx->mode == FX_HTTP) {
    snprintf(buf, n, "http%d", fx->http_status);
    return buf;
  }
  return names[fx->mode];
}

/* Async (deep research) request: answered with one operation element. */
static void async_assist(struct conn *c, const char *session)
{
  char id[24], opid[24];
  struct dbuf b;
  struct jw w;
  char name[320];
  dbuf_init(&b, 4096);
  if(!session || session_parse_id(session, strlen(session), id)) {
    app_error(c, 400, NULL, "Invalid session name.");
    dbuf_free(&b);
    return;
  }
  rand_digits(opid);
  snprintf(name, sizeof(name), FULL_PREFIX SESSION_PREFIX "%s/operations/%s",
           id, opid);
  dbuf_addc(&b, '[');
  jw_init(&w, &b, 1);
  jw_obj(&w);
  jw_kstr(&w, "asyncAssistOperation", name);
  jw_obj_end(&w);
  dbuf_adds(&b, "\n]");
  app_reply_json(c, 200, &b);
  dbuf_free(&b);
}

void h_stream(struct conn *c)
{
  struct account *a;
  cJSON *body = NULL;
  struct fx fx;
  const cJSON *req, *query, *parts, *part, *fids, *fid, *gc, *model, *tools;
  const cJSON *lang;
  const char *sname = NULL;
  struct dbuf qtext;
  struct rec_req *r = app_rec(c);
  struct session *s;
  struct sj *j;
  char mbuf[32], badd[128];
  const char *bad_part = NULL;
  int ntext = 0, ninline = 0;
  size_t i;

  fx_init(&fx);
  dbuf_init(&qtext, HTTP_MAX_BODY);
  if(app_api_prologue(c, EP_STREAM, &a, &body, &fx))
    goto out;
  req = cJSON_GetObjectItemCaseSensitive(body, "streamAssistRequest");
  if(!cJSON_IsObject(req)) {
    const cJSON *ar = cJSON_GetObjectItemCaseSensitive(body,
                                                       "asyncAssistRequest");
    if(cJSON_IsObject(ar)) {
      const cJSON *sn = cJSON_GetObjectItemCaseSensitive(ar, "session");
      async_assist(c, cJSON_IsString(sn) ? sn->valuestring : NULL);
      goto out;
    }
    app_error(c, 400, NULL, "streamAssistRequest is required.");
    goto out;
  }
  /* collect everything for the record first */
  {
    const cJSON *sn = cJSON_GetObjectItemCaseSensitive(req, "session");
    sname = cJSON_IsString(sn) ? sn->valuestring : NULL;
  }
  query = cJSON_GetObjectItemCaseSensitive(req, "query");
  parts = cJSON_IsObject(query) ? cJSON_GetObjectItemCaseSensitive(query,
                                                                   "parts")
                                : NULL;
  /* query.parts is required: a non-empty array of parts, each exactly one
   * of text or inlineData{mimeType,data}; text parts are joined with "\n"
   * ([inf]: the real service sees one turn) */
  if(!cJSON_IsObject(query))
    bad_part = "query is required.";
  else if(!cJSON_IsArray(parts) || !cJSON_GetArraySize(parts))
    bad_part = "query.parts is required (a non-empty array).";
  cJSON_ArrayForEach(part, parts) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "text");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(part, "inlineData");
    int nkeys = cJSON_GetArraySize(part);
    if(!cJSON_IsObject(part) || nkeys != 1 || (!t && !id)) {
      bad_part = "Invalid query part: each part needs exactly one of text "
                 "or inlineData.";
      break;
    }
    if(t) {
      if(!cJSON_IsString(t)) {
        bad_part = "Invalid query part: text must be a string.";
        break;
      }
      if(ntext++)
        dbuf_addc(&qtext, '\n');
      dbuf_adds(&qtext, t->valuestring);
    }
    else {
      const cJSON *mt = cJSON_GetObjectItemCaseSensitive(id, "mimeType");
      const cJSON *dt = cJSON_GetObjectItemCaseSensitive(id, "data");
      struct dbuf tmp;
      int okd;
      if(!cJSON_IsString(mt) || !cJSON_IsString(dt) || !*dt->valuestring ||
         strncmp(mt->valuestring, "image/", 6)) {
        bad_part = "Invalid inlineData part: needs an image mimeType and "
                   "base64 data.";
        break;
      }
      dbuf_init(&tmp, HTTP_MAX_BODY);
      okd = !b64_decode_strict(&tmp, dt->valuestring, strlen(dt->valuestring));
      dbuf_free(&tmp);
      if(!okd) {
        bad_part = "Invalid inlineData part: data is not base64.";
        break;
      }
      ninline++;
    }
  }
  dbuf_cstr(&qtext);
  fids = cJSON_GetObjectItemCaseSensitive(req, "fileIds");
  gc = cJSON_GetObjectItemCaseSensitive(req, "assistGenerationConfig");
  model = cJSON_IsObject(gc) ? cJSON_GetObjectItemCaseSensitive(gc, "modelId")
                             : NULL;
  tools = cJSON_GetObjectItemCaseSensitive(req, "toolsSpec");
  lang = cJSON_GetObjectItemCaseSensitive(req, "languageCode");
  if(r) {
    if(sname)
      rec_set_str(r, &r->session, sname, strlen(sname));
    rec_set_str(r, &r->query_text, qtext.p, qtext.len);
    cJSON_ArrayForEach(fid, fids)
      if(cJSON_IsString(fid))
        rec_add_file_id(r, fid->valuestring);
    if(cJSON_IsString(model))
      rec_set_str(r, &r->model_id, model->valuestring,
                  strlen(model->valuestring));
    if(tools) {
      char *tj = cJSON_PrintUnformatted(tools);
      if(tj) {
        rec_set_str(r, &r->tools_spec, tj, strlen(tj));
        free(tj);
      }
    }
    if(cJSON_IsString(lang))
      rec_set_str(r, &r->language_code, lang->valuestring,
                  strlen(lang->valuestring));
  }
  if(bad_part) {
    app_error(c, 400, "INVALID_ARGUMENT", "%s", bad_part);
    goto out;
  }
  /* directives override the scenario; an unknown one fails the request */
  if(fx_parse_text(&fx, qtext.p, qtext.len, badd, sizeof(badd)) < 0) {
    app_error(c, 400, "INVALID_ARGUMENT", "[fake] unknown directive '%s'",
              badd);
    goto out;
  }
  app_set_delay(fx.headers_ms);
  if(r) {
    const char *mn = fx_mode_name(&fx, mbuf, sizeof(mbuf));
    if(mn)
      rec_set_str(r, &r->mode, mn, strlen(mn));
  }
  if(app_fx_errors(c, &fx, sname))
    goto out;
  /* validation: assistGenerationConfig may be absent or {} (auto), but a
   * modelId that is present must name a model; a retired one is 404 */
  if(cJSON_IsString(model) && fake_cfg_retired(model->valuestring)) {
    app_error(c, 404, "NOT_FOUND", "Model %.100s not found or not supported.",
              model->valuestring);
    goto out;
  }
  if(model) {
    int ok = 0;
    if(cJSON_IsString(model)) {
      for(i = 0; i < sizeof(known_models) / sizeof(known_models[0]); i++)
        if(!strcmp(model->valuestring, known_models[i]))
          ok = 1;
    }
    if(!ok) {
      app_error(c, 400, "INVALID_ARGUMENT", "Invalid model id: %.100s",
                cJSON_IsString(model) ? model->valuestring : "(not a string)");
      goto out;
    }
  }
  if(fids && !cJSON_IsArray(fids)) {
    app_error(c, 400, NULL, "Invalid value at 'stream_assist_request."
              "file_ids'.");
    goto out;
  }
  s = app_session(c, sname, a);
  if(!s)
    goto out;
  cJSON_ArrayForEach(fid, fids) {
    if(!cJSON_IsString(fid) || !session_file(s, fid->valuestring)) {
      app_error(c, 400, "INVALID_ARGUMENT",
                "File %.64s is not a context file of session %s.",
                cJSON_IsString(fid) ? fid->valuestring : "?", s->id);
      goto out;
    }
  }

  if(fx.mode == FX_UTOKEN_ONLY) {
    /* a 200 body that carries only a uToken: an auth problem upstream */
    char ut[48], body2[128];
    rand_hex(ut, 40);
    snprintf(body2, sizeof(body2), "[{\n  \"uToken\": \"%s\"\n}\n]", ut);
    app_reply(c, 200, "application/json; charset=UTF-8", NULL, body2,
              strlen(body2));
    goto out;
  }
  (void)ninline;

  /* start the stream */
  j = xcalloc(1, sizeof(*j));
  j->fx = fx;
  fx_init(&fx);  /* ownership of answer moved into j */
  snprintf(j->sid, sizeof(j->sid), "%s", s->id);
  j->query = xstrndup(qtext.p, qtext.len);
  if(j->fx.answer) {
    j->answer = xstrdup(j->fx.answer);
  }
  else if((j->answer = tools_answer(s, &j->fx, qtext.p, qtext.len))) {
    /* tool mode (tools.c) */
  }
  else {
    char *stripped = fx_strip(qtext.p, qtext.len);
    size_t sl = strlen(stripped), from = 0;
    struct dbuf a2;
    if(sl > ECHO_MAX) {
      from = sl - ECHO_MAX;
      from = utf8_next_boundary(stripped, sl, from);
    }
    dbuf_init(&a2, ECHO_MAX + 256);
    dbuf_adds(&a2, DEFAULT_ANSWER);
    {
      /* echoed tool syntax (the gateway's tool prompt) must not read as a
       * call: <tool_call becomes <tool-call */
      char *tc = stripped + from;
      while((tc = strstr(tc, "<tool_call")) != NULL)
        tc[5] = '-';
    }
    dbuf_add(&a2, stripped + from, sl - from);
    j->answer = xstrndup(dbuf_cstr(&a2), a2.len);
    dbuf_free(&a2);
    free(stripped);
  }
  j->alen = strlen(j->answer);
  j->img_mode = j->fx.image && cJSON_IsObject(tools) &&
                cJSON_GetObjectItemCaseSensitive(tools, "imageGenerationSpec");
  j->video_mode = j->fx.video && cJSON_IsObject(tools) &&
                  cJSON_GetObjectItemCaseSensitive(tools,
                                                   "videoGenerationSpec");
  if(j->video_mode)
    j->img_mode = 0;
  j->inline_mode = j->img_mode && j->fx.inline_data;
  j->late_files = (j->img_mode || j->video_mode) && !j->inline_mode &&
                  j->fx.files_after_ms >= 0;
  if(j->inline_mode && j->fx.images > MAX_IMAGES)
    j->fx.images = MAX_IMAGES;
  if(j->video_mode) {
    struct sfile *f = session_add_file(s, "generated_video_1.mp4",
                                       "video/mp4", mp4_size(),
                                       mp4_sha256(), 1);
    snprintf(j->files[0], sizeof(j->files[0]), "%s", f->file_id);
    j->nfiles = 1;
    if(j->late_files)
      f->visible_ms = UINT64_MAX;
  }
  if(j->img_mode && !j->inline_mode) {
    int k, n = j->fx.images < 1 ? 1 : j->fx.images;
    if(n > MAX_IMAGES)
      n = MAX_IMAGES;
    for(k = 0; k < n; k++) {
      char fname[64];
      struct sfile *f;
      snprintf(fname, sizeof(fname), "generated_image_%d.png", k + 1);
      f = session_add_file(s, fname, "image/png", png_size(), png_sha256(),
                           1);
      if(j->late_files)
        f->visible_ms = UINT64_MAX;
      snprintf(j->files[k], sizeof(j->files[k]), "%s", f->file_id);
    }
    j->nfiles = n;
  }
  rand_hex(j->utoken, 40);
  rand_hex(j->atoken, 40);
  rand_hex(j->qid, 16);
  rand_hex(j->tid, 16);
  rand_hex(j->aid, 16);
  dbuf_init(&j->stage, HTTP_MAX_BODY);
  dbuf_init(&j->frag, 1 << 20);
  dbuf_init(&j->batch, HTTP_MAX_BODY);
  if(j->fx.split_utf8)
    j->fx.nogzip = 1;  /* split the plain bytes, not the compressed ones */
  j->batching = !j->fx.split_utf8 && !j->fx.delay_ms &&
                (j->fx.batch > 0 || (j->fx.batch < 0 && j->fx.fragments >= 1000));
  if(!j->fx.nogzip && accepts_gzip(http_header(&c->req, "accept-encoding"))) {
    memset(&j->z, 0, sizeof(j->z));
    if(deflateInit2(&j->z, 1, Z_DEFLATED, 16 + 11, 4,
                    Z_DEFAULT_STRATEGY) == Z_OK) {
      j->gzip = 1;
      j->zinit = 1;
      if(r)
        r->gzip = 1;
    }
  }
  if(!zscratch.max)
    dbuf_init(&zscratch, 64 * 1024 * 1024);
  j->phase = PH_HEADERS;
  j->step = S_THOUGHT;
  rec_active_streams++;
  http_job_start(c, &stream_ops, j);
  if(j->fx.headers_ms)
    http_job_sleep(c, (uint64_t)j->fx.headers_ms);
  app_set_delay(0);
out:
  cJSON_Delete(body);
  dbuf_free(&qtext);
  fx_free(&fx);
}

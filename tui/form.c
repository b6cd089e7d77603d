/* form.c -- see form.h */
#include "form.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "draw.h"
#include "text.h"

#define ESC KEY_ESC

static void form_reset(struct app *a)
{
    struct form *f = &a->form;
    f->active = f->yesno = f->choice = f->secret = false;
    f->done = NULL;
    f->change = NULL;
    f->len = f->cur = 0;
    f->buf[0] = '\0';
    f->choices[0] = '\0';
    curs_set(0);
    if (a->w_status)
        leaveok(a->w_status, TRUE);
    a->dirty |= D_STATUS | D_HINTS;
}

void form_open(struct app *a, const char *prompt, const char *initial, bool secret,
               form_done_fn done, form_change_fn change)
{
    struct form *f = &a->form;
    form_reset(a);
    f->active = true;
    f->secret = secret;
    f->done = done;
    f->change = change;
    snprintf(f->prompt, sizeof(f->prompt), "%s", prompt);
    snprintf(f->buf, sizeof(f->buf), "%s", initial ? initial : "");
    f->len = f->cur = strlen(f->buf);
    curs_set(1);
}

void form_confirm(struct app *a, const char *prompt, form_done_fn done)
{
    form_reset(a);
    a->form.active = true;
    a->form.yesno = true;
    a->form.done = done;
    snprintf(a->form.prompt, sizeof(a->form.prompt), "%s (y/N) ", prompt);
}

void form_choice(struct app *a, const char *prompt, const char *choices, form_done_fn done)
{
    form_reset(a);
    a->form.active = true;
    a->form.choice = true;
    a->form.done = done;
    snprintf(a->form.prompt, sizeof(a->form.prompt), "%s", prompt);
    snprintf(a->form.choices, sizeof(a->form.choices), "%s", choices);
}

static void finish(struct app *a, bool ok, const char *value)
{
    form_done_fn done = a->form.done;
    char copy[FORM_MAX];
    snprintf(copy, sizeof(copy), "%s", value);
    form_reset(a);
    if (done)
        done(a, ok, copy);
}

static void insert(struct form *f, const char *s, size_t n)
{
    if (f->len + n >= sizeof(f->buf))
        return;
    memmove(f->buf + f->cur + n, f->buf + f->cur, f->len - f->cur + 1);
    memcpy(f->buf + f->cur, s, n);
    f->len += n;
    f->cur += n;
}

void form_key(struct app *a, int key, bool is_code)
{
    struct form *f = &a->form;
    if (f->yesno) {
        bool yes = !is_code && (key == 'y' || key == 'Y');
        finish(a, yes, yes ? "y" : "n");
        return;
    }
    if (f->choice) {
        char k[2] = { (char)key, 0 };
        if (!is_code && key > 0 && key < 128 && strchr(f->choices, key))
            finish(a, true, k);
        else if (!is_code && key == ESC)
            finish(a, false, "");
        return;
    }
    bool changed = false;
    if (is_code) {
        switch (key) {
        case KEY_LEFT: f->cur = tx_prev_char(f->buf, f->cur); break;
        case KEY_RIGHT: f->cur = tx_next_char(f->buf, f->len, f->cur); break;
        case KEY_HOME: f->cur = 0; break;
        case KEY_END: f->cur = f->len; break;
        case KEY_BACKSPACE:
            if (f->cur > 0) {
                size_t p = tx_prev_char(f->buf, f->cur);
                memmove(f->buf + p, f->buf + f->cur, f->len - f->cur + 1);
                f->len -= f->cur - p;
                f->cur = p;
                changed = true;
            }
            break;
        case KEY_DC:
            if (f->cur < f->len) {
                size_t p = tx_next_char(f->buf, f->len, f->cur);
                memmove(f->buf + f->cur, f->buf + p, f->len - p + 1);
                f->len -= p - f->cur;
                changed = true;
            }
            break;
        case KEY_ENTER: finish(a, true, f->buf); return;
        default: break;
        }
    } else {
        switch (key) {
        case ESC: finish(a, false, f->buf); return;
        case '\n': case '\r': finish(a, true, f->buf); return;
        case 127: case 8:
            form_key(a, KEY_BACKSPACE, true);
            return;
        case 21: /* ^U */
            f->len = f->cur = 0;
            f->buf[0] = '\0';
            changed = true;
            break;
        case 1: f->cur = 0; break;        /* ^A */
        case 5: f->cur = f->len; break;   /* ^E */
        default:
            if (key >= 32) {
                char mb[MB_LEN_MAX];
                mbstate_t st;
                memset(&st, 0, sizeof(st));
                size_t n = wcrtomb(mb, (wchar_t)key, &st);
                if (n != (size_t)-1) {
                    insert(f, mb, n);
                    changed = true;
                }
            }
            break;
        }
    }
    if (changed && f->change)
        f->change(a, f->buf);
    a->dirty |= D_STATUS;
}

void form_draw(struct app *a)
{
    struct form *f = &a->form;
    WINDOW *w = a->w_status;
    char shown[FORM_MAX + 64];
    int pw = tx_width(f->prompt);
    werase(w);
    draw_put(w, 0, 0, pw < a->cols ? pw : a->cols, draw_attr(R_TITLE), f->prompt);
    int room = a->cols - pw - 1;
    if (room <= 0 || f->yesno || f->choice) {
        wnoutrefresh(w);
        return;
    }
    if (f->secret)
        snprintf(shown, sizeof(shown), "[%zu characters hidden]", f->len);
    else
        tx_sanitize(f->buf, shown, sizeof(shown));
    /* scroll horizontally so that the cursor stays visible */
    char before[FORM_MAX + 64];
    size_t cb = f->secret ? strlen(shown) : f->cur;
    if (!f->secret) {
        memcpy(before, f->buf, f->cur);
        before[f->cur] = '\0';
    } else {
        snprintf(before, sizeof(before), "%s", shown);
    }
    int cw = tx_width(before);
    const char *start = shown;
    size_t skip = 0;
    while (cw >= room && skip < cb) {
        size_t nx = tx_next_char(shown, strlen(shown), skip);
        char tmp[8] = { 0 };
        memcpy(tmp, shown + skip, nx - skip < 7 ? nx - skip : 7);
        cw -= tx_width(tmp);
        skip = nx;
    }
    start = shown + skip;
    draw_put(w, 0, pw, room + 1, draw_attr(R_NORMAL), start);
    leaveok(w, FALSE);
    wmove(w, 0, pw + cw);
    wnoutrefresh(w);
}

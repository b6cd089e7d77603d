/* view_help.c -- the help screen, generated from the key table (keys.c) so
 * that it can never disagree with the real bindings. */
#include <stdio.h>
#include <string.h>

#include "draw.h"
#include "keys.h"
#include "text.h"
#include "views.h"

/* Build help line `i` (0-based) into out; returns false past the end.
 * *role receives the line's colour role. */
static bool help_line(size_t i, char *out, size_t n, enum role *role)
{
    static const struct { unsigned views; const char *title; } groups[] = {
        { V_ALL, "All views (Import: only F-keys, Tab, Esc, PgUp/PgDn)" }, { V_ACC, "Accounts view (1)" }, { V_LOG, "Live log view (2)" },
        { V_IMP, "Import view (3): letters type text; F-keys, Tab and Esc act" },
        { V_KEYS, "Client keys view (4)" },
    };
    size_t k = 0;
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        if (k++ == i) {
            snprintf(out, n, " %s", groups[g].title);
            *role = R_TITLE;
            return true;
        }
        for (size_t t = 0; t < keytab_n; t++) {
            const struct keydef *d = &keytab[t];
            /* a binding is listed in the most specific group that has it */
            bool in = g == 0 ? d->views == V_ALL || (d->views & V_ACC && d->views & V_LOG && d->views & V_HELP)
                             : (d->views & groups[g].views) && !(d->views & V_ACC && d->views & V_LOG && d->views & V_HELP);
            if (!in)
                continue;
            if (k++ != i)
                continue;
            char keys[64] = "", nm[16];
            for (int j = 0; j < 3; j++) {
                if (!d->keys[j] || d->keys[j] == '\r')
                    continue;
                keys_name(d->keys[j], nm, sizeof(nm));
                if (j > 0 && d->keys[j - 1]) {
                    char prev[16];
                    keys_name(d->keys[j - 1], prev, sizeof(prev));
                    if (strcmp(prev, nm) == 0)
                        continue; /* KEY_ENTER and \n are both "Enter" */
                }
                size_t kl = strlen(keys);
                snprintf(keys + kl, sizeof(keys) - kl, "%s%s", kl ? " " : "", nm);
            }
            snprintf(out, n, "   %-16s %s", keys, d->help);
            *role = R_NORMAL;
            return true;
        }
        if (k++ == i) {
            out[0] = '\0';
            *role = R_NORMAL;
            return true;
        }
    }
    static const char *const tail[] = {
        " Status colours: active (green), cooldown (yellow), expired (magenta), disabled (red).",
        " REQ/ERR are today's counters, FLT the streams in flight.  The table refreshes every 2 s.",
        " Esc or F1 closes this help.  See gemctl-tui(1) for the command-line mode.",
    };
    size_t ti = i - k;
    if (ti < sizeof(tail) / sizeof(tail[0])) {
        snprintf(out, n, "%s", tail[ti]);
        *role = R_DIM;
        return true;
    }
    return false;
}

static size_t help_count(void)
{
    char b[256];
    enum role r;
    size_t n = 0;
    while (help_line(n, b, sizeof(b), &r))
        n++;
    return n;
}

static void help_draw(struct app *a)
{
    WINDOW *w = a->w_body;
    int h = getmaxy(w) - 1;
    size_t total = help_count();
    werase(w);
    if (h < 1)
        return;
    if (a->help_top + (size_t)h > total)
        a->help_top = total > (size_t)h ? total - (size_t)h : 0;
    draw_put(w, 0, 0, a->cols, draw_attr(R_COLHDR), " gemctl-tui keys");
    for (int y = 0; y < h; y++) {
        char line[512];
        enum role r;
        if (!help_line(a->help_top + (size_t)y, line, sizeof(line), &r))
            break;
        draw_put(w, 1 + y, 0, a->cols, draw_attr(r), line);
    }
}

static bool help_action(struct app *a, enum action act)
{
    int h = getmaxy(a->w_body) - 1;
    switch (act) {
    case ACT_UP: if (a->help_top > 0) a->help_top--; break;
    case ACT_DOWN: a->help_top++; break;
    case ACT_PGUP: a->help_top = a->help_top > (size_t)h ? a->help_top - (size_t)h : 0; break;
    case ACT_PGDN: a->help_top += (size_t)h; break;
    case ACT_HOME: a->help_top = 0; break;
    case ACT_END: a->help_top = (size_t)-1 / 2; break;
    default: return false;
    }
    a->dirty |= D_BODY;
    return true;
}

static void help_open(struct app *a)
{
    a->help_top = 0;
}

const struct view_ops view_help = {
    .name = "Help",
    .tab = " ? Help ",
    .open = help_open,
    .draw = help_draw,
    .action = help_action,
};

/* Print the key list (`gemctl-tui --bindings`; used to write the man page). */
void help_print(FILE *out)
{
    size_t n = help_count();
    for (size_t i = 0; i < n; i++) {
        char line[512];
        enum role r;
        help_line(i, line, sizeof(line), &r);
        fprintf(out, "%s\n", line);
    }
}

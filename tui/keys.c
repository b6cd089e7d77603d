/* keys.c -- see keys.h */
#include "keys.h"

#include <stdio.h>
#include <string.h>

#define ESC KEY_ESC
#define CTRL(c) ((c) & 0x1f)

const struct keydef keytab[] = {
    /* global */
    { ACT_HELP,      V_ALL,  1,  { KC(KEY_F(1)), '?', 0 },        "Help",    "show this help" },
    { ACT_QUIT,      V_ACC | V_LOG | V_KEYS | V_HELP, 10, { KC(KEY_F(10)), 'q', 0 }, "Quit", "quit" },
    { ACT_QUIT,      V_IMP, 10,  { KC(KEY_F(10)), 0, 0 },         "Quit",    "quit (q types a letter here)" },
    { ACT_VIEW_ACC,  V_ACC | V_LOG | V_KEYS | V_HELP, 0, { '1', 0, 0 },    NULL,      "accounts view" },
    { ACT_VIEW_LOG,  V_ACC | V_LOG | V_KEYS | V_HELP, 0, { '2', 0, 0 },    NULL,      "live log view" },
    { ACT_VIEW_IMP,  V_ACC | V_LOG | V_KEYS | V_HELP, 0, { '3', 'i', 0 }, NULL, "import view" },
    { ACT_VIEW_KEYS, V_ACC | V_LOG | V_KEYS | V_HELP, 0, { '4', 'K', 0 }, NULL, "client keys view" },
    { ACT_NEXT_VIEW, V_ALL,  0,  { '\t', 0, 0 },                  NULL,      "next view" },
    { ACT_BACK,      V_ALL,  0,  { ESC, 0, 0 },                   NULL,      "back / cancel / accounts view" },
    { ACT_REFRESH,   V_ACC | V_LOG | V_KEYS, 0, { CTRL('l'), 'g', 0 },     NULL,      "refresh now and repaint" },
    /* moving */
    { ACT_UP,        V_ACC | V_LOG | V_KEYS | V_HELP, 0, { KC(KEY_UP), 'k', 0 },     NULL, "move up" },
    { ACT_DOWN,      V_ACC | V_LOG | V_KEYS | V_HELP, 0, { KC(KEY_DOWN), 'j', 0 },   NULL, "move down" },
    { ACT_PGUP,      V_ALL,  0,  { KC(KEY_PPAGE), CTRL('b'), 0 }, NULL,      "page up" },
    { ACT_PGDN,      V_ALL,  0,  { KC(KEY_NPAGE), CTRL('f'), 0 }, NULL,      "page down" },
    { ACT_HOME,      V_ACC | V_LOG | V_KEYS | V_HELP, 0, { KC(KEY_HOME), 0, 0 },     NULL, "first row" },
    { ACT_END,       V_ACC | V_LOG | V_KEYS | V_HELP, 0, { KC(KEY_END), 'G', 0 },    NULL, "last row" },
    /* accounts */
    { ACT_ENABLE,    V_ACC,  2,  { KC(KEY_F(2)), 'e', 0 },        "Enable",  "enable the selected account" },
    { ACT_DISABLE,   V_ACC,  3,  { KC(KEY_F(3)), 'd', 0 },        "Disable", "disable the selected account" },
    { ACT_FILTER,    V_ACC | V_LOG, 4, { KC(KEY_F(4)), '/', '\\' }, "Filter", "incremental filter (Esc clears)" },
    { ACT_RESET,     V_ACC,  5,  { KC(KEY_F(5)), 'r', 0 },        "Reset",   "reset the cooldown of the selected account" },
    { ACT_SORT_NEXT, V_ACC,  6,  { KC(KEY_F(6)), '>', 's' },      "Sort",    "sort by the next column" },
    { ACT_SORT_PREV, V_ACC,  0,  { '<', 0, 0 },                   NULL,      "sort by the previous column" },
    { ACT_SORT_INVERT, V_ACC, 0, { 'I', 0, 0 },                   NULL,      "invert the sort order" },
    { ACT_EDIT,      V_ACC,  7,  { KC(KEY_F(7)), 'E', 0 },        "Edit",    "edit: choose name, proxy, note or cookies" },
    { ACT_EDIT_NAME, V_ACC,  0,  { 'n', 0, 0 },                   NULL,      "edit the name" },
    { ACT_EDIT_PROXY, V_ACC, 0,  { 'p', 0, 0 },                   NULL,      "edit the proxy" },
    { ACT_EDIT_NOTE, V_ACC,  0,  { 'o', 0, 0 },                   NULL,      "edit the note" },
    { ACT_EDIT_COOKIES, V_ACC, 0, { 'c', 0, 0 },                  NULL,      "replace the cookies (secure_c_ses, host_c_oses)" },
    { ACT_TEST,      V_ACC,  8,  { KC(KEY_F(8)), 't', 0 },        "Test",    "test the selected account (a real request)" },
    { ACT_DELETE,    V_ACC,  9,  { KC(KEY_F(9)), KC(KEY_DC), 'D' }, "Delete", "delete the selected account (asks y/n)" },
    { ACT_DETAILS,   V_ACC,  0,  { '\n', KC(KEY_ENTER), '\r' },   NULL,      "show/hide the detail pane" },
    /* client keys */
    { ACT_ENABLE,    V_KEYS, 2,  { KC(KEY_F(2)), 'e', 0 },        "Enable",  "enable the selected key" },
    { ACT_DISABLE,   V_KEYS, 3,  { KC(KEY_F(3)), 'd', 0 },        "Disable", "disable the selected key (refused at once, 401)" },
    { ACT_KEY_NEW,   V_KEYS, 4,  { KC(KEY_F(4)), 'n', '+' },      "New",     "create a key: name, then limits; its secret is shown once" },
    { ACT_KEY_LIMITS, V_KEYS, 7, { KC(KEY_F(7)), 'E', 'l' },      "Limits",  "edit the limits of the selected key" },
    { ACT_DETAILS,   V_KEYS, 8,  { KC(KEY_F(8)), '\r', 'u' },     "Usage",   "show/hide the usage (7 days, by model) of the selected key (also Enter)" },
    { ACT_DELETE,    V_KEYS, 9,  { KC(KEY_F(9)), KC(KEY_DC), 'D' }, "Delete", "delete the selected key (asks y/n)" },
    /* log */
    { ACT_FOLLOW,    V_LOG,  5,  { KC(KEY_F(5)), 'f', 0 },        "Follow",  "follow the newest line on/off" },
    { ACT_PAUSE,     V_LOG,  6,  { KC(KEY_F(6)), ' ', 'p' },      "Pause",   "pause/resume the display (lines still arrive)" },
    { ACT_LOG_CLEAR, V_LOG,  8,  { KC(KEY_F(8)), 'c', 0 },        "Clear",   "clear the log" },
    /* import */
    { ACT_IMP_FILE,  V_IMP,  2,  { KC(KEY_F(2)), 0, 0 },          "File",    "import a file (asks for its path)" },
    { ACT_IMP_SUBMIT, V_IMP, 5,  { KC(KEY_F(5)), 0, 0 },          "Submit",  "import the text typed or pasted above" },
    { ACT_IMP_CLEAR, V_IMP,  6,  { KC(KEY_F(6)), 0, 0 },          "Clear",   "clear the text / close the report" },
};
const size_t keytab_n = sizeof(keytab) / sizeof(keytab[0]);

enum action keys_lookup(enum view v, int key)
{
    unsigned bit = 1u << v;
    if (key == 0)
        return ACT_NONE;
    for (size_t i = 0; i < keytab_n; i++) {
        if (!(keytab[i].views & bit))
            continue;
        for (int k = 0; k < 3; k++)
            if (keytab[i].keys[k] == key)
                return keytab[i].act;
    }
    return ACT_NONE;
}

void keys_name(int key, char *out, size_t n)
{
    if (key & 0x40000000) {
        int code = key & ~0x40000000;
        if (code >= KEY_F(1) && code <= KEY_F(12)) {
            snprintf(out, n, "F%d", code - KEY_F0);
            return;
        }
        const char *s = "?";
        switch (code) {
        case KEY_UP: s = "Up"; break;
        case KEY_DOWN: s = "Down"; break;
        case KEY_PPAGE: s = "PgUp"; break;
        case KEY_NPAGE: s = "PgDn"; break;
        case KEY_HOME: s = "Home"; break;
        case KEY_END: s = "End"; break;
        case KEY_DC: s = "Del"; break;
        case KEY_ENTER: s = "Enter"; break;
        default: break;
        }
        snprintf(out, n, "%s", s);
        return;
    }
    switch (key) {
    case '\n': snprintf(out, n, "Enter"); return;
    case '\r': snprintf(out, n, "^M"); return;
    case '\t': snprintf(out, n, "Tab"); return;
    case ESC: snprintf(out, n, "Esc"); return;
    case ' ': snprintf(out, n, "Space"); return;
    default: break;
    }
    if (key < 32)
        snprintf(out, n, "^%c", key + 64);
    else
        snprintf(out, n, "%c", key);
}

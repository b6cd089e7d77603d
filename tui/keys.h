/* keys.h -- the one key-binding table of gemctl-tui: view ids, actions, and
 * which keys give which action in which view.  The help screen, the hints
 * bar and the man page's KEYS section are all derived from keytab[], so a
 * binding is changed in exactly one place.
 *
 * Pure data and lookups (curses.h only for the KEY_* codes); no state,
 * nothing to free, no failure modes.
 */
#ifndef TUI_KEYS_H
#define TUI_KEYS_H

#include <stddef.h>
#include <curses.h>

enum view { VIEW_ACCOUNTS = 0, VIEW_LOG, VIEW_IMPORT, VIEW_KEYS, VIEW_HELP, VIEW_N };

#define V_ACC  (1u << VIEW_ACCOUNTS)
#define V_LOG  (1u << VIEW_LOG)
#define V_IMP  (1u << VIEW_IMPORT)
#define V_KEYS (1u << VIEW_KEYS)
#define V_HELP (1u << VIEW_HELP)
#define V_ALL  (V_ACC | V_LOG | V_IMP | V_KEYS | V_HELP)

enum action {
    ACT_NONE = 0, ACT_QUIT, ACT_HELP, ACT_VIEW_ACC, ACT_VIEW_LOG, ACT_VIEW_IMP, ACT_NEXT_VIEW,
    ACT_BACK, ACT_UP, ACT_DOWN, ACT_PGUP, ACT_PGDN, ACT_HOME, ACT_END, ACT_FILTER,
    ACT_SORT_NEXT, ACT_SORT_PREV, ACT_SORT_INVERT, ACT_DETAILS, ACT_REFRESH,
    ACT_ENABLE, ACT_DISABLE, ACT_RESET, ACT_TEST, ACT_DELETE,
    ACT_EDIT, ACT_EDIT_NAME, ACT_EDIT_PROXY, ACT_EDIT_NOTE, ACT_EDIT_COOKIES,
    ACT_FOLLOW, ACT_PAUSE, ACT_LOG_CLEAR,
    ACT_IMP_FILE, ACT_IMP_SUBMIT, ACT_IMP_CLEAR,
    ACT_VIEW_KEYS, ACT_KEY_NEW, ACT_KEY_LIMITS,
    ACT_NACTIONS
};

struct keydef {
    enum action act;
    unsigned views;           /* V_* bits */
    int fkey;                 /* 1..12 for the hints bar, 0 = none */
    int keys[3];              /* KC(code) for curses key codes, else the character */
    const char *hint;         /* label in the hints bar (NULL = not shown) */
    const char *help;
};
#define KC(code) ((code) | 0x40000000)
#define KEY_ESC 27

extern const struct keydef keytab[];
extern const size_t keytab_n;

/* Action bound to key (KC() for curses codes) in view v, or ACT_NONE. */
enum action keys_lookup(enum view v, int key);
/* Printable name of a key: "F2", "PgUp", "Enter", "^L", "q". */
void keys_name(int key, char *out, size_t n);

#endif

/* keys_match.c -- the model allow-list of client keys (see keys.h,
 * keys_model_allowed): comma lists of ids and '*' patterns. */
#include <stdbool.h>
#include <string.h>

#include "keys.h"

static bool glob_match(const char *pat, size_t pn, const char *s)
{
    /* '*' matches any run; iterative with one backtrack point */
    size_t p = 0, i = 0, star = (size_t)-1, mark = 0, sn = strlen(s);
    while (i < sn) {
        if (p < pn && (pat[p] == s[i])) {
            p++;
            i++;
        } else if (p < pn && pat[p] == '*') {
            star = p++;
            mark = i;
        } else if (star != (size_t)-1) {
            p = star + 1;
            i = ++mark;
        } else {
            return false;
        }
    }
    while (p < pn && pat[p] == '*')
        p++;
    return p == pn;
}

bool keys_model_allowed(const char *list, const char *model)
{
    if (!list || !*list)
        return true;
    if (!model)
        return false;
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        size_t n = (size_t)(e - p);
        while (n && p[n - 1] == ' ')
            n--;
        if (n && glob_match(p, n, model))
            return true;
        p = e;
    }
    return false;
}

/* xfast.c -- see xfast.h
 *
 * A fixed-shape recursive descent: one function per object level, each
 * walking its members with member() and dispatching on the raw key bytes.
 * Nothing is built; the strings the caller needs are unescaped straight into
 * its buffer, the others are only validated.  Every check errs on the side
 * of "not handled": the general translator (cJSON) is the reference.
 */
#include "xfast.h"

#include <stdint.h>
#include <string.h>

#include "gg_scan.h"

struct px {
    const unsigned char *p, *end;   /* input cursor, end of the element */
    char *out, *oend;               /* output cursor, end of the caller's buffer */
};

#define IS(k, kn, lit) ((kn) == sizeof(lit) - 1 && memcmp((k), (lit), sizeof(lit) - 1) == 0)
/* a key seen twice: not handled (cJSON would use the first one) */
#define ONCE(seen, bit)         \
    do {                        \
        if ((seen) & (bit))     \
            return false;       \
        (seen) |= (bit);        \
    } while (0)

static inline bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline void ws(struct px *x)
{
    const unsigned char *p = x->p, *end = x->end;
    /* the pretty layout is "\n" + runs of spaces: skip those 8 at a time */
    while (p < end && is_ws(*p)) {
        p++;
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (w != 0x2020202020202020ull)
                break;
            p += 8;
        }
    }
    x->p = p;
}

/* Next byte after whitespace is c: consume it. */
static inline bool lit(struct px *x, unsigned char c)
{
    ws(x);
    if (x->p < x->end && *x->p == c) {
        x->p++;
        return true;
    }
    return false;
}

/* Length of the plain run at p (gg_scan.h: 16 or 8 bytes at a time). */
static inline size_t plain_run(const unsigned char *p, const unsigned char *end)
{
    return gg_scan_str_end((const char *)p, (size_t)(end - p));
}

static bool hex4(const unsigned char *p, unsigned *v)
{
    unsigned r = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return false;
        r = r << 4 | d;
    }
    *v = r;
    return true;
}

/* Decodes the escape at p (p[0] == '\\') into u[0..*k); returns the number
 * of input bytes used, 0 when not handled. */
static size_t unescape(const unsigned char *p, const unsigned char *end, unsigned char u[4], size_t *k)
{
    if (end - p < 2)
        return 0;
    *k = 1;
    switch (p[1]) {
    case '"': u[0] = '"'; return 2;
    case '\\': u[0] = '\\'; return 2;
    case '/': u[0] = '/'; return 2;
    case 'b': u[0] = '\b'; return 2;
    case 'f': u[0] = '\f'; return 2;
    case 'n': u[0] = '\n'; return 2;
    case 'r': u[0] = '\r'; return 2;
    case 't': u[0] = '\t'; return 2;
    case 'u': break;
    default: return 0;
    }
    unsigned cp, lo;
    size_t used = 6;
    if (end - p < 6 || !hex4(p + 2, &cp))
        return 0;
    if (cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF))  /* \u0000 would cut the C string */
        return 0;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || !hex4(p + 8, &lo) || lo < 0xDC00 || lo > 0xDFFF)
            return 0;
        cp = 0x10000 + ((cp & 0x3FF) << 10 | (lo & 0x3FF));
        used = 12;
    }
    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
    } else if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | cp >> 6);
        u[1] = (unsigned char)(0x80 | (cp & 0x3F));
        *k = 2;
    } else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | cp >> 12);
        u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F));
        *k = 3;
    } else {
        u[0] = (unsigned char)(0xF0 | cp >> 18);
        u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        u[3] = (unsigned char)(0x80 | (cp & 0x3F));
        *k = 4;
    }
    return used;
}

/* A string value.  keep: its decoded bytes and a NUL go to x->out and
 * (*s, *len) describe them; else it is only validated. */
static bool str(struct px *x, bool keep, const char **s, size_t *len)
{
    ws(x);
    const unsigned char *p = x->p, *end = x->end;
    if (p >= end || *p != '"')
        return false;
    p++;
    char *o = x->out;
    for (;;) {
        size_t run = plain_run(p, end);
        if (keep) {
            if ((size_t)(x->oend - o) <= run)
                return false;
            memcpy(o, p, run);
            o += run;
        }
        p += run;
        if (p >= end || *p < 0x20)
            return false;
        if (*p == '"')
            break;
        unsigned char u[4];
        size_t k, used = unescape(p, end, u, &k);
        if (!used)
            return false;
        if (keep) {
            if ((size_t)(x->oend - o) <= k)
                return false;
            memcpy(o, u, k);
            o += k;
        }
        p += used;
    }
    x->p = p + 1;
    if (keep) {
        *o = '\0';
        *s = x->out;
        *len = (size_t)(o - x->out);
        x->out = o + 1;
    }
    return true;
}

/* Steps to the next member of an object whose '{' was consumed: 1 with the
 * raw key in (*k, *kn) and its ':' consumed, 0 after the closing '}', -1 on
 * anything else (a key with escapes or controls included). */
static int member(struct px *x, int *count, const char **k, size_t *kn)
{
    ws(x);
    if (x->p >= x->end)
        return -1;
    if (*x->p == '}') {
        x->p++;
        return 0;
    }
    if ((*count)++ > 0) {
        if (*x->p != ',')
            return -1;
        x->p++;
        ws(x);
        if (x->p >= x->end)
            return -1;
    }
    if (*x->p != '"')
        return -1;
    const unsigned char *q = x->p + 1;
    size_t run = plain_run(q, x->end);
    if (q + run >= x->end || q[run] != '"')
        return -1;
    *k = (const char *)q;
    *kn = run;
    x->p = q + run + 1;
    return lit(x, ':') ? 1 : -1;
}

/* true | false | "true" | "false" */
static bool flag(struct px *x, bool *v)
{
    ws(x);
    size_t left = (size_t)(x->end - x->p);
    static const struct { const char *s; size_t n; bool v; } forms[] = {
        {"true", 4, true}, {"false", 5, false}, {"\"true\"", 6, true}, {"\"false\"", 7, false},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        if (left >= forms[i].n && memcmp(x->p, forms[i].s, forms[i].n) == 0) {
            x->p += forms[i].n;
            *v = forms[i].v;
            return true;
        }
    }
    return false;
}

static bool content(struct px *x, struct xfast_result *r)
{
    const char *k, *text = NULL;
    size_t kn, tn = 0;
    int cnt = 0, m;
    unsigned seen = 0;
    bool thought = false;
    if (!lit(x, '{'))
        return false;
    while ((m = member(x, &cnt, &k, &kn)) == 1) {
        if (IS(k, kn, "text")) {
            ONCE(seen, 1);
            if (!str(x, true, &text, &tn))
                return false;
        } else if (IS(k, kn, "thought")) {
            ONCE(seen, 2);
            if (!flag(x, &thought))
                return false;
        } else if (IS(k, kn, "role")) {
            ONCE(seen, 4);
            if (!str(x, false, NULL, NULL))
                return false;
        } else {
            return false;
        }
    }
    if (m < 0)
        return false;
    if (tn > 0) {
        if (r->ntext == XFAST_MAX_TEXTS)
            return false;
        r->text[r->ntext].s = text;
        r->text[r->ntext].n = tn;
        r->text[r->ntext].thought = thought;
        r->ntext++;
    }
    return true;
}

static bool grounded(struct px *x, struct xfast_result *r)
{
    const char *k;
    size_t kn;
    int cnt = 0, m;
    unsigned seen = 0;
    if (!lit(x, '{'))
        return false;
    while ((m = member(x, &cnt, &k, &kn)) == 1) {
        if (!IS(k, kn, "content"))
            return false;
        ONCE(seen, 1);
        if (!content(x, r))
            return false;
    }
    return m == 0 && seen == 1;
}

static bool reply(struct px *x, struct xfast_result *r)
{
    const char *k;
    size_t kn;
    int cnt = 0, m;
    unsigned seen = 0;
    if (!lit(x, '{'))
        return false;
    while ((m = member(x, &cnt, &k, &kn)) == 1) {
        if (IS(k, kn, "groundedContent")) {
            ONCE(seen, 1);
            if (!grounded(x, r))
                return false;
        } else if (IS(k, kn, "replyId")) {
            ONCE(seen, 2);
            if (!str(x, false, NULL, NULL))
                return false;
        } else {
            return false;
        }
    }
    return m == 0 && (seen & 1);
}

static bool replies(struct px *x, struct xfast_result *r)
{
    if (!lit(x, '['))
        return false;
    if (lit(x, ']'))
        return true;
    for (;;) {
        if (!reply(x, r))
            return false;
        if (lit(x, ','))
            continue;
        return lit(x, ']');
    }
}

static bool answer(struct px *x, struct xfast_result *r)
{
    static const char in_progress[] = "\"IN_PROGRESS\"";
    const char *k;
    size_t kn;
    int cnt = 0, m;
    unsigned seen = 0;
    if (!lit(x, '{'))
        return false;
    while ((m = member(x, &cnt, &k, &kn)) == 1) {
        if (IS(k, kn, "state")) {
            ONCE(seen, 1);
            ws(x);
            if ((size_t)(x->end - x->p) < sizeof in_progress - 1 ||
                memcmp(x->p, in_progress, sizeof in_progress - 1) != 0)
                return false;
            x->p += sizeof in_progress - 1;
        } else if (IS(k, kn, "replies")) {
            ONCE(seen, 2);
            if (!replies(x, r))
                return false;
        } else if (IS(k, kn, "adkAuthor")) {
            ONCE(seen, 4);
            if (!str(x, false, NULL, NULL))
                return false;
        } else {
            return false;
        }
    }
    return m == 0 && (seen & 1);
}

static bool session_info(struct px *x, struct xfast_result *r)
{
    const char *k, *s;
    size_t kn, sn;
    int cnt = 0, m;
    unsigned seen = 0;
    if (!lit(x, '{'))
        return false;
    while ((m = member(x, &cnt, &k, &kn)) == 1) {
        if (IS(k, kn, "session")) {
            ONCE(seen, 1);
            if (!str(x, true, &s, &sn))
                return false;
            if (sn > 0) {
                r->session = s;
                r->session_len = sn;
            }
        } else if (IS(k, kn, "queryId")) {
            ONCE(seen, 2);
            if (!str(x, false, NULL, NULL))
                return false;
        } else if (IS(k, kn, "turnId")) {
            ONCE(seen, 4);
            if (!str(x, false, NULL, NULL))
                return false;
        } else {
            return false;
        }
    }
    return m == 0;
}

static bool sar(struct px *x, struct xfast_result *r)
{
    const char *k;
    size_t kn;
    int cnt = 0, m;
    unsigned seen = 0;
    if (!lit(x, '{'))
        return false;
    while ((m = member(x, &cnt, &k, &kn)) == 1) {
        if (IS(k, kn, "answer")) {
            ONCE(seen, 1);
            if (!answer(x, r))
                return false;
        } else if (IS(k, kn, "sessionInfo")) {
            ONCE(seen, 2);
            if (!session_info(x, r))
                return false;
        } else if (IS(k, kn, "assistToken")) {
            ONCE(seen, 4);
            if (!str(x, false, NULL, NULL))
                return false;
        } else {
            return false;
        }
    }
    return m == 0 && (seen & 1);
}

bool xfast_parse(const char *json, size_t n, char *buf, size_t cap, struct xfast_result *r)
{
    struct px x = {
        .p = (const unsigned char *)json, .end = (const unsigned char *)json + n,
        .out = buf, .oend = buf + cap,
    };
    const char *k;
    size_t kn;
    int cnt = 0, m;
    unsigned seen = 0;
    r->ntext = 0;
    r->session = NULL;
    r->session_len = 0;
    if (!json || !buf || cap == 0 || !lit(&x, '{'))
        return false;
    while ((m = member(&x, &cnt, &k, &kn)) == 1) {
        if (IS(k, kn, "streamAssistResponse")) {
            ONCE(seen, 1);
            if (!sar(&x, r))
                return false;
        } else if (IS(k, kn, "uToken")) {
            ONCE(seen, 2);
            if (!str(&x, false, NULL, NULL))
                return false;
        } else {
            return false;
        }
    }
    if (m != 0 || !(seen & 1))
        return false;
    ws(&x);
    return x.p == x.end;
}

/* gg_env.c -- see gg_env.h */
#include "gg_env.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define ENV_MAX_LINE (1 << 20)

static int is_key_start(int c) { return isalpha(c) || c == '_'; }
static int is_key_char(int c) { return isalnum(c) || c == '_' || c == '.' || c == '-'; }

int gg_env_parse(const char *text, size_t n, gg_env_cb cb, gg_env_err_cb on_error, void *ctx)
{
    size_t pos = 0;
    int lineno = 0;
    char *val = NULL;
    size_t valcap = 0;
    int rc = 0;

    while (pos < n) {
        size_t start = pos;
        while (pos < n && text[pos] != '\n')
            pos++;
        size_t end = pos;
        if (pos < n)
            pos++; /* skip '\n' */
        lineno++;
        if (end > start && text[end - 1] == '\r')
            end--;
        const char *l = text + start;
        size_t len = end - start;
        size_t i = 0;
        while (i < len && (l[i] == ' ' || l[i] == '\t'))
            i++;
        if (i == len || l[i] == '#')
            continue;
        if (len - i > 7 && memcmp(l + i, "export", 6) == 0 && (l[i + 6] == ' ' || l[i + 6] == '\t')) {
            i += 7;
            while (i < len && (l[i] == ' ' || l[i] == '\t'))
                i++;
        }
        if (i == len || !is_key_start((unsigned char)l[i])) {
            if (on_error) on_error(ctx, lineno, "expected KEY=VALUE");
            continue;
        }
        size_t ks = i;
        while (i < len && is_key_char((unsigned char)l[i]))
            i++;
        size_t ke = i;
        while (i < len && (l[i] == ' ' || l[i] == '\t'))
            i++;
        if (i == len || l[i] != '=') {
            if (on_error) on_error(ctx, lineno, "expected '=' after key");
            continue;
        }
        i++;
        while (i < len && (l[i] == ' ' || l[i] == '\t'))
            i++;
        if (len > ENV_MAX_LINE) {
            if (on_error) on_error(ctx, lineno, "line too long");
            continue;
        }
        if (valcap < len + 1) {
            char *nv = realloc(val, len + 1);
            if (!nv) { rc = -1; goto out; }
            val = nv;
            valcap = len + 1;
        }
        size_t vo = 0;
        if (i < len && (l[i] == '"' || l[i] == '\'')) {
            char q = l[i++];
            int closed = 0;
            while (i < len) {
                char c = l[i++];
                if (c == q) { closed = 1; break; }
                if (q == '"' && c == '\\' && i < len) {
                    char e = l[i++];
                    c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
                }
                val[vo++] = c;
            }
            if (!closed) {
                if (on_error) on_error(ctx, lineno, "unterminated quoted value");
                continue;
            }
            while (i < len && (l[i] == ' ' || l[i] == '\t'))
                i++;
            if (i < len && l[i] != '#') {
                if (on_error) on_error(ctx, lineno, "unexpected text after quoted value");
                continue;
            }
        } else {
            size_t vs = i, ve = len;
            for (size_t j = i; j < len; j++)
                if (l[j] == '#' && j > vs && (l[j - 1] == ' ' || l[j - 1] == '\t')) {
                    ve = j;
                    break;
                }
            while (ve > vs && (l[ve - 1] == ' ' || l[ve - 1] == '\t'))
                ve--;
            memcpy(val, l + vs, ve - vs);
            vo = ve - vs;
        }
        val[vo] = '\0';
        char key[256];
        size_t kl = ke - ks;
        if (kl >= sizeof(key)) {
            if (on_error) on_error(ctx, lineno, "key too long");
            continue;
        }
        memcpy(key, l + ks, kl);
        key[kl] = '\0';
        if (memchr(val, '\0', vo)) {
            if (on_error) on_error(ctx, lineno, "NUL byte in value");
            continue;
        }
        rc = cb(ctx, key, val, lineno);
        if (rc != 0)
            goto out;
    }
out:
    free(val);
    return rc;
}

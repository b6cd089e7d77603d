/* tokens.c -- see tokens.h */
#include "tokens.h"

#include <ctype.h>

static int is_cjk(unsigned cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0xAC00 && cp <= 0xD7AF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x2FFFF) ||
           (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFF00 && cp <= 0xFFEF);
}

int64_t exch_estimate_tokens(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    int64_t tokens = 0, alnum_run = 0, punct = 0, other = 0;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (isalnum(c)) {
                alnum_run++;
            } else {
                tokens += (alnum_run + 3) / 4;
                alnum_run = 0;
                if (!isspace(c))
                    punct++;
            }
            i++;
            continue;
        }
        tokens += (alnum_run + 3) / 4;
        alnum_run = 0;
        unsigned cp = 0;
        size_t k = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
        cp = k == 2 ? c & 0x1F : k == 3 ? c & 0x0F : k == 4 ? c & 0x07 : c;
        for (size_t j = 1; j < k && i + j < n; j++)
            cp = cp << 6 | (s[i + j] & 0x3F);
        if (is_cjk(cp))
            tokens++;
        else
            other++;
        i += k;
    }
    tokens += (alnum_run + 3) / 4 + (punct + 1) / 2 + (other + 1) / 2;
    if (tokens == 0 && n > 0)
        tokens = 1;
    return tokens;
}

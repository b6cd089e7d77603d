/* fuzz_modelmap.c -- libFuzzer harness for the MODEL_MAP parser
 * (daemon/models.c: models_set_map, then models_resolve).
 *
 * Invariants:
 *   - success: every entry "from=to" (comma-separated, leading blanks
 *     skipped) whose `from` is not a catalogue id, carries no model suffix,
 *     is unique in the spec and shorter than 100 bytes resolves to `to`;
 *     catalogue ids still resolve to themselves;
 *   - failure: a message naming MODEL_MAP, and the previous map stays in
 *     force (a mapping set before still resolves);
 *   - models_set_map(NULL) clears the map.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "models.h"

static bool has_suffix(const char *s)
{
    return strstr(s, "-search") || strstr(s, "-nosearch") || strstr(s, "-image");
}

static bool is_catalogue(const char *name)
{
    size_t n;
    const struct model_info *m = models_list(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].id, name) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    if (size > 4096)
        return 0;
    char err[512];
    /* a known map first, to see that a failed parse keeps it */
    FUZZ_CHECK(models_set_map("fuzz-keep=gemini-2.5-pro", err, sizeof(err)) == 0);
    char *spec = malloc(size + 1);
    if (!spec)
        return 0;
    memcpy(spec, in, size);
    spec[size] = '\0';
    err[0] = '\0';
    struct model_choice ch;
    if (models_set_map(spec, err, sizeof(err)) != 0) {
        FUZZ_CHECK(strncmp(err, "MODEL_MAP", 9) == 0);
        FUZZ_CHECK(models_resolve("fuzz-keep", &ch) == 0 && strcmp(ch.model->id, "gemini-2.5-pro") == 0);
    } else {
        char *copy = strdup(spec), *save = NULL;
        FUZZ_CHECK(copy);
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ')
                tok++;
            if (!*tok)
                continue;
            char *eq = strchr(tok, '=');
            FUZZ_CHECK(eq && eq != tok && is_catalogue(eq + 1));
            *eq = '\0';
            const char *from = tok, *to = eq + 1;
            if (strlen(from) >= 100 || is_catalogue(from) || has_suffix(from))
                continue;
            /* unique `from` in the whole spec */
            size_t fl = strlen(from), hits = 0;
            for (const char *p = spec; (p = strstr(p, from)); p++)
                hits++;
            if (hits != 1)
                continue;
            FUZZ_CHECK(models_resolve(from, &ch) == 0);
            FUZZ_CHECK(strcmp(ch.model->id, to) == 0);
            (void)fl;
        }
        free(copy);
    }
    FUZZ_CHECK(models_resolve("gemini-2.5-flash", &ch) == 0 && strcmp(ch.model->id, "gemini-2.5-flash") == 0);
    FUZZ_CHECK(models_set_map(NULL, err, sizeof(err)) == 0);
    free(spec);
    return 0;
}

/* models.h -- the model catalogue, aliases and upgrades.
 *
 * models_resolve() maps a requested name to a catalogue model: exact ids
 * first, then MODEL_MAP entries (config), then built-in aliases for older or
 * OpenAI names (gpt-4o -> gemini-2.5-flash, gemini-pro -> gemini-2.5-pro,
 * ...), and Claude ids by family (claude-*opus* / *sonnet* ->
 * gemini-3.1-pro-preview, claude-*haiku* -> gemini-3-flash-preview), and
 * unknown gemini-* ids by family (*flash* -> gemini-3-flash-preview, *-pro*
 * -> gemini-3.1-pro-preview; logged as upgrades).  Suffixes, combinable in any order: "-search" enables web
 * grounding explicitly, "-nosearch" disables it, "-image" adds image
 * generation (imageGenerationSpec).  The virtual model "gemini-imagen" is
 * image generation only (no modelId, no grounding).  It returns 0 and fills
 * *out, or -1 for unknown names; out->model points into static storage,
 * out->name is the id to report back and out->upgraded is set when an alias
 * applied (for logging).
 * models_set_map() parses MODEL_MAP ("a=b,c=d") and may be called again on
 * reload; it returns -1 with err set on a bad entry.  Thread-safety:
 * resolve is safe against concurrent resolves; set_map takes a lock.
 */
#ifndef MODELS_H
#define MODELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;

#define TOOLS_SEARCH 0x1u
#define TOOLS_IMAGE 0x2u
#define TOOLS_VIDEO 0x4u

struct model_info {
    const char *id;           /* public OpenAI-facing id */
    const char *upstream_id;  /* assistGenerationConfig.modelId; NULL = omit (auto) */
    unsigned tools;           /* default toolsSpec parts */
    bool image_only;          /* virtual image model */
};

struct model_choice {
    const struct model_info *model;
    unsigned tools;           /* after suffixes */
    char name[128];           /* id reported back to the client */
    bool upgraded;            /* an alias was applied */
};

int models_resolve(const char *requested, struct model_choice *out);  /* 0 or -1 unknown */
const struct model_info *models_list(size_t *n);
/* The ids /v1/models lists: the catalogue plus the -search and -image
 * variants of every chat model (static storage). */
const char *const *models_listed(size_t *n);
int models_set_map(const char *spec, char *err, size_t errlen);
/* Fill buf with a comma list of public ids (for error messages). */
void models_names(char *buf, size_t n);

/* Models the upstream rejected as unknown / unsupported (issue 18):
 * marked for ttl_s seconds (0 = not marked), with the upstream's words.
 * Thread-safe (own lock).  `id` is a catalogue id; unknown ids are ignored. */
void models_mark_unavailable(const char *id, int64_t ttl_s, const char *why);
/* Seconds left (rounded up) while marked, else 0. */
int64_t models_unavailable_left(const char *id);
/* The upstream's words into buf ("" when not marked). */
void models_unavailable_reason(const char *id, char *buf, size_t n);
/* /v1/models metadata of a listed id (suffix variants included):
 * "available" (bool) and, while marked, "unavailable_until" (RFC 3339)
 * and "unavailable_reason". */
void models_annotate(const char *listed_id, struct cJSON *o);

#endif

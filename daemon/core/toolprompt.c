/* toolprompt.c -- the prompt contract (what the upstream query says about
 * the tools and how to call them), the history renderings of earlier calls
 * and results in the same format, the corrective message, and the
 * tools_spec (declared tools, parsed schemas, marker).  The wording is
 * documented in docs/TOOLS.md; tests pin the block format. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gg_util.h"
#include "tools.h"

static const char *const REPAIR_NAMES[TOOLS_REP_COUNT] = {
    "fence", "bare_json", "marker", "close_tag", "trailing_comma", "single_quotes", "unquoted_keys",
    "raw_control", "bad_escape", "py_literals", "close_brackets", "args_string", "shape", "name_case",
    "parallel_dropped", "tool_code",
};

const char *tools_repair_name(unsigned bit)
{
    for (int i = 0; i < TOOLS_REP_COUNT; i++)
        if (bit == 1u << i)
            return REPAIR_NAMES[i];
    return "";
}

void tools_new_marker(char out[TOOLS_MARKER_LEN + 1])
{
    gg_random_hex(out, TOOLS_MARKER_LEN / 2);
}

static bool marker_ok(const char *m)
{
    if (!m || strlen(m) != TOOLS_MARKER_LEN)
        return false;
    for (; *m; m++)
        if (!((*m >= '0' && *m <= '9') || (*m >= 'a' && *m <= 'f')))
            return false;
    return true;
}

int tools_spec_init(struct tools_spec *s, const struct exch_tool *tools, size_t n_tools,
                    enum exch_tool_choice choice, const char *choice_name, bool parallel, const char *marker)
{
    memset(s, 0, sizeof *s);
    if (n_tools) {
        s->schemas = calloc(n_tools, sizeof *s->schemas);
        if (!s->schemas)
            return -1;
        for (size_t i = 0; i < n_tools; i++)
            if (tools[i].params_json)
                s->schemas[i] = cJSON_Parse(tools[i].params_json);  /* NULL: any object */
    }
    s->tools = tools;
    s->n_tools = n_tools;
    s->choice = choice;
    s->choice_name = choice_name;
    s->parallel = parallel;
    if (marker_ok(marker))
        memcpy(s->marker, marker, TOOLS_MARKER_LEN + 1);
    else
        tools_new_marker(s->marker);
    return 0;
}

void tools_spec_free(struct tools_spec *s)
{
    if (s->schemas)
        for (size_t i = 0; i < s->n_tools; i++)
            cJSON_Delete(s->schemas[i]);
    free(s->schemas);
    memset(s, 0, sizeof *s);
}

int tools_find(const struct tools_spec *s, const char *name, bool *case_folded)
{
    *case_folded = false;
    if (!name)
        return -1;
    for (size_t i = 0; i < s->n_tools; i++)
        if (s->tools[i].name && strcmp(s->tools[i].name, name) == 0)
            return (int)i;
    for (size_t i = 0; i < s->n_tools; i++)
        if (s->tools[i].name && strcasecmp(s->tools[i].name, name) == 0) {
            *case_folded = true;
            return (int)i;
        }
    return -1;
}

/* ---- rendering ------------------------------------------------------------ */

static int open_tag(const struct tools_spec *s, struct gg_buf *out)
{
    return gg_buf_printf(out, "<tool_call marker=\"%s\">\n", s->marker) < 0 ? -1 : 0;
}

static int choice_rule(const struct tools_spec *s, struct gg_buf *out)
{
    switch (s->choice) {
    case EXCH_TOOLS_REQUIRED:
        return gg_buf_adds(out, "- You must call at least one tool in this reply; do not answer directly.\n");
    case EXCH_TOOLS_NAMED:
        return gg_buf_printf(out, "- You must call the tool \"%s\" in this reply; do not answer directly.\n",
                             s->choice_name ? s->choice_name : "");
    default:
        return gg_buf_adds(out, "- If no tool is needed, answer directly in plain text without any block.\n");
    }
}

int tools_render_prompt(const struct tools_spec *s, struct gg_buf *out)
{
    if (s->choice == EXCH_TOOLS_NONE || s->n_tools == 0)
        return 0;
    int rc = gg_buf_adds(out, "# Tools\n\nYou can call the tools listed below. To call a tool, write a tool call "
                              "block exactly in this form, with the marker attribute copied exactly:\n\n");
    rc |= open_tag(s, out);
    rc |= gg_buf_adds(out, "{\"name\": \"TOOL_NAME\", \"arguments\": {ARGUMENTS}}\n</tool_call>\n\n");
    rc |= gg_buf_adds(out,
        "- ARGUMENTS is one JSON object that follows the tool's parameter schema. Write strict JSON: "
        "double quotes, no comments, no trailing commas; inside strings escape quotes, backslashes and "
        "newlines as \\\", \\\\ and \\n.\n"
        "- Write the block as plain text in your answer: not inside a code fence, not in your thinking, "
        "and do not describe a call instead of making it.\n");
    rc |= gg_buf_adds(out, s->parallel
        ? "- To call several tools at once, write one block per call, one after another.\n"
        : "- Call at most one tool per reply.\n");
    rc |= gg_buf_adds(out,
        "- After your tool call block(s), end your reply. Results come back in a later message as "
        "<tool_result> blocks; never write a <tool_result> block yourself and never invent results.\n");
    rc |= choice_rule(s, out);
    rc |= gg_buf_adds(out, "- Only the tools listed here exist.\n\n## Available tools\n");
    for (size_t i = 0; i < s->n_tools; i++) {
        const struct exch_tool *t = &s->tools[i];
        rc |= gg_buf_printf(out, "\n### %s\n", t->name ? t->name : "");
        if (t->description && *t->description)
            rc |= gg_buf_printf(out, "%s\n", t->description);
        char *schema = s->schemas && s->schemas[i] ? cJSON_PrintUnformatted(s->schemas[i]) : NULL;
        rc |= gg_buf_printf(out, "Parameters (JSON Schema): %s\n", schema ? schema : "{\"type\": \"object\"}");
        cJSON_free(schema);
    }
    return rc ? -1 : 0;
}

int tools_render_reminder(const struct tools_spec *s, struct gg_buf *out)
{
    if (s->choice == EXCH_TOOLS_NONE || s->n_tools == 0)
        return 0;
    int rc = gg_buf_printf(out, "(To call a tool, write a <tool_call marker=\"%s\"> block as described above.", s->marker);
    if (s->choice == EXCH_TOOLS_REQUIRED)
        rc |= gg_buf_adds(out, " You must call a tool now.");
    else if (s->choice == EXCH_TOOLS_NAMED)
        rc |= gg_buf_printf(out, " You must call the tool \"%s\" now.", s->choice_name ? s->choice_name : "");
    rc |= gg_buf_adds(out, ")\n");
    return rc ? -1 : 0;
}

int tools_render_call(const struct tools_spec *s, const struct exch_tool_call *c, struct gg_buf *out)
{
    cJSON *args = c->args_json ? cJSON_Parse(c->args_json) : NULL;
    char *txt = cJSON_IsObject(args) ? cJSON_PrintUnformatted(args) : NULL;
    int rc = open_tag(s, out);
    rc |= gg_buf_adds(out, "{\"name\": ");
    rc |= gg_buf_add_json_str(out, c->name ? c->name : "", c->name ? strlen(c->name) : 0);
    rc |= gg_buf_printf(out, ", \"arguments\": %s}\n</tool_call>\n", txt ? txt : "{}");
    cJSON_free(txt);
    cJSON_Delete(args);
    return rc ? -1 : 0;
}

static int add_attr(struct gg_buf *out, const char *key, const char *v)
{
    int rc = gg_buf_printf(out, " %s=\"", key);
    for (; *v && rc == 0; v++)   /* attribute values: no quotes, no newlines */
        rc = gg_buf_addc(out, (*v == '"' || *v == '\n' || *v == '\r' || *v == '<' || *v == '>') ? '_' : *v);
    return rc || gg_buf_addc(out, '"') ? -1 : 0;
}

int tools_render_result(const struct tools_spec *s, const char *call_id, const char *name, const char *content,
                        bool is_error, struct gg_buf *out)
{
    (void)s;
    int rc = gg_buf_adds(out, "<tool_result");
    if (call_id)
        rc |= add_attr(out, "call_id", call_id);
    if (name)
        rc |= add_attr(out, "name", name);
    if (is_error)
        rc |= gg_buf_adds(out, " error=\"true\"");
    rc |= gg_buf_adds(out, ">\n");
    rc |= gg_buf_adds(out, content ? content : "");
    rc |= gg_buf_adds(out, "\n</tool_result>\n");
    return rc ? -1 : 0;
}

int tools_render_correction(const struct tools_spec *s, const char *error, struct gg_buf *out)
{
    int rc = gg_buf_printf(out, "Your previous reply could not be used: %s.\nReply again now, with the tool call "
                                "written exactly in this form and arguments that follow the tool's schema:\n",
                           error && *error ? error : "the tool call was invalid");
    rc |= open_tag(s, out);
    rc |= gg_buf_adds(out, "{\"name\": \"TOOL_NAME\", \"arguments\": {ARGUMENTS}}\n</tool_call>\n");
    if (s->choice == EXCH_TOOLS_NAMED)
        rc |= gg_buf_printf(out, "You must call the tool \"%s\".\n", s->choice_name ? s->choice_name : "");
    else if (s->choice == EXCH_TOOLS_REQUIRED)
        rc |= gg_buf_adds(out, "You must call one of the tools.\n");
    return rc ? -1 : 0;
}

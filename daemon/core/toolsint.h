/* toolsint.h -- internals shared by toolparse.c and tooljson.c (not for
 * other modules).  tooljson.c: find where a JSON value ends in a reply,
 * parse it tolerantly (the documented repairs), and turn a parsed value into
 * validated calls. */
#ifndef TOOLSINT_H
#define TOOLSINT_H

#include "tools.h"

enum tj_span {
    TJ_OK,      /* balanced value: *end is just past it */
    TJ_MORE,    /* the buffer ends inside it (not eof) */
    TJ_BAD,     /* mismatched bracket, too deep, too big or ends inside (eof); *end = where */
    TJ_OPEN,    /* `</tool_call` met with brackets open (stop_at_tag); *end = the '<' */
};

/* p[0] is '{' or '['. */
enum tj_span tj_span(const char *p, size_t n, bool eof, bool stop_at_tag, size_t *end);

/* Parse p[0..n) as JSON, strictly then with the repairs; close_open allows
 * closing brackets left open.  Adds the repairs used to *rep on success.
 * NULL when unrepairable (or on allocation failure). */
cJSON *tj_parse(const char *p, size_t n, bool close_open, unsigned *rep);

/* Outcome of one call candidate. */
enum tj_outcome {
    TJ_NOT_CALL = 0,    /* not call-shaped, or an unknown tool (err says which) */
    TJ_CALLS,           /* calls appended to the result */
    TJ_INVALID,         /* a recognised call attempt that is invalid; err set */
};

/* Turn a parsed value (a call object or an array of them) into calls appended
 * to res (ids generated, arguments normalised and validated).  name_attr:
 * the name="" attribute of a tag, or NULL.  Nothing is appended unless every
 * element is a valid call.  *rep gets shape/name repairs on TJ_CALLS. */
enum tj_outcome tj_calls(const struct tools_spec *s, const cJSON *root, const char *name_attr,
                         struct tools_result *res, unsigned *rep, char *err, size_t errlen);

/* A Python-style call in a ```tool_code fence at p[0] (toolpy.c). */
enum py_res {
    PY_MORE,    /* the buffer ends inside it (not eof) */
    PY_NOT,     /* not such a call (or an unknown tool: err says which) */
    PY_CALLS,   /* one call appended to res; *end just past it */
    PY_INVALID, /* a call to a declared tool that is invalid; err set, *end past it */
};
enum py_res tj_pycall(const struct tools_spec *s, const char *p, size_t n, bool eof, struct tools_result *res,
                      unsigned *rep, size_t *end, char *err, size_t errlen);

#endif

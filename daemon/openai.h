/* openai.h -- the OpenAI chat-completions wire format: request parsing and
 * validation, history flattening (protocol doc §6), token estimation,
 * the error envelope, and response / SSE chunk formatting.
 *
 * oai_parse_chat() parses and validates a request body.  On success it
 * returns 0 and fills *req (release with oai_chat_free); on a client error
 * it returns -1 and fills *err with status, type, param, code and message
 * (OpenAI's envelope).  It never reads past `n` and never crashes on any
 * input (it is a fuzz target).
 */
#ifndef OPENAI_H
#define OPENAI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gg_buf.h"
#include "models.h"

struct oai_error {
    int status;             /* HTTP status */
    const char *type;       /* invalid_request_error, authentication_error, rate_limit_error, api_error ... */
    char param[64];         /* "" = null */
    const char *code;       /* NULL = null */
    char message[512];
    int retry_after;        /* seconds, 0 = none */
};

enum oai_role { ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT, ROLE_TOOL };

/* An image_url or file content part.  Parts of the current turn
 * (msg_index >= first_new) have `upload` set: their data: URLs are decoded
 * and checked at parse time (data/len/mime filled, url NULL); their http(s)
 * URLs are syntax- and policy-checked and fetched later by the upstream
 * thread, which then fills data/len/mime (it owns them from submission on).
 * Parts of earlier turns are only counted (they become "[image]" markers
 * in the flattened text, protocol doc §7.1); their data: URLs are dropped. */
struct oai_attachment {
    int msg_index, part_index;
    bool upload;            /* current turn: goes upstream */
    bool is_file;           /* a `file` part (else image_url) */
    char param[64];         /* the part's path for error envelopes */
    char *url;              /* http(s) URL (normalised), owned, or NULL */
    char *mime;             /* normalised type, or NULL until known */
    char *filename;         /* file parts, or NULL */
    unsigned char *data;    /* decoded bytes, owned, or NULL */
    size_t len;
};

struct oai_message {
    enum oai_role role;
    char *text;             /* text parts joined, owned, never NULL */
    char *name;             /* tool name / function name, may be NULL */
    int n_images;
};

struct oai_chat {
    char *model_req;                /* as requested */
    struct model_choice model;
    bool stream, include_usage;
    struct oai_message *msgs;
    size_t n_msgs;
    size_t first_new;               /* index of the first message after the last assistant message */
    struct oai_attachment *att;     /* attachments of the new messages */
    size_t n_att;
    char *stop[4];                  /* stop sequences, NULL-terminated when fewer */
    int64_t max_tokens;             /* 0 = none */
};

int oai_parse_chat(const char *body, size_t n, struct oai_chat *req, struct oai_error *err);
/* POST /v1/images/generations: {prompt, model?, n?, response_format?, size?,
 * quality?, style?, user?} into a one-message request for an image model
 * (gemini-imagen unless a catalogue model is named; DALL-E / gpt-image
 * names map to gemini-imagen).  *want_url is set from response_format
 * ("url" / "b64_json"; default from IMAGE_OUTPUT).  n > 1 is refused with
 * param "n".  Same contract as oai_parse_chat. */
int oai_parse_images(const char *body, size_t n, struct oai_chat *req, bool *want_url, struct oai_error *err);
void oai_chat_free(struct oai_chat *req);

/* Flatten messages [from, n_msgs) into one upstream query text (appends to
 * out).  When the range is one user message and there is no system message
 * the text is sent as-is; otherwise as "System:/User:/Assistant:/Tool result"
 * blocks separated by blank lines.  Returns 0 or -1 on buffer overflow. */
int oai_flatten(const struct oai_chat *req, size_t from, bool include_system, struct gg_buf *out);

/* Conversation key over messages [0, upto) with the client's key id:
 * hex SHA-256 into out[65].  `extra_answer`, when non-NULL, is hashed as one more
 * assistant message (the answer just produced). */
void oai_conv_key(const char *key_id, const struct oai_chat *req, size_t upto,
                  const char *extra_answer, size_t extra_len, char out[65]);

/* Token estimate: never 0 for non-empty text.  Latin runs count ~4 chars per
 * token, CJK characters 1 token each, other non-ASCII 1 per 2 chars,
 * punctuation 1 per 2. */
int64_t oai_estimate_tokens(const char *s, size_t n);

/* {"error":{...}} into out. */
int oai_error_json(const struct oai_error *e, struct gg_buf *out);
void oai_set_error(struct oai_error *e, int status, const char *type, const char *param,
                   const char *code, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif

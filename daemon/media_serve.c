/* media_serve.c -- see media_serve.h */
#include "media_serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "media.h"

enum MHD_Result media_serve(struct http_req *r)
{
    const char *tok = r->url + strlen("/images/");
    size_t tl = strcspn(tok, ".");
    unsigned char *data = NULL;
    size_t len = 0;
    char mime[64];
    int64_t left_s = 0;
    if (media_store_get(tok, tl, &data, &len, mime, &left_s) != 0)
        return http_reply(r, 404, "text/plain", "not found or expired\n", 21);
    char cc[64];
    snprintf(cc, sizeof(cc), "private, max-age=%lld", (long long)(left_s > 0 ? left_s : 0));
    enum MHD_Result ret = http_reply_media(r, mime, data, len, cc);
    free(data);
    return ret;
}

/* jwt.h -- the HS256 bearer JWT the client signs itself (protocol §2.2).
 *
 * key    = base64url-decode(xsrfToken), padding optional
 * header = {"alg":"HS256","typ":"JWT","kid":"<keyId>"}
 * payload= {"iss":"https://business.gemini.google",
 *           "aud":"https://biz-discoveryengine.googleapis.com",
 *           "sub":"csesidx/<csesidx>","iat":now,"exp":now+ttl,"nbf":now}
 * token  = b64url(header).b64url(payload).b64url(HMAC-SHA256(key, first two))
 * (base64url without padding throughout).
 *
 * jwt_sign() writes the NUL-terminated token into out and returns its
 * length, or -1 when the xsrfToken is empty, does not decode or decodes
 * to more than 512 bytes, the keyId is not 1..JWT_KID_MAX bytes of printable
 * ASCII (0x20..0x7e), the csesidx is not 1..JWT_CSESIDX_MAX decimal
 * digits, or out is too small.  Within those bounds a token is at most
 * JWT_MAX - 1 bytes (jwt.c checks this at compile time), so JWT_MAX is
 * always enough; a getoxsrf answer outside them cannot sign and is an auth
 * failure.
 */
#ifndef JWT_H
#define JWT_H

#include <stddef.h>
#include <stdint.h>

#define JWT_MAX 2048
#define JWT_TTL_S 300
#define JWT_KID_MAX 256
#define JWT_CSESIDX_MAX 64

int jwt_sign(const char *xsrf_token, const char *key_id, const char *csesidx,
             int64_t now_s, char *out, size_t outlen);

#endif

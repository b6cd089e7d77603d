/*
 * png.h - the one generated image the fake serves for every
 * AI_GENERATED file: a valid 8x8 RGB PNG with a fixed pixel pattern,
 * built at start-up with zlib (deflate + crc32).  See README.md for its
 * size and SHA-256.
 */
#ifndef FU_PNG_H
#define FU_PNG_H

#include <stddef.h>

/* Builds the image (idempotent).  Returns 0 or -1 on zlib failure. */
int png_init(void);
const unsigned char *png_data(void);
size_t png_size(void);
/* Lowercase hex SHA-256 of the PNG bytes. */
const char *png_sha256(void);
/* Standard base64 of the PNG bytes. */
const char *png_base64(void);
size_t png_base64_len(void);

/* The generated "video" (video mode): a fixed 32-byte MP4 header
 * (ftyp + free boxes), not playable but sniffable as video/mp4. */
const unsigned char *mp4_data(void);
size_t mp4_size(void);
const char *mp4_sha256(void);   /* lowercase hex, valid after png_init */

#endif

/*
 * png.c - deterministic 8x8 PNG.  See png.h.
 */
#include "png.h"

#include <openssl/sha.h>
#include <string.h>
#include <zlib.h>

#include "dbuf.h"
#include "util.h"

#define W 8
#define H 8

static struct dbuf img, img_b64;
static char sha_hex[65];
static const unsigned char mp4_bytes[32] = {
  0, 0, 0, 24, 'f', 't', 'y', 'p', 'm', 'p', '4', '2', 0, 0, 0, 0,
  'm', 'p', '4', '2', 'i', 's', 'o', 'm', 0, 0, 0, 8, 'f', 'r', 'e', 'e'
};
static char mp4_hex[65];


static void put32(struct dbuf *b, unsigned long v)
{
  unsigned char x[4];
  x[0] = (unsigned char)(v >> 24);
  x[1] = (unsigned char)(v >> 16);
  x[2] = (unsigned char)(v >> 8);
  x[3] = (unsigned char)v;
  dbuf_add(b, x, 4);
}

static void chunk(struct dbuf *b, const char *type, const unsigned char *d,
                  size_t n)
{
  uLong crc = crc32(0L, Z_NULL, 0);
  put32(b, (unsigned long)n);
  dbuf_add(b, type, 4);
  dbuf_add(b, d, n);
  crc = crc32(crc, (const Bytef *)type, 4);
  crc = crc32(crc, d ? d : (const unsigned char *)"", (uInt)n);
  put32(b, crc);
}

int png_init(void)
{
  unsigned char raw[H * (1 + W * 3)];
  unsigned char z[512];
  uLongf zl = sizeof(z);
  unsigned char ihdr[13];
  unsigned char digest[SHA256_DIGEST_LENGTH];
  int x, y;
  if(img.len)
    return 0;
  /* fixed pattern: red/green gradient checkerboard, blue diagonal */
  for(y = 0; y < H; y++) {
    unsigned char *row = raw + y * (1 + W * 3);
    row[0] = 0; /* filter: none */
    for(x = 0; x < W; x++) {
      unsigned char *px = row + 1 + x * 3;
      int on = (x + y) & 1;
      px[0] = (unsigned char)(on ? 255 : x * 32);
      px[1] = (unsigned char)(on ? y * 32 : 255);
      px[2] = (unsigned char)(x == y ? 255 : 64);
    }
  }
  if(compress2(z, &zl, raw, sizeof(raw), 9) != Z_OK)
    return -1;
  dbuf_init(&img, 4096);
  dbuf_add(&img, "\x89PNG\r\n\x1a\n", 8);
  memset(ihdr, 0, sizeof(ihdr));
  ihdr[3] = W;
  ihdr[7] = H;
  ihdr[8] = 8;    /* bit depth */
  ihdr[9] = 2;    /* colour type RGB */
  chunk(&img, "IHDR", ihdr, sizeof(ihdr));
  chunk(&img, "IDAT", z, zl);
  chunk(&img, "IEND", NULL, 0);
  SHA256((const unsigned char *)img.p, img.len, digest);
  hex_encode(sha_hex, digest, sizeof(digest));
  SHA256(mp4_bytes, sizeof(mp4_bytes), digest);
  hex_encode(mp4_hex, digest, sizeof(digest));
  dbuf_init(&img_b64, 8192);
  b64_encode(&img_b64, img.p, img.len);
  dbuf_cstr(&img_b64);
  return 0;
}


const unsigned char *mp4_data(void)
{
  return mp4_bytes;
}

size_t mp4_size(void)
{
  return sizeof(mp4_bytes);
}

const char *mp4_sha256(void)
{
  return mp4_hex;
}

const unsigned char *png_data(void)
{
  return (const unsigned char *)img.p;
}

size_t png_size(void)
{
  return img.len;
}

const char *png_sha256(void)
{
  return sha_hex;
}

const char *png_base64(void)
{
  return img_b64.p;
}

size_t png_base64_len(void)
{
  return img_b64.len;
}

#ifndef CIMAGE_SHIM_H
#define CIMAGE_SHIM_H
// PNG (libpng 1.6, Debian libpng-dev) and JPEG (libjpeg-turbo, Debian libjpeg62-turbo-dev) decoding
// to 8-bit RGB, for SPICE's `prepare`. Both decoders report failures through `err` (a buffer of at
// least 256 bytes that receives a NUL-terminated message) and return NULL; a returned buffer is width * height * 3 bytes, row-major RGB, and must be
// released with cimage_free.
//
// libpng and libjpeg report fatal errors through handlers that must not return: the handlers below
// longjmp back into the decode functions (Swift cannot use setjmp, so that logic lives here).
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <png.h>
#include <jpeglib.h>

static inline void cimage_free(unsigned char *p) { free(p); }

static inline void cimage__message(char *err, size_t errlen, const char *msg) {
    if (err && errlen > 0) { strncpy(err, msg, errlen - 1); err[errlen - 1] = 0; }
}

/// Largest accepted image side and pixel count (a guard against decompression bombs).
#define CIMAGE_MAX_SIDE 32768
#define CIMAGE_MAX_PIXELS (1ull << 28)

struct cimage__png_source {
    const unsigned char *data;
    size_t size, pos;
};

static inline void cimage__png_read(png_structp png, png_bytep out, size_t n) {
    struct cimage__png_source *s = (struct cimage__png_source *)png_get_io_ptr(png);
    if (n > s->size - s->pos) png_error(png, "unexpected end of PNG data (truncated file)");
    memcpy(out, s->data + s->pos, n);
    s->pos += n;
}

/// The error pointer is the caller's `err` buffer (at least 256 bytes), so the message survives the longjmp.
static inline void cimage__png_error(png_structp png, png_const_charp msg) {
    char *buf = (char *)png_get_error_ptr(png);
    if (buf) { strncpy(buf, msg, 255); buf[255] = 0; }
    png_longjmp(png, 1);
}

static inline void cimage__png_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

/// Decodes a PNG held in memory (any bit depth, palette, grey, alpha, interlaced) to 8-bit RGB with
/// libpng, without colour management (gAMA/iCCP/sRGB chunks are ignored, as Pillow does): palettes
/// and low-bit greys are expanded, grey is replicated to RGB, an alpha channel is dropped (the colour
/// values are kept, as PIL's convert("RGB") does), 16-bit samples are scaled to 8 bits by
/// png_set_scale_16 ((v * 255 + 32895) >> 16, i.e. round(v / 257)). CRC errors in critical chunks
/// and truncated data are errors.
static inline unsigned char *cimage_decode_png(const unsigned char *data, size_t size, int *width, int *height,
                                               char *err, size_t errlen) {
    struct cimage__png_source src = { data, size, 0 };
    unsigned char *volatile out = NULL;
    png_bytep *volatile rows = NULL;
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) { cimage__message(err, errlen, "no PNG signature"); return NULL; }
    if (errlen < 256) return NULL;
    cimage__message(err, errlen, "cannot decode PNG data");
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, err, cimage__png_error, cimage__png_warning);
    if (!png) { cimage__message(err, errlen, "out of memory"); return NULL; }
    png_infop info = png_create_info_struct(png);
    if (!info) { png_destroy_read_struct(&png, NULL, NULL); cimage__message(err, errlen, "out of memory"); return NULL; }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(out); free(rows);
        return NULL;
    }
    png_set_read_fn(png, &src, cimage__png_read);
    png_set_user_limits(png, CIMAGE_MAX_SIDE, CIMAGE_MAX_SIDE);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    if (w == 0 || h == 0 || (unsigned long long)w * h > CIMAGE_MAX_PIXELS) png_error(png, "PNG dimensions are zero or too large");
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) png_set_scale_16(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 3) png_error(png, "unexpected row layout after conversion to RGB");
    out = (unsigned char *)malloc((size_t)w * h * 3);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * h);
    if (!out || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) rows[y] = out + (size_t)y * w * 3;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    *width = (int)w; *height = (int)h;
    return out;
}

struct cimage__jpeg_error {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static inline void cimage__jpeg_error_exit(j_common_ptr cinfo) {
    struct cimage__jpeg_error *e = (struct cimage__jpeg_error *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->message);
    longjmp(e->jump, 1);
}

/// Warnings (level -1: corrupt or truncated data that libjpeg papers over) are remembered, not printed.
static inline void cimage__jpeg_emit_message(j_common_ptr cinfo, int level) {
    struct cimage__jpeg_error *e = (struct cimage__jpeg_error *)cinfo->err;
    if (level < 0) {
        if (e->pub.num_warnings == 0) (*cinfo->err->format_message)(cinfo, e->message);
        e->pub.num_warnings++;
    }
}

/// Decodes a baseline or progressive JPEG (greyscale, YCbCr or RGB) held in memory to 8-bit RGB with
/// libjpeg-turbo (default DCT method, fancy upsampling, as PIL decodes). Corrupt or truncated data,
/// which libjpeg only warns about, is reported as an error. CMYK/YCCK JPEGs are rejected.
static inline unsigned char *cimage_decode_jpeg(const unsigned char *data, size_t size, int *width, int *height,
                                                char *err, size_t errlen) {
    struct jpeg_decompress_struct cinfo;
    struct cimage__jpeg_error jerr;
    unsigned char *volatile out = NULL;
    memset(&jerr, 0, sizeof jerr);
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = cimage__jpeg_error_exit;
    jerr.pub.emit_message = cimage__jpeg_emit_message;
    if (setjmp(jerr.jump)) {
        cimage__message(err, errlen, jerr.message[0] ? jerr.message : "cannot decode JPEG data");
        jpeg_destroy_decompress(&cinfo);
        free(out);
        return NULL;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        cimage__message(err, errlen, "CMYK/YCCK JPEGs are not supported");
        jpeg_destroy_decompress(&cinfo);
        return NULL;
    }
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    size_t w = cinfo.output_width, h = cinfo.output_height;
    if (w == 0 || h == 0 || w > CIMAGE_MAX_SIDE || h > CIMAGE_MAX_SIDE || (unsigned long long)w * h > CIMAGE_MAX_PIXELS ||
        cinfo.output_components != 3) {
        cimage__message(err, errlen, "JPEG dimensions are zero or too large, or not 3 output components");
        jpeg_destroy_decompress(&cinfo);
        return NULL;
    }
    out = (unsigned char *)malloc(w * h * 3);
    if (!out) { cimage__message(err, errlen, "out of memory"); jpeg_destroy_decompress(&cinfo); return NULL; }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out + (size_t)cinfo.output_scanline * w * 3;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    if (jerr.pub.num_warnings > 0) {
        char msg[JMSG_LENGTH_MAX + 32];
        snprintf(msg, sizeof msg, "corrupt JPEG data: %s", jerr.message);
        cimage__message(err, errlen, msg);
        jpeg_destroy_decompress(&cinfo);
        free(out);
        return NULL;
    }
    jpeg_destroy_decompress(&cinfo);
    *width = (int)w; *height = (int)h;
    return out;
}
#endif

/* Unit tests of protocol/filetype.c: uploads are classified by their first bytes only, so a
 * renamed executable or a truncated header is never taken for a document. */
#include "protocol/filetype.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define SNIFF(lit) ft_sniff((const unsigned char *)(lit), sizeof(lit) - 1)

static void test_pdf(void **state)
{
    (void)state;
    assert_int_equal(SNIFF("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj"), FT_PDF);
    assert_int_equal(SNIFF("%PDF-1.4"), FT_PDF);
    assert_int_equal(SNIFF("%PDF-"), FT_PDF); /* the magic alone is enough */
    assert_string_equal(ft_mime(FT_PDF), "application/pdf");
    assert_string_equal(ft_ext(FT_PDF), "pdf");
}

static void test_png(void **state)
{
    (void)state;
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0,
                                        0,    13,  'I', 'H', 'D',  'R',  0,    0,    0, 1};
    assert_int_equal(ft_sniff(png, sizeof png), FT_PNG);
    assert_int_equal(ft_sniff(png, 8), FT_PNG);
    assert_string_equal(ft_mime(FT_PNG), "image/png");
    assert_string_equal(ft_ext(FT_PNG), "png");
}

static void test_jpeg(void **state)
{
    (void)state;
    static const unsigned char jfif[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0};
    static const unsigned char exif[] = {0xFF, 0xD8, 0xFF, 0xE1, 0x12, 0x34, 'E', 'x', 'i', 'f', 0};
    assert_int_equal(ft_sniff(jfif, sizeof jfif), FT_JPEG);
    assert_int_equal(ft_sniff(exif, sizeof exif), FT_JPEG);
    assert_int_equal(ft_sniff(jfif, 3), FT_JPEG);
    assert_string_equal(ft_mime(FT_JPEG), "image/jpeg");
    assert_string_equal(ft_ext(FT_JPEG), "jpg");
}

/* A Windows executable renamed licence.pdf is still an executable. */
static void test_windows_exe(void **state)
{
    (void)state;
    static const unsigned char mz[] = {'M',  'Z',  0x90, 0x00, 0x03, 0x00, 0x00, 0x00,
                                       0x04, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00};
    assert_int_equal(ft_sniff(mz, sizeof mz), FT_UNKNOWN);
    assert_string_equal(ft_mime(FT_UNKNOWN), "application/octet-stream");
    assert_string_equal(ft_ext(FT_UNKNOWN), "");
}

static void test_other_formats_unknown(void **state)
{
    (void)state;
    assert_int_equal(SNIFF("\x7F"
                           "ELF\x02\x01\x01"),
                     FT_UNKNOWN);
    assert_int_equal(SNIFF("PK\x03\x04\x14\x00\x06\x00"), FT_UNKNOWN); /* zip, xlsx */
    assert_int_equal(SNIFF("GIF89a\x01\x00\x01\x00"), FT_UNKNOWN);
    assert_int_equal(SNIFF("<html><body>%PDF-1.7"), FT_UNKNOWN); /* magic not at the start */
    assert_int_equal(SNIFF(" %PDF-1.7"), FT_UNKNOWN);
    assert_int_equal(SNIFF("%pdf-1.7"), FT_UNKNOWN);
    assert_int_equal(SNIFF("#!/bin/sh\nrm -rf /\n"), FT_UNKNOWN);
}

static void test_empty(void **state)
{
    (void)state;
    static const unsigned char none[1] = {0};
    assert_int_equal(ft_sniff(none, 0), FT_UNKNOWN);
}

/* Sniffs a heap copy of exactly `n` bytes, so that a sanitizer build sees any read past it. */
static enum ft_type sniff_exact(const unsigned char *buf, size_t n)
{
    unsigned char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, buf, n);
    enum ft_type t = ft_sniff(copy, n);
    free(copy);
    return t;
}

/* Prefixes of each magic, one byte short, are not enough (and are not read past `len`). */
static void test_short_buffers(void **state)
{
    (void)state;
    static const unsigned char pdf[] = "%PDF-1.7";
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    static const unsigned char jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0};
    for (size_t n = 0; n < 5; n++)
        assert_int_equal(sniff_exact(pdf, n), FT_UNKNOWN);
    assert_int_equal(sniff_exact(pdf, 5), FT_PDF);
    for (size_t n = 0; n < 8; n++)
        assert_int_equal(sniff_exact(png, n), FT_UNKNOWN);
    assert_int_equal(sniff_exact(png, 8), FT_PNG);
    for (size_t n = 0; n < 3; n++)
        assert_int_equal(sniff_exact(jpeg, n), FT_UNKNOWN);
    assert_int_equal(sniff_exact(jpeg, 3), FT_JPEG);
    /* A PNG signature with one byte changed. */
    unsigned char bad[8];
    for (size_t i = 0; i < 8; i++) {
        memcpy(bad, png, 8);
        bad[i] ^= 0x20;
        assert_int_equal(ft_sniff(bad, 8), FT_UNKNOWN);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pdf),
        cmocka_unit_test(test_png),
        cmocka_unit_test(test_jpeg),
        cmocka_unit_test(test_windows_exe),
        cmocka_unit_test(test_other_formats_unknown),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_short_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of mgmt/pdf_form.c: the forms are read back with poppler's pdftotext and pdffonts,
 * so what is checked is what a printer and a text search see: the right title, the user's data
 * verbatim (markup characters included), every font embedded; drafts and hostile sizes render,
 * and several threads render at once. */
#include "mgmt/pdf_form.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* For a sanitizer build (-Db_sanitize=address): LeakSanitizer reads these hooks. Two leaks are
 * not ours and are suppressed by the exported function they happen under, which needs full
 * stacks (the libraries have no frame pointers):
 * - cairo 1.16 cairo_cff_font_read_cid_fontdict() never frees its FDArray INDEX on success:
 *   768 bytes per embedded Noto CJK font, per PDF, inside cairo_surface_finish();
 * - fontconfig's configuration, loaded once per process by FcInitLoadConfigAndFonts().
 * In other builds these are two unused functions. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:cairo_surface_finish\nleak:FcInitLoadConfigAndFonts\n";
}

/* The application of docs/api-detections.md, with text that must survive: Chinese, a 4-byte
 * character (U+20BB7), quotes and markup. */
static const char self_json[] =
    "{\"id\": 7, \"mode\": \"self\", \"status\": \"draft\", \"reject_reason\": null,"
    " \"operator\": {\"account_id\": 3, \"company_name\": "
    "\"中山\\\"绿能\\\"<script>&amp;科技有限公司\","
    "   \"operator_id\": \"MA4UJ9XY0\"},"
    " \"commissioning_unit\": {\"name\": \"中山𠮷祥充电有限公司\", \"credit_code\": "
    "\"91442000MA4UJ9XY09\", \"address\": null},"
    " \"contact\": {\"name\": \"李四\", \"mobile\": \"13800138000\", \"email\": "
    "\"li@example.com\"},"
    " \"platform\": {\"name\": \"绿能充电平台\", \"base_url\": "
    "\"https://evcs.example.com/evcs/v1/\","
    "   \"protocol_version\": \"T/CEC 102-2016\", \"source_ips\": [\"203.0.113.10\", "
    "\"2001:db8::/64\"]},"
    " \"delegate_detection_id\": null, \"delegation_scope\": null, \"delegate\": null,"
    " \"pile_summary\": {\"brands\": \"星星充电, 特来电\", \"models\": \"DC-120, AC-7\", "
    "\"ac_count\": 10, \"dc_count\": 4, \"protocols\": [\"ocpp1.6\", \"platform\"]},"
    " \"verdict\": null, \"materials\": [], \"credentials_issued_at\": null}";

static const char delegated_json[] =
    "{\"id\": 12, \"mode\": \"delegated\", \"status\": \"submitted\","
    " \"operator\": {\"account_id\": 5, \"company_name\": \"珠海小桩新能源有限公司\"},"
    " \"commissioning_unit\": {\"name\": \"珠海小桩新能源有限公司\", \"credit_code\": "
    "\"91440400MA55XXXX1K\", \"address\": \"广东省珠海市香洲区\"},"
    " \"contact\": {\"name\": \"王五\", \"mobile\": \"13912345678\", \"email\": \"w@example.cn\"},"
    " \"platform\": null, \"delegate_detection_id\": 7,"
    " \"delegation_scope\": \"香洲区全部直流桩 <b>&lt;全部&gt;</b>\","
    " \"delegate\": {\"detection_id\": 7, \"platform_name\": \"绿能充电平台\", "
    "\"company_name\": \"中山市绿能充电科技有限公司\"},"
    " \"pile_summary\": {\"brands\": \"小桩\", \"models\": \"XZ-AC7\", \"ac_count\": 30, "
    "\"dc_count\": 5, \"protocols\": [\"ocpp1.6\", \"ocpp2.0.1\"]}}";

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *app = json_loads(text, 0, &e);
    if (!app)
        fail_msg("test JSON: %s at %d", e.text, e.position);
    return app;
}

/* A long address (190 characters, within the API's 200) with markers at both ends, so its
 * wrapping inside the cell can be seen to lose nothing. */
static void set_long_address(json_t *app)
{
    char addr[1024] = "ADDRBEGIN";
    while (strlen(addr) < 170)
        strcat(addr, "广东省中山市东区");
    strcat(addr, "ADDREND");
    json_object_set_new(json_object_get(app, "commissioning_unit"), "address", json_string(addr));
}

static int have_tool(const char *name)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

static void need_poppler(void)
{
    if (!have_tool("pdftotext") || !have_tool("pdffonts")) {
        print_message("pdftotext/pdffonts not installed (Debian package poppler-utils): "
                      "skipping\n");
        skip();
    }
}

/* Output of a shell command (malloc'd, caller frees). */
static char *run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t len = 0, cap = 4096;
    char *out = malloc(cap);
    assert_non_null(out);
    size_t n;
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 1024) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
    }
    out[len] = 0;
    assert_int_equal(pclose(p), 0);
    return out;
}

/* Renders `app` into a temporary file whose name goes to `path` (at least 64 bytes). */
static void render_to_file(const json_t *app, char *path)
{
    unsigned char *pdf = NULL;
    size_t len = 0;
    char err[256] = "";
    int rc = pdf_form_detection(app, &pdf, &len, err, sizeof err);
    if (rc != 0)
        fail_msg("pdf_form_detection: %s", err);
    assert_non_null(pdf);
    assert_true(len > 1000);
    assert_memory_equal(pdf, "%PDF-", 5);

    strcpy(path, "/tmp/evgate_pdf_formXXXXXX.pdf");
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, pdf, len), (ssize_t)len);
    close(fd);
    free(pdf);
}

static char *pdf_text(const char *path)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "pdftotext -layout -enc UTF-8 '%s' -", path);
    return run(cmd);
}

static int pdf_pages(const char *path)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "pdfinfo '%s'", path);
    char *info = run(cmd);
    const char *p = strstr(info, "Pages:");
    assert_non_null(p);
    int pages = atoi(p + 6);
    free(info);
    return pages;
}

/* pdffonts lists `name type... emb sub uni object-id generation`; every font must be embedded
 * (a viewer without Noto CJK would otherwise show boxes) with a ToUnicode map. */
static void assert_fonts_embedded(const char *path)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "pdffonts '%s'", path);
    char *out = run(cmd);
    int fonts = 0;
    char *save = NULL;
    int line_no = 0;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line_no++ < 2) /* the heading and its rule */
            continue;
        char *tok[32];
        int n = 0;
        char *save2 = NULL;
        for (char *t = strtok_r(line, " ", &save2); t && n < 32; t = strtok_r(NULL, " ", &save2))
            tok[n++] = t;
        assert_true(n >= 6);
        if (strcmp(tok[n - 5], "yes") != 0 || strcmp(tok[n - 3], "yes") != 0)
            fail_msg("font %s: emb=%s uni=%s", tok[0], tok[n - 5], tok[n - 3]);
        fonts++;
    }
    assert_true(fonts >= 1);
    free(out);
}

/* Not inlined: gcc's format checks, once inlined under the sanitizers, misjudge `text`. */
static __attribute__((noinline)) void assert_has(const char *text, const char *needle)
{
    if (!text || !strstr(text, needle))
        fail_msg("\"%s\" not in the extracted text:\n%s", needle, text ? text : "(none)");
}

static void test_self_form(void **state)
{
    (void)state;
    need_poppler();
    json_t *app = load(self_json);
    set_long_address(app);
    char path[64];
    render_to_file(app, path);

    char *text = pdf_text(path);
    assert_has(text, "充电设施平台符合性检测申请表");
    assert_null(strstr(text, "委托接入申请表"));
    assert_has(text, "申请单位：中山\"绿能\"<script>&amp;科技有限公司"); /* header, verbatim */
    assert_has(text, "中山𠮷祥充电有限公司");
    assert_has(text, "91442000MA4UJ9XY09");
    assert_has(text, "ADDRBEGIN");
    assert_has(text, "ADDREND"); /* the long address wrapped, nothing lost */
    assert_has(text, "李四");
    assert_has(text, "13800138000");
    assert_has(text, "li@example.com");
    assert_has(text, "绿能充电平台");
    assert_has(text, "https://evcs.example.com/evcs/v1/");
    assert_has(text, "2001:db8::/64");
    assert_has(text, "OCPP 1.6");
    assert_has(text, "申请编号：7");
    assert_has(text, "一、委托单位信息");
    assert_has(text, "三、平台信息");
    assert_has(text, "五、申请单位承诺");
    assert_has(text, "申请单位（盖章）");
    assert_has(text, "法定代表人或授权代表（签字）");
    assert_has(text, "平台审核意见");
    assert_int_equal(pdf_pages(path), 1);
    assert_fonts_embedded(path);

    free(text);
    unlink(path);
    json_decref(app);
}

static void test_delegated_form(void **state)
{
    (void)state;
    need_poppler();
    json_t *app = load(delegated_json);
    char path[64];
    render_to_file(app, path);

    char *text = pdf_text(path);
    assert_has(text, "充电设施委托接入申请表");
    assert_null(strstr(text, "符合性检测申请表"));
    assert_has(text, "申请单位：珠海小桩新能源有限公司");
    assert_has(text, "三、委托信息");
    assert_null(strstr(text, "三、平台信息"));
    assert_has(text, "绿能充电平台");
    assert_has(text, "中山市绿能充电科技有限公司");
    assert_has(text, "<b>&lt;全部&gt;</b>"); /* shown as typed, never interpreted as markup */
    assert_has(text, "王五");
    assert_has(text, "13912345678");
    assert_has(text, "OCPP 2.0.1");
    assert_int_equal(pdf_pages(path), 1);
    assert_fonts_embedded(path);

    free(text);
    unlink(path);
    json_decref(app);
}

/* A draft prints with blank cells: absent, null and wrongly typed fields alike. */
static void test_draft_blank_cells(void **state)
{
    (void)state;
    static const char *drafts[] = {
        "{\"mode\": \"self\"}",
        "{\"mode\": \"delegated\", \"delegate\": null, \"pile_summary\": null}",
        "{\"id\": 3, \"mode\": \"self\", \"operator\": {}, \"commissioning_unit\": [],"
        " \"contact\": {\"name\": 5, \"mobile\": true}, \"platform\": {\"source_ips\": {}},"
        " \"pile_summary\": {\"ac_count\": \"ten\", \"dc_count\": 1.5, \"protocols\": [1, null,"
        " \"ocpp9\"]}}",
    };
    for (size_t i = 0; i < sizeof drafts / sizeof drafts[0]; i++) {
        json_t *app = load(drafts[i]);
        unsigned char *pdf = NULL;
        size_t len = 0;
        char err[256] = "";
        assert_int_equal(pdf_form_detection(app, &pdf, &len, err, sizeof err), 0);
        assert_non_null(pdf);
        assert_memory_equal(pdf, "%PDF-", 5);
        free(pdf);
        json_decref(app);
    }
    if (!have_tool("pdftotext"))
        return;
    json_t *app = load(drafts[0]);
    char path[64];
    render_to_file(app, path);
    char *text = pdf_text(path);
    assert_has(text, "充电设施平台符合性检测申请表");
    assert_has(text, "单位名称");
    assert_int_equal(pdf_pages(path), 1);
    free(text);
    unlink(path);
    json_decref(app);
}

static void test_rejects_bad_input(void **state)
{
    (void)state;
    unsigned char *pdf = (unsigned char *)"x";
    size_t len = 99;
    char err[256] = "";

    json_t *arr = json_array();
    assert_int_equal(pdf_form_detection(arr, &pdf, &len, err, sizeof err), -1);
    assert_null(pdf);
    assert_int_equal(len, 0);
    assert_non_null(strstr(err, "object"));
    json_decref(arr);

    static const char *bad[] = {"{}", "{\"mode\": \"Self\"}", "{\"mode\": 1}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *app = load(bad[i]);
        err[0] = 0;
        assert_int_equal(pdf_form_detection(app, &pdf, &len, err, sizeof err), -1);
        assert_null(pdf);
        assert_non_null(strstr(err, "mode"));
        assert_int_equal(pdf_form_detection(app, &pdf, &len, NULL, 0), -1); /* no err buffer */
        json_decref(app);
    }
}

/* Input far past the API's limits is cut with a visible "…", and still ends up on a few
 * pages rather than overflowing one. */
static void test_oversized_input_bounded(void **state)
{
    (void)state;
    json_t *app = load(self_json);
    size_t big = 200000;
    char *s = malloc(big + 1);
    assert_non_null(s);
    for (size_t i = 0; i < big; i += 3)
        memcpy(s + i, "长", 3); /* U+957F is 3 bytes in UTF-8 */
    s[big - big % 3] = 0;
    json_t *cu = json_object_get(app, "commissioning_unit");
    json_object_set_new(cu, "address", json_string(s));
    json_object_set_new(cu, "name", json_string(s));
    json_object_set_new(json_object_get(app, "operator"), "company_name", json_string(s));
    json_t *ips = json_array();
    for (int i = 0; i < 5000; i++) {
        char ip[64];
        snprintf(ip, sizeof ip, "2001:db8:%x::/64", i);
        json_array_append_new(ips, json_string(ip));
    }
    json_object_set_new(json_object_get(app, "platform"), "source_ips", ips);
    /* control and bidi characters are dropped, invalid UTF-8 cannot come from jansson */
    json_object_set_new(json_object_get(app, "contact"), "name",
                        json_string("李\t四\n\xE2\x80\xAE"
                                    "RTL"));
    free(s);

    if (!have_tool("pdftotext")) {
        unsigned char *pdf = NULL;
        size_t len = 0;
        assert_int_equal(pdf_form_detection(app, &pdf, &len, NULL, 0), 0);
        free(pdf);
        json_decref(app);
        return;
    }
    char path[64];
    render_to_file(app, path);
    char *text = pdf_text(path);
    assert_has(text, "…");
    assert_has(text, "李 四 RTL");
    int pages = pdf_pages(path);
    assert_true(pages >= 1 && pages <= 4);
    free(text);
    unlink(path);
    json_decref(app);
}

struct job {
    int delegated;
    int rc;
    unsigned char *pdf;
    size_t len;
    char err[256];
};

static void *render_job(void *arg)
{
    struct job *j = arg;
    /* each thread its own document: jansson values are not shared across threads here */
    json_error_t e;
    json_t *app = json_loads(j->delegated ? delegated_json : self_json, 0, &e);
    j->rc = -1;
    for (int i = 0; app && i < 3; i++) {
        free(j->pdf);
        j->pdf = NULL;
        j->rc = pdf_form_detection(app, &j->pdf, &j->len, j->err, sizeof j->err);
        if (j->rc != 0)
            break;
    }
    json_decref(app);
    return NULL;
}

static void test_concurrent_threads(void **state)
{
    (void)state;
    enum { N = 4 };
    pthread_t t[N];
    struct job jobs[N];
    memset(jobs, 0, sizeof jobs);
    for (int i = 0; i < N; i++) {
        jobs[i].delegated = i % 2;
        assert_int_equal(pthread_create(&t[i], NULL, render_job, &jobs[i]), 0);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < N; i++) {
        if (jobs[i].rc != 0)
            fail_msg("thread %d: %s", i, jobs[i].err);
        assert_true(jobs[i].len > 1000);
        assert_memory_equal(jobs[i].pdf, "%PDF-", 5);
        const char *tail = (const char *)jobs[i].pdf + jobs[i].len - 7;
        assert_non_null(memmem(tail, 7, "%%EOF", 5));
    }
    if (have_tool("pdftotext")) { /* one of each kind, read back */
        for (int i = 0; i < 2; i++) {
            char path[] = "/tmp/evgate_pdf_formXXXXXX.pdf";
            int fd = mkstemps(path, 4);
            assert_true(fd >= 0);
            assert_int_equal(write(fd, jobs[i].pdf, jobs[i].len), (ssize_t)jobs[i].len);
            close(fd);
            char *text = pdf_text(path);
            assert_has(text, i ? "充电设施委托接入申请表" : "充电设施平台符合性检测申请表");
            free(text);
            unlink(path);
        }
    }
    for (int i = 0; i < N; i++)
        free(jobs[i].pdf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_self_form),
        cmocka_unit_test(test_delegated_form),
        cmocka_unit_test(test_draft_blank_cells),
        cmocka_unit_test(test_rejects_bad_input),
        cmocka_unit_test(test_oversized_input_bounded),
        cmocka_unit_test(test_concurrent_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Exports of stations and piles: the template's columns plus read-only ones. */
#include "mgmt/xlsx_write_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct extra_column station_extras[] = {
    {"status", "状态", 10, 1},
    {"company_name", "运营商", 30, 0},
    {"application_id", "申请单号", 10, 0},
    {"updated_at", "更新时间", 22, 0},
};

static const struct extra_column pile_extras[] = {
    {"status", "状态", 10, 1},
    {"station_name", "所属充电站", 30, 0},
    {"application_id", "申请单号", 10, 0},
    {"updated_at", "更新时间", 22, 0},
};

static const struct {
    const char *code, *label;
} status_labels[] = {
    {"draft", "草稿"},
    {"submitted", "已提交"},
    {"accessed", "已接入"},
    {"rejected", "已驳回"},
};

static const char *scalar_text(const json_t *v, char *buf, size_t len)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_value(v);
    case JSON_INTEGER:
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    case JSON_REAL:
        snprintf(buf, len, "%.15g", json_real_value(v));
        if (strtod(buf, NULL) != json_real_value(v))
            snprintf(buf, len, "%.17g", json_real_value(v));
        return buf;
    case JSON_TRUE:
        return "1";
    case JSON_FALSE:
        return "0";
    default:
        return NULL;
    }
}

/* One value of an export under column `col`, typed by the column's kind. */
static lxw_error write_value(struct book *b, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c,
                             const struct rec_column *col, const json_t *v)
{
    char buf[64], entry[MAX_ENUM_TEXT];
    const char *text;
    lxw_datetime dt;
    double d;
    const struct rec_enum *e;

    if (!v || json_is_null(v))
        return LXW_NO_ERROR;
    text = scalar_text(v, buf, sizeof buf);
    if (!text || !*text)
        return LXW_NO_ERROR;
    switch (col->kind) {
    case REC_INT:
    case REC_DECIMAL:
        if (json_is_number(v))
            return worksheet_write_number(ws, r, c, json_number_value(v), NULL);
        if (xw_parse_number(text, &d))
            return worksheet_write_number(ws, r, c, d, NULL);
        break;
    case REC_DATE:
        if (xw_parse_date(text, &dt))
            return worksheet_write_datetime(ws, r, c, &dt, b->date);
        break;
    case REC_ENUM:
        if ((e = xw_enum_find(col, text))) {
            xw_enum_entry(e, entry, sizeof entry);
            return worksheet_write_string(ws, r, c, entry, b->text);
        }
        break;
    case REC_TEXT:
        break;
    }
    return worksheet_write_string(ws, r, c, text, b->text);
}

static lxw_error write_extra(struct book *b, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c,
                             const struct extra_column *x, const json_t *v)
{
    char buf[64];
    const char *text;

    if (!v || !(text = scalar_text(v, buf, sizeof buf)) || !*text)
        return LXW_NO_ERROR;
    if (x->is_status)
        for (size_t i = 0; i < sizeof status_labels / sizeof *status_labels; i++)
            if (strcmp(status_labels[i].code, text) == 0)
                text = status_labels[i].label;
    return worksheet_write_string(ws, r, c, text, b->text);
}

/* One record as row r of a data sheet; `pile_id` replaces the record's equipment_id (the
 * connectors of a pile carry their pile's). */
static int write_record(struct book *b, lxw_worksheet *ws, enum rec_sheet sheet, lxw_row_t r,
                        const json_t *item, const json_t *pile_id,
                        const struct extra_column *extras, size_t nextras)
{
    size_t ncols;
    const struct rec_column *cols = rec_columns(sheet, &ncols);
    lxw_error rc;
    size_t c;

    for (c = 0; c < ncols + nextras; c++) {
        if (c < ncols) {
            const json_t *v = pile_id && strcmp(cols[c].field, "equipment_id") == 0
                                  ? pile_id
                                  : json_object_get(item, cols[c].field);

            rc = write_value(b, ws, r, (lxw_col_t)c, &cols[c], v);
        } else {
            const struct extra_column *x = &extras[c - ncols];

            rc = write_extra(b, ws, r, (lxw_col_t)c, x, json_object_get(item, x->field));
        }
        if (rc != LXW_NO_ERROR) {
            snprintf(b->err, sizeof b->err, "sheet %s row %u column %s: %s", rec_sheet_name(sheet),
                     (unsigned)r + 1, c < ncols ? cols[c].label : extras[c - ncols].label,
                     lxw_strerror(rc));
            return -1;
        }
    }
    return 0;
}

int xlsxw_export(enum xlsxw_book which, const json_t *items, unsigned char **out, size_t *len,
                 char *err, size_t errlen)
{
    struct book b = {0};
    lxw_worksheet *data[2] = {NULL, NULL}, *lists;
    const struct extra_column *extras = which == XLSXW_STATIONS ? station_extras : pile_extras;
    size_t nextras = which == XLSXW_STATIONS ? sizeof station_extras / sizeof *station_extras
                                             : sizeof pile_extras / sizeof *pile_extras;
    size_t nrows[2] = {0, 0}, i;
    lxw_row_t row[2] = {1, 1};
    const json_t *item;

    *out = NULL;
    *len = 0;
    if (which != XLSXW_STATIONS && which != XLSXW_PILES) {
        xw_set_err(err, errlen, "unknown workbook %d", (int)which);
        return -1;
    }
    if (!json_is_array(items)) {
        xw_set_err(err, errlen, "items is not an array");
        return -1;
    }
    /* Count rows first: the drop-downs must be set up before a streamed row is written. */
    json_array_foreach(items, i, item)
    {
        if (!json_is_object(item)) {
            xw_set_err(err, errlen, "item %zu is not an object", i);
            return -1;
        }
        nrows[0]++;
        if (which == XLSXW_PILES)
            nrows[1] += json_array_size(json_object_get(item, "connectors"));
    }
    if (nrows[0] > XLSXW_MAX_ROWS || nrows[1] > XLSXW_MAX_ROWS) {
        xw_set_err(err, errlen, "%zu rows do not fit a worksheet (at most %u)",
                   nrows[0] > nrows[1] ? nrows[0] : nrows[1], XLSXW_MAX_ROWS);
        return -1;
    }
    if (xw_book_open(&b, which, 1))
        goto fail;
    for (i = 0; i < b.nsheets; i++)
        data[i] = workbook_add_worksheet(b.wb, rec_sheet_name(b.sheets[i]));
    lists = workbook_add_worksheet(b.wb, SHEET_LISTS);
    if (!lists || !data[0] || (b.nsheets > 1 && !data[1])) {
        snprintf(b.err, sizeof b.err, "cannot add the worksheets");
        goto fail;
    }
    xw_write_lists(&b, lists);
    for (i = 0; i < b.nsheets; i++) {
        lxw_row_t last = nrows[i] > XLSXW_VALIDATION_ROWS ? (lxw_row_t)nrows[i]
                                                          : (lxw_row_t)XLSXW_VALIDATION_ROWS;

        if (xw_setup_data_sheet(&b, data[i], b.sheets[i], i == 0 ? extras : NULL,
                                i == 0 ? nextras : 0, last, 0))
            goto fail;
    }
    json_array_foreach(items, i, item)
    {
        const json_t *conns, *conn;
        size_t j;

        if (write_record(&b, data[0], b.sheets[0], row[0]++, item, NULL, extras, nextras))
            goto fail;
        if (which != XLSXW_PILES)
            continue;
        conns = json_object_get(item, "connectors");
        json_array_foreach(conns, j, conn)
        {
            if (!json_is_object(conn)) {
                snprintf(b.err, sizeof b.err, "item %zu: connector %zu is not an object", i, j);
                goto fail;
            }
            if (write_record(&b, data[1], REC_CONNECTORS, row[1]++, conn,
                             json_object_get(item, "equipment_id"), NULL, 0))
                goto fail;
        }
    }
    if (xw_book_finish(&b, out, len))
        goto fail;
    xw_book_discard(&b);
    return 0;
fail:
    xw_set_err(err, errlen, "%s", b.err[0] ? b.err : "cannot write the export");
    xw_book_discard(&b);
    return -1;
}

/* The xlsx files users download (SPEC §6): the import templates of stations and piles and the
 * exports of GET /stations and GET /piles, all with the columns of protocol/records.h, so that
 * what is exported can be imported again. A pure library on libxlsxwriter: no HTTP, no database. */
#ifndef EVGATE_MGMT_XLSX_WRITE_H
#define EVGATE_MGMT_XLSX_WRITE_H

#include <jansson.h>
#include <stddef.h>

/* Which workbook: stations (sheet 充电站) or piles (sheets 充电桩 and 充电枪). */
enum xlsxw_book { XLSXW_STATIONS = 0, XLSXW_PILES };

/* Bounds. Data rows beyond XLSXW_MAX_ROWS on one sheet do not fit a worksheet and are refused;
 * the API caps exports far lower (100 000 records). Drop-down lists cover the data rows
 * 2..XLSXW_VALIDATION_ROWS+1, or every row of a longer export. */
#define XLSXW_MAX_ROWS        1048575u
#define XLSXW_VALIDATION_ROWS 100000u
#define XLSXW_MAX_BYTES       (512u * 1024 * 1024) /* the finished file, read back into memory */

/* Writes the import template of `which`:
 * - sheet 填写说明 (first, active): how to fill the file, the rule of every column (type,
 *   required, rec_column.help, every enum code with its name) and an example record in grey
 *   italics: one station, or one pile with two connectors. The example lives only there: the
 *   data sheets hold nothing but their header, because the importer takes every row below a
 *   header as data;
 * - the data sheets (充电站; or 充电桩 and 充电枪): row 1 the header, "label*" for required
 *   columns (dark red on a rose fill) and "label" for the others (on grey), each header with a
 *   comment holding its rule; frozen header; text, ID and enum columns formatted as text ("@"),
 *   the date column as yyyy-mm-dd; enum columns with a drop-down of "code-名称" entries (a value
 *   not in the list, such as the bare code the importer also accepts, only draws a warning);
 * - sheet 选项 (hidden, last): every enum list, referenced by drop-downs too long to be inline.
 * Returns 0 with *out a malloc'd xlsx of *len bytes (caller frees), or -1 with a message in `err`
 * (errlen bytes; may be NULL/0) and *out NULL. */
int xlsxw_template(enum xlsxw_book which, unsigned char **out, size_t *len, char *err,
                   size_t errlen);

/* Writes `items` (borrowed; the array `items` of GET /stations or GET /piles) as xlsx: the data
 * sheets of the template, same headers, column formats and drop-downs, no 填写说明. Each record
 * is one row, its `field`s under their columns: numbers as number cells (a numeric string too),
 * texts and IDs as text cells (a JSON number in a text column as its decimal text), enums as
 * "code-名称" text (the code alone when it is unknown), dates as date cells shown yyyy-mm-dd;
 * missing, null and "" values leave the cell blank. A pile's `connectors` become rows of 充电枪,
 * each with the pile's equipment_id. After the template's columns come read-only ones, ignored
 * by an import: stations 状态 (草稿/已提交/已接入/已驳回), 运营商 company_name, 申请单号
 * application_id, 更新时间 updated_at; piles 状态, 所属充电站 station_name, 申请单号, 更新时间.
 *
 * Rows are streamed (libxlsxwriter's constant_memory): memory beyond `items` stays bounded (the
 * finished file, ~7 MB for 100 000 stations), and 100 000 stations take 2-3 s of one core.
 * Temporary files go to $TMPDIR (else /tmp) and are removed before returning. Returns 0 with *out a
 * malloc'd xlsx of *len bytes (caller frees), or -1 with a message in `err` and *out NULL: `items`
 * not an array, an item not an object, a sheet over XLSXW_MAX_ROWS rows, a value too long for a
 * cell (32 767 bytes), or an I/O failure. Blocking (CPU and disk): call it off the event loop.
 * Thread-safe. */
int xlsxw_export(enum xlsxw_book which, const json_t *items, unsigned char **out, size_t *len,
                 char *err, size_t errlen);

#endif

/* The T/CEC 102 data dictionary as field tables: for each object its fields, types, required
 * flags, lengths, enumerations, ranges and decimal places, and the rules across fields.
 *
 * Sources (public implementations read for the rules; no code taken from them):
 *  [O]  dromara omind baseplat, org/dromara/omind/baseplat/api/domain/{StationInfoData,
 *       EquipmentInfoData, ConnectorInfoData, ConnectorStatusInfoData, StationStatsInfoData,
 *       EquipmentStatsInfoData, notifications/NotificationChargeOrderInfoData}.java: names,
 *       required flags, enumerations, "<=N字符" lengths, decimals ("保留小数点后1位").
 *  [OS] the same project's MySQL schema (omind-user-plat dump: omind_station, omind_bill,
 *       omind_operator): column widths (station_id varchar(20), connector_id varchar(26),
 *       start_charge_seq "27字符", station_lng decimal(10,6), money decimal(_,2), prices
 *       decimal(10,4)), and the enumerations in the column comments.
 *  [C]  further Java/TS models quoting the standard's comments: com.holley.charging.model.def.*
 *       (ConnectorInfo, StationStatusInfo), chat.candleloong StationStatusInfo ("充电站ID (必填)
 *       小于等于20位"), ChargeStatusInfo (notification_stationStatus: ConnectorStatusInfo, Status
 *       0/1/2/3/4/255), NotificationChargeOrderInfoResponseData (ConfirmResult 0/1/2-99),
 *       QueryTokenResp / TokenInfo (OperatorID, SuccStat, AccessToken, TokenAvailableTime,
 *       FailReason).
 *  [N]  ../shared/NOTES.md "T/CEC 102 wire details": OperatorID 9, StationID <= 20,
 *       EquipmentID <= 23, ConnectorID <= 26, GCJ-02 with <= 6 decimals, power 1 decimal,
 *       money 2 decimals, unit prices 4; the misspelled names SevicePrice, TotalSeviceMoney,
 *       DetailSeviceMoney are the wire format.
 *
 * Where sources disagree, and what is chosen:
 *  - ConnectorStatusInfo's ID: [O] spells it "connectorID"; [C] and the standard "ConnectorID".
 *    ConnectorID.
 *  - StationStatsInfo's start: [O] "StarTime"; the standard "StartTime". StartTime.
 *  - Charge order period count: [O] "SubPeriod"; [OS] and [C] "SumPeriod". SumPeriod.
 *  - ServiceFee length: [O] annotation <= 100, [OS] varchar(256) like ElectricityFee. 256.
 *  - AreaCode: [O] "20字符" (GB/T 2260 text field); the city needs the 6-digit code. 6 digits
 *    and a code of protocol/areas_data.c.
 *  - OperatorID: [OS] varchar(10); [N] and the standard's examples 9 characters. 9.
 *  - Numbers sent as strings ([C] holley models use String for Power, Voltage): refused, the
 *    standard's types are numbers.
 * Not in any source, our own sanity bounds (named here so they can be argued with): voltages
 * 0..1500 V, currents 0..3000 A, powers 0..5000 kW, electricity 0..1e9 kWh, money 0..1e8 yuan,
 * PageSize 1..1000, StationIDs <= 50 items (remembered as the standard's "一次最多50个"; no source
 * read here confirms it), ChargeDetails <= 32 (SumPeriod's range 0..32). */
#include "protocol/tcec_private.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define STR(n, req, fmt, lo, hi)                                                                   \
    {                                                                                              \
        .name = (n), .type = TF_STRING, .required = (req), .format = (fmt), .min_len = (lo),       \
        .max_len = (hi), .decimals = -1                                                            \
    }
#define ENUM(n, req, set)                                                                          \
    {                                                                                              \
        .name = (n), .type = TF_INT, .required = (req), .enums = (set),                            \
        .n_enums = (unsigned char)ARRAY_LEN(set), .decimals = -1                                   \
    }
#define INT(n, req, lo, hi)                                                                        \
    {                                                                                              \
        .name = (n), .type = TF_INT, .required = (req), .has_range = 1, .min = (lo), .max = (hi),  \
        .decimals = -1                                                                             \
    }
#define NUM(n, req, lo, hi, dec)                                                                   \
    {                                                                                              \
        .name = (n), .type = TF_NUMBER, .required = (req), .has_range = 1, .min = (lo),            \
        .max = (hi), .decimals = (dec)                                                             \
    }
#define OBJ(n, req, o)                                                                             \
    {                                                                                              \
        .name = (n), .type = TF_OBJECT, .required = (req), .object = &(o)                          \
    }
#define OBJS(n, req, o, lo, hi)                                                                    \
    {                                                                                              \
        .name = (n), .type = TF_OBJECTS, .required = (req), .object = &(o), .min_items = (lo),     \
        .max_items = (hi)                                                                          \
    }
#define STRS(n, req, fmt, maxlen, lo, hi)                                                          \
    {                                                                                              \
        .name = (n), .type = TF_STRINGS, .required = (req), .format = (fmt),                       \
        .min_len = (maxlen) ? 1 : 0, .max_len = (maxlen), .min_items = (lo), .max_items = (hi)     \
    }
#define OBJECT(var, label, check)                                                                  \
    const struct tcec_object var = {label, var##_fields, ARRAY_LEN(var##_fields), check}

enum { REQ = 1, OPT = 0 };

#define V_MAX     1500.0
#define A_MAX     3000.0
#define KW_MAX    5000.0
#define KWH_MAX   1e9
#define MONEY_MAX 1e8
#define PRICE_MAX 1e4

/* ---- enumerations ---------------------------------------------------------------------- */

static const int station_types[] = {1, 50, 100, 101, 102, 103, 255};         /* [O] [OS] */
static const int station_statuses[] = {0, 1, 5, 6, 50};                      /* [O] [OS] */
static const int constructions[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255}; /* [O] [OS] */
static const int zero_one[] = {0, 1};                 /* SupportOrder [O]; SuccStat [C]; Status */
static const int equipment_types[] = {1, 2, 3, 4, 5}; /* [O] */
static const int connector_types[] = {1, 2, 3, 4, 5, 6};      /* [O] [C] */
static const int national_standards[] = {1, 2};               /* 2011, 2015 [O] */
static const int connector_statuses[] = {0, 1, 2, 3, 4, 255}; /* [O] [C] */
static const int park_statuses[] = {0, 10, 50};               /* [O] */
static const int lock_statuses[] = {0, 10, 50};               /* [O] */

/* ---- rules across fields --------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int msgf(char *msg, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
    return -1;
}

static double numv(const json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static int connector_check(const json_t *o, const char **field, char *msg, size_t len)
{
    double lo = numv(o, "VoltageLowerLimits"), hi = numv(o, "VoltageUpperLimits");
    if (lo > hi) {
        *field = "VoltageLowerLimits";
        return msgf(msg, len, "%.0f V is above VoltageUpperLimits %.0f V", lo, hi);
    }
    return 0;
}

/* Dates and date-times of one format compare as strings. */
static int order_check(const json_t *o, const char *from, const char *to, const char **field,
                       char *msg, size_t len)
{
    const char *a = json_string_value(json_object_get(o, from));
    const char *b = json_string_value(json_object_get(o, to));
    if (a && b && strcmp(a, b) > 0) {
        *field = to;
        snprintf(msg, len, "%s is before %s %s", b, from, a);
        return -1;
    }
    return 0;
}

static int stats_check(const json_t *o, const char **field, char *msg, size_t len)
{
    return order_check(o, "StartTime", "EndTime", field, msg, len);
}

static int detail_check(const json_t *o, const char **field, char *msg, size_t len)
{
    return order_check(o, "DetailStartTime", "DetailEndTime", field, msg, len);
}

static int charge_order_check(const json_t *o, const char **field, char *msg, size_t len)
{
    if (order_check(o, "StartTime", "EndTime", field, msg, len))
        return -1;
    double elec = numv(o, "TotalElecMoney"), svc = numv(o, "TotalSeviceMoney"),
           total = numv(o, "TotalMoney");
    if (fabs(elec + svc - total) > 0.0051) {
        *field = "TotalMoney";
        return msgf(msg, len, "%.2f is not TotalElecMoney + TotalSeviceMoney (%.2f)", total,
                    elec + svc);
    }
    const json_t *n = json_object_get(o, "SumPeriod"), *d = json_object_get(o, "ChargeDetails");
    if (json_is_integer(n) && json_is_array(d) &&
        (size_t)json_integer_value(n) != json_array_size(d)) {
        *field = "SumPeriod";
        return msgf(msg, len, "%.0f is not the number of ChargeDetails (%.0f)",
                    (double)json_integer_value(n), (double)json_array_size(d));
    }
    return 0;
}

static int token_check(const json_t *o, const char **field, char *msg, size_t len)
{
    json_int_t succ = json_integer_value(json_object_get(o, "SuccStat"));
    json_int_t reason = json_integer_value(json_object_get(o, "FailReason"));
    const char *token = json_string_value(json_object_get(o, "AccessToken"));
    if (succ == 0 && reason != 0) {
        *field = "FailReason";
        snprintf(msg, len, "is %" JSON_INTEGER_FORMAT " with SuccStat 0 (success)", reason);
        return -1;
    }
    if (succ == 0 && (!token || !token[0])) {
        *field = "AccessToken";
        snprintf(msg, len, "is empty with SuccStat 0 (success)");
        return -1;
    }
    if (succ == 0 && json_integer_value(json_object_get(o, "TokenAvailableTime")) <= 0) {
        *field = "TokenAvailableTime";
        snprintf(msg, len, "is not positive with SuccStat 0 (success)");
        return -1;
    }
    if (succ == 1 && reason == 0) {
        *field = "FailReason";
        snprintf(msg, len, "is 0 (none) with SuccStat 1 (failure)");
        return -1;
    }
    return 0;
}

static int stations_page_check(const json_t *o, const char **field, char *msg, size_t len)
{
    json_int_t no = json_integer_value(json_object_get(o, "PageNo"));
    json_int_t count = json_integer_value(json_object_get(o, "PageCount"));
    json_int_t items = json_integer_value(json_object_get(o, "ItemSize"));
    size_t n = json_array_size(json_object_get(o, "StationInfos"));
    if (count > 0 && no > count) {
        *field = "PageNo";
        return msgf(msg, len, "%.0f is past PageCount %.0f", (double)no, (double)count);
    }
    if ((double)n > (double)items) {
        *field = "StationInfos";
        return msgf(msg, len, "has %.0f items, more than ItemSize %.0f", (double)n, (double)items);
    }
    return 0;
}

static int status_total_check(const json_t *o, const char **field, char *msg, size_t len)
{
    json_int_t total = json_integer_value(json_object_get(o, "Total"));
    size_t n = json_array_size(json_object_get(o, "StationStatusInfos"));
    if ((size_t)total != n) {
        *field = "Total";
        return msgf(msg, len, "%.0f is not the number of StationStatusInfos (%.0f)", (double)total,
                    (double)n);
    }
    return 0;
}

/* ---- objects --------------------------------------------------------------------------- */

static const struct tcec_field ConnectorInfo_fields[] = {
    STR("ConnectorID", REQ, TFMT_ID, 1, 26), /* [N] [OS] varchar(26) */
    STR("ConnectorName", OPT, TFMT_NONE, 0, 30),
    ENUM("ConnectorType", REQ, connector_types),
    INT("VoltageUpperLimits", REQ, 0, V_MAX), /* V, integer [O] */
    INT("VoltageLowerLimits", REQ, 0, V_MAX),
    INT("Current", REQ, 0, A_MAX),   /* A, integer [O] */
    NUM("Power", REQ, 0, KW_MAX, 1), /* kW, 1 decimal [O] [N] */
    STR("ParkNo", OPT, TFMT_NONE, 0, 10),
    ENUM("NationalStandard", REQ, national_standards),
};
static OBJECT(ConnectorInfo, "ConnectorInfo", connector_check);

static const struct tcec_field EquipmentInfo_fields[] = {
    STR("EquipmentID", REQ, TFMT_ID, 1, 23),            /* [N] */
    STR("ManufacturerID", OPT, TFMT_OPERATOR_ID, 0, 9), /* organisation code [O] */
    STR("ManufacturerName", OPT, TFMT_NONE, 0, 30),
    STR("EquipmentModel", OPT, TFMT_NONE, 0, 20),
    STR("ProductionDate", OPT, TFMT_DATE, 0, 10), /* "YYYY-MM-DD" [O] */
    ENUM("EquipmentType", REQ, equipment_types),
    OBJS("ConnectorInfos", REQ, ConnectorInfo, 1, 0),
    NUM("EquipmentLng", OPT, -180, 180, 6),
    NUM("EquipmentLat", OPT, -90, 90, 6),
    NUM("Power", REQ, 0, KW_MAX, 1),
    STR("EquipmentName", OPT, TFMT_NONE, 0, 30),
};
static OBJECT(EquipmentInfo, "EquipmentInfo", NULL);

static const struct tcec_field StationInfo_fields[] = {
    STR("StationID", REQ, TFMT_ID, 1, 20), /* [N] [OS] varchar(20) */
    STR("OperatorID", REQ, TFMT_OPERATOR_ID, 9, 9),
    STR("EquipmentOwnerID", REQ, TFMT_OPERATOR_ID, 9, 9),
    STR("StationName", REQ, TFMT_NONE, 1, 50),
    STR("CountryCode", REQ, TFMT_COUNTRY, 2, 2),
    STR("AreaCode", REQ, TFMT_AREA, 6, 6),
    STR("Address", REQ, TFMT_NONE, 1, 50),
    STR("StationTel", OPT, TFMT_NONE, 0, 30),
    STR("ServiceTel", REQ, TFMT_NONE, 1, 30),
    ENUM("StationType", REQ, station_types),
    ENUM("StationStatus", REQ, station_statuses),
    INT("ParkNums", REQ, 0, 100000),      /* 0 = unknown [O] */
    NUM("StationLng", REQ, -180, 180, 6), /* GCJ-02, 6 decimals [O] [OS] decimal(10,6) */
    NUM("StationLat", REQ, -90, 90, 6),
    STR("SiteGuide", OPT, TFMT_NONE, 0, 100),
    ENUM("Construction", REQ, constructions),
    STRS("Pictures", OPT, TFMT_NONE, 0, 0, 0),
    STR("MatchCars", OPT, TFMT_NONE, 0, 100),
    STR("ParkInfo", OPT, TFMT_NONE, 0, 100),
    STR("BusineHours", OPT, TFMT_NONE, 0, 100), /* sic: the wire name */
    STR("ElectricityFee", OPT, TFMT_NONE, 0, 256),
    STR("ServiceFee", OPT, TFMT_NONE, 0, 256),
    STR("ParkFee", OPT, TFMT_NONE, 0, 100),
    STR("Payment", OPT, TFMT_NONE, 0, 20),
    ENUM("SupportOrder", OPT, zero_one),
    STR("Remark", OPT, TFMT_NONE, 0, 100),
    OBJS("EquipmentInfos", REQ, EquipmentInfo, 1, 0),
};
static OBJECT(StationInfo, "StationInfo", NULL);

static const struct tcec_field ConnectorStatusInfo_fields[] = {
    STR("ConnectorID", REQ, TFMT_ID, 1, 26),
    ENUM("Status", REQ, connector_statuses),
    ENUM("ParkStatus", OPT, park_statuses),
    ENUM("LockStatus", OPT, lock_statuses),
};
static OBJECT(ConnectorStatusInfo, "ConnectorStatusInfo", NULL);

static const struct tcec_field StationStatusInfo_fields[] = {
    STR("StationID", REQ, TFMT_ID, 1, 20),
    OBJS("ConnectorStatusInfos", REQ, ConnectorStatusInfo, 0, 0),
};
static OBJECT(StationStatusInfo, "StationStatusInfo", NULL);

static const struct tcec_field ConnectorStatsInfo_fields[] = {
    STR("ConnectorID", REQ, TFMT_ID, 1, 26),
    NUM("ConnectorElectricity", REQ, 0, KWH_MAX, 1), /* kWh, 0.1 [O] */
};
static OBJECT(ConnectorStatsInfo, "ConnectorStatsInfo", NULL);

static const struct tcec_field EquipmentStatsInfo_fields[] = {
    STR("EquipmentID", REQ, TFMT_ID, 1, 23),
    NUM("EquipmentElectricity", REQ, 0, KWH_MAX, 1),
    OBJS("ConnectorStatsInfos", REQ, ConnectorStatsInfo, 0, 0),
};
static OBJECT(EquipmentStatsInfo, "EquipmentStatsInfo", NULL);

static const struct tcec_field StationStatsInfo_fields[] = {
    STR("StationID", REQ, TFMT_ID, 1, 20),
    STR("StartTime", REQ, TFMT_DATE, 10, 10), /* yyyy-MM-dd [O] */
    STR("EndTime", REQ, TFMT_DATE, 10, 10),
    NUM("StationElectricity", REQ, 0, KWH_MAX, 1),
    OBJS("EquipmentStatsInfos", REQ, EquipmentStatsInfo, 0, 0),
};
static OBJECT(StationStatsInfo, "StationStatsInfo", stats_check);

static const struct tcec_field ChargeDetail_fields[] = {
    STR("DetailStartTime", REQ, TFMT_DATETIME, 19, 19),
    STR("DetailEndTime", REQ, TFMT_DATETIME, 19, 19),
    NUM("ElecPrice", OPT, 0, PRICE_MAX, 4),   /* yuan/kWh, 4 decimals [OS] decimal(10,4) */
    NUM("SevicePrice", OPT, 0, PRICE_MAX, 4), /* sic [N] */
    NUM("DetailPower", REQ, 0, KWH_MAX, 2),
    NUM("DetailElecMoney", OPT, 0, MONEY_MAX, 2),
    NUM("DetailSeviceMoney", OPT, 0, MONEY_MAX, 2),
};
static OBJECT(ChargeDetail, "ChargeDetail", detail_check);

/* notification_charge_order_info request */
static const struct tcec_field ChargeOrderInfo_fields[] = {
    STR("StartChargeSeq", REQ, TFMT_ID, 1, 27), /* OperatorID + unique number, 27 [OS] */
    STR("ConnectorID", REQ, TFMT_ID, 1, 26),
    STR("StartTime", REQ, TFMT_DATETIME, 19, 19),
    STR("EndTime", REQ, TFMT_DATETIME, 19, 19),
    NUM("TotalPower", REQ, 0, KWH_MAX, 2), /* kWh, 2 decimals [OS] */
    NUM("TotalElecMoney", REQ, 0, MONEY_MAX, 2),
    NUM("TotalSeviceMoney", REQ, 0, MONEY_MAX, 2), /* sic [N] */
    NUM("TotalMoney", REQ, 0, MONEY_MAX, 2),
    INT("StopReason", REQ, 0, 99), /* 0..4 defined, 5..99 the operator's own [O] [OS] */
    INT("SumPeriod", OPT, 0, 32),  /* [OS] "范围：0～32" */
    OBJS("ChargeDetails", OPT, ChargeDetail, 0, 32),
};
static OBJECT(ChargeOrderInfo, "ChargeOrderInfo", charge_order_check);

static const struct tcec_field ChargeOrderConfirm_fields[] = {
    STR("StartChargeSeq", REQ, TFMT_ID, 1, 27), STR("ConnectorID", REQ, TFMT_ID, 1, 26),
    INT("ConfirmResult", REQ, 0, 99), /* 0 ok, 1 disputed, 2..99 own [C] */
};
static OBJECT(ChargeOrderConfirm, "ChargeOrderConfirm", NULL);

/* ---- interface payloads ---------------------------------------------------------------- */

static const struct tcec_field QueryTokenRequest_fields[] = {
    STR("OperatorID", REQ, TFMT_OPERATOR_ID, 9, 9),
    STR("OperatorSecret", REQ, TFMT_NONE, 1, 64), /* issued 16 characters; [OS] varchar(64) */
};
static OBJECT(QueryTokenRequest, "QueryTokenRequest", NULL);

static const struct tcec_field QueryTokenResponse_fields[] = {
    STR("OperatorID", REQ, TFMT_OPERATOR_ID, 9, 9),
    ENUM("SuccStat", REQ, zero_one),             /* 0 success, 1 failure */
    STR("AccessToken", REQ, TFMT_ID, 0, 512),    /* "" on failure */
    INT("TokenAvailableTime", REQ, 0, 31536000), /* seconds */
    INT("FailReason", REQ, 0, 99), /* 0 none, 1 no such operator, 2 bad secret, 3..99 own */
};
static OBJECT(QueryTokenResponse, "QueryTokenResponse", token_check);

static const struct tcec_field QueryStationsInfoRequest_fields[] = {
    STR("LastQueryTime", OPT, TFMT_DATETIME, 0, 19),
    INT("PageNo", OPT, 1, 1000000),
    INT("PageSize", OPT, 1, 1000),
};
static OBJECT(QueryStationsInfoRequest, "QueryStationsInfoRequest", NULL);

static const struct tcec_field QueryStationsInfoResponse_fields[] = {
    INT("PageNo", REQ, 1, 1000000),
    INT("PageCount", REQ, 0, 1000000),
    INT("ItemSize", REQ, 0, 100000000),
    OBJS("StationInfos", REQ, StationInfo, 0, 1000),
};
static OBJECT(QueryStationsInfoResponse, "QueryStationsInfoResponse", stations_page_check);

static const struct tcec_field QueryStationStatusRequest_fields[] = {
    STRS("StationIDs", REQ, TFMT_ID, 20, 1, 50),
};
static OBJECT(QueryStationStatusRequest, "QueryStationStatusRequest", NULL);

static const struct tcec_field QueryStationStatusResponse_fields[] = {
    INT("Total", REQ, 0, 50),
    OBJS("StationStatusInfos", REQ, StationStatusInfo, 0, 50),
};
static OBJECT(QueryStationStatusResponse, "QueryStationStatusResponse", status_total_check);

static const struct tcec_field QueryStationStatsRequest_fields[] = {
    STR("StationID", REQ, TFMT_ID, 1, 20),
    STR("StartTime", REQ, TFMT_DATE, 10, 10),
    STR("EndTime", REQ, TFMT_DATE, 10, 10),
};
static OBJECT(QueryStationStatsRequest, "QueryStationStatsRequest", stats_check);

static const struct tcec_field QueryStationStatsResponse_fields[] = {
    OBJ("StationStats", REQ, StationStatsInfo),
};
static OBJECT(QueryStationStatsResponse, "QueryStationStatsResponse", NULL);

static const struct tcec_field NotificationStationStatusRequest_fields[] = {
    OBJ("ConnectorStatusInfo", REQ, ConnectorStatusInfo),
};
static OBJECT(NotificationStationStatusRequest, "NotificationStationStatusRequest", NULL);

static const struct tcec_field NotificationStationInfoRequest_fields[] = {
    OBJ("StationInfo", REQ, StationInfo),
};
static OBJECT(NotificationStationInfoRequest, "NotificationStationInfoRequest", NULL);

/* notification_stationStatus / notification_stationInfo answer {"Status": 0 accepted, 1 not} */
static const struct tcec_field NotificationStatus_fields[] = {
    ENUM("Status", REQ, zero_one),
};
static OBJECT(NotificationStatus, "NotificationStatus", NULL);

const struct tcec_interface tcec_interfaces[] = {
    {"query_token", &QueryTokenRequest, &QueryTokenResponse},
    {"query_stations_info", &QueryStationsInfoRequest, &QueryStationsInfoResponse},
    {"query_station_status", &QueryStationStatusRequest, &QueryStationStatusResponse},
    {"query_station_stats", &QueryStationStatsRequest, &QueryStationStatsResponse},
    {"notification_stationStatus", &NotificationStationStatusRequest, &NotificationStatus},
    {"notification_stationInfo", &NotificationStationInfoRequest, &NotificationStatus},
    {"notification_charge_order_info", &ChargeOrderInfo, &ChargeOrderConfirm},
};
const size_t tcec_interfaces_count = ARRAY_LEN(tcec_interfaces);

const struct tcec_object *const tcec_objects[] = {
    &StationInfo,
    &EquipmentInfo,
    &ConnectorInfo,
    &ConnectorStatusInfo,
    &StationStatusInfo,
    &StationStatsInfo,
    &EquipmentStatsInfo,
    &ConnectorStatsInfo,
    &ChargeOrderInfo,
    &ChargeDetail,
    &ChargeOrderConfirm,
    &QueryTokenRequest,
    &QueryTokenResponse,
    &QueryStationsInfoRequest,
    &QueryStationsInfoResponse,
    &QueryStationStatusRequest,
    &QueryStationStatusResponse,
    &QueryStationStatsRequest,
    &QueryStationStatsResponse,
    &NotificationStationStatusRequest,
    &NotificationStationInfoRequest,
    &NotificationStatus,
};
const size_t tcec_objects_count = ARRAY_LEN(tcec_objects);

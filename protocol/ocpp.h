/* OCPP-J (1.6 and 2.0.1): frames [2|3|4, uniqueId, ...] parsed and built, and payloads validated
 * against the official OCA JSON schemas of every action, requests and responses. Pure code, no
 * I/O; JSON values are jansson's.
 *
 * Every failure is a `enum ocpp_fail`; ocpp_error_code() turns it into the CALLERROR code the
 * negotiated version mandates (the table and its reasons are in ocpp_frame.c). */
#ifndef EVGATE_OCPP_H
#define EVGATE_OCPP_H

#include <jansson.h>
#include <stddef.h>

enum ocpp_version { OCPP_V16 = 0, OCPP_V201 = 1 };

enum ocpp_msg_type { OCPP_CALL = 2, OCPP_CALLRESULT = 3, OCPP_CALLERROR = 4 };

/* Which payload of an action: the CALL's (".req") or the CALLRESULT's (".conf"). */
enum ocpp_kind { OCPP_REQUEST = 0, OCPP_RESPONSE = 1 };

/* What went wrong, framing first, then the schema keyword a payload broke. */
enum ocpp_fail {
    OCPP_OK = 0,
    /* framing */
    OCPP_F_NOT_JSON,           /* not JSON text (also: too deep, bad UTF-8, number overflow) */
    OCPP_F_NOT_ARRAY,          /* JSON, but not a non-empty array */
    OCPP_F_BAD_TYPE_ID,        /* messageTypeId is not an integer */
    OCPP_F_UNKNOWN_TYPE,       /* messageTypeId is an integer other than 2, 3, 4 */
    OCPP_F_BAD_ID,             /* uniqueId missing, not a string, empty or over 36 characters */
    OCPP_F_INCOMPLETE,         /* fewer elements than the message type has */
    OCPP_F_EXTRA_ELEMENTS,     /* more elements than the message type has */
    OCPP_F_BAD_ELEMENT,        /* action, errorCode or errorDescription not a string, or
                                * errorDetails not an object */
    OCPP_F_PAYLOAD_NOT_OBJECT, /* the payload is not a JSON object */
    /* validation */
    OCPP_F_UNKNOWN_ACTION, /* no such action in this version */
    OCPP_F_TYPE,           /* "type" */
    OCPP_F_REQUIRED,       /* "required": path names the missing property */
    OCPP_F_ADDITIONAL,     /* "additionalProperties": false; path names the extra property */
    OCPP_F_ENUM,           /* "enum" */
    OCPP_F_MAX_LENGTH,     /* "maxLength" (characters, i.e. code points) */
    OCPP_F_MINIMUM,        /* "minimum" */
    OCPP_F_MAXIMUM,        /* "maximum" */
    OCPP_F_MULTIPLE_OF,    /* "multipleOf" */
    OCPP_F_FORMAT,         /* "format": date-time (RFC 3339) or uri (RFC 3986) */
    OCPP_F_MIN_ITEMS,      /* "minItems" */
    OCPP_F_MAX_ITEMS,      /* "maxItems" */
    OCPP_F_COUNT
};

#define OCPP_ID_MAX   36                    /* uniqueId, characters */
#define OCPP_ID_BYTES (OCPP_ID_MAX * 4 + 1) /* its UTF-8 with the NUL */
#define OCPP_PATH_MAX 256 /* bytes of a JSON path with its NUL; longer paths end in "..." */

/* A failure: what, where, and the uniqueId to answer with. */
struct ocpp_error {
    enum ocpp_fail fail;
    const char *code;         /* CALLERROR code for the version: "FormationViolation", ... */
    const char *keyword;      /* JSON Schema keyword ("type", ...), "frame" or "action" */
    char path[OCPP_PATH_MAX]; /* "$.meterValue[0].sampledValue[1].measurand"; "" for framing */
    char reason[160];         /* English, one line, ASCII */
    char id[OCPP_ID_BYTES];   /* the frame's uniqueId, or "-1" when it could not be read */
};

/* A parsed frame. Strings and json_t pointers are borrowed from `root`, which the frame owns:
 * valid until ocpp_frame_clear(). */
struct ocpp_frame {
    enum ocpp_msg_type type;
    char id[OCPP_ID_BYTES];
    const char *action;            /* CALL */
    json_t *payload;               /* CALL, CALLRESULT: an object */
    const char *error_code;        /* CALLERROR */
    const char *error_description; /* CALLERROR */
    json_t *error_details;         /* CALLERROR: an object */
    json_t *root;
};

/* "ocpp1.6" -> OCPP_V16, "ocpp2.0.1" -> OCPP_V201; -1 for anything else. */
int ocpp_version_from_subprotocol(const char *subprotocol);

/* The CALLERROR code `fail` maps to in `version` ("" for OCPP_OK). Static storage. */
const char *ocpp_error_code(enum ocpp_version version, enum ocpp_fail fail);

/* Parses one text frame of `len` bytes (need not be NUL-terminated). Checks the OCPP-J
 * structure only, not the payload against its schema (ocpp_validate() does). On success fills
 * *frame (caller calls ocpp_frame_clear()) and returns 0. Otherwise returns -1, leaves *frame
 * empty (clearing it is harmless) and fills *err: err->id is the uniqueId when it could be read
 * and is valid, else "-1". err may be NULL. Numbers beyond what jansson holds (integers past
 * int64, reals past double) make the frame OCPP_F_NOT_JSON. */
int ocpp_frame_parse(enum ocpp_version version, const char *text, size_t len,
                     struct ocpp_frame *frame, struct ocpp_error *err);

/* Releases frame->root and empties *frame. */
void ocpp_frame_clear(struct ocpp_frame *frame);

/* Builders: compact JSON text, NUL-terminated; caller frees (free()). NULL on a bad argument
 * (id not 1..36 characters, action empty, payload or details not an object) or out of memory.
 * payload/details are borrowed; details NULL means {}. */
char *ocpp_build_call(const char *id, const char *action, const json_t *payload);
char *ocpp_build_result(const char *id, const json_t *payload);
char *ocpp_build_error(const char *id, const char *code, const char *description,
                       const json_t *details);

/* The CALLERROR answering failure *err in `version`: err->id, the version's code, reason as
 * description (cut to 255 bytes on a UTF-8 boundary) and details {"path": ...} when there is a
 * path. Caller frees; NULL when err->fail is OCPP_OK or out of memory. */
char *ocpp_build_error_for(enum ocpp_version version, const struct ocpp_error *err);

/* Validates `payload` as the request or response of `action` in `version`, exactly as the
 * official schema says. Returns 0 when valid; otherwise -1 with *err filled (the first failure
 * found: type, then required properties in schema order, then properties in document order,
 * depth first; err->id is left as it was). err may be NULL. An "integer" may be a JSON real
 * with an integral value (1.0), as in JSON Schema: read such fields with json_number_value(). */
int ocpp_validate(enum ocpp_version version, const char *action, enum ocpp_kind kind,
                  const json_t *payload, struct ocpp_error *err);

/* 1 when `version` defines `action`, else 0. */
int ocpp_action_known(enum ocpp_version version, const char *action);

/* The actions of `version` in strcmp order: names[i] for i < returned count. Static storage. */
size_t ocpp_action_count(enum ocpp_version version);
const char *ocpp_action_name(enum ocpp_version version, size_t i);

/* The actions the central system sends to a charge point in `version` (DataTransfer included,
 * which goes both ways), in strcmp order: names[i] for i < returned count (ocpp_actions.c). */
size_t ocpp_to_cp_count(enum ocpp_version version);
const char *ocpp_to_cp_name(enum ocpp_version version, size_t i);
/* The static name of `action` when the central system sends it in `version`, else NULL. */
const char *ocpp_to_cp(enum ocpp_version version, const char *action);

/* Format checks used by the validator, exposed for tests and for the gateway's own values. */
int ocpp_is_date_time(const char *s, size_t len); /* RFC 3339 date-time with an offset */
int ocpp_is_uri(const char *s, size_t len);       /* RFC 3986 URI (absolute, with a scheme) */

#endif

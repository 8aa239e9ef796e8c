/* OCPP-J framing: parsing [2|3|4, uniqueId, ...] text frames, building them, and the table that
 * maps every failure to the CALLERROR code each version mandates. */
#include "protocol/ocpp.h"

#include "protocol/jsonfast.h"
#include "protocol/ocpp_schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Failure -> CALLERROR code, decided from each version's own wording:
 *
 * OCPP-J 1.6 §4.2.3 defines NotImplemented, NotSupported, InternalError, ProtocolError ("payload
 * for Action is incomplete"), SecurityError, FormationViolation ("syntactically incorrect or not
 * conform the PDU structure for Action"), PropertyConstraintViolation ("a field contains an
 * invalid value"), OccurenceConstraintViolation (sic, "violates occurence constraints"),
 * TypeConstraintViolation ("violates data type constraints") and GenericError.
 * OCPP-J 2.0.1 (Part 4 §4.3) renames FormationViolation to FormatViolation ("syntactically
 * incorrect"), spells OccurrenceConstraintViolation, gives ProtocolError "not conform the PDU
 * structure", and adds RpcFrameworkError ("not a valid RPC request, e.g. MessageId could not be
 * read", answered with uniqueId "-1") and MessageTypeNotSupported.
 *
 * | failure                        | 1.6                          | 2.0.1                        |
 * |--------------------------------|------------------------------|------------------------------|
 * | not JSON, too deep             | FormationViolation           | RpcFrameworkError            |
 * | not an array                   | FormationViolation           | RpcFrameworkError            |
 * | messageTypeId not an integer   | FormationViolation           | RpcFrameworkError            |
 * | messageTypeId not 2, 3, 4      | FormationViolation (1.6 has  | MessageTypeNotSupported      |
 * |                                |  no closer code)             |                              |
 * | uniqueId unreadable/over 36    | FormationViolation           | RpcFrameworkError            |
 * | too few elements               | ProtocolError ("incomplete") | RpcFrameworkError            |
 * | too many elements, bad element | FormationViolation           | RpcFrameworkError            |
 * | payload not an object          | FormationViolation           | FormatViolation              |
 * | unknown action                 | NotImplemented               | NotImplemented               |
 * | schema: type                   | TypeConstraintViolation      | TypeConstraintViolation      |
 * | schema: required               | OccurenceConstraintViolation | OccurrenceConstraintViolation|
 * | schema: minItems, maxItems     | OccurenceConstraintViolation | OccurrenceConstraintViolation|
 * | schema: additionalProperties   | FormationViolation           | ProtocolError                |
 * | schema: enum, maxLength,       | PropertyConstraintViolation  | PropertyConstraintViolation  |
 * |  minimum, maximum, multipleOf, |                              |                              |
 * |  format                        |                              |                              |
 *
 * An unknown property is a payload that does not follow the message's PDU structure: 1.6 says
 * FormationViolation for that, 2.0.1 ProtocolError (its FormatViolation is only "syntactically
 * incorrect"). Array sizes are the cardinality (occurrence) of a repeated field. When the
 * uniqueId cannot be read or is invalid both versions answer with "-1" (2.0.1 mandates it; 1.6
 * says nothing, and echoing an invalid id would make the answer invalid too). NotSupported (an
 * action known but not handled, e.g. one meant for the other side) is the gateway's to send. */
static const struct {
    const char *v16, *v201, *keyword;
} codes[OCPP_F_COUNT] = {
    [OCPP_OK] = {"", "", ""},
    [OCPP_F_NOT_JSON] = {"FormationViolation", "RpcFrameworkError", "frame"},
    [OCPP_F_NOT_ARRAY] = {"FormationViolation", "RpcFrameworkError", "frame"},
    [OCPP_F_BAD_TYPE_ID] = {"FormationViolation", "RpcFrameworkError", "frame"},
    [OCPP_F_UNKNOWN_TYPE] = {"FormationViolation", "MessageTypeNotSupported", "frame"},
    [OCPP_F_BAD_ID] = {"FormationViolation", "RpcFrameworkError", "frame"},
    [OCPP_F_INCOMPLETE] = {"ProtocolError", "RpcFrameworkError", "frame"},
    [OCPP_F_EXTRA_ELEMENTS] = {"FormationViolation", "RpcFrameworkError", "frame"},
    [OCPP_F_BAD_ELEMENT] = {"FormationViolation", "RpcFrameworkError", "frame"},
    [OCPP_F_PAYLOAD_NOT_OBJECT] = {"FormationViolation", "FormatViolation", "frame"},
    [OCPP_F_UNKNOWN_ACTION] = {"NotImplemented", "NotImplemented", "action"},
    [OCPP_F_TYPE] = {"TypeConstraintViolation", "TypeConstraintViolation", "type"},
    [OCPP_F_REQUIRED] = {"OccurenceConstraintViolation", "OccurrenceConstraintViolation",
                         "required"},
    [OCPP_F_ADDITIONAL] = {"FormationViolation", "ProtocolError", "additionalProperties"},
    [OCPP_F_ENUM] = {"PropertyConstraintViolation", "PropertyConstraintViolation", "enum"},
    [OCPP_F_MAX_LENGTH] = {"PropertyConstraintViolation", "PropertyConstraintViolation",
                           "maxLength"},
    [OCPP_F_MINIMUM] = {"PropertyConstraintViolation", "PropertyConstraintViolation", "minimum"},
    [OCPP_F_MAXIMUM] = {"PropertyConstraintViolation", "PropertyConstraintViolation", "maximum"},
    [OCPP_F_MULTIPLE_OF] = {"PropertyConstraintViolation", "PropertyConstraintViolation",
                            "multipleOf"},
    [OCPP_F_FORMAT] = {"PropertyConstraintViolation", "PropertyConstraintViolation", "format"},
    [OCPP_F_MIN_ITEMS] = {"OccurenceConstraintViolation", "OccurrenceConstraintViolation",
                          "minItems"},
    [OCPP_F_MAX_ITEMS] = {"OccurenceConstraintViolation", "OccurrenceConstraintViolation",
                          "maxItems"},
};

int ocpp_version_from_subprotocol(const char *subprotocol)
{
    if (!subprotocol)
        return -1;
    if (!strcmp(subprotocol, "ocpp1.6"))
        return OCPP_V16;
    if (!strcmp(subprotocol, "ocpp2.0.1"))
        return OCPP_V201;
    return -1;
}

const char *ocpp_error_code(enum ocpp_version version, enum ocpp_fail fail)
{
    if ((int)fail < 0 || fail >= OCPP_F_COUNT)
        return "GenericError";
    return version == OCPP_V201 ? codes[fail].v201 : codes[fail].v16;
}

void ocpp_fail_set(enum ocpp_version version, struct ocpp_error *err, enum ocpp_fail fail,
                   const char *fmt, ...)
{
    if (!err)
        return;
    err->fail = fail;
    err->code = ocpp_error_code(version, fail);
    err->keyword = codes[fail].keyword;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->reason, sizeof err->reason, fmt, ap);
    va_end(ap);
    /* jansson's messages may quote the frame's bytes: keep the reason printable ASCII */
    for (char *c = err->reason; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7E)
            *c = '?';
}

static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* A uniqueId: a string of 1 to 36 characters. Copies it into out (OCPP_ID_BYTES bytes). */
static int read_id(const json_t *v, char *out)
{
    if (!json_is_string(v))
        return -1;
    size_t len = json_string_length(v);
    const char *s = json_string_value(v);
    if (len == 0 || len >= OCPP_ID_BYTES || memchr(s, 0, len) || utf8_chars(s, len) > OCPP_ID_MAX)
        return -1;
    memcpy(out, s, len + 1);
    return 0;
}

/* messageTypeId: a JSON number with an integral value (2 or 2.0, as JSON has one number type). */
static int read_type(const json_t *v, long long *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d >= -1e9 && d <= 1e9 && (double)(long long)d == d) {
            *out = (long long)d;
            return 0;
        }
    }
    return -1;
}

void ocpp_frame_clear(struct ocpp_frame *frame)
{
    if (!frame)
        return;
    json_decref(frame->root);
    memset(frame, 0, sizeof *frame);
}

int ocpp_frame_parse(enum ocpp_version version, const char *text, size_t len,
                     struct ocpp_frame *frame, struct ocpp_error *err)
{
    memset(frame, 0, sizeof *frame);
    if (err) {
        memset(err, 0, sizeof *err);
        strcpy(err->id, "-1");
    }
    json_error_t jerr;
    json_t *root = text ? jsonfast_loadb(text, len, JSON_DECODE_ANY, &jerr) : NULL;
    long long type = 0;
    size_t want = 0;
    if (!root) {
        ocpp_fail_set(version, err, OCPP_F_NOT_JSON, "not JSON: %s", text ? jerr.text : "no text");
        goto fail;
    }
    if (!json_is_array(root) || json_array_size(root) == 0) {
        ocpp_fail_set(version, err, OCPP_F_NOT_ARRAY, "a frame is a non-empty JSON array");
        goto fail;
    }
    size_t n = json_array_size(root);
    if (read_type(json_array_get(root, 0), &type) < 0) {
        if (n > 1 && err && read_id(json_array_get(root, 1), frame->id) == 0)
            strcpy(err->id, frame->id);
        ocpp_fail_set(version, err, OCPP_F_BAD_TYPE_ID, "messageTypeId is not an integer");
        goto fail;
    }
    if (n < 2 || read_id(json_array_get(root, 1), frame->id) < 0) {
        ocpp_fail_set(version, err, OCPP_F_BAD_ID, "uniqueId is not a string of 1 to %d characters",
                      OCPP_ID_MAX);
        goto fail;
    }
    if (err)
        strcpy(err->id, frame->id);
    switch (type) {
    case OCPP_CALL:
        want = 4;
        break;
    case OCPP_CALLRESULT:
        want = 3;
        break;
    case OCPP_CALLERROR:
        want = 5;
        break;
    default:
        ocpp_fail_set(version, err, OCPP_F_UNKNOWN_TYPE, "messageTypeId %lld is not 2, 3 or 4",
                      type);
        goto fail;
    }
    if (n != want) {
        ocpp_fail_set(version, err, n < want ? OCPP_F_INCOMPLETE : OCPP_F_EXTRA_ELEMENTS,
                      "messageTypeId %lld takes %zu elements, not %zu", type, want, n);
        goto fail;
    }
    frame->type = (enum ocpp_msg_type)type;
    if (type == OCPP_CALL) {
        json_t *action = json_array_get(root, 2);
        if (!json_is_string(action)) {
            ocpp_fail_set(version, err, OCPP_F_BAD_ELEMENT, "action is not a string");
            goto fail;
        }
        frame->action = json_string_value(action);
    }
    if (type == OCPP_CALL || type == OCPP_CALLRESULT) {
        frame->payload = json_array_get(root, n - 1);
        if (!json_is_object(frame->payload)) {
            ocpp_fail_set(version, err, OCPP_F_PAYLOAD_NOT_OBJECT, "payload is not an object");
            goto fail;
        }
    } else {
        json_t *code = json_array_get(root, 2), *desc = json_array_get(root, 3);
        frame->error_details = json_array_get(root, 4);
        if (!json_is_string(code) || !json_is_string(desc) ||
            !json_is_object(frame->error_details)) {
            ocpp_fail_set(version, err, OCPP_F_BAD_ELEMENT,
                          "a CALLERROR is [4, id, code, description, {details}]");
            goto fail;
        }
        frame->error_code = json_string_value(code);
        frame->error_description = json_string_value(desc);
    }
    frame->root = root;
    return 0;
fail:
    json_decref(root);
    memset(frame, 0, sizeof *frame);
    return -1;
}

static int id_ok(const char *id)
{
    size_t len = id ? strlen(id) : 0;
    return len > 0 && utf8_chars(id, len) <= OCPP_ID_MAX;
}

/* The frame as compact text (caller frees), consuming `frame`. Through a buffer on the stack:
 * json_dumps grows its own by doubling and then copies it, four allocations for a short
 * answer on the gateway's hot path. */
static char *dump(json_t *frame)
{
    char buf[1024];
    size_t n = frame ? json_dumpb(frame, buf, sizeof buf, JSON_COMPACT) : 0;
    char *text = n > 0 && n < sizeof buf ? strndup(buf, n)
                 : frame                 ? json_dumps(frame, JSON_COMPACT)
                                         : NULL;
    json_decref(frame);
    return text;
}

char *ocpp_build_call(const char *id, const char *action, const json_t *payload)
{
    if (!id_ok(id) || !action || !*action || !json_is_object(payload))
        return NULL;
    return dump(json_pack("[i,s,s,O]", OCPP_CALL, id, action, (json_t *)payload));
}

/* Whether jansson writes s as itself between two quotes (JSON_COMPACT, neither
 * JSON_ENSURE_ASCII nor JSON_ESCAPE_SLASH): printable ASCII without '"' and '\\'. */
static int plain_string(const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c > 0x7e || *c == '"' || *c == '\\')
            return 0;
    return 1;
}

/* The gateway answers every stored CALL through here, and json_dumpb of the whole array costs
 * about 5 000 instructions for "[3,\"id\",{}]" (jansson formats 3 with snprintf and guards each
 * array and object against cycles with a "%p" key in a hashtable). Where the id needs no
 * escape, the answer is the payload as jansson writes it (an empty object is "{}" without
 * asking) between the id's quotes and the closing bracket; otherwise jansson writes it all.
 * Both give the same bytes: test_ocpp and fuzz_ocpp_frame compare them. */
char *ocpp_build_result(const char *id, const json_t *payload)
{
    _Static_assert(OCPP_CALLRESULT >= 0 && OCPP_CALLRESULT <= 9, "one digit");
    if (!id_ok(id) || !json_is_object(payload))
        return NULL;
    char body[1024];
    size_t n = 0; /* the payload's text in body; 0: jansson writes the whole answer */
    if (plain_string(id)) {
        if (json_object_size(payload) == 0)
            memcpy(body, "{}", n = 2);
        else
            n = json_dumpb(payload, body, sizeof body, JSON_COMPACT);
    }
    if (n == 0 || n >= sizeof body)
        return dump(json_pack("[i,s,O]", OCPP_CALLRESULT, id, (json_t *)payload));
    size_t id_len = strlen(id);
    char *text = malloc(id_len + n + 8); /* [3," id ", body ] NUL */
    if (!text)
        return NULL;
    char *at = text;
    *at++ = '[';
    *at++ = (char)('0' + OCPP_CALLRESULT);
    *at++ = ',';
    *at++ = '"';
    memcpy(at, id, id_len);
    at += id_len;
    *at++ = '"';
    *at++ = ',';
    memcpy(at, body, n);
    at += n;
    *at++ = ']';
    *at = 0;
    return text;
}

char *ocpp_build_error(const char *id, const char *code, const char *description,
                       const json_t *details)
{
    /* "-1" is the id of an answer to a frame whose id could not be read */
    if (!id_ok(id) || !code || !*code || !description || (details && !json_is_object(details)))
        return NULL;
    json_t *d = details ? json_incref((json_t *)details) : json_object();
    return dump(json_pack("[i,s,s,s,o]", OCPP_CALLERROR, id, code, description, d));
}

char *ocpp_build_error_for(enum ocpp_version version, const struct ocpp_error *err)
{
    if (!err || err->fail == OCPP_OK || err->fail >= OCPP_F_COUNT)
        return NULL;
    /* reasons are ASCII and shorter than 2.0.1's 255-character errorDescription */
    json_t *details = json_object();
    if (details && err->path[0])
        json_object_set_new(details, "path", json_string(err->path));
    char *text = ocpp_build_error(id_ok(err->id) ? err->id : "-1",
                                  ocpp_error_code(version, err->fail), err->reason, details);
    json_decref(details);
    return text;
}

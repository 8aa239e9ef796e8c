/* A filter over protocol/ocpp's validator for test_ocpp_differential.mjs: reads one JSON object
 * {"version": "1.6"|"2.0.1", "action", "kind": "request"|"response", "payload"} per line and
 * writes one line per input: {"valid": true} or {"valid": false, "code", "keyword", "path"};
 * {"error": "..."} for a line it cannot read. */
#include "protocol/ocpp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        json_error_t jerr;
        json_t *in = json_loadb(line, (size_t)n, 0, &jerr), *out = NULL;
        const char *version = json_string_value(json_object_get(in, "version"));
        const char *action = json_string_value(json_object_get(in, "action"));
        const char *kind = json_string_value(json_object_get(in, "kind"));
        json_t *payload = json_object_get(in, "payload");
        if (!version || !action || !kind || !payload) {
            out = json_pack("{s:s}", "error", in ? "bad input line" : jerr.text);
        } else {
            enum ocpp_version v = strcmp(version, "2.0.1") ? OCPP_V16 : OCPP_V201;
            enum ocpp_kind k = strcmp(kind, "response") ? OCPP_REQUEST : OCPP_RESPONSE;
            struct ocpp_error err;
            memset(&err, 0, sizeof err);
            if (ocpp_validate(v, action, k, payload, &err) == 0)
                out = json_pack("{s:b}", "valid", 1);
            else
                out = json_pack("{s:b,s:s,s:s,s:s,s:s}", "valid", 0, "code", err.code, "keyword",
                                err.keyword, "path", err.path, "reason", err.reason);
        }
        char *text = json_dumps(out, JSON_COMPACT);
        printf("%s\n", text ? text : "{\"error\":\"out of memory\"}");
        free(text);
        json_decref(out);
        json_decref(in);
    }
    free(line);
    return 0;
}

/* Field rules of detection applications (docs/api-detections.md): what a draft may hold and
 * what a submission must hold. Problems are {field, code, message} details with JSON paths
 * such as "contact.mobile" or "platform.source_ips[1]". */
#ifndef EVGATE_MGMT_DETECTION_RULES_H
#define EVGATE_MGMT_DETECTION_RULES_H

#include <jansson.h>
#include <stdint.h>

/* Merges the editable fields present in `body` over `base` (may be NULL) into a new data
 * object (caller owns), keeping only known fields, each checked for its JSON type and maximum
 * size. *delegate_id is updated when `body` names delegate_detection_id (0 = null). Problems go
 * to `details`; the result is still returned (the caller refuses when details is not empty). */
json_t *detection_merge_draft(const json_t *base, const json_t *body, int64_t *delegate_id,
                              json_t *details);

/* Checks a complete application of `mode` for submission: every required field, format and
 * range. `delegate_ok` says whether delegate_id names a passed self application; `materials`
 * is the number of uploaded materials. */
void detection_check_submit(const char *mode, const json_t *data, int64_t delegate_id,
                            int delegate_ok, int64_t materials, json_t *details);

/* 1 when `s` is an IPv4/IPv6 address or CIDR block with a valid prefix length. */
int detection_valid_ip_or_cidr(const char *s);

/* 1 when `s` is an http:// or https:// URL with a host, no user info, no spaces. */
int detection_valid_base_url(const char *s);

#endif

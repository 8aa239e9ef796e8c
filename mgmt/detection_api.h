/* Helpers shared by the operator and admin handlers of detection applications. */
#ifndef EVGATE_MGMT_DETECTION_API_H
#define EVGATE_MGMT_DETECTION_API_H

#include "db/detections.h"
#include "mgmt/http.h"

/* Reads application params[0] into *h, answering 404 (also for another operator's) or 500
 * into `resp` and returning -1 when it cannot be used. */
int detection_load(struct mgmt_req *req, struct mgmt_resp *resp, struct db_detection_head *h);

/* Answers `status` with the application's API object (with its audit history). */
void detection_answer(struct mgmt_req *req, struct mgmt_resp *resp, unsigned status, int64_t id);

/* Answers 409 naming the current status and the status the action needs. */
void detection_conflict(struct mgmt_resp *resp, const char *status, const char *needed);

#endif

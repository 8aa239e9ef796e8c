/* Who is calling: session cookies with CSRF tokens, bearer API tokens, and secrets' hashing. */
#ifndef EVGATE_MGMT_AUTH_H
#define EVGATE_MGMT_AUTH_H

#include "mgmt/http.h"

#define AUTH_COOKIE "evgate_session"

/* Fills req->caller from the Authorization header or the session cookie. Returns 0 (caller
 * known or anonymous) or -1 when credentials were presented but are invalid, expired or of a
 * disabled account (the request is then unauthenticated). */
int auth_resolve(struct mgmt_req *req);

/* 1 when the cookie request carries the session's CSRF token in X-CSRF-Token. */
int auth_csrf_ok(struct mgmt_req *req);

/* Creates a session for `account_id`: stores it, sets the cookie on `resp` and writes the CSRF
 * token into csrf[65]. Returns 0 or -1. */
int auth_session_start(struct mgmt_req *req, struct mgmt_resp *resp, int64_t account_id,
                       char csrf[65]);

/* Ends the caller's session (if any) and clears the cookie. */
void auth_session_end(struct mgmt_req *req, struct mgmt_resp *resp);

/* Fills out[2*n+1] with n random bytes in hex. Returns 0 or -1. */
int auth_random_hex(char *out, size_t n);

/* out[65] = hex sha256 of `s`. */
void auth_sha256_hex(const char *s, size_t len, char out[65]);

#endif

/* What a tcec102-platform conformance run reads (gateway/conform_tcec.c, docs/conformance.md):
 * the stations, piles and connectors registered in evgate for the platform under test, and what
 * the platform sent evgate (the inbound exchanges gateway/tcec_serve.c logs). Read-only; no
 * secret column is read. Strings passed in are borrowed; JSON results are the caller's. */
#ifndef EVGATE_DB_TCEC_RUNS_H
#define EVGATE_DB_TCEC_RUNS_H

#include "db/db.h"

#include <jansson.h>
#include <stdint.h>

/* Most stations, piles and connectors of one platform a run compares. */
#define DB_TCEC_RUN_STATIONS_MAX   10000
#define DB_TCEC_RUN_PILES_MAX      100000
#define DB_TCEC_RUN_CONNECTORS_MAX 400000

/* The platform's stations registered in evgate: the `accessed` stations of the account of
 * detection `detection_id` and of every account whose approved `delegated` detection names a
 * detection of that account (docs/tcec.md "Ownership", as db_tcec_station_owned decides it), with
 * their accessed piles and those piles' connectors. Into *out a JSON array in StationID order of
 * {station_id, account_id, data, piles: [{equipment_id, data, connectors: [{connector_id,
 * ocpp_connector_id, data}]}]}, piles in EquipmentID order and connectors in connector order,
 * each `data` the record's stored object (canonical values, docs/api-records.md). An unknown
 * detection gives []. DB_CONFLICT (and nothing in *out) when there are more than the limits
 * above. */
int db_tcec_run_stations(struct db *db, int64_t detection_id, json_t **out);

/* The requests `operator_id` sent evgate (direction `in`) received at or after `since` (epoch
 * seconds) with an id above `after_id`, oldest first, at most `limit`: into *out a JSON array
 * of {id, interface, at, ret (or null), msg, reason (or null), request, response (the stored,
 * redacted payload texts, or null), sent_at (the request's TimeStamp in epoch seconds, or
 * null)}. */
int db_tcec_run_inbound(struct db *db, const char *operator_id, int64_t since, int64_t after_id,
                        int64_t limit, json_t **out);

#endif

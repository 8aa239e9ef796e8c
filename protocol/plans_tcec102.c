/* Plan `tcec102-platform`: the checks of an operator platform over T/CEC 102, in the order the
 * engine runs them. evgate calls the platform with gateway/tcec_client.c's call layer (its own
 * OperatorID, the detection's live credentials) and observes what the platform sends to
 * gateway/tcec_serve.c; the rules are docs/tcec.md's (envelope, Ret codes, data dictionary).
 * No public certification suite exists for T/CEC 102 that we could read: the checks and ids are
 * our own. "the platform's stations" are the accessed stations of the detection's account and of
 * the accounts it reports for (docs/tcec.md "Ownership"). */
#include "protocol/plans_private.h"

const struct plan_check plan_tcec102_platform[] = {
    {"token.evgate-obtains", "evgate 向运营商平台获取令牌",
     "evgate obtains a token from the platform",
     "Calls the platform's query_token with evgate's OperatorID and the OperatorSecret; expects "
     "HTTP 200, Ret 0, SuccStat 0, a non-empty AccessToken and TokenAvailableTime > 0 (Sig and "
     "Data are judged by crypto.answer-*); fails on no answer, another Ret or SuccStat 1",
     REQ, NONE, 60},
    {"token.bad-secret", "用错误密钥申请令牌时被拒绝", "query_token with a wrong secret refused",
     "Calls query_token with a wrong OperatorSecret; expects SuccStat 1, FailReason 2 and an empty "
     "AccessToken; fails when a token is issued or FailReason is not 2",
     REQ, NONE, 60},
    {"stations.paging", "充电站信息分页正确", "query_stations_info pages correctly",
     "Calls query_stations_info with PageSize 2 from PageNo 1 to PageCount; expects each PageNo "
     "echoed, PageCount = ceil(ItemSize / 2) (0 or 1 when ItemSize is 0), at most 2 stations a "
     "page and every StationID once "
     "across pages; fails naming the page and the rule broken",
     REQ, NONE, 120},
    {"stations.dictionary", "充电站信息符合数据字典", "Station info follows the data dictionary",
     "Every StationInfo (with its EquipmentInfos and ConnectorInfos) of those pages passes the "
     "data dictionary's rules (tcec_validate); fails naming the first field broken, with its path "
     "and value",
     REQ, NONE, 10},
    {"stations.registered", "充电站信息与 evgate 登记的一致",
     "Station info matches what is registered in evgate",
     "The stations returned are exactly the platform's stations registered in evgate, and each "
     "station, pile and connector field (names, area code, address, type, coordinates, power, "
     "voltages, current, standard...) equals the registered value; fails naming ID, field, both "
     "values",
     REQ, NONE, 10},
    {"status.query", "查询充电站状态", "query_station_status",
     "Calls query_station_status for the platform's StationIDs, 50 a call; expects Ret 0, a "
     "payload following the dictionary, Total = the StationStatusInfos returned, and a status for "
     "every registered connector of each station; fails naming the station or connector",
     REQ, NONE, 120},
    {"stats.query", "查询充电站统计信息", "query_station_stats",
     "Calls query_station_stats for each station for the previous day (China Standard Time); "
     "expects Ret 0, a payload following the dictionary, the StationID and dates echoed and only "
     "registered piles and connectors; fails naming the station and the rule broken",
     REQ, NONE, 180},
    {"crypto.answer-signed", "应答签名正确", "The platform's answers are signed correctly",
     "Over every answer of the run so far: Sig equals upper-case hex HMAC-MD5(SigSecret, Ret + Msg "
     "+ Data); fails naming the first interface whose answer's Sig differs",
     REQ, NONE, 10},
    {"crypto.answer-encrypted", "应答数据加密正确",
     "The platform's answers are encrypted correctly",
     "Over every answer of the run so far: Data is Base64 of AES-128-CBC with DataSecret and "
     "DataSecretIV (PKCS#7) and decrypts to a JSON object; fails naming the first interface whose "
     "Data does not",
     REQ, NONE, 10},
    {"token.platform-obtains", "运营商平台向 evgate 获取令牌",
     "The platform obtains a token from evgate",
     "Waits for the platform to call evgate's query_token (one since the run was queued counts) "
     "and be issued a token (SuccStat 0); fails when no call comes in time or each was refused, "
     "naming evgate's reason",
     REQ, NONE, 300},
    {"crypto.request-signed", "推送请求签名正确", "The platform's requests are signed correctly",
     "Over every request the platform sent evgate since the run was queued (waiting for one): Sig "
     "equals HMAC-MD5(SigSecret, OperatorID + Data + TimeStamp + Seq); fails on a request evgate "
     "refused with 4001",
     REQ, NONE, 300},
    {"crypto.request-encrypted", "推送请求数据加密正确",
     "The platform's requests are encrypted correctly",
     "Over the same requests: Data is Base64 of whole AES-128 blocks and decrypts with DataSecret "
     "and DataSecretIV to a JSON object; fails on a request evgate refused for its Data (4003 "
     "base64, 4004 decrypt or json)",
     REQ, NONE, 300},
    {"push.station-status", "充电枪状态变化及时推送", "Status changes pushed in time",
     "Someone makes a connector of the platform's piles change state; expects "
     "notification_stationStatus accepted by evgate (Ret 0) with a TimeStamp at most 60 s before "
     "it arrived; fails on a push evgate refused (naming why) or a late one",
     REQ, PERSON, 300},
    {"push.station-info", "推送充电站信息", "Station info pushed",
     "Expects notification_stationInfo for one of the platform's stations, accepted by evgate "
     "(Ret 0); fails on a push evgate refused, naming why, or none in time",
     OPT, NONE, 300},
    {"push.charge-order", "推送充电订单", "Charge order pushed",
     "Someone ends a charging session at one of the platform's piles; expects "
     "notification_charge_order_info accepted by evgate (Ret 0, ConfirmResult 0); fails on a push "
     "evgate refused (naming why) or a disputed one",
     REQ, PERSON, 600},
    {"token.platform-uses", "推送时使用有效令牌", "The platform uses a live token",
     "Over every request the platform sent evgate during the run: none refused with 4002 (a "
     "missing, unknown, expired or revoked AccessToken); fails naming the first refusal and its "
     "reason",
     REQ, NONE, 10},
    {"neg.bad-signature", "签名错误的请求被拒绝（4001）", "A bad signature is refused with 4001",
     "Calls query_stations_info{PageNo:1, PageSize:1} with a valid token but a Sig made with "
     "another SigSecret; expects Ret 4001 and no stations; fails on Ret 0 or another Ret",
     REQ, NONE, 60},
    {"neg.wrong-token", "令牌错误的请求被拒绝（4002）", "A wrong token is refused with 4002",
     "Calls query_stations_info{PageNo:1, PageSize:1}, correctly signed, with Authorization: "
     "Bearer "
     "and a token the platform never issued; expects Ret 4002; fails on Ret 0 or another Ret",
     REQ, NONE, 60},
    {"neg.malformed-body", "格式错误的请求被拒绝（4003）", "A malformed body is refused with 4003",
     "Calls query_stations_info with a valid token, first with an envelope that lacks Seq, then "
     "with a body that is not JSON; expects Ret 4003 to both; fails on Ret 0 or another Ret",
     REQ, NONE, 60},
    {"neg.bad-payload", "业务参数错误的请求被拒绝（4004）", "A bad payload is refused with 4004",
     "Calls query_station_status, correctly signed and encrypted, with StationIDs [] (the "
     "dictionary asks for 1 to 50); expects Ret 4004; fails on Ret 0 or another Ret",
     OPT, NONE, 60},
};

const size_t plan_tcec102_platform_n =
    sizeof plan_tcec102_platform / sizeof plan_tcec102_platform[0];

/* Plan `ocpp16-core`: the checks of an OCPP 1.6J pile, in the order the engine runs them.
 *
 * Modelled on the OCA's OCPP 1.6 certification test cases (the Compliancy Testing Tool's test
 * case document, read as published one case per page at ocpplab.com/docs/protocols/ocpp-1-6/
 * test-cases/, "Trial 2025-06"; and the CSMS list in steve-community/steve pull request #2024).
 * The TC_ ids below are only those we saw there; our ids are our own. evgate plays the central
 * system of those cases with the pile as system under test, but does not configure the pile
 * beforehand as the tool does: a check reads what it needs (GetConfiguration) or sets it and puts
 * it back. Connectors are the pile's registered ones, 1..n; "EVGATE-CONFORM" is the run's idTag. */
#include "protocol/plans_private.h"

const struct plan_check plan_ocpp16_core[] = {
    /* TC_001_CS Cold Boot Charge Point (the tool power-cycles; we reset, or a person does) */
    {"boot.first-message", "冷启动后首条消息为 BootNotification",
     "Cold boot: BootNotification comes first",
     "Sends Reset{type:Hard} (or a person power-cycles the pile); the first CALL on the new "
     "connection must be a BootNotification, answered Accepted; fails on another first action, or "
     "no BootNotification in time",
     REQ, NONE, 300},
    {"boot.status-all-connectors", "启动后上报整桩（0 号）和每个充电枪的状态",
     "After boot: StatusNotification for connector 0 and every connector",
     "After the accepted BootNotification expects a StatusNotification for connectorId 0 and for "
     "each registered connector 1..n; fails naming the connectors not reported in time or a "
     "connectorId the pile does not have",
     REQ, NONE, 120},
    /* TC_001_CS step 7: a Heartbeat every interval */
    {"heartbeat.interval", "按设定间隔发送心跳", "Heartbeat kept at the interval",
     "Sets HeartbeatInterval to H = conform_heartbeat_s (30 by default) with ChangeConfiguration "
     "(the old value is put back after), then expects a Heartbeat.req within 1.2 H of the change "
     "and a second one 0.8 H to 1.2 H after the first; fails when the change is refused, a "
     "Heartbeat is missing or the gap is outside 0.8 H-1.2 H",
     REQ, NONE, 150},
    /* TC_019_CS Retrieve configuration */
    {"config.get-all", "读取全部配置项，必备项齐全",
     "GetConfiguration: every key, the Core keys present",
     "Sends GetConfiguration without keys; expects configurationKey to hold every key the Core "
     "profile requires, SupportedFeatureProfiles to contain Core and NumberOfConnectors to equal "
     "the registered connectors; fails naming a missing key or the mismatch",
     REQ, NONE, 60},
    {"config.get-unknown", "读取不存在的配置项时如实说明", "GetConfiguration of an unknown key",
     "Sends GetConfiguration{key:[\"EvgateUnknownKey\"]}; expects unknownKey to list exactly that "
     "key and configurationKey not to; fails otherwise or on a CALLERROR",
     REQ, NONE, 60},
    /* TC_021_CS Change/set Configuration */
    {"config.change", "修改配置项后能读回新值", "ChangeConfiguration of a known key, read back",
     "Sends ChangeConfiguration MeterValueSampleInterval = its value + 1 (60 when unset), then "
     "GetConfiguration of it; expects Accepted and the new value read back, then puts the old "
     "value back; fails on Rejected, RebootRequired, NotSupported or the old value read back",
     REQ, NONE, 60},
    /* TC_040_1_CS Configuration key - NotSupported */
    {"config.change-unknown", "修改不存在的配置项时回复不支持",
     "ChangeConfiguration of an unknown key",
     "Sends ChangeConfiguration{key:\"EvgateUnknownKey\", value:\"true\"}; expects NotSupported; "
     "fails on Accepted, Rejected, RebootRequired or a CALLERROR",
     REQ, NONE, 60},
    /* TC_054_CS Trigger Message: one check per requestedMessage */
    {"trigger.boot-notification", "按要求补发启动通知", "TriggerMessage BootNotification",
     "Sends TriggerMessage{requestedMessage:BootNotification}; expects Accepted, then a "
     "BootNotification.req (answered Accepted as usual); fails on Rejected, NotImplemented, a "
     "CALLERROR or no triggered message in time",
     REQ, NONE, 60},
    {"trigger.heartbeat", "按要求补发心跳", "TriggerMessage Heartbeat",
     "Sends TriggerMessage{requestedMessage:Heartbeat}; expects Accepted, then a Heartbeat.req; "
     "fails on Rejected, NotImplemented, a CALLERROR or no Heartbeat in time",
     REQ, NONE, 60},
    {"trigger.status-notification", "按要求补发充电枪状态", "TriggerMessage StatusNotification",
     "Sends TriggerMessage{requestedMessage:StatusNotification, connectorId:1}; expects Accepted, "
     "then a StatusNotification for connector 1; fails on Rejected, NotImplemented, another "
     "connector or no StatusNotification in time",
     REQ, NONE, 60},
    {"trigger.meter-values", "按要求补发电表读数", "TriggerMessage MeterValues",
     "Sends TriggerMessage{requestedMessage:MeterValues, connectorId:1}; expects Accepted, then a "
     "MeterValues.req for connector 1 with at least one sampledValue; fails on Rejected, "
     "NotImplemented or no MeterValues in time",
     REQ, NONE, 60},
    {"trigger.diagnostics-status", "按要求补发诊断上传状态",
     "TriggerMessage DiagnosticsStatusNotification",
     "Sends TriggerMessage{requestedMessage:DiagnosticsStatusNotification}; expects Accepted, then "
     "a DiagnosticsStatusNotification.req (Idle when nothing is uploading); fails on Rejected, "
     "NotImplemented or no message in time (optional: Firmware Management profile)",
     OPT, NONE, 60},
    {"trigger.firmware-status", "按要求补发固件升级状态",
     "TriggerMessage FirmwareStatusNotification",
     "Sends TriggerMessage{requestedMessage:FirmwareStatusNotification}; expects Accepted, then a "
     "FirmwareStatusNotification.req (Idle when nothing is installing); fails on Rejected, "
     "NotImplemented or no message in time (optional: Firmware Management profile)",
     OPT, NONE, 60},
    /* TC_055_CS Trigger Message - Rejected */
    {"trigger.unknown-connector", "要求不存在的充电枪补发数据时拒绝",
     "TriggerMessage for an unknown connector rejected",
     "Sends TriggerMessage{requestedMessage:MeterValues, connectorId:n+1}; expects Rejected and no "
     "MeterValues for that connector; fails on Accepted or a MeterValues for connector n+1",
     OPT, NONE, 60},
    /* ChangeAvailability as TC_013_CS steps 1-3 and 11-13 use it */
    {"availability.inoperative", "远程停用 1 号枪", "ChangeAvailability: connector 1 Inoperative",
     "With no transaction running sends ChangeAvailability{connectorId:1, type:Inoperative}; "
     "expects Accepted, then StatusNotification Unavailable for connector 1; fails on Rejected, "
     "Scheduled, a CALLERROR or no Unavailable status in time",
     REQ, NONE, 60},
    {"availability.operative", "远程恢复 1 号枪可用", "ChangeAvailability: connector 1 Operative",
     "After availability.inoperative passed sends ChangeAvailability{connectorId:1, "
     "type:Operative}; expects Accepted, then StatusNotification Available for connector 1; fails "
     "on Rejected, Scheduled, a CALLERROR or no Available status in time",
     REQ, NONE, 60},
    /* TC_017_1_CS / TC_017_2_CS Unlock connector - no charging session running */
    {"unlock.connector", "远程解锁 1 号枪", "UnlockConnector: connector 1",
     "With no transaction running sends UnlockConnector{connectorId:1}; passes on Unlocked, or "
     "NotSupported (a fixed cable); fails on UnlockFailed, a CALLERROR or no answer",
     REQ, NONE, 60},
    /* TC_031_CS Unlock Connector - Unknown Connector */
    {"unlock.unknown-connector", "解锁不存在的充电枪时回复不支持",
     "UnlockConnector of an unknown connector",
     "Sends UnlockConnector{connectorId:n+1}; expects NotSupported; fails on Unlocked, "
     "UnlockFailed, a CALLERROR or no answer",
     REQ, NONE, 60},
    /* TC_061_CS Clear Authorization Data in Authorization Cache (the cache is optional) */
    {"cache.clear", "清除本地授权缓存", "ClearCache",
     "Sends ClearCache; expects Accepted; fails on Rejected (no authorization cache), a CALLERROR "
     "or no answer",
     OPT, NONE, 60},
    /* TC_062_CS Data Transfer to a Charge Point */
    {"datatransfer.unknown-vendor", "收到未知厂商的自定义消息时正确拒绝",
     "DataTransfer to an unknown vendor",
     "Sends DataTransfer{vendorId:\"cn.evgate.conformance\", messageId:\"probe\"}; passes on "
     "UnknownVendorId, UnknownMessageId or Rejected (Accepted passes with a warning in the "
     "reason); fails on a CALLERROR or no answer",
     REQ, NONE, 60},
    {"call.unsupported-action", "收到不支持的消息时回复错误",
     "An unsupported action gets a CALLERROR",
     "Sends a CALL of action \"EvgateProbe\" (not in OCPP 1.6) with payload {}; expects a "
     "CALLERROR with the same uniqueId and errorCode NotImplemented (NotSupported accepted); "
     "fails on a CALLRESULT, another code, no answer or a closed connection",
     REQ, NONE, 60},
    {"remote.start-unknown-connector", "远程启动不存在的充电枪时拒绝",
     "RemoteStartTransaction on an unknown connector rejected",
     "Sends RemoteStartTransaction{connectorId:n+1, idTag:\"EVGATE-CONFORM\"}; expects Rejected "
     "and no StartTransaction; fails on Accepted, a CALLERROR or no answer",
     REQ, NONE, 60},
    /* as TC_028 Remote Stop Transaction - Rejected (seen on the CSMS side) */
    {"remote.stop-unknown", "远程停止不存在的充电交易时拒绝",
     "RemoteStopTransaction of an unknown transaction rejected",
     "Sends RemoteStopTransaction{transactionId} with an id evgate never issued to the pile; "
     "expects Rejected; fails on Accepted, a CALLERROR or no answer",
     REQ, NONE, 60},
    /* TC_004_1_CS Regular Charging Session - Identification First (with the cache just cleared,
     * the pile has to ask) */
    {"authorize.card", "刷卡时向平台鉴权", "Authorize when a card is presented",
     "A person presents an RFID card at the idle pile; expects an Authorize.req with a non-empty "
     "idTag (answered Accepted); fails when a transaction starts without it or none comes in time",
     REQ, CARD, 180},
    {"tx.local-start", "刷卡后插枪开始充电", "Local start: StartTransaction after the card",
     "After authorize.card passed the person plugs the cable into a connector; expects "
     "StartTransaction.req with that card's idTag, a registered connectorId, meterStart >= 0 "
     "(its transactionId the one evgate answered), and StatusNotification Charging for it (either "
     "order); fails on another idTag or no transaction in time",
     REQ, CABLE, 300},
    {"tx.meter-values", "充电中定时上报电表读数", "Meter values during the transaction",
     "During that transaction expects MeterValues.req for its connector with its transactionId "
     "within 2 x MeterValueSampleInterval (read with GetConfiguration; 60 s when 0), energy "
     "readings never decreasing; fails when none comes, the id is wrong or energy decreases",
     REQ, NONE, 180},
    {"tx.local-stop", "再次刷卡结束充电", "Local stop: StopTransaction with the meter reading",
     "The person presents the same card again (or unplugs); expects StopTransaction.req with the "
     "transaction's id, meterStop >= meterStart, then StatusNotification Finishing or Available; "
     "fails on a wrong transactionId, meterStop below meterStart or no stop in time",
     REQ, CARD, 300},
    /* TC_010_CS Remote Start Charging Session - Cable Plugged in First */
    {"remote.start", "插枪后远程启动充电", "RemoteStartTransaction with the cable plugged in",
     "Once the earlier transaction ended (its StopTransaction answered) and connector 1 was "
     "reported Available or Preparing since, with a cable (re)plugged into connector 1, sends "
     "RemoteStartTransaction{connectorId:1, idTag:\"EVGATE-CONFORM\"}; expects Accepted, then "
     "StartTransaction.req on connector 1 with that idTag and StatusNotification Charging; fails "
     "on Rejected or no transaction in time",
     REQ, CABLE, 300},
    /* TC_026_CS Remote Start Charging Session - Rejected */
    {"remote.start-busy", "正在充电时再次远程启动被拒绝",
     "RemoteStartTransaction on a charging connector rejected",
     "While that transaction runs, sends RemoteStartTransaction{connectorId:1, "
     "idTag:\"EVGATE-CONFORM\"} again; expects Rejected and no second StartTransaction; fails on "
     "Accepted, a CALLERROR or no answer",
     REQ, NONE, 60},
    /* TC_012_CS Remote Stop Charging Session */
    {"remote.stop", "远程停止充电", "RemoteStopTransaction",
     "Sends RemoteStopTransaction{transactionId} of that transaction; expects Accepted, then "
     "StopTransaction.req with that id and reason Remote, and StatusNotification Finishing; fails "
     "on Rejected, another reason or no stop in time",
     REQ, NONE, 120},
    /* as TC_014 Soft Reset (seen on the CSMS side), without a transaction */
    {"reset.soft", "软重启后重新上线", "Soft reset, then boot again",
     "With no transaction running sends Reset{type:Soft}; expects Accepted, then a "
     "BootNotification (same or new connection, answered Accepted) and StatusNotification for "
     "connector 0 and every connector; fails on Rejected or no boot in time",
     REQ, NONE, 300},
    /* TC_013_CS Hard Reset Without transaction */
    {"reset.hard", "硬重启后重新上线", "Hard reset, then reconnect and boot",
     "Sends Reset{type:Hard}; expects Accepted, the connection to close and come back with a "
     "BootNotification as its first CALL (answered Accepted), and StatusNotification for "
     "connector 0 and every connector; fails on Rejected, another first action or no "
     "reconnection in time",
     REQ, NONE, 300},
    /* Judged over the whole run, so they come last. */
    {"frames.schema-valid", "所有报文符合官方格式（JSON Schema）",
     "Every frame valid against the official schemas",
     "Over every frame the pile sent during the run: OCPP-J framing, and each CALL and CALLRESULT "
     "valid against the OCA OCPP 1.6 JSON schema of its action; fails naming the first invalid "
     "frame, its action and the failing JSON path",
     REQ, NONE, 10},
    {"frames.unique-ids", "每条请求的消息编号不重复", "Unique message ids",
     "Over every CALL the pile sent during the run: no uniqueId used twice on one connection; "
     "fails naming the first reused id and both actions",
     REQ, NONE, 10},
    {"frames.one-call-outstanding", "上一条请求得到回复前不发下一条",
     "At most one CALL outstanding",
     "Over the run: the pile never sent a CALL while one of its CALLs was still unanswered by "
     "evgate; fails naming the two overlapping actions",
     REQ, NONE, 10},
    {"frames.answers-in-time", "在规定时间内回复平台的请求", "Answers within the timeout",
     "Over the run: every CALL evgate sent got a CALLRESULT or CALLERROR with the same uniqueId "
     "within ocpp_call_timeout_s (30 s by default); fails naming each late or missing answer",
     REQ, NONE, 10},
};

const size_t plan_ocpp16_core_n = sizeof plan_ocpp16_core / sizeof plan_ocpp16_core[0];

/* Plan `ocpp201-core`: the checks of an OCPP 2.0.1 pile, in the order the engine runs them.
 *
 * Modelled on OCPP 2.0.1 Part 6 (Test Cases, Core & Advanced Security, 2023-06-30), read as
 * published one case per page at ocpplab.com/docs/protocols/ocpp-2-0-1/test-cases/. The TC_ ids
 * below are only those we saw there; our ids are our own. evgate plays the CSMS with the pile
 * under test. A registered connector's ocpp_connector_id is its evseId (connectorId 1 within the
 * EVSE), as the gateway stores 2.0.1 status; the run's idToken is {idToken:"EVGATE-CONFORM",
 * type:"Central"}. */
#include "protocol/plans_private.h"

const struct plan_check plan_ocpp201_core[] = {
    /* TC_B_01_CS Cold Boot Charging Station - Accepted */
    {"boot.first-message", "冷启动后首条消息为 BootNotification",
     "Cold boot: BootNotification comes first",
     "Sends Reset{type:Immediate} (or a person power-cycles the pile); the first CALL on the new "
     "connection must be a BootNotificationRequest, answered Accepted; fails on another first "
     "action, or no BootNotification in time",
     REQ, NONE, 300},
    {"boot.status-all-connectors", "启动后上报每个充电枪的状态",
     "After boot: the state of every connector",
     "After the accepted BootNotification expects, for every registered EVSE, a "
     "StatusNotificationRequest (or NotifyEventRequest of AvailabilityState) for its connector; "
     "fails naming the EVSEs not reported in time or an evseId the pile does not have",
     REQ, NONE, 120},
    /* TC_B_06_CS Get Variables - single value */
    {"variables.get", "读取配置变量", "GetVariables of known variables",
     "Sends GetVariables for OCPPCommCtrlr.HeartbeatInterval and "
     "SampledDataCtrlr.TxUpdatedInterval; expects attributeStatus Accepted with an integer "
     "attributeValue for both; fails naming the variable otherwise",
     REQ, NONE, 60},
    {"variables.get-unknown", "读取不存在的变量时如实说明", "GetVariables of unknown ones",
     "Sends GetVariables for component EvgateUnknownComponent and for "
     "OCPPCommCtrlr.EvgateUnknownVariable; expects UnknownComponent and UnknownVariable; fails on "
     "Accepted, another status or a CALLERROR",
     REQ, NONE, 60},
    /* TC_B_09_CS Set Variables - single value */
    {"variables.set", "修改配置变量后能读回新值", "SetVariables, read back",
     "Sends SetVariables OCPPCommCtrlr.HeartbeatInterval = its value + 1, then GetVariables; "
     "expects Accepted and the new value read back, then puts the old value back; fails on "
     "Rejected, RebootRequired or the old value read back",
     REQ, NONE, 60},
    /* TC_B_11_CS Set Variables - invalidly formatted values */
    {"variables.set-invalid", "写入格式错误的值时拒绝", "SetVariables with a malformed value",
     "Sends SetVariables OCPPCommCtrlr.HeartbeatInterval = \"abc\"; expects attributeStatus "
     "Rejected and the value unchanged; fails on Accepted or a changed value",
     REQ, NONE, 60},
    {"heartbeat.interval", "按设定间隔发送心跳", "Heartbeat kept at the interval",
     "Sets OCPPCommCtrlr.HeartbeatInterval to H = conform_heartbeat_s (30 by default; the old "
     "value is put back after), then expects a HeartbeatRequest within 1.2 H of the change and a "
     "second one 0.8 H to 1.2 H after the first; fails when the change is refused, a Heartbeat is "
     "missing or the gap is outside 0.8 H-1.2 H",
     REQ, NONE, 150},
    /* Trigger message (TC_F_*: TC_F_24_CS is StatusNotification for a specific EVSE). F06.FR.17:
     * a station whose last BootNotification was Accepted rejects a TriggerMessage for one
     * (EVerest libocpp and other stacks do so) */
    {"trigger.boot-notification", "启动已被接受时拒绝补发启动通知",
     "TriggerMessage BootNotification rejected once accepted",
     "While the pile's last BootNotificationRequest stands Accepted sends "
     "TriggerMessage{requestedMessage:BootNotification}; expects Rejected and no "
     "BootNotificationRequest (F06.FR.17); fails on Accepted or a BootNotificationRequest; "
     "skipped when the last boot was not Accepted",
     REQ, NONE, 60},
    {"trigger.heartbeat", "按要求补发心跳", "TriggerMessage Heartbeat",
     "Sends TriggerMessage{requestedMessage:Heartbeat}; expects Accepted, then a "
     "HeartbeatRequest; fails on Rejected, NotImplemented or no Heartbeat in time",
     REQ, NONE, 60},
    {"trigger.status-notification", "按要求补发充电枪状态", "TriggerMessage StatusNotification",
     "Sends TriggerMessage{requestedMessage:StatusNotification, evse:{id:1, connectorId:1}}; "
     "expects Accepted, then a StatusNotificationRequest for EVSE 1 connector 1; fails on "
     "Rejected, NotImplemented, another connector or nothing in time",
     REQ, NONE, 60},
    {"trigger.meter-values", "按要求补发电表读数", "TriggerMessage MeterValues",
     "Sends TriggerMessage{requestedMessage:MeterValues, evse:{id:1}}; expects Accepted, then a "
     "MeterValuesRequest for EVSE 1 with at least one sampledValue; fails on Rejected, "
     "NotImplemented or no MeterValues in time",
     REQ, NONE, 60},
    {"availability.inoperative", "远程停用 1 号枪", "ChangeAvailability: EVSE 1 Inoperative",
     "With no transaction running sends ChangeAvailability{operationalStatus:Inoperative, "
     "evse:{id:1}}; expects Accepted, then EVSE 1 reported Unavailable; fails on Rejected, "
     "Scheduled or no Unavailable status in time",
     REQ, NONE, 60},
    /* TC_G_08_CS Change Availability Connector - Inoperative to operative (for the EVSE) */
    {"availability.operative", "远程恢复 1 号枪可用", "ChangeAvailability: EVSE 1 Operative",
     "After availability.inoperative passed sends ChangeAvailability{operationalStatus:Operative, "
     "evse:{id:1}}; expects Accepted, then EVSE 1 reported Available; fails on Rejected, "
     "Scheduled or no Available status in time",
     REQ, NONE, 60},
    {"unlock.connector", "远程解锁 1 号枪", "UnlockConnector: EVSE 1",
     "With no transaction running sends UnlockConnector{evseId:1, connectorId:1}; expects "
     "Unlocked; fails on UnlockFailed, OngoingAuthorizedTransaction, UnknownConnector, a "
     "CALLERROR or no answer",
     REQ, NONE, 60},
    /* TC_F_10_CS Remote unlock Connector - Without ongoing transaction - UnknownConnector */
    {"unlock.unknown-connector", "解锁不存在的充电枪时如实说明",
     "UnlockConnector of an unknown connector",
     "Sends UnlockConnector{evseId:1, connectorId:999}; expects UnknownConnector; fails on "
     "Unlocked, UnlockFailed, a CALLERROR or no answer",
     REQ, NONE, 60},
    /* TC_C_37_CS Clear Authorization Data in Authorization Cache - Accepted (the cache is
     * optional) */
    {"cache.clear", "清除本地授权缓存", "ClearCache",
     "Sends ClearCache; expects Accepted; fails on Rejected (no or disabled authorization "
     "cache), a CALLERROR or no answer",
     OPT, NONE, 60},
    /* TC_P_01_CS Data Transfer to the Charging Station - Rejected / Unknown VendorId / ... */
    {"datatransfer.unknown-vendor", "收到未知厂商的自定义消息时正确拒绝",
     "DataTransfer to an unknown vendor",
     "Sends DataTransfer{vendorId:\"cn.evgate.conformance\", messageId:\"probe\"}; passes on "
     "UnknownVendorId, UnknownMessageId or Rejected (Accepted passes with a warning in the "
     "reason); fails on a CALLERROR or no answer",
     REQ, NONE, 60},
    {"call.unsupported-action", "收到不支持的消息时回复错误",
     "An unsupported action gets a CALLERROR",
     "Sends a CALL of action \"EvgateProbe\" (not in OCPP 2.0.1) with payload {}; expects a "
     "CALLERROR with the same messageId and errorCode NotImplemented (NotSupported accepted); "
     "fails on a CALLRESULT, another code, no answer or a closed connection",
     REQ, NONE, 60},
    {"remote.start-unknown-evse", "远程启动不存在的充电枪时拒绝",
     "RequestStartTransaction on an unknown EVSE rejected",
     "Sends RequestStartTransaction{evseId:n+1, remoteStartId, idToken EVGATE-CONFORM}; expects "
     "Rejected and no transaction; fails on Accepted, a CALLERROR or no answer",
     REQ, NONE, 60},
    {"remote.stop-unknown", "远程停止不存在的充电交易时拒绝",
     "RequestStopTransaction of an unknown transaction rejected",
     "Sends RequestStopTransaction{transactionId:\"evgate-unknown\"}; expects Rejected; fails on "
     "Accepted, a CALLERROR or no answer",
     REQ, NONE, 60},
    {"authorize.card", "刷卡时向平台鉴权", "Authorize when a card is presented",
     "A person presents an RFID card at the idle pile; expects an AuthorizeRequest with a "
     "non-empty idToken (answered Accepted); fails when a transaction is authorized without it or "
     "none comes in time",
     REQ, CARD, 180},
    /* TC_E_04_CS Local start transaction - Authorization first - Success */
    {"tx.local-start", "刷卡后插枪开始充电", "Local start: TransactionEvent Started",
     "The person then plugs the cable in; expects TransactionEventRequest eventType Started with "
     "a transactionId and the card's idToken (in it or an Updated event), then chargingState "
     "Charging; fails on another idToken or no transaction in time",
     REQ, CABLE, 300},
    {"tx.meter-values", "充电中定时上报电表读数", "Meter values during the transaction",
     "During that transaction expects TransactionEventRequest Updated with meterValue within 2 x "
     "SampledDataCtrlr.TxUpdatedInterval (60 s when 0), energy readings never decreasing; fails "
     "when none comes, the transactionId is wrong or energy decreases",
     REQ, NONE, 180},
    /* TC_F_13_CS Trigger message - TransactionEvent - Specific EVSE */
    {"trigger.transaction-event", "按要求补发充电交易事件", "TriggerMessage TransactionEvent",
     "While that transaction runs sends TriggerMessage{requestedMessage:TransactionEvent, "
     "evse:{id}}; expects Accepted, then TransactionEventRequest with triggerReason Trigger and a "
     "meterValue; fails on Rejected, NotImplemented or nothing in time",
     OPT, NONE, 60},
    {"tx.local-stop", "再次刷卡结束充电", "Local stop: TransactionEvent Ended",
     "The person presents the same card again (or unplugs); expects TransactionEventRequest "
     "eventType Ended for that transactionId with a stoppedReason and a final meterValue; fails "
     "on another transactionId, a decreasing meter or no end in time",
     REQ, CARD, 300},
    /* TC_F_01_CS Remote start transaction - Cable plugin first */
    {"remote.start", "插枪后远程启动充电", "RequestStartTransaction with the cable plugged in",
     "Once the earlier transaction ended (its TransactionEvent Ended answered) and EVSE 1 was "
     "reported Available or Occupied since, with a cable (re)plugged into EVSE 1, sends "
     "RequestStartTransaction{evseId:1, remoteStartId, idToken EVGATE-CONFORM}; expects Accepted, "
     "then a TransactionEvent with triggerReason RemoteStart and that remoteStartId, then "
     "Charging; fails otherwise in time",
     REQ, CABLE, 300},
    {"remote.stop", "远程停止充电", "RequestStopTransaction",
     "Sends RequestStopTransaction{transactionId} of that transaction; expects Accepted, then "
     "TransactionEventRequest Ended with triggerReason RemoteStop and stoppedReason Remote; fails "
     "on Rejected, another reason or no end in time",
     REQ, NONE, 120},
    /* TC_B_20_CS Reset Charging Station - Without ongoing transaction - OnIdle */
    {"reset.on-idle", "空闲时重启后重新上线", "Reset OnIdle, then boot again",
     "With no transaction running sends Reset{type:OnIdle}; expects Accepted, then a "
     "BootNotificationRequest (answered Accepted) and every EVSE's state reported; fails on "
     "Rejected, Scheduled or no boot in time",
     REQ, NONE, 300},
    {"reset.immediate", "立即重启后重新上线", "Reset Immediate, then reconnect and boot",
     "Sends Reset{type:Immediate}; expects Accepted, the connection to close and come back with a "
     "BootNotificationRequest as its first CALL (answered Accepted), and every EVSE's state "
     "reported; fails on Rejected, another first action or no reconnection in time",
     REQ, NONE, 300},
    /* Judged over the whole run, so they come last. */
    {"tx.event-sequence", "充电交易事件序号连续", "TransactionEvent seqNo without gaps",
     "Over every transaction of the run: one Started first, one Ended last, and seqNo rising by "
     "exactly 1 from event to event; fails naming the transactionId and the gap or the order",
     REQ, NONE, 10},
    {"frames.schema-valid", "所有报文符合官方格式（JSON Schema）",
     "Every frame valid against the official schemas",
     "Over every frame the pile sent during the run: OCPP-J framing, and each CALL and CALLRESULT "
     "valid against the OCA OCPP 2.0.1 JSON schema of its action; fails naming the first invalid "
     "frame, its action and the failing JSON path",
     REQ, NONE, 10},
    {"frames.unique-ids", "每条请求的消息编号不重复", "Unique message ids",
     "Over every CALL the pile sent during the run: no messageId used twice on one connection; "
     "fails naming the first reused id and both actions",
     REQ, NONE, 10},
    {"frames.one-call-outstanding", "上一条请求得到回复前不发下一条",
     "At most one CALL outstanding",
     "Over the run: the pile never sent a CALL while one of its CALLs was still unanswered by "
     "evgate; fails naming the two overlapping actions",
     REQ, NONE, 10},
    {"frames.answers-in-time", "在规定时间内回复平台的请求", "Answers within the timeout",
     "Over the run: every CALL evgate sent got a CALLRESULT or CALLERROR with the same messageId "
     "within ocpp_call_timeout_s (30 s by default); fails naming each late or missing answer",
     REQ, NONE, 10},
};

const size_t plan_ocpp201_core_n = sizeof plan_ocpp201_core / sizeof plan_ocpp201_core[0];

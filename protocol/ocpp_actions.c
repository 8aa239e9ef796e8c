/* Which side sends each action: the CS->CP actions of each version (OCPP 1.6 §4-§5 with the
 * security whitepaper's messages, 2.0.1 Part 2's message list). DataTransfer goes both ways. */
#include "protocol/ocpp.h"

#include <string.h>

static const char *const to_cp_16[] = {
    "CancelReservation",
    "CertificateSigned",
    "ChangeAvailability",
    "ChangeConfiguration",
    "ClearCache",
    "ClearChargingProfile",
    "DataTransfer",
    "DeleteCertificate",
    "ExtendedTriggerMessage",
    "GetCompositeSchedule",
    "GetConfiguration",
    "GetDiagnostics",
    "GetInstalledCertificateIds",
    "GetLocalListVersion",
    "GetLog",
    "InstallCertificate",
    "RemoteStartTransaction",
    "RemoteStopTransaction",
    "ReserveNow",
    "Reset",
    "SendLocalList",
    "SetChargingProfile",
    "SignedUpdateFirmware",
    "TriggerMessage",
    "UnlockConnector",
    "UpdateFirmware",
};

static const char *const to_cp_201[] = {
    "CancelReservation",
    "CertificateSigned",
    "ChangeAvailability",
    "ClearCache",
    "ClearChargingProfile",
    "ClearDisplayMessage",
    "ClearVariableMonitoring",
    "CostUpdated",
    "CustomerInformation",
    "DataTransfer",
    "DeleteCertificate",
    "GetBaseReport",
    "GetChargingProfiles",
    "GetCompositeSchedule",
    "GetDisplayMessages",
    "GetInstalledCertificateIds",
    "GetLocalListVersion",
    "GetLog",
    "GetMonitoringReport",
    "GetReport",
    "GetTransactionStatus",
    "GetVariables",
    "InstallCertificate",
    "PublishFirmware",
    "RequestStartTransaction",
    "RequestStopTransaction",
    "ReserveNow",
    "Reset",
    "SendLocalList",
    "SetChargingProfile",
    "SetDisplayMessage",
    "SetMonitoringBase",
    "SetMonitoringLevel",
    "SetNetworkProfile",
    "SetVariableMonitoring",
    "SetVariables",
    "TriggerMessage",
    "UnlockConnector",
    "UnpublishFirmware",
    "UpdateFirmware",
};

size_t ocpp_to_cp_count(enum ocpp_version version)
{
    return version == OCPP_V201 ? sizeof to_cp_201 / sizeof to_cp_201[0]
                                : sizeof to_cp_16 / sizeof to_cp_16[0];
}

const char *ocpp_to_cp_name(enum ocpp_version version, size_t i)
{
    if (i >= ocpp_to_cp_count(version))
        return NULL;
    return version == OCPP_V201 ? to_cp_201[i] : to_cp_16[i];
}

const char *ocpp_to_cp(enum ocpp_version version, const char *action)
{
    for (size_t i = 0; action && i < ocpp_to_cp_count(version); i++)
        if (!strcmp(ocpp_to_cp_name(version, i), action))
            return ocpp_to_cp_name(version, i);
    return NULL;
}

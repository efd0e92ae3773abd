"""Process Monitor's names for numbers: event classes, operations, results, masks and enums.

Format: Sysinternals Process Monitor (PML v9 and its CSV export). Procmon shows numbers as names in its
Operation, Result and Detail columns; these tables turn the numbers of a PML back into the same text so a
PML reads like Procmon's own CSV export. Text encoding: n/a (tables only).

References: the operation, sub-operation, result (NTSTATUS) and IOCTL names are the display names Procmon
prints, as catalogued by eronnen/procmon-parser (MIT, ``procmon_parser/consts.py``) and checked against the
six Procmon CSV exports in ``shared/corpus/procmon``; the masks are the documented Windows constants
(``winnt.h``: ACCESS_MASK, FILE_ATTRIBUTE_*, FILE_SHARE_*, create options, REG_* types).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

# fmt: off

PROCESS, REGISTRY, FILE_SYSTEM, PROFILING, NETWORK, IPC = 1, 2, 3, 4, 5, 6

EVENT_CLASSES = {
    0: "Unknown",
    1: "Process",
    2: "Registry",
    3: "File System",
    4: "Profiling",
    5: "Network",
    6: "IPC",
}

_PROCESS_OPS = {
    0: "Process Defined",
    1: "Process Create",
    2: "Process Exit",
    3: "Thread Create",
    4: "Thread Exit",
    5: "Load Image",
    6: "Thread Profile",
    7: "Process Start",
    8: "Process Statistics",
    9: "System Statistics",
}

_REGISTRY_OPS = {
    0: "RegOpenKey",
    1: "RegCreateKey",
    2: "RegCloseKey",
    3: "RegQueryKey",
    4: "RegSetValue",
    5: "RegQueryValue",
    6: "RegEnumValue",
    7: "RegEnumKey",
    8: "RegSetInfoKey",
    9: "RegDeleteKey",
    10: "RegDeleteValue",
    11: "RegFlushKey",
    12: "RegLoadKey",
    13: "RegUnloadKey",
    14: "RegRenameKey",
    15: "RegQueryMultipleValueKey",
    16: "RegSetKeySecurity",
    17: "RegQueryKeySecurity",
}

_FILE_SYSTEM_OPS = {
    0: "VolumeDismount",
    1: "VolumeMount",
    2: "FASTIO_MDL_WRITE_COMPLETE",
    3: "WriteFile2",
    4: "FASTIO_MDL_READ_COMPLETE",
    5: "ReadFile2",
    6: "QueryOpen",
    7: "FASTIO_CHECK_IF_POSSIBLE",
    8: "IRP_MJ_12",
    9: "IRP_MJ_11",
    10: "IRP_MJ_10",
    11: "IRP_MJ_9",
    12: "IRP_MJ_8",
    13: "FASTIO_NOTIFY_STREAM_FO_CREATION",
    14: "FASTIO_RELEASE_FOR_CC_FLUSH",
    15: "FASTIO_ACQUIRE_FOR_CC_FLUSH",
    16: "FASTIO_RELEASE_FOR_MOD_WRITE",
    17: "FASTIO_ACQUIRE_FOR_MOD_WRITE",
    18: "FASTIO_RELEASE_FOR_SECTION_SYNCHRONIZATION",
    19: "CreateFileMapping",
    20: "CreateFile",
    21: "CreatePipe",
    22: "IRP_MJ_CLOSE",
    23: "ReadFile",
    24: "WriteFile",
    25: "QueryInformationFile",
    26: "SetInformationFile",
    27: "QueryEAFile",
    28: "SetEAFile",
    29: "FlushBuffersFile",
    30: "QueryVolumeInformation",
    31: "SetVolumeInformation",
    32: "DirectoryControl",
    33: "FileSystemControl",
    34: "DeviceIoControl",
    35: "InternalDeviceIoControl",
    36: "Shutdown",
    37: "LockUnlockFile",
    38: "CloseFile",
    39: "CreateMailSlot",
    40: "QuerySecurityFile",
    41: "SetSecurityFile",
    42: "Power",
    43: "SystemControl",
    44: "DeviceChange",
    45: "QueryFileQuota",
    46: "SetFileQuota",
    47: "PlugAndPlay",
}

_PROFILING_OPS = {
    0: "Thread Profiling",
    1: "Process Profiling",
    2: "Debug Output Profiling",
}

_NETWORK_OPS = {
    0: "Unknown",
    1: "Other",
    2: "Send",
    3: "Receive",
    4: "Accept",
    5: "Connect",
    6: "Disconnect",
    7: "Reconnect",
    8: "Retransmit",
    9: "TCPCopy",
}

_SUB_QUERYVOLUMEINFORMATION = {
    0x1: "QueryInformationVolume",
    0x2: "QueryLabelInformationVolume",
    0x3: "QuerySizeInformationVolume",
    0x4: "QueryDeviceInformationVolume",
    0x5: "QueryAttributeInformationVolume",
    0x6: "QueryControlInformationVolume",
    0x7: "QueryFullSizeInformationVolume",
    0x8: "QueryObjectIdInformationVolume",
}

_SUB_SETVOLUMEINFORMATION = {
    0x1: "SetControlInformationVolume",
    0x2: "SetLabelInformationVolume",
    0x8: "SetObjectIdInformationVolume",
}

_SUB_QUERYINFORMATIONFILE = {
    0x4: "QueryBasicInformationFile",
    0x5: "QueryStandardInformationFile",
    0x6: "QueryFileInternalInformationFile",
    0x7: "QueryEaInformationFile",
    0x9: "QueryNameInformationFile",
    0xE: "QueryPositionInformationFile",
    0x12: "QueryAllInformationFile",
    0x14: "QueryEndOfFile",
    0x16: "QueryStreamInformationFile",
    0x1C: "QueryCompressionInformationFile",
    0x1D: "QueryId",
    0x1F: "QueryMoveClusterInformationFile",
    0x22: "QueryNetworkOpenInformationFile",
    0x23: "QueryAttributeTagFile",
    0x25: "QueryIdBothDirectory",
    0x27: "QueryValidDataLength",
    0x28: "QueryShortNameInformationFile",
    0x2B: "QueryIoPiorityHint",
    0x2E: "QueryLinks",
    0x30: "QueryNormalizedNameInformationFile",
    0x31: "QueryNetworkPhysicalNameInformationFile",
    0x32: "QueryIdGlobalTxDirectoryInformation",
    0x33: "QueryIsRemoteDeviceInformation",
    0x34: "QueryAttributeCacheInformation",
    0x35: "QueryNumaNodeInformation",
    0x36: "QueryStandardLinkInformation",
    0x37: "QueryRemoteProtocolInformation",
    0x38: "QueryRenameInformationBypassAccessCheck",
    0x39: "QueryLinkInformationBypassAccessCheck",
    0x3A: "QueryVolumeNameInformation",
    0x3B: "QueryIdInformation",
    0x3C: "QueryIdExtdDirectoryInformation",
    0x3E: "QueryHardLinkFullIdInformation",
    0x3F: "QueryIdExtdBothDirectoryInformation",
    0x43: "QueryDesiredStorageClassInformation",
    0x44: "QueryStatInformation",
    0x45: "QueryMemoryPartitionInformation",
    0x46: "QuerySatLxInformation",
    0x47: "QueryCaseSensitiveInformation",
    0x48: "QueryLinkInformationEx",
    0x49: "QueryLinkInfomraitonBypassAccessCheck",
    0x4A: "QueryStorageReservedIdInformation",
    0x4B: "QueryCaseSensitiveInformationForceAccessCheck",
}

_SUB_SETINFORMATIONFILE = {
    0x4: "SetBasicInformationFile",
    0xA: "SetRenameInformationFile",
    0xB: "SetLinkInformationFile",
    0xD: "SetDispositionInformationFile",
    0xE: "SetPositionInformationFile",
    0x13: "SetAllocationInformationFile",
    0x14: "SetEndOfFileInformationFile",
    0x16: "SetFileStreamInformation",
    0x17: "SetPipeInformation",
    0x27: "SetValidDataLengthInformationFile",
    0x28: "SetShortNameInformation",
    0x3D: "SetReplaceCompletionInformation",
    0x40: "SetDispositionInformationEx",
    0x41: "SetRenameInformationEx",
    0x42: "SetRenameInformationExBypassAccessCheck",
    0x4A: "SetStorageReservedIdInformation",
}

_SUB_DIRECTORYCONTROL = {
    0x1: "QueryDirectory",
    0x2: "NotifyChangeDirectory",
}

_SUB_PLUGANDPLAY = {
    0x0: "StartDevice",
    0x1: "QueryRemoveDevice",
    0x2: "RemoveDevice",
    0x3: "CancelRemoveDevice",
    0x4: "StopDevice",
    0x5: "QueryStopDevice",
    0x6: "CancelStopDevice",
    0x7: "QueryDeviceRelations",
    0x8: "QueryInterface",
    0x9: "QueryCapabilities",
    0xA: "QueryResources",
    0xB: "QueryResourceRequirements",
    0xC: "QueryDeviceText",
    0xD: "FilterResourceRequirements",
    0xF: "ReadConfig",
    0x10: "WriteConfig",
    0x11: "Eject",
    0x12: "SetLock",
    0x13: "QueryId2",
    0x14: "QueryPnpDeviceState",
    0x15: "QueryBusInformation",
    0x16: "DeviceUsageNotification",
    0x17: "SurpriseRemoval",
    0x18: "QueryLegacyBusInformation",
}

_SUB_LOCKUNLOCKFILE = {
    0x1: "LockFile",
    0x2: "UnlockFileSingle",
    0x3: "UnlockFileAll",
    0x4: "UnlockFileByKey",
}

RESULT_NAMES = {
    0x0: "SUCCESS",
    0x103: "",
    0x104: "REPARSE",
    0x105: "MORE ENTRIES",
    0x108: "OPLOCK BREAK IN PROGRESS",
    0x10B: "NOTIFY CLEANUP",
    0x10C: "NOTIFY ENUM DIR",
    0x12A: "FILE LOCKED WITH ONLY READERS",
    0x12B: "FILE LOCKED WITH WRITERS",
    0x215: "OPLOCK SWITCHED TO NEW HANDLE",
    0x216: "OPLOCK HANDLE CLOSED",
    0x367: "WAIT FOR OPLOCK",
    0x40000016: "PREDEFINED HANDLE",
    0xC0000001: "UNSUCCESSFUL",
    0x80000015: "INVALID EA FLAG",
    0x80000002: "DATATYPE MISALIGNMENT",
    0x80000005: "BUFFER OVERFLOW",
    0x80000006: "NO MORE FILES",
    0x8000001A: "NO MORE ENTRIES",
    0x80090322: "E_WRONG_PRINCIPAL",
    0xC0000101: "NOT EMPTY",
    0xC0000002: "NOT IMPLEMENTED",
    0xC0000003: "INVALID INFO CLASS",
    0xC0000004: "INFO LENGTH MISMATCH",
    0xC0000005: "ACCESS VIOLATION",
    0xC0000006: "IN PAGE ERROR",
    0xC0000008: "INVALID HANDLE",
    0xC000000D: "INVALID PARAMETER",
    0xC000000E: "NO SUCH DEVICE",
    0xC000000F: "NO SUCH FILE",
    0xC0000010: "INVALID DEVICE REQUEST",
    0xC0000011: "END OF FILE",
    0xC0000012: "WRONG VOLUME",
    0xC0000013: "NO MEDIA",
    0xC0000015: "NONEXISTENT SECTOR",
    0xC0000017: "NO MEMORY",
    0xC0000021: "ALREADY COMMITTED",
    0xC0000022: "ACCESS DENIED",
    0xC0000023: "BUFFER TOO SMALL",
    0xC0000024: "OBJECT TYPE MISMATCH",
    0xC0000032: "DISK CORRUPT",
    0xC0000033: "NAME INVALID",
    0xC0000034: "NAME NOT FOUND",
    0xC0000035: "NAME COLLISION",
    0xC0000039: "OBJECT PATH INVALID",
    0xC000003A: "PATH NOT FOUND",
    0xC000003B: "PATH SYNTAX BAD",
    0xC000003C: "DATA OVERRUN",
    0xC000003F: "CRC ERROR",
    0xC0000043: "SHARING VIOLATION",
    0xC0000044: "QUOTA EXCEEDED",
    0xC000004F: "EAS NOT SUPPORTED",
    0xC0000050: "EA TOO LARGE",
    0xC0000051: "NONEXISTENT EA ENTRY",
    0xC0000052: "NO EAS ON FILE",
    0xC0000053: "EA CORRUPT ERROR",
    0xC0000054: "FILE LOCK CONFLICT",
    0xC0000055: "NOT GRANTED",
    0xC0000056: "DELETE PENDING",
    0xC000005A: "INVALID OWNER",
    0xC0000061: "PRIVILEGE NOT HELD",
    0xC000006D: "LOGON FAILURE",
    0xC000007E: "RANGE NOT LOCKED",
    0xC000007F: "DISK FULL",
    0xC0000098: "FILE INVALID",
    0xC000009A: "INSUFFICIENT RESOURCES",
    0xC000009C: "DEVICE DATA ERROR",
    0xC000009D: "DEVICE NOT CONNECTED",
    0xC00000A2: "MEDIA WRITE PROTECTED",
    0xC00000A5: "BAD IMPERSONATION",
    0xC00000AB: "INSTANCE NOT AVAILABLE",
    0xC00000AC: "PIPE NOT AVAILABLE",
    0xC00000AD: "INVALID PIPE STATE",
    0xC00000AE: "PIPE BUSY",
    0xC00000B0: "PIPE DISCONNECTED",
    0xC00000B1: "PIPE CLOSING",
    0xC00000B2: "PIPE CONNECTED",
    0xC00000B3: "PIPE LISTENING",
    0xC00000B4: "INVALID READ MODE",
    0xC00000B5: "IO TIMEOUT",
    0xC00000BA: "IS DIRECTORY",
    0xC00000BB: "NOT SUPPORTED",
    0xC00000BD: "DUPLICATE NAME",
    0xC00000BE: "BAD NETWORK PATH",
    0xC00000C1: "TOO MANY COMMANDS",
    0xC00000C3: "INVALID NETWORK RESPONSE",
    0xC00000C4: "NETWORK ERROR",
    0xC00000CC: "BAD NETWORK NAME",
    0xC00000D4: "NOT SAME DEVICE",
    0xC00000D8: "CANT WAIT",
    0xC00000D9: "PIPE EMPTY",
    0xC00000DB: "CSC OBJECT PATH NOT FOUND",
    0xC00000E2: "OPLOCK NOT GRANTED",
    0xC00000EF: "INVALID PARAMETER 1",
    0xC00000F0: "INVALID PARAMETER 2",
    0xC00000F1: "INVALID PARAMETER 3",
    0xC00000F2: "INVALID PARAMETER 4",
    0xC00000FB: "REDIRECTOR NOT STARTED",
    0xC0000102: "FILE CORRUPT",
    0xC0000103: "NOT A DIRECTORY",
    0xC0000107: "FILES OPEN",
    0xC000010D: "CANNOT IMPERSONATE",
    0xC0000120: "CANCELLED",
    0xC0000121: "CANNOT DELETE",
    0xC0000123: "FILE DELETED",
    0xC0000128: "FILE CLOSED",
    0xC000012A: "THREAD NOT IN PROCESS",
    0xC0000148: "INVALID LEVEL",
    0xC000014B: "PIPE BROKEN",
    0xC000014C: "REGISTRY CORRUPT",
    0xC000014D: "IO FAILED",
    0xC000017C: "KEY DELETED",
    0xC0000181: "CHILD MUST BE VOLATILE",
    0xC0000184: "INVALID DEVICE STATE",
    0xC0000185: "IO DEVICE ERROR",
    0xC0000188: "LOG FILE FULL",
    0xC000019C: "FS DRIVER REQUIRED",
    0xC0000203: "USER SESSION DELETED",
    0xC0000205: "INSUFFICIENT SERVER RESOURCES",
    0xC0000207: "INVALID ADDRESS COMPONENT",
    0xC000020C: "DISCONNECTED",
    0xC0000225: "NOT FOUND",
    0xC0000243: "USER MAPPED FILE",
    0xC0000248: "LOGIN WKSTA RESTRICTION",
    0xC0000257: "PATH NOT COVERED",
    0xC000026D: "DFS UNAVAILABLE",
    0xC0000273: "NO MORE MATCHES",
    0xC0000275: "NOT REPARSE POINT",
    0xC00002EA: "CANNOT MAKE",
    0xC00002F0: "OBJECTID NOT FOUND",
    0xC0000388: "DOWNGRADE DETECTED",
    0xC0000425: "HIVE UNLOADED",
    0xC0000427: "FILE SYSTEM LIMITATION",
    0xC0000463: "DEVICE FEATURE NOT SUPPORTED",
    0xC000046D: "OBJECT NOT EXTERNALLY BACKED",
    0xC00004AD: "STORAGE RESERVE ID INVALID",
    0xC00004AE: "STORAGE RESERVE DOES NOT EXIST",
    0xC00004AF: "STORAGE RESERVE ALREADY EXISTS",
    0xC00004B0: "STORAGE RESERVE NOT EMPTY",
    0xC00004B1: "NOT A DAX VOLUME",
    0xC0000909: "CANNOT BREAK OPLOCK",
    0xC000A2A1: "STATUS_OFFLOAD_READ_FLT_NOT_SUPPORTED",
    0xC000A2A2: "STATUS_OFFLOAD_WRITE_FLT_NOT_SUPPORTED",
    0xC000A2A3: "OFFLOAD READ FILE NOT SUPPORTED",
    0xC000A2A4: "OFFLOAD READ FILE NOT SUPPORTED",
    0xC0190001: "TRANSACTIONAL CONFLICT",
    0xC0190002: "INVALID TRANSACTION",
    0xC0190003: "TRANSACTION_NOT_ACTIVE",
    0xC019003E: "EFS NOT ALLOWED IN TRANSACTION",
    0xC019003F: "TRANSACTIONAL OPEN NOT ALLOWED",
    0xC0190040: "TRANSACTED MAPPING UNSUPPORTED REMOTE",
    0xC0190044: "CANNOT EXECUTE FILE IN TRANSACTION",
    0xC0190049: "SPARSE NOT ALLOWED IN TRANSACTION",
    0xC01C0004: "FAST IO DISALLOWED",
}

IOCTL_NAMES = {
    0x24058: "IOCTL_CDROM_GET_CONFIGURATION",
    0x24800: "IOCTL_CDROM_CHECK_VERIFY",
    0x24804: "IOCTL_CDROM_MEDIA_REMOVAL",
    0x24808: "IOCTL_CDROM_EJECT_MEDIA",
    0x2480C: "IOCTL_CDROM_LOAD_MEDIA",
    0x41018: "IOCTL_SCSI_GET_ADDRESS",
    0x41020: "IOCTL_SCSI_GET_DUMP_POINTERS",
    0x41024: "IOCTL_SCSI_FREE_DUMP_POINTERS",
    0x4D004: "IOCTL_SCSI_PASS_THROUGH",
    0x4D014: "IOCTL_SCSI_PASS_THROUGH_DIRECT",
    0x60198: "FSCTL_DFS_REPORT_INCONSISTENCY",
    0x60190: "FSCTL_DFS_TRANSLATE_PATH",
    0x60194: "FSCTL_DFS_GET_REFERRALS",
    0x6019C: "FSCTL_DFS_IS_SHARE_IN_DFS",
    0x601A0: "FSCTL_DFS_IS_ROOT",
    0x601A4: "FSCTL_DFS_GET_VERSION",
    0x70000: "IOCTL_DISK_GET_DRIVE_GEOMETRY",
    0x70014: "IOCTL_DISK_VERIFY",
    0x70020: "IOCTL_DISK_PERFORMANCE",
    0x70024: "IOCTL_DISK_IS_WRITABLE",
    0x70028: "IOCTL_DISK_LOGGING",
    0x70030: "IOCTL_DISK_HISTOGRAM_STRUCTURE",
    0x70034: "IOCTL_DISK_HISTOGRAM_DATA",
    0x70038: "IOCTL_DISK_HISTOGRAM_RESET",
    0x7003C: "IOCTL_DISK_REQUEST_STRUCTURE",
    0x70040: "IOCTL_DISK_REQUEST_DATA",
    0x70048: "IOCTL_DISK_GET_PARTITION_INFO_EX",
    0x70050: "IOCTL_DISK_GET_DRIVE_LAYOUT_EX",
    0x70060: "IOCTL_DISK_PERFORMANCE_OFF",
    0x700A0: "IOCTL_DISK_GET_DRIVE_GEOMETRY_EX",
    0x700F0: "IOCTL_DISK_GET_DISK_ATTRIBUTES",
    0x70140: "IOCTL_DISK_UPDATE_PROPERTIES",
    0x70214: "IOCTL_DISK_GET_CLUSTER_INFO",
    0x70C00: "IOCTL_DISK_GET_MEDIA_TYPES",
    0x74004: "IOCTL_DISK_GET_PARTITION_INFO",
    0x7400C: "IOCTL_DISK_GET_DRIVE_LAYOUT",
    0x7405C: "IOCTL_DISK_GET_LENGTH_INFO",
    0x74080: "SMART_GET_VERSION",
    0x740D4: "IOCTL_DISK_GET_CACHE_INFORMATION",
    0x74800: "IOCTL_DISK_CHECK_VERIFY",
    0x74804: "IOCTL_DISK_MEDIA_REMOVAL",
    0x74808: "IOCTL_DISK_EJECT_MEDIA",
    0x7480C: "IOCTL_DISK_LOAD_MEDIA",
    0x74810: "IOCTL_DISK_RESERVE",
    0x74814: "IOCTL_DISK_RELEASE",
    0x74818: "IOCTL_DISK_FIND_NEW_DEVICES",
    0x7C008: "IOCTL_DISK_SET_PARTITION_INFO",
    0x7C010: "IOCTL_DISK_SET_DRIVE_LAYOUT",
    0x7C018: "IOCTL_DISK_FORMAT_TRACKS",
    0x7C01C: "IOCTL_DISK_REASSIGN_BLOCKS",
    0x7C02C: "IOCTL_DISK_FORMAT_TRACKS_EX",
    0x7C04C: "IOCTL_DISK_SET_PARTITION_INFO_EX",
    0x7C054: "IOCTL_DISK_SET_DRIVE_LAYOUT_EX",
    0x7C058: "IOCTL_DISK_CREATE_DISK",
    0x7C084: "SMART_SEND_DRIVE_COMMAND",
    0x7C088: "SMART_RCV_DRIVE_DATA",
    0x7C0A4: "IOCTL_DISK_REASSIGN_BLOCKS_EX",
    0x7C0C8: "IOCTL_DISK_UPDATE_DRIVE_SIZE",
    0x7C0D0: "IOCTL_DISK_GROW_PARTITION",
    0x7C0D8: "IOCTL_DISK_SET_CACHE_INFORMATION",
    0x7C0F4: "IOCTL_DISK_SET_DISK_ATTRIBUTES",
    0x7C218: "IOCTL_DISK_SET_CLUSTER_INFO",
    0x90100: "FSCTL_SIS_COPYFILE",
    0x90000: "FSCTL_REQUEST_OPLOCK_LEVEL_1",
    0x90004: "FSCTL_REQUEST_OPLOCK_LEVEL_2",
    0x90008: "FSCTL_REQUEST_BATCH_OPLOCK",
    0x9000C: "FSCTL_OPLOCK_BREAK_ACKNOWLEDGE",
    0x90010: "FSCTL_OPBATCH_ACK_CLOSE_PENDING",
    0x90014: "FSCTL_OPLOCK_BREAK_NOTIFY",
    0x90018: "FSCTL_LOCK_VOLUME",
    0x9001C: "FSCTL_UNLOCK_VOLUME",
    0x90020: "FSCTL_DISMOUNT_VOLUME",
    0x90028: "FSCTL_IS_VOLUME_MOUNTED",
    0x9002C: "FSCTL_IS_PATHNAME_VALID",
    0x90030: "FSCTL_MARK_VOLUME_DIRTY",
    0x9003B: "FSCTL_QUERY_RETRIEVAL_POINTERS",
    0x9003C: "FSCTL_GET_COMPRESSION",
    0x90050: "FSCTL_OPLOCK_BREAK_ACK_NO_2",
    0x90058: "FSCTL_QUERY_FAT_BPB",
    0x9005C: "FSCTL_REQUEST_FILTER_OPLOCK",
    0x90060: "FSCTL_FILESYSTEM_GET_STATISTICS",
    0x90064: "FSCTL_GET_NTFS_VOLUME_DATA",
    0x90068: "FSCTL_GET_NTFS_FILE_RECORD",
    0x9006F: "FSCTL_GET_VOLUME_BITMAP",
    0x90073: "FSCTL_GET_RETRIEVAL_POINTERS",
    0x90074: "FSCTL_MOVE_FILE",
    0x90078: "FSCTL_IS_VOLUME_DIRTY",
    0x90083: "FSCTL_ALLOW_EXTENDED_DASD_IO",
    0x90087: "FSCTL_READ_PROPERTY_DATA",
    0x9008B: "FSCTL_WRITE_PROPERTY_DATA",
    0x9008F: "FSCTL_FIND_FILES_BY_SID",
    0x90097: "FSCTL_DUMP_PROPERTY_DATA",
    0x90098: "FSCTL_SET_OBJECT_ID",
    0x9009C: "FSCTL_GET_OBJECT_ID",
    0x900A0: "FSCTL_DELETE_OBJECT_ID",
    0x900A4: "FSCTL_SET_REPARSE_POINT",
    0x900A8: "FSCTL_GET_REPARSE_POINT",
    0x900AC: "FSCTL_DELETE_REPARSE_POINT",
    0x900B3: "FSCTL_ENUM_USN_DATA",
    0x900BB: "FSCTL_READ_USN_JOURNAL",
    0x900BC: "FSCTL_SET_OBJECT_ID_EXTENDED",
    0x900C0: "FSCTL_CREATE_OR_GET_OBJECT_ID",
    0x900C4: "FSCTL_SET_SPARSE",
    0x900D7: "FSCTL_SET_ENCRYPTION",
    0x900DB: "FSCTL_ENCRYPTION_FSCTL_IO",
    0x900DF: "FSCTL_WRITE_RAW_ENCRYPTED",
    0x900E3: "FSCTL_READ_RAW_ENCRYPTED",
    0x900E7: "FSCTL_CREATE_USN_JOURNAL",
    0x900EB: "FSCTL_READ_FILE_USN_DATA",
    0x900EF: "FSCTL_WRITE_USN_CLOSE_RECORD",
    0x900F0: "FSCTL_EXTEND_VOLUME",
    0x900F4: "FSCTL_QUERY_USN_JOURNAL",
    0x900F8: "FSCTL_DELETE_USN_JOURNAL",
    0x900FC: "FSCTL_MARK_HANDLE",
    0x90120: "FSCTL_FILE_PREFETCH",
    0x901AF: "CSC_FSCTL_OPERATION_QUERY_HANDLE",
    0x901F0: "FSCTL_QUERY_DEPENDENT_VOLUME",
    0x90230: "FSCTL_GET_BOOT_AREA_INFO",
    0x90240: "FSCTL_REQUEST_OPLOCK",
    0x90244: "FSCTL_CSV_TUNNEL_REQUEST",
    0x9024C: "FSCTL_QUERY_FILE_SYSTEM_RECOGNITION",
    0x90254: "FSCTL_CSV_GET_VOLUME_NAME_FOR_VOLUME_MOUNT_POINT",
    0x90258: "FSCTL_CSV_GET_VOLUME_PATH_NAMES_FOR_VOLUME_NAME",
    0x9025C: "FSCTL_IS_FILE_ON_CSV_VOLUME",
    0x90260: "FSCTL_CORRUPTION_HANDLING",
    0x90270: "FSCTL_SET_PURGE_FAILURE_MODE",
    0x90277: "FSCTL_QUERY_FILE_LAYOUT",
    0x90278: "FSCTL_IS_VOLUME_OWNED_BYCSVFS",
    0x9027C: "FSCTL_GET_INTEGRITY_INFORMATION",
    0x90284: "FSCTL_QUERY_FILE_REGIONS",
    0x902B0: "FSCTL_SCRUB_DATA",
    0x902B8: "FSCTL_DISABLE_LOCAL_BUFFERING",
    0x9030C: "FSCTL_SET_EXTERNAL_BACKING",
    0xC4003: "FSCTL_MAILSLOT_PEEK",
    0x980D0: "FSCTL_ENABLE_UPGRADE",
    0x941E4: "FSCTL_TXFS_LIST_TRANSACTIONS",
    0x90310: "FSCTL_GET_EXTERNAL_BACKING",
    0x940B7: "FSCTL_SECURITY_ID_CHECK",
    0x940CF: "FSCTL_QUERY_ALLOCATED_RANGES",
    0x94264: "FSCTL_OFFLOAD_READ",
    0x980C8: "FSCTL_SET_ZERO_DATA",
    0x9C104: "FSCTL_SIS_LINK_FILES",
    0x98208: "FSCTL_FILE_LEVEL_TRIM",
    0x98268: "FSCTL_OFFLOAD_WRITE",
    0x9C040: "FSCTL_SET_COMPRESSION",
    0x9C108: "FSCTL_HSM_MSG",
    0x9C2B4: "FSCTL_REPAIR_COPIES",
    0x110020: "FSCTL_PIPE_SET_CLIENT_PROCESS",
    0x110000: "FSCTL_PIPE_ASSIGN_EVENT",
    0x110004: "FSCTL_PIPE_DISCONNECT",
    0x110008: "FSCTL_PIPE_LISTEN",
    0x110010: "FSCTL_PIPE_QUERY_EVENT",
    0x110018: "FSCTL_PIPE_WAIT",
    0x11001C: "FSCTL_PIPE_IMPERSONATE",
    0x119FF8: "FSCTL_PIPE_INTERNAL_WRITE",
    0x110024: "FSCTL_QUERY_CLIENT_PROCESS",
    0x11400C: "FSCTL_PIPE_PEEK",
    0x116000: "FSCTL_PIPE_INTERNAL_READ",
    0x11C017: "FSCTL_PIPE_TRANSCEIVE",
    0x11DFFF: "FSCTL_PIPE_INTERNAL_TRANSCEIVE",
    0x140191: "FSCTL_LMR_START",
    0x140193: "IOCTL_SMBMRX_START",
    0x140194: "FSCTL_LMR_STOP",
    0x140197: "IOCTL_SMBMRX_STOP",
    0x140198: "IOCTL_SMBMRX_GETSTATE",
    0x140199: "FSCTL_NETWORK_SET_CONFIGURATION_INFO",
    0x14019E: "FSCTL_NETWORK_GET_CONFIGURATION_INFO",
    0x1401A3: "FSCTL_NETWORK_GET_CONNECTION_INFO",
    0x1401A7: "FSCTL_NETWORK_ENUMERATE_CONNECTIONS",
    0x1401AB: "FSCTL_LMR_FORCE_DISCONNECT",
    0x1401AC: "FSCTL_NETWORK_DELETE_CONNECTION",
    0x1401B0: "FSCTL_LMR_BIND_TO_TRANSPORT",
    0x1401B4: "FSCTL_LMR_UNBIND_FROM_TRANSPORT",
    0x1401BB: "FSCTL_LMR_ENUMERATE_TRANSPORTS",
    0x1401C4: "FSCTL_LMR_GET_HINT_SIZE",
    0x1401C8: "FSCTL_LMR_TRANSACT",
    0x1401CC: "FSCTL_LMR_ENUMERATE_PRINT_INFO",
    0x1401D0: "FSCTL_NETWORK_GET_STATISTICS",
    0x1401D4: "FSCTL_LMR_START_SMBTRACE",
    0x1401D8: "FSCTL_LMR_END_SMBTRACE",
    0x1401DC: "FSCTL_LMR_START_RBR",
    0x1401E0: "FSCTL_NETWORK_SET_DOMAIN_NAME",
    0x1401E4: "FSCTL_LMR_SET_SERVER_GUID",
    0x1401E8: "FSCTL_LMR_QUERY_TARGET_INFO",
    0x1401EC: "FSCTL_LMR_QUERY_DEBUG_INFO",
    0x1401F4: "IOCTL_SMBMRX_ADDCONN",
    0x1401F8: "IOCTL_SMBMRX_DELCONN",
    0x140FDB: "IOCTL_SHADOW_END_REINT",
    0x140378: "IOCTL_UMRX_RELEASE_THREADS",
    0x14037E: "IOCTL_UMRX_GET_REQUEST",
    0x140382: "IOCTL_UMRX_RESPONSE_AND_REQUEST",
    0x140386: "IOCTL_UMRX_RESPONSE",
    0x140388: "IOCTL_UMRX_GET_LOCK_OWNER",
    0x14038C: "IOCTL_LMR_QUERY_REMOTE_SERVER_NAME",
    0x140390: "IOCTL_LMR_DISABLE_LOCAL_BUFFERING",
    0x140394: "IOCTL_UMRX_PREPARE_QUEUE",
    0x140397: "IOCTL_LMR_LWIO_POSTIO",
    0x14039B: "IOCTL_LMR_LWIO_PREIO",
    0x1403E8: "FSCTL_NETWORK_REMOTE_BOOT_INIT_SCRT",
    0x2D0C00: "IOCTL_STORAGE_GET_MEDIA_TYPES",
    0x140FFF: "IOCTL_GETSHADOW",
    0x2D0800: "IOCTL_STORAGE_CHECK_VERIFY2",
    0x2D080C: "IOCTL_STORAGE_LOAD_MEDIA2",
    0x2D0940: "IOCTL_STORAGE_EJECTION_CONTROL",
    0x2D0944: "IOCTL_STORAGE_MCN_CONTROL",
    0x2D0C04: "IOCTL_STORAGE_GET_MEDIA_TYPES_EX",
    0x2D0C10: "IOCTL_STORAGE_GET_MEDIA_SERIAL_NUMBER",
    0x2D0C14: "IOCTL_STORAGE_GET_HOTPLUG_INFO",
    0x2D1080: "IOCTL_STORAGE_GET_DEVICE_NUMBER",
    0x2D1100: "IOCTL_STORAGE_PREDICT_FAILURE",
    0x2D1400: "IOCTL_STORAGE_QUERY_PROPERTY",
    0x530190: "IOCTL_VOLSNAP_QUERY_ORIGINAL_VOLUME_NAME",
    0x2D5004: "IOCTL_STORAGE_RESET_DEVICE",
    0x2D4800: "IOCTL_STORAGE_CHECK_VERIFY",
    0x2D4804: "IOCTL_STORAGE_MEDIA_REMOVAL",
    0x2D4808: "IOCTL_STORAGE_EJECT_MEDIA",
    0x2D480C: "IOCTL_STORAGE_LOAD_MEDIA",
    0x2D4810: "IOCTL_STORAGE_RESERVE",
    0x2D4814: "IOCTL_STORAGE_RELEASE",
    0x2D4818: "IOCTL_STORAGE_FIND_NEW_DEVICES",
    0x2D5000: "IOCTL_STORAGE_RESET_BUS",
    0x2D518C: "IOCTL_STORAGE_QUERY_DEPENDENT_DISK",
    0x2D5014: "IOCTL_STORAGE_BREAK_RESERVATION",
    0x2D5018: "IOCTL_STORAGE_PERSISTENT_RESERVE_IN",
    0x2D5140: "IOCTL_STORAGE_READ_CAPACITY",
    0x2DCC18: "IOCTL_STORAGE_SET_HOTPLUG_INFO",
    0x2DD01C: "IOCTL_STORAGE_PERSISTENT_RESERVE_OUT",
    0x38A813: "IOCTL_CHANNEL_GET_SNDCHANNEL",
    0x530018: "IOCTL_VOLSNAP_QUERY_NAMES_OF_SNAPSHOTS",
    0x4D0000: "IOCTL_MOUNTDEV_QUERY_UNIQUE_ID",
    0x4D0004: "IOCTL_MOUNTDEV_UNIQUE_ID_CHANGE_NOTIFY",
    0x4D0008: "IOCTL_MOUNTDEV_QUERY_DEVICE_NAME",
    0x4D000C: "IOCTL_MOUNTDEV_QUERY_SUGGESTED_LINK_NAME",
    0x4D0010: "IOCTL_MOUNTDEV_LINK_CREATED",
    0x4D0014: "IOCTL_MOUNTDEV_LINK_DELETED",
    0x530024: "IOCTL_VOLSNAP_QUERY_DIFF_AREA",
    0x53002C: "IOCTL_VOLSNAP_QUERY_DIFF_AREA_SIZES",
    0x530034: "IOCTL_VOLSNAP_AUTO_CLEANUP",
    0x53003C: "IOCTL_VOLSNAP_QUERY_REVERT",
    0x530040: "IOCTL_VOLSNAP_REVERT_CLEANUP",
    0x530048: "IOCTL_VOLSNAP_QUERY_REVERT_PROGRESS",
    0x53004C: "IOCTL_VOLSNAP_CANCEL_REVERT",
    0x530050: "IOCTL_VOLSNAP_QUERY_EPIC",
    0x53005E: "IOCTL_VOLSNAP_QUERY_COPY_FREE_BITMAP",
    0x534054: "IOCTL_VOLSNAP_QUERY_OFFLINE",
    0x53019C: "IOCTL_VOLSNAP_QUERY_CONFIG_INFO",
    0x5301A0: "IOCTL_VOLSNAP_HAS_CHANGED",
    0x5301A4: "IOCTL_VOLSNAP_SET_SNAPSHOT_PRIORITY",
    0x5301A8: "IOCTL_VOLSNAP_QUERY_SNAPSHOT_PRIORITY",
    0x5301AE: "IOCTL_VOLSNAP_QUERY_DELTA_BITMAP",
    0x5301B2: "IOCTL_VOLSNAP_QUERY_SNAPSHOT_SUPPLEMENTAL",
    0x5301B6: "IOCTL_VOLSNAP_QUERY_COPIED_BITMAP",
    0x5301B8: "IOCTL_VOLSNAP_QUERY_MOVE_LIST",
    0x5301BE: "IOCTL_VOLSNAP_QUERY_PRE_COPIED_BITMAP",
    0x5301C2: "IOCTL_VOLSNAP_QUERY_USED_PRE_COPIED_BITMAP",
    0x5301C6: "IOCTL_VOLSNAP_QUERY_DEFRAG_PRE_COPIED_BITMAP",
    0x5301CA: "IOCTL_VOLSNAP_QUERY_FREESPACE_PRE_COPIED_BITMAP",
    0x5301CE: "IOCTL_VOLSNAP_QUERY_HOTBLOCKS_PRE_COPIED_BITMAP",
    0x5301D0: "IOCTL_VOLSNAP_QUERY_DIFF_AREA_FILE_SIZES",
    0x53C000: "IOCTL_VOLSNAP_FLUSH_AND_HOLD_WRITES",
    0x534058: "IOCTL_VOLSNAP_QUERY_DIFF_AREA_MINIMUM_SIZE",
    0x534064: "IOCTL_VOLSNAP_BLOCK_DELETE_IN_THE_MIDDLE",
    0x534070: "IOCTL_VOLSNAP_QUERY_APPLICATION_FLAGS",
    0x534080: "IOCTL_VOLSNAP_QUERY_PERFORMANCE_COUNTERS",
    0x534088: "IOCTL_VOLSNAP_QUERY_PRE_COPY_AMOUNTS",
    0x53408C: "IOCTL_VOLSNAP_QUERY_DEFAULT_PRE_COPY_AMOUNTS",
    0x53C198: "IOCTL_VOLSNAP_SET_APPLICATION_INFO",
    0x53C004: "IOCTL_VOLSNAP_RELEASE_WRITES",
    0x53C008: "IOCTL_VOLSNAP_PREPARE_FOR_SNAPSHOT",
    0x53C00C: "IOCTL_VOLSNAP_ABORT_PREPARED_SNAPSHOT",
    0x53C010: "IOCTL_VOLSNAP_COMMIT_SNAPSHOT",
    0x53C014: "IOCTL_VOLSNAP_END_COMMIT_SNAPSHOT",
    0x53C01C: "IOCTL_VOLSNAP_CLEAR_DIFF_AREA",
    0x53C020: "IOCTL_VOLSNAP_ADD_VOLUME_TO_DIFF_AREA",
    0x53C028: "IOCTL_VOLSNAP_SET_MAX_DIFF_AREA_SIZE",
    0x53C030: "IOCTL_VOLSNAP_DELETE_OLDEST_SNAPSHOT",
    0x53C038: "IOCTL_VOLSNAP_DELETE_SNAPSHOT",
    0x53C044: "IOCTL_VOLSNAP_REVERT",
    0x53C068: "IOCTL_VOLSNAP_SET_MAX_DIFF_AREA_SIZE_TEMP",
    0x53C06C: "IOCTL_VOLSNAP_SET_APPLICATION_FLAGS",
    0x53C07C: "IOCTL_VOLSNAP_SET_BC_FAILURE_MODE",
    0x53C084: "IOCTL_VOLSNAP_SET_PRE_COPY_AMOUNTS",
    0x53C090: "IOCTL_VOLSNAP_PRE_EXPOSE_DEVICES",
    0x560000: "IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS",
    0x560038: "IOCTL_VOLUME_GET_GPT_ATTRIBUTES",
    0x700010: "IOCTL_DISK_QUERY_DEVICE_STATE",
    0x704008: "IOCTL_DISK_QUERY_DISK_SIGNATURE",
}

FILE_INFORMATION_CLASSES = {
    0: "Unknown",
    1: "FileDirectoryInformation",
    2: "FileFullDirectoryInformation",
    3: "FileBothDirectoryInformation",
    4: "FileBasicInformation",
    5: "FileStandardInformation",
    6: "FileInternalInformation",
    7: "FileEaInformation",
    8: "FileAccessInformation",
    9: "FileNameInformation",
    10: "FileRenameInformation",
    11: "FileLinkInformation",
    12: "FileNamesInformation",
    13: "FileDispositionInformation",
    14: "FilePositionInformation",
    15: "FileFullEaInformation",
    16: "FileModeInformation",
    17: "FileAlignmentInformation",
    18: "FileAllInformation",
    19: "FileAllocationInformation",
    20: "FileEndOfFileInformation",
    21: "FileAlternateNameInformation",
    22: "FileStreamInformation",
    23: "FilePipeInformation",
    24: "FilePipeLocalInformation",
    25: "FilePipeRemoteInformation",
    26: "FileMailslotQueryInformation",
    27: "FileMailslotSetInformation",
    28: "FileCompressionInformation",
    29: "FileObjectIdInformation",
    30: "FileCompletionInformation",
    31: "FileMoveClusterInformation",
    32: "FileQuotaInformation",
    33: "FileReparsePointInformation",
    34: "FileNetworkOpenInformation",
    35: "FileAttributeTagInformation",
    36: "FileTrackingInformation",
    37: "FileIdBothDirectoryInformation",
    38: "FileIdFullDirectoryInformation",
    39: "FileValidDataLengthInformation",
    40: "FileShortNameInformation",
    41: "FileIoCompletionNotificationInformation",
    42: "FileIoStatusBlockRangeInformation",
    43: "FileIoPriorityHintInformation",
    44: "FileSfioReserveInformation",
    45: "FileSfioVolumeInformation",
    46: "FileHardLinkInformation",
    47: "FileProcessIdsUsingFileInformation",
    48: "FileNormalizedNameInformation",
    49: "FileNetworkPhysicalNameInformation",
    50: "FileIdGlobalTxDirectoryInformation",
    51: "FileIsRemoteDeviceInformation",
    52: "FileUnusedInformation",
    53: "FileNumaNodeInformation",
    54: "FileStandardLinkInformation",
    55: "FileRemoteProtocolInformation",
    56: "FileRenameInformationBypassAccessCheck",
    57: "FileLinkInformationBypassAccessCheck",
    58: "FileVolumeNameInformation",
    59: "FileIdInformation",
    60: "FileIdExtdDirectoryInformation",
    61: "FileReplaceCompletionInformation",
    62: "FileHardLinkFullIdInformation",
    63: "FileIdExtdBothDirectoryInformation",
    64: "FileDispositionInformationEx",
    65: "FileRenameInformationEx",
    66: "FileRenameInformationExBypassAccessCheck",
    67: "FileDesiredStorageClassInformation",
    68: "FileStatInformation",
    69: "FileMemoryPartitionInformation",
}

OPERATIONS: dict[int, dict[int, str]] = {
    PROCESS: _PROCESS_OPS,
    REGISTRY: _REGISTRY_OPS,
    FILE_SYSTEM: _FILE_SYSTEM_OPS,
    PROFILING: _PROFILING_OPS,
    NETWORK: _NETWORK_OPS,
    IPC: _FILE_SYSTEM_OPS,
}

# File-system operations whose first detail byte names a more specific operation.
SUB_OPERATIONS: dict[int, dict[int, str]] = {
    30: _SUB_QUERYVOLUMEINFORMATION,
    31: _SUB_SETVOLUMEINFORMATION,
    25: _SUB_QUERYINFORMATIONFILE,
    26: _SUB_SETINFORMATIONFILE,
    32: _SUB_DIRECTORYCONTROL,
    47: _SUB_PLUGANDPLAY,
    37: _SUB_LOCKUNLOCKFILE,
}

UNKNOWN = "<Unknown>"

# Procmon's operation names that have no number of their own (network ops are "TCP Send", "UDP Receive").
NAME_TO_CLASS: dict[str, int] = {}
for _cls, _ops in OPERATIONS.items():
    if _cls == IPC:
        continue
    for _name in _ops.values():
        NAME_TO_CLASS.setdefault(_name, _cls)
for _subs in SUB_OPERATIONS.values():
    for _name in _subs.values():
        NAME_TO_CLASS.setdefault(_name, FILE_SYSTEM)
for _name in list(_NETWORK_OPS.values()):
    NAME_TO_CLASS[f"TCP {_name}"] = NETWORK
    NAME_TO_CLASS[f"UDP {_name}"] = NETWORK
NAME_TO_RESULT: dict[str, int] = {v: k for k, v in RESULT_NAMES.items() if v}
CLASS_BY_NAME: dict[str, int] = {v: k for k, v in EVENT_CLASSES.items()}


def operation_name(event_class: int, operation: int, sub: int = 0) -> str:
    """Procmon's display name of an operation.

    Args:
        event_class: 1 Process, 2 Registry, 3 File System, 4 Profiling, 5 Network, 6 IPC.
        operation: the operation number of the event header.
        sub: the first detail byte (file-system sub-operation; TCP flag for network events).

    Returns:
        The name (``RegSetValue``, ``Load Image``, ``QueryBasicInformationFile``, ``TCP Send``), or
        ``<Unknown>`` when the numbers are not known.
    """
    ops = OPERATIONS.get(event_class)
    if ops is None:
        return UNKNOWN
    name = ops.get(operation)
    if name is None:
        return UNKNOWN
    if event_class == NETWORK:
        return f"{'TCP' if sub & 4 else 'UDP'} {name}"
    if event_class in (FILE_SYSTEM, IPC) and sub:
        subs = SUB_OPERATIONS.get(operation)
        if subs is not None:
            return subs.get(sub, UNKNOWN)
    return name


def result_name(status: int) -> str:
    """Procmon's Result text for an NTSTATUS (``ACCESS DENIED``); unknown codes as ``0xC0000XYZ``."""
    name = RESULT_NAMES.get(status)
    return name if name is not None else f"0x{status:X}"


@functools.lru_cache(maxsize=8192)
def mask_names(mask: int, table: Iterable[tuple[int, str]], sep: str = ", ") -> str:
    """Names of the flags set in ``mask``, in table order; a multi-bit entry consumes its bits."""
    out: list[str] = []
    for value, name in table:
        if mask & value == value:
            out.append(name)
            mask &= ~value
    return sep.join(out)


@functools.lru_cache(maxsize=8192)
def mask_names_hex(mask: int, table: Iterable[tuple[int, str]], sep: str = ", ") -> str:
    """Like :func:`mask_names`, with the bits no name covers appended as ``0x..``."""
    out: list[str] = []
    for value, name in table:
        if mask & value == value and value:
            out.append(name)
            mask &= ~value
    if mask:
        out.append(f"0x{mask:x}")
    return sep.join(out)


_COMMON_ACCESS = (
    (0x10000, "Delete"),
    (0x20000, "Read Control"),
    (0x40000, "Write DAC"),
    (0x80000, "Write Owner"),
    (0x100000, "Synchronize"),
    (0x1000000, "Access System Security"),
    (0x2000000, "Maximum Allowed"),
)
REGISTRY_ACCESS = (
    (0xF003F, "All Access"),
    (0x2001F, "Read/Write"),
    (0x20019, "Read"),
    (0x20006, "Write"),
    (0x1, "Query Value"),
    (0x2, "Set Value"),
    (0x4, "Create Sub Key"),
    (0x8, "Enumerate Sub Keys"),
    (0x10, "Notify"),
    (0x20, "Create Link"),
    (0x300, "WOW64_Res"),
    (0x200, "WOW64_32Key"),
    (0x100, "WOW64_64Key"),
    *_COMMON_ACCESS,
)
FILE_ACCESS = (
    (0x1F01FF, "All Access"),
    (0x1201BF, "Generic Read/Write/Execute"),
    (0x12019F, "Generic Read/Write"),
    (0x1200A9, "Generic Read/Execute"),
    (0x1201B6, "Generic Write/Execute"),
    (0x120089, "Generic Read"),
    (0x120116, "Generic Write"),
    (0x1200A0, "Generic Execute"),
    (0x1, "Read Data/List Directory"),
    (0x2, "Write Data/Add File"),
    (0x4, "Append Data/Add Subdirectory/Create Pipe Instance"),
    (0x8, "Read EA"),
    (0x10, "Write EA"),
    (0x20, "Execute/Traverse"),
    (0x40, "Delete Child"),
    (0x80, "Read Attributes"),
    (0x100, "Write Attributes"),
    *_COMMON_ACCESS,
)
# GENERIC_READ, GENERIC_WRITE, GENERIC_EXECUTE, GENERIC_ALL mapped as MapGenericMask does
_REGISTRY_GENERIC = (0x20019, 0x20006, 0x20019, 0xF003F)
_FILE_GENERIC = (0x120089, 0x120116, 0x1200A0, 0x1F01FF)


def _access(mask: int, generic: tuple[int, int, int, int], table: Iterable[tuple[int, str]]) -> str:
    for bit, mapped in zip((0x80000000, 0x40000000, 0x20000000, 0x10000000), generic, strict=True):
        if mask & bit:
            mask |= mapped
    return mask_names(mask, table) or f"None 0x{mask:x}"


@functools.lru_cache(maxsize=8192)
def registry_access(mask: int) -> str:
    """A registry ACCESS_MASK as Procmon prints it (``Read``, ``Set Value, Create Sub Key``)."""
    return _access(mask, _REGISTRY_GENERIC, REGISTRY_ACCESS)


@functools.lru_cache(maxsize=8192)
def file_access(mask: int) -> str:
    """A file ACCESS_MASK as Procmon prints it (``Generic Read``, ``Read Attributes``)."""
    return _access(mask, _FILE_GENERIC, FILE_ACCESS)


CREATE_OPTIONS = (
    (0x1, "Directory"),
    (0x2, "Write Through"),
    (0x4, "Sequential Access"),
    (0x8, "No Buffering"),
    (0x10, "Synchronous IO Alert"),
    (0x20, "Synchronous IO Non-Alert"),
    (0x40, "Non-Directory File"),
    (0x80, "Create Tree Connection"),
    (0x100, "Complete If Oplocked"),
    (0x200, "No EA Knowledge"),
    (0x400, "Open for Recovery"),
    (0x800, "Random Access"),
    (0x1000, "Delete On Close"),
    (0x2000, "Open By ID"),
    (0x4000, "Open For Backup"),
    (0x8000, "No Compression"),
    (0x100000, "Reserve OpFilter"),
    (0x200000, "Open Reparse Point"),
    (0x400000, "Open No Recall"),
    (0x800000, "Open For Free Space Query"),
    (0x10000, "Open Requiring Oplock"),
    (0x20000, "Disallow Exclusive"),
)
FILE_ATTRIBUTES = (
    (0x1, "R"),
    (0x2, "H"),
    (0x4, "S"),
    (0x10, "D"),
    (0x20, "A"),
    (0x40, "D"),
    (0x80, "N"),
    (0x100, "T"),
    (0x200, "SF"),
    (0x400, "RP"),
    (0x800, "C"),
    (0x1000, "O"),
    (0x2000, "NCI"),
    (0x4000, "E"),
    (0x10000, "V"),
    (0x180000, " 0x180000"),
    (0x80000, " 0x80000"),
    (0x100000, " 0x100000"),
)
SHARE_MODES = ((0x1, "Read"), (0x2, "Write"), (0x4, "Delete"))
IO_FLAGS = (
    (0x10, "Buffered"),
    (0x1, "Non-cached"),
    (0x2, "Paging I/O"),
    (0x4, "Synchronous"),
    (0x40, "Synchronous Paging I/O"),
    (0x400000, "Write Through"),
)
PRIORITIES = {1: "Very Low", 2: "Low", 3: "Normal", 4: "High", 5: "Critical"}
NOTIFY_FILTERS = (
    (0x1, "FILE_NOTIFY_CHANGE_FILE_NAME"),
    (0x2, "FILE_NOTIFY_CHANGE_DIR_NAME"),
    (0x3, "FILE_NOTIFY_CHANGE_NAME"),
    (0x4, "FILE_NOTIFY_CHANGE_ATTRIBUTES"),
    (0x8, "FILE_NOTIFY_CHANGE_SIZE"),
    (0x10, "FILE_NOTIFY_CHANGE_LAST_WRITE"),
    (0x20, "FILE_NOTIFY_CHANGE_LAST_ACCESS"),
    (0x40, "FILE_NOTIFY_CHANGE_CREATION"),
    (0x80, "FILE_NOTIFY_CHANGE_EA"),
    (0x100, "FILE_NOTIFY_CHANGE_SECURITY"),
    (0x200, "FILE_NOTIFY_CHANGE_STREAM_NAME"),
    (0x400, "FILE_NOTIFY_CHANGE_STREAM_SIZE"),
    (0x800, "FILE_NOTIFY_CHANGE_STREAM_WRITE"),
)
SECURITY_INFORMATION = (
    (0x1, "Owner"),
    (0x2, "Group"),
    (0x4, "DACL"),
    (0x8, "SACL"),
    (0x10, "Label"),
    (0x20, "Attribute"),
    (0x40, "Scope"),
    (0x80, "Process Trust Label"),
    (0x10000, "Backup"),
    (0x80000000, "DACL Protected"),
    (0x40000000, "SACL Protected"),
    (0x20000000, "DACL Unprotected"),
    (0x10000000, "SACL Unprotected"),
)
PAGE_PROTECTIONS = (
    (0x02, "PAGE_READONLY"),
    (0x04, "PAGE_READWRITE"),
    (0x08, "PAGE_WRITECOPY"),
    (0x10, "PAGE_EXECUTE"),
    (0x20, "PAGE_EXECUTE_READ"),
    (0x40, "PAGE_EXECUTE_READWRITE"),
)
FS_ATTRIBUTES = (
    (0x2, "Case Preserved"),
    (0x1, "Case Sensitive"),
    (0x4, "Unicode"),
    (0x8, "ACLs"),
    (0x10, "Compression"),
    (0x8000, "Compressed"),
    (0x40000, "Named Streams"),
    (0x20000, "EFS"),
    (0x10000, "Object IDs"),
    (0x80, "Reparse Points"),
    (0x40, "Sparse Files"),
    (0x20, "Quotas"),
    (0x200000, "Transactions"),
    (0x80000, "Read Only"),
)
REG_TYPES = {
    0: "REG_NONE",
    1: "REG_SZ",
    2: "REG_EXPAND_SZ",
    3: "REG_BINARY",
    4: "REG_DWORD",
    5: "REG_DWORD_BIG_ENDIAN",
    6: "REG_LINK",
    7: "REG_MULTI_SZ",
    8: "REG_RESOURCE_LIST",
    9: "REG_FULL_RESOURCE_DESCRIPTOR",
    10: "REG_RESOURCE_REQUIREMENTS_LIST",
    11: "REG_QWORD",
}
REG_TYPE_CODES = {v: k for k, v in REG_TYPES.items()}
KEY_INFORMATION_CLASSES = {
    0: "Basic",
    1: "Node",
    2: "Full",
    3: "Name",
    4: "Cached",
    5: "Flags",
    6: "Virtualization",
    7: "HandleTags",
    8: "Trust",
    9: "Layer",
}
KEY_SET_INFORMATION_CLASSES = {
    0: "KeyWriteTimeInformation",
    1: "KeyWow64FlagsInformation",
    5: "KeySetHandleTagsInformation",
}
REG_DISPOSITIONS = {1: "REG_CREATED_NEW_KEY", 2: "REG_OPENED_EXISTING_KEY"}
FILE_DISPOSITIONS = {0: "Supersede", 1: "Open", 2: "Create", 3: "OpenIf", 4: "Overwrite", 5: "OverwriteIf"}
FILE_DISPOSITION_CODES = {v: k for k, v in FILE_DISPOSITIONS.items()}
OPEN_RESULTS = {0: "Superseded", 1: "Opened", 2: "Created", 3: "Overwritten", 4: "Exists", 5: "DoesNotExist"}
OPEN_RESULT_CODES = {v: k for k, v in OPEN_RESULTS.items()}
ALIGNMENTS = {
    0: "Byte",
    1: "Word",
    3: "Long",
    7: "Quad",
    0xF: "Octa",
    0x1F: "32 Byte",
    0x3F: "64 Byte",
    0x7F: "128 Byte",
    0xFF: "256 Byte",
    0x1FF: "512 Byte",
}
SYNC_TYPES = {0: "SyncTypeOther", 1: "SyncTypeCreateSection"}


@functools.lru_cache(maxsize=8192)
def ioctl_name(code: int) -> str:
    """An IOCTL/FSCTL code by name, or decoded into device/function/method as Procmon does."""
    name = IOCTL_NAMES.get(code)
    if name is not None:
        return name
    return f"0x{code:x} (Device:0x{code >> 16:x} Function:{(code >> 2) & 0xFFF} Method: {code & 3})"

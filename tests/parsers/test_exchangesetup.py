"""ExchangeSetup.log: the ten real failed Exchange setups of the shared corpus (read in place), our
copy-denied CU fixture at UTC+08:00, runs in different time zones, and damaged input."""
# ruff: noqa: DTZ001  (naive datetimes here are the local times as the log writes them)

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from culprit.model import Event, Severity
from culprit.parsers import sniff
from culprit.parsers.base import ParseContext, Source
from culprit.parsers.exchangesetup import (
    MAX_RECORD,
    MAX_TEXT,
    ExchangeSetupParser,
    message_fields,
    tz_offset,
)
from tests.conftest import corpus_path, data_path

FIXTURE = "cu_copy_denied_utc8.log"
DENIED = (
    r"C:\Program Files\Microsoft\Exchange Server\V15\Bin\Microsoft.Exchange.Diagnostics.Service.exe.config"
)
BANNER_KEYS = (
    "product",
    "setup_version",
    "os_version",
    "user",
    "mode",
    "sourcedir",
    "time_zone",
    "tz_offset",
)


def fixture(name: str = FIXTURE) -> Path:
    return data_path("parsers", "exchangesetup", name)


def parse(path: Path, offset: int | None = None) -> tuple[list[Event], ParseContext]:
    src = Source(path, path.name)
    ctx = ParseContext(src.name, utc_offset=offset)
    return list(ExchangeSetupParser().parse(src, ctx)), ctx


def at(evs: list[Event], line: int) -> Event:
    found = [e for e in evs if e.origin.line == line]
    assert len(found) == 1, [e.origin.line for e in evs]
    return found[0]


def banner(evs: list[Event]) -> dict[str, Any]:
    """The first value of each banner field in the file."""
    out: dict[str, Any] = {}
    for e in evs:
        for k in BANNER_KEYS:
            if k in e.fields and k not in out:
                out[k] = e.fields[k]
    return out


def first_error(evs: list[Event]) -> Event:
    return next(e for e in evs if e.severity is Severity.ERROR)


def rec(stamp: str, depth: int | str, text: str) -> str:
    return f"[{stamp}] [{depth}] {text}"


# --- the real corpus: one row per file ---------------------------------------------------------------

_BASE = {"os_version": "Microsoft Windows NT 6.2.9200.0", "user": "SOLO\\Han"}
GRAMMARS = r"C:\Program Files\Microsoft\Exchange Server\V15\UnifiedMessaging\grammars"
SPEECH_MSI = r"D:\cu23\Setup\ServerRoles\UnifiedMessaging\MSSpeech_SR_TEL.zh-CN.msi"
NO_SCHEMA_ADMIN = (
    "The Active Directory schema isn't up-to-date, and this user account isn't a member of the"
    " 'Schema Admins' and/or 'Enterprise Admins' groups."
)
CORPUS: dict[str, dict[str, Any]] = {
    # AD Topology service not running: Set-SharedConfigDC retried for 8 minutes, then gave up.
    "known_ExchangeSetup_ADServiceNotStarted.log": {
        "events": 476,
        "banner": {
            "product": "Microsoft Exchange Server 2019", "setup_version": "15.2.1544.4", "mode": "Install",
            "sourcedir": "D:\\", "time_zone": "(UTC-05:00) Eastern Time (US & Canada)", "tz_offset": -300,
        },
        "first_error": (
            500, datetime(2024, 3, 21, 16, 36, 7, 357000), "[ERROR] Unable to set shared config DC.", {},
        ),
    },
    # setup.exe run from the installed V15\bin folder: ManageScheduledTask.ps1 is not found.
    "known_ExchangeSetup_InstallFromBin.log": {
        "events": 88,
        "banner": {
            "product": "Microsoft Exchange Server 2016", "setup_version": "15.1.2176.9", "mode": "Upgrade",
            "sourcedir": r"D:\Program Files\Microsoft\Exchange Server\V15\bin",
            "time_zone": "(UTC-06:00) Central Time (US & Canada)", "tz_offset": -360,
        },
        "first_error": (
            72, datetime(2021, 12, 17, 16, 51, 6, 784000),
            r"0.  ErrorRecord: The term 'D:\Program Files\Microsoft\Exchange Server\V15\Bin"
            r"\ManageScheduledTask.ps1' is not recognized as the name of a cmdlet",
            {"error_record": 0, "level": None},
        ),
    },
    # UnifiedMessaging\grammars does not exist.
    "known_ExchangeSetup_MissingDirectory.log": {
        "events": 69,
        "banner": {
            "product": "Microsoft Exchange Server 2013", "setup_version": "15.0.1497.2", "mode": "Install",
            "sourcedir": r"C:\EXCH2013-CU23", "time_zone": "(UTC-05:00) Eastern Time (US & Canada)",
            "tz_offset": -300,
        },
        "first_error": (
            86, datetime(2021, 3, 6, 18, 39, 47, 692000),
            r"0.  ErrorRecord: Cannot find path 'C:\Program Files\Microsoft\Exchange Server\V15"
            r"\UnifiedMessaging\grammars' because it does not exist.",
            {"error_record": 0, "path": GRAMMARS},
        ),
    },
    # Search Foundation: "Timed out waiting for Admin node to be up and running".
    "known_ExchangeSetup_Search_Foundation_Failure.log": {
        "events": 96,
        "banner": {
            "product": "Microsoft Exchange Server 2016", "setup_version": "15.1.2106.2", "mode": "Upgrade",
            "sourcedir": "E:\\", "time_zone": "(UTC-06:00) Central Time (US & Canada)", "tz_offset": -360,
        },
        "first_error": (
            201, datetime(2021, 3, 7, 19, 2, 59, 794000),
            "[ERROR] Failure configuring SearchFoundation through installconfig.ps1 - Error occurred while"
            " configuring Search Foundation for Exchange.System.TimeoutException: Timed out waiting",
            {"exception": "System.TimeoutException", "lines": 4, "level": "ERROR"},
        ),
    },
    # ServiceControl.ps1: [Array]::Reverse of a null list ("Value cannot be null. Parameter name: array").
    "known_ExchangeSetup_ServiceControl_Reverse.log": {
        "events": 68,
        "banner": {
            "product": "Microsoft Exchange Server 2016", "setup_version": "15.1.2507.6", "mode": "Install",
            "sourcedir": "E:\\", "time_zone": "(UTC-05:00) Bogota, Lima, Quito, Rio Branco",
            "tz_offset": -300,
        },
        "first_error": (
            57, datetime(2022, 11, 3, 20, 43, 20, 669000),
            '0.  ErrorRecord: Exception calling "Reverse" with "1" argument(s): "Value cannot be null.'
            ' Parameter name: array"',
            {"error_record": 0, "lines": 2},
        ),
    },
    # MSI 1612 while removing a UM language pack: its installation source is gone.
    "msi_ExchangeSetup_MSI_1.log": {
        "events": 116,
        "banner": {
            "product": "Microsoft Exchange Server 2013", "setup_version": "15.0.1497.2", "mode": "Upgrade",
            "sourcedir": r"D:\Applications\Exchange_CU23\cu23",
            "os_version": "Microsoft Windows NT 6.1.7601 Service Pack 1",
            "time_zone": "(UTC-06:00) Central Time (US & Canada)", "tz_offset": -360,
        },
        "first_error": (
            104, datetime(2021, 3, 13, 6, 46, 30, 977000),
            "[ERROR] Couldn't remove product with code 8466eaed-7024-4aee-9d13-f3a55b98d114. The installation"
            " source for this product is not available.",
            {"error_code": 1612, "product_code": "{8466EAED-7024-4AEE-9D13-F3A55B98D114}"},
        ),
    },
    # MSI 1612 while installing a speech pack from the CU's source folder.
    "msi_ExchangeSetup_MSI_2.log": {
        "events": 117,
        "banner": {
            "product": "Microsoft Exchange Server 2013", "setup_version": "15.0.1497.2", "mode": "Upgrade",
            "sourcedir": r"D:\cu23", "time_zone": "(UTC-06:00) Central Time (US & Canada)", "tz_offset": -360,
        },
        "first_error": (
            97, datetime(2021, 3, 8, 17, 14, 48, 333000),
            rf"[ERROR] Installing product {SPEECH_MSI} failed.",
            {"error_code": 1612, "package": SPEECH_MSI},
        ),
    },
    # The server language pack MSI stage dies with a NullReferenceException (its message only).
    "msi_ExchangeSetup_MSI_4.log": {
        "events": 98,
        "banner": {
            "product": "Microsoft Exchange Server 2016", "setup_version": "15.1.2106.2", "mode": "Upgrade",
            "sourcedir": "N:\\", "time_zone": "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
            "tz_offset": 60,
        },
        "first_error": (
            86, datetime(2021, 3, 11, 19, 46, 47, 63000),
            "[ERROR] Object reference not set to an instance of an object.",
            {"exception": "System.NullReferenceException"},
        ),
    },
    # /PrepareAD not run in this site; the prerequisite check also finds a pending reboot.
    "prereq_ExchangeSetup_AD_Prep_Reboot.log": {
        "events": 553,
        "banner": {
            "product": "Microsoft Exchange Server 2016", "setup_version": "15.1.2106.2", "mode": "Upgrade",
            "sourcedir": "E:\\", "time_zone": "(UTC-05:00) Eastern Time (US & Canada)", "tz_offset": -300,
        },
        "first_error": (
            24, datetime(2021, 3, 6, 15, 15, 11, 112000),
            "[ERROR] Setup encountered a problem while validating the state of Active Directory: Exchange"
            " organization-level objects have not been created",
            {"depth": 0},
        ),
    },
    # The account lacks Schema/Enterprise Admins and Organization Management: prerequisite rules fail.
    "prereq_ExchangeSetup_NoPerm.log": {
        "events": 1824,
        "banner": {
            "product": "Microsoft Exchange Server 2019", "setup_version": "15.2.792.3", "mode": "Upgrade",
            "sourcedir": "D:\\", "time_zone": "(UTC-08:00) Pacific Time (US & Canada)", "tz_offset": -480,
        },
        "first_error": (
            1932, datetime(2020, 12, 19, 4, 17, 0, 247000),
            f"Failed [Rule:SchemaUpdateRequired] [Message:{NO_SCHEMA_ADMIN}]",
            {
                "prereq_step": "Failed", "rule": "SchemaUpdateRequired", "level": None,
                "rule_failure": NO_SCHEMA_ADMIN,
            },
        ),
    },
}  # fmt: skip


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_banner_time_zone_and_first_error(name: str) -> None:
    want = CORPUS[name]
    path = corpus_path("other", "exchange_setup", name)
    evs, ctx = parse(path, offset=480)  # the banner's zone wins over the bundle's offset
    assert ctx.warning_count == 0
    assert len(evs) == want["events"]
    assert {e.kind for e in evs} == {"exchangesetup:line"}
    assert banner(evs) == {**_BASE, **want["banner"]}
    offset = want["banner"]["tz_offset"]
    assert list(ExchangeSetupParser.utc_offsets(Source(path, name))) == [offset]
    assert all(e.utc_offset == offset for e in evs)
    # the banner's lines themselves: line 1 (stars), 2 (product), 4 (time zone)
    assert at(evs, 2).fields["product"] == want["banner"]["product"]
    assert at(evs, 4).fields["tz_offset"] == offset and at(evs, 1).utc_offset == offset
    line, local, text, fields = want["first_error"]
    err = first_error(evs)
    assert err.origin.line == line
    assert err.local_time == local
    assert err.time == (local - timedelta(minutes=offset)).replace(tzinfo=UTC)
    assert err.fields["log_text"].startswith(text) or err.message.startswith(text), err.message
    assert err.origin.text.startswith("[" + local.strftime("%m/%d/%Y %H:%M:%S"))
    for k, v in fields.items():
        assert err.fields.get(k) == v, k
    if "error_code" in fields:
        assert err.code == fields["error_code"]
    assert sniff(Source(path, name))[0] is ExchangeSetupParser
    assert ExchangeSetupParser.sniff(Source(path, name)) == 0.95


@pytest.mark.corpus
def test_corpus_ad_topology_service_not_started() -> None:
    evs, _ = parse(corpus_path("other", "exchange_setup", "known_ExchangeSetup_ADServiceNotStarted.log"))
    # the previous failed run is resumed at the same task
    resumed = at(evs, 292)
    assert resumed.fields["error_id"] == "AllADRolesCommonServiceControl___ee47ab1c06fb47919398e2e95ed99c6c"
    assert at(evs, 294).fields["setup_component"] == "Active Directory Topology Service Configuration"
    # (the log's own spelling "coundn't")
    topology = [
        e for e in evs if e.fields["log_text"].startswith("Topology Provider coundn't find the Microsoft")
    ]
    assert len(topology) == 28 and topology[0].origin.line == 334
    script = at(evs, 510)
    assert script.fields["lines"] == 40 and script.severity is Severity.ERROR
    assert script.fields["script"].startswith("$maxWait = New-TimeSpan -Minutes 8")
    assert "Set-SharedConfigDC -DomainController $RoleDomainController" in script.fields["script"]
    assert script.fields["exception"] == "System.Exception"
    assert script.fields["error_text"].startswith("System.Exception: Unable to set shared config DC.\n   at ")
    ref = at(evs, 551)
    assert (ref.fields["marker"], ref.fields["level"], ref.severity) == (
        "ERROR-REFERENCE",
        "ERROR",
        Severity.ERROR,
    )
    assert ref.fields["error_id"] == resumed.fields["error_id"]
    assert ref.fields["component"] == r"EXCHANGE14:\Current\Release\Shared\Datacenter\Setup"
    # 16:36 on 2024-03-21 is daylight time in New York, but Windows names the zone by its standard
    # offset: the parser uses what the log states (docs/events/exchangesetup.md)
    assert (ref.local_time, ref.utc_offset) == (datetime(2024, 3, 21, 16, 36, 7, 373000), -300)


@pytest.mark.corpus
def test_corpus_install_from_bin() -> None:
    evs, _ = parse(corpus_path("other", "exchange_setup", "known_ExchangeSetup_InstallFromBin.log"))
    assert at(evs, 10).fields["sourcedir"].endswith(r"\V15\bin")
    err = at(evs, 73)
    assert err.fields["exception"] == "System.Management.Automation.CommandNotFoundException"
    assert err.fields["lines"] == 8
    gen = at(evs, 81)
    assert gen.fields["script"].startswith(r"& $RoleBinPath\ServiceControl.ps1 -Operation:DisableServices")
    assert gen.fields["exception"] == "System.Management.Automation.CommandNotFoundException"
    assert gen.message.startswith(
        'The following error was generated when "& $RoleBinPath\\ServiceControl.ps1 -Operation:Disable'
    )
    assert '" was run: "System.Management.Automation.CommandNotFoundException: The term ' in gen.message
    assert at(evs, 93).fields["error_id"] == "AllRolesPreFileCopyComponent___2f7e3804a2b340c69e930798211fb8fd"
    assert at(evs, 101).fields["outcome"] == "failure"


@pytest.mark.corpus
def test_corpus_missing_directory_and_search_foundation() -> None:
    evs, _ = parse(corpus_path("other", "exchange_setup", "known_ExchangeSetup_MissingDirectory.log"))
    gen = at(evs, 100)
    assert gen.fields["exception"] == "System.Management.Automation.ItemNotFoundException"
    assert gen.fields["script"].startswith(
        '$grammarPath = join-path $RoleInstallPath "UnifiedMessaging\\grammars\\*";'
    )
    assert at(evs, 138).fields["error_id"].startswith("UnifiedMessagingComponent___")
    evs, _ = parse(
        corpus_path("other", "exchange_setup", "known_ExchangeSetup_Search_Foundation_Failure.log")
    )
    assert at(evs, 74).fields["setup_component"] == "Search Foundation Service Configuration"
    assert at(evs, 75).fields["lines"] == 125  # the "Executing:" script
    rec215 = at(evs, 215)
    assert (rec215.fields["exception"], rec215.fields["error_record"]) == ("System.Exception", 0)
    assert at(evs, 359).fields["error_id"] == "SearchFoundationComponent___9f5053e82ecb4a8f9790bdf498c0664d"


@pytest.mark.corpus
def test_corpus_service_control_reverse() -> None:
    evs, _ = parse(corpus_path("other", "exchange_setup", "known_ExchangeSetup_ServiceControl_Reverse.log"))
    err = at(evs, 59)
    assert err.fields["exception"] == "System.Management.Automation.MethodInvocationException"
    assert err.fields["inner_exception"] == "System.ArgumentNullException"
    assert err.fields["lines"] == 11
    gen = at(evs, 70)
    assert "& $RoleBinPath\\ServiceControl.ps1 Stop $roleList;" in gen.fields["script"]
    assert gen.fields["inner_exception"] == "System.ArgumentNullException"
    assert at(evs, 93).fields["log_text"] == "[ERROR] Value cannot be null.\nParameter name: array"


@pytest.mark.corpus
def test_corpus_msi_1612_and_null_reference() -> None:
    evs, _ = parse(corpus_path("other", "exchange_setup", "msi_ExchangeSetup_MSI_1.log"))
    removing = at(evs, 103)
    assert removing.fields["product_code"] == "{8466EAED-7024-4AEE-9D13-F3A55B98D114}"
    err = at(evs, 111)
    assert err.fields["exception"] == "Microsoft.Exchange.Configuration.Tasks.TaskException"
    assert err.fields["inner_exception"] == "System.ComponentModel.Win32Exception"
    assert (err.fields["error_code"], err.code) == (1612, 1612)
    gen = at(evs, 118)
    assert gen.fields["script"].startswith("uninstall-MsiPackage -ProductCode $RoleProductCode")
    assert gen.fields["product_code"] == "{8466EAED-7024-4AEE-9D13-F3A55B98D114}" and gen.code == 1612
    assert at(evs, 138).fields["component"] == r"EXCHANGE14:\Current\Release\Client Access\Unified Messaging"
    assert at(evs, 70).severity is Severity.WARNING  # [WARNING] The command completed successfully but ...

    evs, _ = parse(corpus_path("other", "exchange_setup", "msi_ExchangeSetup_MSI_2.log"))
    assert at(evs, 96).fields["product_code"] == "{BAD2A75A-1708-47BA-A498-20890D2C78A7}"
    assert (
        at(evs, 94).fields["package"]
        == r"D:\cu23\Setup\ServerRoles\UnifiedMessaging\MSSpeech_SR_TEL.zh-CN.msi"
    )

    evs, _ = parse(corpus_path("other", "exchange_setup", "msi_ExchangeSetup_MSI_4.log"))
    assert at(evs, 85).fields["package"] == r"N:\en\ServerLanguagePack.msi"
    watson = at(evs, 87)
    assert (watson.severity, watson.fields["exception"]) == (
        Severity.WARNING,
        "System.NullReferenceException",
    )
    assert at(evs, 90).fields["task"] == "install-LanguageFiles"
    # the one line without a stamp (a blank line after "File copy complete.") stays with its record
    assert at(evs, 17).fields["lines"] == 2


@pytest.mark.corpus
def test_corpus_prerequisite_failures() -> None:
    evs, _ = parse(corpus_path("other", "exchange_setup", "prereq_ExchangeSetup_AD_Prep_Reboot.log"))
    failed = {
        e.fields["rule"]: e.fields["rule_failure"] for e in evs if e.fields.get("prereq_step") == "Failed"
    }
    assert len(failed) == 16
    assert failed["PendingRebootWindowsComponents"].startswith(
        "There is a pending reboot from a previous installation"
    )
    assert failed["AdInitErrorRule"].startswith(
        "Setup encountered a problem while validating the state of Active"
    )
    evaluated = at(evs, 74)
    assert (evaluated.fields["rule"], evaluated.fields["value"], evaluated.severity) == (
        "PendingRebootWindowsComponents", "True", Severity.INFO
    )  # fmt: skip
    required = at(evs, 477)
    assert (required.fields["marker"], required.fields["level"], required.severity) == (
        "REQUIRED", "ERROR", Severity.ERROR
    )  # fmt: skip
    help_url = at(evs, 478)
    assert help_url.fields["rule"] == "PendingRebootWindowsComponents"
    assert help_url.fields["help_url"].endswith("ms.exch.setupreadiness.PendingRebootWindowsComponents.aspx")
    recommended = at(evs, 497)
    assert (recommended.fields["marker"], recommended.severity) == ("RECOMENDED", Severity.WARNING)
    assert at(evs, 507).fields["outcome"] == "failure"
    assert at(evs, 523).fields["lines"] == 4  # "Calling ADSession.GetSharedConfigDC()" and its lines

    evs, _ = parse(corpus_path("other", "exchange_setup", "prereq_ExchangeSetup_NoPerm.log"))
    started = at(evs, 1111)
    assert (started.fields["rule"], started.fields["rule_type"]) == (
        "DelegatedBridgeheadFirstSP1upgrade",
        "Error",
    )
    broken = at(evs, 516)  # a setting whose evaluation threw: a warning, with the exception and its HRESULT
    assert broken.fields["setting"] == "ExchangeConfigurationUnitsConfiguration"
    assert (broken.fields["has_exception"], broken.severity) == (True, Severity.WARNING)
    assert broken.fields["exception"] == "System.DirectoryServices.DirectoryServicesCOMException"
    assert (broken.fields["hresult"], broken.code, broken.fields["lines"]) == (0x80072030, 0x80072030, 11)
    assert broken.fields["value"].startswith(
        "System.DirectoryServices.DirectoryServicesCOMException (0x80072030)"
    )
    rules = [e.fields["rule"] for e in evs if e.fields.get("prereq_step") == "Failed"]
    assert (
        rules[:3] == ["SchemaUpdateRequired", "GlobalUpdateRequired", "GlobalServerInstall"]
        and len(rules) == 8
    )


# --- our fixture: a CU whose file copy is denied, at UTC+08:00 ------------------------------------------


def test_fixture_cu_copy_denied_at_utc8() -> None:
    evs, ctx = parse(fixture(), offset=None)  # the bundle's offset unknown: the banner says it
    assert ctx.warning_count == 0 and len(evs) == 36
    assert banner(evs) == {
        "product": "Microsoft Exchange Server 2019",
        "time_zone": "(UTC+08:00) Beijing, Chongqing, Hong Kong, Urumqi",
        "tz_offset": 480,
        "os_version": "Microsoft Windows NT 10.0.17763.0",
        "setup_version": "15.2.1544.4",
        "user": "CONTOSO\\exadmin",
        "mode": "Upgrade",
        "sourcedir": "E:\\",
    }
    assert list(ExchangeSetupParser.utc_offsets(Source(fixture(), FIXTURE))) == [480]
    first = evs[0]  # the banner's first line already has the offset stated three lines later
    assert (first.local_time, first.utc_offset) == (datetime(2024, 5, 14, 21, 2, 11, 125000), 480)
    assert first.time == datetime(2024, 5, 14, 13, 2, 11, 125000, tzinfo=UTC)
    assert at(evs, 14).fields["installed_version"] == "15.2.1258.12"
    assert at(evs, 15).fields["previous_version"] == "15.2.1258.12"
    assert at(evs, 16).fields["install_mode"] == "BuildToBuildUpgrade"
    assert at(evs, 18).fields["package"] == r"E:\exchangeserver.msi"
    warn = at(evs, 19)
    assert (warn.severity, warn.fields["level"], warn.code) == (Severity.WARNING, "WARNING", 0x80070005)
    assert at(evs, 20).fields["task"] == "Install-BridgeheadRole"
    assert at(evs, 22).fields["setup_component"] == "All Roles Common First"
    executing = at(evs, 23)
    assert executing.fields["lines"] == 5 and executing.fields["log_text"].endswith("-Force;")
    assert executing.message.startswith("Executing: $srcPath = Join-Path")

    err = first_error(evs)
    assert err.origin.line == 29 and err.fields["error_record"] == 0
    assert (err.fields["path"], err.fields["exception"]) == (DENIED, "System.UnauthorizedAccessException")
    assert err.time == datetime(2024, 5, 14, 13, 14, 37, 610000, tzinfo=UTC)
    stack = at(evs, 30)
    assert stack.fields["lines"] == 4 and stack.fields["exception"] == "System.UnauthorizedAccessException"
    gen = at(evs, 34)
    assert gen.fields["lines"] == 8 and gen.severity is Severity.ERROR
    config = "Microsoft.Exchange.Diagnostics.Service.exe.config"
    assert gen.fields["script"] == (
        f'$srcPath = Join-Path $RoleInstallPath "Setup\\Data\\{config}";\n'
        f'          $destPath = Join-Path $RoleBinPath "{config}";\n'
        "          Copy-Item -Path $srcPath -Destination $destPath -Force;"
    )
    assert gen.fields["error_text"].startswith(
        f"System.UnauthorizedAccessException: Access to the path '{DENIED}'"
    )
    assert gen.fields["error_text"].endswith("CmdletProviderContext context)")
    assert gen.fields["path"] == DENIED
    assert at(evs, 42).fields["log_text"] == f"[ERROR] Access to the path '{DENIED}' is denied."
    ref = at(evs, 43)
    assert ref.fields["error_id"] == "AllRolesCommonFirstComponent___4c1e0f2b7a3d4f6e9b8a0c5d2e7f1a3b"
    assert (at(evs, 44).fields["outcome"], at(evs, 48).fields["outcome"]) == ("failure", "failure")
    assert at(evs, 48).severity is Severity.ERROR
    last = evs[-1]
    assert (last.origin.line, last.time) == (50, datetime(2024, 5, 14, 13, 14, 37, 734000, tzinfo=UTC))


def test_stamp_fraction_is_milliseconds() -> None:
    evs, _ = parse(fixture())
    # ".0125" is 125 ms (Setup writes ss.0fff), not 12.5 ms
    assert evs[0].local_time == datetime(2024, 5, 14, 21, 2, 11, 125000)


def test_message_field_shapes() -> None:
    f, _ = message_fields(
        "[ERROR] Installing product x.msi failed. Fatal error during installation. Error code is 1603."
    )
    assert (f["error_code"], f["package"]) == (1603, "x.msi")
    assert message_fields("Process exited with error code 1603")[0]["error_code"] == 1603
    assert message_fields("Setup process ExitCode: 3010")[0]["error_code"] == 3010
    f, _ = message_fields("Access is denied. (Exception from HRESULT: 0x80070005 (E_ACCESSDENIED))")
    assert f == {"hresult": 0x80070005}
    f, _ = message_fields("Install failed 0x80070643")
    assert f == {"hresult": 0x80070643}
    # a message glued to the exception type still gives the type (Search Foundation's shape)
    f, _ = message_fields(
        "Error occurred while configuring Search Foundation for Exchange.System.TimeoutException: x"
    )
    assert f["exception"] == "System.TimeoutException"
    # stack frames are not exception types
    f, _ = message_fields(
        "   at System.Management.Automation.ExceptionHandlingOps.ConvertToMethodInvocationException(E e)"
    )
    assert "exception" not in f
    f, sev = message_fields(
        "Failed [Rule:PendingRebootWindowsComponents] [Message:There is a pending reboot.]"
    )
    assert (f["rule"], f["rule_failure"], sev) == (
        "PendingRebootWindowsComponents",
        "There is a pending reboot.",
        Severity.ERROR,
    )
    f, _ = message_fields("Command Line Parameter Name='Mode', Value='Install'.")
    assert (f["parameter"], f["mode"]) == ("Mode", "Install")
    f, sev = message_fields("The Exchange Server setup operation completed successfully.")
    assert (f, sev) == ({"outcome": "success"}, None)


def test_time_zone_shapes() -> None:
    assert tz_offset("(UTC-06:00) Central Time (US & Canada)") == -360
    assert tz_offset("(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi") == 330
    assert tz_offset("(UTC+05:45) Kathmandu") == 345
    assert tz_offset("(UTC) Coordinated Universal Time") == 0
    assert tz_offset("(UTC+00:00) Dublin, Edinburgh, Lisbon, London") == 0
    assert tz_offset("(GMT+08:00) Beijing, Chongqing, Hong Kong, Urumqi") == 480
    assert tz_offset("(UTC+15:00) Nowhere") is None
    assert tz_offset("Central Standard Time") is None


def test_runs_in_two_time_zones_and_a_run_without_one(tmp_path: Path) -> None:
    stars = "*" * 46
    lines = [
        rec("03/01/2024 10:00:00.0100", 1, "a record of a run whose banner is not in the file"),
        rec("03/01/2024 10:00:01.0000", 0, stars),
        rec("03/01/2024 10:00:01.0000", 0, "Starting Microsoft Exchange Server 2019 Setup"),
        rec("03/01/2024 10:00:01.0000", 0, stars),
        rec(
            "03/01/2024 10:00:01.0000",
            0,
            "Local time zone: (UTC+08:00) Beijing, Chongqing, Hong Kong, Urumqi.",
        ),
        rec("03/01/2024 10:00:02.0000", 0, "**************"),
        rec("03/01/2024 10:00:03.0000", 1, "[ERROR] first run"),
        rec("03/02/2024 09:00:00.0000", 0, stars),
        rec("03/02/2024 09:00:00.0000", 0, "Starting Microsoft Exchange Server 2019 Setup"),
        rec("03/02/2024 09:00:00.0000", 0, stars),
        rec("03/02/2024 09:00:00.0000", 0, "Local time zone: (UTC-05:00) Eastern Time (US & Canada)."),
        rec("03/02/2024 09:00:05.0000", 1, "[ERROR] second run"),
        rec("03/03/2024 08:00:00.0000", 0, "Starting Microsoft Exchange Server 2010 Setup"),
        *(rec("03/03/2024 08:00:01.0000", 0, f"banner line {i}") for i in range(20)),
    ]
    p = tmp_path / "ExchangeSetup.log"
    p.write_text("\r\n".join(lines) + "\r\n", "utf-8")
    evs, ctx = parse(p, offset=60)
    assert ctx.warning_count == 0 and len(evs) == len(lines)
    assert [e.utc_offset for e in evs[:12]] == [60] + [480] * 6 + [-300] * 5
    assert evs[6].time == datetime(2024, 3, 1, 2, 0, 3, tzinfo=UTC)
    assert evs[11].time == datetime(2024, 3, 2, 14, 0, 5, tzinfo=UTC)
    # a run whose banner never states a zone: the bundle's offset, not the previous run's
    assert {e.utc_offset for e in evs[12:]} == {60}
    assert list(ExchangeSetupParser.utc_offsets(Source(p, p.name))) == [480, -300]
    evs, _ = parse(p, offset=None)
    assert (evs[0].utc_offset, evs[0].time) == (None, datetime(2024, 3, 1, 10, 0, 0, 100000, tzinfo=UTC))


# --- damaged input ----------------------------------------------------------------------------------------


def test_truncated_file_keeps_the_cut_record(tmp_path: Path) -> None:
    good = fixture().read_bytes()
    p = tmp_path / "ExchangeSetup.log"
    cut = good.index(b"   at System.IO.File.InternalCopy", good.index(b"was run:")) + 10
    p.write_bytes(good[:cut])  # the copy stops inside the stack trace of the line-34 record
    evs, ctx = parse(p)
    assert [(w.message, w.line) for w in ctx.warnings] == [
        ("the file ends inside a line: the last record may be cut", 34)
    ]
    last = evs[-1]
    assert (last.origin.line, last.fields["lines"], last.fields["truncated"]) == (34, 7, True)
    assert last.fields["error_text"].endswith("\n   at Syst")
    assert last.fields["exception"] == "System.UnauthorizedAccessException"
    assert last.fields["script"].endswith("-Force;") and last.severity is Severity.ERROR
    assert len(evs) == 27 and all("truncated" not in e.fields for e in evs[:-1])
    # a copy that ends with a whole line is not warned
    p.write_bytes(good[: good.index(b"[05/14/2024 21:14:37.0641] [1] [ERROR] Access")])
    evs, ctx = parse(p)
    assert ctx.warning_count == 0 and evs[-1].origin.line == 34 and "truncated" not in evs[-1].fields
    # the tail of a log (its head cut off): the text before the first record is kept and warned
    p.write_bytes(good[good.index(b"   at System.IO.File.InternalCopy") :])
    evs, ctx = parse(p)
    head = evs[0]
    assert (head.origin.line, head.time, head.fields["depth"], head.fields["truncated"]) == (
        1,
        None,
        None,
        True,
    )
    assert head.fields["lines"] == 2 and head.fields["log_text"].startswith(
        "   at System.IO.File.InternalCopy"
    )
    assert ctx.warnings[0].line == 1
    assert ctx.warnings[0].message.startswith(
        "text before the first record (2 line(s)): 'at System.IO.File.Intern"
    )
    assert evs[1].origin.line == 3 and evs[1].fields["exception"] == "System.UnauthorizedAccessException"
    # the banner of this tail is lost: the bundle's offset applies
    assert evs[1].utc_offset is None


def test_damaged_records(tmp_path: Path) -> None:
    lines = [
        rec(
            "05/14/2024 21:02:11.0156",
            0,
            "Local time zone: (UTC+08:00) Beijing, Chongqing, Hong Kong, Urumqi.",
        ),
        rec("13/45/2024 21:02:12.0000", 1, "[ERROR] a record with no valid date"),
        "[05/14/2024 21:02:13.0000] a record without its depth",
        "\x01\x02 garbage inside a record",
        rec("05/14/2024 25:61:00.0000", "x", "a bad time and a bad depth"),
        rec("05/14/2024 21:02:14", 2, "no fraction"),
    ]
    p = tmp_path / "ExchangeSetup.log"
    p.write_text("\r\n".join(lines) + "\r\n", "utf-8")
    evs, ctx = parse(p)
    assert [(w.message, w.line) for w in ctx.warnings] == [
        ("invalid date/time: '[13/45/2024 21:02:12.0000]'", 2),
        ("record without its [depth]", 3),
        ("invalid date/time: '[05/14/2024 25:61:00.0000]'", 5),
        ("record without its [depth]", 5),
    ]
    assert [e.origin.line for e in evs] == [1, 2, 3, 5, 6]
    bad = evs[1]
    assert (bad.time, bad.local_time, bad.severity, bad.fields["depth"]) == (None, None, Severity.ERROR, 1)
    nodepth = evs[2]
    assert nodepth.fields["depth"] is None and nodepth.fields["lines"] == 2
    assert nodepth.time == datetime(2024, 5, 14, 13, 2, 13, tzinfo=UTC)
    assert nodepth.fields["log_text"] == "a record without its depth\n\x01\x02 garbage inside a record"
    worst = evs[3]  # a stamp's shape with an impossible time and no depth still starts a record
    assert (worst.time, worst.fields["depth"], worst.fields["log_text"]) == (
        None,
        None,
        "[x] a bad time and a bad depth",
    )
    assert evs[4].local_time == datetime(2024, 5, 14, 21, 2, 14)


def test_huge_record_is_cut_with_a_warning(tmp_path: Path) -> None:
    body = "\r\n".join("   at " + "x" * 94 for _ in range(20_000))  # ~2 M characters over 20,000 lines
    p = tmp_path / "ExchangeSetup.log"
    p.write_text(
        rec("05/14/2024 21:14:37.0625", 1, "0.  ErrorRecord: System.UnauthorizedAccessException: denied\r\n")
        + body
        + "\r\n"
        + rec("05/14/2024 21:14:38.0000", 1, "after")
        + "\r\n",
        "utf-8",
    )
    evs, ctx = parse(p)
    assert [(w.message, w.line) for w in ctx.warnings] == [
        (f"record longer than {MAX_RECORD:,} characters cut", 1)
    ]
    big, after = evs
    assert big.fields["lines"] == 20_001 and big.fields["truncated"] is True
    assert big.fields["exception"] == "System.UnauthorizedAccessException" and big.severity is Severity.ERROR
    assert len(big.fields["log_text"]) == MAX_TEXT and len(big.origin.text) == MAX_TEXT
    assert len(big.message) <= MAX_TEXT
    assert (after.origin.line, after.fields["log_text"]) == (20_002, "after")


def test_wrong_encoding_is_warned(tmp_path: Path) -> None:
    good = fixture().read_bytes()
    reps = 70_000 // len(good) + 1  # the encoding is sniffed from the first 64 KiB: valid UTF-8 there
    bad = rec("05/14/2024 21:20:00.0000", 1, r"Logged on user: CONTOSO\José.").encode("cp1252") + b"\r\n"
    p = tmp_path / "ExchangeSetup.log"
    p.write_bytes(good * reps + bad)
    evs, ctx = parse(p)
    n = 50 * reps + 1
    assert [(w.message, w.line) for w in ctx.warnings] == [("bytes not valid utf-8 replaced", n)]
    assert (evs[-1].origin.line, evs[-1].fields["user"]) == (n, "CONTOSO\\Jos\ufffd")
    # a whole ANSI file is read in the ANSI code page, without warnings
    p.write_bytes(good.replace(b"CONTOSO\\exadmin", "CONTOSO\\José".encode("cp1252")))
    evs, ctx = parse(p)
    assert ctx.warning_count == 0 and at(evs, 7).fields["user"] == "CONTOSO\\José"


def test_random_bytes_inside_the_log(tmp_path: Path) -> None:
    good = fixture().read_bytes()
    rnd = random.Random(11)
    p = tmp_path / "ExchangeSetup.log"
    p.write_bytes(good + bytes(rnd.randrange(256) for _ in range(3000)) + b"\r\n" + good)
    evs, ctx = parse(p)
    assert sum(1 for e in evs if e.fields.get("error_id")) == 2
    assert ctx.warning_count >= 1


# --- sniffing -------------------------------------------------------------------------------------------


def test_sniff_wins_for_exchange_setup_logs_and_scores_zero_elsewhere(tmp_path: Path) -> None:
    src = Source(fixture(), "ExchangeSetup.log")
    assert sniff(src)[0] is ExchangeSetupParser and ExchangeSetupParser.sniff(src) == 0.95
    # the same shape without a word of Exchange (a tail of the log): still ours
    p = tmp_path / "tail.log"
    p.write_text(
        "\r\n".join(rec("05/14/2024 21:14:37.0641", 1, f"line {i}") for i in range(10)) + "\r\n", "utf-8"
    )
    assert ExchangeSetupParser.sniff(Source(p, p.name)) == 0.85
    assert sniff(Source(p, p.name))[0] is ExchangeSetupParser
    # CBS, the ConfigMgr fixtures, a generic [MM/DD/YYYY HH:MM:SS] log without the [depth]: not ours
    others = [data_path("parsers", "cbs", "cbs_failure_shapes.log")]
    others += sorted(data_path("parsers", "cmtrace").iterdir())
    for path in others:
        s = Source(path, path.name)
        assert ExchangeSetupParser.sniff(s) == 0.0, path
        assert sniff(s)[0] is not ExchangeSetupParser
        assert list(ExchangeSetupParser.utc_offsets(s)) == []
    p.write_text(
        "\r\n".join(f"[09/03/2024 10:15:2{i}.1234] service started" for i in range(9)) + "\r\n", "utf-8"
    )
    assert ExchangeSetupParser.sniff(Source(p, p.name)) == 0.0
    assert sniff(Source(p, p.name))[0].name == "text"  # type: ignore[union-attr]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=2000), st.binary(max_size=500))
def test_arbitrary_text_never_raises(tmp_path: Path, text: str, blob: bytes) -> None:
    p = tmp_path / "ExchangeSetup.log"
    head = rec("05/14/2024 21:02:11.0156", 0, "Local time zone: (UTC+08:00) Beijing.") + "\r\n"
    generated = (
        f'[{text[:25]}] [{text[:3]}] The following error was generated when "{text}" was run: "{text[:9]}'
    )
    for data in (
        text.encode("utf-8", "surrogatepass"),
        (head + text).encode("utf-8", "surrogatepass"),
        (head + rec("05/14/2024 21:02:12.0000", 1, "[ERROR] " + text)).encode("utf-8", "surrogatepass"),
        generated.encode("utf-8", "replace"),
        (
            rec("05/14/2024 21:02:11.0156", 0, f"Local time zone: {text[:40]}")
            + f"\r\nFailed [Rule:{text[:9]}] [Message:{text}"
        ).encode("utf-8", "replace"),
        head.encode("utf-16-le") + blob,
        blob,
    ):
        p.write_bytes(data)
        src = Source(p, p.name)
        ctx = ParseContext("x", 0)
        evs = list(ExchangeSetupParser().parse(src, ctx))
        assert all(e.kind == "exchangesetup:line" for e in evs)
        assert all(len(e.origin.text) <= MAX_TEXT and len(e.message) <= MAX_TEXT for e in evs)
        list(ExchangeSetupParser.utc_offsets(src))
        ExchangeSetupParser.sniff(src)

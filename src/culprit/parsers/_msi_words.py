"""Localized words of Windows Installer verbose logs, and the structure used when a word is unknown.

Windows Installer translates the words around actions, errors and the final status line into the
machine's UI language; numbers, action names and most ``MSI (s)`` debug strings stay English
(formats.md §4). The parser keys on numbers and structure first; these words only tell apart
records whose structure is the same (an action *start* line and an ActionText line look alike).

Only words seen in real logs are listed: English (the corpus logs, Microsoft support articles)
and Simplified Chinese (the ``edge-injected-dll`` case, zh-CN Windows 10). A log in any other
language still parses: action lines are recognised by their shape, ``start`` vs ``end`` by the
presence of a return value.
"""

from __future__ import annotations

# "Action start 15:31:37: INSTALL."  /  "操作开始 10:43:00: INSTALL。"
ACTION_START = frozenset({"action start", "操作开始"})
# "Action ended 15:31:37: INSTALL. Return value 1."  /  "操作结束 10:43:05: INSTALL。返回值 3。"
ACTION_END = frozenset({"action ended", "操作结束"})
# "Action 05:17:51: ProcessComponents. Updating component registration" (ActionText, no start/end)
ACTION_TEXT = frozenset({"action"})

# "Error 1722. ..." / "错误 1722。..." / "DEBUG: Error 2826:  Control ..."
ERROR_WORDS = frozenset({"error", "错误", "debug: error"})
# "Warning 1909. ..."
WARNING_WORDS = frozenset({"warning"})
# "Info 2898.For WixUI_Font_Title textstyle, ..."
INFO_WORDS = frozenset({"info"})

# Banner: "=== Verbose logging started: ..." / "=== 详细日志记录已开始: ..."
BANNER_START = ("started", "开始")
BANNER_STOP = ("stopped", "停止")
BANNER_VERBOSE = ("verbose", "详细")

# "Product: Redball -- Installation completed successfully." / "产品: Microsoft Edge -- 安装失败。"
OUTCOME_SUCCESS = ("completed successfully", "成功")
OUTCOME_FAILURE = ("failed", "失败")

# LCIDs whose short date puts the month first (M/D/Y); any other known LCID reads D/M/Y
# when the banner date is ambiguous (both parts <= 12). 1033 = en-US.
MONTH_FIRST_LCIDS = frozenset({1033})

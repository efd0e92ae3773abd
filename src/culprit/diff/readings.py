"""Short readings of each kind of difference, in English and Chinese.

Every function returns ``(reading, reading_zh)``. Names that came from a log (images, modules, paths,
companies) are quoted with backticks as they are; renderers escape them for their medium.
"""

from __future__ import annotations

from collections.abc import Sequence

from culprit.kb import codes


def dur(seconds: float | None) -> str:
    """``40 ms``, ``39.2 s``, ``2.5 min`` (or ``?``)."""
    if seconds is None:
        return "?"
    s = max(0.0, seconds)
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 120:
        return f"{s:.1f} s"
    return f"{s / 60:.1f} min"


def dur_zh(seconds: float | None) -> str:
    """``40 毫秒``, ``39.2 秒``, ``2.5 分钟`` (or ``?``)."""
    if seconds is None:
        return "?"
    s = max(0.0, seconds)
    if s < 1:
        return f"{s * 1000:.0f} 毫秒"
    if s < 120:
        return f"{s:.1f} 秒"
    return f"{s / 60:.1f} 分钟"


def status(code: int | None) -> str:
    """An exit status as Procmon prints it, with hex and symbol when it is an HRESULT/NTSTATUS."""
    if code is None:
        return "?"
    if -0xFFFF <= code <= 0xFFFF:
        return str(code)
    sym = None
    try:
        sym = codes.symbol(code)
    except Exception:  # the knowledge base is a help, never a failure
        sym = None
    text = f"{code} (0x{code & 0xFFFFFFFF:08X}"
    return text + (f", {sym})" if sym else ")")


def names(items: Sequence[str], limit: int = 3) -> str:
    """```a.exe`, `b.exe` and 2 more``."""
    shown = [f"`{n}`" for n in items[:limit]]
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def names_zh(items: Sequence[str], limit: int = 3) -> str:
    shown = [f"`{n}`" for n in items[:limit]]
    more = len(items) - len(shown)
    return "、".join(shown) + (f" 等 {len(items)} 个" if more > 0 else "")


def _who(company: str | None, description: str | None, product: str | None, sep: str) -> str:
    parts = [x for x in (company, description) if x]
    if product and not any(product in p for p in parts):
        parts.append(product)
    return sep.join(parts)


def module_only_in_bad(
    module: str,
    company: str | None,
    description: str | None,
    product: str | None,
    process: str,
    offset: float | None,
    injector: str | None,
    exit_after: float | None,
    exit_status: int | None,
    good_life: float | None,
    good_children: Sequence[str],
    elsewhere_good: bool,
) -> tuple[str, str]:
    who = _who(company, description, product, ", ")
    who_zh = _who(company, description, product, "，")
    en = f"`{module}`" + (f" ({who})" if who else " (company unknown)") + f" loads into `{process}`"
    zh = (
        f"仅在失败的运行中，`{module}`"
        + (f"（{who_zh}）" if who_zh else "（公司未知）")
        + f"被加载到 `{process}`"
    )
    if offset is not None:
        en += f" {dur(offset)} after start"
        zh += f"（启动后 {dur_zh(offset)}）"
    en += " only in the failing run"
    if injector:
        en += f", on a thread `{injector}` created in it"
        zh += f"，加载它的线程由 `{injector}` 创建"
    if exit_after is not None:
        en += f"; the process exits {dur(exit_after)} later with status {status(exit_status)}"
        zh += f"；该进程 {dur_zh(exit_after)} 后退出，状态 {status(exit_status)}"
    if good_life is not None or good_children:
        en += "; in the good run it"
        zh += "；在正常的运行中它"
        if good_life is not None:
            en += f" runs {dur(good_life)}"
            zh += f"运行 {dur_zh(good_life)}"
        if good_children:
            en += (" and" if good_life is not None else "") + f" starts {names(good_children)}"
            zh += ("并" if good_life is not None else "") + f"启动 {names_zh(good_children)}"
    if elsewhere_good:
        en += f"; `{module}` is loaded elsewhere in the good run too"
        zh += f"；正常的运行中 `{module}` 也出现在其他进程里"
    return en + ".", zh + "。"


def module_only_in_good(module: str, company: str | None, process: str) -> tuple[str, str]:
    who = f" ({company})" if company else ""
    who_zh = f"（{company}）" if company else ""
    return (
        f"`{module}`{who} loads into `{process}` only in the good run.",
        f"`{module}`{who_zh} 仅在正常的运行中被加载到 `{process}`。",
    )


def early_exit(
    process: str,
    bad_life: float | None,
    bad_status: int | None,
    bad_events: int,
    good_life: float | None,
    good_status: int | None,
    good_events: int,
    good_alive: bool,
    good_children: Sequence[str],
    after: str | None,
) -> tuple[str, str]:
    en = f"`{process}` exits {dur(bad_life)} after start with status {status(bad_status)} in the failing run"
    zh = f"失败的运行中 `{process}` 启动后 {dur_zh(bad_life)} 即退出，状态 {status(bad_status)}"
    en += f" ({bad_events:,} events)"
    zh += f"（{bad_events:,} 个事件）"
    if after:
        en += f", after `{after}` quit early"
        zh += f"，发生在 `{after}` 提前退出之后"
    if good_alive:
        en += f"; in the good run it is still running {dur(good_life)} after start ({good_events:,} events)"
        zh += f"；正常的运行中它在启动 {dur_zh(good_life)} 后仍在运行（{good_events:,} 个事件）"
    else:
        en += (
            f"; in the good run it runs {dur(good_life)} ({good_events:,} events) and exits with "
            f"{status(good_status)}"
        )
        zh += f"；正常的运行中它运行 {dur_zh(good_life)}（{good_events:,} 个事件），"
        zh += f"退出状态 {status(good_status)}"
    if good_children:
        en += f", starting {names(good_children)}"
        zh += f"，并启动 {names_zh(good_children)}"
    return en + ".", zh + "。"


def exit_differs(
    process: str,
    bad_status: int | None,
    good_status: int | None,
    bad_life: float | None,
    good_life: float | None,
) -> tuple[str, str]:
    return (
        f"`{process}` exits with status {status(bad_status)} in the failing run and with "
        f"{status(good_status)} "
        f"in the good run (after {dur(bad_life)} and {dur(good_life)}).",
        f"`{process}` 在失败的运行中退出状态为 {status(bad_status)}，在正常的运行中为 {status(good_status)}"
        f"（分别运行 {dur_zh(bad_life)} 和 {dur_zh(good_life)}）。",
    )


def result_differs(
    process: str,
    operation: str,
    path: str,
    bad_result: str,
    count: int,
    offset: float | None,
    good_result: str | None,
) -> tuple[str, str]:
    times = f"{count}×, first" if count > 1 else "at"
    en = f"`{process}`: {operation} `{path}` gets {bad_result} in the failing run "
    en += f"({times} {dur(offset)} after start)"
    zh = f"失败的运行中 `{process}` 的 {operation} `{path}` 返回 {bad_result}（"
    zh += f"{count} 次，首次在启动后 {dur_zh(offset)}）" if count > 1 else f"启动后 {dur_zh(offset)}）"
    if good_result:
        en += f"; in the good run the same operation returns {good_result}"
        zh += f"；正常的运行中同一操作返回 {good_result}"
    else:
        en += "; the good run never does it"
        zh += "；正常的运行中没有这个操作"
    return en + ".", zh + "。"


def child_missing(
    parent: str, child: str, offset: float | None, descendants: int, parent_exited_early: bool
) -> tuple[str, str]:
    en = f"In the good run `{parent}` starts `{child}` {dur(offset)} after its own start"
    zh = f"正常的运行中 `{parent}` 在启动后 {dur_zh(offset)} 启动 `{child}`"
    if descendants:
        en += f" ({descendants} more process{'es' if descendants > 1 else ''} under it)"
        zh += f"（其下还有 {descendants} 个进程）"
    en += "; in the failing run it does not"
    zh += "；失败的运行中没有启动它"
    if parent_exited_early:
        en += f" (`{parent}` quits before)"
        zh += f"（`{parent}` 已提前退出）"
    return en + ".", zh + "。"


def child_only_in_bad(parent: str, child: str, offset: float | None, command_line: str) -> tuple[str, str]:
    cmd = f" (`{command_line[:160]}`)" if command_line else ""
    return (
        f"Only in the failing run `{parent}` starts `{child}`{cmd}, {dur(offset)} after its own start.",
        f"仅在失败的运行中 `{parent}` 在启动后 {dur_zh(offset)} 启动了 `{child}`{cmd}。",
    )


def process_one_side(process: str, parent: str | None, in_bad: bool) -> tuple[str, str]:
    by = f" (started by `{parent}`)" if parent else ""
    by_zh = f"（由 `{parent}` 启动）" if parent else ""
    if in_bad:
        return (
            f"`{process}`{by} runs only in the failing run.",
            f"`{process}`{by_zh} 仅出现在失败的运行中。",
        )
    return (f"`{process}`{by} runs only in the good run.", f"`{process}`{by_zh} 仅出现在正常的运行中。")


def first_divergence(
    process: str, offset: float | None, bad_step: str | None, good_step: str | None, bad_stopped: bool
) -> tuple[str, str]:
    en = f"`{process}` first diverges {dur(offset)} after start: "
    zh = f"`{process}` 在启动后 {dur_zh(offset)} 首次出现分歧："
    if bad_stopped:
        en += f"the failing run's events end there while the good run goes on with {good_step}"
        zh += f"失败的运行的事件到此为止，而正常的运行继续执行 {good_step}"
    elif good_step is None:
        en += f"the failing run does {bad_step}, which the good run does not"
        zh += f"失败的运行执行了 {bad_step}，正常的运行没有"
    elif bad_step is None:
        en += f"the good run does {good_step}, which the failing run does not"
        zh += f"正常的运行执行了 {good_step}，失败的运行没有"
    else:
        en += f"the failing run does {bad_step} where the good run does {good_step}"
        zh += f"失败的运行执行 {bad_step}，而正常的运行此处执行 {good_step}"
    return en + ".", zh + "。"


def activity_differs(process: str, bad_events: int, good_events: int) -> tuple[str, str]:
    return (
        f"`{process}` has {bad_events:,} events in the failing run and {good_events:,} in the good run.",
        f"`{process}` 在失败的运行中有 {bad_events:,} 个事件，在正常的运行中有 {good_events:,} 个。",
    )


def third_party_in_both(module: str, company: str | None, processes: Sequence[str]) -> tuple[str, str]:
    who = f" ({company})" if company else ""
    who_zh = f"（{company}）" if company else ""
    return (
        f"`{module}`{who} loads in both runs (into {names(processes)}); it is on the good machine too, so it "
        "is not by itself the difference.",
        f"`{module}`{who_zh} 在两次运行中都被加载（{names_zh(processes)}）；正常的机器上也有它，"
        "因此它本身不是差异所在。",
    )

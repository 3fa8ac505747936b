"""The speed table of results.md and the README: one row per task, every ratio as the median over
the speed suite's interleaved rounds with its spread (min–max over the rounds).

Records written before the rounds (no ``rounds`` / ``spread``) still render: their ratios
without a spread.
"""

from __future__ import annotations

from typing import Any

HEADER = ["task", "batch", "recon step (ms)", "plain loop (ms)", "MONAI GanTrainer (ms)", "BasicSR SRGAN (ms)",
          "recon / plain (target <= 1.05)", "recon / MONAI (target < 1)", "recon / BasicSR (target < 1)",
          "syncs/step (target <= 1)", "FLOP/s vs width-matched conv (target >= 0.5)",
          "data / consumption (target >= 3)", "data.simulate_on=device (img/s)"]


def _num(value: Any, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _ratio(value: Any, spread: list[float] | None, digits: int = 3) -> str:
    """``0.989 [0.975–1.002]`` (median [min–max] over the rounds), or the bare value."""
    if value is None:
        return "-"
    if not spread:
        return _num(value, digits)
    return f"{_num(value, digits)} [{_num(spread[0], digits)}–{_num(spread[1], digits)}]"


def _with_cpu(tr: dict[str, Any], name: str) -> str:
    """A wall-clock ratio with its spread and, beside it, the same ratio in process CPU time."""
    if tr.get(name) is None:
        return "-"
    text = _ratio(tr[name], (tr.get("spread") or {}).get(name))
    cpu = tr.get(f"{name}_cpu")
    return text if cpu is None else f"{text} (CPU time {_num(cpu, 3)})"


def _peer_ms(tr: dict[str, Any], name: str) -> str:
    """A peer's median step, or why it did not run."""
    if tr.get(f"{name}_ms") is not None:
        return _num(tr[f"{name}_ms"], 1)
    return str(tr.get(name, "-"))


def _flops_cell(fl: dict[str, Any]) -> str:
    ref = fl["reference"]
    widths = "/".join(str(s[1]) for s in ref.get("shapes", [])) or str(ref.get("shape", ["?"] * 2)[1])
    return (f"{_ratio(fl['efficiency'], fl.get('spread'))} ({fl['achieved_gflops_per_s']:.1f} / "
            f"{ref['gflops_per_s']:.1f} GFLOP/s, {widths} ch)")


def speed_row(rec: dict[str, Any]) -> list[str]:
    """One task's cells (a failed or skipped task: its reason)."""
    if rec.get("status") != "ok":
        return [rec["task"], f"*{rec.get('status')}*: {rec.get('reason')}"[:120]] + ["-"] * (len(HEADER) - 2)
    tr, fl, da = rec["trainer"], rec["flops"], rec["data"]
    return [rec["task"], f"{rec['batch_size']} x {rec['patch_size']}px", _num(tr["recon_ms"], 1),
            _num(tr["plain_ms"], 1), _peer_ms(tr, "monai"), _peer_ms(tr, "basicsr"),
            _with_cpu(tr, "ratio_plain"), _ratio(tr.get("ratio_monai"), (tr.get("spread") or {}).get("ratio_monai")),
            _with_cpu(tr, "ratio_basicsr"), _num(tr.get("syncs_per_step"), 0), _flops_cell(fl),
            f"{_num(da['ratio'], 1)} ({da['delivered_samples_per_s']:.0f} / {da['consumed_samples_per_s']:.1f} img/s)",
            _num(da.get("device_path_samples_per_s"), 0)]


def _note(records: list[dict[str, Any]]) -> str:
    """The line under the table: what the brackets are."""
    rounds = sorted({(r["trainer"].get("rounds"), r["trainer"].get("steps")) for r in records
                     if r.get("status") == "ok" and r["trainer"].get("rounds")})
    if not rounds:
        return ""
    said = ", ".join(f"{n} rounds of {s} steps" for n, s in rounds)
    return (f"Ratios and FLOP/s efficiency: median over {said} per loop, interleaved (all loops and the "
            "reference in every round); [min–max] over the rounds. Step times: median of the rounds' medians. "
            "FLOP/s reference: dense 3x3 convolutions, forward and backward, at the networks' FLOP-weighted "
            "channel widths (ch), the preset's batch and patch size.")


def speed_table(records: list[dict[str, Any]]) -> str:
    """The Markdown table of the speed records, and its note on the rounds."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in speed_row(rec)) + " |"
              for rec in records]
    note = _note(records)
    return "\n".join(lines) + (f"\n\n{note}" if note else "")

"""The weekly review's picture: last week's touches per rep per day, and the team's attempt curve.

Drawn with matplotlib's Agg backend (a PNG in memory, no display, safe on a server thread) through
its object API: a `Figure` of our own rather than pyplot's global state, so two reviews drawn at once
on two threads never draw on each other's canvas. The alt text says in words what the picture shows.
"""

import io
from collections.abc import Callable, Sequence
from datetime import date

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from coaching.review import (
    CURVE_ATTEMPTS,
    KIND_LABEL,
    KINDS,
    AttemptCurve,
    Daily,
    TeamWeek,
    count_of,
    ordinal,
    percent,
)
from handlers.blocks.text import label

PANELS = 8  # reps drawn one panel each; the rest of a bigger team share one panel
ALT_TEXT = 1000  # Slack's limit for an image's alt text
COLOURS = ("#3b6ea8", "#8fb3d9", "#e0a33b", "#5aa469", "#b5517c")  # in KINDS order, bottom to top
LIMIT_COLOUR = "#c0392b"


Panel = tuple[str, tuple[tuple[float, ...], ...]]  # a label, and per day the touches per kind


def _panels(week: TeamWeek, name: Callable[[str], str]) -> list[Panel]:
    """The busiest reps one by one, then the average of the rest, so a team of any size fits."""
    reps = list(week.reps)
    if len(reps) <= PANELS + 1:
        return [(name(r.user_id), _floats(r.daily)) for r in reps]
    shown, rest = reps[:PANELS], reps[PANELS:]
    average = tuple(
        tuple(sum(r.daily[d][k] for r in rest) / len(rest) for k in range(len(KINDS)))
        for d in range(len(week.days))
    )
    return [
        *((name(r.user_id), _floats(r.daily)) for r in shown),
        (f"avg of other {len(rest)}", average),
    ]


def _floats(daily: Daily) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(n) for n in day) for day in daily)


def day_labels(days: Sequence[date]) -> list[str]:
    """Two letters per day, in the week's own order: "Tu", "We", … "Mo"."""
    return [f"{day:%a}"[:2] for day in days]


def day_axis(days: Sequence[date]) -> str:
    """The bars' axis, named by the week's first and last day (not always Monday to Sunday)."""
    return f"touches per day ({days[0]:%a} to {days[-1]:%a})"


def review_png(week: TeamWeek, curve: AttemptCurve, *, name: Callable[[str], str]) -> bytes:
    """One PNG: a group of seven day-bars per rep, stacked by kind, beside the attempt curve.

    Two axes only (bars placed side by side on one axis, not a panel per rep): drawing time is
    dominated by the number of axes and texts, and this keeps a review under a second."""
    panels = _panels(week, name) or [("the team", _floats(week.daily))]
    figure = Figure(figsize=(12, 4.2), dpi=100)
    FigureCanvasAgg(figure)
    bars, line = figure.subplots(1, 2, width_ratios=(2.2, 1))
    span = len(week.days) + 2  # a gap of two bars between reps
    xs = [g * span + d for g in range(len(panels)) for d in range(len(week.days))]
    bottom = [0.0] * len(xs)
    for k, kind in enumerate(KINDS):
        heights = [day[k] for _, daily in panels for day in daily]
        bars.bar(xs, heights, bottom=bottom, width=0.85, color=COLOURS[k], label=KIND_LABEL[kind])
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    days = len(week.days)
    # Each bar's day under it, and the rep's name below the seven: the week runs from the manager's
    # last review, so it needn't start on a Monday.
    bars.set_xticks(xs, day_labels(week.days) * len(panels), minor=True)
    bars.tick_params(axis="x", which="minor", labelsize=6, length=0, pad=2)
    bars.set_xticks([g * span + (days - 1) / 2 for g in range(len(panels))], [p[0][:18] for p in panels])
    bars.tick_params(axis="x", which="major", labelsize=7, labelrotation=20, length=0, pad=12)
    bars.tick_params(axis="y", labelsize=7)
    bars.yaxis.set_major_locator(MaxNLocator(integer=True))  # touches are counted, never 1.25
    bars.set_ylabel(day_axis(week.days), fontsize=8)
    bars.spines[["top", "right"]].set_visible(False)
    bars.legend(fontsize=7, frameon=False, ncols=len(KINDS), loc="upper center", bbox_to_anchor=(0.5, 1.12))
    first, last = week.days[0], week.days[-1]
    bars.set_title(
        f"Touches per rep per day, {first:%a} {first.day} to {last:%a} {last.day} {last:%b}",
        fontsize=10,
        pad=24,
    )
    _curve(line, curve)
    figure.subplots_adjust(left=0.05, right=0.98, bottom=0.2, top=0.84, wspace=0.15)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _curve(axes: Axes, curve: AttemptCurve) -> None:
    attempts = list(range(1, CURVE_ATTEMPTS + 1))
    axes.set_title("Leads reached by attempt (cumulative)", fontsize=9)
    axes.set_xlim(0.5, CURVE_ATTEMPTS + 0.5)
    axes.set_ylim(0, 100)
    axes.set_xticks(attempts, [str(a) for a in attempts], fontsize=7)
    axes.tick_params(axis="y", labelsize=7)
    axes.set_ylabel("% of leads reached", fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    if curve.shares:
        axes.plot(attempts, [s * 100 for s in curve.shares], marker="o", color=COLOURS[0])
    else:
        axes.text(6.5, 50, "no lead reached yet", ha="center", fontsize=9, color="grey")
    axes.axvline(curve.limit, color=LIMIT_COLOUR, linestyle="--")
    axes.text(curve.limit + 0.15, 4, f"limit {curve.limit}", color=LIMIT_COLOUR, fontsize=8)
    if curve.knee is not None and curve.knee != curve.limit:
        axes.axvline(curve.knee, color="grey", linestyle=":")
        axes.text(curve.knee + 0.15, 12, f"flattens after {curve.knee}", color="grey", fontsize=8)


def alt_text(week: TeamWeek, curve: AttemptCurve, *, name: Callable[[str], str]) -> str:
    """The picture in words, for screen readers and for anyone whose Slack shows no images."""
    first, last = week.days[0], week.days[-1]
    parts = [
        f"Bar charts of touches per rep per day, {first:%a} {first.day} to {last:%a} {last.day} {last:%b}, "
        "stacked by kind."
    ]
    for named, daily in _panels(week, name):
        title = label(named, 80)  # a display name holding "<@U…>" or "<!here>" stays words
        totals = [round(sum(day[k] for day in daily)) for k in range(len(KINDS))]
        kinds = ", ".join(count_of(n, kind) for kind, n in zip(KINDS, totals, strict=True) if n)
        busiest = max(range(len(daily)), key=lambda d: sum(daily[d]))
        parts.append(
            f"{title}: {sum(totals)} touch{'' if sum(totals) == 1 else 'es'} ({kinds}), most on {week.days[busiest]:%A}."
            if sum(totals)
            else f"{title}: no touches."
        )
    parts.append(_curve_words(curve))
    text = " ".join(parts)
    return text if len(text) <= ALT_TEXT else text[: ALT_TEXT - 1] + "…"


def _curve_words(curve: AttemptCurve) -> str:
    if not curve.shares:
        return f"Attempt curve: no lead reached yet; the limit of {curve.limit} is marked."
    points: Sequence[int] = sorted({1, 3, 6, curve.limit if curve.limit <= CURVE_ATTEMPTS else 12, 12})
    said = ", ".join(f"{percent(curve.share_by(a))} by the {ordinal(a)}" for a in points)
    knee = f" It flattens after the {ordinal(curve.knee)} attempt." if curve.knee else ""
    return (
        f"Line chart of the share of leads reached by each attempt, over {curve.window}: {said}. "
        f"The limit of {curve.limit} is marked.{knee}"
    )

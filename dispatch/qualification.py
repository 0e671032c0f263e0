"""Which nurses may make home visits: professional title and years of practice. Pure.

The national home-nursing pilot asks for at least five years of clinical practice
and the title 护师 (senior nurse) or above; a hospital sets its own thresholds
(``DOORSTEP_HOME_CARE_MIN_YEARS``, ``DOORSTEP_HOME_CARE_MIN_TITLE``). The
dispatch problem carries the answer as the skill ``home_care_qualified``, which
every care task requires, so the optimiser never pairs a visit with a nurse the
rules do not allow.
"""
from __future__ import annotations

from datetime import date

# China's nursing titles, lowest first (护士, 护师, 主管护师, 副主任护师, 主任护师).
TITLES = ("nurse", "senior_nurse", "supervising_nurse", "associate_chief_nurse", "chief_nurse")
TITLE_ZH = {"nurse": "护士", "senior_nurse": "护师", "supervising_nurse": "主管护师",
            "associate_chief_nurse": "副主任护师", "chief_nurse": "主任护师"}
HOME_CARE_QUALIFIED = "home_care_qualified"
DEFAULT_MIN_YEARS = 5
DEFAULT_MIN_TITLE = "senior_nurse"


def years_of_practice(practice_began: date, today: date) -> int:
    """Whole years completed on ``today`` (an anniversary counts on its day; 29 February on 1 March)."""
    years = today.year - practice_began.year
    if (today.month, today.day) < (practice_began.month, practice_began.day):
        years -= 1
    return max(years, 0)


def title_rank(title: str) -> int:
    """0 for ``nurse`` up to 4 for ``chief_nurse``; ``ValueError`` for anything else."""
    try:
        return TITLES.index(title)
    except ValueError:
        raise ValueError(f"unknown title {title!r}; one of: {', '.join(TITLES)}") from None


def is_home_care_qualified(title: str | None, practice_began: date | None, today: date,
                           min_years: int = DEFAULT_MIN_YEARS, min_title: str = DEFAULT_MIN_TITLE) -> bool:
    """True when ``title`` is at least ``min_title`` and practice began at least ``min_years`` ago.

    An unknown title or date is never enough: a record without them is not qualified.

    Raises
    ------
    ValueError
        If ``min_title`` is not one of ``TITLES`` (a misconfigured hospital setting).
    """
    floor = title_rank(min_title)
    if title not in TITLES or practice_began is None:
        return False
    return title_rank(title) >= floor and years_of_practice(practice_began, today) >= min_years

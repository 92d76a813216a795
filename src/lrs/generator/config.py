"""What the generator is asked to produce: the organisation, the catalogue, behaviour and effects.

Everything is a frozen dataclass with defaults that give a plausible mid-sized company, so
``GeneratorConfig(seed=7, learners=500)`` is a complete request and ``dataclasses.replace``
tweaks one knob. Nothing here draws random numbers: the same config and seed always describe
the same data set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Final, Literal


@dataclass(frozen=True)
class RegionSpec:
    """A region: its working hours are local, so its UTC offset shifts every session it hosts.

    ``language`` is the RFC 5646 tag put in ``context.language`` for learners of the region.
    """

    name: str
    utc_offset_hours: float
    language: str = "en-US"


@dataclass(frozen=True)
class TeamSpec:
    """A team. ``function`` picks the roles and the programs its members are eligible for
    (``sales`` teams also produce outcome statements); ``weight`` is its relative size."""

    name: str
    function: str
    region: str
    weight: float = 1.0


@dataclass(frozen=True)
class CourseSpec:
    """A cmi5-like course: ``modules`` content AUs, then optionally one assessment AU.

    ``module_minutes`` is the typical learner time to finish one module (spread over one to
    several sessions); ``mastery_score`` is the assessment's cmi5 ``masteryScore`` (scaled
    score needed to pass); ``max_points`` the assessment's raw maximum (min is 0).
    """

    slug: str
    title: str
    modules: int = 3
    assessment: bool = True
    mastery_score: float = 0.8
    max_points: int = 20
    module_minutes: float = 25.0
    video: bool = True


Assignment = Literal["required", "optional", "self"]


@dataclass(frozen=True)
class ProgramSpec:
    """A program (learning path) made of courses taken in order.

    ``audience`` lists the team functions it is for (empty: everyone); the pseudo-function
    ``"manager"`` selects team managers.

    ``assignment="required"`` assigns every eligible learner; ``"optional"`` assigns a share
    (``Behaviour.optional_assign_rate``) and lets a few others self-enrol without an
    assignment; ``"self"`` (a self-service library) assigns nobody, and a share
    (``Behaviour.self_service_rate``) enrol at a random moment of the range.
    ``new_hires_only`` programs (onboarding) are assigned at hire to people hired after the
    program went live.

    ``request_at`` is when a manager requests the program, as a fraction of the date range (a
    longer range spreads launches out); approval and publication follow. Assignment then rolls
    out team by team over ``rollout_days`` (one wave per team). ``course_gap_days`` is the
    median gap before each next course (default: twice ``Behaviour.session_gap_days``); a
    library's courses are weeks apart. ``due_days`` puts a due date on the assignment.
    ``outcome`` marks the program whose completion the outcome lift
    (``Effects.completion_outcome_lift``) applies to.
    """

    slug: str
    title: str
    description: str
    courses: tuple[CourseSpec, ...]
    audience: tuple[str, ...] = ()
    assignment: Assignment = "required"
    new_hires_only: bool = False
    request_at: float = 0.0
    rollout_days: float = 0.0
    course_gap_days: float | None = None
    due_days: int | None = None
    outcome: bool = False


@dataclass(frozen=True)
class Behaviour:
    """How people behave; rates are probabilities, times are medians of log-normal spreads.

    Per learner x program: ``no_start_rate`` never launch anything, ``dropout_rate`` stop
    part-way. Per session: ``abandon_rate`` end without ``terminated`` (the LMS then records
    ``abandoned``). Per learner x course: ``waive_rate`` the LMS waives the course. An
    assessment that is failed ``max_attempts_per_registration`` times is re-taken under a new
    registration (a new attempt at the course). ``weekend_rate`` is the chance a session that
    would fall on a weekend really does; otherwise it moves to Monday.
    """

    account_rate: float = 0.15
    new_hire_rate: float = 0.2
    leaver_rate: float = 0.08
    no_start_rate: float = 0.06
    dropout_rate: float = 0.1
    abandon_rate: float = 0.05
    waive_rate: float = 0.02
    optional_assign_rate: float = 0.6
    self_enrol_rate: float = 0.1
    self_service_rate: float = 0.5
    max_attempts_per_registration: int = 3
    start_delay_days: float = 3.0
    session_gap_days: float = 1.0
    pace_sigma: float = 0.35
    weekend_rate: float = 0.05
    work_start_hour: float = 8.0
    work_end_hour: float = 18.0
    video_rate: float = 0.5
    approve_days: float = 4.0
    publish_days: float = 10.0
    deals_per_month: float = 3.0
    deal_value: float = 4000.0
    deal_value_sigma: float = 0.6


def _frozen(values: Mapping[str, float] | None = None) -> Mapping[str, float]:
    return MappingProxyType(dict(values or {}))


@dataclass(frozen=True)
class KeyResultSpec:
    """A key result the generator reports check-ins for (ANALYTICS.md sections 1 and 5).

    The activity is ``<base>/key-results/<slug>`` of type
    ``<base>/xapi/activity-types/key-result``; the team (a Group actor named after the team,
    so the warehouse files the values under that team) posts ``check_ins`` check-in
    statements (verb ``http://activitystrea.ms/update``, ``result.score.raw`` the value),
    evenly spread over ``[start, end]`` (fractions of the date range, the last one at
    ``end``), each snapped to the team's working hours. The value moves in a straight line
    from ``baseline`` towards ``baseline + attained * (target - baseline)``, reached at the
    last check-in: ``attained=1.0`` plants a key result on track, ``0.2`` one far behind.
    """

    slug: str
    team: str
    baseline: float
    target: float
    attained: float = 1.0
    start: float = 0.0
    end: float = 1.0
    check_ins: int = 6


@dataclass(frozen=True)
class Effects:
    """Planted effects, all neutral by default, for analytics tests to find again.

    ``team_time_multiplier`` / ``role_time_multiplier``: factor on every calendar gap of a
    learner's journey (start delay, gaps between sessions, retries), so a team at 2.0 takes
    about twice as long from assignment to proficiency. ``team_score_shift``: added to the
    scaled assessment score (before the pass/fail decision), moving pass rates.
    ``completion_outcome_lift``: relative lift of the monetary value of every sale a learner
    closes after completing the ``outcome`` program (0.25 = +25 %).
    ``approve_delay_days`` / ``publish_delay_days``: extra days (per program slug) added to the
    wait before the program's request is approved / before the approved program is published
    (ANALYTICS.md section 3, learning friction); everything after moves with them.
    """

    team_time_multiplier: Mapping[str, float] = field(default_factory=_frozen)
    role_time_multiplier: Mapping[str, float] = field(default_factory=_frozen)
    team_score_shift: Mapping[str, float] = field(default_factory=_frozen)
    completion_outcome_lift: float = 0.0
    approve_delay_days: Mapping[str, float] = field(default_factory=_frozen)
    publish_delay_days: Mapping[str, float] = field(default_factory=_frozen)
    # Key results with check-in statements (KeyResultSpec); none by default.
    key_results: tuple[KeyResultSpec, ...] = ()


DEFAULT_REGIONS: Final[tuple[RegionSpec, ...]] = (
    RegionSpec("AMER", -5.0, "en-US"),
    RegionSpec("EMEA", 1.0, "en-GB"),
    RegionSpec("DACH", 1.0, "de-DE"),
    RegionSpec("APAC", 8.0, "en-AU"),
)

DEFAULT_TEAMS: Final[tuple[TeamSpec, ...]] = (
    TeamSpec("Sales East", "sales", "AMER", 1.5),
    TeamSpec("Sales West", "sales", "AMER", 1.5),
    TeamSpec("Sales EMEA", "sales", "EMEA", 1.2),
    TeamSpec("Customer Support", "support", "EMEA", 1.5),
    TeamSpec("Support APAC", "support", "APAC", 1.0),
    TeamSpec("Platform Engineering", "engineering", "DACH", 1.5),
    TeamSpec("Product Engineering", "engineering", "AMER", 1.5),
    TeamSpec("Operations", "operations", "APAC", 1.0),
)

_LIBRARY: Final = (
    ("excel-essentials", "Spreadsheet Essentials"),
    ("writing-clearly", "Writing Clearly"),
    ("time-management", "Time Management"),
    ("presenting-with-confidence", "Presenting with Confidence"),
    ("intro-to-ai", "An Introduction to AI"),
    ("wellbeing-at-work", "Wellbeing at Work"),
)

DEFAULT_PROGRAMS: Final[tuple[ProgramSpec, ...]] = (
    ProgramSpec(
        "onboarding",
        "New Starter Onboarding",
        "Everything a new colleague needs in the first weeks.",
        (
            CourseSpec("company-essentials", "Company Essentials", modules=3, assessment=False),
            CourseSpec("tools-and-systems", "Tools and Systems", modules=2, mastery_score=0.7),
        ),
        new_hires_only=True,
        due_days=30,
    ),
    ProgramSpec(
        "compliance-2024",
        "Annual Compliance 2024",
        "Information security, data protection and code of conduct.",
        (
            CourseSpec("security-awareness", "Security Awareness", modules=2, max_points=10),
            CourseSpec("data-protection", "Data Protection", modules=2, mastery_score=0.75),
        ),
        request_at=0.04,
        rollout_days=90,
        due_days=60,
    ),
    ProgramSpec(
        "sales-mastery",
        "Sales Mastery",
        "Consultative selling, negotiation and pipeline discipline.",
        (
            CourseSpec("product-fundamentals", "Product Fundamentals", modules=3),
            CourseSpec("negotiation", "Negotiation Skills", modules=2, mastery_score=0.75),
        ),
        audience=("sales",),
        request_at=0.12,
        rollout_days=120,
        due_days=90,
        outcome=True,
    ),
    ProgramSpec(
        "support-excellence",
        "Customer Support Excellence",
        "Handling tickets, escalations and difficult conversations.",
        (CourseSpec("ticket-handling", "Ticket Handling", modules=3, mastery_score=0.7),),
        audience=("support",),
        request_at=0.3,
        rollout_days=60,
    ),
    ProgramSpec(
        "secure-coding",
        "Secure Coding",
        "Common vulnerabilities and how to avoid them.",
        (CourseSpec("owasp-top-ten", "OWASP Top Ten", modules=4, module_minutes=35),),
        audience=("engineering",),
        assignment="optional",
        request_at=0.45,
        rollout_days=60,
    ),
    ProgramSpec(
        "leadership-essentials",
        "Leadership Essentials",
        "Feedback, coaching and running effective one-to-ones.",
        (CourseSpec("coaching", "Coaching Conversations", modules=3, assessment=False),),
        audience=("manager",),
        request_at=0.6,
        rollout_days=30,
    ),
    ProgramSpec(
        "learning-library",
        "Learning Library",
        "Short self-paced courses anyone can take at any time.",
        tuple(
            CourseSpec(slug, title, modules=2, assessment=slug == "intro-to-ai", module_minutes=15)
            for slug, title in _LIBRARY
        ),
        assignment="self",
        course_gap_days=30,
    ),
)


@dataclass(frozen=True)
class GeneratorConfig:
    """One data set: ``learners`` people over ``[start, end)`` (UTC), drawn from ``seed``.

    Volume follows ``learners``: with the defaults, about 160 statements per learner (so
    ``learners=6300`` gives about a million; ``itertools.islice`` cuts an exact count). Program
    launches are placed as fractions of the range, so the range spreads activity rather than
    adding much of it.

    ``void_rate`` is the share of sessions in which the AU sends a premature ``completed`` that
    the LMS voids later (so a correct reader ignores it); ``duplicate_rate`` the share of
    statements re-sent unchanged (same id and content) a little later. ``video``,
    ``outcomes`` and ``lifecycle`` switch the video, closed-sale and request/approve/publish
    statements on or off.
    """

    seed: int = 0
    learners: int = 200
    start: datetime = datetime(2024, 1, 1, tzinfo=UTC)
    end: datetime = datetime(2025, 1, 1, tzinfo=UTC)
    regions: tuple[RegionSpec, ...] = DEFAULT_REGIONS
    teams: tuple[TeamSpec, ...] = DEFAULT_TEAMS
    programs: tuple[ProgramSpec, ...] = DEFAULT_PROGRAMS
    behaviour: Behaviour = field(default_factory=Behaviour)
    effects: Effects = field(default_factory=Effects)
    void_rate: float = 0.01
    duplicate_rate: float = 0.0
    video: bool = True
    outcomes: bool = True
    lifecycle: bool = True
    base_iri: str = "https://example.com"
    email_domain: str = "example.com"
    account_home_page: str = "https://hr.example.com"
    lms_home_page: str = "https://lms.example.com"

    def __post_init__(self) -> None:
        if self.learners < 1:
            raise ValueError("learners must be at least 1")
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware datetimes")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if not self.teams:
            raise ValueError("at least one team is needed")
        regions = {r.name for r in self.regions}
        for team in self.teams:
            if team.region not in regions:
                raise ValueError(f"team {team.name!r} names unknown region {team.region!r}")
        for rate in (self.void_rate, self.duplicate_rate):
            if not 0.0 <= rate <= 1.0:
                raise ValueError("rates must be between 0 and 1")

"""The world the statements describe: an organisation of people and a catalogue of learning.

:class:`Organisation` holds the learners (every employee, managers included) with their team,
role, region, manager, hire and leave dates, and a latent ``pace`` (how quickly they get
through learning) and ``ability`` (how well they score); :meth:`Organisation.roster` is the HR
table analytics needs for denominators. Learners are identified by ``mbox``
(``mailto:first.last.N@<domain>``) or, for a share of them, by an HR ``account``. L&D admins and
the LMS's own system agent are not learners.

:class:`Catalogue` holds the programs, each a sequence of cmi5-like courses, each a sequence of
assignable units (AUs): content modules and an optional scored assessment with a mastery
score. Every activity has one fixed definition, so the LRS never sees two definitions of an IRI.

Both are deterministic functions of the config (and its seed).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from lrs.generator import vocab
from lrs.generator.config import CourseSpec, GeneratorConfig, ProgramSpec, RegionSpec, TeamSpec
from lrs.generator.timefmt import DAY, ms_to_date, to_ms

Statement = dict[str, Any]

FIRST_NAMES: Final = (
    "Ada", "Aisha", "Alex", "Amara", "Ana", "Ben", "Carla", "Chen", "Chloe", "Daniel", "David",
    "Elena", "Emma", "Fatima", "Felix", "Grace", "Hana", "Hugo", "Ines", "Isaac", "Jamal",
    "Jana", "Javier", "Julia", "Kai", "Kenji", "Lara", "Leo", "Lina", "Lucas", "Maya", "Mei",
    "Mohammed", "Nadia", "Noah", "Olga", "Omar", "Paula", "Priya", "Rafael", "Rosa", "Sam",
    "Sara", "Sofia", "Tariq", "Tom", "Uma", "Victor", "Yara", "Zoe",
)  # fmt: skip
LAST_NAMES: Final = (
    "Adams", "Ahmed", "Alvarez", "Baker", "Bauer", "Brown", "Chen", "Cohen", "Costa", "Davis",
    "Dubois", "Evans", "Fischer", "Garcia", "Gupta", "Hansen", "Ito", "Jensen", "Kim", "Kowalski",
    "Lee", "Lopez", "Martin", "Meyer", "Moreau", "Murphy", "Nakamura", "Nguyen", "Novak", "Okafor",
    "Olsen", "Patel", "Perez", "Rossi", "Santos", "Schmidt", "Singh", "Smith", "Suzuki", "Taylor",
    "Tanaka", "Torres", "Wagner", "Walker", "Wang", "Weber", "Wilson", "Wong", "Yilmaz", "Zhang",
)  # fmt: skip

ROLES: Final[dict[str, tuple[str, ...]]] = {
    "sales": ("Account Executive", "Account Executive", "Sales Development Rep", "Sales Engineer"),
    "support": ("Support Agent", "Support Agent", "Support Specialist"),
    "engineering": ("Software Engineer", "Software Engineer", "Senior Engineer", "QA Engineer"),
    "operations": ("Operations Analyst", "Coordinator"),
}
MANAGER: Final = "manager"


@dataclass(frozen=True, slots=True)
class Learner:
    """One person. ``key`` is the learner key of ANALYTICS.md section 1."""

    index: int
    key: str
    hr_id: str
    name: str
    mbox: str | None
    account: tuple[str, str] | None  # (homePage, name)
    team: TeamSpec
    region: RegionSpec
    role: str
    is_manager: bool
    manager: int | None  # index of this learner's manager
    hire_ms: int
    leave_ms: int | None
    pace: float
    ability: float

    def agent(self) -> Statement:
        """A fresh Agent object for this learner (callers may mutate it)."""
        if self.mbox is not None:
            return {"objectType": "Agent", "name": self.name, "mbox": self.mbox}
        assert self.account is not None
        home_page, name = self.account
        return {
            "objectType": "Agent",
            "name": self.name,
            "account": {"homePage": home_page, "name": name},
        }

    @property
    def function(self) -> str:
        return self.team.function


def learner_key(agent: Statement) -> str:
    """The ANALYTICS.md learner key of an mbox or account Agent."""
    mbox = agent.get("mbox")
    if mbox is not None:
        local, _, domain = str(mbox).rpartition("@")
        return f"mbox::{local}@{domain.lower()}"
    account = agent["account"]
    return f"account::{account['name']}@{account['homePage']}"


@dataclass(frozen=True, slots=True)
class Admin:
    """An L&D administrator or the LMS itself: approves, publishes and voids; never a learner."""

    name: str
    account: tuple[str, str]

    def agent(self) -> Statement:
        home_page, name = self.account
        return {
            "objectType": "Agent",
            "name": self.name,
            "account": {"homePage": home_page, "name": name},
        }


class Organisation:
    """The people: ``learners`` (index order), ``admins`` and the LMS ``system`` agent."""

    def __init__(
        self,
        learners: tuple[Learner, ...],
        admins: tuple[Admin, ...],
        system: Admin,
    ) -> None:
        self.learners = learners
        self.admins = admins
        self.system = system

    @classmethod
    def build(cls, config: GeneratorConfig) -> Organisation:
        """Draw the organisation of ``config`` from its seed.

        The first learner of each team (in ``config.teams`` order) is its manager; the others
        are spread over the teams by their weights. Managers have no manager and do not leave.
        """
        rng = random.Random(f"lrs-generator/{config.seed}/organisation")
        behaviour = config.behaviour
        regions = {r.name: r for r in config.regions}
        start_ms, end_ms = to_ms(config.start), to_ms(config.end)
        teams = config.teams
        weights = [t.weight for t in teams]
        managers: dict[str, int] = {}
        learners: list[Learner] = []
        for i in range(config.learners):
            if i < len(teams):
                team, is_manager = teams[i], True
                managers[team.name] = i
            else:
                team, is_manager = rng.choices(teams, weights)[0], False
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            hr_id = f"E{100000 + i}"
            mbox: str | None = None
            account: tuple[str, str] | None = None
            if rng.random() < behaviour.account_rate:
                account = (config.account_home_page, hr_id)
            else:
                mbox = f"mailto:{first.lower()}.{last.lower()}.{i}@{config.email_domain}"
            if not is_manager and rng.random() < behaviour.new_hire_rate:
                hire_ms = start_ms + int(rng.random() * max(end_ms - start_ms - 14 * DAY, DAY))
            else:
                hire_ms = start_ms - int((30 + rng.random() * 8 * 365) * DAY)
            hire_ms -= hire_ms % DAY
            leave_ms: int | None = None
            if not is_manager and rng.random() < behaviour.leaver_rate:
                earliest = max(hire_ms, start_ms) + 21 * DAY
                if earliest < end_ms:
                    leave_ms = earliest + int(rng.random() * (end_ms - earliest))
                    leave_ms -= leave_ms % DAY
            role = (
                f"{team.function.title()} Manager"
                if is_manager
                else rng.choice(ROLES.get(team.function, ("Specialist",)))
            )
            key = (
                learner_key({"mbox": mbox})
                if mbox is not None
                else f"account::{hr_id}@{config.account_home_page}"
            )
            learners.append(
                Learner(
                    index=i,
                    key=key,
                    hr_id=hr_id,
                    name=f"{first} {last}",
                    mbox=mbox,
                    account=account,
                    team=team,
                    region=regions[team.region],
                    role=role,
                    is_manager=is_manager,
                    manager=None if is_manager else managers.get(team.name),
                    hire_ms=hire_ms,
                    leave_ms=leave_ms,
                    pace=rng.lognormvariate(0.0, behaviour.pace_sigma),
                    ability=rng.gauss(0.0, 1.0),
                )
            )
        admins = (
            Admin("Priya Raman", (config.lms_home_page, "lnd-admin-1")),
            Admin("Marco Bianchi", (config.lms_home_page, "lnd-admin-2")),
        )
        system = Admin("Example LMS", (config.lms_home_page, "lms-system"))
        return cls(tuple(learners), admins, system)

    def manager_of(self, learner: Learner) -> Learner | None:
        return None if learner.manager is None else self.learners[learner.manager]

    def roster(self) -> list[dict[str, Any]]:
        """The HR roster: one JSON-ready row per learner (dates as ``YYYY-MM-DD``)."""
        rows: list[dict[str, Any]] = []
        for learner in self.learners:
            manager = self.manager_of(learner)
            rows.append(
                {
                    "learner_key": learner.key,
                    "hr_id": learner.hr_id,
                    "name": learner.name,
                    "hire_date": _iso_date(learner.hire_ms),
                    "leave_date": None if learner.leave_ms is None else _iso_date(learner.leave_ms),
                    "team": learner.team.name,
                    "role": learner.role,
                    "region": learner.region.name,
                    "manager": None if manager is None else manager.key,
                }
            )
        return rows


def _iso_date(ms: int) -> str:
    day: date = ms_to_date(ms)
    return day.isoformat()


@dataclass(frozen=True, slots=True)
class Activity:
    """An activity with its one definition; :meth:`obj` makes a fresh Activity object."""

    id: str
    type: str | None
    name: str
    description: str

    def obj(self) -> Statement:
        definition: Statement = {
            "name": {"en-US": self.name},
            "description": {"en-US": self.description},
        }
        if self.type is not None:
            definition["type"] = self.type
        return {"objectType": "Activity", "id": self.id, "definition": definition}

    def ref(self) -> Statement:
        """The bare reference used in ``contextActivities``."""
        return {"objectType": "Activity", "id": self.id}


@dataclass(frozen=True, slots=True)
class AU:
    """An assignable unit: a content ``module`` or a scored ``assessment``."""

    activity: Activity
    kind: str
    number: int
    minutes: float
    mastery_score: float | None
    max_points: int
    launch_url: str
    video: Activity | None


@dataclass(frozen=True, slots=True)
class Course:
    activity: Activity
    spec: CourseSpec
    aus: tuple[AU, ...]


@dataclass(frozen=True, slots=True)
class Program:
    activity: Activity
    spec: ProgramSpec
    courses: tuple[Course, ...]

    @property
    def slug(self) -> str:
        return self.spec.slug

    def is_for(self, learner: Learner) -> bool:
        """Whether ``learner`` is in the program's audience."""
        audience = self.spec.audience
        if not audience:
            return True
        if MANAGER in audience and learner.is_manager:
            return True
        return learner.function in audience


class Catalogue:
    """The programs of a config, with IRIs under ``<base>/programs/`` and ``<base>/courses/``."""

    def __init__(self, programs: tuple[Program, ...]) -> None:
        self.programs = programs

    @classmethod
    def build(cls, config: GeneratorConfig) -> Catalogue:
        base = config.base_iri
        program_type = f"{base}/xapi/activity-types/program"
        programs: list[Program] = []
        for spec in config.programs:
            courses = tuple(_course(base, c) for c in spec.courses)
            activity = Activity(
                f"{base}/programs/{spec.slug}", program_type, spec.title, spec.description
            )
            programs.append(Program(activity, spec, courses))
        return cls(tuple(programs))

    def activities(self) -> list[Activity]:
        """Every activity of the catalogue (programs, courses, AUs, videos)."""
        out: list[Activity] = []
        for program in self.programs:
            out.append(program.activity)
            for course in program.courses:
                out.append(course.activity)
                for au in course.aus:
                    out.append(au.activity)
                    if au.video is not None:
                        out.append(au.video)
        return out


def _course(base: str, spec: CourseSpec) -> Course:
    course_iri = f"{base}/courses/{spec.slug}"
    aus: list[AU] = []
    for n in range(1, spec.modules + 1):
        iri = f"{course_iri}/modules/{n}"
        video = (
            Activity(
                f"{base}/videos/{spec.slug}-{n}",
                vocab.TYPE_VIDEO,
                f"{spec.title}: module {n} walkthrough",
                f"A short video accompanying module {n} of {spec.title}.",
            )
            if spec.video and n % 2 == 1
            else None
        )
        aus.append(
            AU(
                Activity(
                    iri,
                    vocab.TYPE_MODULE,
                    f"{spec.title}: Module {n}",
                    f"Module {n} of {spec.title}.",
                ),
                "module",
                n,
                spec.module_minutes,
                None,
                0,
                f"{base}/content/{spec.slug}/{n}/index.html",
                video,
            )
        )
    if spec.assessment:
        aus.append(
            AU(
                Activity(
                    f"{course_iri}/assessment",
                    vocab.TYPE_ASSESSMENT,
                    f"{spec.title}: Assessment",
                    f"The final assessment of {spec.title}.",
                ),
                "assessment",
                spec.modules + 1,
                6.0 + spec.max_points * 0.5,
                spec.mastery_score,
                spec.max_points,
                f"{base}/content/{spec.slug}/assessment/index.html",
                None,
            )
        )
    course = Activity(course_iri, vocab.TYPE_COURSE, spec.title, f"The course {spec.title}.")
    return Course(course, spec, tuple(aus))

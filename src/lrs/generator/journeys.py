"""The statement streams: one per learner x program, one per sales learner, one per program.

Each stream is a generator written as straight-line code that walks one story forward
(assignment, registration, sessions, ...). For every statement it first yields the statement's
time (an ``int``, milliseconds) and, when resumed, yields the statement itself: the merge in
:mod:`lrs.generator.stream` resumes a stream for the statement only when that statement is the
next to go out. So a waiting stream holds a few numbers, not a built statement (a million
half-built statements parked in a heap would also make the garbage collector crawl), and
statements are built in emission order.

Every stream draws from its own ``random.Random`` seeded from the run's seed and the stream's
identity (learner index, program slug), so one learner's journey does not change when more
learners (the organisation is drawn learner by learner) or more programs are added.

Two things follow from building at emission time:

* A voiding statement refers back to a statement of the same stream but is sent later (minutes
  to days); the stream hands it to :meth:`Context.defer` and the merge schedules it.
* An outcome (a closed sale) depends on whether the learner completed the outcome program
  *before* the sale. Completion is recorded in :class:`LearnerState` when the program's
  ``completed`` statement is built, i.e. emitted, so when a sale is built every earlier
  completion is already known.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from lrs.generator import vocab
from lrs.generator.config import GeneratorConfig, KeyResultSpec
from lrs.generator.model import AU, Admin, Catalogue, Course, Learner, Organisation, Program
from lrs.generator.timefmt import (
    DAY,
    HOUR,
    MINUTE,
    SECOND,
    WorkingHours,
    iso_duration,
    iso_timestamp,
    to_ms,
    uuid4,
)
from lrs.generator.vocab import Verb

Statement = dict[str, Any]
# A stream yields, per statement, its time (int ms) and then the statement (see module docstring).
Item = int | Statement
Stream = Iterator[Item]
# A sub-story yields items and returns whether the journey may go on.
Story = Generator[Item, None, bool]

LMS_PLATFORM: Final = "Example LMS"
CRM_PLATFORM: Final = "Example CRM"
AU_PLATFORMS: Final = ("Web", "Web", "Web", "Web", "iOS", "Android")
WAIVE_REASONS: Final = ("Tested Out", "Equivalent Outside Activity", "Administrative")
MAX_REGISTRATIONS: Final = 3


def _verb(verb: Verb) -> Statement:
    return {"id": verb[0], "display": {"en-US": verb[1]}}


def _cs(rng: random.Random, low_s: float, high_s: float) -> int:
    """A random span in [low_s, high_s] seconds, in whole centiseconds (as milliseconds)."""
    return 10 * int(100 * (low_s + rng.random() * (high_s - low_s)))


def _log_days(rng: random.Random, median_days: float, sigma: float = 0.6) -> int:
    """A log-normal span in milliseconds with the given median in days."""
    return int(median_days * math.exp(sigma * rng.gauss(0.0, 1.0)) * DAY)


@dataclass(frozen=True, slots=True)
class Deployment:
    """How a program came to be: requested by a manager, approved and published by admins."""

    request_id: str
    requester: Learner | Admin
    approver: Admin
    requested_ms: int
    approved_ms: int
    published_ms: int
    waves: dict[str, int]  # team name -> when its members are assigned (ms)


@dataclass(slots=True)
class LearnerState:
    """What a learner's streams share: when each program was completed (ms)."""

    completed: dict[str, int] = field(default_factory=dict)


class Context:
    """The pieces of one run that every stream reads, and the queue of deferred statements."""

    def __init__(self, config: GeneratorConfig, org: Organisation, catalogue: Catalogue) -> None:
        self.config = config
        self.org = org
        self.catalogue = catalogue
        self.behaviour = config.behaviour
        self.effects = config.effects
        self.start_ms = to_ms(config.start)
        self.end_ms = to_ms(config.end)
        b = config.behaviour
        self.hours = WorkingHours(b.work_start_hour, b.work_end_hour, b.weekend_rate)
        self.pending: list[tuple[int, Statement]] = []
        base = config.base_iri
        self.ext_due_date = vocab.project_extension(base, vocab.DUE_DATE)
        self.ext_request_id = vocab.project_extension(base, vocab.REQUEST_ID)
        self.ext_currency = vocab.project_extension(base, vocab.CURRENCY)
        self.deal_type = f"{base}/xapi/activity-types/deal"
        self.outcome_programs = tuple(p.slug for p in catalogue.programs if p.spec.outcome)
        self.deployments = {p.slug: self._deployment(p) for p in catalogue.programs}

    def rng(self, *parts: object) -> random.Random:
        """The independent random source of one stream (string seeds hash with SHA-512)."""
        return random.Random("/".join(["lrs-generator", str(self.config.seed), *map(str, parts)]))

    def defer(self, emit_ms: int, statement: Statement) -> None:
        """Schedule ``statement`` to be emitted at ``emit_ms`` (later than anything generating)."""
        self.pending.append((emit_ms, statement))

    def _deployment(self, program: Program) -> Deployment:
        rng = self.rng("program", program.slug)
        b = self.behaviour
        managers = [x for x in self.org.learners if x.is_manager and program.is_for(x)]
        if not managers:
            managers = [x for x in self.org.learners if x.is_manager]
        admin = rng.choice(self.org.admins)
        requester: Learner | Admin = admin
        offset = 0
        if managers:
            manager = rng.choice(managers)
            requester, offset = manager, _offset(manager)
        spec = program.spec
        earliest = self.start_ms + int(spec.request_at * (self.end_ms - self.start_ms))
        requested = self.hours.next(rng, earliest, offset)
        # Planted stage delays (Effects): added to the drawn waits, so no draw changes.
        approve_delay = int(self.effects.approve_delay_days.get(program.slug, 0.0) * DAY)
        publish_delay = int(self.effects.publish_delay_days.get(program.slug, 0.0) * DAY)
        approved = self.hours.next(
            rng, requested + _log_days(rng, b.approve_days) + approve_delay, 0
        )
        published = self.hours.next(
            rng, approved + _log_days(rng, b.publish_days) + publish_delay, 0
        )
        teams = [t.name for t in self.config.teams]
        rng.shuffle(teams)
        step = spec.rollout_days * DAY / len(teams)
        waves = {name: published + int(i * step) for i, name in enumerate(teams)}
        return Deployment(uuid4(rng), requester, admin, requested, approved, published, waves)

    def streams(self) -> Iterator[Stream]:
        """Every stream of the run, in a fixed order."""
        config = self.config
        if config.lifecycle:
            for program in self.catalogue.programs:
                yield lifecycle_stream(self, program)
        for learner in self.org.learners:
            state = LearnerState()
            for program in self.catalogue.programs:
                if program.is_for(learner):
                    yield journey_stream(self, learner, program, state)
            if config.outcomes and learner.function == "sales" and not learner.is_manager:
                yield outcome_stream(self, learner, state)
        for key_result in config.effects.key_results:
            yield key_result_stream(self, key_result)


def _offset(learner: Learner) -> int:
    return int(learner.region.utc_offset_hours * HOUR)


def lifecycle_stream(ctx: Context, program: Program) -> Stream:
    """A program's supply side: ``request`` by a manager, ``approve`` and ``published`` by an
    admin, linked by a request-id context extension (ANALYTICS.md section 3)."""
    dep = ctx.deployments[program.slug]
    rng = ctx.rng("lifecycle", program.slug)
    steps = (
        (vocab.REQUESTED, dep.requester, dep.requested_ms),
        (vocab.APPROVED, dep.approver, dep.approved_ms),
        (vocab.PUBLISHED, dep.approver, dep.published_ms),
    )
    for verb, actor, ts in steps:
        if ts >= ctx.end_ms:
            return
        yield ts
        yield {
            "id": uuid4(rng),
            "actor": actor.agent(),
            "verb": _verb(verb),
            "object": program.activity.obj(),
            "context": {
                "platform": LMS_PLATFORM,
                "language": "en-US",
                "extensions": {ctx.ext_request_id: dep.request_id},
            },
            "timestamp": iso_timestamp(ts),
        }


def journey_stream(ctx: Context, learner: Learner, program: Program, state: LearnerState) -> Stream:
    """One learner's way through one program (see :class:`Journey`)."""
    spec = program.spec
    dep = ctx.deployments[program.slug]
    if spec.new_hires_only and learner.hire_ms < dep.published_ms - 30 * DAY:
        return
    rng = ctx.rng("journey", learner.index, program.slug)
    b = ctx.behaviour
    assigned = spec.assignment == "required"
    if spec.assignment == "optional":
        draw = rng.random()
        if draw >= b.optional_assign_rate + b.self_enrol_rate:
            return
        assigned = draw < b.optional_assign_rate
    elif spec.assignment == "self" and rng.random() >= b.self_service_rate:
        return
    if spec.assignment == "self":  # a library: people wander in at any time
        available = dep.published_ms + int(rng.random() * (ctx.end_ms - dep.published_ms))
    elif spec.new_hires_only:
        available = dep.published_ms
    elif assigned:
        available = dep.waves[learner.team.name]
    else:  # self-enrolled: found the program some time after it went live
        available = dep.published_ms + int(rng.expovariate(1.0 / 45) * DAY)
    yield from Journey(ctx, learner, program, state, rng).run(
        max(available, learner.hire_ms), assigned
    )


class Journey:
    """A learner's journey through a program, as cmi5 would record it.

    Assignment (``assigned`` or ``was-assigned``, learner as actor, due date when the program
    has one), then each course in order: ``registered`` with a new registration, then each AU
    in sessions. A session is ``launched`` (LMS), ``initialized``, ``progressed`` with the cmi5
    progress extension (and sometimes a video ``played``), ``completed`` when the module's
    material is done, ``passed``/``failed`` with a score for an assessment, and ``terminated``
    with the session time as duration; or, when abandoned, the LMS later records ``abandoned``.
    An assessment failed too often is retaken under a new registration. A course may instead
    be ``waived``. When every AU met its move-on rule the LMS records ``satisfied`` for the
    course, and after the last course ``completed`` for the program.

    All gaps between sessions scale with the learner's pace and the planted team and role
    multipliers; a journey stops at the end of the range, when the learner leaves, or when the
    learner drops out.
    """

    def __init__(
        self,
        ctx: Context,
        learner: Learner,
        program: Program,
        state: LearnerState,
        rng: random.Random,
    ) -> None:
        self.ctx = ctx
        self.learner = learner
        self.program = program
        self.state = state
        self.rng = rng
        self.b = ctx.behaviour
        effects = ctx.effects
        self.mult = (
            learner.pace
            * effects.team_time_multiplier.get(learner.team.name, 1.0)
            * effects.role_time_multiplier.get(learner.role, 1.0)
        )
        self.score_shift = effects.team_score_shift.get(learner.team.name, 0.0)
        self.limit = ctx.end_ms if learner.leave_ms is None else min(ctx.end_ms, learner.leave_ms)
        self.offset = _offset(learner)
        self.language = learner.region.language
        self.t = 0
        self.anchor = 0
        self.natural = 0
        self.sessions = 0
        self.drop_after: int | None = None
        self.registration = ""
        self.last_session = ""
        self.time_spent = 0
        self.assessments_taken = 0

    # -- statement assembly ----------------------------------------------------------------

    def _statement(
        self,
        verb: Verb,
        obj: Statement,
        ts: int,
        context: Statement,
        result: Statement | None = None,
    ) -> Statement:
        statement: Statement = {
            "id": uuid4(self.rng),
            "actor": self.learner.agent(),
            "verb": {"id": verb[0], "display": {"en-US": verb[1]}},
            "object": obj,
        }
        if result is not None:
            statement["result"] = result
        statement["context"] = context
        statement["timestamp"] = iso_timestamp(ts)
        return statement

    def _lms_context(self, parent: bool = True) -> Statement:
        context: Statement = {"platform": LMS_PLATFORM, "language": self.language}
        if self.registration:
            context["registration"] = self.registration
        if parent:
            context["contextActivities"] = {"parent": [self.program.activity.ref()]}
        return context

    def _au_context(
        self,
        course: Course,
        session: str,
        platform: str,
        *,
        cmi5: bool = True,
        moveon: bool = False,
        extensions: Statement | None = None,
    ) -> Statement:
        """The cmi5 context template: registration, session id, course as parent, program
        as grouping; the cmi5 category for cmi5-defined statements, moveOn when the result
        carries success or completion (cmi5 9.6.2)."""
        activities: Statement = {
            "parent": [course.activity.ref()],
            "grouping": [self.program.activity.ref()],
        }
        if cmi5:
            category = [{"objectType": "Activity", "id": vocab.CMI5_CATEGORY}]
            if moveon:
                category.append({"objectType": "Activity", "id": vocab.MOVEON_CATEGORY})
            activities["category"] = category
        ext: Statement = {vocab.EXT_SESSION_ID: session}
        if extensions:
            ext.update(extensions)
        return {
            "registration": self.registration,
            "contextActivities": activities,
            "platform": platform,
            "language": self.language,
            "extensions": ext,
        }

    # -- time ------------------------------------------------------------------------------

    def _next_start(self, gap_days: float) -> int | None:
        """When the next session starts, or None when the journey ends first.

        Gaps accumulate on an unstretched clock (``natural``); the session is placed at the
        journey's start plus ``mult`` times the natural time since then, snapped to working
        hours. Stretching the whole timeline (rather than each gap before snapping) keeps the
        planted multipliers proportional: at 2.0 a journey takes about twice as long.
        """
        if self.drop_after is not None and self.sessions >= self.drop_after:
            return None
        self.natural += max(_log_days(self.rng, gap_days), 2 * MINUTE)
        target = self.anchor + int(self.mult * (self.natural - self.anchor))
        start = self.ctx.hours.next(self.rng, max(target, self.t + 2 * MINUTE), self.offset)
        if start >= self.limit:
            return None
        self.sessions += 1
        return start

    # -- the story -------------------------------------------------------------------------

    def run(self, available_ms: int, assigned: bool) -> Stream:
        rng, b = self.rng, self.b
        t = self.ctx.hours.next(rng, available_ms + int(rng.random() * DAY), self.offset)
        if t >= self.limit:
            return
        self.t = self.anchor = self.natural = t
        if assigned:
            yield t
            yield self._assigned(t)
        if rng.random() < b.no_start_rate:
            return
        if rng.random() < b.dropout_rate:
            self.drop_after = rng.randint(1, 8)
        gap = b.start_delay_days if assigned else b.start_delay_days * 3
        for course in self.program.courses:
            if rng.random() < b.waive_rate:
                ok = yield from self._waive(course, gap)
            else:
                ok = yield from self._course(course, gap)
            if not ok:
                return
            gap = self.program.spec.course_gap_days or b.session_gap_days * 2
        t = self.t + _cs(rng, 1, 30)
        if t >= self.limit:
            return
        yield t
        self.state.completed[self.program.slug] = t
        self.registration = ""
        yield self._statement(
            vocab.COMPLETED,
            self.program.activity.obj(),
            t,
            self._lms_context(parent=False),
            {"completion": True, "duration": iso_duration(self.time_spent)},
        )

    def _assigned(self, ts: int) -> Statement:
        verb = vocab.ASSIGNED if self.rng.random() < 0.75 else vocab.WAS_ASSIGNED
        context = self._lms_context(parent=False)
        manager = self.ctx.org.manager_of(self.learner)
        if manager is not None:
            context["instructor"] = manager.agent()
        due_days = self.program.spec.due_days
        if due_days is not None:
            due = ts - ts % DAY + (due_days + 1) * DAY - 1
            context["extensions"] = {self.ctx.ext_due_date: iso_timestamp(due)}
        return self._statement(verb, self.program.activity.obj(), ts, context)

    def _register(self, course: Course, launch_ms: int) -> Iterator[Item]:
        ts = max(self.t + 10, launch_ms - _cs(self.rng, 5, 60))
        yield ts
        self.registration = uuid4(self.rng)
        context = self._lms_context()
        yield self._statement(vocab.REGISTERED, course.activity.obj(), ts, context)

    def _course(self, course: Course, gap_days: float) -> Story:
        start = self._next_start(gap_days)
        if start is None:
            return False
        yield from self._register(course, start)
        first = True
        for au in course.aus:
            if au.kind == "module":
                ok = yield from self._module(course, au, start if first else None)
            else:
                ok = yield from self._assessment(course, au, start if first else None)
            if not ok:
                return False
            first = False
        yield from self._satisfied(course)
        return True

    def _satisfied(self, course: Course) -> Iterator[Item]:
        ts = self.t + _cs(self.rng, 0.5, 3)
        if ts >= self.limit:
            return
        self.t = ts
        context = self._lms_context()
        context["contextActivities"]["category"] = [
            {"objectType": "Activity", "id": vocab.CMI5_CATEGORY}
        ]
        context["extensions"] = {vocab.EXT_SESSION_ID: self.last_session}
        yield ts
        yield self._statement(vocab.SATISFIED, course.activity.obj(), ts, context)

    def _waive(self, course: Course, gap_days: float) -> Story:
        """The LMS waives every AU of the course (cmi5 9.3.7: reason, own session id)."""
        start = self._next_start(gap_days)
        if start is None:
            return False
        yield from self._register(course, start)
        t = start
        reason = self.rng.choice(WAIVE_REASONS)
        for au in course.aus:
            session = uuid4(self.rng)
            self.last_session = session
            context = self._au_context(course, session, LMS_PLATFORM, moveon=True)
            result = {
                "success": True,
                "completion": True,
                "extensions": {vocab.EXT_REASON: reason},
            }
            yield t
            yield self._statement(vocab.WAIVED, au.activity.obj(), t, context, result)
            t += _cs(self.rng, 0.2, 2)
        self.t = t
        self.last_session = uuid4(self.rng)  # satisfied outside a launch gets its own session
        yield from self._satisfied(course)
        return True

    def _launched(self, course: Course, au: AU, t: int, session: str) -> Statement:
        ext: Statement = {
            vocab.EXT_LAUNCH_MODE: "Normal",
            vocab.EXT_LAUNCH_URL: au.launch_url,
            vocab.EXT_MOVE_ON: "Completed" if au.mastery_score is None else "CompletedAndPassed",
        }
        if au.mastery_score is not None:
            ext[vocab.EXT_MASTERY_SCORE] = au.mastery_score
        context = self._au_context(course, session, LMS_PLATFORM, extensions=ext)
        return self._statement(vocab.LAUNCHED, au.activity.obj(), t, context)

    def _mistake(self, course: Course, au: AU, t: int, session: str, platform: str) -> Statement:
        """A premature completed (or perfect passed) the LMS voids later (cmi5 6.3)."""
        ctx = self.ctx
        if au.mastery_score is None:
            context = self._au_context(course, session, platform, moveon=True)
            result: Statement = {"completion": True, "duration": "PT1S"}
            statement = self._statement(vocab.COMPLETED, au.activity.obj(), t, context, result)
        else:
            ext = {vocab.EXT_MASTERY_SCORE: au.mastery_score}
            context = self._au_context(course, session, platform, moveon=True, extensions=ext)
            score = {"scaled": 1.0, "raw": au.max_points, "min": 0, "max": au.max_points}
            result = {"score": score, "success": True, "duration": "PT1S"}
            statement = self._statement(vocab.PASSED, au.activity.obj(), t, context, result)
        void_ms = min(t + max(_log_days(self.rng, 0.3, 1.0), MINUTE), ctx.end_ms - 1)
        ctx.defer(
            void_ms,
            {
                "id": uuid4(self.rng),
                "actor": ctx.org.system.agent(),
                "verb": _verb(vocab.VOIDED),
                "object": {"objectType": "StatementRef", "id": statement["id"]},
                "timestamp": iso_timestamp(void_ms),
            },
        )
        return statement

    def _module(self, course: Course, au: AU, start: int | None) -> Story:
        """Sessions on one module until its material is done (progress 100 -> completed)."""
        rng = self.rng
        need = max(int(au.minutes * rng.lognormvariate(0.0, 0.3) * MINUTE), 2 * MINUTE)
        spent = 0
        while spent < need:
            if start is None:
                start = self._next_start(self.b.session_gap_days * (0.5 if spent == 0 else 1))
                if start is None:
                    return False
            result = yield from self._module_session(course, au, start, need, spent)
            if result < 0:
                return False
            spent = result
            start = None
        return True

    def _module_session(
        self, course: Course, au: AU, start: int, need: int, spent: int
    ) -> Generator[Item, None, int]:
        """One module session; returns the time spent so far on the AU, or -1 to stop."""
        rng, b, limit = self.rng, self.b, self.limit
        session = uuid4(rng)
        self.last_session = session
        platform = rng.choice(AU_PLATFORMS)
        launched = t = start
        yield t
        yield self._launched(course, au, t, session)
        t += _cs(rng, 1, 8)
        if t >= limit:
            return -1
        init = t
        obj = au.activity.obj
        yield t
        yield self._statement(
            vocab.INITIALIZED, obj(), t, self._au_context(course, session, platform)
        )
        if rng.random() < self.ctx.config.void_rate and t + HOUR < self.ctx.end_ms:
            t += _cs(rng, 1, 20)
            yield t
            yield self._mistake(course, au, t, session, platform)
        # The session covers the rest of the module, or a typical sitting, whichever is less.
        length = min(need - spent, int(rng.lognormvariate(math.log(20), 0.5) * MINUTE))
        abandon = rng.random() < b.abandon_rate
        if abandon:
            length = int(length * (0.2 + 0.7 * rng.random()))
        length = max(length + (-length) % 10, MINUTE)  # up to the 10 ms grid: reach ``need``
        steps = 1 + min(3, length // (8 * MINUTE))
        video_step = -1
        if au.video is not None and self.ctx.config.video and rng.random() < b.video_rate:
            video_step = rng.randrange(steps)
        for k in range(steps):
            step_t = max(init + length * (k + 1) // steps, t + 10)
            step_t -= (step_t - init) % 10
            if k == video_step and au.video is not None:
                play_t = t + (step_t - t) // 2
                play_t -= (play_t - init) % 10
                if play_t > t:
                    if play_t >= limit:
                        return -1
                    yield play_t
                    yield self._played(course, au, play_t, session, platform)
                    t = play_t
            if step_t <= t:
                step_t = t + 10
            if step_t >= limit:
                return -1
            t = step_t
            progress = min(99, 100 * (spent + t - init) // need)
            context = self._au_context(course, session, platform, cmi5=False)
            result: Statement = {"extensions": {vocab.EXT_PROGRESS: progress}}
            yield t
            yield self._statement(vocab.PROGRESSED, obj(), t, context, result)
        spent += t - init
        self.time_spent += t - launched
        if abandon:
            yield from self._abandoned(course, au, t, launched, session)
            return spent
        if spent >= need:
            t += _cs(rng, 1, 3)
            if t >= limit:
                return -1
            context = self._au_context(course, session, platform, moveon=True)
            result = {"completion": True, "duration": iso_duration(spent)}
            yield t
            yield self._statement(vocab.COMPLETED, obj(), t, context, result)
        t += _cs(rng, 1, 5)
        if t >= limit:
            return -1
        context = self._au_context(course, session, platform)
        result = {"duration": iso_duration(t - init)}
        yield t
        yield self._statement(vocab.TERMINATED, obj(), t, context, result)
        self.t = t
        return spent

    def _abandoned(
        self, course: Course, au: AU, last: int, launched: int, session: str
    ) -> Iterator[Item]:
        """The LMS records the abandoned session after a timeout (cmi5 9.3.6, 9.5.4.2)."""
        ts = last + _cs(self.rng, 30 * 60, 120 * 60)
        self.t = last
        if ts >= self.limit:
            return
        self.t = ts
        context = self._au_context(course, session, LMS_PLATFORM)
        result = {"duration": iso_duration(last - launched)}
        yield ts
        yield self._statement(vocab.ABANDONED, au.activity.obj(), ts, context, result)

    def _played(self, course: Course, au: AU, ts: int, session: str, platform: str) -> Statement:
        video = au.video
        assert video is not None
        rng = self.rng
        length = 60 + rng.randrange(540)
        context = self._au_context(
            course,
            session,
            platform,
            cmi5=False,
            extensions={
                vocab.EXT_VIDEO_SESSION: uuid4(rng),
                vocab.EXT_VIDEO_LENGTH: float(length),
            },
        )
        activities = context["contextActivities"]
        activities["parent"] = [au.activity.ref()]
        activities["grouping"] = [course.activity.ref(), self.program.activity.ref()]
        activities["category"] = [{"objectType": "Activity", "id": vocab.VIDEO_CATEGORY}]
        result = {"extensions": {vocab.EXT_VIDEO_TIME: float(rng.randrange(length // 2))}}
        return self._statement(vocab.PLAYED, video.obj(), ts, context, result)

    def _assessment(self, course: Course, au: AU, start: int | None) -> Story:
        """Attempts until passed; too many fails in one registration start a new one."""
        attempts = 0
        registrations = 1
        completed = False
        while True:
            if start is None:
                retry = attempts > 0
                start = self._next_start(self.b.session_gap_days * (2 if retry else 0.5))
                if start is None:
                    return False
                if attempts >= self.b.max_attempts_per_registration:
                    if registrations >= MAX_REGISTRATIONS:
                        return False
                    registrations += 1
                    attempts = 0
                    completed = False
                    yield from self._register(course, start)
            outcome = yield from self._assessment_session(course, au, start, completed)
            if outcome == "stop":
                return False
            if outcome == "passed":
                return True
            if outcome == "failed":
                attempts += 1
                completed = True
            start = None

    def _assessment_session(
        self, course: Course, au: AU, start: int, completed: bool
    ) -> Generator[Item, None, str]:
        """One sitting of the assessment: ``passed``, ``failed``, ``abandoned`` or ``stop``."""
        rng, b, limit = self.rng, self.b, self.limit
        mastery = au.mastery_score
        assert mastery is not None
        session = uuid4(rng)
        self.last_session = session
        platform = rng.choice(AU_PLATFORMS)
        launched = t = start
        yield t
        yield self._launched(course, au, t, session)
        t += _cs(rng, 1, 8)
        if t >= limit:
            return "stop"
        init = t
        obj = au.activity.obj
        yield t
        yield self._statement(
            vocab.INITIALIZED, obj(), t, self._au_context(course, session, platform)
        )
        if rng.random() < self.ctx.config.void_rate and t + HOUR < self.ctx.end_ms:
            t += _cs(rng, 1, 20)
            yield t
            yield self._mistake(course, au, t, session, platform)
        length = int(au.minutes * rng.lognormvariate(0.0, 0.3) * MINUTE)
        length -= length % 10
        if rng.random() < b.abandon_rate:
            t = max(init + length // 3 - (length // 3) % 10, t + 10)
            self.time_spent += t - launched
            if t >= limit:
                return "stop"
            context = self._au_context(course, session, platform, cmi5=False)
            result: Statement = {"extensions": {vocab.EXT_PROGRESS: 30}}
            yield t
            yield self._statement(vocab.PROGRESSED, obj(), t, context, result)
            yield from self._abandoned(course, au, t, launched, session)
            return "abandoned"
        t = max(init + length, t + 10 * SECOND)
        if t >= limit:
            return "stop"
        self.assessments_taken += 1
        true_score = (
            mastery
            + 0.08
            + 0.1 * self.learner.ability
            + 0.08 * (self.assessments_taken - 1)
            + self.score_shift
            + rng.gauss(0.0, 0.1)
        )
        raw = round(min(1.0, max(0.0, true_score)) * au.max_points)
        scaled = round(raw / au.max_points, 4)
        passed = scaled >= mastery
        if not completed:
            context = self._au_context(course, session, platform, moveon=True)
            result = {"completion": True, "duration": iso_duration(t - init)}
            yield t
            yield self._statement(vocab.COMPLETED, obj(), t, context, result)
            t += _cs(rng, 0.1, 1)
        ext = {vocab.EXT_MASTERY_SCORE: mastery}
        context = self._au_context(course, session, platform, moveon=True, extensions=ext)
        result = {
            "score": {"scaled": scaled, "raw": raw, "min": 0, "max": au.max_points},
            "success": passed,
            "duration": iso_duration(t - init),
        }
        verb = vocab.PASSED if passed else vocab.FAILED
        yield t
        yield self._statement(verb, obj(), t, context, result)
        t += _cs(rng, 1, 5)
        self.time_spent += t - launched
        if t >= limit:
            return "stop"
        context = self._au_context(course, session, platform)
        yield t
        yield self._statement(
            vocab.TERMINATED, obj(), t, context, {"duration": iso_duration(t - init)}
        )
        self.t = t
        return "passed" if passed else "failed"


def key_result_stream(ctx: Context, spec: KeyResultSpec) -> Stream:
    """Check-ins of a planted key result (:class:`KeyResultSpec`): the team reports the
    measured value as ``result.score.raw`` about the key result's activity."""
    if spec.check_ins < 1:
        return
    rng = ctx.rng("key-result", spec.slug)
    base = ctx.config.base_iri
    regions = {t.name: t.region for t in ctx.config.teams}
    offsets = {r.name: int(r.utc_offset_hours * HOUR) for r in ctx.config.regions}
    offset = offsets.get(regions.get(spec.team, ""), 0)
    span = ctx.end_ms - ctx.start_ms
    first = ctx.start_ms + int(spec.start * span)
    last = ctx.start_ms + int(spec.end * span)
    slug = spec.team.lower().replace(" ", "-")
    activity = {
        "objectType": "Activity",
        "id": f"{base}/key-results/{spec.slug}",
        "definition": {
            "type": f"{base}/xapi/activity-types/key-result",
            "name": {"en-US": f"Key result {spec.slug}"},
        },
    }
    t = 0
    for i in range(1, spec.check_ins + 1):
        due = first + (last - first) * i // spec.check_ins
        t = max(t + SECOND, ctx.hours.next(rng, due, offset))
        if t >= ctx.end_ms:
            return
        value = spec.baseline + spec.attained * (spec.target - spec.baseline) * i / spec.check_ins
        yield t
        yield {
            "id": uuid4(rng),
            "actor": {
                "objectType": "Group",
                "name": spec.team,
                "account": {"homePage": base, "name": f"team/{slug}"},
            },
            "verb": {"id": "http://activitystrea.ms/update", "display": {"en-US": "updated"}},
            "object": copy.deepcopy(activity),
            "result": {"score": {"raw": round(value, 4)}},
            "context": {"platform": LMS_PLATFORM, "language": "en-US"},
            "timestamp": iso_timestamp(t),
        }


def outcome_stream(ctx: Context, learner: Learner, state: LearnerState) -> Stream:
    """Closed sales of a sales learner: a Poisson stream of deals with log-normal values.

    A deal closed after the learner completed an ``outcome`` program is worth
    ``1 + completion_outcome_lift`` times as much (the planted completion -> outcome effect).
    """
    b = ctx.behaviour
    if b.deals_per_month <= 0:
        return
    rng = ctx.rng("outcomes", learner.index)
    limit = ctx.end_ms if learner.leave_ms is None else min(ctx.end_ms, learner.leave_ms)
    mean_gap_days = 30.0 / b.deals_per_month
    offset = _offset(learner)
    lift = 1.0 + ctx.effects.completion_outcome_lift
    t = max(ctx.start_ms, learner.hire_ms)
    number = 0
    while True:
        t = ctx.hours.next(rng, t + int(rng.expovariate(1.0 / mean_gap_days) * DAY), offset)
        if t >= limit:
            return
        yield t
        number += 1
        value = b.deal_value * rng.lognormvariate(0.0, b.deal_value_sigma)
        for slug in ctx.outcome_programs:
            done = state.completed.get(slug)
            if done is not None and done < t:
                value *= lift
                break
        deal = f"{learner.hr_id}-{number}"
        yield {
            "id": uuid4(rng),
            "actor": learner.agent(),
            "verb": _verb(vocab.CLOSED_SALE),
            "object": {
                "objectType": "Activity",
                "id": f"{ctx.config.base_iri}/crm/deals/{deal}",
                "definition": {"type": ctx.deal_type, "name": {"en-US": f"Deal {deal}"}},
            },
            "result": {"extensions": {vocab.EXT_MONETARY_VALUE: round(value, 2)}},
            "context": {
                "platform": CRM_PLATFORM,
                "language": learner.region.language,
                "extensions": {ctx.ext_currency: "USD"},
            },
            "timestamp": iso_timestamp(t),
        }

"""A seeded generator of realistic xAPI statements (valid for xAPI 1.0.3 and 2.0.0).

Used by the LRS tests, the benchmarks, the analytics tests and ``lrs demo``. Pure Python and
standard library; the same :class:`GeneratorConfig` (seed included) always yields the same
statements, ids included, and :func:`generate` streams them, so a million statements never sit
in memory unless the caller collects them.

The model:

* **Organisation** (:class:`Organisation`): ``learners`` people in teams (each with a function
  such as sales or engineering, a region with its UTC offset and language, and a manager),
  with roles, hire dates (some hired during the range) and leave dates (some leave). Most are
  identified by ``mbox`` ``mailto:first.last.N@example.com``, some by an HR ``account``.
  :func:`roster` gives the HR table with the ANALYTICS.md learner keys.
* **Catalogue** (:class:`Catalogue`): programs (``<base>/programs/<slug>``) made of cmi5-like
  courses (``<base>/courses/<slug>``, type ``course``) made of AUs: modules (type ``module``)
  and an optional assessment (type ``assessment``) with a mastery score. Programs are required
  (assigned to their audience in team waves after publication), optional, onboarding (at
  hire) or a self-service library people wander into across the year.
* **Journeys**: per learner and program, an assignment, then per course a ``registered`` with a
  new registration and cmi5 sessions (``launched``, ``initialized``, ``progressed``,
  ``completed``, ``passed``/``failed``, ``terminated``; sometimes ``abandoned``, ``waived``,
  video ``played``); failed assessments are retried, under a new registration after too many
  failures; ``satisfied`` per course and ``completed`` for the program at the end. Sessions fall
  in local working hours, mostly on weekdays, and are strictly ordered inside. Statements about
  an AU have the course as ``parent`` and the program as ``grouping`` (so the program's scope,
  "object, parent or grouping", covers all of them); statements about a course have the
  program as ``parent``.
* **Around the journeys**: request / approve / publish statements per program (manager and
  admins, linked by a request-id extension), closed sales with a monetary value for sales
  people, premature statements voided later by the LMS (``void_rate``) and re-sent
  duplicates (``duplicate_rate``).
* **Planted effects** (:class:`Effects`, neutral by default): per-team and per-role
  time-to-proficiency multipliers, per-team score shifts, and a lift in sale value after
  completing the outcome program.

Order: statements come out in ``timestamp`` order, except re-sent duplicates, which keep their
original ``timestamp`` but come out up to 30 minutes later.

Quick use::

    from lrs.generator import GeneratorConfig, batches, generate, roster

    config = GeneratorConfig(seed=1, learners=100)
    for batch in batches(generate(config), 500):
        post(batch)
"""

from lrs.generator.config import (
    DEFAULT_PROGRAMS,
    DEFAULT_REGIONS,
    DEFAULT_TEAMS,
    Behaviour,
    CourseSpec,
    Effects,
    GeneratorConfig,
    ProgramSpec,
    RegionSpec,
    TeamSpec,
)
from lrs.generator.model import (
    AU,
    Activity,
    Admin,
    Catalogue,
    Course,
    Learner,
    Organisation,
    Program,
    learner_key,
)
from lrs.generator.stream import Dataset, batches, generate, roster

__all__ = [
    "AU",
    "DEFAULT_PROGRAMS",
    "DEFAULT_REGIONS",
    "DEFAULT_TEAMS",
    "Activity",
    "Admin",
    "Behaviour",
    "Catalogue",
    "Course",
    "CourseSpec",
    "Dataset",
    "Effects",
    "GeneratorConfig",
    "Learner",
    "Organisation",
    "Program",
    "ProgramSpec",
    "RegionSpec",
    "TeamSpec",
    "batches",
    "generate",
    "learner_key",
    "roster",
]

"""The one composition point: which procedures regflows runs, and what each plugs in.

The shared layers (notices, calendars, the store, the ledger, the profile, the kit) never import
a procedure (issue 11, item 2). A procedure plugs in instead, and this module is where it does:
one :class:`Procedure` per procedure, read by the composition roots: ``regflows/cli.py`` mounts
its commands, ``regflows up`` and ``regflows notices serve-acks`` mount its endpoint routes, and
``tests/regflows/test_procedures.py`` checks that every deployment of prefect.yaml belongs to exactly one
procedure (or to :data:`CORE_DEPLOYMENTS`) and every notice kind has its templates.

Notice kinds are registered on import, not by a call from here: a procedure's package imports
its ``notices`` module, which registers its kinds (``regflows/incident/__init__.py``). The reason
is the worker process: a flow run loads its flow file by path, not through any composition
root, and whatever part of the procedure it loads (and whatever module of the procedure sends,
now or after a rewrite) brings the package, hence the kinds, with it. ``Procedure.kinds`` lists
them so that the composition is readable in one place and checked by the tests.

Adding a procedure: its package under ``regflows/``, a ``notices.py`` with its kinds (templates
in its ``templates/``) imported by its ``__init__.py``, a Typer sub-app, its routes if it takes
HTTP requests, its flows in ``flows/`` and deployments in prefect.yaml, and one
:class:`Procedure` entry below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

from notices.kinds import NoticeKind
from regflows.credit import notices as credit_notices
from regflows.credit.cli import credit_app, demo_app
from regflows.drills import notices as drill_notices
from regflows.drills.cli import drill_app
from regflows.incident import commands as _incident_commands  # noqa: F401  (adds declare/fulfil/... to incident_app)
from regflows.incident import notices as incident_notices
from regflows.incident.cli import incident_app
from regflows.inspection import signoff_notices as inspection_signoff
from regflows.inspection import worklist_notices as inspection_notices
from regflows.inspection.cli import inspection_app
from regflows.profile import Profile
from regflows.rating import commands as _rating_commands  # noqa: F401  (adds run/signoff/submit/feedback/objection to rating_app)
from regflows.rating import signoff_notices as rating_signoff
from regflows.rating.cli import rating_app

if TYPE_CHECKING:  # the routes' type only; starlette is loaded with the routes themselves
    from starlette.routing import BaseRoute

#: Deployments of prefect.yaml that belong to no procedure: they serve all of them.
CORE_DEPLOYMENTS: tuple[str, ...] = ("calendar-watch", "audit-anchor", "audit-verify", "notice-watch")


def _no_routes() -> Sequence[BaseRoute]:
    return ()


def _no_checks(profile: Profile) -> list[str]:
    return []


@dataclass(frozen=True)
class Procedure:
    """What one procedure plugs into regflows.

    ``commands`` are the CLI sub-apps by the name they are mounted under; ``deployments`` the
    names of its deployments in prefect.yaml; ``kinds`` its notice kinds (registered when its
    package is imported). ``routes`` returns its endpoint routes: a function, because the
    handlers load Prefect and the store (about 3 s measured), which only the endpoint needs, not
    every ``regflows`` command that reads this module to mount its sub-apps.
    """

    name: str
    title: str
    kinds: tuple[NoticeKind, ...]
    commands: tuple[tuple[str, typer.Typer], ...]
    deployments: tuple[str, ...]
    routes: Callable[[], Sequence[BaseRoute]] = _no_routes
    #: ``regflows doctor``'s warnings about the profile from this procedure's rules (Chinese lines).
    profile_warnings: Callable[[Profile], list[str]] = _no_checks


def _incident_routes() -> Sequence[BaseRoute]:
    # Imported when the endpoint is assembled, not at start-up: see Procedure.routes.
    from regflows.incident.ingest import routes
    from tasks.notices import sms_rate_limiter  # the immediate alert's SMS take the run's rate limit too

    return routes(sms_rate_limiter)


def _inspection_routes() -> Sequence[BaseRoute]:
    # the owners' signed pages per lead (GET/POST /inspection/<token>), loaded with the endpoint only
    from regflows.inspection.pages import ROUTES

    return ROUTES


def _credit_access_warnings(profile: Profile) -> list[str]:
    # PBOC-102 附件1 (the 21 national access institutions) against institution.credit_access.
    from regflows.credit.units import access_warnings

    return access_warnings(profile)


PROCEDURES: tuple[Procedure, ...] = (
    Procedure(
        name="incident",
        title="网络安全事件应急响应",
        kinds=incident_notices.KINDS,
        commands=(("incident", incident_app),),
        deployments=("incident-response", "incident-watch", "incident-fulfil", "incident-waive", "incident-update"),
        routes=_incident_routes,
    ),
    Procedure(
        name="credit-stats",
        title="征信信息安全情况统计（按月）",
        kinds=credit_notices.KINDS,
        commands=(("credit-stats", credit_app), ("demo", demo_app)),
        deployments=("credit-stats", "credit-stats-watch", "credit-daily-check"),
        profile_warnings=_credit_access_warnings,
    ),
    Procedure(
        # reads the query logs through what regflows.credit registers (regflows/kit/querylogs.py),
        # imported above: this module is the composition root that joins the two
        name="self-inspection",
        title="征信合规与信息安全自查自纠（按季度）",
        kinds=(inspection_notices.WORKLIST_REMINDER, inspection_signoff.SIGNOFF_REQUEST),
        commands=(("self-inspection", inspection_app),),
        deployments=("self-inspection", "self-inspection-watch"),
        routes=_inspection_routes,
    ),
    Procedure(
        name="rating",
        title="征信合规与信息安全年度考核评级",
        kinds=(rating_signoff.SIGNOFF_REQUEST,),
        commands=(("rating", rating_app),),
        deployments=("rating", "rating-watch"),
    ),
    Procedure(  # issue 17: owed drills, plan, approval, run, measurements, report, gaps on the rectification register
        name="drill",
        title="网络安全事件应急演练",
        kinds=(drill_notices.PLAN_REQUEST,),
        commands=(("drill", drill_app),),
        deployments=("drill-watch", "drill-run"),
    ),
)


def endpoint_routes() -> list[BaseRoute]:
    """Every procedure's routes, for the endpoint a composition root starts."""
    return [route for procedure in PROCEDURES for route in procedure.routes()]

"""Writes for agents: create one in Smartflo and here in one action, and sync from Smartflo."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from agents.models import Agent, intercom_validator
from contactcenter.core.exceptions import ApplicationError, provider_error
from contactcenter.core.roles import AGENTS_GROUP
from contactcenter.phones import InvalidPhoneNumber, mask, to_e164
from contactcenter.smartflo import (
    Agent as SmartfloAgent,
)
from contactcenter.smartflo import SmartfloClient, SmartfloError, client_from_settings

logger = logging.getLogger(__name__)


def agent_validate_new(
    *, name: str, follow_me_number: str, intercom: str | None, username: str | None, password: str | None
) -> dict:
    """Check a new agent's fields locally, before anything is sent to Smartflo.

    Raises django ValidationError keyed by field; returns the cleaned values.
    """
    errors: dict[str, list[str]] = {}
    cleaned: dict = {"name": (name or "").strip(), "intercom": (str(intercom).strip() if intercom else "") or None}
    if not cleaned["name"]:
        errors["name"] = ["A name is required."]
    try:
        cleaned["follow_me_number"] = to_e164(follow_me_number or "")
        if not cleaned["follow_me_number"].startswith("+91"):
            errors["follow_me_number"] = ["Smartflo agents need an Indian mobile number."]
        elif Agent.objects.filter(follow_me_number=cleaned["follow_me_number"]).exists():
            errors["follow_me_number"] = ["Another agent already has this number."]
    except InvalidPhoneNumber as exc:
        errors["follow_me_number"] = [str(exc)]
    if cleaned["intercom"]:
        try:
            intercom_validator(cleaned["intercom"])
            if Agent.objects.filter(intercom=cleaned["intercom"]).exists():
                errors["intercom"] = ["Another agent already has this intercom."]
        except ValidationError as exc:
            errors["intercom"] = list(exc.messages)
    cleaned["username"] = (username or "").strip() or None
    if cleaned["username"]:
        User = get_user_model()
        try:  # the user model's own rules (letters, digits and @.+-_), so the admin can edit it later
            User._meta.get_field(User.USERNAME_FIELD).run_validators(cleaned["username"])
        except ValidationError as exc:
            errors["username"] = list(exc.messages)
        if "username" not in errors and User.objects.filter(username__iexact=cleaned["username"]).exists():
            errors["username"] = ["This username is taken."]
        if not password:
            errors["password"] = ["A password is required when a username is given."]
        else:
            try:
                validate_password(password, User(username=cleaned["username"]))
            except ValidationError as exc:
                errors["password"] = list(exc.messages)
    elif password:
        errors["password"] = ["A password needs a username to sign in with: give one, or leave the password empty."]
    if errors:
        raise ValidationError(errors)
    cleaned["password"] = password
    return cleaned


def agent_create(
    *,
    name: str,
    follow_me_number: str,
    intercom: str | None = None,
    username: str | None = None,
    password: str | None = None,
    client: SmartfloClient | None = None,
) -> Agent:
    """Create the agent in Smartflo (`POST /agent`), then here, optionally with a login.

    Nothing is stored when Smartflo refuses or does not answer: the error says which.
    """
    cleaned = agent_validate_new(
        name=name, follow_me_number=follow_me_number, intercom=intercom, username=username, password=password
    )
    smartflo = client or client_from_settings()
    try:
        created = smartflo.add_agent(
            name=cleaned["name"], follow_me_number=cleaned["follow_me_number"], intercom=cleaned["intercom"]
        )
    except SmartfloError as exc:
        logger.warning("agent create refused for %s: %s", mask(cleaned["follow_me_number"]), exc)
        raise provider_error(exc) from exc
    finally:
        if client is None:
            smartflo.close()

    try:
        with transaction.atomic():
            user = None
            if cleaned["username"]:
                user = get_user_model().objects.create_user(
                    username=cleaned["username"], password=cleaned["password"], first_name=cleaned["name"][:150]
                )
                user.groups.add(Group.objects.get_or_create(name=AGENTS_GROUP)[0])
            agent = Agent.objects.create(
                smartflo_id=created.agent_id,
                name=cleaned["name"],
                follow_me_number=cleaned["follow_me_number"],
                intercom=cleaned["intercom"],
                user=user,
                last_synced_at=timezone.now(),
            )
    except IntegrityError as exc:
        # Two people added the same number or intercom at once: Smartflo has it, and the next
        # sync brings it in. Say so instead of failing silently.
        raise ApplicationError(
            "Smartflo created the agent, but a conflicting agent was saved here at the same time; "
            "run a sync to bring it in.",
            code="conflict",
            status_code=409,
            extra={"smartflo_id": created.agent_id},
        ) from exc
    logger.info("agent %s created (smartflo id %s)", agent.pk, created.agent_id)
    return agent


@dataclass(frozen=True)
class AgentSyncResult:
    created: int
    updated: int
    unchanged: int
    deactivated: int

    def __str__(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.deactivated} deactivated"
        )


_SYNCED_FIELDS = (
    "smartflo_id",
    "eid",
    "name",
    "follow_me_number",
    "intercom",
    "blocked",
    "calls_answered",
    "calls_missed",
    "is_active",
)


def _upstream_values(upstream: SmartfloAgent) -> dict:
    """Smartflo's agent as our row's values. An unusable number or intercom becomes None, and
    text is cut to the column sizes, so one odd agent never aborts the sync."""
    try:
        number = to_e164(upstream.follow_me_number, strict=False) if upstream.follow_me_number else None
    except InvalidPhoneNumber:
        number = None
    intercom = upstream.intercom or None
    if intercom is not None and not (len(intercom) == 4 and intercom.isascii() and intercom.isdigit()):
        intercom = None
    return {
        "smartflo_id": upstream.id[:64],
        "eid": upstream.eid[:64],
        "name": (upstream.name or upstream.eid or upstream.id)[:150],
        "follow_me_number": number,
        "intercom": intercom,
        "blocked": upstream.blocked,
        "calls_answered": max(upstream.calls_answered, 0),
        "calls_missed": max(upstream.calls_missed, 0),
        "is_active": True,
    }


def _free(field: str, value: str | None, keep: Agent | None) -> None:
    """Take a unique value (number, intercom) off any other row: upstream moved it, and the row
    that now holds it upstream gets its own value when its turn comes."""
    if value:
        Agent.objects.filter(**{field: value}).exclude(pk=keep.pk if keep else None).update(**{field: None})


def agent_sync(*, client: SmartfloClient | None = None) -> AgentSyncResult:
    """Upsert every agent from `GET /agents`; deactivate those that vanished upstream.

    Rows are matched by Smartflo id; a row with no id yet (added by hand) may be matched by EID,
    then by follow-me number, so it links instead of duplicating. Each row is matched at most
    once. Running it twice changes nothing the second time. Smartflo is asked before any row is
    locked.
    """
    smartflo = client or client_from_settings()
    try:
        upstream_agents = [a for a in smartflo.list_agents() if a.id]
    except SmartfloError as exc:
        raise provider_error(exc) from exc
    finally:
        if client is None:
            smartflo.close()

    now = timezone.now()
    with transaction.atomic():
        local = list(Agent.objects.select_for_update())
        by_id = {a.smartflo_id: a for a in local if a.smartflo_id}
        # Only rows Smartflo never identified may link by EID or number: a row whose id vanished
        # belongs to someone who left, and must not pass their login to whoever gets the number.
        loose = [a for a in local if not a.smartflo_id]
        by_eid = {a.eid: a for a in loose if a.eid}
        by_number = {a.follow_me_number: a for a in loose if a.follow_me_number}
        created = updated = unchanged = 0
        seen: set[int] = set()

        for upstream in upstream_agents:
            values = _upstream_values(upstream)
            agent = by_id.get(values["smartflo_id"])
            if agent is None and values["eid"]:
                agent = by_eid.get(values["eid"])
            if agent is None and values["follow_me_number"]:
                agent = by_number.get(values["follow_me_number"])
            if agent is not None and agent.pk in seen:
                agent = None  # already claimed by another upstream agent
            _free("intercom", values["intercom"], agent)
            _free("follow_me_number", values["follow_me_number"], agent)
            if agent is None:
                agent = Agent.objects.create(**values, last_synced_at=now)
                created += 1
            else:
                agent.refresh_from_db(fields=["intercom", "follow_me_number"])  # _free may have cleared them
                changed = [f for f in _SYNCED_FIELDS if getattr(agent, f) != values[f]]
                for field in changed:
                    setattr(agent, field, values[field])
                agent.last_synced_at = now
                agent.save(update_fields=[*changed, "last_synced_at", "updated_at"])
                updated += bool(changed)
                unchanged += not changed
            seen.add(agent.pk)

        vanished = Agent.objects.filter(is_active=True, smartflo_id__isnull=False).exclude(pk__in=seen)
        if not upstream_agents and vanished.exists():
            # An empty list while we know agents is far likelier an account or token mix-up than
            # everyone leaving at once: keep them active and say so.
            logger.warning("agent sync: Smartflo listed no agents; not deactivating %d agents", vanished.count())
            deactivated = 0
        else:
            deactivated = vanished.update(is_active=False)
    result = AgentSyncResult(created=created, updated=updated, unchanged=unchanged, deactivated=deactivated)
    logger.info("agent sync: %s", result)
    return result

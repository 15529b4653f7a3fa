"""Agents as Smartflo's `GET /agents` shows them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sandbox import phones
from sandbox.errors import BadRequest, NotFound

FIRST_AGENT_ID = 100001
TEAM_ID = 501
TEAM_NAME = "Contact Center"
DEFAULT_AGENTS: tuple[tuple[str, str, str], ...] = (
    ("Asha Rao", "9876500001", "1001"),
    ("Vikram Singh", "9876500002", "1002"),
    ("Meera Iyer", "9876500003", "1003"),
)
_INTERCOM = re.compile(r"[0-9]{4}")


def eid_for(agent_id: int) -> str:
    """The stable 15-digit extension id (EID) of an agent id."""
    return f"0506{agent_id:011d}"


@dataclass
class Agent:
    id: int
    name: str
    follow_me_number: str  # 10 national digits
    eid: str
    intercom: str | None
    calls_answered: int = 0
    calls_missed: int = 0
    custom_status: int = 0  # 1 = blocked

    @property
    def number(self) -> str:
        return phones.e164(self.follow_me_number)

    def answers_to(self, ref: str) -> bool:
        """Whether `ref` (EID, intercom or follow-me number in any accepted form) names this agent."""
        ref = ref.strip()
        return ref in (self.eid, self.intercom) or phones.mobile(ref) == self.follow_me_number

    def to_json(self, did_number: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "follow_me_number": self.number,
            "eid": self.eid,
            "intercom": self.intercom,
            "calls_answered": self.calls_answered,
            "calls_missed": self.calls_missed,
            "custom_status": self.custom_status,
            "timegroup_name": None,
            "timegroup_id": None,
            "failover_destination": None,
            "failover_destination_name": None,
            "is_verified": 1,
            "departments": [],
            "allowed_caller_ids": [{"id": str(2_000_000 + self.id % 1_000_000), "number": did_number}],
            "agent_cdr": False,
            "associated_agent": False,
            "agent_groups": [],
            "sticky_settings": {"timeout": None, "ring_strategy": None, "alternate_numbers": [""]},
            "product_clicktocall": 1,
            "team_id": TEAM_ID,
            "team_name": TEAM_NAME,
        }


class AgentBook:
    """The agents of the account. Not thread-safe: the state lock guards it."""

    def __init__(self, *, seed_agents: bool = True) -> None:
        self._agents: dict[int, Agent] = {}
        self._next_id = FIRST_AGENT_ID
        if seed_agents:
            for name, number, intercom in DEFAULT_AGENTS:
                self.add(name=name, follow_me_number=number, intercom=intercom)

    def all(self) -> list[Agent]:
        return list(self._agents.values())

    def add(self, *, name: object, follow_me_number: object, intercom: object = None) -> Agent:
        """Validate and add an agent; BadRequest names the offending field."""
        if not isinstance(name, str) or not name.strip():
            raise BadRequest("name is required")
        number = phones.mobile(follow_me_number)
        if number is None:
            raise BadRequest("follow_me_number must be a 10-digit mobile number")
        for agent in self._agents.values():
            if agent.follow_me_number == number:
                raise BadRequest(f"follow_me_number is already used by agent {agent.id}")
        intercom_text = self._valid_intercom(intercom)
        agent = Agent(
            id=self._next_id,
            name=name.strip(),
            follow_me_number=number,
            eid=eid_for(self._next_id),
            intercom=intercom_text,
        )
        self._agents[agent.id] = agent
        self._next_id += 1
        return agent

    def _valid_intercom(self, intercom: object) -> str | None:
        if intercom is None or intercom == "":
            return None
        if isinstance(intercom, bool) or not isinstance(intercom, int | str):
            raise BadRequest("intercom must be a unique 4-digit number")
        text = str(intercom).strip()
        if not _INTERCOM.fullmatch(text):
            raise BadRequest("intercom must be a unique 4-digit number")
        if any(agent.intercom == text for agent in self._agents.values()):
            raise BadRequest(f"intercom {text} is already in use")
        return text

    def get(self, ref: object) -> Agent:
        """An agent by id or EID; NotFound otherwise."""
        text = str(ref).strip() if isinstance(ref, int | str) and not isinstance(ref, bool) else ""
        for agent in self._agents.values():
            if text and text in (str(agent.id), agent.eid):
                return agent
        raise NotFound("Agent not found")

    def find(self, ref: str) -> Agent | None:
        """The agent whose EID, intercom or follow-me number is `ref`."""
        return next((agent for agent in self._agents.values() if agent.answers_to(ref)), None)

    def by_number(self, number: str) -> Agent | None:
        """The agent whose follow-me number is the 10-digit `number`."""
        return next((agent for agent in self._agents.values() if agent.follow_me_number == number), None)

    def remove(self, ref: object) -> Agent:
        agent = self.get(ref)
        del self._agents[agent.id]
        return agent

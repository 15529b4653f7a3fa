"""Django's database sessions, read through SQL compiled once.

Every signed-in request reads its session: Django's store builds that query with the ORM each
time (about 0.3 ms of Python, twice the query itself). This store runs the same SQL, compiled
once (`CompiledQuery`), and checks the expiry the way Django's query does. Everything else
(writing, deleting, `clear_expired`) is Django's.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import router
from django.utils import timezone

from contactcenter.core.compiled import CompiledQuery

_SESSION = CompiledQuery(
    lambda key: Session.objects.filter(session_key=key).values_list("session_data", "expire_date"), "placeholder"
)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Session | None:
        rows = _SESSION.rows(self.session_key, using=router.db_for_read(Session)) if self.session_key else []
        if rows and rows[0][1] > timezone.now():
            data, expires = rows[0]
            return Session(session_key=self.session_key, session_data=data, expire_date=expires)
        self._session_key = None  # as Django's store does: a new session if anything is written
        return None

"""CompiledQuery: an ORM query compiled once, run again with other values (contactcenter/core/compiled.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contactcenter.core.compiled import CompiledQuery
from contactcenter.core.roles import user_roles

pytestmark = pytest.mark.django_db


def names_of(user_id: int):
    return Group.objects.filter(user__pk=user_id).values_list("name").order_by("name")


def test_rows_equal_the_orm_query_for_each_value_and_the_sql_is_built_once():
    ana, ben = User.objects.create(username="ana"), User.objects.create(username="ben")
    for name in ("Agents", "Supervisors", "Auditors"):
        Group.objects.get_or_create(name=name)[0].user_set.add(ana)
    Group.objects.get(name="Agents").user_set.add(ben)
    query = CompiledQuery(names_of, -1)
    built = []
    query._build = lambda user_id, build=query._build: built.append(user_id) or build(user_id)

    for user in (ana, ben, ana, User.objects.create(username="cy")):
        with CaptureQueriesContext(connection) as captured:
            rows = query.rows(user.pk)
        assert rows == list(names_of(user.pk))
        assert len(captured) == 1
    assert built == [-1]  # compiled once, from the placeholder


def test_a_placeholder_must_be_exactly_one_parameter():
    twice = CompiledQuery(lambda n: Group.objects.filter(pk=n).exclude(pk=n).values_list("name"), -5)
    with pytest.raises(ValueError, match="is 2 parameters"):
        twice.rows(1)
    transformed = CompiledQuery(lambda text: Group.objects.filter(name__contains=text).values_list("name"), "x")
    with pytest.raises(ValueError, match="is 0 parameters"):  # it became "%x%": not the value as given
        transformed.rows("y")
    with pytest.raises(TypeError):
        CompiledQuery(names_of, -1).rows()


def test_roles_follow_group_changes_from_one_request_to_the_next():
    user = User.objects.create(username="dee")
    assert user_roles(User.objects.get(pk=user.pk)) == []
    Group.objects.get_or_create(name="Supervisors")[0].user_set.add(user)
    assert user_roles(User.objects.get(pk=user.pk)) == ["supervisor"]
    Group.objects.get_or_create(name="Agents")[0].user_set.add(user)
    assert user_roles(User.objects.get(pk=user.pk)) == ["supervisor", "agent"]
    user.groups.clear()
    assert user_roles(User.objects.get(pk=user.pk)) == []


def test_rows_come_back_converted_as_values_list_gives_them():
    """Datetimes are aware datetimes on every database (SQLite hands back text), booleans are bools."""
    user = User.objects.create(username="eve", is_staff=True)
    query = CompiledQuery(
        lambda pk: User.objects.filter(pk=pk).values_list("date_joined", "is_staff", "last_login"), -1
    )
    assert query.rows(user.pk) == list(
        User.objects.filter(pk=user.pk).values_list("date_joined", "is_staff", "last_login")
    )
    ((joined, staff, last_login),) = query.rows(user.pk)
    assert joined == user.date_joined and joined.tzinfo is not None
    assert staff is True and last_login is None

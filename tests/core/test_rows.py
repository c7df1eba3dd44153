"""core.rows: prepared writes and reads give what the ORM gives, on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import Q
from django.db.models.signals import post_init
from django_tasks_db import DatabaseBackend as LibraryBackend
from django_tasks_db.compat import task_enqueued
from django_tasks_db.models import DBTaskResult

from tessera.accounts.models import Membership, User
from tessera.core import clock, rows
from tessera.core.tasks import prune_finished_tasks
from tessera.sla.models import TicketSla
from tessera.tickets.models import Ticket, TimelineEvent
from tests import factories

pytestmark = pytest.mark.django_db


def _fields(instance: Any) -> dict[str, Any]:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_a_plain_insert_writes_what_the_orm_reads_back() -> None:
    customer = factories.customer()
    ticket = factories.ticket(customer, subject="Zażółć gęślą jaźń", details={"error_message": "E 42"})
    assert ticket.pk is not None and not ticket._state.adding
    stored = Ticket.objects.get(pk=ticket.pk)
    assert _fields(stored) == _fields(ticket)
    event = TimelineEvent.objects.get(ticket=ticket, kind=TimelineEvent.Kind.CREATED)
    assert event.new == {
        "status": "new",
        "priority": "medium",
        "department": "technical",
        "requester": customer.pk,
        "submitted_by": customer.pk,
    }
    sla = TicketSla.objects.get(ticket=ticket)
    assert sla.targets and sla.started_at == ticket.created_at
    # Two inserts get two rows (no unique key named: no ON CONFLICT).
    copy = TimelineEvent(
        ticket=ticket, channel="api", kind="created", new={"a": [1, "ü"]}, created_at=clock.now()
    )
    assert rows.insert(copy) and copy.pk != event.pk
    assert TimelineEvent.objects.get(pk=copy.pk).new == {"a": [1, "ü"]}


SAMPLES: dict[type, list[Any]] = {str: ["", "x", "Zażółć"], bool: [True, False], type(None): [None]}


def test_values_stored_unchanged_are_what_the_fields_would_store() -> None:
    """insert() skips Django's preparation of these values: it must be the identity for every field of
    the project whose class is listed, on this database."""
    checked = 0
    for model in apps.get_models():
        instance = model()
        for field in model._meta.concrete_fields:
            for kind in rows._unchanged(field):
                for sample in SAMPLES[kind]:
                    setattr(instance, field.attname, sample)
                    prepared = field.get_db_prep_save(field.pre_save(instance, True), connection)
                    assert prepared == sample and type(prepared) is kind, (model, field.name, sample)
                    checked += 1
    assert checked > 500


def heard_by(heard: list[Any]) -> Any:
    def receiver(sender: Any, task_result: Any, **kwargs: Any) -> None:
        heard.append(task_result)

    return receiver


def test_a_task_row_is_the_one_the_library_writes() -> None:
    library, ours = LibraryBackend("default", {}), prune_finished_tasks.get_backend()
    assert type(ours) is not LibraryBackend  # the project's backend is configured
    later = clock.now() + timedelta(hours=1)
    for run_after in (None, later):
        chosen = prune_finished_tasks.using(run_after=run_after)
        expected = library.enqueue(chosen, [], {}).db_result
        heard: list[Any] = []
        task_enqueued.connect(heard_by(heard), weak=False, dispatch_uid="test")
        try:
            result = ours.enqueue(chosen, [], {})
        finally:
            task_enqueued.disconnect(dispatch_uid="test")
        # The enqueued signal hears about the result the caller gets, once.
        assert len(heard) == 1 and heard[0] is result and result.task.run_after == run_after
        written = result.db_result
        stored = DBTaskResult.objects.get(pk=written.pk)
        skip = {"id", "enqueued_at"}
        assert {k: v for k, v in _fields(stored).items() if k not in skip} == {
            k: v for k, v in _fields(DBTaskResult.objects.get(pk=expected.pk)).items() if k not in skip
        }
        assert stored.task_result.task.run_after == run_after
        assert stored.enqueued_at is not None and _fields(stored) == _fields(written)


def test_a_prepared_read_returns_what_the_queryset_returns() -> None:
    first = factories.agent("technical", languages=["it", "en"])
    second = factories.agent("technical")
    factories.agent("billing")
    members = rows.Query(
        Membership,
        lambda department_id, role: (
            Membership.objects.filter(department_id=department_id, agent__role=role)
            .order_by("agent_id")
            .values_list("agent_id", "agent__languages_spoken", "agent__date_joined")
        ),
    )
    technical = factories.department("technical")
    orm = list(
        Membership.objects.filter(department=technical, agent__role="agent")
        .order_by("agent_id")
        .values_list("agent_id", "agent__languages_spoken", "agent__date_joined")
    )
    assert members(technical.pk, "agent") == orm
    assert [row[0] for row in orm] == [first.pk, second.pk] and orm[0][1] == ["it", "en"]
    assert orm[0][2].tzinfo is not None  # converters ran (SQLite stores text)
    assert members(technical.pk, "customer") == []  # the same SQL, other values


def test_a_prepared_read_takes_lists_of_any_length() -> None:
    people = [factories.customer(f"p{i}") for i in range(3)]
    by_id = rows.Query(
        User, lambda ids: User.objects.filter(pk__in=ids).order_by("pk").values_list("pk", "email")
    )
    for chosen in (people[:1], people, people[1:]):
        assert by_id([p.pk for p in chosen]) == [(p.pk, p.email) for p in chosen]
    assert by_id([]) == []
    # An int no column holds matches nothing (the others still do).
    assert by_id([people[0].pk, 2**70]) == [(people[0].pk, people[0].email)]
    assert by_id([-(2**63) - 1]) == []
    assert len(by_id.compiled) == 3  # one SQL per list length, reused
    by_email = rows.Query(
        User, lambda emails: User.objects.filter(email__in=emails).order_by("pk").values_list("pk")
    )
    assert by_email([people[2].email, people[0].email, "nobody@example.com"]) == [
        (people[0].pk,),
        (people[2].pk,),
    ]


def test_a_query_whose_arguments_cannot_be_placed_is_refused() -> None:
    # An argument inside a LIKE pattern is not a plain value: the placeholder cannot be found.
    like = rows.Query(User, lambda name: User.objects.filter(email__icontains=name).values_list("pk"))
    with pytest.raises(ValueError, match="compares with"):
        like("x")
    # Nor one a query turns into another value.
    shifted = rows.Query(User, lambda pk: User.objects.filter(pk=pk + 1).values_list("pk"))
    with pytest.raises(ValueError, match="compares with"):
        shifted(1)


def test_a_value_may_be_compared_several_times() -> None:
    organisation = factories.organisation("Acme")
    member = factories.customer("m", org=organisation)
    other = factories.customer("o")
    either = rows.Query(
        User,
        lambda pk: User.objects.filter(Q(pk=pk) | Q(organisation_id=pk)).order_by("pk").values_list("pk"),
    )
    assert either(other.pk) == [(other.pk,)]
    assert either(organisation.pk) == sorted(
        User.objects.filter(Q(pk=organisation.pk) | Q(organisation=organisation)).values_list("pk")
    )
    assert (member.pk,) in either(organisation.pk)


def test_instances_are_those_from_db_makes() -> None:
    customer = factories.customer()
    ticket = factories.ticket(customer, tags=["x"])
    for model, pk in ((Ticket, ticket.pk), (User, customer.pk)):
        names = [field.attname for field in model._meta.concrete_fields]
        row = model.objects.filter(pk=pk).values_list(*names).get()
        (made,) = rows.instances(model, "default", [row])
        expected = model.from_db("default", names, row)
        assert {k: v for k, v in vars(made).items() if k != "_state"} == {
            k: v for k, v in vars(expected).items() if k != "_state"
        }
        assert (made._state.adding, made._state.db, made._state.fetch_mode) == (
            expected._state.adding,
            expected._state.db,
            expected._state.fetch_mode,
        )
    # It behaves as a model instance: related objects load, a save writes the row.
    (made,) = rows.instances(
        Ticket,
        "default",
        [
            Ticket.objects.filter(pk=ticket.pk)
            .values_list(*[field.attname for field in Ticket._meta.concrete_fields])
            .get()
        ],
    )
    assert made.requester == customer and [tag.name for tag in made.tags.all()] == ["x"]
    made.subject = "Changed"
    made.save(update_fields=["subject"])
    assert Ticket.objects.get(pk=ticket.pk).subject == "Changed"


def test_instances_go_through_init_when_something_listens() -> None:
    seen: list[int] = []

    def listener(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(instance.pk)

    customer = factories.customer()
    names = [field.attname for field in User._meta.concrete_fields]
    post_init.connect(listener, sender=User)
    try:
        rows.instances(User, "default", [User.objects.filter(pk=customer.pk).values_list(*names).get()])
    finally:
        post_init.disconnect(listener, sender=User)
    assert seen == [customer.pk]


def _same_instance(made: Any, expected: Any) -> None:
    """Equal field values (defaults made by a clock or a random generator only of the same type), the
    same cached related objects and the same state."""
    ours, theirs = dict(vars(made)), dict(vars(expected))
    made_state, expected_state = ours.pop("_state"), theirs.pop("_state")
    assert ours.keys() == theirs.keys()
    for name, value in theirs.items():
        if isinstance(value, datetime):  # a timezone.now default, called for each instance
            assert abs(ours[name] - value) < timedelta(seconds=5), name
        elif isinstance(value, UUID):
            assert type(ours[name]) is UUID and ours[name] != value, name
        else:
            assert ours[name] == value, name
    assert (made_state.adding, made_state.db) == (expected_state.adding, expected_state.db)
    assert made_state.fields_cache == expected_state.fields_cache


def test_new_makes_the_instance_the_constructor_makes() -> None:
    models = [model for model in apps.get_models() if model.__module__.startswith("tessera.")] + [
        DBTaskResult
    ]
    for model in models:  # defaults only, every model
        _same_instance(rows.new(model), model())
    customer, agent = factories.customer(), factories.agent("technical")
    ticket = factories.ticket(customer)
    given: list[tuple[Any, dict[str, Any]]] = [
        (
            Ticket,
            {
                "subject": "S",
                "requester": customer,
                "submitted_by": customer,
                "assignee_id": agent.pk,
                "department": ticket.department,
                "priority": ticket.priority,
                "customer_service": None,
                "created_at": clock.now(),
            },
        ),
        (
            TimelineEvent,
            {
                "ticket": ticket,
                "actor": None,
                "channel": "api",
                "kind": "created",
                "new": {"status": "new"},
                "message": None,
                "is_public": True,
            },
        ),
        (TicketSla, {"ticket": ticket, "policy": None, "targets": {"x": 1}, "started_at": clock.now()}),
    ]
    for model, values in given:
        _same_instance(rows.new(model, **values), model(**values))
    # A one-to-one sets the related object's reverse cache, as the constructor does.
    assert rows.new(TicketSla, ticket=ticket, started_at=clock.now()).ticket.sla.ticket is ticket
    # The instance saves and reads back as one the constructor made.
    event = rows.new(TimelineEvent, ticket=ticket, actor=agent, channel="web", kind="note_added")
    assert rows.insert(event)
    stored = TimelineEvent.objects.get(pk=event.pk)
    assert (stored.ticket_id, stored.actor_id, stored.is_public, stored.old) == (
        ticket.pk,
        agent.pk,
        True,
        None,
    )


def test_new_goes_through_the_constructor_when_it_must() -> None:
    seen: list[str] = []

    def listener(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(instance.subject)

    post_init.connect(listener, sender=Ticket)
    try:
        rows.new(Ticket, subject="heard")
    finally:
        post_init.disconnect(listener, sender=Ticket)
    assert seen == ["heard"]
    with pytest.raises(TypeError):  # a name that is no field: the constructor's own error
        rows.new(Ticket, no_such_field=1)


def _fetched_like_select_related(made: Any, expected: Any, names: tuple[str, ...]) -> None:
    """Same values and state as the queryset's instance, and the same related rows cached, each with
    the same values (and, for a one-to-one, the same cache pointing back)."""
    assert _fields(made) == _fields(expected)
    assert (made._state.adding, made._state.db) == (expected._state.adding, expected._state.db)
    assert made._state.fields_cache.keys() == expected._state.fields_cache.keys()
    for name in names:
        ours, theirs = made._state.fields_cache[name], expected._state.fields_cache[name]
        assert (ours is None) == (theirs is None), name
        if theirs is not None:
            assert type(ours) is type(theirs) and _fields(ours) == _fields(theirs), name
            assert ours._state.fields_cache.keys() == theirs._state.fields_cache.keys(), name


def test_a_read_with_related_rows_caches_what_select_related_caches(django_assert_num_queries: Any) -> None:
    from tessera.accounts.models import ApiToken
    from tessera.notifications.models import EmailPreferences

    agent = factories.agent("technical")
    customer = factories.customer()
    token_text = factories.token_for(agent)
    prefix = token_text.split("_", 2)[1]
    EmailPreferences.objects.create(user=agent, muted=["sla"])
    unassigned = factories.ticket(customer)
    cases: list[tuple[Any, str, list[Any], tuple[str, ...], Any]] = [
        # A foreign key; `where` names a column that both tables have, unqualified.
        (
            ApiToken,
            "prefix = %s",
            [prefix],
            ("user",),
            ApiToken.objects.select_related("user").get(prefix=prefix),
        ),
        # A reverse one-to-one, present and absent.
        (
            User,
            "id = %s",
            [agent.pk],
            ("email_preferences",),
            User.objects.select_related("email_preferences").get(pk=agent.pk),
        ),
        (
            User,
            "id = %s",
            [customer.pk],
            ("email_preferences",),
            User.objects.select_related("email_preferences").get(pk=customer.pk),
        ),
        # Several at once, one of them a null foreign key.
        (
            Ticket,
            "id = %s",
            [unassigned.pk],
            ("requester", "assignee", "department"),
            Ticket.objects.select_related("requester", "assignee", "department").get(pk=unassigned.pk),
        ),
    ]
    for model, where, params, names, expected in cases:
        with django_assert_num_queries(1):
            made = rows.fetch(model, where, params, related=names)
        _fetched_like_select_related(made, expected, names)
    # The cached rows are used: no further query.
    prefs_user = rows.fetch(User, "id = %s", [agent.pk], related=("email_preferences",))
    absent_user = rows.fetch(User, "id = %s", [customer.pk], related=("email_preferences",))
    assert prefs_user is not None and absent_user is not None
    with django_assert_num_queries(0):
        assert (
            prefs_user.email_preferences.muted == ["sla"] and prefs_user.email_preferences.user is prefs_user
        )
        with pytest.raises(User.email_preferences.RelatedObjectDoesNotExist):
            absent_user.email_preferences  # noqa: B018 - the access is the assertion
    assert rows.fetch(User, "id = %s", [0], related=("email_preferences",)) is None
    with pytest.raises(ValueError, match="locked read"):
        rows.fetch(User, "id = %s", [agent.pk], lock=True, related=("email_preferences",))
    with pytest.raises(ValueError, match="not a single related row"):
        rows.fetch(User, "id = %s", [agent.pk], related=("memberships",))

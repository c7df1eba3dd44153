"""Statements that hot paths (the inbound mail pipeline, queuing an email or a notification) run for every
item, prepared once per model and database.

Building a query through the ORM cost 10 to 20 times the CPU of running it (≈ 3,000 Python calls to compile
a one-row SELECT, ≈ 200 to run it through the cursor), and the pipeline ran seven of them per message.
Here each statement is written once from the model's metadata; rows become instances through the same
converters and `Model.from_db` a queryset uses, and values are prepared by the fields themselves, so
what is read and stored is what the ORM would read and store. Conditions are SQL on column names.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, cast

from django.db import connections, router
from django.db.models import (
    BigIntegerField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    EmailField,
    Field,
    ForeignKey,
    IntegerField,
    JSONField,
    Model,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    QuerySet,
    SlugField,
    SmallIntegerField,
    TextField,
    URLField,
)
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

type Converter = Callable[[Any, Any, Any], Any]

# Values that these field classes store unchanged on every database: `get_db_prep_save` only converts
# other types, and `pre_save` is the attribute itself (but for auto_now dates, see _unchanged). insert()
# skips the two calls for them (≈ 15 % of the Python calls of a new ticket). Exact classes only, as a
# subclass may prepare differently; tests/core/test_rows.py checks every field against Django's own
# preparation.
_STORED_UNCHANGED: dict[type[Field[Any, Any]], tuple[type, ...]] = {
    **dict.fromkeys((CharField, TextField, EmailField, SlugField, URLField), (str, type(None))),
    BooleanField: (bool, type(None)),
    **dict.fromkeys(
        (
            IntegerField,
            BigIntegerField,
            SmallIntegerField,
            PositiveIntegerField,
            PositiveSmallIntegerField,
            ForeignKey,
            DateTimeField,
            DateField,
            JSONField,
        ),
        (type(None),),
    ),
}


def _db(model: type[Model]) -> Any:
    return connections[router.db_for_write(model)]


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    return cast(Field[Any, Any], model._meta.get_field(name))


def _column(db: Any, field: Field[Any, Any]) -> str:
    return str(db.ops.quote_name(cast(str, field.column)))


@functools.cache
def _select(
    model: type[Model], alias: str, where: str, lock: bool
) -> tuple[str, list[tuple[int, Any, list[Converter]]]]:
    db = connections[alias]
    table = model._meta.db_table
    fields = model._meta.concrete_fields
    columns = ", ".join(_column(db, field) for field in fields)
    sql = f"SELECT {columns} FROM {db.ops.quote_name(table)} WHERE {where}"  # noqa: S608 - our own SQL
    if lock and db.features.has_select_for_update:
        sql += " " + db.ops.for_update_sql()
    return sql, _converters(db, fields)


def _converters(db: Any, fields: Sequence[Field[Any, Any]]) -> list[tuple[int, Any, list[Converter]]]:
    """Per selected column that needs them (by position), the converters a queryset runs on its value."""
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(field.model._meta.db_table)
        found = db.ops.get_db_converters(column) + column.get_db_converters(db)
        if found:
            converters.append((index, column, found))
    return converters


@functools.cache
def _attnames(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def _init_listened(model: type[Model]) -> bool:
    """Whether a pre_init or post_init receiver expects instances of `model` to go through __init__."""
    return pre_init.has_listeners(model) or post_init.has_listeners(model)


@functools.cache
def _new_plan(
    model: type[Model],
) -> tuple[dict[str, Any], list[tuple[str, str, Callable[[], Any]]], frozenset[str], frozenset[str]] | None:
    """What `new` needs of `model`: the defaults that are values, those that are called for each instance
    (name, attname, callable), the names set through their descriptor (foreign keys given as instances)
    and the names stored as they are (attnames). None when a field has a database default."""
    fixed: dict[str, Any] = {}
    called: list[tuple[str, str, Callable[[], Any]]] = []
    for field in model._meta.concrete_fields:
        if field.has_db_default():
            return None
        if field.has_default() and callable(field.default):
            called.append((field.name, field.attname, field.default))
        else:
            fixed[field.attname] = field.get_default()
    related = frozenset(field.name for field in model._meta.concrete_fields if field.is_relation)
    return fixed, called, related, frozenset(_attnames(model))


def new[M: Model](model: type[M], **values: Any) -> M:
    """A new, unsaved instance, as `model(**values)` makes it, without `Model.__init__`'s walk over every
    field (≈ 15 % of the Python a new ticket runs while its transaction holds SQLite's write lock):
    defaults and values go straight into __dict__; a foreign key given as an instance still goes
    through its descriptor. Through `model(**values)` when something listens to pre_init or post_init,
    for a field with a database default, and for a name that is not a field."""
    plan = _new_plan(model)
    if plan is None or _init_listened(model):
        return model(**values)
    fixed, called, related, plain = plan
    if not values.keys() <= plain | related:
        return model(**values)
    instance = model.__new__(model)
    instance._state = ModelState()
    data = dict(fixed)
    for name, attname, default in called:
        if name not in values and attname not in values:
            data[attname] = default()
    instance.__dict__.update(data)
    for name, value in values.items():
        if name in related:
            setattr(instance, name, value)  # the descriptor: id, cached object, the database to use
        else:
            instance.__dict__[name] = value
    return instance


def instances[M: Model](model: type[M], alias: str, found: Sequence[Sequence[Any]]) -> list[M]:
    """Instances of `model` from rows of all its concrete fields in order (Python values), as
    `Model.from_db` makes them, but with the values written straight into the instance's __dict__, where
    __init__ would put each through `setattr` (and a descriptor per foreign key column): a quarter of a
    queue page's Python calls. With a pre_init or post_init receiver for the model, through from_db."""
    names = _attnames(model)
    if _init_listened(model):
        return [model.from_db(alias, names, row) for row in found]
    made = []
    for row in found:
        instance = model.__new__(model)
        instance.__dict__.update(zip(names, row, strict=True))
        state = instance._state = ModelState()
        state.adding, state.db = False, alias
        made.append(instance)
    return made


def fetch[M: Model](
    model: type[M], where: str, params: Sequence[Any], *, lock: bool = False, related: tuple[str, ...] = ()
) -> M | None:
    """The first row of `model` matching `where`, or None; `lock` takes the row lock (FOR UPDATE) where
    the database has row locks (SQLite's IMMEDIATE transactions already hold the write lock).

    `related` names foreign keys or reverse one-to-ones read in the same statement and cached on the
    instance, as `select_related` leaves them (None where a LEFT JOIN found no row): one round trip
    instead of one per relation. `where` still names only `model`'s own columns."""
    db = _db(model)
    if related:
        if lock:
            raise ValueError("rows.fetch: a locked read takes no related rows")
        sql, converters, joined = _select_joined(model, db.alias, where, related)
    else:
        sql, converters = _select(model, db.alias, where, lock)
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    if found is None:
        return None
    values = _converted(found, converters, db)
    width = len(model._meta.concrete_fields)
    instance = instances(model, db.alias, [values[:width]])[0]
    if related:
        _cache_related(instance, db.alias, values[width:], joined)
    return instance


# Per related name: the relation whose cache takes the row, the reverse one-to-one cache to point back (or
# None), the related model, how many columns it has and which of them is its primary key.
type Joined = list[tuple[Any, Any, type[Model], int, int]]


@functools.cache
def _select_joined(
    model: type[Model], alias: str, where: str, related: tuple[str, ...]
) -> tuple[str, list[tuple[int, Any, list[Converter]]], Joined]:
    """_select with a LEFT JOIN per name in `related`; the filtered table is a derived table so that
    `where` needs no qualified names. Also returns, per relation, how to cache its instance."""
    db = connections[alias]
    quote = db.ops.quote_name
    fields = list(model._meta.concrete_fields)
    columns = [f"t0.{_column(db, field)}" for field in fields]
    joins: list[str] = []
    joined: Joined = []
    for number, name in enumerate(related, start=1):
        relation: Any = model._meta.get_field(name)  # a field or a reverse relation
        other = cast(type[Model], relation.related_model)
        if relation.concrete:  # a foreign key or one-to-one of `model`: its row, if any
            on = f"t{number}.{_column(db, other._meta.pk)} = t0.{quote(relation.column)}"
            # select_related also fills a one-to-one's reverse cache on the row it found.
            cache, back = relation, relation.remote_field if relation.one_to_one else None
        elif relation.one_to_one:  # a reverse one-to-one: the other model's row pointing here, if any
            remote = relation.remote_field
            on = f"t{number}.{quote(remote.column)} = t0.{_column(db, model._meta.pk)}"
            cache, back = relation, remote
        else:
            raise ValueError(f"rows.fetch: {name} is not a single related row")
        other_fields = list(other._meta.concrete_fields)
        joins.append(f"LEFT JOIN {quote(other._meta.db_table)} t{number} ON {on}")
        joined.append((cache, back, other, len(other_fields), other_fields.index(other._meta.pk)))
        columns += [f"t{number}.{_column(db, field)}" for field in other_fields]
        fields += other_fields
    table = quote(model._meta.db_table)
    sql = (
        f"SELECT {', '.join(columns)} FROM (SELECT * FROM {table} WHERE {where}) t0 "  # noqa: S608 - our SQL
        + " ".join(joins)
    )
    return sql, _converters(db, fields), joined


def _cache_related(instance: Model, alias: str, values: list[Any], joined: Joined) -> None:
    start = 0
    for cache, back, other, width, pk_index in joined:
        row, start = values[start : start + width], start + width
        found = None if row[pk_index] is None else instances(other, alias, [row])[0]
        cache.set_cached_value(instance, found)
        if back is not None and found is not None:
            back.set_cached_value(found, instance)


def _converted(row: Sequence[Any], converters: list[tuple[int, Any, list[Converter]]], db: Any) -> list[Any]:
    """The row's values as Python values: each column through its converters (as a queryset does)."""
    values = list(row)
    for index, column, functions in converters:
        for function in functions:
            values[index] = function(values[index], column, db)
    return values


@functools.cache
def _insert(
    model: type[Model], alias: str, conflict: tuple[str, ...]
) -> tuple[str, list[tuple[Any, str, tuple[type, ...]]], bool]:
    db = connections[alias]
    # Like save(): the database numbers an auto primary key; any other key (a UUID) is written as set.
    auto = model._meta.auto_field
    fields = [field for field in model._meta.concrete_fields if field is not auto and not field.generated]
    returning = auto is not None and db.features.can_return_columns_from_insert
    sql = (
        f"INSERT INTO {db.ops.quote_name(model._meta.db_table)} "  # noqa: S608 - our own SQL
        f"({', '.join(_column(db, field) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if conflict:
        sql += f" ON CONFLICT ({', '.join(_column(db, _field(model, name)) for name in conflict)}) DO NOTHING"
    if returning:
        sql += f" RETURNING {_column(db, model._meta.pk)}"
    plan = [(field, field.attname, _unchanged(field)) for field in fields]
    return sql, plan, returning


def _unchanged(field: Field[Any, Any]) -> tuple[type, ...]:
    """The types of value `field` stores as they are (auto_now dates set themselves in pre_save)."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return ()
    return _STORED_UNCHANGED.get(type(field), ())


def insert(instance: Model, *unless_taken: str) -> bool:
    """INSERT the new instance (what `save()` of a new instance writes, without its query building);
    with `unless_taken` fields (a unique key), not if a row already has the same values of them, in one
    statement and without an error, so the caller's transaction needs no savepoint. True and the instance
    saved if it was inserted. Any other constraint still raises IntegrityError. No model signals are sent
    and `save()` overrides are not called (as with bulk_create)."""
    db = _db(type(instance))
    sql, plan, returning = _insert(type(instance), db.alias, unless_taken)
    params = [
        value
        if type(value := getattr(instance, attname)) in unchanged
        else field.get_db_prep_save(field.pre_save(instance, True), db)
        for field, attname, unchanged in plan
    ]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            found = cursor.fetchone()
            pk = found[0] if found else None
        elif cursor.rowcount != 1:
            pk = None
        else:
            pk = cursor.lastrowid if type(instance)._meta.auto_field else instance.pk
    if pk is None:
        return False
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = db.alias
    return True


@functools.cache
def _update(model: type[Model], alias: str, names: tuple[str, ...], where: str) -> tuple[str, list[Any]]:
    db = connections[alias]
    fields = [_field(model, name) for name in names]
    assignments = ", ".join(f"{_column(db, field)} = %s" for field in fields)
    pk = _column(db, model._meta.pk)
    condition = f"{pk} = %s AND ({where})" if where else f"{pk} = %s"
    sql = f"UPDATE {db.ops.quote_name(model._meta.db_table)} SET {assignments} WHERE {condition}"  # noqa: S608
    return sql, fields


def update(instance: Model, names: Sequence[str], where: str = "", params: Sequence[Any] = ()) -> int:
    """Write these fields of a saved instance (what `save(update_fields=…)` writes, without its query
    building), only if the row also matches `where` (SQL on column names, with `params`); returns the
    number of rows written."""
    db = _db(type(instance))
    sql, fields = _update(type(instance), db.alias, tuple(names), where)
    values = [field.get_db_prep_save(field.pre_save(instance, False), db) for field in fields]
    with db.cursor() as cursor:
        cursor.execute(sql, [*values, instance.pk, *params])
        return int(cursor.rowcount)


def value(model: type[Model], name: str, data: Any) -> Any:
    """`data` as a parameter compared with the column of field `name` (e.g. a datetime on SQLite)."""
    return _field(model, name).get_db_prep_value(data, _db(model))


def execute(model: type[Model], sql: str, params: Sequence[Any]) -> tuple[int, Any]:
    """Run one statement on `model`'s database: (rows affected, first column of the first row returned)."""
    with _db(model).cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone() if cursor.description else None
        return cursor.rowcount, found[0] if found else None


# The ints a column of ours can hold (ids are 64-bit).
BIGINT = range(-(2**63), 2**63)

type Argument = int | str | Sequence[int] | Sequence[str]
type Shape = str | tuple[str, int]
type Compiled = tuple[str, list[Any], list[list[int]], list[tuple[int, Any, list[Converter]]]]


def _storable(arg: Argument) -> Argument:
    """`arg`, its sequence without the ints no column holds (they match nothing)."""
    if isinstance(arg, int | str):
        return arg
    return cast(Argument, [item for item in arg if not isinstance(item, int) or item in BIGINT])


def _shape(arg: Argument) -> Shape:
    if isinstance(arg, int | str):
        return "str" if isinstance(arg, str) else "int"
    return ("str" if any(isinstance(item, str) for item in arg) else "int", len(arg))


class Query:
    """A read the ORM builds once per database and shape, then runs with new values: `build(*args)`
    returns a `values_list()` queryset of `model`; each argument is an int or a str the query compares
    with (once or several times, as is, not inside a LIKE pattern), or a sequence of distinct ints or strs
    for an `__in`. An int outside 64 bits matches nothing, nor does an empty sequence.
    The SQL is compiled twice from different placeholders, which shows where each value goes (or refuses
    the query); rows pass through the queryset's own converters. Saves the ORM's query building on hot
    reads (≈ 3,000 Python calls for a small join)."""

    def __init__(self, model: type[Model], build: Callable[..., QuerySet[Any, Any]]) -> None:
        self.model = model
        self.build = build
        self.compiled: dict[tuple[str, tuple[Shape, ...]], Compiled] = {}

    def __call__(self, *args: Argument) -> list[tuple[Any, ...]]:
        # An int no column holds matches nothing (a database would refuse it as a parameter).
        if any(isinstance(arg, int) and arg not in BIGINT for arg in args):
            return []
        args = tuple(_storable(arg) for arg in args)
        # An int, a str, or a sequence of that many ints or strs: each shape has its own SQL.
        shape = tuple(_shape(arg) for arg in args)
        if any(isinstance(kind, tuple) and kind[1] == 0 for kind in shape):
            return []
        alias = router.db_for_read(self.model)
        compiled = self.compiled.get((alias, shape))
        if compiled is None:
            compiled = self.compiled[(alias, shape)] = self._compile(alias, shape)
        sql, params, positions, converters = compiled
        values = list(params)
        for places, value in zip(positions, _flat(args), strict=True):
            for place in places:
                values[place] = value
        db = connections[alias]
        with db.cursor() as cursor:
            cursor.execute(sql, values)
            found = cursor.fetchall()
        if not converters:
            return [tuple(row) for row in found]
        return [tuple(_converted(row, converters, db)) for row in found]

    def _compile(self, alias: str, shape: tuple[Shape, ...]) -> Compiled:
        builds = []
        for variant in (1, 2):
            markers = [_markers(index, kind, variant) for index, kind in enumerate(shape)]
            compiler = self.build(*markers).using(alias).query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            builds.append((sql, list(params), list(_flat(markers)), compiler))
        (sql, params, markers, compiler), (other_sql, other_params, _, _) = builds
        positions = [[place for place, param in enumerate(params) if param == marker] for marker in markers]
        differing = [i for i, (a, b) in enumerate(zip(params, other_params, strict=True)) if a != b]
        placed = sorted(place for places in positions for place in places)
        if sql != other_sql or not all(positions) or placed != differing:
            raise ValueError(f"{self.build!r}: each argument must be a value the query compares with")
        columns = [column for column, _, _ in compiler.select[: compiler.col_count]]
        converters = [
            (index, column, convs) for index, (convs, column) in compiler.get_converters(columns).items()
        ]
        return sql, params, positions, converters


def _markers(index: int, kind: Shape, variant: int) -> Argument:
    """Placeholder values of argument `index`, different in each variant. Ints stay inside a 32-bit
    column's range, or the ORM would drop the comparison."""
    if isinstance(kind, str):
        return f"tessera:{index}:{variant}" if kind == "str" else 1_999_000_000 + index * 4 + variant
    item_kind, size = kind
    if item_kind == "str":
        return [f"tessera:{index}:{item}:{variant}" for item in range(size)]
    return [1_000_000_000 + (index * 100_000 + item) * 4 + variant for item in range(size)]


def _flat(args: Sequence[Any]) -> list[Any]:
    return [item for arg in args for item in ([arg] if isinstance(arg, int | str) else arg)]

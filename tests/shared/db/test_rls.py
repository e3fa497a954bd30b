"""Tenant isolation by row-level security, as the service's own (table-owning) role."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from shared.db.database import Database


async def add_note(db: Database, org: str, body: str) -> None:
    async with db.transaction(org_id=org) as uow:
        await uow.session.execute(
            text("insert into notes (org_id, body) values (:org, :body)"),
            {"org": org, "body": body},
        )


async def visible(db: Database, org: str | None) -> list[tuple[str, str]]:
    async with db.transaction(org_id=org) as uow:
        # A query bug on purpose: no where clause on org_id.
        rows = await uow.session.execute(text("select org_id, body from notes order by id"))
        return [(row.org_id, row.body) for row in rows]


async def test_a_query_without_org_filter_sees_only_its_own_org(notes_db: Database) -> None:
    await add_note(notes_db, "acme", "acme's plan")
    await add_note(notes_db, "globex", "globex's plan")
    assert await visible(notes_db, "acme") == [("acme", "acme's plan")]
    assert await visible(notes_db, "globex") == [("globex", "globex's plan")]


async def test_platform_scope_sees_no_tenant_rows(notes_db: Database) -> None:
    await add_note(notes_db, "acme", "secret")
    assert await visible(notes_db, None) == []


async def test_org_scope_does_not_leak_into_the_next_transaction(notes_db: Database) -> None:
    # pool_size=2 without overflow: the next transactions reuse these very connections.
    await add_note(notes_db, "acme", "a")
    await add_note(notes_db, "acme", "b")
    assert await visible(notes_db, None) == []
    assert await visible(notes_db, None) == []


async def test_writing_a_row_for_another_org_fails(notes_db: Database) -> None:
    with pytest.raises(ProgrammingError, match="row-level security"):
        async with notes_db.transaction(org_id="acme") as uow:
            await uow.session.execute(
                text("insert into notes (org_id, body) values ('globex', 'planted')")
            )
    with pytest.raises(ProgrammingError, match="row-level security"):
        async with notes_db.transaction() as uow:
            await uow.session.execute(
                text("insert into notes (org_id, body) values ('globex', 'no org set')")
            )
    assert await visible(notes_db, "globex") == []


async def test_rows_cannot_be_moved_or_touched_across_orgs(notes_db: Database) -> None:
    await add_note(notes_db, "acme", "mine")
    await add_note(notes_db, "globex", "theirs")
    with pytest.raises(ProgrammingError, match="row-level security"):
        async with notes_db.transaction(org_id="acme") as uow:
            await uow.session.execute(text("update notes set org_id = 'globex'"))
    async with notes_db.transaction(org_id="acme") as uow:
        deleted = await uow.session.execute(text("delete from notes"))
        updated = await uow.session.execute(text("update notes set body = 'x'"))
        assert deleted.rowcount == 1  # type: ignore[attr-defined]
        assert updated.rowcount == 0  # type: ignore[attr-defined]
    assert await visible(notes_db, "globex") == [("globex", "theirs")]


async def test_the_owner_role_is_subject_to_its_own_policy(notes_db: Database) -> None:
    async with notes_db.transaction() as uow:
        facts = (
            await uow.session.execute(
                text(
                    "select c.relforcerowsecurity, c.relrowsecurity, "
                    "pg_get_userbyid(c.relowner) = current_user as owned, "
                    "(select rolbypassrls or rolsuper from pg_roles where rolname = current_user)"
                    " as bypass "
                    "from pg_class c where c.relname = 'notes'"
                )
            )
        ).one()
    assert facts.relforcerowsecurity
    assert facts.relrowsecurity
    assert facts.owned
    assert not facts.bypass
